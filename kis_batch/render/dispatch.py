"""The dispatch workbooks: 派工单_P.xlsx for the manager (总览, a sheet per person, 未派) and
派工单_P_姓名.xlsx for each person who goes out, to print and to fill in.

A filled sheet dropped back into the folder is read as 服务反馈单 (the loop). So each sheet holds the
feedback template's required headers, prefilled (服务日期 = P, 派给 = the person), and none that would
make it also look like a call log (来电时间, 问题描述) or a callback list (回访日期, 回访类型).

Suggested visits (kis_batch.rules.suggestions) follow each engineer's tickets, marked 建议拜访 in the 类别
column and tinted; their reason stands in 报修问题 and, without a 工单号, a filled one comes back as
a 客户拜访 feedback row.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from pathlib import Path

import pandas as pd

from kis_batch.calendar import day_label
from kis_batch.outputs import DISPATCH_OUTPUT, PERSON_DISPATCH_OUTPUT
from kis_batch.render.columns import CONTACT, PHONE, Col, col_from_schema, input_col, person_choice
from kis_batch.render.paper import HANDWRITING_ROW_PT, ROUTE_PAGE_PT, Page
from kis_batch.render.saving import output_book
from kis_batch.render.service_sheet import Letterhead, write_service_sheet
from kis_batch.render.style import ATTENTION_BG, GOOD_BG, Highlight, write_table
from kis_batch.rules.common import staff_order
from kis_batch.rules.dispatch import POOLS, DispatchResult
from kis_batch.rules.suggestions import SUGGESTED
from kis_batch.schema import CALLS, CUSTOMERS, FEEDBACK, HOLD
from kis_batch.settings import Settings

ROUTE = Col("route", "路线顺序", 4, "int")
# A dispatched ticket or a suggested visit (one the engineer may skip).
DISPATCHED = "派工"
KIND = Col("kind", "类别", 5, wrap=True)
PRIORITY = Col("priority", "优先顺序", 4, "int")
TICKET = input_col(FEEDBACK, "ticket_id", 13.5)
CUSTOMER_ID = input_col(CUSTOMERS, "customer_id", 8)
CUSTOMER_NAME = input_col(CUSTOMERS, "customer_name", 14, wrap=True)
ADDRESS = input_col(CUSTOMERS, "address", 14, wrap=True)
AREA = input_col(CUSTOMERS, "area", 6)
KEY_CUSTOMER = input_col(CUSTOMERS, "key_customer", 5)
CATEGORY = input_col(CALLS, "category", 7)
SEVERITY = input_col(CALLS, "severity", 5.5)
URGENCY = input_col(CALLS, "urgency", 5.5)
# Not the call log's own 问题描述 / 来电时间: with those a returned sheet would also look like a call log.
PROBLEM = Col("problem", "报修问题", 17, wrap=True)
CALL_TIME = Col("call_time", "报修时间", 15.5, "datetime")
WAITING = Col("days_waiting", "等待工作日", 4, "int")
LAST_RESULT = Col("last_result", "上次结果", 7)
ASSIGNEE = Col("assignee_name", "派给", 6)
# The 总览's 计划派给: what this run planned (a pinned row keeps the plan it was pinned against), so a
# 派给 changed beside it is the manager's (docs/rules.md § Dispatch).
PLANNED = Col("planned_name", FEEDBACK.fields["planned"].zh, 6)
OWNER = Col("owner_name", "原服务代表", 6)
MOVE_REASON = Col("reason", "改派原因", 22, wrap=True)
BACKLOG_REASON = Col("reason", "原因", 26, wrap=True)
# Read down a route: each leg from the stop before (the first from the engineer's base).
LEG = Col("leg_km", "上站距离", 4, "km")
LEG_NOTE = "上站距离：离上一站的公里数，第1站从出发地算起；同区域又无坐标的不估算（留空）"
# The 服务反馈单 part: prefilled where the plan knows the answer, the rest blank with dropdowns.
SERVICE_DATE = replace(col_from_schema(FEEDBACK.fields["service_date"], fill=True), width=10)
SERVICE_TYPE = replace(col_from_schema(FEEDBACK.fields["service_type"], fill=True), width=8)
FEEDBACK_FILL = tuple(replace(col_from_schema(FEEDBACK.fields[key], fill=True), width=width) for key, width in
                      (("mode", 4), ("phoned_ahead", 4), ("arrive", 6), ("leave", 6), ("result", 7),
                       ("satisfaction", 7), ("signed", 4), ("manager_score", 5), ("notes", 9)))
FILLED_ON_SITE = tuple(c for c in FEEDBACK_FILL if c.key != "manager_score")

# The engineer's printed sheet: where to go and what to write, then (not printed) what the sheet needs
# to come back as feedback and what is the same on every row; no 经理评分 (the manager's column).
PERSON_PRINTED = (ROUTE, KIND, CUSTOMER_NAME, CONTACT, PHONE, ADDRESS, PROBLEM, *FILLED_ON_SITE)
PERSON_COLUMNS = (*PERSON_PRINTED, TICKET, CUSTOMER_ID, KEY_CUSTOMER, OWNER, MOVE_REASON, SERVICE_DATE, ASSIGNEE,
                  SERVICE_TYPE)
OVERVIEW_PRINTED = (ASSIGNEE, ROUTE, KIND, TICKET, CUSTOMER_NAME, AREA, CATEGORY, PROBLEM, SEVERITY, URGENCY,
                    KEY_CUSTOMER, WAITING, OWNER, MOVE_REASON, LEG)
OVERVIEW_COLUMNS = (*OVERVIEW_PRINTED, CALL_TIME, CUSTOMER_ID, CONTACT, PHONE, ADDRESS, PRIORITY, LAST_RESULT,
                    PLANNED, SERVICE_DATE, SERVICE_TYPE, *FEEDBACK_FILL)
BACKLOG_PRINTED = (TICKET, CUSTOMER_NAME, AREA, CATEGORY, PROBLEM, SEVERITY, URGENCY, KEY_CUSTOMER, WAITING, PRIORITY,
                   OWNER, BACKLOG_REASON)
BACKLOG_COLUMNS = (*BACKLOG_PRINTED, CALL_TIME, CUSTOMER_ID, CONTACT, PHONE, LAST_RESULT)
ROUTE_PAGE = Page(printed=len(PERSON_PRINTED), min_pt=ROUTE_PAGE_PT, landscape=True)
OVERVIEW_PAGE = Page(printed=len(OVERVIEW_PRINTED))
BACKLOG_PAGE = Page(printed=len(BACKLOG_PRINTED))
# A key customer's name stands out (in orange: yellow is what the engineer fills in).
KEY_HIGHLIGHT = tuple(Highlight(key, "text", ("key_customer", "是"), ATTENTION_BG)
                      for key in ("customer_name", "key_customer"))


def _suggested_highlight(cols: tuple[Col, ...]) -> tuple[Highlight, ...]:
    """Suggested rows tinted in the printed columns; the fill-in columns keep their own tint."""
    return tuple(Highlight(c.key, "text", ("kind", SUGGESTED), GOOD_BG) for c in cols if not c.fill)


PERSON_HIGHLIGHTS = KEY_HIGHLIGHT + _suggested_highlight(PERSON_COLUMNS)
OVERVIEW_HIGHLIGHTS = KEY_HIGHLIGHT + _suggested_highlight(OVERVIEW_COLUMNS)


def _sheet_rows(result: DispatchResult, suggestions: pd.DataFrame | None) -> pd.DataFrame:
    """Every row the sheets show: each person's tickets in route order, then their suggested visits
    (the reason standing in 报修问题); 服务日期 = P on every row, the returned sheet's prefill (派给 and
    服务类型 are already there)."""
    parts = [result.assignments.assign(kind=DISPATCHED)]
    if suggestions is not None and len(suggestions):
        parts.append(suggestions.rename(columns={"reason": "problem"}))
    frame = pd.concat([p for p in parts if len(p)] or parts[:1], ignore_index=True)
    pools = [pool.role for pool in POOLS]
    keys = list(zip(frame["pool"], frame["assignee"], frame["kind"], strict=True))
    order = sorted(range(len(frame)), key=lambda i: (pools.index(keys[i][0]), staff_order(keys[i][1]),
                                                     keys[i][2] == SUGGESTED))
    frame = frame.iloc[order].reset_index(drop=True)
    frame["service_date"] = result.plan_date
    return frame


@dataclass(frozen=True)
class PersonSheet:
    """One person's rows, as their sheet in 派工单_P.xlsx and their own workbook show them: label (姓名, or
    姓名_工号 when two share the name, as 派给 shows it) names the sheet and the file; the 服务单 the
    customer signs carries the 姓名."""

    name: str
    label: str
    title: str
    rows: pd.DataFrame


@dataclass(frozen=True)
class DispatchSheets:
    """What both dispatch outputs show, worked out once for the two writers."""

    plan_date: dt.date
    frame: pd.DataFrame
    people: list[PersonSheet]
    letterhead: Letterhead


def dispatch_sheets(result: DispatchResult, tables: dict[str, pd.DataFrame], suggestions: pd.DataFrame | None = None,
                    *, settings: Settings) -> DispatchSheets:
    """Every row in order, and per person who got work or a suggested visit: their rows and title;
    the 服务单's letterhead from the settings."""
    day = day_label(result.plan_date)
    frame = _sheet_rows(result, suggestions)
    roster = tables.get("staff")
    staff = roster.set_index("staff_id", drop=False) if roster is not None and len(roster) else None
    people = []
    for staff_id, rows in frame.groupby("assignee", sort=False):
        label = rows["assignee_name"].iloc[0]  # the rules' 派给: 姓名, or 姓名_工号 for a shared 姓名
        name, where = label, ""
        if staff is not None and staff_id in staff.index:
            member = staff.loc[staff_id]
            name = member["name"]
            where = f"（{member['role']}，{member['area']}出发）" if member["area"] else f"（{member['role']}）"
        suggested = int((rows["kind"] == SUGGESTED).sum())
        extra = f"，另{SUGGESTED}{suggested}家（绿色行，可选；没去的请删去该行）" if suggested else ""
        keys = "；橙色客户为重点客户，优先服务" if any(v is True for v in rows["key_customer"]) else ""
        title = (f"派工单 {day} · {label}{where} · 共{len(rows) - suggested}家{extra} · 按路线顺序上门；"
                 f"出发前电话预约，完成后填写黄色列交回{keys}")
        people.append(PersonSheet(name, label, title, rows))
    return DispatchSheets(result.plan_date, frame, people, Letterhead(settings.company_name, settings.service_hotline))


def write_dispatch_overview(out_dir: Path, result: DispatchResult, sheets: DispatchSheets,
                            written: list[Path]) -> None:
    """派工单_P.xlsx: 总览, a sheet per person, 未派."""
    day = day_label(result.plan_date)
    frame = sheets.frame
    out_dir.mkdir(parents=True, exist_ok=True)
    with output_book(out_dir, DISPATCH_OUTPUT, result.plan_date, written) as book:
        assigned = result.assignments
        moved = int(assigned["moved"].sum()) if len(assigned) else 0
        suggested = int((frame["kind"] == SUGGESTED).sum())
        offered = f" · {SUGGESTED}{suggested}家" if suggested else ""
        columns = (person_choice(ASSIGNEE, result.on_duty, HOLD), *OVERVIEW_COLUMNS[1:])
        write_table(book, "总览", frame, columns, highlights=OVERVIEW_HIGHLIGHTS, page=OVERVIEW_PAGE,
                    title=f"派工总览 {day} · 派出{len(assigned)}单（改派{moved}单）{offered} · 未派{len(result.backlog)}单"
                          f" · 经理调整：在黄色派给列改选人或选{HOLD}，存回收件夹后重跑当天 · {LEG_NOTE}")
        for person in sheets.people:
            write_table(book, person.label, person.rows, PERSON_COLUMNS, highlights=PERSON_HIGHLIGHTS,
                        title=person.title, page=ROUTE_PAGE)
        write_table(book, "未派", result.backlog, BACKLOG_COLUMNS, highlights=KEY_HIGHLIGHT, page=BACKLOG_PAGE,
                    title=f"未派工单 {day} · {len(result.backlog)}单，顺延到下一工作日并多等一天")


def write_person_sheets(out_dir: Path, sheets: DispatchSheets, written: list[Path]) -> None:
    """One 派工单_P_姓名.xlsx per person who got work or a suggested visit, to email: the table sheet
    first (it comes back as feedback), then the 服务单 to print, a page per visit."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for person in sheets.people:
        with output_book(out_dir, PERSON_DISPATCH_OUTPUT, sheets.plan_date, written, person.label) as book:
            write_table(book, person.label, person.rows, PERSON_COLUMNS, highlights=PERSON_HIGHLIGHTS,
                        title=person.title, page=replace(ROUTE_PAGE, row_pt=HANDWRITING_ROW_PT))
            write_service_sheet(book, person.rows, sheets.plan_date, person.name, sheets.letterhead)
