"""Mistakes office clerks make in the example month, one per test: each is reproduced on a copy of
the example folder with openpyxl, and the report row (file, sheet, Excel row, column, severity) is
asserted together with the figures that must not move (docs/rules.md § Bad input)."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from kis_batch import pipeline
from kis_batch.ingest import Inbox, load_folder
from kis_batch.problems import Code, Problem, Severity

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
TODAY = dt.date(2026, 11, 27)
CALL_LOG = "热线记录_2026-11-27.xlsx"
FEEDBACK = "服务反馈单_郭伟_2026-11-27.xlsx"  # a title row, headers on row 2
STAFF = "员工名单.xlsx"
CUSTOMERS = "客户档案.xlsx"


@pytest.fixture(scope="module")
def clean() -> Inbox:
    """The example month as shipped: no problems at all."""
    inbox = load_folder(EXAMPLE, TODAY)
    assert inbox.problems == []
    return inbox


def _copy(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    return folder


def _edit(path: Path, change) -> None:
    book = openpyxl.load_workbook(path)
    change(book.worksheets[0])
    book.save(path)


def _column_of(sheet, header: str, row: int = 1) -> int:
    return next(cell.column for cell in sheet[row] if cell.value == header)


def _where(problems: list[Problem]) -> list[tuple]:
    return [(p.file, p.sheet, p.row, p.column, p.header, p.severity, p.code) for p in problems]


def _same_rows(a: Inbox, b: Inbox, key: str, columns: list[str]) -> None:
    left, right = a.tables[key], b.tables[key]
    assert len(left) == len(right)
    assert left[columns].equals(right[columns])


# Headers --------------------------------------------------------------------------------------

def test_an_unknown_header_is_named_with_the_column_it_likely_means(tmp_path, clean):
    folder = _copy(tmp_path)
    _edit(folder / CALL_LOG, lambda s: s.cell(1, _column_of(s, "处理方式"), "处理方法"))
    inbox = load_folder(folder, TODAY)
    unmapped = [p for p in inbox.problems if p.code is Code.UNMAPPED_COLUMN]
    assert _where(unmapped) == [(CALL_LOG, "热线记录", 1, "I", "处理方法", Severity.WARNING, Code.UNMAPPED_COLUMN)]
    assert "“处理方式”" in unmapped[0].message
    missing = [p for p in inbox.problems if p.code is Code.MISSING_COLUMN]
    assert _where(missing) == [(CALL_LOG, "热线记录", 1, "", "处理方式", Severity.WARNING, Code.MISSING_COLUMN)]
    assert "不会派工" in missing[0].message
    assert len(inbox.problems) == 2
    # The rows themselves are all still read; only that column is lost, and said so.
    assert len(inbox.tables["calls"]) == len(clean.tables["calls"])


def test_a_results_column_under_another_name_is_named(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / FEEDBACK, lambda s: s.cell(2, _column_of(s, "处理结果", 2), "处理情况"))
    inbox = load_folder(folder, TODAY)
    unmapped = [p for p in inbox.problems if p.code is Code.UNMAPPED_COLUMN]
    assert _where(unmapped) == [(FEEDBACK, "服务反馈单", 2, "J", "处理情况", Severity.WARNING, Code.UNMAPPED_COLUMN)]
    assert "“处理结果”" in unmapped[0].message


def test_a_header_with_a_bracketed_hint_or_unit_maps_to_its_column(tmp_path, clean):
    folder = _copy(tmp_path)
    _edit(folder / CALL_LOG, lambda s: s.cell(1, _column_of(s, "严重性"), "严重性（高/中/低）"))
    _edit(folder / CALL_LOG, lambda s: s.cell(1, _column_of(s, "紧急性"), "紧急性[紧急/一般/不急]"))
    inbox = load_folder(folder, TODAY)
    assert inbox.problems == []
    _same_rows(inbox, clean, "calls", ["ticket_id", "severity", "urgency"])
    assert set(inbox.tables["calls"]["severity"]) == {"高", "中", "低"}


def test_a_two_level_header_with_merged_upper_cells_reads_its_lowest_cells(tmp_path, clean):
    folder = _copy(tmp_path)

    def two_levels(sheet) -> None:
        arrive = _column_of(sheet, "到达时间", 2)
        sheet.insert_rows(3)
        for cell in sheet[2]:
            if cell.column not in (arrive, arrive + 1):
                sheet.merge_cells(start_row=2, start_column=cell.column, end_row=3, end_column=cell.column)
        sheet.cell(3, arrive, "到达")
        sheet.cell(3, arrive + 1, "离开")
        sheet.cell(2, arrive, "上门时间")
        sheet.cell(2, arrive + 1, None)
        sheet.merge_cells(start_row=2, start_column=arrive, end_row=2, end_column=arrive + 1)

    _edit(folder / FEEDBACK, two_levels)
    inbox = load_folder(folder, TODAY)
    assert inbox.problems == []
    mine = inbox.tables["feedback"][inbox.tables["feedback"]["_file"] == FEEDBACK]
    before = clean.tables["feedback"][clean.tables["feedback"]["_file"] == FEEDBACK]
    assert len(mine) == len(before) > 0
    assert mine[["arrive", "leave", "result"]].reset_index(drop=True).equals(
        before[["arrive", "leave", "result"]].reset_index(drop=True))
    assert list(mine["_row"]) == [row + 1 for row in before["_row"]]  # rows as Excel shows them now


def test_a_clerks_own_summary_sheet_is_a_warning_and_the_run_exits_clean(tmp_path):
    folder = _copy(tmp_path)
    book = openpyxl.load_workbook(folder / FEEDBACK)
    summary = book.create_sheet("汇总")
    summary.append(["服务代表", "客户编号", "处理结果", "家次"])
    summary.append(["郭伟", "合计", "已解决", 3])
    book.save(folder / FEEDBACK)
    result = pipeline.run(folder, TODAY, tmp_path / "out")
    problems = [p for p in result.inbox.problems if p.sheet == "汇总"]
    assert [(p.file, p.row, p.severity, p.code) for p in problems] == [
        (FEEDBACK, 1, Severity.WARNING, Code.MISSING_COLUMN)]
    assert result.exit_code == 0


# Cells ----------------------------------------------------------------------------------------

def test_a_bad_optional_cell_keeps_the_engineer_and_his_customers(tmp_path, clean):
    folder = _copy(tmp_path)

    def bad_cap(sheet) -> None:
        sheet.cell(6, _column_of(sheet, "每日上限"), "三")
        sheet.cell(7, _column_of(sheet, "在岗"), "在职")

    _edit(folder / STAFF, bad_cap)
    inbox = load_folder(folder, TODAY)
    assert _where(inbox.problems) == [(STAFF, "员工名单", 6, "I", "每日上限", Severity.ERROR, Code.TYPE)]
    assert "按留空处理" in inbox.problems[0].message and "本行其余内容照常使用" in inbox.problems[0].message
    _same_rows(inbox, clean, "staff", ["staff_id", "name", "active"])
    _same_rows(inbox, clean, "customers", ["customer_id", "owner"])
    _same_rows(inbox, clean, "fees", ["contract_id", "owner"])
    row = inbox.tables["staff"][inbox.tables["staff"]["_row"] == 6].iloc[0]
    assert row["daily_cap"] is None  # the rule's cap applies, as for a blank cell


def test_left_staff_typed_as_a_word_is_read(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / STAFF, lambda s: s.cell(13, _column_of(s, "在岗"), "离职"))
    inbox = load_folder(folder, TODAY)
    assert inbox.problems == []
    assert inbox.tables["staff"].set_index("_row").loc[13, "active"] is False


def test_two_staff_of_one_name_are_both_kept_and_the_name_alone_is_an_error_where_used(tmp_path, clean):
    folder = _copy(tmp_path)
    staff = clean.tables["staff"]
    engineer = staff[staff["role"] == "服务工程师"].iloc[0]
    _edit(folder / STAFF, lambda s: s.append(["E99", engineer["name"], "实施专员", "西湖区", None, None, None, None, None, "是"]))
    inbox = load_folder(folder, TODAY)
    roster = [p for p in inbox.problems if p.file == STAFF]
    assert [(p.row, p.column, p.severity) for p in roster] == [
        (int(engineer["_row"]), "B", Severity.WARNING), (staff["_row"].max() + 1, "B", Severity.WARNING)]
    assert len(inbox.tables["staff"]) == len(staff) + 1
    # Customers naming him by 姓名 are refused at that cell; those naming him by 工号 still resolve.
    customers = openpyxl.load_workbook(EXAMPLE / CUSTOMERS).worksheets[0]
    owner_column = _column_of(customers, "服务代表")
    by_name = [row[0].row for row in customers.iter_rows(min_row=2) if row[owner_column - 1].value == engineer["name"]]
    refused = [p for p in inbox.problems if p.file == CUSTOMERS]
    assert by_name and [p.row for p in refused] == by_name
    assert all(p.column == "I" and p.severity is Severity.ERROR and "同名" in p.message and engineer["staff_id"] in p.message
               for p in refused)


def test_a_row_naming_a_rejected_master_row_says_which_row_and_why(tmp_path, clean):
    folder = _copy(tmp_path)
    staff = clean.tables["staff"]
    engineer = staff[staff["role"] == "服务工程师"].iloc[0]
    row = int(engineer["_row"])

    def blank_role(sheet) -> None:
        sheet.cell(row, _column_of(sheet, "岗位")).value = None  # a required cell left blank

    _edit(folder / STAFF, blank_role)
    inbox = load_folder(folder, TODAY)
    own = [p for p in inbox.problems if p.file == STAFF]
    assert _where(own) == [(STAFF, "员工名单", row, "C", "岗位", Severity.ERROR, Code.REQUIRED)]
    followers = [p for p in inbox.problems if p.file != STAFF]
    assert followers, "his customers name him"
    assert all(f"{STAFF} / 员工名单 第{row}行" in p.message and "岗位" in p.message for p in followers)
    assert not any("不在员工名单中" in p.message for p in followers)


def test_a_phone_typed_as_a_number_is_said_at_its_cell(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / CUSTOMERS, lambda s: s.cell(2, _column_of(s, "联系电话"), 57157204296))
    _edit(folder / CUSTOMERS, lambda s: s.cell(3, _column_of(s, "联系电话"), 13912345678))  # a mobile keeps all
    inbox = load_folder(folder, TODAY)
    assert _where(inbox.problems) == [(CUSTOMERS, "客户档案", 2, "D", "联系电话", Severity.WARNING, Code.TYPE)]
    assert "0" in inbox.problems[0].message and "文本" in inbox.problems[0].message


def test_ids_in_another_letter_case_find_their_customer(tmp_path, clean):
    folder = _copy(tmp_path)
    column = {}

    def lower(sheet) -> None:
        column["id"] = _column_of(sheet, "客户编号")
        for row in range(2, sheet.max_row + 1):
            cell = sheet.cell(row, column["id"])
            cell.value = cell.value.lower()

    _edit(folder / CALL_LOG, lower)
    inbox = load_folder(folder, TODAY)
    assert inbox.problems == []
    _same_rows(inbox, clean, "calls", ["ticket_id", "customer_id"])


def test_a_cell_that_did_not_parse_gets_one_message_naming_the_cause(tmp_path):
    folder = _copy(tmp_path)
    _edit(folder / CALL_LOG, lambda s: s.cell(2, _column_of(s, "来电时间"), "昨天上午"))
    inbox = load_folder(folder, TODAY)
    assert _where(inbox.problems) == [(CALL_LOG, "热线记录", 2, "B", "来电时间", Severity.ERROR, Code.TYPE)]
    assert "必填" not in inbox.problems[0].message


def test_an_excel_error_value_is_named_not_reported_as_empty(tmp_path):
    folder = _copy(tmp_path)

    def broken(sheet) -> None:
        for row, header in ((2, "客户编号"), (3, "来电人")):
            cell = sheet.cell(row, _column_of(sheet, header))
            cell.value, cell.data_type = "#REF!", "e"

    _edit(folder / CALL_LOG, broken)
    inbox = load_folder(folder, TODAY)
    assert _where(inbox.problems) == [
        (CALL_LOG, "热线记录", 2, "C", "客户编号", Severity.ERROR, Code.TYPE),
        (CALL_LOG, "热线记录", 3, "D", "来电人", Severity.ERROR, Code.TYPE)]
    assert all("#REF!" in p.message and "必填" not in p.message for p in inbox.problems)
    rows = set(inbox.tables["calls"]["_row"][inbox.tables["calls"]["_file"] == CALL_LOG])
    assert 2 not in rows and 3 in rows  # the required cell rejects its row, the optional one keeps it


def _feedback_merged_down(tmp_path, header: str):
    """The example folder read with the feedback sheet's cells under header merged over rows 3–5."""
    folder = _copy(tmp_path)

    def merged(sheet) -> None:
        column = _column_of(sheet, header, 2)
        sheet.merge_cells(start_row=3, start_column=column, end_row=5, end_column=column)

    _edit(folder / FEEDBACK, merged)
    return load_folder(folder, TODAY)


def test_vertically_merged_cells_are_named_as_merged(tmp_path):
    inbox = _feedback_merged_down(tmp_path, "服务日期")
    [merged_cell] = inbox.problems  # one merged cell, one message for the rows it blanks
    assert (merged_cell.row, merged_cell.column, merged_cell.severity) == (4, "B", Severity.ERROR)
    assert "合并单元格" in merged_cell.message and "第4–5行" in merged_cell.message and "第3行" in merged_cell.message
    rows = set(inbox.tables["feedback"]["_row"][inbox.tables["feedback"]["_file"] == FEEDBACK])
    assert 3 in rows and not rows & {4, 5}
    assert next(f for f in inbox.files if f.path == FEEDBACK).rows_rejected == 2


def test_a_merged_optional_cell_is_one_warning_for_its_rows_and_they_stay(tmp_path):
    inbox = _feedback_merged_down(tmp_path, "客户满意度")
    [merged_cell] = inbox.problems
    assert (merged_cell.row, merged_cell.column, merged_cell.header, merged_cell.severity) == (
        4, "K", "客户满意度", Severity.WARNING)
    assert "第4–5行" in merged_cell.message and "按空白读取" in merged_cell.message
    rows = set(inbox.tables["feedback"]["_row"][inbox.tables["feedback"]["_file"] == FEEDBACK])
    assert {3, 4, 5} <= rows
