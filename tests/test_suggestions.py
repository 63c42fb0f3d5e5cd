"""Suggested customer visits, worked out by hand on November 2026 (21 working days), and the loop: a
suggested row on the printed sheet, filled in and dropped back, is a 客户拜访 that counts.

D = Friday 20 November: 15 working days elapsed, P = Monday 23rd. Visits quota 15, pace 15 × 15 ÷ 21
= 10.71, six working days left. Eight visits is 落后 (gap 7, two a day needed); eleven is 正常.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from kis_batch import pipeline
from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import Inbox, load_folder
from kis_batch.outputs import DISPATCH_OUTPUT, PERSON_DISPATCH_OUTPUT
from kis_batch.problems import Severity
from kis_batch.rules.dispatch import DispatchResult, plan_dispatch
from kis_batch.rules.fees import fee_status
from kis_batch.rules.quotas import quota_gaps
from kis_batch.rules.scoring import score_feedback
from kis_batch.rules.suggestions import SUGGESTED, suggest_visits
from tests.builders import header_row, write_dispatch_books, write_records
from tests.conftest import ToPdf

CALENDAR = WorkCalendar()
TODAY, PLAN = dt.date(2026, 11, 20), dt.date(2026, 11, 23)
ELAPSED = CALENDAR.workdays(dt.date(2026, 11, 1), TODAY)

# 工号, 姓名, 每日上限, this month's visits (to customers 1–n of their letter, all their own)
ENGINEERS = (
    ("E01", "张伟", 7, "F", 8),  # 落后, one ticket, room 6
    ("E02", "王强", None, "G", 11),  # 正常: nothing suggested
    ("E03", "李娜", None, "H", 8),  # 落后 but three tickets fill her cap of 3
    ("E04", "赵敏", None, "K", 8),  # 落后 but on leave on P
    ("E05", "陈静", 1, "L", 8),  # 无法达标 (two a day needed, cap 1): behind too, room 1
)


def visit(day: dt.date | str, staff: str, customer: str, result: str | None = "已解决") -> dict[str, Any]:
    return {"服务日期": str(day), "服务代表": staff, "客户编号": customer, "服务类型": "客户拜访", "服务方式": "上门",
            "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00", "处理结果": result, "客户满意度": "满意"}


def month_folder(folder: Path) -> Path:
    staff = [{"工号": sid, "姓名": name, "岗位": "服务工程师", "区域": "西湖区", "每日上限": cap, "在岗": "是"}
             for sid, name, cap, _, _ in ENGINEERS]
    customers: list[dict[str, Any]] = []
    feedback: list[dict[str, Any]] = []
    for sid, _, _, letter, visits in ENGINEERS:
        # Customers 1..visits were visited this month; one more was not.
        for n in range(1, visits + 2):
            customers.append({"客户编号": f"{letter}{n:02d}", "客户名称": f"{letter}{n:02d}公司", "区域": "西湖区",
                              "服务代表": sid})
            if n <= visits:
                feedback.append(visit(ELAPSED[n - 1], sid, f"{letter}{n:02d}"))
    # 张伟's other customers: A02/A03 renew within the 60-day window, A04/A06 were last visited in
    # September/October, A05 and A08 never (A05's visit this month is not done yet), A07 has a ticket.
    customers += [{"客户编号": f"A{n:02d}", "客户名称": f"A{n:02d}公司", "联系电话": f"05718800{n:04d}",
                   "区域": "西湖区", "服务代表": "张伟"} for n in range(2, 9)]
    feedback += [visit("2026-09-03", "E01", "A04"), visit("2026-10-15", "E01", "A06"),
                 visit("2026-08-03", "E02", "A02"),
                 {**visit("2026-11-18", "E01", "A05", result=None), "到达时间": None, "离开时间": None}]
    fees = [
        {"合同编号": "N-A02", "客户编号": "A02", "服务开始": "2025-12-21", "服务到期": "2026-12-20", "年费金额": 3000,
         "已收金额": 3000},
        {"合同编号": "N-A03", "客户编号": "A03", "服务开始": "2025-12-06", "服务到期": "2026-12-05", "年费金额": 2000,
         "已收金额": 2000},
        # Lapsed (已过期未续): the chase list's business, no priority for a visit.
        {"合同编号": "N-A06", "客户编号": "A06", "服务开始": "2025-11-01", "服务到期": "2026-10-31", "年费金额": 2000,
         "已收金额": 2000},
        # Expires beyond the window: not 待续费.
        {"合同编号": "N-A08", "客户编号": "A08", "服务开始": "2026-03-02", "服务到期": "2027-03-01", "年费金额": 2000,
         "已收金额": 2000},
    ]
    calls = [{"工单号": f"T{n}", "来电时间": "2026-11-20 09:00", "客户编号": customer, "问题类别": "软件故障",
              "问题描述": "过账报错", "处理方式": "需上门"}
             for n, customer in enumerate(("A07", "H01", "H02", "H03"), start=1)]
    write_records(folder / "基础资料.xlsx", {
        "员工名单": staff, "客户档案": customers,
        "请假": [{"工号": "E04", "开始日期": "2026-11-23", "结束日期": "2026-11-24", "原因": "年假"}],
    })
    write_records(folder / "反馈.xlsx", {"服务反馈单": feedback})
    write_records(folder / "年费.xlsx", {"年费台账": fees})
    write_records(folder / "热线.xlsx", {"热线记录": calls})
    return folder


def errors(inbox: Inbox) -> list[Any]:
    return [p for p in inbox.problems if p.severity is Severity.ERROR]


def compute(folder: Path, today: dt.date) -> tuple[Inbox, DispatchResult, pd.DataFrame, pd.DataFrame]:
    """The day's steps as the pipeline sequences them, up to the suggestions."""
    inbox = load_folder(folder, today)
    assert errors(inbox) == []
    dispatch = plan_dispatch(inbox.tables, inbox.settings, CALENDAR, today)
    gaps = quota_gaps(score_feedback(inbox.tables, inbox.settings, CALENDAR, today), inbox.tables, inbox.settings,
                      CALENDAR)
    fees = fee_status(inbox.tables, inbox.settings, today, dispatch.plan_date)
    return inbox, dispatch, gaps, suggest_visits(inbox.tables, dispatch, gaps, fees, today)


def suggested(suggestions: pd.DataFrame, staff_id: str) -> list[str]:
    return suggestions[suggestions["assignee"] == staff_id]["customer_id"].tolist()


def test_the_hand_figures() -> None:
    assert len(ELAPSED) == 15 and len(CALENDAR.month_workdays(TODAY)) == 21
    assert CALENDAR.next_workday(TODAY) == PLAN


def test_behind_with_room_gets_renewals_first_then_the_longest_unvisited(tmp_path: Path) -> None:
    _, dispatch, gaps, suggestions = compute(month_folder(tmp_path), TODAY)
    status = dict(zip(gaps["staff_id"], gaps["visits_status"], strict=True))
    assert status == {"E01": "落后", "E02": "正常", "E03": "落后", "E04": "落后", "E05": "无法达标"}
    assert dispatch.assignments.groupby("assignee").size().to_dict() == {"E01": 1, "E03": 3}

    # 张伟: cap 7 − 1 ticket = room 6. Renewals A03 (12-05) then A02 (12-20); never visited A05, A08,
    # F09 by id (A05's blank row is not a visit); then A04 (09-03) before A06 (10-15), which has no
    # room. F01–F08 were visited this month and A07 is dispatched.
    assert suggested(suggestions, "E01") == ["A03", "A02", "A05", "A08", "F09", "A04"]
    reasons = dict(zip(suggestions["customer_id"], suggestions["reason"], strict=True))
    assert reasons["A03"] == "本月拜访 8/15 落后，年费 2026-12-05 到期待续费"
    assert reasons["A02"] == "本月拜访 8/15 落后，年费 2026-12-20 到期待续费"
    assert reasons["A05"] == "本月拜访 8/15 落后，从未拜访"
    assert reasons["A04"] == "本月拜访 8/15 落后，最近一次拜访 2026-09-03"
    # 陈静 cannot make it any more (无法达标) but still has room for one.
    assert suggested(suggestions, "E05") == ["L09"]
    assert reasons["L09"] == "本月拜访 8/15 无法达标，从未拜访"

    # On track (王强), no room (李娜), on leave on P (赵敏): nothing.
    assert set(suggestions["assignee"]) == {"E01", "E05"}
    first = suggestions.iloc[0]
    assert (first["assignee_name"], first["kind"], first["service_type"], first["rank"]) == ("张伟", SUGGESTED, "客户拜访", 1)
    assert (first["customer_name"], first["phone"], first["owner_name"]) == ("A03公司", "057188000003", "张伟")


def sheet_rows(sheet: Any) -> list[dict[str, Any]]:
    top, columns = header_row(sheet, "客户编号")
    return [{header: sheet.cell(row, column).value for header, column in columns.items()}
            for row in range(top + 1, sheet.max_row + 1)]


def test_the_loop_a_suggested_visit_filled_in_counts_the_next_day(tmp_path: Path) -> None:
    folder, out = month_folder(tmp_path / "in"), tmp_path / "out"
    result = pipeline.run(folder, TODAY, out)
    assert result.errors == 0
    assert result.figures.suggested_visits.to_json() == {"count": 7, "per_person": {"张伟": 6, "陈静": 1}}

    day_dir = out / TODAY.isoformat()
    overview = openpyxl.load_workbook(day_dir / DISPATCH_OUTPUT.file_name(PLAN))
    assert overview.sheetnames == ["总览", "张伟", "李娜", "陈静", "未派"]
    listed = [(r["派给"], r["类别"], r["客户编号"]) for r in sheet_rows(overview["总览"])]
    assert listed == [("张伟", "派工", "A07"), *(("张伟", SUGGESTED, c) for c in ("A03", "A02", "A05", "A08", "F09", "A04")),
                      *(("李娜", "派工", c) for c in ("H01", "H02", "H03")), ("陈静", SUGGESTED, "L09")]

    # 陈静 has no ticket but gets her own sheet for the suggested visit.
    assert (day_dir / PERSON_DISPATCH_OUTPUT.file_name(PLAN, "陈静")).is_file()
    path = day_dir / PERSON_DISPATCH_OUTPUT.file_name(PLAN, "张伟")
    book = openpyxl.load_workbook(path)
    sheet = book.active
    assert "另建议拜访6家" in sheet["A1"].value
    rows = sheet_rows(sheet)
    assert [r["类别"] for r in rows] == ["派工", *[SUGGESTED] * 6]
    a03 = rows[1]
    assert (a03["客户编号"], a03["工单号"], a03["服务类型"], a03["派给"]) == ("A03", None, "客户拜访", "张伟")
    assert a03["服务日期"] == dt.datetime(2026, 11, 23) and a03["报修问题"].endswith("到期待续费")
    assert a03["处理结果"] is None and a03["路线顺序"] is None
    rules = [rule.formula[0] for rng in sheet.conditional_formatting for rule in rng.rules]
    assert any(SUGGESTED in formula for formula in rules)

    # 张伟 visits A03 and fills its row in; the rest stays blank. Both workbooks go back in the folder.
    top, columns = header_row(sheet, "客户编号")
    filled = {"处理结果": "已解决", "到达时间": "9:30", "离开时间": "10:30", "电话预约": "是", "客户满意度": "满意"}
    for header, value in filled.items():
        sheet.cell(top + 2, columns[header]).value = value
    book.save(folder / "张伟反馈1123.xlsx")
    shutil.copy(day_dir / DISPATCH_OUTPUT.file_name(PLAN), folder)

    inbox, _, gaps, suggestions = compute(folder, PLAN)
    feedback = inbox.tables["feedback"]
    back = feedback[(feedback["customer_id"] == "A03") & (feedback["service_date"] == PLAN)]
    assert len(back) == 1
    row = back.iloc[0]
    assert (row["ticket_id"], row["staff"], row["service_type"], row["result"]) == (None, "E01", "客户拜访", "已解决")
    assert gaps.set_index("staff_id").loc["E01", "visits_done"] == 9
    # Visited this month now, so not suggested again; A06 moves up into the room.
    assert suggested(suggestions, "E01") == ["A02", "A05", "A08", "F09", "A04", "A06"]


def test_without_suggestions_the_sheets_are_as_before(tmp_path: Path) -> None:
    inbox, dispatch, _, _ = compute(month_folder(tmp_path / "in"), TODAY)
    written: list[Path] = []
    write_dispatch_books(tmp_path / "out", dispatch, inbox.tables, written)
    assert sorted(p.name for p in written) == ["派工单_2026-11-23.xlsx", "派工单_2026-11-23_张伟.xlsx",
                                               "派工单_2026-11-23_李娜.xlsx"]
    kinds = {r["类别"] for r in sheet_rows(openpyxl.load_workbook(written[0])["总览"])}
    assert kinds == {"派工"}


def test_a_sheet_with_suggestions_converts_to_pdf(tmp_path: Path, to_pdf: ToPdf) -> None:
    inbox, dispatch, _, suggestions = compute(month_folder(tmp_path / "in"), TODAY)
    written: list[Path] = []
    write_dispatch_books(tmp_path / "out", dispatch, inbox.tables, written, suggestions)
    [pdf] = to_pdf(tmp_path / "out" / PERSON_DISPATCH_OUTPUT.file_name(PLAN, "张伟"))
    assert pdf.read_bytes().startswith(b"%PDF")
