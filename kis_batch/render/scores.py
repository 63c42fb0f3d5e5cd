"""评分_D.xlsx: D's feedback scored with the rubric's breakdown, each engineer's month so far, and
the month's scored rows; breaches coloured, complaints and manager overrides marked."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd

from kis_batch.outputs import SCORES_OUTPUT
from kis_batch.render.style import (
    ERROR_BG,
    HEADER_BG,
    WARNING_BG,
    Book,
    Col,
    Highlight,
    input_col,
    output_book,
    write_table,
)
from kis_batch.rules.scoring import Scores
from kis_batch.schema import CUSTOMERS, FEEDBACK, STAFF

ROW_COLS = (
    input_col(FEEDBACK, "ticket_id", 12),
    input_col(FEEDBACK, "service_date", 10),
    Col("staff_name", FEEDBACK.fields["staff"].zh, 7),
    input_col(FEEDBACK, "customer_id", 8),
    input_col(CUSTOMERS, "customer_name", 16),
    input_col(FEEDBACK, "service_type", 8),
    input_col(FEEDBACK, "mode", 5),
    input_col(FEEDBACK, "result", 8),
    input_col(FEEDBACK, "satisfaction", 8),
    input_col(FEEDBACK, "phoned_ahead", 5),
    Col("minutes", "上门分钟", 5, "int"),
    Col("result_points", "结果分", 5, "score"),
    Col("satisfaction_points", "满意度分", 5, "score"),
    Col("phoned_points", "预约分", 5, "score"),
    Col("time_points", "时长分", 5, "score"),
    Col("due_date", "及时期限", 10, "date"),
    Col("on_time_points", "及时分", 5, "score"),
    Col("complaint", "投诉", 15),
    Col("complaint_points", "投诉扣分", 5, "score"),
    Col("computed", "计算得分", 6, "score"),
    Col("manager_score", FEEDBACK.fields["manager_score"].zh, 6, "score"),
    Col("final", "最终得分", 6, "score"),
    Col("breach_count", "违规数", 5, "int"),
    Col("breaches", "违规", 30),
)
ROW_HIGHLIGHTS = (
    Highlight("complaint_points", ">", ("complaint_points", 0), WARNING_BG),
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
ENGINEER_HIGHLIGHTS = (Highlight(None, ">", ("breaches", 0), WARNING_BG),)
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
    sheet = write_table(book, name, rows, ROW_COLS, title=title, highlights=ROW_HIGHLIGHTS)
    sheet.write_string(len(rows) + 3, 0, LEGEND, book.fmt("legend", font_color="#595959"))


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
                    highlights=ENGINEER_HIGHLIGHTS, landscape=False)
