"""评分_D.xlsx: D's feedback scored with the rubric's breakdown, each engineer's month so far, and
the month's scored rows; breaches coloured, complaints and manager overrides marked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from kis_batch.outputs import SCORES_OUTPUT
from kis_batch.render.columns import Col, input_col
from kis_batch.render.paper import Page, printed_span
from kis_batch.render.saving import output_book
from kis_batch.render.style import ATTENTION_BG, ERROR_BG, HEADER_BG, Book, Highlight, write_notes, write_table
from kis_batch.rules.scoring import Scores
from kis_batch.schema import CUSTOMERS, FEEDBACK, STAFF

# Printed: who served whom, the result, the rubric's points and the breaches; after them the columns
# the same on every row of the day or repeated in the points (服务日期, 客户编号, 服务方式, 及时期限, 投诉, 违规数).
ROW_PRINTED = (
    input_col(FEEDBACK, "ticket_id", 12.5),
    Col("staff_name", FEEDBACK.fields["staff"].zh, 6),
    input_col(CUSTOMERS, "customer_name", 13, wrap=True),
    input_col(FEEDBACK, "service_type", 7),
    input_col(FEEDBACK, "result", 7),
    input_col(FEEDBACK, "satisfaction", 7),
    input_col(FEEDBACK, "phoned_ahead", 4),
    Col("minutes", "上门分钟", 4, "int"),
    Col("result_points", "结果分", 4, "score"),
    Col("satisfaction_points", "满意度分", 4, "score"),
    Col("phoned_points", "预约分", 4, "score"),
    Col("time_points", "时长分", 4, "score"),
    Col("on_time_points", "及时分", 4, "score"),
    Col("complaint_points", "投诉扣分", 4, "deduction"),
    Col("computed", "计算得分", 4, "score"),
    Col("manager_score", FEEDBACK.fields["manager_score"].zh, 4, "score"),
    Col("final", "最终得分", 4, "score"),
    Col("breaches", "违规", 18, wrap=True),
)
ROW_COLS = (
    *ROW_PRINTED,
    input_col(FEEDBACK, "service_date", 10),
    input_col(FEEDBACK, "customer_id", 8),
    input_col(FEEDBACK, "mode", 5),
    Col("due_date", "及时期限", 10, "date"),
    Col("complaint", "投诉", 15),
    Col("breach_count", "违规数", 5, "int"),
)
ROW_PAGE = Page(printed=len(ROW_PRINTED))
ROW_HIGHLIGHTS = (
    Highlight("complaint_points", ">", ("complaint_points", 0), ATTENTION_BG),
    Highlight("final", ">=", ("manager_score", 0), HEADER_BG),
    Highlight(None, ">", ("breach_count", 0), ERROR_BG),
)
ENGINEER_COLS = (
    Col("staff", STAFF.fields["staff_id"].zh, 8),
    Col("staff_name", FEEDBACK.fields["staff"].zh, 10),
    Col("count", "反馈数", 8, "int"),
    Col("average", "平均得分", 9, "km"),  # "km" is the kit's one-decimal format
    Col("breaches", "违规次数", 9, "int"),
    Col("complaints", "被投诉次数", 10, "int"),
)
ENGINEER_HIGHLIGHTS = (Highlight(None, ">", ("breaches", 0), ATTENTION_BG),)
LEGEND = "红色行=有违规（未电话预约、上门超时或未填时间、回访核实未上门）；橙色=被投诉扣分；蓝色=经理评分覆盖了计算得分"


def _lookup(tables: dict[str, pd.DataFrame], key: str, id_column: str, name_column: str) -> dict[str, str]:
    frame = tables.get(key)
    return {} if frame is None else dict(zip(frame[id_column], frame[name_column], strict=True))


def _named(frame: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The rows with the engineer's 姓名 and the 客户名称 beside the ids, as people read them."""
    staff = _lookup(tables, "staff", "staff_id", "name")
    customers = _lookup(tables, "customers", "customer_id", "customer_name")
    frame = frame.copy()
    frame["staff_name"] = [staff.get(s, s) for s in frame["staff"]]
    if "customer_id" in frame:
        frame["customer_name"] = [customers.get(c) for c in frame["customer_id"]]
    return frame


def _day_title(today: dt.date, rows: pd.DataFrame) -> str:
    if not len(rows):
        return f"评分 {today.isoformat()}：当日没有交回的服务反馈单"
    average = pd.to_numeric(rows["final"]).mean()
    breaches = int((rows["breach_count"] > 0).sum())
    return f"评分 {today.isoformat()}：当日反馈 {len(rows)} 条，平均 {average:.1f} 分，有违规 {breaches} 条"


def _rows_sheet(book: Book, name: str, rows: pd.DataFrame, title: str) -> None:
    """Scored rows with their breakdown, and under them what the colours mean."""
    sheet = write_table(book, name, rows, ROW_COLS, title=title, highlights=ROW_HIGHLIGHTS, page=ROW_PAGE)
    span = printed_span(ROW_COLS, ROW_PAGE)
    write_notes(book, sheet, len(rows) + 3, (LEGEND,), span.last_col, span.units)


def write_scores(out_dir: Path, today: dt.date, scores: Scores, tables: dict[str, pd.DataFrame],
                 written: list[Path]) -> None:
    """评分_D.xlsx: 当日评分 and 本月汇总 (per engineer), as docs/rules.md § Outputs lists. Each day's rows stay in that
    day's workbook; the month's rows all again would dominate the run at a regional centre's scale."""
    out_dir.mkdir(parents=True, exist_ok=True)
    day = _named(scores.today_rows, tables)
    since = f"{today.year}年{today.month}月1日至{today.day}日"
    with output_book(out_dir, SCORES_OUTPUT, today, written) as book:
        _rows_sheet(book, "当日评分", day, _day_title(today, day))
        write_table(book, "本月汇总", _named(scores.by_engineer, tables), ENGINEER_COLS,
                    title=f"{since}：每人反馈数、平均得分（经理评分优先）、违规和投诉",
                    highlights=ENGINEER_HIGHLIGHTS)
