"""实施_D.xlsx: every implementation project with its stage and overdue flags (项目总览), and one
printable acceptance form 验收_<项目编号> per project at 待验收 or 整改中; and 实施_D_姓名.xlsx, each
specialist's own rows, for their message.

The workbook carries no result-workbook mark: filled in and dropped back, each 验收 sheet is read as
验收单 (its header row holds 验收单's headers; the form's lines above and below it hold nothing in
the template's columns). 项目总览 repeats 实施项目's headers, so the reader passes it over by name
(schema.PROJECT_OVERVIEW).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.calendar import day_label
from kis_batch.outputs import PERSON_PROJECTS_OUTPUT, PROJECTS_OUTPUT, person_labels
from kis_batch.render.columns import Col, col_from_schema, input_col
from kis_batch.render.paper import Page, setup_page, shown_width
from kis_batch.render.saving import output_book
from kis_batch.render.style import ERROR_BG, Book, Highlight, sheet_name, write_block, write_table, write_text
from kis_batch.rules.projects import ProjectReport, by_specialist
from kis_batch.schema import ACCEPTANCE, CUSTOMERS, FAILED_CHECK, PROJECT_OVERVIEW, PROJECTS
from kis_batch.settings import Settings

P = PROJECTS.fields
# Printed: each project's stage, dates and overdue flags; after them 客户编号, 开始日期 and who accepted
# it when (the acceptance form has them).
OVERVIEW_PRINTED = (
    input_col(PROJECTS, "project_id", 10),
    input_col(CUSTOMERS, "customer_name", 13, wrap=True),
    Col("specialist_name", P["specialist"].zh, 6),
    input_col(PROJECTS, "scope", 14, wrap=True),
    Col("stage", "阶段", 6),
    input_col(PROJECTS, "planned_live", 9.8),
    input_col(PROJECTS, "live", 9.8),
    input_col(PROJECTS, "acceptance", 5),
    Col("handover_to_name", P["handover_to"].zh, 6),
    input_col(PROJECTS, "handed_over", 9.8),
    Col("live_overdue", "上线逾期", 4),
    Col("live_days", "上线晚工作日", 4, "int"),
    Col("acceptance_overdue", "验收逾期", 4),
    Col("acceptance_days", "上线后工作日", 4, "int"),
    Col("handover_overdue", "交接逾期", 4),
    Col("handover_days", "验收后工作日", 4, "int"),
    input_col(PROJECTS, "notes", 12, wrap=True),
)
OVERVIEW_COLS = (
    *OVERVIEW_PRINTED,
    input_col(PROJECTS, "customer_id", 8),
    input_col(PROJECTS, "start", 9.8),
    Col("acceptance_source", "结论来源", 8),
    input_col(PROJECTS, "accepted_on", 9.8),
    input_col(PROJECTS, "accepted_by", 6),
    Col("signed", "验收签字", 24, wrap=True),  # who signed the returned form whose 验收结论 the checklist bears out
)
OVERVIEW_PAGE = Page(printed=len(OVERVIEW_PRINTED))
# An overdue flag colours itself and the working days behind it.
OVERDUE = tuple(Highlight(column, "text", (flag, "是"), ERROR_BG)
                for flag, days in (("live_overdue", "live_days"), ("acceptance_overdue", "acceptance_days"),
                                   ("handover_overdue", "handover_days"))
                for column in (flag, days))

A = ACCEPTANCE.fields
CHECK_COLS = (
    Col("seq", "序号", 3.5, "int"),
    replace(col_from_schema(A["project_id"]), width=10),
    replace(col_from_schema(A["item"]), width=19, wrap=True),
    Col("previous", "上次结果", 6),
    replace(col_from_schema(A["outcome"], fill=True), width=6.5),
    replace(col_from_schema(A["notes"], fill=True), width=16, wrap=True),
    replace(col_from_schema(A["date"], fill=True), width=9.8),
    replace(col_from_schema(A["checked_by"], fill=True), width=6),
)
LAST_COL = len(CHECK_COLS) - 1
SPLIT_COL = 4  # the form's header lines: left half A–D, right half E–H
HEADER_ROW = 6  # the checklist's header row (0-based): within the rows the reader searches for headers
ITEM_ROW_PT = 30  # room to write by hand on the printed form
UNDERLINE = "＿" * 10


def _title(report: ProjectReport, settings: Settings) -> str:
    f = report.figures
    stages = "，".join(f"{stage} {n}" for stage, n in f["by_stage"].items() if n)
    return (f"实施项目 {day_label(report.today)} · 共 {f['projects']} 个：{stages or '无'} · "
            f"上线逾期 {f['live_overdue']}，验收逾期 {f['acceptance_overdue']}（上线后 {settings.acceptance_workdays} 个工作日内验收），"
            f"交接逾期 {f['handover_overdue']}（验收后 {settings.handover_workdays} 个工作日内交接）")


def _shown_date(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date) else "—"


def _waited(project: dict[str, Any]) -> str:
    """（上线后第 n 个工作日） for a project awaiting acceptance; nothing for one in 整改."""
    days = project["acceptance_days"]
    return "" if days is None or pd.isna(days) else f"（上线后第 {int(days)} 个工作日）"


def _recheck_note(checklist: pd.DataFrame) -> str:
    """After 整改 only the failed items need checking again (docs/rules.md § Implementation projects)."""
    if not checklist["previous"].notna().any():
        return ""
    return "整改后复查：上次合格或不适用的项目沿用上次结果，可不再填写；上次不合格（标红）和未填的项目须重新填写。"


def _acceptance_form(book: Book, project: dict[str, Any], checklist: pd.DataFrame, settings: Settings,
                     taken: list[str]) -> None:
    """One A4 portrait page: who and what, the checklist to fill in, the conclusion and two signatures."""
    sheet: Worksheet = book.workbook.add_worksheet(sheet_name(f"验收_{project['project_id']}", taken))
    title = book.fmt("form_title", bold=True, font_size=16, align="center", valign="vcenter")
    field = book.fmt("form_field", font_size=11, valign="vcenter", text_wrap=True, bottom=1)
    note = book.fmt("form_note", font_size=10, italic=True, valign="top", text_wrap=True)
    sign = book.fmt("form_sign", font_size=12, valign="bottom")
    write_text(sheet, 0, 0, f"实施项目验收单（全面技术检查）  {project['project_id']}", title, to_col=LAST_COL)
    sheet.set_row(0, 30)
    left_right = (
        (f"客户：{project['customer_id']} {project['customer_name'] or ''}", f"项目编号：{project['project_id']}"),
        (f"实施内容：{project['scope'] or '—'}", f"实施专员：{project['specialist_name']}"),
        (f"开始 {_shown_date(project['start'])} · 计划上线 {_shown_date(project['planned_live'])} · "
         f"实际上线 {_shown_date(project['live'])}",
         f"阶段：{project['stage']}{_waited(project)}"),
    )
    for row, (left, right) in enumerate(left_right, 1):
        write_text(sheet, row, 0, left, field, to_col=SPLIT_COL - 1)
        write_text(sheet, row, SPLIT_COL, right, field, to_col=LAST_COL)
        sheet.set_row(row, 30)
    write_text(sheet, 4, 0, "逐项检查后在黄色列填写结果（合格/不合格/不适用）、说明、验收日期、验收人：任一项不合格即不通过，"
               f"每一项都合格或不适用即通过。上线后 {settings.acceptance_workdays} 个工作日内完成验收；"
               "填好后把本工作簿放回收件夹，即作为验收单读取。" + _recheck_note(checklist), note, to_col=LAST_COL)
    sheet.set_row(4, 42)
    last = write_block(book, sheet, HEADER_ROW, 0, checklist, CHECK_COLS, row_height=ITEM_ROW_PT)
    outcome = next(i for i, c in enumerate(CHECK_COLS) if c.key == "outcome")
    choices = CHECK_COLS[outcome].choices
    sheet.data_validation(HEADER_ROW + 1, outcome, last, outcome, {
        "validate": "list", "source": list(choices),
        "error_title": "请从下拉列表选择", "error_message": "可选：" + "/".join(choices),
    })
    previous = next(i for i, c in enumerate(CHECK_COLS) if c.key == "previous")
    sheet.conditional_format(HEADER_ROW + 1, previous, last, previous, {
        "type": "cell", "criteria": "==", "value": f'"{FAILED_CHECK}"', "format": book.fmt("hl" + ERROR_BG, bg_color=ERROR_BG)})
    # Below the checklist, text only in column A (序号, which the reader does not take): these lines
    # read as blank rows when the sheet comes back.
    lines = ("验收结论：☐ 通过　　☐ 不通过（须整改后重新验收）",
             f"客户签字：{UNDERLINE}　日期：{UNDERLINE}",
             f"服务部经理签字：{UNDERLINE}　日期：{UNDERLINE}")
    for offset, line in enumerate(lines, 2):
        write_text(sheet, last + offset, 0, line, sign, to_col=LAST_COL)
        sheet.set_row(last + offset, 36)
    setup_page(sheet, sum(shown_width(c) for c in CHECK_COLS), LAST_COL, landscape=False)
    taken.append(sheet.get_name())


def write_projects(out_dir: Path, report: ProjectReport, settings: Settings, tables: dict[str, pd.DataFrame],
                   written: list[Path]) -> None:
    """实施_D.xlsx (to come back with its 验收 sheets filled in) and each specialist's 实施_D_姓名.xlsx
    (姓名_工号 when two share the name: outputs.person_labels over the whole roster)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    title = _title(report, settings)
    with output_book(out_dir, PROJECTS_OUTPUT, report.today, written) as book:
        write_table(book, PROJECT_OVERVIEW, report.projects, OVERVIEW_COLS, title=title, highlights=OVERDUE,
                    page=OVERVIEW_PAGE)
        taken = [PROJECT_OVERVIEW]
        by_id = {r["project_id"]: r for r in report.projects.to_dict("records")}
        for project_id, checklist in report.checklists.items():
            _acceptance_form(book, by_id[project_id], checklist, settings, taken)
    labels = person_labels(tables["staff"]["staff_id"], tables["staff"]["name"])
    for staff_id, own in by_specialist(report).items():
        name = own.projects["specialist_name"].iloc[0]
        with output_book(out_dir, PERSON_PROJECTS_OUTPUT, report.today, written, labels.get(staff_id, name)) as book:
            write_table(book, PROJECT_OVERVIEW, own.projects, OVERVIEW_COLS, highlights=OVERDUE, page=OVERVIEW_PAGE,
                        title=f"{name}负责的{_title(own, settings)}")
