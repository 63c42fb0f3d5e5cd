"""年费_D.xlsx: tomorrow's chase list per owner, renewals due and lapsed, overdue balances, every
contract, and collection rates with a chart. Headers reuse the 年费台账 and 客户档案 ones.

The chase list carries the 年费催收 columns (催收负责人 to change, with a dropdown; 催收日期 = P;
计划负责人), so the workbook dropped back reassigns chases; its other sheets are passed over by name
in a workbook holding the chase list (schema.FEE_READING_SHEETS).

Colours: overdue days and balances red, unapproved contracts orange, 续费风险 pink.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.calendar import day_label
from kis_batch.outputs import FEES_OUTPUT
from kis_batch.render.columns import CONTACT, PHONE, Col, input_col, person_choice
from kis_batch.render.paper import Page
from kis_batch.render.saving import output_book
from kis_batch.render.style import ATTENTION_BG, ERROR_BG, Book, Highlight, write_table
from kis_batch.rules.display import PERCENT_FORMAT
from kis_batch.rules.fees import LAPSED, FeeReport
from kis_batch.schema import CHASE_SHEET, CUSTOMERS, FEE_CHASE, FEE_READING_SHEETS, FEES

RISK_BG = "#F4B6D2"
RISK_FLAG = "续费风险"
UNAPPROVED_FLAG, APPROVED_FLAG = "未核准", "已核准"


CONTRACT = input_col(FEES, "contract_id", 12)
CUSTOMER_ID = input_col(FEES, "customer_id", 7)
CUSTOMER_NAME = input_col(CUSTOMERS, "customer_name", 14, wrap=True)
START = input_col(FEES, "start", 9.8)
END = input_col(FEES, "end", 9.8)
DUE = input_col(FEES, "due_date", 9.8)
AMOUNT = input_col(FEES, "amount", 10)
PAID = input_col(FEES, "paid", 10)
PAID_DATE = input_col(FEES, "paid_date", 9.8)
APPROVED = Col("approval", FEES.fields["approved"].zh, 6)
OWNER = Col("owner_name", FEES.fields["owner"].zh, 6.5)
BALANCE = Col("balance", "未收金额", 10, "number")
STATUS = Col("status", "收款状态", 6)
OVERDUE_DAYS = Col("overdue_days", "逾期天数", 4, "int")
TO_EXPIRY = Col("days_to_expiry", "距到期天数", 4, "int")
RENEWAL = Col("renewal", "续费状态", 8)
RISK = Col("risk_flag", RISK_FLAG, 6)
RISK_REASON = Col("risk_reason", "风险原因", 20, wrap=True)
NOTE = Col("note", "说明", 14, wrap=True)
RANK = Col("rank", "序号", 3, "int")
KIND = Col("chase_kind", "催收类型", 7)
ACTION = Col("action", "催收事项", 28, wrap=True)
CHASER = Col("owner_name", FEE_CHASE.fields["owner"].zh, 6.5)
CHASE_DATE = input_col(FEE_CHASE, "chase_date", 9.8)
PLANNED_CHASER = Col("planned_name", FEE_CHASE.fields["planned"].zh, 6.5)

# Each list prints the columns that matter on paper; the rest (ids, dates repeated elsewhere) follow.
CHASE_PRINTED = (CHASER, RANK, KIND, CUSTOMER_NAME, CONTACT, PHONE, DUE, AMOUNT, BALANCE, OVERDUE_DAYS, APPROVED, RISK,
                 ACTION)
CHASE_COLUMNS = (*CHASE_PRINTED, CONTRACT, END, CHASE_DATE, PLANNED_CHASER)
RENEWAL_COLUMNS = (RENEWAL, TO_EXPIRY, END, CONTRACT, CUSTOMER_ID, CUSTOMER_NAME, CONTACT, PHONE, OWNER, AMOUNT, PAID,
                   STATUS, APPROVED, RISK, RISK_REASON)
OVERDUE_PRINTED = (OVERDUE_DAYS, DUE, CONTRACT, CUSTOMER_NAME, CONTACT, PHONE, OWNER, AMOUNT, PAID, BALANCE, STATUS,
                   APPROVED, RISK, RISK_REASON)
OVERDUE_COLUMNS = (*OVERDUE_PRINTED, CUSTOMER_ID, PAID_DATE, TO_EXPIRY)
ALL_PRINTED = (CONTRACT, CUSTOMER_NAME, OWNER, START, END, AMOUNT, PAID, BALANCE, STATUS, RENEWAL, RISK, RISK_REASON,
               NOTE)
ALL_COLUMNS = (*ALL_PRINTED, CUSTOMER_ID, DUE, PAID_DATE, OVERDUE_DAYS, TO_EXPIRY, APPROVED)
PRINTED = {CHASE_COLUMNS: len(CHASE_PRINTED), OVERDUE_COLUMNS: len(OVERDUE_PRINTED), ALL_COLUMNS: len(ALL_PRINTED)}
RATE_COLUMNS = (
    OWNER,
    Col("month_contracts", "本月应收合同数", 4, "int"), Col("month_due", "本月应收金额", 11, "number"),
    Col("month_paid", "本月已收金额", 11, "number"), Col("month_balance", "本月未收金额", 11, "number"),
    Col("month_rate", "本月收款率", 7, "percent"),
    Col("year_contracts", "本年应收合同数", 4, "int"), Col("year_due", "本年应收金额", 11, "number"),
    Col("year_paid", "本年已收金额", 11, "number"), Col("year_balance", "本年未收金额", 11, "number"),
    Col("year_rate", "本年收款率", 7, "percent"),
)

HIGHLIGHTS = (
    Highlight("overdue_days", ">", ("overdue_days", 0), ERROR_BG),
    Highlight("balance", ">", ("overdue_days", 0), ERROR_BG),
    Highlight("approval", "text", ("approval", UNAPPROVED_FLAG), ATTENTION_BG),
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
    return write_table(book, name, frame, cols, title=title, highlights=_highlights(cols),
                       page=Page(printed=PRINTED.get(cols)))


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
    chase = _shown(report.chase).assign(chase_date=plan)
    renewals = contracts[contracts["renewal"].notna()].sort_values(["end", "contract_id"], kind="stable")
    overdue = contracts[contracts["overdue_days"].notna()].sort_values(
        ["overdue_days", "contract_id"], ascending=[False, True], kind="stable")
    out_dir.mkdir(parents=True, exist_ok=True)
    renewals_sheet, overdue_sheet, unapproved_sheet, rates_sheet = FEE_READING_SHEETS
    with output_book(out_dir, FEES_OUTPUT, today, written) as book:
        write_table(book, CHASE_SHEET, chase, (person_choice(CHASER, report.on_duty), *CHASE_COLUMNS[1:]),
                    title=f"年费催收清单 {day} · 每位负责人最多{report.per_owner}条：先逾期欠款，再续费，金额大的在前 · "
                          f"共{len(chase)}条 · 改派：在黄色催收负责人列改选人，存回收件夹后重跑当天",
                    highlights=_highlights(CHASE_COLUMNS), page=Page(printed=PRINTED[CHASE_COLUMNS]))
        _table(book, renewals_sheet, renewals, RENEWAL_COLUMNS,
               f"到期续费 {today.isoformat()} · {report.window_days}天内到期且未续签的，及已过期未续的 · 共{len(renewals)}份")
        _table(book, overdue_sheet, overdue, OVERDUE_COLUMNS,
               f"逾期未收 {today.isoformat()} · 共{len(overdue)}份，欠款合计¥{sum(overdue['balance']):,.2f}")
        unapproved = contracts[contracts["unapproved"].astype(bool)]
        _table(book, unapproved_sheet, unapproved, ALL_COLUMNS,
               f"未经经理核准的年费合同 {today.isoformat()} · 共{len(unapproved)}份 · "
               f"续费风险 = 逾期、待续费或已过期未续，且近{report.risk_days}天有投诉或评价不满意/一般")
        rates = write_table(book, rates_sheet, report.collection, RATE_COLUMNS,
                            title=f"收款率 {today.isoformat()} · 已收÷应收；本月 = 应收日期在{today:%Y年%m月}1日至今，"
                                  f"本年 = 1月1日至今（已收按不超过年费金额计）")
        owners = len(report.collection) - 1
        if owners:
            _rate_chart(book, rates, owners, len(report.collection) + 3)
