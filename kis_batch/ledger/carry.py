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
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.rules.fees import UNHAPPY
from kis_batch.rules.scoring import EventLinks
from kis_batch.schema import SERVICE_FACTS, service_happened
from kis_batch.settings import Settings
from kis_batch.tables import FILE, ROW, SHEET, rows_of, table_of

Place = tuple[str, str, int]
CARRIED_TABLES = ("calls", "feedback", "callbacks", "complaint_handling", "acceptance")


def _place(row: dict[str, Any]) -> Place:
    return row[FILE], row[SHEET], row[ROW]


def _latest_per_customer(customers: list[Any], moments: list[Any], until: dt.date,
                         among: Sequence[bool] | None = None) -> list[int]:
    """Each customer's latest row up to a day (of those among, where given), a later row winning a
    tie: its position. A date counts from its midnight."""
    after = dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min)
    latest: dict[Any, tuple[dt.datetime, int]] = {}
    for n, (customer, moment) in enumerate(zip(customers, moments, strict=True)):
        if moment is None or (among is not None and not among[n]):
            continue
        when = moment if isinstance(moment, dt.datetime) else dt.datetime.combine(moment, dt.time.min)
        if when >= after:
            continue
        seen = latest.get(customer)
        if seen is None or when >= seen[0]:
            latest[customer] = (when, n)
    return [n for _, n in latest.values()]


def _low_ratings(ratings: list[Any], moments: list[Any], since: dt.date, until: dt.date) -> list[int]:
    return [n for n, (rating, moment) in enumerate(zip(ratings, moments, strict=True)) if rating in UNHAPPY
            and (day := day_of(moment)) is not None and since <= day <= until]


def _columns(frame: pd.DataFrame, keys: Sequence[str]) -> dict[str, list[Any]]:
    return {key: frame[key].tolist() for key in keys}


def carry_forward(tables: dict[str, pd.DataFrame], links: EventLinks, open_now: pd.DataFrame, settings: Settings,
                  as_of: dt.date) -> dict[str, pd.DataFrame]:
    """The rows later months need, per table, as of a day; links are the day's (scoring's) ties of
    complaints to services, open_now the tickets open on the day (rules/tickets.py). Worked down the
    columns: an HQ month's call log is 300,000 rows."""
    calls = _columns(table_of(tables, "calls"), ("ticket_id", "customer_id", "call_time"))
    feedback = _columns(table_of(tables, "feedback"), ("ticket_id", "customer_id", "service_date", "satisfaction",
                                                       *SERVICE_FACTS))
    callbacks = _columns(table_of(tables, "callbacks"), ("customer_id", "date", "reached", "satisfaction"))
    tickets = set(open_now["ticket_id"].tolist())
    since = as_of - dt.timedelta(days=settings.tracking_lookback_days)
    served_by = [day is not None and day <= as_of for day in map(day_of, feedback["service_date"])]
    keep = {"calls": [ticket in tickets for ticket in calls["ticket_id"]],
            "feedback": [ticket in tickets and by for ticket, by in zip(feedback["ticket_id"], served_by, strict=True)],
            "callbacks": [False] * len(callbacks["date"])}
    happened = [service_happened(dict(zip(SERVICE_FACTS, facts, strict=True)))
                for facts in zip(*(feedback[fact] for fact in SERVICE_FACTS), strict=True)]
    reached = [value is True for value in callbacks["reached"]]
    for key, positions in (
            ("calls", _latest_per_customer(calls["customer_id"], calls["call_time"], as_of)),
            ("feedback", _latest_per_customer(feedback["customer_id"], feedback["service_date"], as_of, happened)),
            ("feedback", _low_ratings(feedback["satisfaction"], feedback["service_date"], since, as_of)),
            ("callbacks", _latest_per_customer(callbacks["customer_id"], callbacks["date"], as_of, reached)),
            ("callbacks", _latest_per_customer(callbacks["customer_id"], callbacks["date"], as_of)),
            ("callbacks", _low_ratings(callbacks["satisfaction"], callbacks["date"], since, as_of))):
        for n in positions:
            keep[key][n] = True
    named: dict[str, set[Place]] = {key: set() for key in CARRIED_TABLES}
    for event in links.complaints:
        named[event.source].add(_place(event.record))
        if event.service is not None:
            named["feedback"].add(_place(links.services[event.service]))
    for key in ("calls", "feedback", "callbacks"):
        if named[key]:
            frame = table_of(tables, key)
            for n, place in enumerate(zip(frame[FILE].tolist(), frame[SHEET].tolist(), frame[ROW].tolist(), strict=True)):
                if place in named[key]:
                    keep[key][n] = True
    # A carried call or feedback row brings its ticket's other rows, so no ticket comes back half
    # told (a latest call without the feedback that solved it would be open again).
    tickets |= {ticket for ticket, kept in zip(calls["ticket_id"], keep["calls"], strict=True) if kept}
    tickets |= {ticket for ticket, kept in zip(feedback["ticket_id"], keep["feedback"], strict=True) if kept}
    tickets.discard(None)
    keep["calls"] = [kept or ticket in tickets for kept, ticket in zip(keep["calls"], calls["ticket_id"], strict=True)]
    keep["feedback"] = [kept or (ticket in tickets and by) for kept, ticket, by
                        in zip(keep["feedback"], feedback["ticket_id"], served_by, strict=True)]
    open_projects = {r["project_id"] for r in rows_of(table_of(tables, "projects")) if r["handed_over"] is None}
    carried = {key: table_of(tables, key)[keep[key]] for key in ("calls", "feedback", "callbacks")}
    carried["complaint_handling"] = table_of(tables, "complaint_handling")
    acceptance = table_of(tables, "acceptance")
    carried["acceptance"] = acceptance[[project in open_projects for project in acceptance["project_id"].tolist()]]
    return carried
