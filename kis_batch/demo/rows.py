"""The month's records as the rows of their sheets, keyed by the schema's column keys."""

from __future__ import annotations

from typing import Any

from kis_batch.demo.parameters import AREAS, KM_ROUNDING, ROAD_FACTOR
from kis_batch.demo.people import Customer, Person, groups, km
from kis_batch.demo.records import Callback, Leave, Ticket, Visit, clock


def _yes(flag: bool | None) -> str | None:
    return None if flag is None else "是" if flag else "否"


def staff_rows(staff: list[Person]) -> list[dict[str, Any]]:
    return [{"staff_id": p.staff_id, "name": p.name, "role": p.role, "area": p.area, "lat": p.place[0],
             "lon": p.place[1], "email": p.email, "active": "是"} for p in staff]


def leave_rows(leave: list[Leave]) -> list[dict[str, Any]]:
    return [{"staff_id": p.person.staff_id, "start": p.start, "end": p.end, "reason": p.reason}
            for p in sorted(leave, key=lambda p: (p.start, p.person.staff_id))]


def distance_rows() -> list[dict[str, Any]]:
    """Road km between area centres, each pair once, rounded as a clerk would."""
    areas = list(AREAS)
    return [{"area_a": a, "area_b": b, "km": round(km(AREAS[a], AREAS[b]) * ROAD_FACTOR / KM_ROUNDING) * KM_ROUNDING}
            for i, a in enumerate(areas) for b in areas[i + 1:]]


def customer_rows(customers: list[Customer]) -> list[dict[str, Any]]:
    group_of = groups(customers)
    return [{
        "customer_id": c.customer_id, "customer_name": c.name, "contact": c.contact, "phone": c.phone,
        "address": c.address, "area": c.area, "lat": c.place[0] if c.has_coordinates else None,
        "lon": c.place[1] if c.has_coordinates else None, "owner": c.owner.name, "key_customer": _yes(c.key),
        "segment": c.segment, "group": group_of.get(c.customer_id), "product": c.product,
    } for c in customers]


def call_rows(tickets: list[Ticket]) -> list[dict[str, Any]]:
    return [{
        "ticket_id": t.ticket_id, "call_time": t.call_time, "customer_id": t.customer.customer_id, "caller": t.caller,
        "category": t.category, "problem": t.problem, "severity": t.severity, "urgency": t.urgency,
        "handling": t.handling, "recorded_by": t.recorded_by, "notes": t.notes,
    } for t in tickets]


def feedback_rows(visits: list[Visit]) -> list[dict[str, Any]]:
    return [{
        "ticket_id": v.ticket.ticket_id if v.ticket else None, "service_date": v.day, "staff": v.staff.name,
        "customer_id": v.customer.customer_id, "service_type": v.service_type, "mode": v.mode,
        "phoned_ahead": _yes(v.phoned_ahead), "arrive": clock(v.arrive), "leave": clock(v.leave),
        "result": v.result, "satisfaction": v.satisfaction, "signed": _yes(v.signed),
        "manager_score": v.manager_score, "notes": v.notes,
    } for v in sorted(visits, key=lambda v: (v.day, v.arrive, v.customer.customer_id))]


def callback_rows(callbacks: list[Callback]) -> list[dict[str, Any]]:
    return [{
        "date": c.day, "customer_id": c.customer.customer_id, "kind": c.kind, "ticket_id": c.ticket_id,
        "staff": c.staff.name, "reached": _yes(c.reached), "verified": c.verified,
        "satisfaction": c.satisfaction, "complaint": _yes(c.complaint), "caller": c.caller.name, "notes": c.notes,
    } for c in callbacks]
