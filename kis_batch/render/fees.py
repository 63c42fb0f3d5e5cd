"""年费_D.xlsx: tomorrow's chase list per owner, renewals due and lapsed, overdue balances, every
contract, and collection rates with a chart. Headers reuse the 年费台账 and 客户档案 ones.

Colours: overdue days and balances red, unapproved contracts yellow, 续费风险 pink.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.calendar import day_label
from kis_batch.outputs import fees_file
from kis_batch.render.style import ERROR_BG, WARNING_BG, Book, Col, Highlight, atomic_book, col_from_schema, write_table
from kis_batch.rules.display import PERCENT_FORMAT
from kis_batch.rules.fees import LAPSED, FeeReport
from kis_batch.schema import CUSTOMERS, FEES

RISK_BG = "#F4B6D2"
RISK_FLAG = "续费风险"
UNAPPROVED_FLAG, APPROVED_FLAG = "未核准", "已核准"

CONTRACT = col_from_schema(FEES.fields["contract_id"])
CUSTOMER_ID = col_from_schema(FEES.fields["customer_id"])
CUSTOMER_NAME = col_from_schema(CUSTOMERS.fields["customer_name"])
CONTACT = col_from_schema(CUSTOMERS.fields["contact"])
PHONE = col_from_schema(CUSTOMERS.fields["phone"])
START = col_from_schema(FEES.fields["start"])
END = col_from_schema(FEES.fields["end"])
DUE = col_from_schema(FEES.fields["due_date"])
AMOUNT = col_from_schema(FEES.fields["amount"])
PAID = col_from_schema(FEES.fields["paid"])
PAID_DATE = col_from_schema(FEES.fields["paid_date"])
APPROVED = Col("approval", FEES.fields["approved"].zh, 9)
OWNER = Col("owner_name", FEES.fields["owner"].zh, 9)
BALANCE = Col("balance", "未收金额", 12, "number")
STATUS = Col("status", "收款状态", 9)
OVERDUE_DAYS = Col("overdue_days", "逾期天数", 8, "int")
TO_EXPIRY = Col("days_to_expiry", "距到期天数", 9, "int")
RENEWAL = Col("renewal", "续费状态", 10)
RISK = Col("risk_flag", RISK_FLAG, 9)
RISK_REASON = Col("risk_reason", "风险原因", 40, wrap=True)
NOTE = Col("note", "说明", 30, wrap=True)
RANK = Col("rank", "序号", 5, "int")
KIND = Col("chase_kind", "催收类型", 10)
ACTION = Col("action", "催收事项", 48, wrap=True)

CHASE_COLUMNS = (OWNER, RANK, KIND, CUSTOMER_NAME, CONTACT, PHONE, CONTRACT, DUE, END, AMOUNT, BALANCE, OVERDUE_DAYS,
                 APPROVED, RISK, ACTION)
RENEWAL_COLUMNS = (RENEWAL, TO_EXPIRY, END, CONTRACT, CUSTOMER_ID, CUSTOMER_NAME, CONTACT, PHONE, OWNER, AMOUNT, PAID,
                   STATUS, APPROVED, RISK, RISK_REASON)
OVERDUE_COLUMNS = (OVERDUE_DAYS, DUE, CONTRACT, CUSTOMER_ID, CUSTOMER_NAME, CONTACT, PHONE, OWNER, AMOUNT, PAID,
                   BALANCE, PAID_DATE, STATUS, TO_EXPIRY, APPROVED, RISK, RISK_REASON)
ALL_COLUMNS = (CONTRACT, CUSTOMER_ID, CUSTOMER_NAME, OWNER, START, END, DUE, AMOUNT, PAID, BALANCE, PAID_DATE, STATUS,
               OVERDUE_DAYS, TO_EXPIRY, RENEWAL, APPROVED, RISK, RISK_REASON, NOTE)
RATE_COLUMNS = (
    OWNER,
    Col("month_contracts", "本月应收合同数", 9, "int"), Col("month_due", "本月应收金额", 13, "number"),
    Col("month_paid", "本月已收金额", 13, "number"), Col("month_balance", "本月未收金额", 13, "number"),
    Col("month_rate", "本月收款率", 10, "percent"),
    Col("year_contracts", "本年应收合同数", 9, "int"), Col("year_due", "本年应收金额", 13, "number"),
    Col("year_paid", "本年已收金额", 13, "number"), Col("year_balance", "本年未收金额", 13, "number"),
    Col("year_rate", "本年收款率", 10, "percent"),
)

HIGHLIGHTS = (
    Highlight("overdue_days", ">", ("overdue_days", 0), ERROR_BG),
    Highlight("balance", ">", ("overdue_days", 0), ERROR_BG),
    Highlight("approval", "text", ("approval", UNAPPROVED_FLAG), WARNING_BG),
    Highlight("risk_flag", "text", ("risk_flag", RISK_FLAG), RISK_BG),
    Highlight("risk_reason", "text", ("risk_flag", RISK_FLAG), RISK_BG),
    Highlight("renewal", "text", ("renewal", LAPSED), ERROR_BG),
)


def _shown(frame: pd.DataFrame) -> pd.DataFrame:
    """The report's yes/no flags as the words the sheet shows (blank where all is well)."""
    shown = frame.copy()
    shown["approval"] = [UNAPPROVED_FLAG if flag else APPROVED_FLAG for flag in frame["unapproved"]]
    shown["risk_flag"] = [RISK_FLAG if flag else None for flag in frame["risk"]]
    return shown


def _table(book: Book, name: str, frame: pd.DataFrame, cols: tuple[Col, ...], title: str) -> Worksheet:
    return write_table(book, name, frame, cols, title=title, highlights=_highlights(cols))


def _highlights(cols: tuple[Col, ...]) -> tuple[Highlight, ...]:
    keys = {c.key for c in cols}
    return tuple(h for h in HIGHLIGHTS if h.column in keys and h.value[0] in keys)


def _rate_chart(book: Book, sheet: Worksheet, owners: int, below_row: int) -> None:
    """A column chart of this month's and this year's collection rate per owner, under the table."""
    sheet_name = sheet.get_name()
    chart = book.workbook.add_chart({"type": "column"})
    first, last = 2, 1 + owners  # the title row and the header row come first
    names = [sheet_name, first, 0, last, 0]
    for key, colour in (("month_rate", "#5B9BD5"), ("year_rate", "#ED7D31")):
        index = [c.key for c in RATE_COLUMNS].index(key)
        chart.add_series({
            "name": [sheet_name, 1, index], "categories": names, "values": [sheet_name, first, index, last, index],
            "fill": {"color": colour}, "data_labels": {"value": True, "num_format": PERCENT_FORMAT},
        })
    chart.set_title({"name": "各负责人收款率", "name_font": {"size": 12}})
    chart.set_y_axis({"min": 0, "max": 1, "num_format": PERCENT_FORMAT, "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 720, "height": 320})
    sheet.insert_chart(below_row, 0, chart, {"x_offset": 10, "y_offset": 10})


def write_fees(out_dir: Path, today: dt.date, report: FeeReport, written: list[Path]) -> None:
    """年费_D.xlsx: 催收清单, 到期续费, 逾期, 未核准, 收款率 (with its chart).

    Not the whole ledger: staff have it (it is their input), and at a regional centre's scale it
    would be most of the run's writing time for a sheet nobody reads through."""
    plan = report.plan_date
    day = day_label(plan)
    contracts = _shown(report.contracts)
    chase = _shown(report.chase)
    renewals = contracts[contracts["renewal"].notna()].sort_values(["end", "contract_id"], kind="stable")
    overdue = contracts[contracts["overdue_days"].notna()].sort_values(
        ["overdue_days", "contract_id"], ascending=[False, True], kind="stable")
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_book(out_dir / fees_file(today), written, report_only=True) as book:
        _table(book, "催收清单", chase, CHASE_COLUMNS,
               f"年费催收清单 {day} · 每位负责人最多{report.per_owner}条：先逾期欠款，再续费，金额大的在前 · "
               f"共{len(chase)}条")
        _table(book, "到期续费", renewals, RENEWAL_COLUMNS,
               f"到期续费 {today.isoformat()} · {report.window_days}天内到期且未续签的，及已过期未续的 · 共{len(renewals)}份")
        _table(book, "逾期", overdue, OVERDUE_COLUMNS,
               f"逾期未收 {today.isoformat()} · 共{len(overdue)}份，欠款合计¥{sum(overdue['balance']):,.2f}")
        unapproved = contracts[contracts["unapproved"].astype(bool)]
        _table(book, "未核准", unapproved, ALL_COLUMNS,
               f"未经经理核准的年费合同 {today.isoformat()} · 共{len(unapproved)}份 · "
               f"续费风险 = 逾期、待续费或已过期未续，且近{report.risk_days}天有投诉或评价不满意/一般")
        rates = write_table(book, "收款率", report.collection, RATE_COLUMNS,
                            title=f"收款率 {today.isoformat()} · 已收÷应收；本月 = 应收日期在{today:%Y年%m月}1日至今，"
                                  f"本年 = 1月1日至今（已收按不超过年费金额计）")
        owners = len(report.collection) - 1
        if owners:
            _rate_chart(book, rates, owners, len(report.collection) + 3)
