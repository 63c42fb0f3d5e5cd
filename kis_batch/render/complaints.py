"""投诉跟踪_D.xlsx: every complaint as a case to follow until it is closed — 未结案 (overdue first, in
red: they go to the general manager), 本月已结案, and 按责任 (counts by responsibility and by engineer,
with a chart).

The case sheets are fill-in sheets, like 回访_P.xlsx: each row carries the 投诉处理 columns (责任判定
with a dropdown, 处理措施, 处理人, 结案日期, 客户确认, 备注), prefilled with what is recorded, so the
sheet filled in and dropped back into the folder is read as 投诉处理. The workbook is therefore not
marked as a report; 按责任 is passed over when it comes back (schema.COMPLAINT_COUNTS_SHEET). Nothing
is written below a case table, so a returned sheet holds only cases.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kis_batch.outputs import COMPLAINTS_OUTPUT
from kis_batch.render.columns import Col, col_from_schema, input_col
from kis_batch.render.paper import Page
from kis_batch.render.saving import output_book
from kis_batch.render.style import ERROR_BG, HEADER_BG, Book, Highlight, write_block, write_table
from kis_batch.rules.complaints import RESPONSIBILITY_KEYS, ComplaintCases
from kis_batch.rules.quality import TOTAL
from kis_batch.schema import COMPLAINT_COUNTS_SHEET, COMPLAINT_HANDLING, CUSTOMERS, STAFF

FIELDS = COMPLAINT_HANDLING.fields


def _fill(key: str, width: float, shown: str | None = None) -> Col:
    """A 投诉处理 column to fill in; shown names the case column holding its current value."""
    col = col_from_schema(FIELDS[key], fill=True)
    return dataclasses.replace(col, key=shown or key, width=width, wrap=col.kind == "text")


# Printed: the case and its handling to fill in; after them 客户编号 and 来源, for the record.
CASE_PRINTED = (
    input_col(COMPLAINT_HANDLING, "complaint_id", 15.5),
    Col("status", "状态", 5),
    Col("filed", "立案日期", 9.8, "date"),
    Col("workdays", "已过工作日", 4, "int"),
    Col("overdue", "超期", 4, "bool"),
    Col("reopened", "重开次数", 4, "int"),
    input_col(CUSTOMERS, "customer_name", 13, wrap=True),
    Col("staff_name", "被投诉人", 6),
    Col("content", "投诉内容", 20, wrap=True),
    _fill("responsibility", 7),
    _fill("action", 18),
    _fill("handler", 6, "handler_name"),  # the name, which reads back as the 工号
    _fill("closed_on", 9.8),
    _fill("confirmed", 5),
    _fill("notes", 10),
)
CASE_COLS = (
    *CASE_PRINTED,
    input_col(CUSTOMERS, "customer_id", 8),
    Col("source", "来源", 8),
)
CASE_PAGE = Page(printed=len(CASE_PRINTED))
OVERDUE = Highlight(None, "text", ("overdue", "是"), ERROR_BG)
TOTAL_ROW = Highlight(None, "text", ("responsibility", TOTAL), HEADER_BG)
RESPONSIBILITY_COLS = (
    Col("responsibility", "责任判定", 10), Col("filed", "本月立案", 9, "int"), Col("unjudged", "其中未判定", 9, "int"),
    Col("open", "未结案", 9, "int"), Col("overdue", "超期", 9, "int"), Col("closed", "本月已结案", 9, "int"),
)
ENGINEER_COLS = (
    Col("staff", STAFF.fields["staff_id"].zh), Col("staff_name", "被投诉人"),
    *(Col(key, f"本月{responsibility}", kind="int") for responsibility, key in RESPONSIBILITY_KEYS.items()),
    Col("filed", "本月立案", kind="int"), Col("open", "未结案", kind="int"), Col("overdue", "超期", kind="int"),
    Col("closed", "本月已结案", kind="int"),
)
RESPONSIBILITY_COLOURS = ("#C00000", "#4472C4", "#A5A5A5", "#FFC000")
CHART_SIZE = {"width": 560, "height": 300}


def _titles(cases: ComplaintCases) -> tuple[str, str, str]:
    f, day = cases.figures, cases.today.isoformat()
    return (
        f"未结案投诉 {f['open']} 起（截至 {day}）：超期 {f['overdue']} 起标红，立案后超过 {f['overdue_after_workdays']} "
        "个工作日未结案即超期、上报总经理 · 填写黄色列（责任判定未填按本部门责任计）后交回收件夹",
        f"本月已结案 {f['closed_month']} 起（{cases.today:%Y年%m月}，截至 {day}）· 如需更正，改黄色列后交回收件夹",
        f"本月投诉 {f['filed_month']} 起按责任判定（未判定的按本部门计）· 未结案与超期为截至 {day} 的全部未结案件",
    )


def _counts(book: Book, cases: ComplaintCases, title: str) -> None:
    """按责任: per responsibility, then per engineer with a stacked column chart of the month's cases."""
    sheet = write_table(book, COMPLAINT_COUNTS_SHEET, cases.by_responsibility, RESPONSIBILITY_COLS, title=title,
                        highlights=(TOTAL_ROW,))
    top = len(cases.by_responsibility) + 3
    sheet.write_string(top, 0, "按被投诉人", book.fmt("block_heading", bold=True, font_size=12))
    last = write_block(book, sheet, top + 1, 0, cases.by_engineer, ENGINEER_COLS, widths=False)
    first, last = top + 2, last - 1  # the 合计 row stays out of the chart
    if last < first:
        return
    chart = book.workbook.add_chart({"type": "column", "subtype": "stacked"})
    for index, (label, colour) in enumerate(zip(RESPONSIBILITY_KEYS, RESPONSIBILITY_COLOURS, strict=True), start=2):
        chart.add_series({
            "name": label, "categories": [sheet.get_name(), first, 1, last, 1],
            "values": [sheet.get_name(), first, index, last, index], "fill": {"color": colour},
        })
    chart.set_title({"name": f"{cases.today:%Y年%m月}投诉按被投诉人和责任", "name_font": {"size": 11}})
    chart.set_y_axis({"min": 0, "major_unit": 1, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size(CHART_SIZE)
    sheet.insert_chart(last + 3, 0, chart)


def write_complaints(out_dir: Path, cases: ComplaintCases, written: list[Path]) -> None:
    """投诉跟踪_D.xlsx: 未结案, 本月已结案, 按责任."""
    out_dir.mkdir(parents=True, exist_ok=True)
    open_title, closed_title, counts_title = _titles(cases)
    with output_book(out_dir, COMPLAINTS_OUTPUT, cases.today, written) as book:
        write_table(book, "未结案", cases.open, CASE_COLS, title=open_title, highlights=(OVERDUE,), page=CASE_PAGE)
        write_table(book, "本月已结案", cases.closed_month, CASE_COLS, title=closed_title, page=CASE_PAGE)
        _counts(book, cases, counts_title)
