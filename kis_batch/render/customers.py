"""客户跟踪_D.xlsx: the tracked customers for the manager and the hotline — one sheet each for 重点客户,
大客户, 集团客户 (a tinted roll-up row per 所属集团 with its members outlined beneath) and 异地客户; the
least recently contacted first. Headers reuse the 客户档案 ones.

Colours: 久未联系 red (the cell, and the 未联系天数 beside it); a group's roll-up row blue.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
from xlsxwriter.worksheet import Worksheet

from kis_batch.outputs import CUSTOMERS_OUTPUT
from kis_batch.render.columns import Col, col_from_schema
from kis_batch.render.paper import Page, printed_span
from kis_batch.render.saving import output_book
from kis_batch.render.style import ERROR_BG, HEADER_BG, Book, Highlight, write_notes, write_table
from kis_batch.rules.customers import KEY, TRACKED, CustomerTracking
from kis_batch.schema import CUSTOMERS, GROUP_SEGMENT

YES = "是"


def _customer_col(key: str, width: float, wrap: bool = False) -> Col:
    return dataclasses.replace(col_from_schema(CUSTOMERS.fields[key]), width=width, wrap=wrap)


def customer_columns(lookback: int, after_name: tuple[Col, ...] = ()) -> tuple[Col, ...]:
    """A customer row's columns, with a sheet's own after the name; the look-back's days name two of them."""
    return (
        _customer_col("customer_id", 7), _customer_col("customer_name", 15, wrap=True), *after_name,
        Col("owner_name", CUSTOMERS.fields["owner"].zh, 6.5), Col("interval", "联系间隔(天)", 4, "int"),
        Col("days_since", "未联系天数", 4, "int"), Col("overdue", "久未联系", 4, "bool"),
        Col("last_call", "最近来电", 9.8, "date"), Col("last_service", "最近服务", 9.8, "date"),
        Col("last_callback", "最近回访", 9.8, "date"), Col("open_tickets", "未结工单", 4, "int"),
        Col("services_month", "本月服务", 4, "int"), Col("complaints", f"近{lookback}天投诉", 4, "int"),
        Col("low_ratings", f"近{lookback}天一般/不满意", 5, "int"), Col("fee_status", "年费状态", 18, wrap=True),
    )


GROUP_EXTRA = (_customer_col("group", 12, wrap=True), Col("members", "成员数", 4, "int"))
GROUP_NOTE = ("蓝色行为集团汇总：成员数、未结工单、本月服务、投诉和一般/不满意为各成员之和；未联系天数取成员中最大的（最久没有联系的），"
              "任一成员久未联系即为久未联系；点左侧的 − / + 折叠或展开成员。",)
OVERDUE_HIGHLIGHTS = (Highlight("overdue", "text", ("overdue", YES), ERROR_BG),
                      Highlight("days_since", "text", ("overdue", YES), ERROR_BG))
GROUP_ROW = Highlight(None, ">", ("members", 0), HEADER_BG)


def _legend(tracking: CustomerTracking) -> tuple[str, ...]:
    """说明, a line per row under the table, so a printed page keeps every word."""
    intervals = "、".join(f"{label} {days} 天" for label, days in tracking.intervals.items())
    return (
        f"说明：联系间隔 {intervals}（规则设置可改），同一客户适用几个时取最短；未联系天数超过联系间隔即为久未联系（标红）。",
        f"未联系天数：从最近一次来电、服务（已发生的服务反馈）或接通的回访，到 {tracking.today.isoformat()} 的天数；"
        "本月以来都没有联系的，从本月1日算起。",
        f"近{tracking.lookback_days}天投诉：来电投诉和回访投诉（回访所填工单号就是那次来电的只计一次）；"
        "一般/不满意：服务反馈单和回访记录中的评价。未结工单：次日派工所依据的未完成工单。",
    )


def _title(tracking: CustomerTracking, label: str, frame: pd.DataFrame) -> str:
    overdue = int(frame["overdue"].sum()) if len(frame) else 0
    # 重点客户 is a mark in 客户档案, not a 客户类别: say so, as a 普通 customer can carry it.
    which = "客户档案中重点客户=是的客户（不论客户类别，类别见第三列）" if label == KEY else ""
    return (f"{label}跟踪 {tracking.today.isoformat()}：{which}{len(frame)} 家，久未联系 {overdue} 家"
            f"（联系间隔 {tracking.intervals[label]} 天）")


def _notes(book: Book, sheet: Worksheet, row: int, lines: tuple[str, ...], cols: tuple[Col, ...]) -> None:
    span = printed_span(cols, Page())
    write_notes(book, sheet, row, lines, span.last_col, span.units)


def _group_sheet_rows(tracking: CustomerTracking) -> tuple[pd.DataFrame, list[int]]:
    """Each group's roll-up row followed by its members; and the positions of the member rows."""
    blocks: list[pd.DataFrame] = []
    member_rows: list[int] = []
    at = 0
    for group in tracking.groups.to_dict("records"):
        members = tracking.members_of(group["group"])
        roll_up = {**group, "customer_name": f"集团汇总（{group['members']} 家，久未联系 {group['overdue_members']} 家）",
                   "interval": tracking.intervals[GROUP_SEGMENT]}
        blocks += [pd.DataFrame([roll_up], dtype=object), members.assign(members=None)]
        member_rows += range(at + 1, at + 1 + len(members))
        at += 1 + len(members)
    frame = pd.concat(blocks, ignore_index=True) if blocks else tracking.tracked_in(GROUP_SEGMENT).assign(members=None)
    return frame, member_rows


def write_customers(out_dir: Path, tracking: CustomerTracking, written: list[Path]) -> None:
    """客户跟踪_D.xlsx: 重点客户, 大客户, 集团客户, 异地客户."""
    out_dir.mkdir(parents=True, exist_ok=True)
    cols = customer_columns(tracking.lookback_days)
    key_cols = customer_columns(tracking.lookback_days, (_customer_col("segment", 6),))  # which 客户类别 a 重点客户 is
    legend = _legend(tracking)
    with output_book(out_dir, CUSTOMERS_OUTPUT, tracking.today, written) as book:
        for label in TRACKED:
            listed = tracking.tracked_in(label)
            title = _title(tracking, label, listed)
            if label == GROUP_SEGMENT:
                frame, member_rows = _group_sheet_rows(tracking)
                group_cols = (*GROUP_EXTRA, *cols)
                sheet = write_table(book, label, frame, group_cols, title=title,
                                    highlights=(*OVERDUE_HIGHLIGHTS, GROUP_ROW))
                first_data = 2  # below the title and header rows
                for offset in member_rows:
                    sheet.set_row(first_data + offset, None, None, {"level": 1})
                sheet.outline_settings(True, False, True, False)
                _notes(book, sheet, len(frame) + 3, (*legend, *GROUP_NOTE), group_cols)
                continue
            shown = key_cols if label == KEY else cols
            sheet = write_table(book, label, listed, shown, title=title, highlights=OVERDUE_HIGHLIGHTS)
            _notes(book, sheet, len(listed) + 3, legend, shown)
