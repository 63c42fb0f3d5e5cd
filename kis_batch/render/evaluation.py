"""月度考核_YYYY-MM.xlsx: the month's evaluation for the manager — 总表 with every part, the figures
behind it and a bar chart of the totals; one sheet per person with the evidence (scored feedback,
breaches, complaints with their responsibility, callbacks about them); 说明 with the weights.

Colours: the grade (and total) green A, blue B, orange C, red D; a 本部门 complaint red.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import Worksheet

from kis_batch.outputs import EVALUATION_OUTPUT
from kis_batch.render.columns import Col, input_col
from kis_batch.render.paper import Page, setup_page, shown_width
from kis_batch.render.saving import output_book
from kis_batch.render.style import ATTENTION_BG, ERROR_BG, GOOD_BG, HEADER_BG, Book, Highlight, sheet_name, write_block, write_table
from kis_batch.rules.display import percent_text
from kis_batch.rules.evaluation import SCORED_EVIDENCE, MonthEvaluation, PersonEvaluation
from kis_batch.schema import CALLBACKS, CUSTOMERS, DEPARTMENT_RESPONSIBLE, FEEDBACK, STAFF
from kis_batch.settings import SETTING_FIELDS, format_setting

GRADE_COLOURS = {"A": GOOD_BG, "B": HEADER_BG, "C": ATTENTION_BG, "D": ERROR_BG}
CHART_COLOUR = "#4472C4"


SUMMARY_COLS = (
    Col("rank", "名次", 3, "int"),
    input_col(STAFF, "staff_id", 6),
    input_col(STAFF, "name", 6),
    input_col(STAFF, "role", 8.2),
    Col("task", "任务", 4.5, "km"),
    Col("service", "服务评分", 4.5, "km"),
    Col("callbacks", "回访满意", 4.5, "km"),
    Col("discipline", "纪律", 4.5, "km"),
    Col("fees", "年费", 4.5, "km"),
    Col("complaints", "投诉扣分", 6.5, "deduction"),  # points taken off, printed with their minus sign
    Col("total", "总分", 5, "km"),
    Col("grade", "等级", 3.8),
    Col("resolutions", "解决家次", 3.8, "int"),
    Col("visits", "拜访家次", 3.8, "int"),
    Col("mean_score", "平均评分", 4.5, "km"),
    Col("callback_share", "计分满意率", 7, "percent"),
    Col("breach_count", "违规次数", 3.8, "int"),
    Col("fee_rate", "收款率", 7, "percent"),
    Col("complaints_counted", "本部门责任", 4, "int"),
    # Not printed: the counts behind the shares above (each person's sheet shows them in words).
    Col("resolved_rows", "已解决行数", 4, "int"),
    Col("result_rows", "有结果行数", 4, "int"),
    Col("scored_rows", "评分条数", 3.8, "int"),
    Col("callbacks_rated", "回访评价数", 4, "int"),
    Col("callbacks_satisfied", "回访满意数", 4, "int"),
    Col("fees_due", "本月应收", 10.5, "number"),
    Col("fees_paid", "本月已收", 10.5, "number"),
    Col("complaint_cases", "投诉起数", 3.8, "int"),
)
SUMMARY_PAGE = Page(printed=[c.key for c in SUMMARY_COLS].index("resolved_rows"))
GRADE_HIGHLIGHTS = tuple(Highlight(key, "text", ("grade", grade), colour)
                         for grade, colour in GRADE_COLOURS.items() for key in ("total", "grade"))
PART_COLS = (Col("part", "项目", 10), Col("points", "得分", 7, "km"), Col("full", "满分", 6, "km"),
             Col("basis", "依据", 70, wrap=True))
FEEDBACK_COLS = (
    input_col(FEEDBACK, "service_date", 10), input_col(FEEDBACK, "ticket_id", 14),
    input_col(FEEDBACK, "customer_id", 9), input_col(FEEDBACK, "service_type", 8), input_col(FEEDBACK, "mode", 7),
    input_col(FEEDBACK, "result", 8), input_col(FEEDBACK, "satisfaction", 9), Col("computed", "计算得分", 7, "score"),
    input_col(FEEDBACK, "manager_score", 7), Col("final", "最终得分", 7, "score"), Col("breaches", "违规", 20, wrap=True),
)
BREACH_COLS = (
    input_col(FEEDBACK, "service_date", 10), input_col(FEEDBACK, "ticket_id", 14),
    input_col(FEEDBACK, "customer_id", 9), input_col(CUSTOMERS, "customer_name", 16), input_col(FEEDBACK, "mode", 7),
    Col("kind", "违规类型", 10), Col("reason", "原因", 26, wrap=True),
)
COMPLAINT_COLS = (
    Col("filed_on", "立案日期", 10, "date"), Col("complaint_id", "投诉编号", 14),
    input_col(FEEDBACK, "customer_id", 9), input_col(CUSTOMERS, "customer_name", 16),
    Col("responsibility", "责任判定", 8), Col("deduction", "扣分", 6.5, "deduction"),
    Col("content", "投诉内容", 26, wrap=True),
)
CALLBACK_COLS = (
    input_col(CALLBACKS, "date", 10), input_col(CALLBACKS, "kind", 9), input_col(CALLBACKS, "customer_id", 9),
    input_col(CALLBACKS, "ticket_id", 14), input_col(CALLBACKS, "staff", 8),
    input_col(CALLBACKS, "satisfaction", 9), Col("satisfied", "计为满意", 7, "bool"),
    input_col(CALLBACKS, "notes", 16, wrap=True),
)
BASIS_LAST = 9  # the 依据 text spans the columns from 3 up to this one
SETTING_COLS = (Col("name", "参数", 18), Col("value", "值", 6), Col("help", "说明", 80, wrap=True))
RULES = (
    "任务：服务工程师 = 任务满分 ×（min(1, 解决家次÷解决指标) + min(1, 拜访家次÷拜访指标)）÷ 2，家次与指标缺口表相同；"
    "实施专员 = 任务满分 × 已解决行数 ÷ 有处理结果的行数（没有则 0）。",
    "服务评分：服务评分满分 × 本月评分反馈单的平均最终得分（有经理评分的以经理评分为准）÷ 100；没有反馈单得 0。",
    "回访满意：回访满意满分 × 关于本人服务或本人客户的接通且有评价的回访中 满意+非常满意 的比例；"
    "没有则按全部门的比例（部门也没有则满分）。",
    "纪律：纪律满分 − 每次违规扣分 × 违规次数（未电话预约、上门超时、反馈缺失、上门不属实，同质量报表），最低 0。",
    "年费：年费满分 × 本人负责合同本月的收款率（同年费表）；本月没有应收得满分。",
    "投诉扣分：每起责任判定为本部门的投诉（尚未判定的按本部门计）扣投诉扣分；其他责任的投诉只列出不扣分。",
    "总分：各项相加减投诉扣分，四舍五入到一位小数，限定在 0–100；"
    "等级按总分：不低于考核_A 为 A，不低于考核_B 为 B，不低于考核_C 为 C，否则 D；"
    "名次按总分从高到低，同分工号小的在前。",
)


def _money(value: float) -> str:
    return f"¥{value:,.2f}"


def _basis(p: PersonEvaluation, department_rate: float | None) -> dict[str, str]:
    """Each part in words, with the figures behind it."""
    if p.resolutions is not None:
        task = (f"解决 {p.resolutions} / 指标 {p.resolution_quota} 家次，拜访 {p.visits} / 指标 {p.visit_quota} 家次"
                "（各项超过指标按完成计）")
    else:
        task = (f"已解决 {p.resolved_rows} 行 ÷ 有处理结果 {p.result_rows} 行" if p.result_rows
                else "本月没有填了处理结果的反馈单")
    service = (f"本月评分反馈单 {p.scored_rows} 条，平均最终得分 {p.mean_score:g}" if p.scored_rows
               else "本月没有评分的反馈单")
    if not p.callbacks_from_department:
        callbacks = f"接通且有评价的回访 {p.callbacks_rated} 条，满意或非常满意 {p.callbacks_satisfied} 条"
    elif department_rate is not None:
        callbacks = f"没有关于本人的回访评价，按全部门满意率 {percent_text(department_rate)} 计"
    else:
        callbacks = "本月全部门都没有回访评价，按满分计"
    fees = (f"本月应收 {_money(p.fees_due)}，已收 {_money(p.fees_paid)}，收款率 {percent_text(p.fee_rate)}"
            if p.fee_rate is not None else "本人负责的合同本月没有应收，按满分计")
    others = len(p.complaint_list) - p.complaints_counted
    complaints = f"本月投诉 {len(p.complaint_list)} 起，其中本部门责任 {p.complaints_counted} 起" + (
        f"，其他责任 {others} 起不扣分" if others else "")
    return {"task": task, "service": service, "callbacks": callbacks,
            "discipline": f"违规 {p.breach_count} 次（明细见下）", "fees": fees, "complaints": complaints}


def summary_frame(evaluation: MonthEvaluation) -> pd.DataFrame:
    rows = []
    for p in evaluation.people:
        row = {f.name: getattr(p, f.name) for f in dataclasses.fields(p)}
        row["callback_share"] = (p.callback_rate if not p.callbacks_from_department
                                 else evaluation.department_callback_rate)
        row["complaint_cases"] = len(p.complaint_list)
        rows.append(row)
    return pd.DataFrame(rows, columns=[c.key for c in SUMMARY_COLS], dtype=object)


def _chart(book: Book, sheet: Worksheet, people: int) -> None:
    """A bar per person, rank 1 on top, under the table."""
    keys = [c.key for c in SUMMARY_COLS]
    first, last = 2, 1 + people
    chart = book.workbook.add_chart({"type": "bar"})
    chart.add_series({
        "name": "总分",
        "categories": [sheet.get_name(), first, keys.index("name"), last, keys.index("name")],
        "values": [sheet.get_name(), first, keys.index("total"), last, keys.index("total")],
        "fill": {"color": CHART_COLOUR}, "data_labels": {"value": True},
    })
    chart.set_title({"name": "总分", "name_font": {"size": 11}})
    chart.set_x_axis({"min": 0, "max": 100, "major_gridlines": {"visible": True, "line": {"color": "#D9D9D9"}}})
    chart.set_y_axis({"reverse": True})
    chart.set_legend({"none": True})
    chart.set_size({"width": 560, "height": 60 + 28 * people})
    sheet.insert_chart(last + 2, 1, chart)


def _section(book: Book, sheet: Worksheet, top: int, heading: str, frame: pd.DataFrame,
             cols: Sequence[Col]) -> int:
    """A heading, then the rows (or a line saying there are none); returns the next free row."""
    sheet.write_string(top, 0, heading, book.fmt("block_heading", bold=True, font_size=12))
    if not len(frame):
        sheet.write_string(top + 1, 0, "无", book.fmt("none", font_color="#595959"))
        return top + 3
    return write_block(book, sheet, top + 1, 0, frame, cols, widths=False) + 2


def _frame(rows: Sequence[dict[str, Any]], cols: Sequence[Col]) -> pd.DataFrame:
    return pd.DataFrame([{c.key: r.get(c.key) for c in cols} for r in rows], columns=[c.key for c in cols],
                        dtype=object)


def _evidence(feedback: Sequence[tuple[Any, ...]]) -> pd.DataFrame:
    """A person's scored rows (rules/evaluation.py SCORED_EVIDENCE) as FEEDBACK_COLS shows them."""
    frame = pd.DataFrame(list(feedback), columns=list(SCORED_EVIDENCE), dtype=object)
    return frame[[c.key for c in FEEDBACK_COLS]]


def _person_sheet(book: Book, evaluation: MonthEvaluation, p: PersonEvaluation) -> None:
    """The parts with what each stands on, then the evidence, one section under another."""
    s = evaluation.settings
    basis = _basis(p, evaluation.department_callback_rate)
    parts = pd.DataFrame([
        {"part": part, "points": getattr(p, key), "full": full, "basis": basis[key]}
        for part, key, full in (("任务", "task", s.eval_task_points), ("服务评分", "service", s.eval_service_points),
                                ("回访满意", "callbacks", s.eval_callback_points),
                                ("纪律", "discipline", s.eval_discipline_points), ("年费", "fees", s.eval_fee_points),
                                ("投诉扣分", "complaints", None))
    ] + [{"part": "总分", "points": p.total, "full": 100, "basis": f"等级 {p.grade}，第 {p.rank} 名"}], dtype=object)
    sheet = book.workbook.add_worksheet(sheet_name(p.name, [ws.get_name() for ws in book.workbook.worksheets()]))
    sheet.write_string(0, 0, f"{p.name}（{p.staff_id}，{p.role}）{evaluation.month} 月度考核（截至 "
                             f"{evaluation.as_of.isoformat()}）：总分 {p.total:g}，等级 {p.grade}，第 {p.rank} 名",
                       book.fmt("title", bold=True, font_size=14))
    last = write_block(book, sheet, 1, 0, parts, PART_COLS[:3], widths=False)
    header = book.fmt("header", bold=True, bg_color=HEADER_BG, border=1, text_wrap=True, valign="vcenter")
    sheet.merge_range(1, 3, 1, BASIS_LAST, PART_COLS[3].header, header)
    for offset, text in enumerate(parts["basis"], 2):
        sheet.merge_range(offset, 3, offset, BASIS_LAST, text, book.fmt("basis", text_wrap=True, valign="top"))
    deduction = len(parts) - 2  # the 投诉扣分 row, before 总分: shown as the deduction it is
    sheet.write_number(2 + deduction, 1, p.complaints, book.cell_format("deduction", False))
    sheet.write_number(last, 1, p.total, book.fmt("grade" + p.grade, bg_color=GRADE_COLOURS[p.grade], bold=True,
                                                  num_format="0.0"))
    top = last + 2
    mean = f"，平均 {p.mean_score:g}" if p.mean_score is not None else ""
    sections = (
        (f"评分的反馈单（{p.scored_rows} 条{mean}）", _evidence(p.feedback), FEEDBACK_COLS),
        (f"违规（{p.breach_count} 次）", _frame(p.breach_list, BREACH_COLS), BREACH_COLS),
        (f"投诉（{len(p.complaint_list)} 起，本部门责任 {p.complaints_counted} 起）",
         _frame(p.complaint_list, COMPLAINT_COLS), COMPLAINT_COLS),
        (f"关于本人的回访评价（{p.callbacks_rated} 条）", _frame(p.callback_list, CALLBACK_COLS), CALLBACK_COLS),
    )
    responsibility = xl_col_to_name([c.key for c in COMPLAINT_COLS].index("responsibility"))
    for heading, frame, cols in sections:
        start = top
        top = _section(book, sheet, top, heading, frame, cols)
        if cols is COMPLAINT_COLS and len(frame):
            sheet.conditional_format(start + 2, 0, start + 1 + len(frame), len(cols) - 1, {
                "type": "formula", "criteria": f'=${responsibility}{start + 3}="{DEPARTMENT_RESPONSIBLE}"',
                "format": book.fmt("hl" + ERROR_BG, bg_color=ERROR_BG)})
    every = (PART_COLS[:3], *(cols for _, _, cols in sections))
    widths = [max(shown_width(cols[index]) for cols in every if index < len(cols))
              for index in range(max(len(cols) for cols in every))]
    for index, width in enumerate(widths):
        sheet.set_column(index, index, width)
    setup_page(sheet, sum(widths), len(widths) - 1)


def _settings_frame(evaluation: MonthEvaluation) -> pd.DataFrame:
    rows = [{"name": f.metadata["zh"], "value": format_setting(f, getattr(evaluation.settings, name)),
             "help": f.metadata["help"]} for name, f in SETTING_FIELDS.items() if name.startswith("eval_")]
    rows += [{"name": "计算方法", "value": None, "help": rule} for rule in RULES]
    return pd.DataFrame(rows, columns=[c.key for c in SETTING_COLS], dtype=object)


def write_evaluation(folder: Path, evaluation: MonthEvaluation, written: list[Path]) -> None:
    """月度考核_YYYY-MM.xlsx in OUT/YYYY-MM/."""
    folder.mkdir(parents=True, exist_ok=True)
    people = len(evaluation.people)
    title = (f"月度考核 {evaluation.month}（截至 {evaluation.as_of.isoformat()}）：{people} 人，"
             + "，".join(f"{g} {sum(p.grade == g for p in evaluation.people)} 人" for g in GRADE_COLOURS))
    with output_book(folder, EVALUATION_OUTPUT, evaluation.month, written) as book:
        sheet = write_table(book, "总表", summary_frame(evaluation), SUMMARY_COLS, title=title,
                            highlights=GRADE_HIGHLIGHTS, page=SUMMARY_PAGE)
        if people:
            _chart(book, sheet, people)
        for p in evaluation.people:
            _person_sheet(book, evaluation, p)
        write_table(book, "说明", _settings_frame(evaluation), SETTING_COLS,
                    title="月度考核的权重与计算方法（可在规则设置中修改权重）")
