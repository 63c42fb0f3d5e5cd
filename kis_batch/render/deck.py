"""季度述职_YYYY-Qn.pptx: the quarterly review the manager presents to the company's management, in
PowerPoint (python-pptx), 16:9, built only from the history's months of the quarter
(kis_batch/rules/quarter.py). Charts are native and editable (their numbers sit in the chart's own
workbook); a month the history lacks is labelled 无数据 and has no points. Text is 微软雅黑 (set for
Latin and East-Asian runs), sized to fit its box, wrapped.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd
from pptx import Presentation
from pptx.chart.data import CategoryChartData
from pptx.dml.color import RGBColor
from pptx.enum.chart import XL_CHART_TYPE, XL_LEGEND_POSITION
from pptx.enum.text import PP_ALIGN
from pptx.oxml.ns import qn
from pptx.slide import Slide
from pptx.text.text import Font
from pptx.util import Emu, Inches, Pt

from kis_batch.outputs import DECK_OUTPUT
from kis_batch.render.saving import replace_file, temporary_path
from kis_batch.rules.display import NO_DATA, PERCENT_FORMAT, change_text, figure_text
from kis_batch.rules.figures import Figure
from kis_batch.rules.quarter import KEY_FIGURES, MonthData, QuarterReview, quarter_value, takeaways

FONT = "微软雅黑"
WIDTH, HEIGHT = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
TITLE_TOP, TITLE_HEIGHT = Inches(0.3), Inches(0.8)
BODY_TOP = Inches(1.25)
BODY_HEIGHT = HEIGHT - BODY_TOP - Inches(0.4)
BODY_WIDTH = WIDTH - 2 * MARGIN
TITLE_COLOUR = RGBColor(0x1F, 0x3A, 0x5F)
HEADER_FILL = RGBColor(0xDD, 0xEB, 0xF7)
GREY = RGBColor(0x59, 0x59, 0x59)
BLACK = RGBColor(0x1A, 0x1A, 0x1A)
NOTE_HEIGHT = Inches(0.5)
ROW_HEIGHT = Inches(0.36)
TITLE_ONLY = 5  # the default template's 仅标题 layout

# The month tables: (row label, history figure, how it is shown).
QUALITY_ROWS = (
    ("投诉（起）", Figure.QUALITY_COMPLAINTS, "int"), ("本部门责任", Figure.COMPLAINTS_DEPARTMENT, "int"),
    ("总部责任", Figure.COMPLAINTS_HEADQUARTERS, "int"), ("客户原因", Figure.COMPLAINTS_CUSTOMER, "int"),
    ("其他", Figure.COMPLAINTS_OTHER, "int"), ("月末未结案", Figure.COMPLAINTS_OPEN, "int"),
    ("超期未结案", Figure.COMPLAINTS_OVERDUE, "int"), ("客户满意率", Figure.QUALITY_CSAT, "percent"),
    ("回访覆盖率", Figure.QUALITY_COVERAGE, "percent"), ("违规（次）", Figure.QUALITY_BREACHES, "int"),
)
FEE_ROWS = (
    ("本月收款率", Figure.FEES_COLLECTION_RATE_MONTH, "percent"), ("本年收款率", Figure.FEES_COLLECTION_RATE_YEAR, "percent"),
    ("逾期合同（份）", Figure.FEES_OVERDUE, "int"), ("逾期欠款", Figure.FEES_OVERDUE_BALANCE, "money"),
    ("待续费（份）", Figure.FEES_DUE_FOR_RENEWAL, "int"), ("已过期未续（份）", Figure.FEES_LAPSED, "int"),
    ("续费风险（份）", Figure.FEES_RENEWAL_RISK, "int"),
)
PROJECT_ROWS = (
    ("实施项目总数", Figure.PROJECTS, "int"), ("本月上线", Figure.PROJECTS_LIVE_THIS_MONTH, "int"),
    ("待验收", Figure.PROJECTS_AWAITING_ACCEPTANCE, "int"), ("整改中", Figure.PROJECTS_REWORK, "int"),
    ("上线逾期", Figure.PROJECTS_LIVE_OVERDUE, "int"), ("验收逾期", Figure.PROJECTS_ACCEPTANCE_OVERDUE, "int"),
    ("交接逾期", Figure.PROJECTS_HANDOVER_OVERDUE, "int"),
)
CUSTOMER_ROWS = (
    ("跟踪客户（家）", Figure.CUSTOMERS_TRACKED, "int"), ("久未联系（家）", Figure.CUSTOMERS_NOT_CONTACTED, "int"),
    ("其中 重点客户", Figure.CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_KEY, "int"),
    ("其中 大客户", Figure.CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_LARGE, "int"),
    ("其中 集团客户", Figure.CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_GROUP, "int"),
    ("其中 异地客户", Figure.CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_REMOTE, "int"),
    ("培训建议客户（家）", Figure.TRAINING_CUSTOMERS, "int"),
)
PLAN_HEADERS = ("序号", "工作重点", "目标", "负责人", "完成时间")
PLAN_ROWS = 6


def _font(font: Font, size: float, bold: bool = False, colour: RGBColor | None = None) -> None:
    """Size, weight, colour and 微软雅黑 for Latin and East-Asian text alike."""
    font.size = Pt(size)
    font.bold = bold
    if colour is not None:
        font.color.rgb = colour
    font.name = FONT
    rpr = font._element
    ea = rpr.find(qn("a:ea"))
    if ea is None:
        ea = rpr.makeelement(qn("a:ea"), {})
        rpr.find(qn("a:latin")).addnext(ea)
    ea.set("typeface", FONT)


def _write(frame, text: str, size: float, bold: bool = False, colour: RGBColor | None = None,
           align: PP_ALIGN | None = None) -> None:
    """A text frame's whole text, one paragraph per line, wrapped."""
    frame.word_wrap = True
    frame.clear()
    for index, line in enumerate(text.split("\n")):
        paragraph = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        if align is not None:
            paragraph.alignment = align
        run = paragraph.add_run()
        run.text = line
        _font(run.font, size, bold, colour)


def _slide(deck: Presentation, title: str) -> Slide:
    """A slide of the 仅标题 layout, its title across the top."""
    slide = deck.slides.add_slide(deck.slide_layouts[TITLE_ONLY])
    heading = slide.shapes.title
    heading.left, heading.top, heading.width, heading.height = MARGIN, TITLE_TOP, BODY_WIDTH, TITLE_HEIGHT
    _write(heading.text_frame, title, 28, True, TITLE_COLOUR, PP_ALIGN.LEFT)
    return slide


def _note(slide: Slide, text: str, top: Emu, height: Emu = NOTE_HEIGHT, size: float = 12) -> None:
    box = slide.shapes.add_textbox(MARGIN, top, BODY_WIDTH, height)
    _write(box.text_frame, text, size, colour=GREY)


def _table(slide: Slide, rows: Sequence[Sequence[str]], left: Emu, top: Emu, width: Emu,
           widths: Sequence[float], size: float = 12, row_height: Emu = ROW_HEIGHT) -> None:
    """A table whose first row is the header; widths are the columns' shares of the width."""
    shape = slide.shapes.add_table(len(rows), len(rows[0]), left, top, width, row_height * len(rows))
    table = shape.table
    total = sum(widths)
    for index, share in enumerate(widths):
        table.columns[index].width = int(width * share / total)
    for r, values in enumerate(rows):
        table.rows[r].height = row_height
        for c, value in enumerate(values):
            cell = table.cell(r, c)
            cell.margin_left = cell.margin_right = Inches(0.06)
            cell.margin_top = cell.margin_bottom = Inches(0.02)
            colour = TITLE_COLOUR if r == 0 else GREY if value == NO_DATA else BLACK
            _write(cell.text_frame, value, size, bold=r == 0, colour=colour,
                   align=PP_ALIGN.LEFT if c == 0 else PP_ALIGN.CENTER)
            if r == 0:
                cell.fill.solid()
                cell.fill.fore_color.rgb = HEADER_FILL


def _chart(slide: Slide, kind: XL_CHART_TYPE, title: str, months: Sequence[MonthData],
           series: Sequence[tuple[str, Figure]], box: tuple[Emu, Emu, Emu, Emu], percent: bool = False) -> None:
    """A native chart, one category per month (a month without data has no point)."""
    data = CategoryChartData(number_format=PERCENT_FORMAT if percent else "#,##0")
    data.categories = [m.label for m in months]
    for name, figure in series:
        data.add_series(name, [m.value(figure) if m.present else None for m in months])
    chart = slide.shapes.add_chart(kind, *box, data).chart
    chart.has_title = True
    chart.chart_title.has_text_frame = True
    _write(chart.chart_title.text_frame, title, 14, True)
    _font(chart.font, 11)
    chart.has_legend = len(series) > 1
    if chart.has_legend:
        chart.legend.position = XL_LEGEND_POSITION.BOTTOM
        chart.legend.include_in_layout = False
    plot = chart.plots[0]
    plot.has_data_labels = True
    labels = plot.data_labels
    labels.number_format = PERCENT_FORMAT if percent else "#,##0"
    labels.number_format_is_linked = False
    _font(labels.font, 10)
    if percent:
        chart.value_axis.maximum_scale = 1.0
        chart.value_axis.minimum_scale = 0.0
        chart.value_axis.tick_labels.number_format = PERCENT_FORMAT
        chart.value_axis.tick_labels.number_format_is_linked = False


def _month_rows(months: Sequence[MonthData], rows: Sequence[tuple[str, Figure, str]]) -> list[list[str]]:
    """项目 then one column per month; a month the history lacks reads 无数据 in every row."""
    table = [["项目", *(m.label for m in months)]]
    for label, figure, kind in rows:
        table.append([label, *(figure_text(m.value(figure), kind) if m.present else NO_DATA for m in months)])
    return table


def _half(left: bool) -> tuple[Emu, Emu, Emu, Emu]:
    width = (BODY_WIDTH - Inches(0.3)) // 2
    return (MARGIN if left else MARGIN + width + Inches(0.3), BODY_TOP, width, BODY_HEIGHT)


def _title_slide(deck: Presentation, review: QuarterReview) -> None:
    year, quarter = review.quarter.split("-Q")
    months = review.months
    slide = _slide(deck, f"服务部季度述职 {year}年第{quarter}季度")
    heading = slide.shapes.title
    heading.top, heading.height = Inches(1.6), Inches(1.2)
    _write(heading.text_frame, heading.text_frame.text, 40, True, TITLE_COLOUR, PP_ALIGN.LEFT)
    box = slide.shapes.add_textbox(MARGIN, Inches(3.2), BODY_WIDTH, Inches(3))
    missing = f"；{'、'.join(review.missing)} {NO_DATA}" if review.missing else ""
    held = [m for m in months if m.present and not m.final]
    partial = f"；{'、'.join(m.label for m in held)} 为月中数据" if held else ""
    _write(box.text_frame, f"{months[0].month} 至 {months[-1].month}\n"
                           f"数据来源：历史数据库 history.sqlite 中本季度各月的记录{missing}{partial}\n"
                           f"对比：上季度 {review.previous_quarter}", 22, colour=GREY)


def _takeaways(deck: Presentation, review: QuarterReview) -> None:
    """The first content slide: what the general manager should know, in plain sentences."""
    slide = _slide(deck, "本季度要点")
    box = slide.shapes.add_textbox(MARGIN, BODY_TOP, BODY_WIDTH, BODY_HEIGHT - NOTE_HEIGHT)
    _write(box.text_frame, "\n".join(f"{n}. {sentence}" for n, sentence in enumerate(takeaways(review), start=1)),
           20, colour=BLACK)
    for paragraph in box.text_frame.paragraphs:
        paragraph.space_after = Pt(14)
    _note(slide, f"按月均比较：本季度 {review.quarter} 有 {review.held} 个月的数据，上季度 {review.previous_quarter} 有 "
                 f"{review.previous_held} 个月；数字来自历史数据库 history.sqlite。", BODY_TOP + BODY_HEIGHT - NOTE_HEIGHT,
          size=11)


def _months_held(held: int) -> str:
    return f"{held}个月" if held else NO_DATA


def _key_figures(deck: Presentation, review: QuarterReview) -> None:
    slide = _slide(deck, f"本季度关键指标（对比上季度 {review.previous_quarter}，按月均）")
    rows = [["指标", f"本季度 {review.quarter}（{_months_held(review.held)}）",
             f"上季度 {review.previous_quarter}（{_months_held(review.previous_held)}）", "变化（月均）"]]
    for label, figure, how, kind in KEY_FIGURES:
        now = quarter_value(review.months, figure, how)
        before = quarter_value(review.previous, figure, how)
        rows.append([label, figure_text(now, kind) if review.held else NO_DATA,
                     figure_text(before, kind) if review.previous_held else NO_DATA,
                     change_text(now, before, kind)])
    _table(slide, rows, MARGIN, BODY_TOP, BODY_WIDTH, (3, 2, 2, 2), size=13, row_height=Inches(0.37))
    _note(slide, "计数为有数据月份的月均（两个季度的月份数可能不同），比率为各月平均（本年收款率取最后一个有数据的月份）；"
                 "无数据的月份不计入。", BODY_TOP + Inches(0.37) * len(rows) + Inches(0.35), size=11)


def _trends(deck: Presentation, review: QuarterReview) -> None:
    months = review.months
    slide = _slide(deck, "月度趋势：来电、服务与投诉")
    _chart(slide, XL_CHART_TYPE.COLUMN_CLUSTERED, "来电与服务", months,
           (("来电", Figure.CALLS), ("服务单", Figure.SERVICES), ("解决家次", Figure.QUOTA_RESOLUTIONS), ("拜访家次", Figure.QUOTA_VISITS)),
           _half(True))
    _chart(slide, XL_CHART_TYPE.COLUMN_CLUSTERED, "投诉", months,
           (("投诉", Figure.QUALITY_COMPLAINTS), ("本部门责任", Figure.COMPLAINTS_DEPARTMENT)), _half(False))
    slide = _slide(deck, "月度趋势：满意度与收款")
    _chart(slide, XL_CHART_TYPE.LINE_MARKERS, "客户满意率与回访覆盖率", months,
           (("客户满意率", Figure.QUALITY_CSAT), ("回访覆盖率", Figure.QUALITY_COVERAGE)), _half(True), percent=True)
    _chart(slide, XL_CHART_TYPE.LINE_MARKERS, "年费收款率", months,
           (("本月收款率", Figure.FEES_COLLECTION_RATE_MONTH), ("本年收款率", Figure.FEES_COLLECTION_RATE_YEAR)), _half(False),
           percent=True)


def _people(deck: Presentation, review: QuarterReview) -> None:
    slide = _slide(deck, "人员考核")
    frames = [m.people for m in review.months if len(m.people)]
    header = ["工号", "姓名", "岗位", *(m.label for m in review.months), "季度平均"]
    rows = [header]
    if frames:
        everyone = pd.concat(frames, ignore_index=True)
        latest = everyone.drop_duplicates("staff_id", keep="last")
        order = latest.sort_values(["rank"]) if len(latest) else latest
        for person in order.to_dict("records"):
            cells, totals = [], []
            for m in review.months:
                mine = m.people[m.people["staff_id"] == person["staff_id"]] if len(m.people) else m.people
                if not m.present:
                    cells.append(NO_DATA)
                elif len(mine):
                    total = float(mine["total"].iloc[0])
                    totals.append(total)
                    cells.append(f"{total:.1f}（{mine['grade'].iloc[0]}）")
                else:
                    cells.append("—")
            rows.append([person["staff_id"], person["name"], person["role"], *cells,
                         f"{sum(totals) / len(totals):.1f}" if totals else "—"])
    size = 12 if len(rows) <= 14 else 10
    height = min(ROW_HEIGHT, int(BODY_HEIGHT * 0.92) // len(rows))
    _table(slide, rows, MARGIN, BODY_TOP, BODY_WIDTH, (1, 1.3, 1.5, 2, 2, 2, 1.3), size=size, row_height=height)
    _note(slide, "每月总分（等级）；按最后一个有数据月份的名次排列；季度平均为有数据月份的平均。",
          BODY_TOP + height * len(rows) + Inches(0.1), size=11)


def _table_and_chart(deck: Presentation, review: QuarterReview, title: str, rows: Sequence[tuple[str, Figure, str]],
                     chart_title: str, series: Sequence[tuple[str, Figure]], kind: XL_CHART_TYPE,
                     percent: bool = False) -> None:
    """The month table on the left, a chart on the right."""
    slide = _slide(deck, title)
    left = _half(True)
    table = _month_rows(review.months, rows)
    _table(slide, table, left[0], left[1], left[2], (2.2, 1.6, 1.6, 1.6), size=12,
           row_height=min(Inches(0.42), int(BODY_HEIGHT) // len(table)))
    _chart(slide, kind, chart_title, review.months, series, _half(False), percent=percent)


def _plans(deck: Presentation, review: QuarterReview) -> None:
    year, quarter = map(int, review.quarter.split("-Q"))
    following = f"{year + 1}年第1季度" if quarter == 4 else f"{year}年第{quarter + 1}季度"
    slide = _slide(deck, f"下季度工作计划（{following}）")
    rows = [list(PLAN_HEADERS), *([str(n), "", "", "", ""] for n in range(1, PLAN_ROWS + 1))]
    _table(slide, rows, MARGIN, BODY_TOP, BODY_WIDTH, (0.7, 4, 3, 1.3, 1.5), size=14, row_height=Inches(0.72))
    _note(slide, "由服务部经理填写。", BODY_TOP + Inches(0.72) * len(rows) + Inches(0.1), size=11)


def build_deck(review: QuarterReview) -> Presentation:
    """Every slide of the quarterly review, in order."""
    deck = Presentation()
    deck.slide_width, deck.slide_height = WIDTH, HEIGHT
    _title_slide(deck, review)
    _takeaways(deck, review)
    _key_figures(deck, review)
    _trends(deck, review)
    _people(deck, review)
    _table_and_chart(deck, review, "质量与投诉", QUALITY_ROWS, "投诉按责任", (
        ("本部门", Figure.COMPLAINTS_DEPARTMENT), ("总部", Figure.COMPLAINTS_HEADQUARTERS),
        ("客户原因", Figure.COMPLAINTS_CUSTOMER), ("其他", Figure.COMPLAINTS_OTHER)), XL_CHART_TYPE.COLUMN_STACKED)
    _table_and_chart(deck, review, "年费", FEE_ROWS, "逾期与续费", (
        ("逾期合同", Figure.FEES_OVERDUE), ("待续费", Figure.FEES_DUE_FOR_RENEWAL), ("已过期未续", Figure.FEES_LAPSED)),
        XL_CHART_TYPE.COLUMN_CLUSTERED)
    _table_and_chart(deck, review, "实施项目", PROJECT_ROWS, "上线与逾期", (
        ("本月上线", Figure.PROJECTS_LIVE_THIS_MONTH), ("待验收", Figure.PROJECTS_AWAITING_ACCEPTANCE),
        ("上线逾期", Figure.PROJECTS_LIVE_OVERDUE)), XL_CHART_TYPE.COLUMN_CLUSTERED)
    _table_and_chart(deck, review, "重点客户", CUSTOMER_ROWS, "跟踪客户与久未联系", (
        ("跟踪客户", Figure.CUSTOMERS_TRACKED), ("久未联系", Figure.CUSTOMERS_NOT_CONTACTED)), XL_CHART_TYPE.COLUMN_CLUSTERED)
    _plans(deck, review)
    return deck


def write_deck(folder: Path, review: QuarterReview, written: list[Path]) -> Path:
    """季度述职_YYYY-Qn.pptx in OUT/YYYY-Qn/, saved under a temporary name and moved into place."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / DECK_OUTPUT.file_name(review.quarter)
    temporary = temporary_path(target)
    try:
        build_deck(review).save(temporary)
        final = replace_file(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    written.append(final)
    return final
