"""Complaint records (docs/rules.md § Quality, § Complaint cases): every 投诉 call and complaining
callback up to D, the records of one complaint together, each tied to the engineer concerned. The
quality report counts these complaints and the complaint cases are these same complaints, so the two
never disagree. The rules of grouping and tying are in rules/quality.py's docstring.

Pure functions on the ingested tables and the day's scores; nothing here reads or writes a file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Iterable
from typing import Any

import pandas as pd

from kis_batch.rules.common import month_members, shown_name, staff_order
from kis_batch.rules.scoring import SCORED_ROLES, Event, EventLinks
from kis_batch.tables import table_rows

SOURCES = {"calls": "来电投诉", "callbacks": "回访投诉", "both": "来电+回访"}
BY_VISIT, BY_CALLBACK, BY_OWNER = "关联服务的工程师", "回访记录的服务代表", "客户的服务代表"
COMPLAINT_COLUMNS = (
    "date", "source", "ticket_id", "customer_id", "customer_name", "staff", "staff_name", "basis",
    "service_date", "visit_ticket", "service_type", "result", "content",
)


class People:
    """Names, customers' engineers and the month's roster, looked up once: those on duty and the leavers
    who served in the month (worked), a leaver's 姓名 marked 离职 (docs/rules.md § Inputs (员工名单))."""

    def __init__(self, tables: dict[str, pd.DataFrame], worked: Iterable[str] = ()) -> None:
        staff = table_rows(tables, "staff")
        self.names = {s["staff_id"]: shown_name(s) for s in staff}
        self.on_duty = [s["staff_id"] for s in month_members(staff, SCORED_ROLES, worked)]
        self.customers = {c["customer_id"]: c for c in table_rows(tables, "customers", ("customer_id", "customer_name", "owner"))}

    def name(self, staff: str | None) -> str | None:
        return self.names.get(staff, staff) if staff else None

    def customer_name(self, customer: str) -> str | None:
        return self.customers.get(customer, {}).get("customer_name")

    def owner(self, customer: str) -> str | None:
        return self.customers.get(customer, {}).get("owner")

    def roster(self, *seen: Iterable[str | None]) -> list[str]:
        """Engineers and specialists on duty or who served this month, and anyone else the rows name, in staff order."""
        people = set(self.on_duty).union(*seen) - {None}
        return sorted(people, key=staff_order)


def _complaint_groups(events: list[Event]) -> list[list[Event]]:
    """Records of the same complaint together (rules/quality.py's docstring says how), in order of first record."""
    groups: dict[Hashable, list[Event]] = defaultdict(list)
    call_keys: dict[str, Hashable] = {}
    for event in events:
        if event.source == "calls":
            key = ("visit", event.service) if event.service is not None else ("call", event.record["ticket_id"])
            call_keys[event.record["ticket_id"]] = key
            groups[key].append(event)
    for event in events:
        if event.source == "callbacks":
            if event.service is not None:
                key = ("visit", event.service)
            elif event.ticket_id in call_keys:
                key = call_keys[event.ticket_id]
            else:
                key = ("callback", event.customer_id, event.when.date())
            groups[key].append(event)
    ordered = [sorted(group, key=lambda e: (e.when, e.source)) for group in groups.values()]
    return sorted(ordered, key=lambda group: (group[0].when, group[0].customer_id))


def _content(event: Event) -> str:
    r = event.record
    if event.source == "calls":
        return f"{event.when:%m-%d} 来电：{r['problem']}" if r["problem"] else f"{event.when:%m-%d} 来电"
    said = f"：{r['notes']}" if r["notes"] else ""
    return f"{event.when:%m-%d} {r['kind']}{said}"


def _complaint_row(group: list[Event], services: list[dict[str, Any]], people: People) -> dict[str, Any]:
    first = group[0]
    sources = {e.source for e in group}
    visit = next((services[e.service] for e in group if e.service is not None), None)
    named = next((e.staff for e in group if e.source == "callbacks" and e.staff), None)
    if visit is not None:
        staff, basis = visit["staff"], BY_VISIT
    elif named:
        staff, basis = named, BY_CALLBACK
    else:
        staff, basis = people.owner(first.customer_id), BY_OWNER
    ticket = next((e.record["ticket_id"] for e in group if e.source == "calls"), None) or first.ticket_id
    return {
        "date": first.when.date(),
        "source": SOURCES["both"] if len(sources) > 1 else SOURCES[first.source],
        "ticket_id": ticket,
        "customer_id": first.customer_id,
        "customer_name": people.customer_name(first.customer_id),
        "staff": staff,
        "staff_name": people.name(staff),
        "basis": basis,
        "service_date": visit["service_date"] if visit else None,
        "visit_ticket": visit["ticket_id"] if visit else None,
        "service_type": visit["service_type"] if visit else None,
        "result": visit["result"] if visit else None,
        "content": "；".join(_content(e) for e in group),
    }


def complaint_rows(tables: dict[str, pd.DataFrame], links: EventLinks) -> list[dict[str, Any]]:
    """Every complaint up to D, one row each (COMPLAINT_COLUMNS), in order of first record: the
    complaint cases (rules/complaints.py) are these same complaints, so the two reports never disagree."""
    people = People(tables)
    return [_complaint_row(group, links.services, people) for group in _complaint_groups(links.complaints)]
