"""The 服务单 sheet of an engineer's dispatch workbook: one A4 portrait page per visit, in route
order, in type large enough to read at the customer's door, with boxes to fill by hand (times,
result, satisfaction, the customer's signature).

It is for paper only. The table sheet before it stays the one that comes back as feedback; the
reader passes this sheet over by its name (schema.SERVICE_SHEET), so a returned workbook holding
it gives no problem rows.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.calendar import day_label
from kis_batch.render.paper import WRAP_FILL, text_width
from kis_batch.render.style import FILL_BG, HEADER_BG, WARNING_BG, Book, shown_text, write_text
from kis_batch.rules.suggestions import SUGGESTED
from kis_batch.schema import RESULTS, SATISFACTION, SERVICE_SHEET
from kis_batch.tables import rows_of

# Four columns: label, value, label, value; 84 width units are about 460 pt in Excel's Calibri, an A4
# portrait page less its margins at 100%.
LABEL_WIDTH, VALUE_WIDTH = 14, 28
VALUE_SPAN = LABEL_WIDTH + 2 * VALUE_WIDTH  # a value running from B to D
BODY_PT, LABEL_PT, TITLE_PT = 16, 14, 22
LINE_PT = 22  # one line of body text, with its leading
FIELD_PT = 32  # a one-line field
PROBLEM_LINES = 4  # the problem box is at least this many lines tall, room for more words by hand
HEADER_PT = {"letterhead": 26, "title": 40, "date": 26}
GAP_PT = 13
BOX_PT = {"band": 28, "times": 46, "choices": 40, "signature": 110}
# The rows of a page add up to this (A4 is 842 pt tall, less the margins and some room for
# rounding); the notes box is what is left, and never less than NOTES_MIN_PT.
PAGE_PT = 730
NOTES_MIN_PT = 48
CHECKBOX = "☐"
MODES = ("上门", "远程")  # how this visit was done; a phone call needs no form
SIGNED_ON = "日期：　　年　　月　　日"
TIME_GUIDE = "时　　　分"
MARGIN_IN = 0.5


def _lines(text: str, width_units: float, font_pt: float) -> int:
    """Lines a text wraps to in merged cells width_units wide, at font_pt (widths are measured at 11 pt)."""
    if not text:
        return 1
    return max(1, math.ceil(text_width(text) * font_pt / 11 / (width_units * WRAP_FILL)))


def _choices(options: tuple[str, ...]) -> str:
    return "　　".join(f"{CHECKBOX} {option}" for option in options)


@dataclass(frozen=True)
class Letterhead:
    """The company and its hotline at the top of every page (settings 公司名称, 服务热线): the form
    stays with the customer."""

    company: str
    hotline: str


class _Form:
    """The formats of the form and the writing of one field row."""

    def __init__(self, book: Book, sheet: Worksheet) -> None:
        self.sheet = sheet
        base = {"valign": "vcenter", "text_wrap": True}
        self.title = book.fmt("svc-title", bold=True, font_size=TITLE_PT, valign="vcenter")
        self.flag = book.fmt("svc-flag", bold=True, font_size=LABEL_PT, align="right", valign="vcenter",
                             font_color="#C00000")
        self.sub = book.fmt("svc-sub", font_size=LABEL_PT, valign="vcenter", bottom=2)
        self.sub_right = book.fmt("svc-sub-right", font_size=LABEL_PT, valign="vcenter", align="right", bottom=2)
        self.label = book.fmt("svc-label", bold=True, font_size=LABEL_PT, bg_color=HEADER_BG, border=1,
                              align="center", **base)
        self.value = book.fmt("svc-value", font_size=BODY_PT, border=1, align="left", indent=1, **base)
        self.strong = book.fmt("svc-strong", bold=True, font_size=BODY_PT + 1, border=1, align="left", indent=1,
                               **base)
        self.problem = book.fmt("svc-problem", font_size=BODY_PT, border=1, align="left", indent=1, text_wrap=True,
                                valign="top")
        self.band = book.fmt("svc-band", bold=True, font_size=LABEL_PT, bg_color=WARNING_BG, border=1,
                             align="left", indent=1, valign="vcenter")
        self.fill_label = book.fmt("svc-fill-label", bold=True, font_size=LABEL_PT, bg_color=WARNING_BG, border=1,
                                   align="center", **base)
        self.box = book.fmt("svc-box", font_size=BODY_PT, bg_color=FILL_BG, border=1, align="left", indent=1, **base)
        self.time_box = book.fmt("svc-time", font_size=BODY_PT, bg_color=FILL_BG, border=1, align="right", indent=2,
                                 valign="vcenter", font_color="#808080")
        self.signature = book.fmt("svc-signature", bg_color=FILL_BG, border=2)
        self.signed_on = book.fmt("svc-signed-on", font_size=LABEL_PT, bg_color=FILL_BG, border=2, valign="bottom",
                                  align="left", indent=1)
        self.company = book.fmt("svc-company", bold=True, font_size=LABEL_PT, valign="vcenter")
        self.hotline = book.fmt("svc-hotline", font_size=LABEL_PT, valign="vcenter", align="right")

    def pair(self, row: int, label: str, value: Any, label2: str, value2: Any, fmt: Any = None) -> None:
        self.sheet.write_string(row, 0, label, self.label)
        write_text(self.sheet, row, 1, value, fmt or self.value)
        self.sheet.write_string(row, 2, label2, self.label)
        write_text(self.sheet, row, 3, value2, self.value)

    def wide(self, row: int, label: str, value: Any, fmt: Any, label_fmt: Any = None) -> None:
        self.sheet.write_string(row, 0, label, label_fmt or self.label)
        write_text(self.sheet, row, 1, value, fmt, to_col=3)


def _write_visit(form: _Form, top: int, row: dict[str, Any], stop: str, day: str, engineer: str,
                 letterhead: Letterhead) -> int:
    """One page's rows from top (stop: which of how many); returns the row after the page."""
    sheet = form.sheet
    suggested = row.get("kind") == SUGGESTED
    name, address, problem = (shown_text(row.get(key)) for key in ("customer_name", "address", "problem"))
    heights = [
        HEADER_PT["letterhead"], HEADER_PT["title"], HEADER_PT["date"], GAP_PT, FIELD_PT, FIELD_PT,
        max(FIELD_PT, _lines(name, VALUE_SPAN, BODY_PT + 1) * LINE_PT + 8), FIELD_PT,
        max(FIELD_PT, _lines(address, VALUE_SPAN, BODY_PT) * LINE_PT + 8),
        max(PROBLEM_LINES, _lines(problem, VALUE_SPAN, BODY_PT)) * LINE_PT + 10, GAP_PT,
        BOX_PT["band"], BOX_PT["times"], BOX_PT["choices"], BOX_PT["choices"], BOX_PT["choices"],
        BOX_PT["signature"],
    ]
    # The notes box takes what the page has left, so a long problem text still fits on one page.
    heights.insert(len(heights) - 1, max(NOTES_MIN_PT, PAGE_PT - sum(heights)))
    for offset, height in enumerate(heights):
        sheet.set_row(top + offset, height)

    write_text(sheet, top, 0, letterhead.company, form.company, to_col=1)
    write_text(sheet, top, 2, f"服务热线：{letterhead.hotline}" if letterhead.hotline else "", form.hotline, to_col=3)
    top += 1
    write_text(sheet, top, 0, f"服务单　{stop}", form.title, to_col=2)
    flags = [word for word, shown in (("建议拜访（可选）", suggested), ("★ 重点客户", row.get("key_customer") is True))
             if shown]
    write_text(sheet, top, 3, "　".join(flags), form.flag)
    write_text(sheet, top + 1, 0, f"服务日期：{day}", form.sub, to_col=1)
    write_text(sheet, top + 1, 2, f"服务工程师：{engineer}", form.sub_right, to_col=3)
    form.pair(top + 3, "工单号", shown_text(row.get("ticket_id")) or ("无（主动拜访）" if suggested else ""),
              "服务类型", row.get("service_type"))
    form.pair(top + 4, "客户编号", row.get("customer_id"), "联系人", row.get("contact"))
    form.wide(top + 5, "客户名称", name, form.strong)
    form.pair(top + 6, "联系电话", row.get("phone"), "原服务代表", row.get("owner_name"), form.strong)
    form.wide(top + 7, "地址", address, form.value)
    form.wide(top + 8, "拜访原因" if suggested else "问题描述", problem, form.problem)

    write_text(sheet, top + 10, 0, "现场填写（回来后请把结果填入派工单第一张表的黄色列交回）", form.band, to_col=3)
    for col, label in ((0, "到达时间"), (2, "离开时间")):
        sheet.write_string(top + 11, col, label, form.fill_label)
        sheet.write_string(top + 11, col + 1, TIME_GUIDE, form.time_box)
    form.wide(top + 12, "服务方式", _choices(MODES), form.box, form.fill_label)
    form.wide(top + 13, "处理结果", _choices(RESULTS), form.box, form.fill_label)
    form.wide(top + 14, "客户满意度", _choices(SATISFACTION), form.box, form.fill_label)
    form.wide(top + 15, "处理情况", None, form.box, form.fill_label)
    sheet.write_string(top + 16, 0, "客户签字", form.fill_label)
    write_text(sheet, top + 16, 1, None, form.signature, to_col=2)
    write_text(sheet, top + 16, 3, SIGNED_ON, form.signed_on)
    return top - 1 + len(heights)


def write_service_sheet(book: Book, rows: pd.DataFrame, plan_date: dt.date, engineer: str,
                        letterhead: Letterhead) -> Worksheet | None:
    """The 服务单 sheet: a page per row of the engineer's table sheet, in the same order. None for
    an engineer without visits: an empty form would be paper for nothing (and such an engineer
    gets no dispatch workbook today anyway)."""
    if not len(rows):
        return None
    sheet = book.workbook.add_worksheet(SERVICE_SHEET)
    form = _Form(book, sheet)
    sheet.set_column(0, 0, LABEL_WIDTH)
    sheet.set_column(1, 1, VALUE_WIDTH)
    sheet.set_column(2, 2, LABEL_WIDTH)
    sheet.set_column(3, 3, VALUE_WIDTH)
    day = day_label(plan_date)
    records = rows_of(rows)
    starts, top = [], 0
    for stop, record in enumerate(records, start=1):
        starts.append(top)
        top = _write_visit(form, top, record, f"第 {stop} 站（共 {len(records)} 站）", day, engineer, letterhead)
    sheet.set_h_pagebreaks(starts[1:])
    sheet.print_area(0, 0, top - 1, 3)
    sheet.set_paper(9)  # A4
    sheet.set_portrait()
    sheet.fit_to_pages(1, 0)
    sheet.center_horizontally()
    sheet.set_margins(left=MARGIN_IN, right=MARGIN_IN, top=MARGIN_IN, bottom=MARGIN_IN)
    sheet.hide_gridlines(2)
    return sheet
