"""质量_D.xlsx: the month's service quality for the manager — key figures with a pie of the
satisfaction mix, every complaint with the visit it concerns, complaint counts (per engineer, per
service type, per month with a chart), satisfaction per engineer, callback coverage per customer's
服务代表, every rule breach with its reason, and breaches per engineer. Headers reuse the input ones.

Colours: a breach row by its kind; CSAT under the alert line red; statuses red (behind), orange
(complaints) or green (fine); 合计 rows blue.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.outputs import QUALITY_OUTPUT
from kis_batch.render.columns import Col, input_col
from kis_batch.render.paper import Page, printed_span
from kis_batch.render.saving import output_book
from kis_batch.render.style import ATTENTION_BG, ERROR_BG, GOOD_BG, HEADER_BG, Book, Highlight, write_block, write_notes, write_table
from kis_batch.rules.complaint_records import SOURCES
from kis_batch.rules.display import percent_text
from kis_batch.rules.quality import (
    BEHIND,
    BREACH_KINDS,
    BROKEN,
    COMPLAINED,
    CSAT_ALERT,
    CSAT_LOW,
    CSAT_OK,
    FEEDBACK_MISSING,
    KIND_KEYS,
    LEVEL_KEYS,
    NONE_FOUND,
    ON_TRACK,
    REACHED,
    TOTAL,
    QualityReport,
)
from kis_batch.rules.scoring import NO_PHONE_AHEAD, NOT_VISITED, OVER_TIME
from kis_batch.schema import CALLS, CUSTOMERS, FEEDBACK, STAFF

STAFF_ID = Col("staff", STAFF.fields["staff_id"].zh, 8)  # the tables key an engineer as "staff"
STAFF_NAME = Col("staff_name", FEEDBACK.fields["staff"].zh, 9)
TOTAL_ROW = Highlight(None, "text", ("staff_name", TOTAL), HEADER_BG)
COUNT_COLS = (*(Col(key, label, 9, "int") for key, label in SOURCES.items()), Col("total", TOTAL, 7, "int"))
STATUS_COLOURS = ((BEHIND, ERROR_BG), (CSAT_LOW, ERROR_BG), (BROKEN, ERROR_BG), (COMPLAINED, ATTENTION_BG),
                  (REACHED, GOOD_BG), (ON_TRACK, GOOD_BG), (CSAT_OK, GOOD_BG), (NONE_FOUND, GOOD_BG))
KIND_COLOURS = {NOT_VISITED: ERROR_BG, FEEDBACK_MISSING: ATTENTION_BG, NO_PHONE_AHEAD: "#E4DFEC", OVER_TIME: "#BDD7EE"}
CHART_SIZE = {"width": 480, "height": 300}
PIE_COLOURS = ("#4472C4", "#70AD47", "#FFC000", "#E06666")  # 非常满意 … 不满意
SOURCE_COLOURS = ("#4472C4", "#ED7D31", "#A5A5A5")

OVERVIEW_COLS = (
    Col("item", "指标", 13), Col("count", "数量", 8, "int"), Col("rate", "比率", 8, "percent"),
    Col("target", "目标", 8, "percent"), Col("status", "状态", 8), Col("note", "说明", 62, wrap=True),
)
MIX_COLS = (
    input_col(FEEDBACK, "satisfaction", 13), Col("feedback", "服务反馈单", 8, "int"),
    Col("callbacks", "回访记录", 8, "int"), Col("all", TOTAL, 8, "int"),
)
COMPLAINT_COLS = (
    Col("date", "投诉日期", 10, "date"),
    Col("source", "来源", 9),
    input_col(CALLS, "ticket_id", 14),
    input_col(CALLS, "customer_id", 8),
    input_col(CUSTOMERS, "customer_name", 20),
    STAFF_NAME,
    Col("basis", "认定依据", 14),
    input_col(FEEDBACK, "service_date", 10),
    Col("visit_ticket", "关联工单号", 14),
    input_col(FEEDBACK, "service_type", 8),
    input_col(FEEDBACK, "result", 8),
    Col("content", "投诉内容", 36, wrap=True),
)
TYPE_COLS = (input_col(FEEDBACK, "service_type", 10), *COUNT_COLS)
MONTH_COLS = (Col("month", "月份", 10), *COUNT_COLS, Col("source", "数据来源", 18))
LEVEL_WORDS = tuple(LEVEL_KEYS.items())
SATISFACTION_COLS = (
    STAFF_ID, STAFF_NAME,
    *(col for source, word in (("feedback", "反馈"), ("callbacks", "回访")) for col in (
        *(Col(f"{source}_{key}", f"{word}\n{level}", 8, "int") for level, key in LEVEL_WORDS),
        Col(f"{source}_count", f"{word}\n评价数", 7, "int"), Col(f"{source}_csat", f"{word}\n满意率", 8, "percent"))),
    Col("all_count", f"{TOTAL}\n评价数", 7, "int"), Col("all_csat", f"{TOTAL}\n满意率", 8, "percent"),
    Col("feedback_unrated", "反馈\n未评价", 7, "int"),
)
CSAT_HIGHLIGHTS = tuple(Highlight(key, "<", (key, CSAT_ALERT), ERROR_BG)
                        for key in ("feedback_csat", "callbacks_csat", "all_csat"))
COVERAGE_COLS = (
    STAFF_ID, STAFF_NAME, Col("customers", "客户数", 8, "int"), Col("reached", "本月接通客户", 9, "int"),
    Col("coverage", "覆盖率", 8, "percent"),
    *(Col(key, kind, 9, "int") for kind, key in KIND_KEYS.items()),
    Col("unanswered", "拨打未接通", 9, "int"),
)
BREACH_COLS = (
    input_col(FEEDBACK, "service_date", 10),
    STAFF_NAME,
    input_col(FEEDBACK, "customer_id", 8),
    input_col(CUSTOMERS, "customer_name", 20),
    input_col(FEEDBACK, "ticket_id", 14),
    input_col(FEEDBACK, "service_type", 8),
    input_col(FEEDBACK, "mode", 6),
    Col("kind", "违规类型", 10),
    Col("reason", "原因", 44, wrap=True),
)
BREACH_COUNT_COLS = (
    STAFF_ID, STAFF_NAME, Col("feedback", "本月反馈数", 9, "int"),
    *(Col(key, kind, 9, "int") for kind, key in BREACH_KINDS.items()), Col("total", TOTAL, 7, "int"),
)

OVERVIEW_LEGEND = ("状态：绿色=正常/已达标/无；橙色=有投诉；红色=满意率低于提示线、回访覆盖落后于工作日进度、有违规。"
                   f"满意率=（非常满意+满意）÷评价数，{percent_text(CSAT_ALERT)}为提示线，不是制度规定")
COMPLAINT_LEGEND = ("同一次服务的来电投诉和回访投诉只计一次；认定依据：关联服务的工程师（投诉对应到该客户最近一次服务），"
                    "否则回访记录所填的服务代表，否则客户档案的服务代表")
SATISFACTION_LEGEND = (f"满意率=（非常满意+满意）÷评价数，低于{percent_text(CSAT_ALERT)}标红（提示线，不是制度规定）；"
                       "反馈按实际服务的人，回访按回访记录的服务代表（未填则按客户的服务代表）；未评价的不计入满意率")
COVERAGE_LEGEND = ("覆盖率=本月回访接通（接通=是）的不同客户数÷客户数；规则针对全部客户（合计行），各服务代表一行供参考；"
                   "月度抽查=本月已接通的、抽查该服务代表所服务客户的家数（与回访表、经理日报同一口径）")
BREACH_LEGEND = ("红色=上门不属实（回访核实客户称未上门）；橙色=反馈缺失（交回的反馈单未填处理结果和到达/离开时间）；"
                 "紫色=未电话预约；蓝色=上门超时或未填到达/离开时间（安装系统等豁免类型除外）")


def _period(today: dt.date) -> str:
    return f"{today.year}年{today.month}月1日至{today.day}日"


def _legend(book: Book, sheet: Worksheet, row: int, text: str, cols: Sequence[Col]) -> None:
    """What a table's colours and figures mean, wrapped under it across its width."""
    span = printed_span(cols, Page())
    write_notes(book, sheet, row, (text,), span.last_col, span.units)


def _block(book: Book, sheet: Worksheet, top: int, heading: str, frame: pd.DataFrame, cols: Sequence[Col]) -> int:
    """A small table under another on the same sheet: a bold heading, the header row, the rows.
    Returns the first row of the table's data."""
    sheet.write_string(top, 0, heading, book.fmt("block_heading", bold=True, font_size=12))
    write_block(book, sheet, top + 1, 0, frame, cols, widths=False)
    return top + 2


def _overview(book: Book, report: QualityReport) -> None:
    """Key figures, then the satisfaction mix with its pie beside it."""
    title = f"服务质量 {report.today.isoformat()}：{_period(report.today)}"
    highlights = [Highlight("status", "text", ("status", status), colour) for status, colour in STATUS_COLOURS]
    sheet = write_table(book, "概览", report.overview, OVERVIEW_COLS, title=title, highlights=highlights)
    below = len(report.overview) + 3
    _legend(book, sheet, below, OVERVIEW_LEGEND, OVERVIEW_COLS)
    first = _block(book, sheet, below + 2, "本月满意度构成（条）", report.satisfaction_mix, MIX_COLS)
    last = first + len(report.satisfaction_mix) - 1
    if not report.figures["ratings"]:
        _legend(book, sheet, last + 2, "本月还没有满意度评价", MIX_COLS)
        return
    chart = book.workbook.add_chart({"type": "pie"})
    chart.add_series({
        "name": "满意度构成",
        "categories": [sheet.get_name(), first, 0, last, 0],
        "values": [sheet.get_name(), first, 3, last, 3],
        "points": [{"fill": {"color": colour}} for colour in PIE_COLOURS],
        "data_labels": {"category": True, "percentage": True, "leader_lines": True},
    })
    chart.set_title({"name": f"满意度构成（满意率 {percent_text(report.figures['csat'])}）", "name_font": {"size": 11}})
    chart.set_legend({"position": "bottom"})
    chart.set_size(CHART_SIZE)
    sheet.insert_chart(below + 2, len(MIX_COLS) + 1, chart)


def _complaint_counts(book: Book, report: QualityReport) -> None:
    """Per engineer, per service type, per month of the year, and a stacked column chart of the months."""
    title = f"本月投诉按服务代表 {_period(report.today)}"
    sheet = write_table(book, "投诉统计", report.complaints_by_engineer, (STAFF_ID, STAFF_NAME, *COUNT_COLS),
                        title=title, highlights=(TOTAL_ROW,))
    top = len(report.complaints_by_engineer) + 3
    _block(book, sheet, top, "本月投诉按服务类型（投诉所关联的那次服务）", report.complaints_by_type, TYPE_COLS)
    top += len(report.complaints_by_type) + 3
    first = _block(book, sheet, top, f"{report.today.year}年投诉按月份", report.complaints_by_month, MONTH_COLS)
    last = first + len(report.complaints_by_month) - 1
    chart = book.workbook.add_chart({"type": "column", "subtype": "stacked"})
    for index, (label, colour) in enumerate(zip(SOURCES.values(), SOURCE_COLOURS, strict=True), start=1):
        chart.add_series({
            "name": label,
            "categories": [sheet.get_name(), first, 0, last, 0],
            "values": [sheet.get_name(), first, index, last, index],
            "fill": {"color": colour},
        })
    chart.set_title({"name": f"{report.today.year}年每月投诉", "name_font": {"size": 11}})
    chart.set_y_axis({"min": 0, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_legend({"position": "bottom"})
    chart.set_size(CHART_SIZE)
    sheet.insert_chart(top, len(MONTH_COLS) + 1, chart)


def _titles(report: QualityReport) -> dict[str, str]:
    f, period = report.figures, _period(report.today)
    by_source = f["complaints_by_source"]
    return {
        "投诉": (f"本月投诉 {f['complaints']} 起（来电 {by_source['calls']}、回访 {by_source['callbacks']}、"
                 f"两者都有 {by_source['both']}） {period}"),
        "满意度": f"满意度 {period}：每人的评价分布和满意率",
        "回访覆盖": (f"回访覆盖 {period}：接通 {f['customers_reached']} 家 / 客户 {f['customers']} 家 = {percent_text(f['coverage'])}，"
                     f"规则不少于 {percent_text(f['coverage_rule'])}（月底需 {f['coverage_target']} 家），{f['coverage_status']}"),
        "违规": f"违规 {period}：共 {f['breaches']} 次，每次一行",
        "违规统计": f"违规按服务代表 {period}",
    }


def write_quality(out_dir: Path, today: dt.date, report: QualityReport, written: list[Path]) -> None:
    """质量_D.xlsx: 概览, 投诉, 投诉统计, 满意度, 回访覆盖, 违规, 违规统计."""
    out_dir.mkdir(parents=True, exist_ok=True)
    titles = _titles(report)
    kind_colours = [Highlight(None, "text", ("kind", kind), colour) for kind, colour in KIND_COLOURS.items()]
    with output_book(out_dir, QUALITY_OUTPUT, today, written) as book:
        _overview(book, report)
        sheet = write_table(book, "投诉", report.complaints, COMPLAINT_COLS, title=titles["投诉"])
        _legend(book, sheet, len(report.complaints) + 3, COMPLAINT_LEGEND, COMPLAINT_COLS)
        _complaint_counts(book, report)
        sheet = write_table(book, "满意度", report.satisfaction, SATISFACTION_COLS, title=titles["满意度"],
                            highlights=(*CSAT_HIGHLIGHTS, TOTAL_ROW))
        _legend(book, sheet, len(report.satisfaction) + 3, SATISFACTION_LEGEND, SATISFACTION_COLS)
        sheet = write_table(book, "回访覆盖", report.coverage, COVERAGE_COLS, title=titles["回访覆盖"],
                            highlights=(TOTAL_ROW,))
        _legend(book, sheet, len(report.coverage) + 3, COVERAGE_LEGEND, COVERAGE_COLS)
        sheet = write_table(book, "违规", report.breaches, BREACH_COLS, title=titles["违规"], highlights=kind_colours)
        _legend(book, sheet, len(report.breaches) + 3, BREACH_LEGEND, BREACH_COLS)
        write_table(book, "违规统计", report.breaches_by_engineer, BREACH_COUNT_COLS, title=titles["违规统计"],
                    highlights=(Highlight("total", ">", ("total", 0), ATTENTION_BG), TOTAL_ROW))
