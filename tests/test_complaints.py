"""Complaint cases worked out by hand on a small November 2026 folder of real workbooks: stable
投诉编号, one case for a call and a callback about one visit, every status, overdue after the limit
counted in working days, 投诉处理 and returned 投诉跟踪 sheets, and 投诉跟踪_D.xlsx itself (read back,
mailed, on the manager's page, and converted to PDF by LibreOffice).

The folder (节假日 2026-11-23, a Monday, set in 规则设置):
- C001: call T1 on 11-10, served by 张伟 on 11-11; complaint call T2 on 11-12 and a complaining
  callback the same day about T1: one case TS20261112-C001, closed on 11-16 as 客户原因.
- C002: complaint call T3 on Thursday 11-19, no visit: TS20261119-C002, nothing recorded.
  Working days after it: Fri 11-20, (weekend, holiday Mon 11-23) Tue 11-24, Wed 11-25, Thu 11-26.
- C003: two complaint calls on 11-24: TS20261124-C003 (an action recorded) and TS20261124-C003-2.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import openpyxl

from kis_batch import pipeline
from kis_batch.calendar import WorkCalendar
from kis_batch.delivery.plan import plan_messages
from kis_batch.ingest import load_folder
from kis_batch.outputs import COMPLAINTS_OUTPUT, MANAGER_OUTPUT
from kis_batch.problems import Code, Severity
from kis_batch.rules.complaints import ComplaintCases, complaint_cases
from kis_batch.rules.reconcile import reconcile
from kis_batch.rules.scoring import link_events, score_feedback
from tests.builders import CUSTOMER_HEADERS, STAFF_HEADERS, header_row, write_records, write_workbook
from tests.conftest import ToPdf

TODAY = dt.date(2026, 11, 26)  # a Thursday
HOLIDAY = dt.date(2026, 11, 23)
CLOSED, OVERDUE, PROGRESS, PENDING = "TS20261112-C001", "TS20261119-C002", "TS20261124-C003", "TS20261124-C003-2"


def _call(ticket: str, when: str, customer: str, category: str = "投诉", problem: str = "投诉服务") -> dict[str, Any]:
    return {"工单号": ticket, "来电时间": when, "客户编号": customer, "问题类别": category, "问题描述": problem,
            "处理方式": "电话已解决"}


def _handling(complaint_id: str, **filled: Any) -> dict[str, Any]:
    return {"投诉编号": complaint_id, "责任判定": None, "处理措施": None, "处理人": None, "结案日期": None,
            "客户确认": None, "备注": None, **filled}


def department(folder: Path, extra_calls: tuple[dict[str, Any], ...] = ()) -> Path:
    write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("E01", "张伟", "服务工程师", "西湖区", None, None, "e01@example.com", None, "是"),
            ("E02", "王强", "服务工程师", "滨江区", None, None, "e02@example.com", None, "是"),
            ("E05", "陈静", "服务监督热线", "上城区", None, None, "e05@example.com", None, "是"),
            ("E09", "李总", "服务部经理", "上城区", None, None, "e09@example.com", None, "是"),
        ]),
        "客户档案": (CUSTOMER_HEADERS, [
            ("C001", "甲公司", None, None, None, "西湖区", "张伟", "否"),
            ("C002", "乙公司", None, None, None, "滨江区", "王强", "否"),
            ("C003", "丙公司", None, None, None, "西湖区", "张伟", "否"),
            ("C004", "丁公司", None, None, None, "滨江区", "王强", "否"),
        ]),
        "规则设置": (("参数", "值", "说明"), [("节假日", HOLIDAY.isoformat(), None)]),
    })
    write_records(folder / "热线.xlsx", {"热线记录": [
        {**_call("T1", "2026-11-10 09:00", "C001", "软件故障", "过账报错"), "处理方式": "需上门"},
        _call("T2", "2026-11-12 10:00", "C001", problem="张伟态度不好"),
        _call("T3", "2026-11-19 14:00", "C002", problem="热线一直打不通"),
        _call("T4", "2026-11-24 09:00", "C003", problem="报价不清楚"),
        _call("T5", "2026-11-24 15:00", "C003", problem="发票迟迟未开"),
        *extra_calls,
    ]})
    write_records(folder / "反馈.xlsx", {"服务反馈单": [
        {"工单号": "T1", "服务日期": "2026-11-11", "服务代表": "张伟", "客户编号": "C001", "服务方式": "上门",
         "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00", "处理结果": "已解决", "客户满意度": "满意"},
    ]})
    write_records(folder / "回访.xlsx", {"回访记录": [
        {"回访日期": "2026-11-12", "客户编号": "C001", "回访类型": "满意度回访", "工单号": "T1", "服务代表": "张伟",
         "接通": "是", "上门属实": "不适用", "客户满意度": "不满意", "投诉": "是", "备注": "工程师态度差"},
    ]})
    write_records(folder / "投诉处理.xlsx", {"投诉处理": [
        _handling(CLOSED, 责任判定="客户原因", 处理措施="经理致电说明", 处理人="张伟", 结案日期="2026-11-16", 客户确认="是"),
        _handling(PROGRESS, 处理措施="已致电客户说明报价"),
    ]})
    return folder


def _cases(folder: Path, today: dt.date = TODAY) -> ComplaintCases:
    inbox = pipeline.check(folder, today)
    calendar = WorkCalendar.from_settings(inbox.settings)
    return complaint_cases(inbox.tables, link_events(inbox.tables, today), inbox.settings, calendar, today)


def _case_rows(path: Path, sheet: str) -> list[dict[str, Any]]:
    """A 投诉跟踪 sheet's rows by header."""
    ws = openpyxl.load_workbook(path)[sheet]
    top, headers = header_row(ws, "投诉编号")
    return [{h: ws.cell(r, c).value for h, c in headers.items()} for r in range(top + 1, ws.max_row + 1)
            if ws.cell(r, 1).value]


def test_a_call_and_a_callback_about_one_visit_are_one_case_and_two_calls_are_two(tmp_path: Path) -> None:
    cases = _cases(department(tmp_path))
    assert list(cases.cases["complaint_id"]) == [CLOSED, OVERDUE, PROGRESS, PENDING]
    first = cases.cases.iloc[0]
    assert first["source"] == "来电+回访" and first["staff"] == "E01" and first["filed"] == dt.date(2026, 11, 12)


def test_each_status_the_age_in_working_days_and_the_default_responsibility(tmp_path: Path) -> None:
    cases = _cases(department(tmp_path)).cases.set_index("complaint_id")
    assert cases.loc[CLOSED, ["status", "workdays", "overdue", "responsibility"]].tolist() == ["已结案", 2, False, "客户原因"]
    assert cases.loc[CLOSED, "handler_name"] == "张伟" and cases.loc[CLOSED, "closed_on"] == dt.date(2026, 11, 16)
    assert cases.loc[PROGRESS, ["status", "workdays", "overdue"]].tolist() == ["处理中", 2, False]
    assert cases.loc[PENDING, ["status", "workdays", "overdue"]].tolist() == ["待处理", 2, False]
    # Not judged: shown blank, counted as the department's.
    assert cases.loc[OVERDUE, "responsibility"] is None
    assert cases.loc[OVERDUE, "counted_responsibility"] == "本部门"


def test_overdue_on_the_fourth_working_day_over_a_weekend_and_a_holiday(tmp_path: Path) -> None:
    folder = department(tmp_path)
    day_before = _cases(folder, dt.date(2026, 11, 25)).cases.set_index("complaint_id").loc[OVERDUE]
    assert (day_before["workdays"], day_before["overdue"]) == (3, False)
    today = _cases(folder)
    case = today.cases.set_index("complaint_id").loc[OVERDUE]
    assert (case["workdays"], case["overdue"]) == (4, True)
    assert list(today.open["complaint_id"]) == [OVERDUE, PROGRESS, PENDING]  # overdue first
    assert today.figures["overdue_cases"] == (OVERDUE,)
    by_responsibility = today.by_responsibility.set_index("responsibility")
    assert by_responsibility.loc["本部门", ["filed", "unjudged", "open", "overdue", "closed"]].tolist() == [3, 3, 3, 1, 0]
    assert by_responsibility.loc["客户原因", ["filed", "unjudged", "open", "overdue", "closed"]].tolist() == [1, 0, 0, 0, 1]


def test_the_ties_checking_a_returned_sheet_are_the_ones_the_scores_stand_on(tmp_path: Path) -> None:
    """Reading's reconcile ties the complaints to their services to know the cases a returned 投诉处理
    sheet names; the day's scores reuse those ties, which are the ones tying them afresh gives."""
    inbox = load_folder(department(tmp_path), TODAY)
    links = reconcile(inbox)
    assert links is not None and links.complaints and links == link_events(inbox.tables, TODAY)
    calendar = WorkCalendar.from_settings(inbox.settings)
    reused = score_feedback(inbox.tables, inbox.settings, calendar, TODAY, links)
    assert reused.rows.equals(score_feedback(inbox.tables, inbox.settings, calendar, TODAY).rows)


def test_case_numbers_stay_across_reruns_and_an_unrelated_complaint(tmp_path: Path) -> None:
    before = list(_cases(department(tmp_path / "a")).cases["complaint_id"])
    assert list(_cases(tmp_path / "a").cases["complaint_id"]) == before
    # Earlier the same day by another customer, and the next day by the same customer (C002 has no
    # visit to tie both to, so they are two cases): nothing renumbers.
    more = (_call("T6", "2026-11-12 08:30", "C004"), _call("T7", "2026-11-20 11:00", "C002"))
    after = list(_cases(department(tmp_path / "b", more)).cases["complaint_id"])
    assert after == ["TS20261112-C004", CLOSED, OVERDUE, "TS20261120-C002", PROGRESS, PENDING]


def test_a_returned_sheet_closes_a_case_and_reads_back_without_a_word(tmp_path: Path) -> None:
    inbox, out = department(tmp_path / "in"), tmp_path / "out"
    first = pipeline.run(inbox, TODAY, out)
    assert first.inbox.problems == [] and first.figures.complaints.overdue == 1
    book_path = out / TODAY.isoformat() / COMPLAINTS_OUTPUT.file_name(TODAY)
    book = openpyxl.load_workbook(book_path)
    sheet = book["未结案"]
    top, headers = header_row(sheet, "投诉编号")
    assert sheet.cell(top + 1, headers["投诉编号"]).value == OVERDUE
    assert sheet.cell(top + 1, headers["超期"]).value == "是"
    for header, value in (("责任判定", "本部门"), ("处理措施", "开通第二条热线并致歉"), ("处理人", "王强"),
                          ("结案日期", dt.datetime(2026, 11, 26)), ("客户确认", "是")):
        sheet.cell(top + 1, headers[header]).value = value
    book.save(inbox / "投诉跟踪_返回.xlsx")

    second = pipeline.run(inbox, TODAY, out)
    assert second.inbox.problems == []
    figures = second.figures.complaints
    assert (figures.open, figures.overdue, figures.closed_month) == (2, 0, 2)
    assert figures.by_responsibility == {"department": 3, "headquarters": 0, "customer": 1, "other": 0}
    closed = {r["投诉编号"]: r for r in _case_rows(book_path, "本月已结案")}
    assert closed[OVERDUE]["状态"] == "已结案" and closed[OVERDUE]["处理人"] == "王强"
    assert closed[OVERDUE]["已过工作日"] == 4 and closed[OVERDUE]["超期"] == "否"
    assert closed[CLOSED]["责任判定"] == "客户原因"  # the earlier record, carried on the returned sheet, unchanged
    assert [r["投诉编号"] for r in _case_rows(book_path, "未结案")] == [PROGRESS, PENDING]


def test_of_two_returns_the_later_closing_date_wins_whichever_is_read_last(tmp_path: Path) -> None:
    folder = department(tmp_path)
    write_records(folder / "a_后结案.xlsx", {"投诉处理": [_handling(OVERDUE, 处理措施="第二次处理", 结案日期="2026-11-25")]})
    write_records(folder / "b_先结案.xlsx", {"投诉处理": [_handling(OVERDUE, 处理措施="第一次处理", 结案日期="2026-11-20")]})
    case = _cases(folder).cases.set_index("complaint_id").loc[OVERDUE]
    assert (case["status"], case["closed_on"], case["action"], case["workdays"]) == (
        "已结案", dt.date(2026, 11, 25), "第二次处理", 3)
    counts = {f.path: (f.rows_read, f.rows_accepted, f.rows_rejected, f.rows_repeated)
              for f in pipeline.check(folder, TODAY).files}
    assert counts["a_后结案.xlsx"] == (1, 1, 0, 0) and counts["b_先结案.xlsx"] == (1, 0, 0, 1)


def test_an_unknown_case_number_and_a_future_closing_date_are_errors_at_their_cells(tmp_path: Path) -> None:
    folder = department(tmp_path)
    write_records(folder / "处理.xlsx", {"投诉处理": [
        _handling(OVERDUE, 处理措施="已回电", 结案日期="2026-11-30"),
        _handling("TS20261119-C099", 处理措施="不存在的案件"),
    ]})
    inbox = pipeline.check(folder, TODAY)
    found = [(p.file, p.sheet, p.row, p.column, p.header, p.value, p.severity, p.code) for p in inbox.problems]
    assert found == [
        ("处理.xlsx", "投诉处理", 2, "E", "结案日期", "2026-11-30", Severity.ERROR, Code.FUTURE_DATE),
        ("处理.xlsx", "投诉处理", 3, "A", "投诉编号", "TS20261119-C099", Severity.ERROR, Code.UNKNOWN_REFERENCE),
    ]
    record = next(f for f in inbox.files if f.path == "处理.xlsx")
    assert (record.rows_read, record.rows_accepted, record.rows_rejected) == (2, 1, 1)
    case = _cases(folder).cases.set_index("complaint_id").loc[OVERDUE]
    assert (case["status"], case["action"], case["closed_on"]) == ("处理中", "已回电", None)


def test_the_manager_and_the_hotline_get_the_workbook_and_the_page_names_the_overdue(tmp_path: Path) -> None:
    inbox, out = department(tmp_path / "in"), tmp_path / "out"
    result = pipeline.run(inbox, TODAY, out)
    day = out / TODAY.isoformat()
    plan = plan_messages(day, result.inbox.tables["staff"], result.inbox.settings)
    attached = {m.name: [a.name for a in m.attachments] for m in plan.messages}
    assert COMPLAINTS_OUTPUT.file_name(TODAY) in attached["李总"] and COMPLAINTS_OUTPUT.file_name(TODAY) in attached["陈静"]
    assert COMPLAINTS_OUTPUT.file_name(TODAY) not in attached["张伟"]
    page = openpyxl.load_workbook(day / MANAGER_OUTPUT.file_name(TODAY))["日报"]
    lines = {row[0]: row[1:] for row in page.iter_rows(min_row=4, max_col=3, values_only=True) if row[0]}
    assert lines["投诉案件"][0] == "未结案 3 起，超期 1 起"
    assert lines["上报总经理"][0] == "1 起超期投诉"
    assert lines["上报总经理"][1].startswith(f"{OVERDUE} 乙公司（被投诉人 王强，已过 4 个工作日，待处理）")


def test_the_workbook_opens_in_libreoffice(tmp_path: Path, to_pdf: ToPdf) -> None:
    out = tmp_path / "out"
    pipeline.run(department(tmp_path / "in"), TODAY, out)
    [pdf] = to_pdf(out / TODAY.isoformat() / COMPLAINTS_OUTPUT.file_name(TODAY))
    assert pdf.stat().st_size > 10_000


def _returned_closed_sheet(folder: Path, out: Path, edits: dict[str, Any], name: str) -> Path:
    """Run, then the 本月已结案 row of the closed case edited as the hotline would and dropped back."""
    pipeline.run(folder, TODAY, out)
    book = openpyxl.load_workbook(out / TODAY.isoformat() / COMPLAINTS_OUTPUT.file_name(TODAY))
    sheet = book["本月已结案"]
    top, headers = header_row(sheet, "投诉编号")
    row = next(r for r in range(top + 1, sheet.max_row + 1) if sheet.cell(r, headers["投诉编号"]).value == CLOSED)
    for header, value in edits.items():
        sheet.cell(row, headers[header]).value = value
    book.save(folder / name)
    return folder / name


def test_a_returned_sheet_that_clears_the_closing_date_reopens_the_case_and_keeps_its_note(tmp_path: Path) -> None:
    folder, out = department(tmp_path / "in"), tmp_path / "out"
    note = "客户再次来电，问题依旧"
    _returned_closed_sheet(folder, out, {"结案日期": None, "客户确认": "否", "备注": note}, "投诉跟踪_返回.xlsx")
    result = pipeline.run(folder, TODAY, out)
    assert result.inbox.problems == []
    cases = _cases(folder).cases.set_index("complaint_id")
    assert cases.loc[CLOSED, ["status", "reopened", "closed_on", "notes"]].tolist() == ["处理中", 1, None, note]
    # Counted again from the reopening (the returned sheet's D), not from the first record.
    assert (cases.loc[CLOSED, "workdays"], cases.loc[CLOSED, "overdue"]) == (0, False)
    book = out / TODAY.isoformat() / COMPLAINTS_OUTPUT.file_name(TODAY)
    reopened = {r["投诉编号"]: r for r in _case_rows(book, "未结案")}[CLOSED]
    assert (reopened["状态"], reopened["重开次数"], reopened["备注"]) == ("处理中", 1, note)
    page = openpyxl.load_workbook(out / TODAY.isoformat() / MANAGER_OUTPUT.file_name(TODAY))["日报"]
    lines = {row[0]: row[1:] for row in page.iter_rows(min_row=4, max_col=3, values_only=True) if row[0]}
    assert lines["投诉重开"][0] == "1 起已结案的投诉重开"
    assert lines["投诉重开"][1] == f"{CLOSED} 甲公司（重开 1 次，{note}）"


def test_customer_rejection_alone_reopens_a_closed_case(tmp_path: Path) -> None:
    folder, out = department(tmp_path / "in"), tmp_path / "out"
    _returned_closed_sheet(folder, out, {"客户确认": "否"}, "投诉跟踪_返回.xlsx")
    case = _cases(folder).cases.set_index("complaint_id").loc[CLOSED]
    assert (case["status"], case["reopened"]) == ("处理中", 1)


def test_a_correction_in_a_subfolder_wins_when_it_is_newer_whatever_the_path(tmp_path: Path) -> None:
    folder = department(tmp_path)
    (folder / "1128").mkdir()
    correction = write_records(folder / "1128" / "投诉处理.xlsx", {"投诉处理": [
        _handling(CLOSED, 责任判定="本部门", 处理措施="经理致电说明", 处理人="张伟", 结案日期="2026-11-16", 客户确认="是"),
    ]})
    original = folder / "投诉处理.xlsx"
    os.utime(original, (1_700_000_000, 1_700_000_000))
    os.utime(correction, (1_700_000_100, 1_700_000_100))
    assert _cases(folder).cases.set_index("complaint_id").loc[CLOSED, "responsibility"] == "本部门"
    os.utime(original, (1_700_000_200, 1_700_000_200))  # the top file saved after the subfolder's
    assert _cases(folder).cases.set_index("complaint_id").loc[CLOSED, "responsibility"] == "客户原因"


def test_two_rows_of_one_sheet_that_disagree_are_a_conflict_naming_both(tmp_path: Path) -> None:
    folder = department(tmp_path)
    write_records(folder / "处理.xlsx", {"投诉处理": [
        _handling(OVERDUE, 责任判定="本部门", 处理措施="致歉"),
        _handling(OVERDUE, 责任判定="总部", 处理措施="致歉"),
    ]})
    inbox = pipeline.check(folder, TODAY)
    found = [(p.file, p.row, p.header, p.severity, p.code) for p in inbox.problems]
    assert found == [("处理.xlsx", 2, "投诉编号", Severity.ERROR, Code.CONFLICT),
                     ("处理.xlsx", 3, "投诉编号", Severity.ERROR, Code.CONFLICT)]
    assert "处理.xlsx / 投诉处理 第2行；处理.xlsx / 投诉处理 第3行" in inbox.problems[0].message
    case = _cases(folder).cases.set_index("complaint_id").loc[OVERDUE]
    assert (case["status"], case["responsibility"], case["action"]) == ("冲突", None, None)
    record = next(f for f in inbox.files if f.path == "处理.xlsx")
    assert (record.rows_read, record.rows_accepted, record.rows_rejected, record.rows_repeated) == (2, 0, 2, 0)


def test_a_closing_date_before_the_case_was_filed_is_an_error_at_its_cell(tmp_path: Path) -> None:
    folder = department(tmp_path)
    write_records(folder / "处理.xlsx", {"投诉处理": [_handling(PROGRESS, 处理措施="已回电", 结案日期="2026-11-16")]})
    inbox = pipeline.check(folder, TODAY)
    assert [(p.file, p.row, p.column, p.header, p.value, p.code) for p in inbox.problems] == [
        ("处理.xlsx", 2, "E", "结案日期", "2026-11-16", Code.CONSTRAINT)]
    case = _cases(folder).cases.set_index("complaint_id").loc[PROGRESS]
    assert (case["status"], case["action"], case["closed_on"]) == ("处理中", "已回电", None)


def test_an_unknown_handler_is_an_error_at_its_cell_and_the_judgement_still_counts(tmp_path: Path) -> None:
    folder = department(tmp_path)
    write_records(folder / "处理.xlsx", {"投诉处理": [
        _handling(OVERDUE, 责任判定="客户原因", 处理措施="总部回电", 处理人="总部刘工", 结案日期="2026-11-26")]})
    inbox = pipeline.check(folder, TODAY)
    assert [(p.file, p.row, p.header, p.value, p.severity) for p in inbox.problems] == [
        ("处理.xlsx", 2, "处理人", "总部刘工", Severity.ERROR)]
    assert "其余内容照常采用" in inbox.problems[0].message
    case = _cases(folder).cases.set_index("complaint_id").loc[OVERDUE]
    assert (case["status"], case["responsibility"], case["handler"]) == ("已结案", "客户原因", None)


def test_a_statement_carried_from_a_closed_month_still_outweighs_an_older_one_left_in_the_folder(
        tmp_path: Path) -> None:
    folder, out = department(tmp_path / "in"), tmp_path / "out"
    note = "客户再次来电，问题依旧"
    returned = _returned_closed_sheet(folder, out, {"结案日期": None, "客户确认": "否", "备注": note}, "投诉跟踪_返回.xlsx")
    assert pipeline.run(folder, dt.date(2026, 12, 1), out).figures.closed_month == "2026-11"
    returned.unlink()  # November is closed: its returned sheet may leave the folder
    later = dt.date(2026, 12, 2)
    december = pipeline.run(folder, later, out)
    assert december.carried_rows and december.inbox.problems == []
    # 投诉处理.xlsx still says the case closed on 11-16; the carried 11-26 statement reopening it is newer.
    case = complaint_cases(december.inbox.tables, link_events(december.inbox.tables, later), december.inbox.settings,
                           WorkCalendar.from_settings(december.inbox.settings), later).cases.set_index(
                               "complaint_id").loc[CLOSED]
    assert (case["status"], case["reopened"], case["closed_on"], case["notes"]) == ("处理中", 1, None, note)
