"""Implementation projects (docs/rules.md § Implementation projects): stages and overdue flags as of D
counted in working days across the National Day week, returned checklists deciding the acceptance,
the warnings of the acceptance rule, bad cells of 实施项目, and the printable 验收 forms of 实施_D.xlsx
read back as 验收单.

D is Monday 2026-10-12. Working days around it: Wed 09-30, then the holiday 10-01 to 10-07, then
Thu 10-08, Fri 10-09, Sat 10-10 (a make-up working day), Mon 10-12.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl

from kis_batch import pipeline
from kis_batch.outputs import PERSON_PROJECTS_OUTPUT, PROJECTS_OUTPUT
from kis_batch.problems import Code, Problem, Severity
from kis_batch.settings import ACCEPTANCE_ITEMS, SETTING_FIELDS, parse_setting
from tests.builders import basic_department, header_row, write_workbook
from tests.conftest import ToPdf, pdf_pages

D = dt.date(2026, 10, 12)
PROJECT_HEADERS = ("项目编号", "客户编号", "实施专员", "实施内容", "开始日期", "计划上线", "实际上线", "验收日期", "验收结论",
                   "验收人", "交接服务代表", "交接日期", "备注")
CHECK_HEADERS = ("项目编号", "检查项", "结果", "说明", "验收日期", "验收人")
BACKUP = "数据备份策略"


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(f"2026-{text}")


def project(pid: str, start: str, planned: str, live: str | None = None, accepted_on: str | None = None,
            acceptance: str | None = None, handover_to: str | None = None, handed_over: str | None = None,
            specialist: str = "赵敏", customer: str = "C001") -> tuple[Any, ...]:
    dates = [day(d) if d else None for d in (start, planned, live, accepted_on)]
    return (pid, customer, specialist, "KIS专业版：总账、报表", *dates, acceptance, "周经理" if acceptance else None,
            handover_to, day(handed_over) if handed_over else None, None)


def checklist(pid: str, when: str, failed: tuple[str, ...] = (), items: tuple[str, ...] = ACCEPTANCE_ITEMS) -> list[tuple[Any, ...]]:
    return [(pid, item, "不合格" if item in failed else ("不适用" if "如适用" in item else "合格"),
             "未设置自动备份" if item in failed else None, day(when), "周经理") for item in items]


def run(tmp_path: Path, projects: list[tuple[Any, ...]], checks: list[tuple[Any, ...]] | None = None,
        folder: Path | None = None) -> pipeline.RunResult:
    folder = folder or tmp_path / "in"
    basic_department(folder)
    sheets = {"实施项目": (PROJECT_HEADERS, projects)}
    if checks is not None:
        sheets["验收单"] = (CHECK_HEADERS, checks)
    write_workbook(folder / "实施.xlsx", sheets)
    return pipeline.run(folder, D, tmp_path / "out")


def overview(result: pipeline.RunResult) -> dict[str, dict[str, Any]]:
    """项目总览 of 实施_D.xlsx read back: 项目编号 -> {header: value}."""
    sheet = openpyxl.load_workbook(result.out_dir / PROJECTS_OUTPUT.file_name(D))["项目总览"]
    top, headers = header_row(sheet, "项目编号")
    rows = {}
    for values in sheet.iter_rows(min_row=top + 1, values_only=True):
        record = {h: values[c - 1] for h, c in headers.items()}
        rows[record["项目编号"]] = record
    return rows


def problems_at(result: pipeline.RunResult, sheet: str) -> list[Problem]:
    return [p for p in result.inbox.problems if p.sheet == sheet]


def test_each_stage_and_each_overdue_flag_counts_working_days_across_the_national_day_week(tmp_path: Path) -> None:
    result = run(tmp_path, [
        project("P1", "10-13", "11-30"),
        project("P2", "09-01", "10-20"),
        project("P3", "09-01", "09-30"),
        project("P4", "09-01", "09-25", live="09-29"),
        project("P5", "09-01", "09-25", live="09-28"),
        project("P6", "09-01", "09-18", live="09-20", accepted_on="09-25", acceptance="不通过"),
        project("P7", "09-01", "09-18", live="09-20", accepted_on="10-08", acceptance="通过"),
        project("P8", "09-01", "09-18", live="09-20", accepted_on="09-30", acceptance="通过"),
        project("P9", "09-01", "09-18", live="09-20", accepted_on="09-25", acceptance="通过", handover_to="张伟",
                handed_over="09-28"),
    ])
    assert result.errors == 0 and not problems_at(result, "实施项目")
    rows = overview(result)
    stages = {pid: r["阶段"] for pid, r in rows.items()}
    assert stages == {"P1": "未开始", "P2": "实施中", "P3": "实施中", "P4": "待验收", "P5": "待验收", "P6": "整改中",
                      "P7": "待交接", "P8": "待交接", "P9": "已交接"}
    # 计划上线 09-30: 10-08, 10-09, 10-10 and 10-12 are the working days after it.
    assert (rows["P3"]["上线逾期"], rows["P3"]["上线晚工作日"]) == ("是", 4)
    assert (rows["P2"]["上线逾期"], rows["P2"]["上线晚工作日"]) == ("否", None)
    # Live 09-29: five working days after it (09-30 and the four above) — not more than five.
    assert (rows["P4"]["验收逾期"], rows["P4"]["上线后工作日"]) == ("否", 5)
    assert (rows["P5"]["验收逾期"], rows["P5"]["上线后工作日"]) == ("是", 6)
    # Accepted 10-08: three working days after it; accepted 09-30: four.
    assert (rows["P7"]["交接逾期"], rows["P7"]["验收后工作日"]) == ("否", 3)
    assert (rows["P8"]["交接逾期"], rows["P8"]["验收后工作日"]) == ("是", 4)
    assert all(rows[pid][flag] == "否" for pid in ("P1", "P6", "P9") for flag in ("上线逾期", "验收逾期", "交接逾期"))
    figures = result.figures.projects
    assert (figures.live_overdue, figures.acceptance_overdue, figures.handover_overdue) == (1, 1, 1)
    assert figures.by_stage == {"未开始": 1, "实施中": 2, "待验收": 2, "整改中": 1, "待交接": 2, "已交接": 1}
    book = openpyxl.load_workbook(result.out_dir / PROJECTS_OUTPUT.file_name(D))
    assert book.sheetnames == ["项目总览", "验收_P4", "验收_P5", "验收_P6"]
    assert [p.name for p in result.outputs if p.name.startswith("实施_")] == [PROJECTS_OUTPUT.file_name(D),
                                                                            PERSON_PROJECTS_OUTPUT.file_name(D, "赵敏")]


def test_a_holiday_in_the_settings_moves_the_acceptance_deadline(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_workbook(folder / "规则设置.xlsx", {"规则设置": (("参数", "值", "说明"), [("节假日", "2026-10-09", None)])})
    result = run(tmp_path, [project("P5", "09-01", "09-25", live="09-28")], folder=folder)
    # 10-09 taken off: 09-29, 09-30, 10-08, 10-10, 10-12 — five, no longer more than five.
    assert (overview(result)["P5"]["验收逾期"], overview(result)["P5"]["上线后工作日"]) == ("否", 5)


def test_returned_checklists_pass_one_project_and_fail_another(tmp_path: Path) -> None:
    checks = [*checklist("Q1", "09-25"), *checklist("Q2", "09-25", failed=(BACKUP,)),
              *checklist("Q3", "09-25", items=ACCEPTANCE_ITEMS[:3])]
    result = run(tmp_path, [project(pid, "09-01", "09-18", live="09-20") for pid in ("Q1", "Q2", "Q3")], checks)
    rows = overview(result)
    assert (rows["Q1"]["阶段"], rows["Q1"]["验收结论"], rows["Q1"]["结论来源"]) == ("待交接", "通过", "验收单")
    # Passed 09-25: seven working days after it by D, more than three.
    assert (rows["Q1"]["交接逾期"], rows["Q1"]["验收后工作日"]) == ("是", 7)
    assert (rows["Q2"]["阶段"], rows["Q2"]["验收结论"]) == ("整改中", "不通过")
    assert (rows["Q3"]["阶段"], rows["Q3"]["验收结论"]) == ("待验收", None)
    [missing] = problems_at(result, "验收单")
    assert missing.severity is Severity.WARNING and missing.row == 2 + 16 and missing.column == "A"
    assert "Q3" in missing.message and all(item in missing.message for item in ("用户与权限", "数据备份策略"))
    assert result.errors == 0
    form = openpyxl.load_workbook(result.out_dir / PROJECTS_OUTPUT.file_name(D))["验收_Q2"]
    top, headers = _form_header(form)
    previous = {form.cell(r, headers["检查项"]).value: form.cell(r, headers["上次结果"]).value
                for r in range(top + 1, top + 1 + len(ACCEPTANCE_ITEMS))}
    assert previous[BACKUP] == "不合格" and list(previous.values()).count("合格") == 6


def _form_header(sheet: Any) -> tuple[int, dict[str, int]]:
    for row in sheet.iter_rows(min_row=1, max_row=10):
        headers = {c.value: c.column for c in row if c.value}
        if "检查项" in headers:
            return row[0].row, headers
    raise AssertionError("no checklist header")


def test_a_filled_acceptance_form_dropped_back_is_read_as_the_latest_round(tmp_path: Path) -> None:
    first = run(tmp_path, [project("Q2", "09-01", "09-18", live="09-20")], checklist("Q2", "09-25", failed=(BACKUP,)))
    book = openpyxl.load_workbook(first.out_dir / PROJECTS_OUTPUT.file_name(D))
    form = book["验收_Q2"]
    top, headers = _form_header(form)
    for r in range(top + 1, top + 1 + len(ACCEPTANCE_ITEMS)):
        form.cell(r, headers["结果"]).value = "不适用" if "如适用" in form.cell(r, headers["检查项"]).value else "合格"
        form.cell(r, headers["验收日期"]).value = dt.datetime(2026, 10, 9)
        form.cell(r, headers["验收人"]).value = "周经理"
    book.save(tmp_path / "in" / "实施_返回.xlsx")
    again = pipeline.run(tmp_path / "in", D, tmp_path / "out2")
    assert again.errors == 0 and not [p for p in again.inbox.problems if p.file == "实施_返回.xlsx"]
    row = overview(again)["Q2"]
    assert (row["阶段"], row["验收结论"], row["验收日期"].date(), row["验收后工作日"]) == ("待交接", "通过", day("10-09"), 2)
    assert len(again.inbox.tables["acceptance"]) == len(ACCEPTANCE_ITEMS)  # the first round gave way


def test_the_projects_own_conclusion_wins_and_a_disagreement_is_a_warning(tmp_path: Path) -> None:
    result = run(tmp_path, [project("R1", "09-01", "09-18", live="09-20", accepted_on="09-25", acceptance="通过")],
                 checklist("R1", "09-25", failed=(BACKUP,)))
    assert overview(result)["R1"]["阶段"] == "待交接"
    [disagreement] = problems_at(result, "实施项目")
    assert (disagreement.severity, disagreement.code, disagreement.row, disagreement.column, disagreement.header) == (
        Severity.WARNING, Code.CONFLICT, 2, "I", "验收结论")
    assert "R1" in disagreement.message and BACKUP in disagreement.message


def test_a_handover_the_customer_roster_does_not_show_is_a_warning_naming_both_people(tmp_path: Path) -> None:
    result = run(tmp_path, [project("H1", "09-01", "09-18", live="09-20", accepted_on="09-25", acceptance="通过",
                                    handover_to="王强", handed_over="09-28")])
    [roster] = problems_at(result, "实施项目")
    assert (roster.severity, roster.row, roster.column, roster.header) == (Severity.WARNING, 2, "K", "交接服务代表")
    assert all(word in roster.message for word in ("H1", "王强", "E02", "张伟", "E01", "C001"))
    assert overview(result)["H1"]["阶段"] == "已交接"


def test_a_date_after_d_is_an_error_at_its_cell_and_the_project_stays(tmp_path: Path) -> None:
    result = run(tmp_path, [project("F1", "09-01", "10-20", live="10-13")])
    [late] = problems_at(result, "实施项目")
    assert (late.severity, late.code, late.row, late.column, late.header) == (
        Severity.ERROR, Code.FUTURE_DATE, 2, "G", "实际上线")
    assert overview(result)["F1"]["阶段"] == "实施中"  # 实际上线 taken as blank
    assert result.exit_code == 1


def test_a_specialist_of_another_role_is_an_error_at_that_cell(tmp_path: Path) -> None:
    result = run(tmp_path, [project("W1", "09-01", "10-20", specialist="张伟"),
                            project("W2", "09-01", "09-18", live="09-20", accepted_on="09-25", acceptance="通过",
                                    handover_to="赵敏", handed_over="09-28")])
    wrong = {p.row: p for p in problems_at(result, "实施项目") if p.severity is Severity.ERROR}
    assert (wrong[2].column, wrong[2].header, wrong[2].value) == ("C", "实施专员", "张伟")
    assert "服务工程师" in wrong[2].message and "实施专员" in wrong[2].message
    assert (wrong[3].column, wrong[3].header) == ("K", "交接服务代表")  # 赵敏 is a 实施专员: the cell only
    rows = overview(result)
    assert "W1" not in rows and rows["W2"]["交接服务代表"] is None


def test_the_checklist_setting_splits_at_semicolons_and_keeps_commas_and_brackets() -> None:
    read = parse_setting(SETTING_FIELDS["acceptance_items"], "账套与参数设置；业务流程（供应链/生产，如适用）;凭证与报表", D)
    assert read.value == ("账套与参数设置", "业务流程(供应链/生产,如适用)", "凭证与报表")


def test_each_acceptance_form_prints_on_one_page(tmp_path: Path, to_pdf: ToPdf) -> None:
    result = run(tmp_path, [project("P4", "09-01", "09-25", live="09-29"),
                            project("P6", "09-01", "09-18", live="09-20", accepted_on="09-25", acceptance="不通过")])
    [pdf] = to_pdf(result.out_dir / PROJECTS_OUTPUT.file_name(D))
    # 项目总览 on one landscape page, then one page per form.
    assert len(pdf_pages(pdf)) == 1 + 2


def test_a_recheck_after_rework_fills_only_the_failed_item_and_the_form_says_so(tmp_path: Path) -> None:
    first = run(tmp_path, [project("Q2", "09-01", "09-18", live="09-20")], checklist("Q2", "09-25", failed=(BACKUP,)))
    book = openpyxl.load_workbook(first.out_dir / PROJECTS_OUTPUT.file_name(D))
    form = book["验收_Q2"]
    assert any("上次合格或不适用的项目沿用上次结果" in str(c.value) for row in form.iter_rows(max_row=8) for c in row)
    top, headers = _form_header(form)
    row = next(r for r in range(top + 1, top + 1 + len(ACCEPTANCE_ITEMS)) if form.cell(r, headers["检查项"]).value == BACKUP)
    form.cell(row, headers["结果"]).value = "合格"
    form.cell(row, headers["验收日期"]).value = dt.datetime(2026, 10, 9)
    form.cell(row, headers["验收人"]).value = "周经理"
    book.save(tmp_path / "in" / "实施_返回.xlsx")
    again = pipeline.run(tmp_path / "in", D, tmp_path / "out2")
    assert not [p for p in again.inbox.problems if p.sheet.startswith("验收")]
    row = overview(again)["Q2"]
    assert (row["阶段"], row["验收结论"], row["验收日期"].date()) == ("待交接", "通过", day("10-09"))


def test_a_recheck_that_skips_an_item_failed_before_still_misses_it(tmp_path: Path) -> None:
    rework = checklist("Q2", "09-25", failed=(BACKUP,))
    recheck = [(pid, item, "合格", None, day("10-09"), "周经理") for pid, item, *_ in rework[:1]]
    result = run(tmp_path, [project("Q2", "09-01", "09-18", live="09-20")], [*rework, *recheck])
    assert (overview(result)["Q2"]["阶段"], overview(result)["Q2"]["验收结论"]) == ("待验收", None)
    [missing] = problems_at(result, "验收单")
    assert f"还缺 1 项：{BACKUP}" in missing.message


def test_of_two_returned_acceptance_forms_of_one_day_the_one_dated_later_wins(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_workbook(folder / "收件夹" / "验收_早.xlsx", {"验收单": (CHECK_HEADERS, checklist("Q2", "10-09", failed=(BACKUP,)))},
                   titles={"验收单": "验收单 2026-10-09"})
    write_workbook(folder / "验收_晚.xlsx", {"验收单": (CHECK_HEADERS, checklist("Q2", "10-09"))},
                   titles={"验收单": "验收单 2026-10-10"})
    result = run(tmp_path, [project("Q2", "09-01", "09-18", live="09-20")], folder=folder)
    assert not [p for p in result.inbox.problems if p.sheet == "验收单"]
    assert overview(result)["Q2"]["验收结论"] == "通过"
