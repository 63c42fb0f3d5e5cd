"""指标缺口_D.xlsx: each service engineer's month so far against the resolution and visit quotas,
statuses coloured, with column charts of done vs the pace line and the quota."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.outputs import QUOTAS_OUTPUT
from kis_batch.render.columns import Col
from kis_batch.render.paper import Page, printed_span
from kis_batch.render.saving import output_book
from kis_batch.render.style import ATTENTION_BG, ERROR_BG, GOOD_BG, Book, Highlight, write_notes, write_table
from kis_batch.rules.quotas import BEHIND, METRICS, OUT_OF_REACH, REACHED
from kis_batch.schema import STAFF

METRIC_WORDS = {"resolutions": ("解决", "问题解决"), "visits": ("拜访", "客户拜访")}


def _metric_cols(metric: str) -> tuple[Col, ...]:
    short, _ = METRIC_WORDS[metric]
    return (
        Col(f"{metric}_done", f"已{short}家次", 4, "int"),
        Col(f"{metric}_quota", f"{short}指标", 4, "int"),
        # A quota exceeded shows as 超额 N, never as a negative gap.
        Col(f"{metric}_gap", f"{short}缺口", 6.5, "gap"),
        Col(f"{metric}_pace", f"按进度应{short}", 4, "km"),  # "km" is the kit's one-decimal format
        Col(f"{metric}_needed", f"每日需{short}", 4, "int"),
        Col(f"{metric}_status", f"{short}状态", 7),
    )


COLS = (
    Col("staff_id", STAFF.fields["staff_id"].zh, 6),
    Col("name", STAFF.fields["name"].zh, 6.5),
    Col("area", STAFF.fields["area"].zh, 6.5),
    Col("daily_cap", STAFF.fields["daily_cap"].zh, 4, "int"),
    Col("month_workdays", "本月工作日", 4, "int"),
    Col("elapsed_workdays", "已过工作日", 4, "int"),
    Col("workdays_left", "剩余工作日", 4, "int"),
    *(col for metric in METRICS for col in _metric_cols(metric)),
    Col("status", "总体状态", 7),
)
STATUS_COLOURS = ((OUT_OF_REACH, ERROR_BG), (BEHIND, ATTENTION_BG), (REACHED, GOOD_BG))
HIGHLIGHTS = tuple(
    Highlight(key, "text", (key, status), colour)
    for key in (*(f"{metric}_status" for metric in METRICS), "status")
    for status, colour in STATUS_COLOURS
)
LEGEND = ("缺口=指标−已完成，已超过指标的显示为“超额 N”；"
          "已达标=完成月指标；正常=不低于进度线（指标×已过工作日÷本月工作日）；落后=低于进度线；"
          "无法达标=剩余工作日每天需完成的家次超过每日上限，或本月已无工作日")
CHART_SIZE = {"width": 430, "height": 280}
DONE_COLOUR, PACE_COLOUR, QUOTA_COLOUR = "#4472C4", "#A5A5A5", "#ED7D31"


def _title(today: dt.date, gaps: pd.DataFrame) -> str:
    if not len(gaps):
        return f"指标缺口 {today.isoformat()}：没有在岗的服务工程师"
    first = gaps.iloc[0]
    return (f"指标缺口 {today.isoformat()}：本月 {first['month_workdays']} 个工作日，已过 {first['elapsed_workdays']} 个，"
            f"下一工作日起剩余 {first['workdays_left']} 个")


def _add_legend_and_charts(book: Book, sheet: Worksheet, rows: int) -> None:
    """Under the table: what the statuses mean, then per metric a column chart with one group per
    engineer: done, the pace line so far, the quota."""
    keys = [c.key for c in COLS]
    first, last = 2, 1 + rows  # data rows under the title and header rows
    span = printed_span(COLS, Page())
    write_notes(book, sheet, last + 2, (LEGEND,), span.last_col, span.units)
    names = keys.index("name")
    for number, metric in enumerate(METRICS):
        short, long = METRIC_WORDS[metric]
        chart = book.workbook.add_chart({"type": "column"})
        for suffix, label, colour in (("done", f"已{short}", DONE_COLOUR), ("pace", "按进度应完成", PACE_COLOUR),
                                      ("quota", "月指标", QUOTA_COLOUR)):
            column = keys.index(f"{metric}_{suffix}")
            chart.add_series({
                "name": label,
                "categories": [sheet.get_name(), first, names, last, names],
                "values": [sheet.get_name(), first, column, last, column],
                "fill": {"color": colour},
                "data_labels": {"value": suffix == "done"},
            })
        chart.set_title({"name": f"{long}：已完成 vs 指标", "name_font": {"size": 11}})
        chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
        chart.set_legend({"position": "bottom"})
        chart.set_size(CHART_SIZE)
        sheet.insert_chart(last + 4, 0, chart, {"x_offset": number * (CHART_SIZE["width"] + 20), "y_offset": 0})


def write_quotas(out_dir: Path, today: dt.date, gaps: pd.DataFrame, written: list[Path]) -> None:
    """指标缺口_D.xlsx: one sheet, the table then the charts below it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with output_book(out_dir, QUOTAS_OUTPUT, today, written) as book:
        sheet = write_table(book, "指标缺口", gaps, COLS, title=_title(today, gaps), highlights=HIGHLIGHTS)
        if len(gaps):
            _add_legend_and_charts(book, sheet, len(gaps))
