"""Suggested customer visits (beyond the rulebook's anchors): a service engineer behind on the
month's visits who still has room on P is offered some of their own customers to visit, marked
建议拜访 on their dispatch sheet. Tickets always come first: a suggestion only fills room the
dispatch left over, and the engineer may skip it.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- Behind on visits: the visits status on D is 落后 or 无法达标 (quota_gaps, which lists the 在岗
  engineers); present: not on leave on P, as for dispatch.
- Room: the engineer's daily cap (每日上限, else the rule, as quota_gaps shows it) minus the tickets
  dispatched to them for P.
- Candidates: the engineer's own customers (客户档案 服务代表) with no ticket dispatched for P (to
  anyone), and no 客户拜访 that happened (schema.service_happened) dated in D's month up to D. A
  returned row without 处理结果 and without times is a visit not done yet, so that customer may be
  suggested again.
- Order: customers with a contract 待续费 first, sooner 服务到期 first (the visit is the moment to
  renew); then the longest unvisited, never visited first, by the last 客户拜访 that happened up to
  D; ties by 客户编号. A lapsed contract (已过期未续) is the fee chase list's business, not a visit's.

Pure: nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pandas as pd

from kis_batch.rules.common import month_start, on_duty, staff_labels, staff_order
from kis_batch.rules.dispatch import ENGINEER_POOL, DispatchResult
from kis_batch.rules.fees import DUE_RENEWAL, FeeReport
from kis_batch.rules.quotas import BEHIND, OUT_OF_REACH
from kis_batch.schema import SERVICE_FACTS, VISIT_TYPE, service_happened
from kis_batch.tables import rows_of, table_rows

SUGGESTED = "建议拜访"
BEHIND_ON_VISITS = (BEHIND, OUT_OF_REACH)
SUGGESTION_COLUMNS = (
    "assignee", "assignee_name", "pool", "kind", "rank", "customer_id", "customer_name", "contact", "phone", "address",
    "area", "key_customer", "owner", "owner_name", "service_type", "renewal_end", "last_visit", "reason",
)


def last_visits(tables: dict[str, pd.DataFrame], today: dt.date) -> dict[str, dt.date]:
    """Per customer, the day of the latest 客户拜访 that happened up to D (by anyone)."""
    latest: dict[str, dt.date] = {}
    for r in table_rows(tables, "feedback", ("customer_id", "service_date", "service_type", *SERVICE_FACTS)):
        day = r["service_date"]
        if r["service_type"] == VISIT_TYPE and service_happened(r) and day is not None and day <= today:
            latest[r["customer_id"]] = max(day, latest.get(r["customer_id"], day))
    return latest


def renewals_due(fees: FeeReport) -> dict[str, dt.date]:
    """Per customer, the soonest 服务到期 of a contract 待续费."""
    due: dict[str, dt.date] = {}
    for c in rows_of(fees.contracts):
        if c["renewal"] == DUE_RENEWAL:
            due[c["customer_id"]] = min(c["end"], due.get(c["customer_id"], c["end"]))
    return due


def _why(renewal_end: dt.date | None, last_visit: dt.date | None) -> str:
    if renewal_end is not None:
        return f"年费 {renewal_end.isoformat()} 到期待续费"
    return f"最近一次拜访 {last_visit.isoformat()}" if last_visit is not None else "从未拜访"


def suggest_visits(tables: dict[str, pd.DataFrame], dispatch: DispatchResult, gaps: pd.DataFrame, fees: FeeReport,
                   today: dt.date) -> pd.DataFrame:
    """SUGGESTION_COLUMNS, one row per suggested visit on P, by engineer (staff id) then rank."""
    plan = dispatch.plan_date
    leaves = table_rows(tables, "leave")
    staff = table_rows(tables, "staff")
    present = {s["staff_id"] for s in staff if on_duty(s, leaves, plan)}
    names = staff_labels(staff)
    assigned = dispatch.assignments["assignee"].value_counts()
    dispatched = set(dispatch.assignments["customer_id"])
    latest = last_visits(tables, today)
    visited = {customer for customer, day in latest.items() if day >= month_start(today)}
    renewal = renewals_due(fees)
    owned: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in table_rows(tables, "customers"):
        if c["customer_id"] not in dispatched and c["customer_id"] not in visited:
            owned[c["owner"]].append(c)

    def order(c: dict[str, Any]) -> tuple[Any, ...]:
        end = renewal.get(c["customer_id"])
        if end is not None:
            return (0, end, c["customer_id"])
        return (1, latest.get(c["customer_id"], dt.date.min), c["customer_id"])

    rows: list[dict[str, Any]] = []
    for g in sorted(rows_of(gaps), key=lambda g: staff_order(g["staff_id"])):
        room = g["daily_cap"] - int(assigned.get(g["staff_id"], 0))
        if g["visits_status"] not in BEHIND_ON_VISITS or g["staff_id"] not in present or room <= 0:
            continue
        pace = f"本月拜访 {g['visits_done']}/{g['visits_quota']} {g['visits_status']}"
        for rank, c in enumerate(sorted(owned[g["staff_id"]], key=order)[:room], start=1):
            end, last = renewal.get(c["customer_id"]), latest.get(c["customer_id"])
            rows.append({
                **{key: c[key] for key in ("customer_id", "customer_name", "contact", "phone", "address", "area",
                                           "key_customer", "owner")},
                "assignee": g["staff_id"], "assignee_name": names[g["staff_id"]], "pool": ENGINEER_POOL.role,
                "kind": SUGGESTED, "rank": rank, "owner_name": names[g["staff_id"]], "service_type": VISIT_TYPE, "renewal_end": end,
                "last_visit": last, "reason": f"{pace}，{_why(end, last)}",
            })
    return pd.DataFrame(rows, columns=list(SUGGESTION_COLUMNS), dtype=object)


def suggestion_figures(suggestions: pd.DataFrame) -> dict[str, Any]:
    """The suggested visits for run.json: how many, and per engineer."""
    return {
        "count": len(suggestions),
        "per_person": {str(k): int(v) for k, v in suggestions["assignee_name"].value_counts(sort=False).items()},
    }
