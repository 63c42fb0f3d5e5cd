"""月度总结_YYYY-MM.xlsx: the department's month for the general manager — 概览, then one sheet per
subject (来电, 服务, 指标, 满意度, 投诉, 回访覆盖, 年费, 实施, 久未联系, 培训建议, 考核), 质量上报 for the
vendor's 服务运管部, and 趋势 over the months the history holds, with native charts where they help.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.outputs import MONTHLY_SUMMARY_OUTPUT
from kis_batch.render import complaints as complaint_view
from kis_batch.render import customers as customer_view
from kis_batch.render import fees as fee_view
from kis_batch.render import projects as project_view
from kis_batch.render import quality as quality_view
from kis_batch.render import quotas as quota_view
from kis_batch.render.columns import Col
from kis_batch.render.evaluation import GRADE_HIGHLIGHTS, SUMMARY_COLS, summary_frame
from kis_batch.render.paper import Page, printed_span
from kis_batch.render.saving import output_book
from kis_batch.render.style import Book, Highlight, write_block, write_notes, write_table
from kis_batch.rules.display import PERCENT_FORMAT
from kis_batch.rules.monthly_summary import TRAINING_CATEGORIES, MonthlySummary
from kis_batch.schema import CALLS, COMPLAINT_HANDLING, CUSTOMERS

CHART = {"width": 560, "height": 300}
COLOURS = ("#4472C4", "#ED7D31", "#A5A5A5", "#FFC000", "#5B9BD5", "#70AD47")

OVERVIEW_COLS = (Col("item", "项目", 14), Col("value", "本月", 18, wrap=True), Col("previous", "上月", 12, wrap=True),
                 Col("change", "变化", 12, wrap=True), Col("target", "目标", 13, wrap=True), Col("note", "说明", 44, wrap=True))
RATE_COLS = (Col("label", "比率", 14), Col("value", "本月", 10, "percent"), Col("previous", "上月", 10, "percent"),
             Col("target", "目标", 10, "percent"))
CALL_COLS = (Col("label", CALLS.fields["category"].zh, 12), Col("calls", "来电数", 8, "int"),
             Col("share", "占比", 8, "percent"))
HANDLING_COLS = (Col("label", CALLS.fields["handling"].zh, 12), *CALL_COLS[1:])
SERVICE_COLS = (Col("label", "服务类型", 12), Col("services", "服务单数", 9, "int"), Col("mean_score", "平均评分", 9, "km"))
TRAINING_COLS = (
    Col("customer_id", CUSTOMERS.fields["customer_id"].zh, 9), Col("customer_name", CUSTOMERS.fields["customer_name"].zh, 24),
    Col("owner_name", CUSTOMERS.fields["owner"].zh, 9), Col("consulting", f"{TRAINING_CATEGORIES[0]}来电", 9, "int"),
    Col("data", f"{TRAINING_CATEGORIES[1]}来电", 9, "int"), Col("calls", "合计", 6, "int"),
    Col("problems", "问题描述", 60, wrap=True), Col("advice", "建议", 12),
)
H = COMPLAINT_HANDLING.fields
REPORT_COLS = (
    Col("complaint_id", "投诉编号", 20), Col("filed", "立案日期", 10, "date"),
    Col("customer_id", CUSTOMERS.fields["customer_id"].zh, 9), Col("customer_name", CUSTOMERS.fields["customer_name"].zh, 20),
    Col("staff_name", "被投诉人", 9), Col("content", "投诉内容", 36, wrap=True),
    Col("counted_responsibility", H["responsibility"].zh, 9), Col("action", H["action"].zh, 30, wrap=True),
    Col("handler_name", H["handler"].zh, 9), Col("status", "状态", 8), Col("closed_on", H["closed_on"].zh, 10, "date"),
    Col("effect", "处理效果", 24, wrap=True),
)
TREND_COLS = (
    Col("month", "月份", 9), Col("as_of", "截至", 11), Col("final", "已结算", 7), Col("calls", "来电", 7, "int"),
    Col("services", "服务", 7, "int"), Col("resolutions", "解决家次", 8, "int"), Col("visits", "拜访家次", 8, "int"),
    Col("mean_score", "平均评分", 8, "km"), Col("csat", "满意率", 8, "percent"), Col("complaints", "投诉", 6, "int"),
    Col("complaints_department", "本部门投诉", 9, "int"), Col("coverage", "回访覆盖", 8, "percent"),
    Col("collection_month", "本月收款率", 9, "percent"), Col("collection_year", "本年收款率", 9, "percent"),
    Col("projects_live", "上线项目", 8, "int"), Col("not_contacted", "久未联系", 8, "int"),
    Col("training", "培训建议", 8, "int"), Col("mean_total", "考核平均分", 9, "km"),
)
REPORT_LEGEND = ("质量上报（报服务运管部）：本月立案的投诉，以及以前立案、本月仍未结案或本月结案的；责任未判定的按本部门计；"
                 "处理效果按状态和客户确认：已结案且客户认可为闭环。")


def _chart(book: Book, sheet: Worksheet, kind: str, title: str, rows: int, label: int,
           series: Sequence[tuple[int, str]], at: tuple[int, int], first: int = 2,
           percent: bool = False) -> None:
    """A native chart of columns of this sheet's table (header row first - 1), placed at (row, col)."""
    chart = book.workbook.add_chart({"type": kind})
    name = sheet.get_name()
    last = first + rows - 1
    for index, (column, header) in enumerate(series):
        options = {"name": header, "categories": [name, first, label, last, label],
                   "values": [name, first, column, last, column]}
        if kind == "pie":
            options["data_labels"] = {"percentage": True, "category": True}
            options["points"] = [{"fill": {"color": c}} for c in COLOURS]
        elif kind == "line":
            options["marker"] = {"type": "circle", "size": 5}
            options["line"] = {"color": COLOURS[index % len(COLOURS)]}
        else:
            options["fill"] = {"color": COLOURS[index % len(COLOURS)]}
            options["data_labels"] = {"value": True}
        chart.add_series(options)
    chart.set_title({"name": title, "name_font": {"size": 11}})
    if kind != "pie":
        chart.set_legend({"position": "bottom"} if len(series) > 1 else {"none": True})
        if percent:
            chart.set_y_axis({"num_format": PERCENT_FORMAT, "min": 0})
    chart.set_size(CHART)
    sheet.insert_chart(*at, chart)


def _table(book: Book, name: str, frame: pd.DataFrame, cols: Sequence[Col], title: str,
           highlights: Sequence[Highlight] = ()) -> Worksheet:
    """A sheet's table under its title, with only the columns the frame holds."""
    keep = [c for c in cols if c.key in frame.columns]
    return write_table(book, name, frame.reindex(columns=[c.key for c in keep]), keep, title=title,
                       highlights=highlights)


def _overview(book: Book, summary: MonthlySummary, month: str) -> None:
    """概览: this month, the month before, the change and the target per line; under it the main rates
    beside the month before and their target, as a table and a native chart."""
    previous = f"上月 {summary.previous_month}" if summary.previous_month else "上月"
    cols = tuple(replace(c, header=previous) if c.key == "previous" else c for c in OVERVIEW_COLS)
    sheet = write_table(book, "概览", summary.overview, cols, title=f"服务部月度总结 {month}")
    top = len(summary.overview) + 3
    sheet.write_string(top, 0, f"主要比率：本月与{previous}、目标", book.fmt("block_heading", bold=True, font_size=12))
    write_block(book, sheet, top + 1, 0, summary.rates, RATE_COLS, widths=False)
    _chart(book, sheet, "column", "主要比率：本月、上月与目标", len(summary.rates), 0,
           [(1, "本月"), (2, "上月"), (3, "目标")], (top + len(summary.rates) + 3, 0), first=top + 2, percent=True)


def write_monthly_summary(folder: Path, summary: MonthlySummary, written: list[Path]) -> None:
    """月度总结_YYYY-MM.xlsx in OUT/YYYY-MM/."""
    folder.mkdir(parents=True, exist_ok=True)
    month = f"{summary.month}（截至 {summary.as_of.isoformat()}）"
    with output_book(folder, MONTHLY_SUMMARY_OUTPUT, summary.month, written) as book:
        _overview(book, summary, month)

        calls = write_table(book, "来电", summary.calls_by_category, CALL_COLS, title=f"{month} 来电按问题类别和处理方式")
        top = len(summary.calls_by_category) + 3
        write_block(book, calls, top, 0, summary.calls_by_handling, HANDLING_COLS, widths=False)
        _chart(book, calls, "column", "来电按问题类别", len(summary.calls_by_category), 0, [(1, "来电数")], (1, 4))
        _chart(book, calls, "pie", "来电按处理方式", len(summary.calls_by_handling), 0, [(1, "来电数")], (17, 4),
               first=top + 1)

        services = write_table(book, "服务", summary.services, SERVICE_COLS, title=f"{month} 服务按类型")
        _chart(book, services, "column", "服务单按类型", len(summary.services), 0, [(1, "服务单数")], (1, 4))

        _table(book, "指标", summary.quotas, quota_view.COLS, title=f"{month} 问题解决与客户拜访指标",
               highlights=quota_view.HIGHLIGHTS)
        _table(book, "满意度", summary.satisfaction, quality_view.SATISFACTION_COLS, title=f"{month} 客户满意度",
               highlights=(quality_view.TOTAL_ROW,))
        _table(book, "投诉", summary.complaints_by_responsibility, complaint_view.RESPONSIBILITY_COLS,
               title=f"{month} 投诉按责任（未判定按本部门计）", highlights=(complaint_view.TOTAL_ROW,))
        _table(book, "投诉按人", summary.complaints_by_engineer, complaint_view.ENGINEER_COLS,
               title=f"{month} 投诉按被投诉人")
        _table(book, "回访覆盖", summary.coverage, quality_view.COVERAGE_COLS, title=f"{month} 回访覆盖",
               highlights=(quality_view.TOTAL_ROW,))
        _table(book, "年费", summary.fees, fee_view.RATE_COLUMNS, title=f"{month} 年费收款率（本月和本年）")
        _table(book, "实施", summary.projects, project_view.OVERVIEW_COLS, title=f"{month} 实施项目",
               highlights=project_view.OVERDUE)
        _table(book, "久未联系", summary.not_contacted, customer_view.customer_columns(summary.lookback_days),
               title=f"{month} 跟踪客户久未联系（重点客户、大客户、集团客户、异地客户）")
        write_table(book, "培训建议", summary.training, TRAINING_COLS,
                    title=f"{month} 培训建议：操作咨询和数据问题来电多的客户，建议安排深层应用培训")
        report = write_table(book, "质量上报", summary.quality_report, REPORT_COLS,
                             title=f"质量上报 {month}（报服务运管部）")
        span = printed_span(REPORT_COLS, Page())
        write_notes(book, report, len(summary.quality_report) + 3, (REPORT_LEGEND,), span.last_col, span.units)
        write_table(book, "考核", summary_frame(summary.evaluation), SUMMARY_COLS[:12], title=f"{month} 月度考核",
                    highlights=GRADE_HIGHLIGHTS)
        trend = write_table(book, "趋势", summary.trend, TREND_COLS, title="历史各月趋势（来自 history.sqlite）")
        if len(summary.trend):
            index = {c.key: (n, c.header) for n, c in enumerate(TREND_COLS)}
            rows = len(summary.trend)
            # One scale per chart: calls and services in hundreds, complaints in tens, rates in shares.
            _chart(book, trend, "line", "来电与服务", rows, 0, [index[key] for key in ("calls", "services")], (rows + 3, 0))
            _chart(book, trend, "line", "投诉", rows, 0, [index[key] for key in ("complaints", "complaints_department")],
                   (rows + 3, 8))
            _chart(book, trend, "line", "满意率、回访覆盖与收款率", rows, 0,
                   [index[key] for key in ("csat", "coverage", "collection_month")], (rows + 20, 0), percent=True)
