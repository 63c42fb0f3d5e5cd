"""Tracked customers worked out by hand on a small November 2026 folder of real workbooks: 未联系天数 from
each kind of contact, the shortest interval of a customer in two groups, a 所属集团 roll-up, the
所属集团 warning; and the example month's 客户跟踪 workbook read back (and converted to PDF)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch import pipeline
from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import Inbox, load_folder
from kis_batch.problems import Severity
from kis_batch.render.customers import write_customers
from kis_batch.rules.customers import NO_GROUP, CustomerTracking, track_customers
from kis_batch.rules.fees import fee_status
from kis_batch.rules.tickets import open_tickets
from tests.builders import STAFF_HEADERS, header_row, write_records, write_workbook
from tests.conftest import EXAMPLE_TODAY, ToPdf

TODAY = dt.date(2026, 11, 20)  # 19 days after the 1st of the month
CALENDAR = WorkCalendar()
SHEETS = ["重点客户", "大客户", "集团客户", "异地客户"]
CUSTOMER_HEADERS = ("客户编号", "客户名称", "区域", "服务代表", "重点客户", "客户类别", "所属集团")
# C005, a 集团客户 without 所属集团, on Excel row 6 of 客户档案; 所属集团 is its column G.
NO_GROUP_ROW = 6


def _call(ticket: str, when: str, customer: str, category: str = "操作咨询", handling: str = "电话已解决") -> dict[str, Any]:
    return {"工单号": ticket, "来电时间": when, "客户编号": customer, "问题类别": category, "问题描述": "咨询",
            "处理方式": handling}


def tracked_folder(folder: Path, settings: list[tuple[str, Any]] = ()) -> Path:
    """张伟 (E01) and 王强 (E02); C008 alone is not tracked. The contacts:
    C001 重点客户 (所属集团 乙集团 though 普通): a call on 10-10.
    C002 大客户: a visit on 10-05; a visit of 11-18 not done yet (no result, no times).
    C003 集团客户 甲集团: a reached callback on 10-25 that complains and rates 不满意; one not reached on 11-19.
    C004 集团客户 甲集团: nothing. C005 集团客户 without 所属集团: nothing.
    C006 重点客户 and 异地客户, C007 异地客户: a call each on 10-15.
    C009 集团客户 甲集团: T9 needs a visit (11-17), served 部分解决 rated 一般 on 11-19, so still open;
    T10 a 投诉 call on 11-18, and a reached callback on 11-19 naming T10, complaining, rated 一般.
    C001 owes its whole fee, due 10-01."""
    write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("E01", "张伟", "服务工程师", "西湖区", None, None, None, None, "是"),
            ("E02", "王强", "服务工程师", "滨江区", None, None, None, None, "是"),
        ]),
        "客户档案": (CUSTOMER_HEADERS, [
            ("C001", "客户1", "西湖区", "张伟", "是", "普通", "乙集团"),
            ("C002", "客户2", "西湖区", "张伟", "否", "大客户", None),
            ("C003", "客户3", "西湖区", "张伟", "否", "集团客户", "甲集团"),
            ("C004", "客户4", "滨江区", "王强", "否", "集团客户", "甲集团"),
            ("C005", "客户5", "滨江区", "王强", "否", "集团客户", None),
            ("C006", "客户6", "富阳区", "王强", "是", "异地客户", None),
            ("C007", "客户7", "富阳区", "王强", "否", "异地客户", None),
            ("C008", "客户8", "西湖区", "张伟", "否", "普通", None),
            ("C009", "客户9", "滨江区", "王强", "否", "集团客户", "甲集团"),
        ]),
    })
    write_records(folder / "热线.xlsx", {"热线记录": [
        _call("T1", "2026-10-10 10:00", "C001"),
        _call("T6", "2026-10-15 10:00", "C006"),
        _call("T7", "2026-10-15 11:00", "C007"),
        _call("T9", "2026-11-17 09:00", "C009", "软件故障", "需上门"),
        _call("T10", "2026-11-18 10:00", "C009", "投诉"),
    ]})
    visit = {"服务类型": "客户拜访", "服务方式": "上门", "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00"}
    write_records(folder / "反馈_10月.xlsx", {"服务反馈单": [
        {"服务日期": "2026-10-05", "服务代表": "张伟", "客户编号": "C002", **visit, "处理结果": "已解决"},
    ]})
    write_records(folder / "反馈_11月.xlsx", {"服务反馈单": [
        {"服务日期": "2026-11-18", "服务代表": "张伟", "客户编号": "C002", "服务类型": "客户拜访", "处理结果": None},
        {"工单号": "T9", "服务日期": "2026-11-19", "服务代表": "王强", "客户编号": "C009", **visit, "服务类型": "问题处理",
         "处理结果": "部分解决", "客户满意度": "一般"},
    ]})
    write_records(folder / "回访.xlsx", {"回访记录": [
        {"回访日期": "2026-10-25", "客户编号": "C003", "回访类型": "满意度回访", "接通": "是", "客户满意度": "不满意",
         "投诉": "是"},
        {"回访日期": "2026-11-19", "客户编号": "C003", "回访类型": "满意度回访", "接通": "否"},
        {"回访日期": "2026-11-19", "客户编号": "C009", "回访类型": "满意度回访", "工单号": "T10", "接通": "是",
         "客户满意度": "一般", "投诉": "是"},
    ]})
    write_records(folder / "年费.xlsx", {"年费台账": [
        {"合同编号": "NF1", "客户编号": "C001", "服务开始": "2026-10-01", "服务到期": "2027-09-30", "年费金额": 3000,
         "已收金额": 0},
    ]})
    if settings:
        write_workbook(folder / "规则设置.xlsx", {"规则设置": (("参数", "值"), list(settings))})
    return folder


def _track(inbox: Inbox) -> CustomerTracking:
    fees = fee_status(inbox.tables, inbox.settings, TODAY, CALENDAR.next_workday(TODAY))
    tickets = open_tickets(inbox.tables["calls"], inbox.tables["feedback"], CALENDAR, TODAY)
    return track_customers(inbox.tables, fees, tickets, inbox.settings, TODAY)


@pytest.fixture(scope="module")
def inbox(tmp_path_factory: pytest.TempPathFactory) -> Inbox:
    return load_folder(tracked_folder(tmp_path_factory.mktemp("tracked")), TODAY)


@pytest.fixture(scope="module")
def tracking(inbox: Inbox) -> CustomerTracking:
    return _track(inbox)


def _by_id(frame: Any) -> dict[str, dict[str, Any]]:
    return {r["customer_id"]: r for r in frame.to_dict("records")}


def test_only_key_large_group_and_remote_customers_are_tracked(tracking: CustomerTracking) -> None:
    assert sorted(tracking.customers["customer_id"]) == ["C001", "C002", "C003", "C004", "C005", "C006", "C007", "C009"]
    assert {label: sorted(tracking.tracked_in(label)["customer_id"]) for label in SHEETS} == {
        "重点客户": ["C001", "C006"], "大客户": ["C002"], "集团客户": ["C003", "C004", "C005", "C009"],
        "异地客户": ["C006", "C007"]}


def test_days_without_contact_count_from_each_kind_of_contact(tracking: CustomerTracking) -> None:
    rows = _by_id(tracking.customers)
    # A call: 10-10 to 11-20.
    assert (rows["C001"]["last_call"], rows["C001"]["days_since"], rows["C001"]["overdue"]) == (dt.date(2026, 10, 10), 41, True)
    # A service that happened (10-05); the 11-18 row without result or times has not happened.
    assert (rows["C002"]["last_service"], rows["C002"]["days_since"], rows["C002"]["overdue"]) == (dt.date(2026, 10, 5), 46, True)
    # A reached callback (10-25); the one not reached on 11-19 is no contact.
    assert (rows["C003"]["last_callback"], rows["C003"]["days_since"], rows["C003"]["overdue"]) == (dt.date(2026, 10, 25), 26, False)
    # No contact at all: from the 1st of the month.
    assert (rows["C004"]["last_call"], rows["C004"]["last_service"], rows["C004"]["last_callback"]) == (None, None, None)
    assert (rows["C004"]["days_since"], rows["C004"]["overdue"]) == (19, False)
    # The latest of the three: call 11-18, service 11-19, callback 11-19.
    assert (rows["C009"]["last_call"], rows["C009"]["last_service"], rows["C009"]["last_callback"], rows["C009"]["days_since"]) == (
        dt.date(2026, 11, 18), dt.date(2026, 11, 19), dt.date(2026, 11, 19), 1)


def test_a_customer_in_two_groups_is_held_to_the_shorter_interval(tracking: CustomerTracking) -> None:
    rows = _by_id(tracking.customers)
    # C006 (重点客户 30, 异地客户 60) and C007 (异地客户 60) were both last called 36 days ago.
    assert (rows["C006"]["interval"], rows["C006"]["days_since"], rows["C006"]["overdue"]) == (30, 36, True)
    assert (rows["C007"]["interval"], rows["C007"]["days_since"], rows["C007"]["overdue"]) == (60, 36, False)
    assert tracking.figures["not_contacted"] == 3  # C001, C002, C006
    assert tracking.figures["not_contacted_by_segment"] == {"key": 2, "large": 1, "group": 0, "remote": 1}


def test_the_interval_is_a_setting(tmp_path: Path) -> None:
    inbox = load_folder(tracked_folder(tmp_path, [("异地客户联系间隔天数", 30)]), TODAY)
    rows = _by_id(_track(inbox).customers)
    assert (rows["C007"]["interval"], rows["C007"]["overdue"]) == (30, True)


def test_open_work_complaints_ratings_and_fees(tracking: CustomerTracking) -> None:
    rows = _by_id(tracking.customers)
    # T9 came back 部分解决: open; served once this month; T10 and the callback naming it are one complaint.
    assert {k: rows["C009"][k] for k in ("open_tickets", "services_month", "complaints", "low_ratings")} == {
        "open_tickets": 1, "services_month": 1, "complaints": 1, "low_ratings": 2}
    assert (rows["C003"]["complaints"], rows["C003"]["low_ratings"]) == (1, 1)
    assert rows["C002"]["services_month"] == 0  # the 11-18 row did not happen
    assert rows["C001"]["fee_status"] == "逾期欠款3,000元（50天）"
    assert rows["C002"]["fee_status"] == "无年费合同"


def test_group_customers_roll_up_per_group(tracking: CustomerTracking) -> None:
    groups = {r["group"]: r for r in tracking.groups.to_dict("records")}
    assert list(groups) == ["甲集团", NO_GROUP]  # 乙集团 names a 普通 customer: no group of its own
    first = groups["甲集团"]
    assert (first["members"], first["open_tickets"], first["complaints"], first["low_ratings"]) == (3, 1, 2, 3)
    assert (first["days_since"], first["overdue"], first["overdue_members"]) == (26, False, 0)  # C003, least recent
    assert sorted(tracking.members_of("甲集团")["customer_id"]) == ["C003", "C004", "C009"]
    assert (groups[NO_GROUP]["members"], groups[NO_GROUP]["days_since"]) == (1, 19)


def test_a_group_customer_without_its_group_is_warned_at_that_cell(inbox: Inbox) -> None:
    about_group = [p for p in inbox.problems if p.header == "所属集团"]
    assert [(p.file, p.sheet, p.row, p.column, p.severity) for p in about_group] == [
        ("基础.xlsx", "客户档案", NO_GROUP_ROW, "G", Severity.WARNING)]
    assert "所属集团" in about_group[0].message and "集团客户" in about_group[0].message
    assert len(inbox.tables["customers"]) == 9  # kept, as is C001 with a 所属集团 though 普通
    assert [p for p in inbox.problems if p.severity is Severity.ERROR] == []


def test_the_small_workbook_shows_the_group_row_then_its_members(tracking: CustomerTracking, tmp_path: Path) -> None:
    written: list[Path] = []
    write_customers(tmp_path, tracking, written)
    book = openpyxl.load_workbook(written[0])
    assert book.sheetnames == SHEETS
    sheet = book["集团客户"]
    top, headers = header_row(sheet, "客户编号")
    assert sheet.freeze_panes == f"A{top + 1}"
    rows = [[sheet.cell(r, headers[h]).value for h in ("所属集团", "成员数", "客户编号", "未联系天数", "未结工单")]
            for r in range(top + 1, top + 7)]
    assert rows == [["甲集团", 3, None, 26, 1], ["甲集团", None, "C003", 26, 0], ["甲集团", None, "C004", 19, 0],
                    ["甲集团", None, "C009", 1, 1], [NO_GROUP, 1, None, 19, 0], [NO_GROUP, None, "C005", 19, 0]]
    assert sheet.row_dimensions[top + 2].outline_level == 1 and sheet.row_dimensions[top + 1].outline_level == 0
    key = book["重点客户"]
    top, headers = header_row(key, "客户编号")
    assert [key.cell(r, headers["久未联系"]).value for r in (top + 1, top + 2)] == ["是", "是"]
    assert "近90天一般/不满意" in headers


# --- the example month ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def example_book(example_run: pipeline.RunResult) -> Path:
    return example_run.out_dir / f"客户跟踪_{EXAMPLE_TODAY}.xlsx"


def test_the_example_month_has_rows_on_every_sheet_and_some_not_contacted(example_run: pipeline.RunResult,
                                                                           example_book: Path) -> None:
    assert example_run.exit_code == 0
    book = openpyxl.load_workbook(example_book)
    assert book.sheetnames == SHEETS
    overdue: set[str] = set()
    for name in SHEETS:
        sheet = book[name]
        top, headers = header_row(sheet, "客户编号")
        ids = [sheet.cell(r, headers["客户编号"]).value for r in range(top + 1, sheet.max_row + 1)]
        flags = [sheet.cell(r, headers["久未联系"]).value for r in range(top + 1, sheet.max_row + 1)]
        listed = [(i, f) for i, f in zip(ids, flags, strict=True) if i]
        assert listed, name
        overdue |= {i for i, f in listed if f == "是"}
    assert overdue
    manifest = json.loads((example_run.out_dir / "run.json").read_text(encoding="utf-8"))
    figures = manifest["figures"]["customers"]
    assert figures["not_contacted"] == len(overdue)
    assert figures["groups"] == 2 and all(figures["tracked_by_segment"].values())
    page = openpyxl.load_workbook(example_run.out_dir / f"经理日报_{EXAMPLE_TODAY}.xlsx")["日报"]
    line = next(row for row in page.iter_rows(values_only=True) if row[0] == "客户久未联系")
    assert line[1] == f"{len(overdue)} 家" and "异地客户" in line[2]


def test_the_workbook_converts_to_pdf(example_book: Path, to_pdf: ToPdf) -> None:
    [pdf] = to_pdf(example_book)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
