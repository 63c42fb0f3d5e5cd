"""期初结转, the carry-forward (docs/rules.md § A month's life): of the tables as of a day, the rows
later months need once the month's call logs and feedback have left the inbox. Rows, not results,
so every rule reads them exactly as it read the folder:

- open tickets: their call rows and every feedback row about them (waiting days and past results),
  and likewise every ticket another carried row names;
- complaints: every complaint record (a 投诉 call, a callback with 投诉=是) with the service it is
  tied to, and the 投诉处理 rows, so open cases stay open, 投诉编号 stay known and the look-back
  counts hold;
- each customer's latest call, service that happened, callback and reached callback (未联系天数, who
  was last called back), and the
  一般/不满意 ratings of the look-back;
- the 验收单 rows of projects not yet handed over (a re-check fills only the failed items).

A carried row keeps its own date, so it never counts in a later month's month-to-date figure.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.rules.fees import UNHAPPY
from kis_batch.rules.scoring import EventLinks
from kis_batch.schema import SERVICE_FACTS, service_happened
from kis_batch.settings import Settings
from kis_batch.tables import FILE, PROVENANCE, ROW, SHEET, rows_of, table_of

Place = tuple[str, str, int]
CARRIED_TABLES = ("calls", "feedback", "callbacks", "complaint_handling", "acceptance")


def _place(row: dict[str, Any]) -> Place:
    return row[FILE], row[SHEET], row[ROW]


def _latest_per_customer(rows: Iterable[dict[str, Any]], date: str, until: dt.date) -> list[dict[str, Any]]:
    latest: dict[str, tuple[Any, dict[str, Any]]] = {}
    for r in rows:
        day = day_of(r[date])
        if day is None or day > until:
            continue
        when = r[date] if isinstance(r[date], dt.datetime) else dt.datetime.combine(day, dt.time.min)
        seen = latest.get(r["customer_id"])
        if seen is None or when >= seen[0]:
            latest[r["customer_id"]] = (when, r)
    return [r for _, r in latest.values()]


def _low_ratings(rows: list[dict[str, Any]], date: str, since: dt.date, until: dt.date) -> list[dict[str, Any]]:
    return [r for r in rows if r["satisfaction"] in UNHAPPY
            and (day := day_of(r[date])) is not None and since <= day <= until]


def carry_forward(tables: dict[str, pd.DataFrame], links: EventLinks, open_now: pd.DataFrame, settings: Settings,
                  as_of: dt.date) -> dict[str, pd.DataFrame]:
    """The rows later months need, per table, as of a day; links are the day's (scoring's) ties of
    complaints to services, open_now the tickets open on the day (rules/tickets.py)."""
    calls, feedback = table_of(tables, "calls"), table_of(tables, "feedback")
    tickets = set(open_now["ticket_id"].tolist())
    call_rows = rows_of(calls, ("ticket_id", "customer_id", "call_time", *PROVENANCE))
    feedback_rows = rows_of(feedback, ("ticket_id", "customer_id", "service_date", "satisfaction", *SERVICE_FACTS,
                                       *PROVENANCE))
    callback_rows = rows_of(table_of(tables, "callbacks"), ("customer_id", "date", "reached", "satisfaction",
                                                             *PROVENANCE))
    since = as_of - dt.timedelta(days=settings.tracking_lookback_days)
    wanted: dict[str, set[Place]] = {key: set() for key in CARRIED_TABLES}
    for r in call_rows:
        if r["ticket_id"] in tickets:
            wanted["calls"].add(_place(r))
    for r in feedback_rows:
        if r["ticket_id"] in tickets and (day := day_of(r["service_date"])) is not None and day <= as_of:
            wanted["feedback"].add(_place(r))
    for event in links.complaints:
        wanted[event.source].add(_place(event.record))
        if event.service is not None:
            wanted["feedback"].add(_place(links.services[event.service]))
    wanted["calls"].update(map(_place, _latest_per_customer(call_rows, "call_time", as_of)))
    wanted["feedback"].update(map(_place, _latest_per_customer(
        (r for r in feedback_rows if service_happened(r)), "service_date", as_of)))
    wanted["feedback"].update(map(_place, _low_ratings(feedback_rows, "service_date", since, as_of)))
    wanted["callbacks"].update(map(_place, _latest_per_customer(
        (r for r in callback_rows if r["reached"] is True), "date", as_of)))
    wanted["callbacks"].update(map(_place, _latest_per_customer(callback_rows, "date", as_of)))
    wanted["callbacks"].update(map(_place, _low_ratings(callback_rows, "date", since, as_of)))
    # A carried call or feedback row brings its ticket's other rows, so no ticket comes back half
    # told (a latest call without the feedback that solved it would be open again).
    tickets |= {r["ticket_id"] for r in call_rows if _place(r) in wanted["calls"]}
    tickets |= {r["ticket_id"] for r in feedback_rows if _place(r) in wanted["feedback"]}
    tickets.discard(None)
    wanted["calls"].update(_place(r) for r in call_rows if r["ticket_id"] in tickets)
    wanted["feedback"].update(_place(r) for r in feedback_rows if r["ticket_id"] in tickets
                              and (day := day_of(r["service_date"])) is not None and day <= as_of)
    wanted["complaint_handling"].update(map(_place, rows_of(table_of(tables, "complaint_handling"))))
    open_projects = {r["project_id"] for r in rows_of(table_of(tables, "projects")) if r["handed_over"] is None}
    wanted["acceptance"].update(_place(r) for r in rows_of(table_of(tables, "acceptance"))
                                if r["project_id"] in open_projects)
    carried = {}
    for key, places in wanted.items():
        frame = table_of(tables, key)
        keep = [place in places for place in zip(frame[FILE].tolist(), frame[SHEET].tolist(), frame[ROW].tolist(),
                                                  strict=True)]
        carried[key] = frame[keep]
    return carried
