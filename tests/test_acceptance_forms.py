"""A returned 验收 form is read as a person fills it (docs/rules.md § Implementation projects): the
example month's 实施_D.xlsx is written, one form is filled in with openpyxl as the manager would on
screen (results, the 验收结论 box ticked, names and dates after the 签字 labels), dropped into a copy
of the inbox, and the month run again. The checklist decides; the box either agrees and is recorded
with who signed, or is a 警告 at its cell."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch import pipeline
from kis_batch.outputs import PROJECTS_OUTPUT
from kis_batch.problems import Code, Problem, Severity
from tests.builders import header_row
from tests.conftest import EXAMPLE, EXAMPLE_TODAY

RETURNED = "实施_返回.xlsx"
# The example month's projects awaiting acceptance, with no earlier round.
PROJECT = "SS2026-006"
FAILED = "数据备份策略"
SIGNED = ("客户签字：＿＿王建国＿＿　日期：2026-11-26", "服务部经理签字：刘洋　日期：11月26日")

Fill = Callable[[Any, int, dict[str, int], int], None]


def _checklist(sheet: Any) -> tuple[int, dict[str, int], int]:
    """The form's checklist: its header row, each header's column, and the row of its last item."""
    top, headers = next((row[0].row, {c.value: c.column for c in row if c.value})
                        for row in sheet.iter_rows(min_row=1, max_row=10) if any(c.value == "检查项" for c in row))
    last = top
    while sheet.cell(last + 1, headers["检查项"]).value:
        last += 1
    return top, headers, last


def _every_item(outcome: Callable[[str], str | None]) -> Fill:
    def fill(sheet: Any, top: int, headers: dict[str, int], last: int) -> None:
        for row in range(top + 1, last + 1):
            value = outcome(sheet.cell(row, headers["检查项"]).value)
            if value is not None:
                sheet.cell(row, headers["结果"]).value = value
                sheet.cell(row, headers["验收日期"]).value = dt.datetime(2026, 11, 26)
                sheet.cell(row, headers["验收人"]).value = "刘洋"
    return fill


ALL_PASSED = _every_item(lambda item: "不适用" if "如适用" in item else "合格")
ONE_FAILED = _every_item(lambda item: "不合格" if item == FAILED else ("不适用" if "如适用" in item else "合格"))
BLANK = _every_item(lambda item: None)


def _box(sheet: Any, last: int) -> Any:
    """The 验收结论 cell below the checklist, as the form prints it."""
    cell = next(sheet.cell(row, 1) for row in range(last + 1, last + 4) if "验收结论" in str(sheet.cell(row, 1).value))
    assert "☐ 通过" in cell.value
    return cell


def _rerun(example_run: pipeline.RunResult, tmp_path: Path, fill: Fill, box: Callable[[str], str],
           signatures: tuple[str, ...] = ()) -> tuple[pipeline.RunResult, int]:
    """The example inbox again, with the example run's 实施_D.xlsx filled in on PROJECT's form."""
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    book = openpyxl.load_workbook(example_run.out_dir / PROJECTS_OUTPUT.file_name(EXAMPLE_TODAY))
    sheet = book[f"验收_{PROJECT}"]
    top, headers, last = _checklist(sheet)
    fill(sheet, top, headers, last)
    cell = _box(sheet, last)
    cell.value = box(cell.value)
    for offset, line in enumerate(signatures, 1):
        sheet.cell(cell.row + offset, 1).value = line
    book.save(folder / RETURNED)
    return pipeline.run(folder, EXAMPLE_TODAY, tmp_path / "out"), cell.row


def _overview(result: pipeline.RunResult) -> dict[str, Any]:
    sheet = openpyxl.load_workbook(result.out_dir / PROJECTS_OUTPUT.file_name(EXAMPLE_TODAY))["项目总览"]
    top, headers = header_row(sheet, "项目编号")
    for values in sheet.iter_rows(min_row=top + 1, values_only=True):
        if values[headers["项目编号"] - 1] == PROJECT:
            return {h: values[c - 1] for h, c in headers.items()}
    raise AssertionError(f"{PROJECT} not in 项目总览")


def _returned(result: pipeline.RunResult) -> list[Problem]:
    return [p for p in result.inbox.problems if p.file == RETURNED]


def tick_passed(text: str) -> str:
    return text.replace("☐ 通过", "☑ 通过", 1)


def test_a_ticked_conclusion_the_checklist_bears_out_is_recorded_with_who_signed(example_run, tmp_path):
    result, _ = _rerun(example_run, tmp_path, ALL_PASSED, tick_passed, SIGNED)
    assert _returned(result) == [] and result.errors == 0
    row = _overview(result)
    assert (row["阶段"], row["验收结论"], row["结论来源"]) == ("待交接", "通过", "验收单")
    assert row["验收签字"] == "客户 王建国 2026-11-26；服务部经理 刘洋 2026-11-26"
    signed = result.inbox.tables["acceptance"]
    assert set(signed.loc[signed["project_id"] == PROJECT, "signed"]) == {row["验收签字"]}
    assert _overview(example_run)["验收签字"] is None


@pytest.mark.parametrize("box", [lambda text: "通过", lambda text: text.replace("☐ 通过", "√通过")],
                         ids=["typed-alone", "checkmark"])
def test_the_word_typed_alone_or_a_check_mark_is_a_tick(example_run, tmp_path, box):
    result, _ = _rerun(example_run, tmp_path, ALL_PASSED, box)
    assert _returned(result) == []
    assert (_overview(result)["阶段"], _overview(result)["验收签字"]) == ("待交接", "未签字")


def test_passed_ticked_over_a_failed_item_is_a_warning_at_the_box_and_the_checklist_decides(example_run, tmp_path):
    result, box_row = _rerun(example_run, tmp_path, ONE_FAILED, tick_passed, SIGNED)
    [warning] = _returned(result)
    assert (warning.sheet, warning.row, warning.column, warning.header, warning.severity, warning.code) == (
        f"验收_{PROJECT}", box_row, "A", "验收结论", Severity.WARNING, Code.CONFLICT)
    assert "判定按检查项，请逐项填写" in warning.message and FAILED in warning.message and "☑ 通过" in warning.value
    row = _overview(result)
    assert (row["阶段"], row["验收结论"], row["验收签字"]) == ("整改中", "不通过", None)


def test_passed_ticked_over_a_blank_checklist_is_a_warning_and_no_conclusion(example_run, tmp_path):
    result, box_row = _rerun(example_run, tmp_path, BLANK, tick_passed, SIGNED)
    [warning] = _returned(result)
    assert (warning.row, warning.column, warning.severity) == (box_row, "A", Severity.WARNING)
    assert "都没有填结果" in warning.message and "判定按检查项，请逐项填写" in warning.message
    row = _overview(result)
    assert (row["阶段"], row["验收结论"], row["验收签字"]) == ("待验收", None, None)


def test_a_form_returned_untouched_below_its_checklist_says_nothing(example_run, tmp_path):
    result, _ = _rerun(example_run, tmp_path, ALL_PASSED, lambda text: text)
    assert _returned(result) == []
    assert (_overview(result)["阶段"], _overview(result)["验收签字"]) == ("待交接", None)


def test_who_signed_stays_after_the_month_is_closed_and_its_files_archived(example_run, tmp_path):
    """The signed round is carried into December (docs/rules.md § A month's life): with November closed,
    its files archived and the returned form with them, the 项目总览 of the next day still names who
    signed."""
    november, _ = _rerun(example_run, tmp_path, ALL_PASSED, tick_passed, SIGNED)
    folder, out = tmp_path / "in", tmp_path / "out"
    closing = pipeline.run(folder, dt.date(2026, 12, 1), out)
    for name in (*closing.archivable, RETURNED):
        (folder / name).unlink()
    december = pipeline.run(folder, dt.date(2026, 12, 2), out)
    sheet = openpyxl.load_workbook(december.out_dir / PROJECTS_OUTPUT.file_name(dt.date(2026, 12, 2)))["项目总览"]
    top, headers = header_row(sheet, "项目编号")
    row = next({h: values[c - 1] for h, c in headers.items()} for values in sheet.iter_rows(min_row=top + 1, values_only=True)
               if values[headers["项目编号"] - 1] == PROJECT)
    assert (row["阶段"], row["验收签字"]) == ("待交接", _overview(november)["验收签字"])
