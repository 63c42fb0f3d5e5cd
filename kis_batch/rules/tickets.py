"""What an open ticket is and how open tickets rank (docs/rules.md § Dispatch): the tickets the plan
for P serves, read from the call log and the feedback up to D, and the priority order it serves them in.

Pure functions on the ingested tables; nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.coerce import day_of
from kis_batch.schema import CALLS, IMPLEMENTATION_CATEGORY, RESOLVED, SEVERITIES, URGENCIES
from kis_batch.settings import Settings
from kis_batch.tables import rows_of

# docs/rules.md § Dispatch: call-log tickets whose handling is 需上门 (or 远程处理 still unresolved) are dispatched.
DISPATCHED_HANDLINGS = ("需上门", "远程处理")
# docs/rules.md § Dispatch: a ticket whose latest feedback says one of these comes back.
UNFINISHED_RESULTS = ("部分解决", "未解决")
NO_CALL_PROBLEM = "（来电记录不在本文件夹，见上次反馈）"


def open_tickets(calls: pd.DataFrame, feedback: pd.DataFrame, calendar: WorkCalendar, today: dt.date) -> pd.DataFrame:
    """The open tickets on `today`: 需上门/远程处理 calls without an 已解决 feedback, plus every ticket
    whose latest filled feedback is 部分解决/未解决 (its customer from that feedback if the call is not
    in the folder). Only what happened up to today counts, so rerunning an old date gives its old plan.
    Only a 处理结果 changes a ticket: a service that happened without one (schema.service_happened) is
    not a resolution, so the ticket stays as its last result left it.

    Days waiting count working days from the call (or the first feedback) to today, so a ticket that
    comes back waits one more day each time.
    """
    read = ["ticket_id", "result", "service_date", "customer_id", "service_type", "notes"]
    feedback_of = dict(zip(read, (feedback[column].tolist() for column in read), strict=True))
    ids, results, dates = feedback_of["ticket_id"], feedback_of["result"], feedback_of["service_date"]
    filled = [n for n, (ticket, result, day) in enumerate(zip(ids, results, dates, strict=True))
              if ticket and result and day and day <= today]
    # The latest feedback decides; on the same day an 已解决 outranks the others (someone finished it).
    filled.sort(key=lambda n: (dates[n], results[n] == RESOLVED))
    latest: dict[str, int] = {}  # ticket -> its deciding feedback row
    first_seen: dict[str, dt.date] = {}
    solved: set[str] = set()
    for n in filled:
        latest[ids[n]] = n
        first_seen.setdefault(ids[n], dates[n])
        if results[n] == RESOLVED:
            solved.add(ids[n])

    defaults = {key: CALLS.fields[key].default for key in ("severity", "urgency")}
    rows: list[dict[str, Any]] = []
    # 来电时间 is a date-time: called by today means before the next midnight.
    tomorrow = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    in_log = {ticket for ticket, when in zip(calls["ticket_id"].tolist(), calls["call_time"].tolist(), strict=True)
              if when is not None and when < tomorrow}
    # Open: calls still waiting for a visit (需上门/远程处理, no 已解决 yet), and calls whose ticket
    # came back unfinished. Chosen with pandas, since most of a month's calls are neither.
    came_back = [ticket for ticket, last in latest.items() if results[last] in UNFINISHED_RESULTS]
    is_open = ((calls["handling"].isin(DISPATCHED_HANDLINGS) & ~calls["ticket_id"].isin(solved))
               | calls["ticket_id"].isin(came_back))
    wanted = ["ticket_id", "customer_id", "call_time", "category", "problem", "severity", "urgency"]
    for call in rows_of(calls.loc[is_open, wanted]):
        if call["call_time"] is None or call["call_time"] >= tomorrow:
            continue
        last = latest.get(call["ticket_id"])
        rows.append({
            "ticket_id": call["ticket_id"], "customer_id": call["customer_id"], "call_time": call["call_time"],
            "category": call["category"], "problem": call["problem"],
            "severity": call["severity"] or defaults["severity"], "urgency": call["urgency"] or defaults["urgency"],
            "since": day_of(call["call_time"]), "last_result": results[last] if last is not None else None,
        })
    for ticket in came_back:
        if ticket in in_log:
            continue
        last = latest[ticket]
        rows.append({
            "ticket_id": ticket, "customer_id": feedback_of["customer_id"][last], "call_time": None,
            "category": IMPLEMENTATION_CATEGORY if feedback_of["service_type"][last] == IMPLEMENTATION_CATEGORY else None,
            "problem": feedback_of["notes"][last] or NO_CALL_PROBLEM, **defaults, "since": first_seen[ticket],
            "last_result": results[last],
        })
    waited = {since: calendar.workdays_waiting(since, today) for since in {row["since"] for row in rows}}
    for row in rows:
        row["days_waiting"] = waited[row["since"]]
    columns = ["ticket_id", "customer_id", "call_time", "category", "problem", "severity", "urgency", "since",
               "days_waiting", "last_result"]
    return pd.DataFrame(rows, columns=columns, dtype=object)


def parse_priority_matrix(text: str) -> tuple[dict[tuple[str, str], float], list[str]]:
    """Settings' 优先级矩阵 "高紧急=1,高一般=2,…" as {(severity, urgency): rank}, and what could not be read."""
    ranks: dict[tuple[str, str], float] = {}
    problems: list[str] = []
    for entry in re.split(r"[,，、;；\n]+", text or ""):
        entry = entry.strip()
        if not entry:
            continue
        name, _, value = re.sub(r"[＝:：]", "=", entry).partition("=")
        name = re.sub(r"[\s\-/+·]", "", name)
        severity = next((s for s in SEVERITIES if name.startswith(s)), None)
        try:
            rank = float(value)
        except ValueError:
            rank = math.nan
        if severity is None or name[len(severity):] not in URGENCIES or math.isnan(rank):
            problems.append(f"优先级矩阵中的“{entry}”看不懂，已忽略；应写成 高紧急=1 这样的形式")
            continue
        ranks[(severity, name[len(severity):])] = rank
    return ranks, problems


def priority_key(row: dict[str, Any], settings: Settings, matrix: dict[tuple[str, str], float]) -> tuple[Any, ...]:
    """The priority order (docs/rules.md § Dispatch): key customer, an open complaint case, severity, urgency (or one
    matrix rank), more days waiting, earlier call time, ticket id. Smaller sorts first."""
    key_first = 0 if settings.key_customers_first and row["key_customer"] else 1
    complaint_first = 0 if row["open_case"] else 1
    if matrix:
        level: tuple[float, ...] = (matrix.get((row["severity"], row["urgency"]), math.inf),)
    else:
        level = (SEVERITIES.index(row["severity"]), URGENCIES.index(row["urgency"]))
    called = row["call_time"] or dt.datetime.combine(row["since"], dt.time.min)
    return (key_first, complaint_first, *level, -row["days_waiting"], called, row["ticket_id"])
