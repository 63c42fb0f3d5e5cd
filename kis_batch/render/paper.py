"""Paper: how LibreOffice lays a sheet out on A4 (docs/rules.md § Outputs: page 1 legible), measured
once here so every writer sizes columns, rows and pages by the same numbers: a column's shown width,
each sheet's declared page set-up and the set-up that applies it."""

from __future__ import annotations

import functools
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from xlsxwriter.worksheet import Worksheet

from kis_batch.render.columns import Col

EXCEL_MAX_ROWS = 1_048_576
LINE_HEIGHT = 15  # points per line of the default font
WRAP_FILL = 0.9  # the share of a column's width a wrapped line fills, leaving room for word breaks

# How LibreOffice lays a sheet out on paper (docs/rules.md § Outputs: page 1 legible on A4): a column
# unit is 7.5 pt wide; at the default 11 pt a Chinese character takes 11 pt (1.47 units), another
# character about 0.9 units; a cell keeps about 0.2 units of padding. Wrapped lines are counted
# with more room kept (WRAP_PAD_UNITS), as a row cut short hides words.
BODY_PT = 11
UNIT_PT = 7.5
WIDE_CHAR_UNITS, NARROW_CHAR_UNITS, CELL_PAD_UNITS, WRAP_PAD_UNITS = 1.47, 0.9, 0.2, 0.8
A4_PT = {"portrait": 595, "landscape": 842}
SIDE_MARGIN_IN, END_MARGIN_IN = 0.3, 0.4
COMFORTABLE_PT = 10  # a table this legible on a portrait page prints portrait
TITLE_PT = 14
TITLE_LINE_PT = 20

ROUTE_PAGE_PT = 9  # an engineer's route is read on the road: larger than other sheets
HANDWRITING_ROW_PT = 36  # a row of a sheet filled in by hand on paper


@functools.lru_cache(maxsize=2**16)
def text_width(text: str) -> int:
    """Width in Excel column units: a Chinese character takes two. Cached: names, addresses and
    reasons repeat down long sheets."""
    if text.isascii():
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@functools.lru_cache(maxsize=2**16)
def printed_width(text: str) -> float:
    """Width of a line of 11 pt text as LibreOffice prints it, in column units."""
    if text.isascii():
        return len(text) * NARROW_CHAR_UNITS
    return sum(WIDE_CHAR_UNITS if unicodedata.east_asian_width(ch) in "WF" else NARROW_CHAR_UNITS for ch in text)


def printed_lines(text: str, width: float) -> int:
    """Lines a text wraps to in a column this wide (its own line breaks kept). A line too short to
    fill the room even in wide characters is one line, unmeasured: most cells of a long sheet."""
    room = max(width - WRAP_PAD_UNITS, 1)
    return sum(1 if len(line) * WIDE_CHAR_UNITS <= room else max(1, math.ceil(printed_width(line) / room))
               for line in text.split("\n"))


def header_lines(header: str, width: float) -> list[str]:
    """The header as LibreOffice breaks it in a column this wide: as many characters as fit per line."""
    room, lines = width - CELL_PAD_UNITS, []
    for part in header.split("\n"):
        line = ""
        for ch in part:
            if line and printed_width(line + ch) > room:
                lines.append(line)
                line = ""
            line += ch
        lines.append(line)
    return lines


def half_width(header: str) -> float:
    """The width that breaks a one-line header into two balanced lines."""
    half = math.ceil(len(header) / 2)
    return max(printed_width(header[:half]), printed_width(header[half:])) + CELL_PAD_UNITS + 0.1


def page_units(landscape: bool) -> float:
    """Column units an A4 page holds across at 100 %."""
    width = A4_PT["landscape" if landscape else "portrait"] - 2 * SIDE_MARGIN_IN * 72
    return width / UNIT_PT


def printed_pt(units: float, landscape: bool) -> float:
    """The body text size a table this wide prints at, fitted to the page's width."""
    return BODY_PT * min(1.0, page_units(landscape) / units) if units else BODY_PT


def setup_page(sheet: Worksheet, units: float, last_col: int, *, header_row: int | None = None,
               landscape: bool | None = None, last_row: int = EXCEL_MAX_ROWS - 2, one_page: bool = False) -> None:
    """A4, fitted to the width only, margins, repeated header rows and the print area: the columns up
    to last_col, every row used (notes and charts under a table print with it; LibreOffice and Excel
    print no empty rows); portrait where the printed columns are comfortably legible on it
    (landscape None), else as given. one_page: also fitted to one page tall, only for a page laid
    out to be one page (the manager's), never for a table that grows with its rows."""
    if landscape is None:
        landscape = printed_pt(units, False) < COMFORTABLE_PT
    sheet.set_paper(9)  # A4
    if landscape:
        sheet.set_landscape()
    else:
        sheet.set_portrait()
    sheet.fit_to_pages(1, 1 if one_page else 0)
    sheet.set_margins(left=SIDE_MARGIN_IN, right=SIDE_MARGIN_IN, top=END_MARGIN_IN, bottom=END_MARGIN_IN)
    if header_row is not None:
        sheet.repeat_rows(header_row)
    sheet.print_area(0, 0, last_row, max(last_col, 0))


def shown_width(col: Col) -> float:
    """A column's width on the sheet: its own, widened where its header would break badly. A header
    stays whole on one line, or breaks in two even halves where Chinese words of two characters
    meet (投诉/扣分, 上线晚/工作日); never mid-word, leaving one character alone or taking three
    lines. A column too narrow for the halves widens to them, any other to the whole line (never
    narrower: its values need the width)."""
    parts = col.header.split("\n")
    if len(parts) > 1:  # the header says where it breaks
        return max(col.width, max(printed_width(p) for p in parts) + CELL_PAD_UNITS + 0.1)
    lines = header_lines(col.header, col.width)
    halves = len(col.header) % 2 == 0 and not col.header.isascii()
    if len(lines) == 1 or (halves and [len(line) for line in lines] == [len(col.header) // 2] * 2):
        return col.width
    half = half_width(col.header)
    if halves and col.width < half:
        return half
    return max(col.width, printed_width(col.header) + CELL_PAD_UNITS + 0.1)


def header_height(cols: Sequence[Col]) -> float:
    """The header row's height: the most lines any header takes at its shown width."""
    lines = max((len(header_lines(c.header, shown_width(c))) for c in cols), default=1)
    return max(2, lines) * LINE_HEIGHT


@dataclass(frozen=True)
class Page:
    """A sheet's declared print set-up (docs/rules.md § Outputs): A4, fitted to the page's width only
    (never squeezed onto one page tall), the header rows repeated on every page, and a print area of
    the columns that matter on paper. Helper columns (those the sheet needs to come back, the same on
    every row) stand after the printed ones.

    printed: how many leading columns print (None: all). min_pt: the smallest body text the printed
    columns may come out at; landscape: None chooses portrait where the table prints comfortably on
    it. row_pt: every data row at least this tall, room to write by hand. empty: what the sheet says,
    alone on its page, when the table has no rows.
    """

    printed: int | None = None
    min_pt: float = 8
    landscape: bool | None = None
    row_pt: float | None = None
    empty: str | None = None

    def columns(self, cols: Sequence[Col]) -> Sequence[Col]:
        return cols if self.printed is None else cols[: self.printed]


@dataclass(frozen=True)
class Printed:
    """What write_table decided about paper: the printed columns' last index and width in units, so
    lines written under the table span the same width."""

    last_col: int
    units: float


def printed_span(cols: Sequence[Col], page: Page) -> Printed:
    shown = page.columns(cols)
    return Printed(len(shown) - 1, sum(shown_width(c) for c in shown))
