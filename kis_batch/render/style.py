"""The small style kit every output workbook shares: Chinese headers, widths, frozen header rows,
dropdowns on fill-in columns, conditional colours, and cells that never become a formula or link.
Declaring a column is render/columns.py; how text measures on paper and each sheet's page set-up
(docs/rules.md § Outputs: page 1 legible on A4) is render/paper.py; saving a workbook safely is
render/saving.py.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from kis_batch.render.columns import Col
from kis_batch.render.paper import (
    BODY_PT,
    COMFORTABLE_PT,
    EXCEL_MAX_ROWS,
    LINE_HEIGHT,
    TITLE_LINE_PT,
    TITLE_PT,
    WIDE_CHAR_UNITS,
    WRAP_PAD_UNITS,
    Page,
    header_height,
    printed_lines,
    printed_pt,
    printed_span,
    setup_page,
    shown_width,
)
from kis_batch.rules.display import PERCENT_FORMAT
from kis_batch.tables import column_lists

EXCEL_MAX_CELL_CHARS = 32_767
FIXED_CREATED = dt.datetime(2000, 1, 1)
HEADER_BG = "#DDEBF7"
# Yellow marks what staff fill in on a sheet that comes back, and nothing else.
FILL_BG = "#FFF9E5"
WARNING_BG = "#FFE699"
ERROR_BG = "#F8CBAD"
ATTENTION_BG = "#FCE4D6"  # light orange: needs a look (a warning, a key customer), never filled in
GOOD_BG = "#C6EFCE"
# Excel keeps a sheet's name to 31 characters and forbids a few.
_SHEET_NAME_FORBIDDEN = str.maketrans({c: "_" for c in "[]:*?/\\"})

# Numbers end in a space's width ("_ "), so a right-aligned figure never runs into the text of the
# column after it. deduction shows a points deduction with its minus sign; gap shows a quota
# exceeded (a negative gap) as 超额 N. The values stay what they are.
DATED_KINDS = ("date", "datetime")  # written as Excel dates, a bare date at midnight
NUMBER_FORMATS = {
    "date": "yyyy-mm-dd",
    "time": "hh:mm",
    "datetime": "yyyy-mm-dd hh:mm",
    "int": "0_ ",
    "number": "#,##0.00_ ",
    "percent": f"{PERCENT_FORMAT}_ ",
    "score": "0_ ",
    "km": "0.0_ ",
    "deduction": '"−"0.0_ ;"+"0.0_ ;0.0_ ',
    "gap": '0_ ;"超额 "0_ ;0_ ',
}


class OutputTooLarge(Exception):
    """An output that Excel could not hold; never truncated silently."""


@dataclass(frozen=True)
class Highlight:
    """A conditional colour: rows (or one column) where a formula on the row is true."""

    column: str | None  # key of the column to colour, or None for the whole row
    criteria: str  # xlsxwriter 'cell' criteria such as '==' / '>', or 'text' for an exact value
    value: Any
    colour: str = ERROR_BG


@dataclass
class Book:
    """An open output workbook with its shared formats."""

    workbook: Workbook
    formats: dict[str, Any] = field(default_factory=dict)
    report_only: bool = False  # never comes back: no column is tinted as one to fill in
    cells: int = 0  # the table cells written so far (write_block), which decide how it is saved

    def fmt(self, name: str, **props: Any) -> Any:
        if name not in self.formats:
            self.formats[name] = self.workbook.add_format(props)
        return self.formats[name]

    def cell_format(self, kind: str, fill: bool, wrap: bool = False) -> Any:
        """The format of a data cell: its number format, tinted where staff fill it in."""
        props: dict[str, Any] = {"valign": "top", "text_wrap": wrap}
        if kind in NUMBER_FORMATS:
            props["num_format"] = NUMBER_FORMATS[kind]
        fill = fill and not self.report_only
        if fill:
            props.update(bg_color=FILL_BG, border=1)
        return self.fmt(f"cell-{kind}-{fill}-{wrap}", **props)


def sheet_name(name: str, taken: Sequence[str] = ()) -> str:
    """A valid, unique Excel sheet name (31 characters, no []:*?/\\)."""
    base = name.translate(_SHEET_NAME_FORBIDDEN).strip("'")[:31] or "Sheet"
    candidate, number = base, 2
    lowered = {t.lower() for t in taken}
    while candidate.lower() in lowered:
        suffix = f"({number})"
        candidate, number = base[: 31 - len(suffix)] + suffix, number + 1
    return candidate


def _cell_text(value: Any) -> str:
    text = str(value)
    if len(text) > EXCEL_MAX_CELL_CHARS:
        raise OutputTooLarge(f"一个单元格的文字超过Excel上限 {EXCEL_MAX_CELL_CHARS} 字符：{text[:40]}…")
    return text


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NaT:
        return True
    if type(value) is float:
        return math.isnan(value)
    if isinstance(value, (str, bool, int, dt.date, dt.time)):
        return False
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class CellFormats:
    """A column's two formats: for values of its kind, and for anything shown as text."""

    kind: Any
    text: Any


def column_formats(book: Book, col: Col) -> CellFormats:
    return CellFormats(book.cell_format(col.kind, col.fill, col.wrap), book.cell_format("text", col.fill, col.wrap))


def write_cell(sheet: Worksheet, row: int, col: int, value: Any, kind: str, formats: CellFormats) -> None:
    """Write one value with its type's format; text is always text, never a formula or link."""
    if type(value) is str:  # most cells: checked first, as the general path below costs a dozen tests
        sheet.write_string(row, col, value if len(value) <= EXCEL_MAX_CELL_CHARS else _cell_text(value), formats.text)
        return
    if _is_missing(value):
        sheet.write_blank(row, col, None, formats.kind)
        return
    if kind in DATED_KINDS and isinstance(value, (dt.date, pd.Timestamp)):
        if not isinstance(value, dt.datetime):
            value = dt.datetime.combine(value, dt.time(0))
        sheet.write_datetime(row, col, value, formats.kind)
    elif kind == "time" and isinstance(value, dt.time):
        sheet.write_datetime(row, col, value, formats.kind)
    elif kind in NUMBER_FORMATS and isinstance(value, (int, float)) and not isinstance(value, bool):
        sheet.write_number(row, col, float(value), formats.kind)
    else:
        sheet.write_string(row, col, shown_text(value), formats.text)


def shown_text(value: Any) -> str:
    """A value as a sheet shows it in words: 是/否, hh:mm, ISO dates, whole numbers without .0,
    nothing for a missing value."""
    if _is_missing(value):
        return ""
    if isinstance(value, bool):
        value = "是" if value else "否"
    elif isinstance(value, dt.time):
        value = value.strftime("%H:%M")
    elif isinstance(value, dt.datetime):
        value = value.strftime("%Y-%m-%d %H:%M")
    elif isinstance(value, dt.date):
        value = value.isoformat()
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    return _cell_text(value)


def write_text(sheet: Worksheet, row: int, col: int, value: Any, fmt: Any, *,
               to_row: int | None = None, to_col: int | None = None) -> None:
    """A value as text in one cell, or across the merged cells up to (to_row, to_col): a form's
    field, never a formula or link; a blank field keeps its format (its borders)."""
    last_row, last_col = to_row if to_row is not None else row, to_col if to_col is not None else col
    if (last_row, last_col) != (row, col):
        sheet.merge_range(row, col, last_row, last_col, None, fmt)
    text = shown_text(value)
    if text:
        sheet.write_string(row, col, text, fmt)
    else:
        sheet.write_blank(row, col, None, fmt)


def _wrapped_heights(values: Sequence[Any], width: float, heights: list[float]) -> None:
    """Raise each row's height (heights) to what its wrapped cell of this column needs: LibreOffice
    (and Excel for written rows) keep the default height when opening a file, which would show only
    the first line. A text too short to wrap even in wide characters, and with no line break, keeps
    the row as it is, unmeasured: most cells of a long sheet."""
    room = max(width - WRAP_PAD_UNITS, 1)  # as printed_lines measures
    for offset, value in enumerate(values):
        if not isinstance(value, str) or not value or (len(value) * WIDE_CHAR_UNITS <= room and "\n" not in value):
            continue
        lines = printed_lines(value, width)
        if lines > 1 and LINE_HEIGHT * lines + 2 > heights[offset]:
            heights[offset] = LINE_HEIGHT * lines + 2


def header_format(book: Book, fill: bool) -> Any:
    """A header cell: blue, or yellow over a column staff fill in on a sheet that comes back."""
    if fill and not book.report_only:
        return book.fmt("fill_header", bold=True, bg_color=WARNING_BG, border=1, text_wrap=True, valign="vcenter",
                        align="center")
    return book.fmt("header", bold=True, bg_color=HEADER_BG, border=1, text_wrap=True, valign="vcenter",
                    align="center")


def write_block(book: Book, sheet: Worksheet, top: int, left: int, frame: pd.DataFrame, cols: Sequence[Col], *,
                row_height: float | None = None, widths: bool = True) -> int:
    """A header row at (top, left) and the frame's rows under it (and the columns' widths, unless
    the block sits under another table that set them); returns the last row written. write_table
    is one block on its own sheet; a summary page places several. Each row is as tall as its
    wrapped text needs, and at least row_height (room to write by hand)."""
    shown = [shown_width(col) for col in cols]
    for index, (col, width) in enumerate(zip(cols, shown, strict=True), left):
        sheet.write_string(top, index, col.header, header_format(book, col.fill))
        if widths:
            sheet.set_column(index, index, width)
    sheet.set_row(top, header_height(cols))
    first = top + 1
    book.cells += len(frame) * len(cols)
    blank = [None] * len(frame)
    by_key = dict(zip(frame.columns, column_lists(frame), strict=True))
    values = [by_key.get(col.key, blank) for col in cols]
    places = [(index, col.kind, column_formats(book, col), col.kind in NUMBER_FORMATS, col.kind in DATED_KINDS)
              for index, col in enumerate(cols, left)]
    heights: list[float] = [row_height or 0] * len(frame)
    for col, width, column in zip(cols, shown, values, strict=True):
        if col.wrap:
            _wrapped_heights(column, width, heights)
    write_string, write_number, write_blank = sheet.write_string, sheet.write_number, sheet.write_blank
    write_datetime = sheet.write_datetime
    for at, row, height in zip(range(first, first + len(frame)), zip(*values, strict=True), heights,
                               strict=True) if cols else ():
        if height:
            sheet.set_row(at, height)
        # The commonest cells written here directly, as write_cell would write them.
        for (index, kind, fmt, numeric, dated), value in zip(places, row, strict=True):
            of = type(value)
            if of is str and len(value) <= EXCEL_MAX_CELL_CHARS:
                write_string(at, index, value, fmt.text)
            elif value is None:
                write_blank(at, index, None, fmt.kind)
            elif numeric and (of is int or (of is float and value == value)):
                write_number(at, index, float(value), fmt.kind)
            elif dated and of is dt.datetime:
                write_datetime(at, index, value, fmt.kind)
            else:
                write_cell(sheet, at, index, value, kind, fmt)
    return top + len(frame)


def write_title(book: Book, sheet: Worksheet, text: str, last_col: int, units: float, row: int = 0) -> None:
    """A sheet's first line, merged across the printed columns and wrapped there, so paper keeps every word."""
    fmt = book.fmt("table_title", bold=True, font_size=TITLE_PT, text_wrap=True, valign="vcenter")
    write_text(sheet, row, 0, _cell_text(text), fmt, to_col=max(last_col, 0))
    lines = printed_lines(text, units / (TITLE_PT / BODY_PT))
    sheet.set_row(row, TITLE_LINE_PT * lines + 4)


def write_notes(book: Book, sheet: Worksheet, row: int, lines: Sequence[str], last_col: int, units: float) -> int:
    """Explanations under a table, each merged across the printed columns and wrapped there; returns
    the row after them."""
    fmt = book.fmt("note", font_color="#595959", text_wrap=True, valign="top")
    for offset, text in enumerate(lines):
        write_text(sheet, row + offset, 0, text, fmt, to_col=max(last_col, 0))
        height = printed_lines(text, units)
        if height > 1:
            sheet.set_row(row + offset, LINE_HEIGHT * height + 2)
    return row + len(lines)


def write_table(
    book: Book,
    name: str,
    frame: pd.DataFrame,
    cols: Sequence[Col],
    *,
    title: str | None = None,
    highlights: Sequence[Highlight] = (),
    page: Page = Page(),
    fill_rows: int = 0,
) -> Worksheet:
    """A sheet people read and fill: optional title row, header row frozen and repeated on print,
    filters, widths, typed cells, dropdowns on fill-in columns, conditional colours, and its page set-up.

    fill_rows: extra blank rows below the data that keep the dropdowns (for blank templates).
    """
    if len(frame) + 2 > EXCEL_MAX_ROWS:
        raise OutputTooLarge(f"工作表“{name}”有 {len(frame):,} 行，超过Excel上限 {EXCEL_MAX_ROWS:,} 行")
    workbook = book.workbook
    sheet = workbook.add_worksheet(sheet_name(name, [ws.get_name() for ws in workbook.worksheets()]))
    span = printed_span(cols, page)
    header_row = 0
    empty = page.empty if page.empty and not len(frame) else None
    if title or empty:
        write_title(book, sheet, empty or title or "", span.last_col, span.units)
        header_row = 1
    last_data = write_block(book, sheet, header_row, 0, frame, cols, row_height=page.row_pt)
    first = header_row + 1
    last = max(last_data, header_row + fill_rows)
    for index, col in enumerate(cols):
        if col.fill and last >= first:
            for row in range(last_data + 1, last + 1):
                sheet.write_blank(row, index, None, book.cell_format(col.kind, True))
            if col.choices:
                sheet.data_validation(first, index, last, index, {
                    "validate": "list", "source": list(col.choices),
                    "error_title": "请从下拉列表选择", "error_message": "可选：" + "/".join(col.choices),
                })
    same_test: dict[tuple[str, Any, str], list[Highlight]] = {}
    for rule in highlights:
        same_test.setdefault((rule.criteria, rule.value, rule.colour), []).append(rule)
    for rules in same_test.values():
        _highlight(book, sheet, cols, rules, first, last_data)
    sheet.freeze_panes(header_row + 1, 0)
    if cols:
        sheet.autofilter(header_row, 0, max(last_data, header_row), len(cols) - 1)
    landscape = page.landscape
    if landscape is None and printed_pt(span.units, False) < max(page.min_pt, COMFORTABLE_PT):
        landscape = True
    # An empty table prints as its one line; the header row stays for a sheet that comes back.
    if empty:
        setup_page(sheet, span.units, span.last_col, landscape=landscape, last_row=0)
    else:
        setup_page(sheet, span.units, span.last_col, header_row=header_row, landscape=landscape)
    return sheet


def _highlight(book: Book, sheet: Worksheet, cols: Sequence[Col], rules: list[Highlight], first: int, last: int) -> None:
    """Rules that differ only in the column they colour become one conditional format over all
    their columns: xlsxwriter spends half a millisecond preparing each rule's formula."""
    if last < first:
        return
    rule = rules[0]
    keys = [c.key for c in cols]
    fmt = book.fmt("hl" + rule.colour, bg_color=rule.colour)
    letter = xlsxwriter.utility.xl_col_to_name(keys.index(rule.value[0]))
    if rule.criteria == "text":
        formula = f'=${letter}{first + 1}="{rule.value[1]}"'
    else:
        formula = f"=AND(ISNUMBER(${letter}{first + 1}),${letter}{first + 1}{rule.criteria}{rule.value[1]})"
    targets = sorted({keys.index(r.column) for r in rules if r.column in keys})
    if len(targets) < len(rules):  # a rule for the whole row (or a column not shown) colours the row
        targets = list(range(len(cols)))
    runs: list[tuple[int, int]] = []
    for target in targets:
        if runs and runs[-1][1] == target - 1:
            runs[-1] = (runs[-1][0], target)
        else:
            runs.append((target, target))
    ranges = " ".join(xlsxwriter.utility.xl_range(first, start, last, end) for start, end in runs)
    sheet.conditional_format(first, runs[0][0], last, runs[0][1],
                             {"type": "formula", "criteria": formula, "format": fmt, "multi_range": ranges})


