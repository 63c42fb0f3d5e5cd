"""The quality report worked out by hand on a small November 2026 folder of real workbooks: complaints
from both sources counted once, CSAT per engineer and overall, callback coverage, every breach kind
with its reason, and 质量_D.xlsx read back (and converted to PDF by LibreOffice)."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import load_folder
from kis_batch.problems import Severity
from kis_batch.render.quality import write_quality
from kis_batch.rules.quality import QualityReport, quality_report
from kis_batch.rules.scoring import score_feedback
from kis_batch.settings import Settings
from tests.builders import CUSTOMER_HEADERS, STAFF_HEADERS, table, write_records, write_workbook
from tests.conftest import ToPdf

TODAY = dt.date(2026, 11, 20)  # a Friday: 15 of November's 21 working days have passed
CALENDAR = WorkCalendar()


def _visit(ticket: str | None, day: str, staff: str, customer: str, **extra: Any) -> dict[str, Any]:
    """A filled feedback row: an on-site, phoned-ahead, one-hour 问题处理 unless told otherwise."""
    return {"工单号": ticket, "服务日期": day, "服务代表": staff, "客户编号": customer, "服务类型": "问题处理",
            "服务方式": "上门", "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00", "处理结果": "已解决", **extra}


def _call(ticket: str, when: str, customer: str, category: str = "软件故障", problem: str = "过账报错") -> dict[str, Any]:
    return {"工单号": ticket, "来电时间": when, "客户编号": customer, "问题类别": category, "问题描述": problem,
            "处理方式": "需上门"}


def november_folder(folder: Path) -> Path:
    """张伟 (E01) owns C001–C005, 王强 (E02) C006–C010; a month of calls, feedback and callbacks."""
    write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("E01", "张伟", "服务工程师", "西湖区", None, None, None, None, "是"),
            ("E02", "王强", "服务工程师", "滨江区", None, None, None, None, "是"),
            ("E03", "赵敏", "实施专员", "西湖区", None, None, None, None, "是"),
        ]),
        "客户档案": (CUSTOMER_HEADERS, [
            (f"C{n:03d}", f"客户{n}", None, None, None, "西湖区", "张伟" if n <= 5 else "王强", "否") for n in range(1, 11)
        ]),
    })
    write_records(folder / "热线.xlsx", {"热线记录": [
        _call("T7", "2026-10-12 10:00", "C002", "投诉", "上月投诉"),
        _call("T1", "2026-11-16 09:00", "C001"),
        _call("T2", "2026-11-17 09:00", "C006"),
        _call("T4", "2026-11-17 11:00", "C003"),
        _call("T3", "2026-11-18 09:30", "C007"),
        _call("T9", "2026-11-18 10:00", "C001", "投诉", "张伟态度不好"),
        _call("T8", "2026-11-19 15:00", "C009", "投诉", "热线一直打不通"),
        _call("T5", "2026-11-20 09:00", "C002"),
    ]})
    write_records(folder / "反馈.xlsx", {"服务反馈单": [
        _visit("T1", "2026-11-17", "张伟", "C001", 客户满意度="非常满意"),
        _visit("T2", "2026-11-18", "王强", "C006", 电话预约="否", 离开时间="11:30", 处理结果="部分解决", 客户满意度="一般"),
        _visit(None, "2026-11-19", "张伟", "C002", 服务类型="客户拜访", 到达时间="14:00", 离开时间="15:00", 客户满意度="满意"),
        _visit("T2", "2026-11-19", "王强", "C006", 服务方式="远程", 电话预约=None, 到达时间=None, 离开时间=None,
               客户满意度="不满意"),
        _visit("T4", "2026-11-19", "张伟", "C003", 客户满意度="满意"),
        _visit(None, "2026-11-20", "张伟", "C004", 服务类型="客户拜访", 到达时间="10:00", 离开时间="11:00", 客户满意度="满意"),
    ]})
    # Dispatch sheets returned with rows nobody filled in: T3 never comes back; T4 was done the next day;
    # T5 is tomorrow's work; the 客户拜访 was only a suggestion.
    write_records(folder / "派工单_返回.xlsx", {"派工单": [
        {"工单号": "T3", "服务日期": "2026-11-19", "派给": "王强", "客户编号": "C007", "服务类型": "问题处理", "处理结果": None},
        {"工单号": "T4", "服务日期": "2026-11-18", "派给": "张伟", "客户编号": "C003", "服务类型": "问题处理", "处理结果": None},
        {"工单号": "T5", "服务日期": "2026-11-23", "派给": "张伟", "客户编号": "C002", "服务类型": "问题处理", "处理结果": None},
        # A suggested 客户拜访 not taken up: optional, so not missing feedback.
        {"工单号": None, "服务日期": "2026-11-19", "派给": "张伟", "客户编号": "C005", "服务类型": "客户拜访", "处理结果": None},
    ]})
    write_records(folder / "回访.xlsx", {"回访记录": [
        {"回访日期": "2026-10-20", "客户编号": "C003", "回访类型": "满意度回访", "接通": "是", "客户满意度": "满意"},
        {"回访日期": "2026-11-18", "客户编号": "C001", "回访类型": "满意度回访", "工单号": "T1", "服务代表": "张伟", "接通": "是",
         "客户满意度": "不满意", "投诉": "是", "备注": "态度差"},
        {"回访日期": "2026-11-19", "客户编号": "C006", "回访类型": "当日核实", "服务代表": "王强", "接通": "是", "上门属实": "是",
         "客户满意度": "一般"},
        {"回访日期": "2026-11-19", "客户编号": "C010", "回访类型": "满意度回访", "接通": "是", "客户满意度": "非常满意",
         "投诉": "是", "备注": "年费太贵"},
        {"回访日期": "2026-11-20", "客户编号": "C004", "回访类型": "当日核实", "服务代表": "张伟", "接通": "是", "上门属实": "否"},
        {"回访日期": "2026-11-20", "客户编号": "C005", "回访类型": "当日核实", "服务代表": "张伟", "接通": "是", "上门属实": "否"},
        {"回访日期": "2026-11-20", "客户编号": "C008", "回访类型": "满意度回访", "接通": "否"},
    ]})
    return folder


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Settings]:
    inbox = load_folder(november_folder(tmp_path_factory.mktemp("in")), TODAY)
    assert [p.message for p in inbox.problems if p.severity is Severity.ERROR] == []
    return inbox.tables, inbox.settings


def report_for(tables: dict, settings: Settings, today: dt.date = TODAY) -> QualityReport:
    """As the pipeline computes it: from the day's scores."""
    return quality_report(tables, score_feedback(tables, settings, CALENDAR, today), settings, CALENDAR, today)


@pytest.fixture(scope="module")
def report(inputs: tuple[dict, Settings]) -> QualityReport:
    return report_for(*inputs)


def by_name(frame: Any, *columns: str) -> dict[str, tuple[Any, ...]]:
    return {r["staff_name"]: tuple(r[c] for c in columns) for r in frame.to_dict("records")}


def test_a_complaint_heard_by_the_hotline_and_the_callback_counts_once(report: QualityReport) -> None:
    rows = report.complaints.to_dict("records")
    got = [(r["date"], r["source"], r["ticket_id"], r["customer_id"], r["staff_name"], r["basis"], r["service_date"],
            r["visit_ticket"]) for r in rows]
    assert got == [
        # T9 and the 11-18 callback both concern 张伟's visit of 11-17 (T1): one complaint
        (dt.date(2026, 11, 18), "来电+回访", "T9", "C001", "张伟", "关联服务的工程师", dt.date(2026, 11, 17), "T1"),
        # no service to tie to: the customer's own engineer answers for it
        (dt.date(2026, 11, 19), "来电投诉", "T8", "C009", "王强", "客户的服务代表", None, None),
        (dt.date(2026, 11, 19), "回访投诉", None, "C010", "王强", "客户的服务代表", None, None),
    ]
    assert rows[0]["content"] == "11-18 来电：张伟态度不好；11-18 满意度回访：态度差"


def test_complaints_per_engineer_per_type_and_per_month(report: QualityReport) -> None:
    counts = ("calls", "callbacks", "both", "total")
    assert by_name(report.complaints_by_engineer, *counts) == {
        "张伟": (0, 0, 1, 1), "王强": (1, 1, 0, 2), "赵敏": (0, 0, 0, 0), "合计": (1, 1, 1, 3)}
    types = {r["service_type"]: tuple(r[c] for c in counts) for r in report.complaints_by_type.to_dict("records")}
    assert types["问题处理"] == (0, 0, 1, 1) and types["未关联服务"] == (1, 1, 0, 2) and types["客户拜访"] == (0, 0, 0, 0)
    months = {r["month"]: r["total"] for r in report.complaints_by_month.to_dict("records")}
    assert list(months) == [f"{m}月" for m in range(1, 12)]
    assert (months["10月"], months["11月"], sum(months.values())) == (1, 3, 4)  # October's T7 counts for the year


def test_csat_per_engineer_from_feedback_callbacks_and_both(report: QualityReport) -> None:
    # 张伟: feedback 非常满意, 满意 ×3 → 4/4; callback 不满意 → 0/1 (his two 当日核实 carry no rating); both 4/5.
    # 王强: feedback 一般, 不满意 → 0/2; callbacks 一般 and C010's 非常满意 (no 服务代表: the owner's) → 1/2; both 1/4.
    columns = ("feedback_count", "feedback_csat", "callbacks_count", "callbacks_csat", "all_count", "all_csat")
    assert by_name(report.satisfaction, *columns) == {
        "张伟": (4, 1.0, 1, 0.0, 5, 0.8),
        "王强": (2, 0.0, 2, 0.5, 4, 0.25),
        "赵敏": (0, None, 0, None, 0, None),
        "合计": (6, 0.6667, 3, 0.3333, 9, 0.5556),
    }
    levels = ("feedback_very_satisfied", "feedback_satisfied", "feedback_neutral", "feedback_unsatisfied")
    assert by_name(report.satisfaction, *levels)["张伟"] == (1, 3, 0, 0)
    mix = {r["satisfaction"]: (r["feedback"], r["callbacks"], r["all"]) for r in report.satisfaction_mix.to_dict("records")}
    assert mix == {"非常满意": (1, 1, 2), "满意": (3, 0, 3), "一般": (1, 1, 2), "不满意": (1, 1, 2)}


def test_coverage_counts_distinct_customers_reached_this_month(report: QualityReport) -> None:
    # Reached in November: C001, C004, C005 (张伟's), C006, C010 (王强's); C008 did not answer; C003 was October.
    columns = ("customers", "reached", "coverage", "verification", "spot_check", "satisfaction_call", "unanswered")
    assert by_name(report.coverage, *columns) == {
        "张伟": (5, 3, 0.6, 2, 0, 1, 0),
        "王强": (5, 2, 0.4, 1, 0, 1, 1),
        "合计": (10, 5, 0.5, 3, 0, 2, 1),
    }
    f = report.figures
    assert (f["customers"], f["customers_reached"], f["coverage"], f["coverage_target"]) == (10, 5, 0.5, 3)
    assert f["coverage_status"] == "已达标"


def test_coverage_below_the_working_day_pace_is_behind(inputs: tuple[dict, Settings]) -> None:
    tables, settings = inputs
    # 60 % of 10 customers = 6 by month end; 15 of 21 working days gone → 4.3 by now; 5 reached → 正常.
    assert report_for(tables, settings.replace(callback_coverage=0.6)).figures["coverage_status"] == "正常"
    # 90 % → 9; pace 6.4; 5 reached → 落后.
    behind = report_for(tables, settings.replace(callback_coverage=0.9)).figures
    assert (behind["coverage_target"], behind["coverage_pace"], behind["coverage_status"]) == (9, 6.4, "落后")


def test_every_breach_kind_is_one_row_with_its_reason(report: QualityReport) -> None:
    got = [(r["service_date"], r["staff_name"], r["customer_id"], r["ticket_id"], r["kind"], r["reason"])
           for r in report.breaches.to_dict("records")]
    assert got[:4] == [
        (dt.date(2026, 11, 18), "王强", "C006", "T2", "未电话预约", "未电话预约"),
        (dt.date(2026, 11, 18), "王强", "C006", "T2", "上门超时", "上门150分钟，超过120分钟"),
        (dt.date(2026, 11, 19), "王强", "C007", "T3", "反馈缺失",
         "服务反馈单交回但处理结果和到达/离开时间都没填（未完成或漏填），之后也没有这张工单的反馈"),
        (dt.date(2026, 11, 20), "张伟", "C004", None, "上门不属实", "上门不属实（回访核实未上门 11-20）"),
    ]
    # A callback that disproves a visit nobody reported is a breach of the engineer it names.
    assert got[4][:5] == (dt.date(2026, 11, 20), "张伟", "C005", None, "上门不属实")
    assert "没有对应的上门服务反馈单" in got[4][5]
    assert len(got) == 5  # T4's blank row was done the next day; T5's is after D
    columns = ("feedback", "no_phone_ahead", "over_time", "feedback_missing", "not_visited", "total")
    assert by_name(report.breaches_by_engineer, *columns) == {
        "张伟": (4, 0, 0, 0, 2, 2), "王强": (2, 1, 1, 1, 0, 3), "赵敏": (0, 0, 0, 0, 0, 0), "合计": (6, 1, 1, 1, 2, 5)}


def test_the_key_figures(report: QualityReport) -> None:
    f = report.figures
    assert (f["month"], f["complaints"], f["complaints_year"]) == ("2026-11", 3, 4)
    assert f["complaints_by_source"] == {"calls": 1, "callbacks": 1, "both": 1}
    assert (f["ratings"], f["csat"], f["csat_feedback"], f["csat_callbacks"], f["csat_alert"]) == (
        9, 0.5556, 0.6667, 0.3333, 0.9)
    assert f["satisfaction_mix"] == {"very_satisfied": 2, "satisfied": 3, "neutral": 2, "unsatisfied": 2}
    assert f["breaches"] == 5
    assert f["breaches_by_kind"] == {"no_phone_ahead": 1, "over_time": 1, "feedback_missing": 1, "not_visited": 2}
    statuses = dict(zip(report.overview["item"], report.overview["status"], strict=True))
    assert statuses == {"本月投诉": "有投诉", "综合满意率": "偏低", "反馈单满意率": "偏低", "回访满意率": "偏低",
                        "回访覆盖率": "已达标", "违规": "有违规"}


def test_an_empty_month_gives_zeros_not_errors(tmp_path: Path) -> None:
    tables = {"staff": table("staff", [{"staff_id": "E01", "name": "张伟", "role": "服务工程师"}]),
              "customers": table("customers", [{"customer_id": "C001", "customer_name": "甲", "area": "西湖区",
                                                "owner": "E01"}])}
    report = report_for(tables, Settings())
    assert (report.figures["complaints"], report.figures["ratings"], report.figures["csat"]) == (0, 0, None)
    assert (report.figures["coverage"], report.figures["coverage_status"], report.figures["breaches"]) == (0.0, "落后", 0)
    written: list[Path] = []
    write_quality(tmp_path, TODAY, report, written)
    with zipfile.ZipFile(written[0]) as archive:  # no ratings, no pie; the month chart stays
        assert sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart")) == ["xl/charts/chart1.xml"]


# ---- 质量_D.xlsx ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def workbook(report: QualityReport, tmp_path_factory: pytest.TempPathFactory) -> Path:
    written: list[Path] = []
    write_quality(tmp_path_factory.mktemp("out"), TODAY, report, written)
    assert [p.name for p in written] == ["质量_2026-11-20.xlsx"]
    return written[0]


def headers(sheet: Any, row: int = 2) -> dict[str, int]:
    return {c.value: c.column for c in sheet[row] if c.value}


def column(sheet: Any, header: str, first: int = 3) -> list[Any]:
    index = headers(sheet)[header]
    return [sheet.cell(r, index).value for r in range(first, sheet.max_row + 1)]


def rules(sheet: Any) -> list[str]:
    return [rule.formula[0] for ranges in sheet.conditional_formatting for rule in ranges.rules]


def test_the_workbook_has_every_sheet_with_input_headers(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    assert book.sheetnames == ["概览", "投诉", "投诉统计", "满意度", "回访覆盖", "违规", "违规统计"]
    for name, expected in {
        "投诉": ("投诉日期", "来源", "工单号", "客户编号", "客户名称", "服务代表", "认定依据", "服务日期", "关联工单号", "服务类型",
                 "投诉内容"),
        "违规": ("服务日期", "服务代表", "客户编号", "客户名称", "工单号", "服务类型", "服务方式", "违规类型", "原因"),
        "满意度": ("工号", "服务代表", "反馈\n满意率", "回访\n满意率", "合计\n满意率"),
        "回访覆盖": ("工号", "服务代表", "客户数", "本月接通客户", "覆盖率", "当日核实", "月度抽查", "满意度回访"),
        "违规统计": ("工号", "服务代表", "未电话预约", "上门超时", "反馈缺失", "上门不属实", "合计"),
    }.items():
        assert set(expected) <= set(headers(book[name])), name


def test_the_workbook_values_and_colours(workbook: Path) -> None:
    book = openpyxl.load_workbook(workbook)
    overview = book["概览"]
    assert overview["A1"].value == "服务质量 2026-11-20：2026年11月1日至20日"
    items = dict(zip(column(overview, "指标")[:6], column(overview, "比率")[:6], strict=True))
    assert items["综合满意率"] == 0.5556 and items["回访覆盖率"] == 0.5
    assert any('"偏低"' in formula for formula in rules(overview))

    complaints = book["投诉"]
    assert column(complaints, "来源")[:3] == ["来电+回访", "来电投诉", "回访投诉"]
    assert complaints.cell(3, headers(complaints)["投诉日期"]).value == dt.datetime(2026, 11, 18)

    breaches = book["违规"]
    assert column(breaches, "违规类型")[:5] == ["未电话预约", "上门超时", "反馈缺失", "上门不属实", "上门不属实"]
    assert column(breaches, "服务代表")[:5] == ["王强", "王强", "王强", "张伟", "张伟"]
    assert {f'"{kind}"' for kind in ("未电话预约", "上门超时", "反馈缺失", "上门不属实")} <= {
        formula.split("=")[-1] for formula in rules(breaches)}

    satisfaction = book["满意度"]
    assert column(satisfaction, "服务代表")[:4] == ["张伟", "王强", "赵敏", "合计"]
    assert column(satisfaction, "工号")[:3] == ["E01", "E02", "E03"]
    assert column(satisfaction, "合计\n满意率")[:4] == [0.8, 0.25, None, 0.5556]
    assert any("<0.9" in formula for formula in rules(satisfaction))
    assert satisfaction.cell(3, headers(satisfaction)["合计\n满意率"]).number_format == "0.0%_ "

    coverage = book["回访覆盖"]
    assert "接通 5 家 / 客户 10 家 = 50.0%" in coverage["A1"].value and "已达标" in coverage["A1"].value
    assert column(coverage, "覆盖率")[:3] == [0.6, 0.4, 0.5]


def test_the_workbook_has_its_native_charts(workbook: Path) -> None:
    with zipfile.ZipFile(workbook) as archive:
        charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
        assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
        pie, months = (archive.read(name).decode() for name in charts)
    assert "<c:pieChart>" in pie and "概览" in pie
    assert "<c:barChart>" in months and '<c:grouping val="stacked"/>' in months and "投诉统计" in months


def test_the_workbook_converts_to_pdf(workbook: Path, to_pdf: ToPdf) -> None:
    [pdf] = to_pdf(workbook)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
