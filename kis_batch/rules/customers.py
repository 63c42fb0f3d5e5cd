"""Key, group and remote customers (docs/rules.md § Tracked customers: 客户跟踪_D): for every customer
with 重点客户=是 or 客户类别 大客户/集团客户/异地客户, when the department last heard from or served
them, whether that is longer ago than their contact interval allows, and what is open for them:
tickets, complaints, unhappy ratings and the annual fee. 集团客户 roll up per 所属集团.

Decided here, where the rules are silent (docs/rules.md § Tracked customers):
- A contact is a call (any category), a service that happened (schema.service_happened) or a
  callback with 接通=是, dated up to D. 未联系天数 counts calendar days from the latest to D; with none
  in the folder, from the first day of D's month (the folder's month is all it knows).
- A customer in two tracked groups (a 重点客户 that is also 异地客户) is listed on both sheets and
  held to the shorter interval on both.
- Complaints in the look-back are complaint records (a 投诉 call, a callback with 投诉=是); a
  callback naming a 投诉 call's 工单号 is that call's complaint, and one customer's complaining
  callbacks of one day are one. Ratings are 一般/不满意 in feedback or callbacks.
- A 集团客户 without 所属集团 rolls up under 未填所属集团 (the reader warns at that cell). A group is
  久未联系 when any member is; its least recent contact is its members' largest 未联系天数.

Pure functions on the ingested tables and the fee report; nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.rules.common import (
    CALLS_SOURCE,
    complaint_records,
    month_start,
)
from kis_batch.rules.fees import OVERDUE, UNHAPPY, FeeReport
from kis_batch.schema import GROUP_SEGMENT, SEGMENTS, SERVICE_FACTS, service_happened
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of, table_rows

# The feedback columns read to know who was served when.
_SERVICES_READ = ("customer_id", "service_date", *SERVICE_FACTS)
# What a tracked customer's row shows of the 客户档案 (tracked_groups reads 重点客户 and 客户类别).
_TRACKED_READ = ("customer_id", "customer_name", "owner", "key_customer", "segment", "group")
KEY = "重点客户"
LARGE, REMOTE = SEGMENTS[1], SEGMENTS[3]
# The sheets of 客户跟踪, in order; each tracked group with its run.json key.
TRACKED = {KEY: "key", LARGE: "large", GROUP_SEGMENT: "group", REMOTE: "remote"}
NO_GROUP = "未填所属集团"
NO_CONTRACT = "无年费合同"

CUSTOMER_COLUMNS = (
    "customer_id", "customer_name", "owner", "owner_name", "key_customer", "segment", "group", "interval",
    "last_call", "last_service", "last_callback", "days_since", "overdue", "open_tickets", "services_month",
    "complaints", "low_ratings", "fee_status",
)
# A group's roll-up row carries the member columns it sums or takes the extreme of, and members.
GROUP_COLUMNS = (
    "group", "members", "overdue_members", "last_call", "last_service", "last_callback", "days_since", "overdue",
    "open_tickets", "services_month", "complaints", "low_ratings",
)


@dataclass(frozen=True)
class CustomerTracking:
    """Everything 客户跟踪_D.xlsx shows, with the numbers it was computed under."""

    today: dt.date
    intervals: dict[str, int]  # tracked group -> contact interval in days
    lookback_days: int
    customers: pd.DataFrame  # one row per tracked customer, CUSTOMER_COLUMNS, least recently contacted first
    groups: pd.DataFrame  # one row per 所属集团, GROUP_COLUMNS

    def tracked_in(self, label: str) -> pd.DataFrame:
        """The customers one sheet lists: 重点客户=是, or of that 客户类别."""
        c = self.customers
        return c[c["key_customer"] == True] if label == KEY else c[c["segment"] == label]  # noqa: E712

    def members_of(self, group: str) -> pd.DataFrame:
        c = self.tracked_in(GROUP_SEGMENT)
        return c[c["group"] == group]

    @property
    def figures(self) -> dict[str, Any]:
        """The key figures for run.json and the manager's page: tracked and 久未联系, overall and per group."""
        c = self.customers
        return {
            "tracked": len(c),
            "not_contacted": int(c["overdue"].sum()) if len(c) else 0,
            "tracked_by_segment": {key: len(self.tracked_in(label)) for label, key in TRACKED.items()},
            "not_contacted_by_segment": {key: int(self.tracked_in(label)["overdue"].sum())
                                         for label, key in TRACKED.items()},
            "groups": len(self.groups),
        }


def not_contacted_line(tracking: CustomerTracking) -> tuple[str, str, str]:
    """Tracked customers 久未联系, by segment, as one (item, value, note) line: the manager's page and the
    月度总结 say it so, with the 客户跟踪 sheets' counts (a customer in two segments counts in both)."""
    figures = tracking.figures
    by_segment = figures["not_contacted_by_segment"]
    return ("客户久未联系", f"{figures['not_contacted']} 家",
            f"跟踪客户 {figures['tracked']} 家中，" + "，".join(f"{label} {by_segment[key]}" for label, key in TRACKED.items())
            + "（见客户跟踪表）")


def contact_intervals(settings: Settings) -> dict[str, int]:
    """Each tracked group's contact interval in days (docs/rules.md § Settings)."""
    return {KEY: settings.key_contact_days, LARGE: settings.large_contact_days,
            GROUP_SEGMENT: settings.group_contact_days, REMOTE: settings.remote_contact_days}


def tracked_groups(customer: dict[str, Any]) -> list[str]:
    """The tracked groups a customer belongs to: 重点客户 and its 客户类别 where tracked."""
    groups = [KEY] if customer["key_customer"] is True else []
    return [*groups, customer["segment"]] if customer["segment"] in TRACKED else groups


def interval_of(groups: Iterable[str], intervals: dict[str, int]) -> int:
    """The shortest interval of the groups that apply."""
    return min(intervals[g] for g in groups)


def days_without_contact(last: dt.date | None, today: dt.date) -> int:
    """Days from the latest contact to D; no contact in the folder: from the first of D's month."""
    return (today - (last if last is not None else month_start(today))).days


def latest_contacts(tables: dict[str, pd.DataFrame], today: dt.date) -> dict[str, dict[str, dt.date]]:
    """Per kind (call, service, callback), each customer's latest contact of that kind up to D."""
    calls = table_of(tables, "calls")
    services = [(r["customer_id"], r["service_date"]) for r in table_rows(tables, "feedback", _SERVICES_READ)
                if service_happened(r)]
    callbacks = [(r["customer_id"], r["date"]) for r in table_rows(tables, "callbacks", ("customer_id", "date", "reached"))
                 if r["reached"] is True]
    return {"call": _latest_days(zip(calls["customer_id"].tolist(), calls["call_time"].tolist(), strict=True), today),
            "service": _latest_days(services, today), "callback": _latest_days(callbacks, today)}


def _latest_days(contacts: Iterable[tuple[str, Any]], today: dt.date) -> dict[str, dt.date]:
    """Each customer's latest day of these (customer, date or date-time) up to D. Inline rather than
    through day_of: an HQ month's call log is 300,000 rows."""
    latest: dict[str, dt.date] = {}
    seen = latest.get
    for customer, when in contacts:
        if when is None:
            continue
        day = when.date() if isinstance(when, dt.datetime) else when
        if day <= today:
            last = seen(customer)
            if last is None or day > last:
                latest[customer] = day
    return latest


def complaint_counts(tables: dict[str, pd.DataFrame], since: dt.date, today: dt.date) -> Counter[str]:
    """Per customer, complaints from `since` to D: each 投诉 call, plus complaining callbacks that
    name none of those calls' 工单号, one per customer and day."""
    records = [c for c in complaint_records(tables, today) if c.day >= since]
    called = {c.record["ticket_id"] for c in records if c.source == CALLS_SOURCE}
    counts = Counter(c.customer_id for c in records if c.source == CALLS_SOURCE)
    counts.update(customer for customer, _ in {(c.customer_id, c.day) for c in records
                                                if c.source != CALLS_SOURCE and c.record["ticket_id"] not in called})
    return counts


def low_rating_counts(tables: dict[str, pd.DataFrame], since: dt.date, today: dt.date) -> Counter[str]:
    """Per customer, 一般/不满意 ratings from `since` to D, in feedback and in callbacks."""
    counts: Counter[str] = Counter()
    for key, date in (("feedback", "service_date"), ("callbacks", "date")):
        for r in table_rows(tables, key, ("customer_id", date, "satisfaction")):
            day = day_of(r[date])
            if r["satisfaction"] in UNHAPPY and day is not None and since <= day <= today:
                counts[r["customer_id"]] += 1
    return counts


def services_this_month(tables: dict[str, pd.DataFrame], today: dt.date) -> Counter[str]:
    """Per customer, services that happened in D's month up to D."""
    first = month_start(today)
    return Counter(r["customer_id"] for r in table_rows(tables, "feedback", _SERVICES_READ)
                   if service_happened(r) and r["service_date"] is not None and first <= r["service_date"] <= today)


def fee_words(contracts: list[dict[str, Any]]) -> str:
    """A customer's annual fee in a few words, from the fee rule's per-contract status: overdue
    arrears first, else the latest contract's payment status; then its renewal state."""
    if not contracts:
        return NO_CONTRACT
    latest = max(contracts, key=lambda c: (c["end"], c["contract_id"]))
    overdue = [c for c in contracts if c["overdue_days"] is not None]
    if overdue:
        balance = sum(c["balance"] for c in overdue)
        words = [f"{OVERDUE}{balance:,.0f}元（{max(c['overdue_days'] for c in overdue)}天）"]
    else:
        words = [latest["status"]]
    if latest["renewal"]:
        words.append(latest["renewal"])
    return "，".join(words)


def _group_row(group: str, members: list[dict[str, Any]]) -> dict[str, Any]:
    def latest(key: str) -> dt.date | None:
        return max((m[key] for m in members if m[key] is not None), default=None)

    return {
        "group": group, "members": len(members), "overdue_members": sum(m["overdue"] for m in members),
        "last_call": latest("last_call"), "last_service": latest("last_service"),
        "last_callback": latest("last_callback"), "days_since": max(m["days_since"] for m in members),
        "overdue": any(m["overdue"] for m in members),
        **{key: sum(m[key] for m in members) for key in ("open_tickets", "services_month", "complaints", "low_ratings")},
    }


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """Object columns, so values stay what they were (int days, bool flags, None), not NaN floats."""
    return pd.DataFrame({key: pd.Series([r[key] for r in rows], dtype=object) for key in columns})


def track_customers(tables: dict[str, pd.DataFrame], fees: FeeReport, tickets: pd.DataFrame, settings: Settings,
                    today: dt.date) -> CustomerTracking:
    """docs/rules.md § Tracked customers, as of D; tickets: the open tickets on D (rules/tickets.py)."""
    intervals = contact_intervals(settings)
    since = today - dt.timedelta(days=settings.tracking_lookback_days)
    latest = latest_contacts(tables, today)
    open_per_customer = Counter(tickets["customer_id"].tolist())
    complaints = complaint_counts(tables, since, today)
    ratings = low_rating_counts(tables, since, today)
    services = services_this_month(tables, today)
    contracts: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in rows_of(fees.contracts):
        contracts[c["customer_id"]].append(c)
    names = {r["staff_id"]: r["name"] for r in table_rows(tables, "staff")}

    rows: list[dict[str, Any]] = []
    for customer in table_rows(tables, "customers", _TRACKED_READ):
        groups = tracked_groups(customer)
        if not groups:
            continue
        cid = customer["customer_id"]
        seen = {kind: latest[kind].get(cid) for kind in latest}
        last = max((day for day in seen.values() if day is not None), default=None)
        interval = interval_of(groups, intervals)
        days = days_without_contact(last, today)
        rows.append({
            "customer_id": cid, "customer_name": customer["customer_name"], "owner": customer["owner"],
            "owner_name": names.get(customer["owner"], customer["owner"]),
            "key_customer": customer["key_customer"] is True, "segment": customer["segment"],
            "group": (customer["group"] or NO_GROUP) if customer["segment"] == GROUP_SEGMENT else customer["group"],
            "interval": interval, "last_call": seen["call"], "last_service": seen["service"],
            "last_callback": seen["callback"], "days_since": days, "overdue": days > interval,
            "open_tickets": open_per_customer[cid], "services_month": services[cid], "complaints": complaints[cid],
            "low_ratings": ratings[cid], "fee_status": fee_words(contracts[cid]),
        })
    rows.sort(key=lambda r: (not r["overdue"], -r["days_since"], r["customer_id"]))
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        if r["segment"] == GROUP_SEGMENT:
            members[r["group"]].append(r)
    group_rows = [_group_row(group, members[group]) for group in sorted(members, key=lambda g: (g == NO_GROUP, g))]
    return CustomerTracking(today, intervals, settings.tracking_lookback_days, _frame(rows, CUSTOMER_COLUMNS),
                            _frame(group_rows, GROUP_COLUMNS))
