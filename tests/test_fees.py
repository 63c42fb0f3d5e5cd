"""Fees per docs/rules.md § Fees and the renewal risk, on real workbooks: every expectation below is
added up by hand from the ledger written here, with D = 2026-11-27 (a Friday) and P = 2026-11-30."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch.ingest import load_folder
from kis_batch.outputs import FEES_OUTPUT
from kis_batch.problems import Severity
from kis_batch.render.fees import write_fees
from kis_batch.rules.fees import FeeReport, fee_status
from kis_batch.settings import Settings
from tests.builders import CUSTOMER_HEADERS, basic_department, write_records, write_workbook
from tests.conftest import ToPdf

TODAY = dt.date(2026, 11, 27)
PLAN = dt.date(2026, 11, 30)

# C001 甲公司 / C003 丙公司 / C005 戊公司 belong to 张伟 (E01); C002 乙公司 / C004 丁公司 / C006 己公司 to 王强 (E02).
MORE_CUSTOMERS = [
    ("C004", "丁公司", "周经理", "057188009999", "滨盛路4号", "滨江区", "E02", "否"),
    ("C005", "戊公司", "吴会计", "057188007777", "天目山路5号", "西湖区", "张伟", "否"),
    ("C006", "己公司", None, None, None, "滨江区", "王强", "否"),
]


def contract(contract_id: str, customer_id: str, end: str, amount: float | None, paid: float | None = None, *,
             start: str | None = None, due: str | None = None, approved: str | None = "是",
             owner: str | None = None) -> dict[str, Any]:
    """One 年费台账 row as a clerk types it, Chinese headers."""
    return {"合同编号": contract_id, "客户编号": customer_id, "服务开始": start, "服务到期": end, "年费金额": amount,
            "已收金额": paid, "收款日期": None, "经理核准": approved, "负责人": owner, "应收日期": due}


LEDGER = [
    contract("K01", "C001", "2026-12-31", 3800, 3800, start="2026-01-01"),
    contract("K02", "C002", "2027-02-28", 5000, 2000, start="2026-03-01", approved="否"),
    contract("K03", "C003", "2026-11-30", 2000, 0, start="2025-12-01", due="2026-11-10", approved=None),
    contract("K04", "C003", "2027-11-30", 2000, None, start="2026-12-01"),
    contract("K05", "C001", "2025-12-31", 3000, 3000, start="2025-01-01"),
    contract("K06", "C004", "2026-09-30", 4000, 4000, start="2025-10-01"),
    contract("K07", "C005", "2027-11-04", 1000, 600, start="2026-11-05"),
    contract("K08", "C005", "2027-06-30", 1500, 0),
    contract("K09", "C006", "2027-01-31", None, 0, start="2026-02-01"),
]
CALLS = [
    {"来电时间": dt.datetime(2026, 10, 28, 9, 0), "客户编号": "C002", "问题类别": "投诉", "问题描述": "工程师迟到",
     "处理方式": "电话已解决"},
    {"来电时间": dt.datetime(2026, 7, 30, 10, 0), "客户编号": "C004", "问题类别": "投诉", "问题描述": "升级后报表错",
     "处理方式": "电话已解决"},
]
CALLBACKS = [
    {"回访日期": dt.date(2026, 11, 7), "客户编号": "C001", "回访类型": "满意度回访", "接通": "是", "客户满意度": "不满意",
     "投诉": "否"},
    {"回访日期": dt.date(2026, 11, 20), "客户编号": "C006", "回访类型": "满意度回访", "接通": "是", "客户满意度": "满意",
     "投诉": "是"},
]


def department(folder: Path) -> None:
    basic_department(folder)
    write_workbook(folder / "客户补充.xlsx", {"客户档案": (CUSTOMER_HEADERS, MORE_CUSTOMERS)})


def report_for(folder: Path, rules: Settings | None = None) -> FeeReport:
    inbox = load_folder(folder, TODAY)
    errors = [p for p in inbox.problems if p.severity is Severity.ERROR]
    assert errors == []
    return fee_status(inbox.tables, rules or inbox.settings, TODAY, PLAN)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    department(inbox)
    write_records(inbox / "年费.xlsx", {"年费台账": LEDGER})
    write_records(inbox / "热线.xlsx", {"热线记录": CALLS})
    write_records(inbox / "回访.xlsx", {"回访记录": CALLBACKS})
    return inbox


@pytest.fixture
def report(folder: Path) -> FeeReport:
    return report_for(folder)


def by_contract(report: FeeReport) -> dict[str, dict[str, Any]]:
    return {r["contract_id"]: r for r in report.contracts.to_dict("records")}


# --- per contract ---------------------------------------------------------------------------------


def test_payment_status_and_balance(report: FeeReport) -> None:
    c = by_contract(report)
    assert (c["K01"]["status"], c["K01"]["balance"]) == ("已收清", 0.0)
    assert (c["K02"]["status"], c["K02"]["balance"]) == ("部分收款", 3000.0)
    assert (c["K03"]["status"], c["K03"]["balance"]) == ("未收", 2000.0)
    assert (c["K04"]["status"], c["K04"]["paid"]) == ("未收", 0.0)  # 已收金额 blank means 0
    assert (c["K09"]["status"], c["K09"]["balance"]) == ("金额未填", None)


def test_due_date_is_start_or_the_filled_due_date(report: FeeReport) -> None:
    c = by_contract(report)
    assert c["K02"]["due_date"] == dt.date(2026, 3, 1)
    assert c["K03"]["due_date"] == dt.date(2026, 11, 10)
    assert c["K08"]["due_date"] is None
    assert "未填服务开始和应收日期" in c["K08"]["note"]


def test_overdue_days_only_where_a_balance_is_left_and_the_due_date_has_passed(report: FeeReport) -> None:
    c = by_contract(report)
    # 2026-03-01 → 2026-11-27: 31+30+31+30+31+31+30+31 (Mar–Oct) + 26 = 271 days.
    assert c["K02"]["overdue_days"] == 271
    assert c["K03"]["overdue_days"] == 17  # from 应收日期 2026-11-10, not 服务开始 2025-12-01
    assert c["K07"]["overdue_days"] == 22
    assert c["K01"]["overdue_days"] is None  # paid
    assert c["K04"]["overdue_days"] is None  # falls due 2026-12-01, after D
    assert c["K08"]["overdue_days"] is None  # no due date
    assert c["K09"]["overdue_days"] is None  # no amount


def test_days_to_expiry_and_renewal_state(report: FeeReport) -> None:
    c = by_contract(report)
    assert (c["K01"]["days_to_expiry"], c["K01"]["renewal"]) == (34, "待续费")  # no later contract of C001
    assert (c["K03"]["days_to_expiry"], c["K03"]["renewal"]) == (3, None)  # K04 runs later: renewed
    assert (c["K05"]["days_to_expiry"], c["K05"]["renewal"]) == (-331, None)  # K01 runs later
    assert (c["K06"]["days_to_expiry"], c["K06"]["renewal"]) == (-58, "已过期未续")
    assert (c["K02"]["days_to_expiry"], c["K02"]["renewal"]) == (93, None)  # outside the 60-day window
    assert (c["K09"]["days_to_expiry"], c["K09"]["renewal"]) == (65, None)


def test_the_renewal_window_is_the_setting(folder: Path) -> None:
    c = by_contract(report_for(folder, Settings().replace(fee_window_days=93)))
    assert c["K02"]["renewal"] == "待续费"
    assert c["K09"]["renewal"] == "待续费"


def test_contracts_without_manager_approval_are_flagged(report: FeeReport) -> None:
    c = by_contract(report)
    assert c["K02"]["unapproved"] is True  # 否
    assert c["K03"]["unapproved"] is True  # blank
    assert c["K01"]["unapproved"] is False


def test_renewal_risk_needs_a_recent_complaint_or_unhappy_rating(report: FeeReport) -> None:
    c = by_contract(report)
    # C002 complained on 2026-10-28, 30 days before D, and K02 is overdue.
    assert c["K02"]["risk"] is True
    assert c["K02"]["risk_reason"] == "逾期未收271天，且近90天内：2026-10-28 来电投诉（工程师迟到）"
    # C001 rated 不满意 in a callback on 2026-11-07, and K01 is due for renewal.
    assert c["K01"]["risk"] is True
    assert c["K01"]["risk_reason"] == "服务34天后到期未续费，且近90天内：2026-11-07 回访满意度“不满意”"
    # C004's complaint was 120 days before D (2026-07-30): outside the 90 days.
    assert c["K06"]["risk"] is False and c["K06"]["risk_reason"] is None
    # C006 complained in a callback, but K09 is neither overdue nor due for renewal.
    assert c["K09"]["risk"] is False
    # C001's older contract K05 is settled and renewed.
    assert c["K05"]["risk"] is False
    assert c["K03"]["risk"] is False


def test_a_callback_complaint_flags_renewal_risk(folder: Path) -> None:
    c = by_contract(report_for(folder, Settings().replace(fee_window_days=65)))
    assert c["K09"]["renewal"] == "待续费"
    assert c["K09"]["risk_reason"] == "服务65天后到期未续费，且近90天内：2026-11-20 回访时投诉"


@pytest.mark.parametrize(("service_date", "flagged"), [(dt.date(2026, 8, 29), True), (dt.date(2026, 8, 28), False)])
def test_an_unhappy_feedback_counts_for_exactly_the_last_90_days(folder: Path, service_date: dt.date,
                                                                 flagged: bool) -> None:
    write_records(folder / "反馈.xlsx", {"服务反馈单": [
        {"服务日期": service_date, "服务代表": "张伟", "客户编号": "C005", "服务类型": "问题处理", "处理结果": "已解决",
         "客户满意度": 3},
    ]})
    k07 = by_contract(report_for(folder))["K07"]  # overdue 22 days; 2026-08-29 is D − 90
    assert k07["risk"] is flagged
    if flagged:
        assert k07["risk_reason"] == "逾期未收22天，且近90天内：2026-08-29 服务反馈满意度“一般”"


# --- chase list -----------------------------------------------------------------------------------


def test_chase_list_per_owner(report: FeeReport) -> None:
    chase = report.chase.to_dict("records")
    assert [(r["owner_name"], r["rank"], r["contract_id"], r["chase_kind"]) for r in chase] == [
        ("张伟", 1, "K03", "逾期欠款"),  # balance 2000
        ("张伟", 2, "K07", "逾期欠款"),  # balance 400
        ("张伟", 3, "K01", "待续费"),  # a renewal comes after every overdue balance
        ("王强", 1, "K02", "逾期欠款"),
        ("王强", 2, "K06", "已过期未续"),
    ]
    first = chase[0]
    assert (first["customer_name"], first["contact"], first["phone"]) == ("丙公司", None, None)
    assert first["action"] == "催收欠款¥2,000.00（应收日期2026-11-10，已逾期17天）；合同尚未经理核准，请先报核准"
    k02 = chase[3]
    assert (k02["customer_name"], k02["contact"], k02["phone"]) == ("乙公司", "王出纳", "057188005678")
    assert "先了解并解决问题再谈收费" in k02["action"]


def test_chase_order_amount_then_date_and_the_per_owner_limit(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    basic_department(inbox)
    customers = [(f"D{i}", f"客户{i}", None, None, None, "西湖区", "E01", "否") for i in range(1, 8)]
    write_workbook(inbox / "客户补充.xlsx", {"客户档案": (CUSTOMER_HEADERS, customers)})
    write_records(inbox / "年费.xlsx", {"年费台账": [
        contract("A", "D1", "2027-09-30", 1000, 0, start="2026-10-01"),
        contract("B", "D2", "2027-08-31", 1000, 0, start="2026-09-01"),  # same balance as A, due sooner
        contract("C", "D3", "2027-10-31", 5000, 0, start="2026-11-01"),
        contract("D", "D4", "2026-12-20", 9000, 9000, start="2025-12-21"),  # renewal, largest fee
        contract("E", "D5", "2026-12-10", 2000, 2000, start="2025-12-11"),
        contract("F", "D6", "2026-12-05", 2000, 2000, start="2025-12-06"),  # same fee as E, expires sooner
        contract("G", "D7", "2026-10-01", 500, 500, start="2025-10-02"),  # lapsed, smallest
        contract("H", "C002", "2027-01-10", 800, 0, start="2026-11-01"),  # 王强's one
    ]})
    default = report_for(inbox)
    assert [(r["owner"], r["contract_id"]) for r in default.chase.to_dict("records")] == [
        ("E01", "C"), ("E01", "B"), ("E01", "A"), ("E01", "D"), ("E01", "F"), ("E02", "H")]
    two = report_for(inbox, Settings().replace(chase_per_owner=2))
    assert list(two.chase["contract_id"]) == ["C", "B", "H"]
    seven = report_for(inbox, Settings().replace(chase_per_owner=7))
    assert list(seven.chase["contract_id"]) == ["C", "B", "A", "D", "F", "E", "G", "H"]
    assert list(seven.chase["rank"]) == [1, 2, 3, 4, 5, 6, 7, 1]


# --- collection rate ------------------------------------------------------------------------------


def test_collection_rate_per_owner_and_overall_month_and_year(report: FeeReport) -> None:
    rows = {r["owner_name"]: r for r in report.collection.to_dict("records")}
    assert list(rows) == ["张伟", "王强", "合计"]
    # This month (2026-11-01..27): 张伟's K03 (2000, paid 0) and K07 (1000, paid 600); nothing of 王强's.
    zhang, wang, total = rows["张伟"], rows["王强"], rows["合计"]
    assert (zhang["month_contracts"], zhang["month_due"], zhang["month_paid"]) == (2, 3000.0, 600.0)
    assert zhang["month_rate"] == pytest.approx(0.2)
    assert (wang["month_due"], wang["month_rate"]) == (0.0, None)
    # This year: 张伟 K01 3800/3800 + K03 2000/0 + K07 1000/600; 王强 K02 5000/2000.
    # K04 falls due after D, K05 and K06 last year, K08 has no due date, K09 no amount: all left out.
    assert (zhang["year_contracts"], zhang["year_due"], zhang["year_paid"]) == (3, 6800.0, 4400.0)
    assert zhang["year_rate"] == pytest.approx(4400 / 6800)
    assert (wang["year_due"], wang["year_paid"], wang["year_rate"]) == (5000.0, 2000.0, pytest.approx(0.4))
    assert (total["month_due"], total["month_paid"], total["month_rate"]) == (3000.0, 600.0, pytest.approx(0.2))
    assert (total["year_due"], total["year_paid"], total["year_balance"]) == (11800.0, 6400.0, 5400.0)
    assert total["year_rate"] == pytest.approx(6400 / 11800)


def test_an_overpayment_counts_only_up_to_the_fee(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    basic_department(inbox)
    write_records(inbox / "年费.xlsx", {"年费台账": [
        contract("P1", "C001", "2027-10-31", 1000, 1500, start="2026-11-01"),
        contract("P2", "C003", "2027-10-31", 1000, 0, start="2026-11-02"),
    ]})
    total = report_for(inbox).collection.iloc[-1]
    assert (total["month_due"], total["month_paid"], total["month_rate"]) == (2000.0, 1000.0, 0.5)


def test_key_figures(report: FeeReport) -> None:
    figures = report.figures()
    assert figures["contracts"] == 9
    assert (figures["overdue"], figures["overdue_balance"]) == (3, 5400.0)
    assert (figures["due_for_renewal"], figures["lapsed"], figures["renewal_risk"]) == (1, 1, 2)
    assert figures["unapproved"] == 2
    assert figures["chase"] == 5
    assert figures["collection_rate_month"] == pytest.approx(0.2)


# --- the workbook ---------------------------------------------------------------------------------


def write(report: FeeReport, out: Path) -> Path:
    written: list[Path] = []
    write_fees(out, TODAY, report, written)
    assert written == [out / FEES_OUTPUT.file_name(dt.date(2026, 11, 27))]
    return written[0]


def test_fees_workbook_sheets_headers_values_and_chart(report: FeeReport, tmp_path: Path) -> None:
    path = write(report, tmp_path / "out")
    assert path.name == "年费_2026-11-27.xlsx"
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["催收清单", "到期续费", "逾期", "未核准", "收款率"]

    def headers(name: str) -> list[str]:
        return [c.value for c in book[name][2]]

    for name in book.sheetnames[1:]:
        assert "负责人" in headers(name)
    assert {"合同编号", "客户编号", "客户名称", "服务开始", "服务到期", "年费金额", "已收金额", "应收日期", "收款状态",
            "未收金额", "逾期天数", "距到期天数", "续费状态", "经理核准", "续费风险", "风险原因", "说明"} <= set(headers("未核准"))
    assert headers("催收清单")[:3] == ["催收负责人", "序号", "催收类型"]
    assert headers("催收清单")[-2:] == ["催收日期", "计划负责人"]

    overdue = book["逾期"]
    assert "2026-11-27" in overdue["A1"].value
    first = {h: c.value for h, c in zip(headers("逾期"), overdue[3], strict=True)}
    assert (first["合同编号"], first["逾期天数"], first["未收金额"]) == ("K02", 271, 3000)
    assert (first["经理核准"], first["续费风险"]) == ("未核准", "续费风险")
    assert overdue.cell(3, headers("逾期").index("未收金额") + 1).number_format == "#,##0.00_ "  # a space's width after it
    assert overdue.cell(3, headers("逾期").index("应收日期") + 1).value == dt.datetime(2026, 3, 1)

    renewals = book["到期续费"]
    assert [row[3].value for row in renewals.iter_rows(min_row=3)] == ["K06", "K01"]

    rates = book["收款率"]
    assert [rates.cell(r, 1).value for r in (3, 4, 5)] == ["张伟", "王强", "合计"]
    assert rates.cell(5, headers("收款率").index("本月收款率") + 1).number_format == "0.0%_ "
    with zipfile.ZipFile(path) as archive:
        assert "xl/charts/chart1.xml" in archive.namelist()
        chart = archive.read("xl/charts/chart1.xml").decode()
    assert "<c:barChart>" in chart and "收款率!$A$3:$A$4" in chart


def test_colours_mark_overdue_unapproved_and_risk(report: FeeReport, tmp_path: Path) -> None:
    book = openpyxl.load_workbook(write(report, tmp_path / "out"))
    rules = {str(r.sqref): r for r in book["未核准"].conditional_formatting}
    formulas = " ".join(f for rule in rules.values() for r in rule.rules for f in r.formula)
    assert '"未核准"' in formulas and '"续费风险"' in formulas and ">0" in formulas


def test_an_empty_ledger_still_writes_every_sheet(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    basic_department(inbox)
    empty = report_for(inbox)
    assert len(empty.contracts) == 0 and len(empty.chase) == 0
    assert empty.collection["owner_name"].tolist() == ["合计"]
    book = openpyxl.load_workbook(write(empty, tmp_path / "out"))
    assert len(book.sheetnames) == 5


def test_the_workbook_converts_to_pdf(report: FeeReport, tmp_path: Path, to_pdf: ToPdf) -> None:
    [pdf] = to_pdf(write(report, tmp_path / "out"))
    assert pdf.read_bytes().startswith(b"%PDF")
