"""经理日报_D.xlsx: one printable A4 landscape page the manager reads in a minute — the day's
figures, a line per engineer, and three native charts (quotas, satisfaction mix, daily calls).
The charts read their numbers from a hidden 数据 sheet, so the page itself stays one page.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from xlsxwriter.chart import Chart
from xlsxwriter.worksheet import Worksheet

from kis_batch.calendar import day_label
from kis_batch.outputs import MANAGER_OUTPUT
from kis_batch.render.columns import Col
from kis_batch.render.paper import setup_page, shown_width
from kis_batch.render.saving import output_book
from kis_batch.render.style import Book, write_block, write_title
from kis_batch.rules.summary import ManagerSummary

HEADLINE_COLS = (Col("item", "项目", 10.5, wrap=True), Col("value", "今日数字", 19, wrap=True),
                 Col("note", "说明", 34, wrap=True))
PEOPLE_COLS = (
    Col("name", "姓名", 6), Col("role", "岗位", 8.2), Col("tomorrow", "明日派工", 4, "int"),
    Col("resolutions", "本月解决", 4, "int"), Col("visits", "本月拜访", 4, "int"), Col("status", "指标状态", 7),
    Col("average", "平均分", 4, "km"), Col("breaches", "违规", 4, "int"), Col("complaints", "投诉", 4, "int"),
)
QUOTA_COLS = (Col("name", "姓名"), Col("resolutions", "本月解决", kind="int"), Col("resolution_quota", "解决指标", kind="int"),
              Col("visits", "本月拜访", kind="int"), Col("visit_quota", "拜访指标", kind="int"))
MIX_COLS = (Col("level", "满意度"), Col("count", "条数", kind="int"))
CALL_COLS = (Col("day", "日期", 8), Col("calls", "来电", kind="int"), Col("complaints", "投诉", kind="int"))
PEOPLE_LEFT = len(HEADLINE_COLS) + 1  # one narrow empty column between the two tables
GAP_WIDTH = 2
HEADLINE_TOP = 2
# The three charts side by side across the printed width (x offset from column A, width in pixels).
CHART_HEIGHT = 190
CHART_PLACES = {"quota": (0, 300), "mix": (310, 220), "calls": (540, 300)}


def _data_sheet(book: Book, summary: ManagerSummary, quotas: pd.DataFrame) -> tuple[str, dict[str, tuple[int, int]]]:
    """The charts' numbers, on a hidden sheet: name and (first row, last row) of each block."""
    sheet = book.workbook.add_worksheet("数据")
    sheet.hide()
    spans: dict[str, tuple[int, int]] = {}
    top = 0
    for key, frame, cols in (("quotas", quotas, QUOTA_COLS), ("mix", summary.satisfaction_mix, MIX_COLS),
                             ("calls", summary.daily_calls, CALL_COLS)):
        last = write_block(book, sheet, top, 0, frame, cols, widths=top == 0)
        spans[key] = (top + 1, last)
        top = last + 2
    return sheet.get_name(), spans


def _charts(book: Book, page: Worksheet, data: str, spans: dict[str, tuple[int, int]], row: int) -> None:
    """The three charts side by side from `row`, under the headline."""
    first, last = spans["quotas"]
    quota = book.workbook.add_chart({"type": "column"})
    for column, colour in ((1, "#5B9BD5"), (2, "#BDD7EE"), (3, "#ED7D31"), (4, "#F8CBAD")):
        quota.add_series({"name": [data, first - 1, column], "categories": [data, first, 0, last, 0],
                          "values": [data, first, column, last, column], "fill": {"color": colour}})
    quota.set_title({"name": "本月解决与拜访 vs 指标", "name_font": {"size": 11}})
    quota.set_legend({"position": "bottom"})
    _place(page, quota, "quota", row)

    first, last = spans["mix"]
    mix = book.workbook.add_chart({"type": "pie"})
    mix.add_series({"name": "满意度构成", "categories": [data, first, 0, last, 0], "values": [data, first, 1, last, 1],
                    "data_labels": {"percentage": True, "category": True},
                    "points": [{"fill": {"color": c}} for c in ("#70AD47", "#A9D18E", "#FFC000", "#C00000")]})
    mix.set_title({"name": "本月满意度构成", "name_font": {"size": 11}})
    mix.set_legend({"none": True})
    _place(page, mix, "mix", row)

    first, last = spans["calls"]
    calls = book.workbook.add_chart({"type": "line"})
    calls.add_series({"name": "来电", "categories": [data, first, 0, last, 0], "values": [data, first, 1, last, 1],
                      "marker": {"type": "circle", "size": 4}})
    # Complaints are tens to calls' hundreds: their own scale, on the right.
    calls.add_series({"name": "投诉（右轴）", "categories": [data, first, 0, last, 0], "values": [data, first, 2, last, 2],
                      "marker": {"type": "square", "size": 4}, "y2_axis": True})
    calls.set_y_axis({"name": "来电", "min": 0})
    calls.set_y2_axis({"name": "投诉", "min": 0, "major_unit": 1})
    calls.set_title({"name": "本月每日来电与投诉", "name_font": {"size": 11}})
    calls.set_x_axis({"num_font": {"rotation": -45}})
    calls.set_legend({"position": "bottom"})
    _place(page, calls, "calls", row)


def _place(page: Worksheet, chart: Chart, key: str, row: int) -> None:
    x, width = CHART_PLACES[key]
    chart.set_size({"width": width, "height": CHART_HEIGHT})
    page.insert_chart(row, 0, chart, {"x_offset": x + 5, "y_offset": 5})


def write_manager(out_dir: Path, summary: ManagerSummary, gaps: pd.DataFrame, written: list[Path]) -> None:
    """The one-page report; gaps (the quota table) feeds the quota chart."""
    today, plan = summary.today, summary.plan_date
    quotas = pd.DataFrame({
        "name": gaps["name"], "resolutions": gaps["resolutions_done"], "resolution_quota": gaps["resolutions_quota"],
        "visits": gaps["visits_done"], "visit_quota": gaps["visits_quota"],
    }) if len(gaps) else pd.DataFrame(columns=[c.key for c in QUOTA_COLS])
    out_dir.mkdir(parents=True, exist_ok=True)
    with output_book(out_dir, MANAGER_OUTPUT, today, written) as book:
        page = book.workbook.add_worksheet("日报")
        last_col = PEOPLE_LEFT + len(PEOPLE_COLS) - 1
        units = sum(shown_width(c) for c in (*HEADLINE_COLS, *PEOPLE_COLS)) + GAP_WIDTH
        write_title(book, page, f"服务部经理日报 {day_label(today)} · 派工日 {day_label(plan)}", last_col, units)
        chart_row = write_block(book, page, HEADLINE_TOP, 0, summary.headline, HEADLINE_COLS) + 2
        page.set_column(PEOPLE_LEFT - 1, PEOPLE_LEFT - 1, GAP_WIDTH)
        page.write_string(1, PEOPLE_LEFT, "人员一览", book.fmt("block_heading", bold=True, font_size=12))
        write_block(book, page, 2, PEOPLE_LEFT, summary.people, PEOPLE_COLS)
        data, spans = _data_sheet(book, summary, quotas)
        _charts(book, page, data, spans, chart_row)
        setup_page(page, units, last_col, landscape=True, one_page=True)
        page.activate()
