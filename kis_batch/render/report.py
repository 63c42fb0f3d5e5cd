"""校验报告_D.xlsx: every problem at its place, errors first, coloured by severity; and the files."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path

import pandas as pd

from kis_batch.ingest import Inbox
from kis_batch.outputs import REPORT_OUTPUT
from kis_batch.problems import REPORT_COLUMNS, Severity, count, problems_frame
from kis_batch.render.columns import Col
from kis_batch.render.paper import Page
from kis_batch.render.saving import output_book
from kis_batch.render.style import ATTENTION_BG, ERROR_BG, Highlight, write_table
from kis_batch.schema import BY_KEY

# Printed: where each problem is and what to do; the problem's code (for the record) after them.
PROBLEM_WIDTHS = {"severity": 5, "file": 16, "sheet": 9, "row": 4, "column": 4, "header": 8, "value": 13,
                  "message": 42, "code": 16}
WRAPPED = frozenset({"file", "sheet", "header", "value", "message"})
PROBLEM_COLS = [Col(key, REPORT_COLUMNS[key], width, "int" if key == "row" else "text", wrap=key in WRAPPED)
                for key, width in PROBLEM_WIDTHS.items()]
PROBLEM_PAGE = Page(printed=len(PROBLEM_COLS) - 1)
FILE_COLS = [
    Col("path", "文件", 22, wrap=True), Col("status", "状态", 6), Col("sheets", "识别的工作表", 26, wrap=True),
    Col("rows_read", "读取行数", 4, "int"), Col("rows_accepted", "采用行数", 4, "int"),
    Col("rows_repeated", "重复行数", 4, "int"), Col("rows_rejected", "拒收行数", 4, "int"),
    Col("message", "说明", 34, wrap=True),
]
STATUS_WORDS = {"read": "已读取", "skipped": "已跳过"}


def files_frame(inbox: Inbox) -> pd.DataFrame:
    rows = []
    for f in inbox.files:
        sheets = "、".join(f"{sheet}→{BY_KEY[key].zh}" for sheet, key in f.sheets.items())
        rows.append({"path": f.path, "status": STATUS_WORDS[f.status], "sheets": sheets, "rows_read": f.rows_read,
                     "rows_accepted": f.rows_accepted, "rows_repeated": f.rows_repeated,
                     "rows_rejected": f.rows_rejected, "message": f.message})
    return pd.DataFrame(rows, columns=[c.key for c in FILE_COLS])


def write_report(out_dir: Path, today: dt.date, inbox: Inbox, written: list[Path]) -> None:
    errors, warnings = count(inbox.problems, Severity.ERROR), count(inbox.problems, Severity.WARNING)
    title = f"校验报告 {today.isoformat()}：错误 {errors} 条（该行未采用），警告 {warnings} 条（已采用，请核对）"
    if not inbox.problems:
        title = f"校验报告 {today.isoformat()}：没有发现问题"
    with output_book(out_dir, REPORT_OUTPUT, today, written) as book:
        # Without problems the page is the one line saying so, not an empty grid.
        page = replace(PROBLEM_PAGE, empty=title)
        write_table(book, "问题", problems_frame(inbox.problems), PROBLEM_COLS, title=title, page=page,
                    highlights=[Highlight(None, "text", ("severity", Severity.ERROR.value), ERROR_BG),
                                Highlight(None, "text", ("severity", Severity.WARNING.value), ATTENTION_BG)])
        write_table(book, "文件", files_frame(inbox), FILE_COLS, title=f"文件夹：{inbox.folder}")
