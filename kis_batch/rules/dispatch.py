"""Tomorrow's assignments (docs/rules.md § Dispatch): who goes where on the plan date P among the open
tickets (rules/tickets.py), and why, in words, for every move and every ticket left for another day.

Pure functions on the ingested tables; nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kis_batch.assignment import least_cost_transport
from kis_batch.calendar import WorkCalendar
from kis_batch.geo import DistanceModel, Places, describe, route_order, shown_km
from kis_batch.problems import Code, Problem, Severity
from kis_batch.rules.common import daily_cap, is_active, leave_on, pin_problem, staff_labels, staff_order, stated_pins
from kis_batch.rules.tickets import open_tickets, parse_priority_matrix, priority_key
from kis_batch.schema import (
    ENGINEER,
    IMPLEMENTATION_CATEGORY,
    IMPLEMENTER,
    PIN_DISPATCH,
)
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of

# docs/rules.md § Dispatch: who placed a pinned ticket, as its 改派原因 says; a held one's 原因.
MANAGER_PINNED = "经理指定"
HOTLINE_PINNED = "热线指定工程师"
MANAGER_HELD = "经理暂缓"
# docs/rules.md § Dispatch: a customer with an open complaint case comes before routine work.
COMPLAINT_FIRST = "投诉回访优先"
# Distances are compared to the metre: two plans within a metre of each other are a tie.
METRES_PER_KM = 1000.0
# The transport solver works in doubles; integer costs stay exact below this.
EXACT_FLOAT_LIMIT = 2.0**53


@dataclass(frozen=True)
class Pool:
    """Who may take a ticket: the two pools, by category."""

    role: str
    work: str  # how a reason names the pool's tickets
    service_type: str  # the 服务类型 a returned dispatch sheet reports


ENGINEER_POOL = Pool(ENGINEER, "问题处理工单", "问题处理")
IMPLEMENTER_POOL = Pool(IMPLEMENTER, "实施类工单", IMPLEMENTATION_CATEGORY)
POOLS: tuple[Pool, ...] = (ENGINEER_POOL, IMPLEMENTER_POOL)


def pool_of(category: str | None) -> Pool:
    """Category 实施 goes to implementation specialists, the rest to service engineers."""
    return IMPLEMENTER_POOL if category == IMPLEMENTATION_CATEGORY else ENGINEER_POOL


# What the assignment and backlog frames carry: everything the sheets show and the callbacks need.
TICKET_COLUMNS = (
    "pool", "service_type", "ticket_id", "call_time", "customer_id", "customer_name", "contact", "phone", "address",
    "area", "key_customer", "category", "problem", "severity", "urgency", "days_waiting", "priority", "last_result",
    "owner", "owner_name",
)
ASSIGNMENT_COLUMNS = (
    "assignee", "assignee_name", "route", *TICKET_COLUMNS, "moved", "reason", "distance_km", "distance", "leg_km",
    "planned_name",
)
BACKLOG_COLUMNS = (*TICKET_COLUMNS, "reason")


@dataclass
class DispatchResult:
    """The plan for P: one row per assignment (route order per assignee) and per ticket left over."""

    plan_date: dt.date
    assignments: pd.DataFrame
    backlog: pd.DataFrame
    # Settings that could not be applied as written (e.g. a malformed 优先级矩阵), for the run report.
    warnings: list[str] = field(default_factory=list)
    # Pins that could not hold (at their cells) and pins over a cap, for the run report.
    problems: list[Problem] = field(default_factory=list)
    # Who is on duty on P, in staff order: the 总览's 派给 dropdown (with 不派).
    on_duty: tuple[str, ...] = ()


def _absence(member: dict[str, Any], leaves: list[dict[str, Any]], plan: dt.date) -> str | None:
    """Why a member gets nothing on P (请假 covering P, or 在岗=否), or None if present."""
    if not is_active(member):
        return "不在岗"
    leave = leave_on(member["staff_id"], leaves, plan)
    return None if leave is None else f"请假（{leave['start']:%m-%d}至{leave['end']:%m-%d}）"


def optimal_assignment(distance: np.ndarray, room: np.ndarray) -> np.ndarray:
    """For each row (ticket), the column (receiver) it goes to: no receiver over its room, the total
    distance the least possible (to the metre), and among equal totals the receivers earlier in
    column order preferred. Columns must come in staff-id order; room must hold every row.

    cost = metres × weight + column, where the weight exceeds any possible sum of column numbers,
    so distance always decides first. Costs are whole numbers kept below 2**53, which floating
    point holds exactly.
    """
    rows, receivers = distance.shape
    if rows == 0:
        return np.zeros(0, dtype=int)
    room = np.minimum(np.asarray(room, dtype=int), rows)
    if room.sum() < rows:
        raise ValueError("remaining room is smaller than the tickets left to place")
    weight = rows * receivers + 1
    step = 1.0  # metres per cost unit, coarsened only if the totals would leave exact range
    while rows * (distance.max() * METRES_PER_KM / step + 1) * weight >= EXACT_FLOAT_LIMIT:
        step *= 10
    cost = np.rint(distance * (METRES_PER_KM / step))
    cost *= weight
    cost += np.arange(receivers)
    return least_cost_transport(cost, room)


@dataclass
class _Member:
    staff_id: str
    name: str
    cap: int
    absence: str | None
    place: int  # row in the staff Places


@dataclass(frozen=True)
class _Pin:
    """A ticket placed by the manager or the hotline (docs/rules.md § Dispatch): person None holds it."""

    person: str | None
    planned: str | None  # the 总览's 计划派给: shown again, so a returned rerun's 总览 keeps the pin
    reason: str
    where: dict[str, Any]  # the cell that says so


def _plan_pool(pool: Pool, tickets: list[dict[str, Any]], members: list[_Member], pins: dict[str, _Pin],
               staff_places: Places, ticket_places: Places, names: dict[str, str], roles: dict[str, str],
               model: DistanceModel) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Steps 1–3 of docs/rules.md § Dispatch for one pool, around its pins (already checked: every pinned
    person is present and of this pool); tickets come sorted by priority, members by staff id."""
    for rank, ticket in enumerate(tickets, start=1):
        ticket["priority"] = rank
    # 0. Pinned tickets take their places first, over a cap if need be; held ones wait.
    assignments: list[dict[str, Any]] = []
    held: list[dict[str, Any]] = []
    rest: list[dict[str, Any]] = []
    pinned: dict[str, int] = defaultdict(int)
    for ticket in tickets:
        pin = pins.get(ticket["ticket_id"])
        if pin is None:
            rest.append(ticket)
        elif pin.person is None:
            held.append({**ticket, "reason": f"{pin.reason}，顺延"})
        else:
            pinned[pin.person] += 1
            assignments.append({**ticket, "assignee": pin.person, "moved": pin.person != ticket["owner"],
                                "reason": pin.reason, "planned": pin.planned})
    present = [m for m in members if m.absence is None]
    room = {m.staff_id: max(0, m.cap - pinned[m.staff_id]) for m in present}
    capacity = sum(room.values())
    served, waiting = rest[:capacity], rest[capacity:]

    # 2. Owners keep their own customers' served tickets, highest priority first, up to their room.
    by_id = {m.staff_id: m for m in members}
    kept: dict[str, int] = defaultdict(int)
    left: list[tuple[dict[str, Any], str]] = []
    for ticket in served:
        owner = by_id.get(ticket["owner"])
        if owner is not None and owner.absence is None and kept[owner.staff_id] < room[owner.staff_id]:
            kept[owner.staff_id] += 1
            assignments.append({**ticket, "assignee": owner.staff_id, "moved": False, "reason": None})
        else:
            left.append((ticket, _move_cause(pool, ticket["owner"], owner, names, roles)))

    # 3. The rest fill the remaining room with the least total distance.
    if left:
        free = np.array([room[m.staff_id] - kept[m.staff_id] for m in present])
        rows = ticket_places.take([t["_place"] for t, _ in left])
        distance, basis = model.matrix(rows, staff_places.take([m.place for m in present]))
        for i, column in enumerate(optimal_assignment(distance, free)):
            ticket, cause = left[i]
            taker = present[column]
            how_far = describe(distance[i, column], basis[i, column], ticket["area"])
            assignments.append({**ticket, "assignee": taker.staff_id, "moved": True,
                                "reason": f"{cause}，按就近原则改派{taker.name}，{how_far}"})

    why = _backlog_reason(pool, members, capacity)
    backlog = held + [{**t, "reason": why(t)} for t in waiting]
    return assignments, backlog


def _move_cause(pool: Pool, owner_id: str | None, owner: _Member | None, names: dict[str, str],
                roles: dict[str, str]) -> str:
    """Why a served ticket does not stay with its customer's own engineer."""
    if owner is not None:
        if owner.absence is not None:
            return f"{owner.name}{owner.absence}"
        if owner.cap == 0:
            return f"{owner.name}当日不接派工（每日上限0）"
        return f"{owner.name}当日已满{owner.cap}家（上限{owner.cap}）"
    if owner_id in names:
        return f"原服务代表{names[owner_id]}是{roles[owner_id]}，{pool.work}由{pool.role}上门"
    return "客户档案中没有有效的服务代表"


def _backlog_reason(pool: Pool, members: list[_Member], capacity: int) -> Callable[[dict[str, Any]], str]:
    """The words for tickets beyond the pool's room on P."""
    if capacity > 0:
        return lambda t: f"当日全组已满（{pool.role}共{capacity}家容量，本单优先顺序第{t['priority']}），顺延"
    if not members:
        return lambda t: f"员工名单中没有{pool.role}，无人可派，顺延"
    nobody = "、".join(f"{m.name}{m.absence or '每日上限0'}" for m in members)
    return lambda t: f"当日没有可派的{pool.role}（{nobody}），顺延"


def _routes(assignments: list[dict[str, Any]], members: dict[str, _Member], staff_places: Places,
            ticket_places: Places, model: DistanceModel) -> None:
    """Number each assignee's visits as a route from their base, nearest next; the distance of each
    visit from that base (the assignment's cost, named in reasons); and each leg of the route, from
    the stop before (the first from the base), as the dispatch sheets show it: km where measured or
    tabled, blank where only estimated (two stops in one area without coordinates)."""
    by_assignee: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in assignments:
        by_assignee[a["assignee"]].append(a)
    for staff_id, visits in by_assignee.items():
        visits.sort(key=lambda a: a["priority"])
        base = staff_places.take([members[staff_id].place])
        stops = ticket_places.take([a["_place"] for a in visits])
        order = route_order(model, base, stops)
        km, basis = model.matrix(base, stops)
        between, between_basis = model.matrix(stops, stops)
        for step, index in enumerate(order, start=1):
            visits[index]["route"] = step
            before = order[step - 2] if step > 1 else None
            visits[index]["leg_km"] = (shown_km(km[0, index], basis[0, index]) if before is None
                                       else shown_km(between[before, index], between_basis[before, index]))
        for index, visit in enumerate(visits):
            visit["distance"] = float(km[0, index])
            visit["distance_km"] = shown_km(km[0, index], basis[0, index])


def _pin_applies(pin: dict[str, Any], tickets: dict[str, dict[str, Any]], plan: dt.date) -> bool:
    """A returned 总览's pin holds for its own plan date; a call's 指定工程师 until the ticket's first
    visit (no feedback yet). Either only for a ticket open now."""
    ticket = tickets.get(pin["key"])
    if ticket is None:
        return False
    return pin["plan_date"] == plan or (pin["plan_date"] is None and ticket["last_result"] is None)


def _checked_pin(pin: dict[str, Any], pool: Pool, members: dict[str, _Member], names: dict[str, str],
                 roles: dict[str, str], plan: dt.date) -> _Pin | Problem:
    """A pin as it holds on P, or the 错误 at its cell when it names someone who cannot go (on leave,
    不在岗, or of the other pool): the ticket is then planned as usual."""
    if pin["person"] is None:
        return _Pin(None, pin["planned"], f"{MANAGER_HELD}（派工单总览的派给填了不派）", pin)
    by_manager = pin["plan_date"] is not None
    member = members.get(pin["person"])
    name = names.get(pin["person"], pin["person"])
    if member is not None and member.absence is None:
        return _Pin(member.staff_id, pin["planned"], MANAGER_PINNED if by_manager else HOTLINE_PINNED, pin)
    if member is None:
        why = f"{name}是{roles.get(pin['person'], '不在员工名单中的人')}，{pool.work}由{pool.role}上门"
    else:
        why = f"{name}{member.absence}"
    who = "派给" if by_manager else "指定工程师"
    message = f"{who}“{name}”{plan:%m-%d}不能上门：{why}；请改选当天在岗的{pool.role}。本单照常派工"
    return pin_problem(pin, Code.CONSTRAINT, Severity.ERROR, message, name)


def _over_cap(pins: dict[str, _Pin], members: dict[str, _Member], plan: dt.date) -> list[Problem]:
    """A 警告 per person whose pinned tickets alone pass their cap, saying by how many."""
    by_person: dict[str, list[_Pin]] = defaultdict(list)
    for pin in pins.values():
        if pin.person is not None:
            by_person[pin.person].append(pin)
    problems = []
    for person, placed in by_person.items():
        member = members[person]
        if len(placed) > member.cap:
            first = placed[0].where
            who = "、".join(sorted({p.reason for p in placed}))
            problems.append(Problem(
                Code.CONSTRAINT, Severity.WARNING,
                f"{who}后{member.name}在{plan:%m-%d}共派{len(placed)}家，超过每日上限{member.cap}家{len(placed) - member.cap}家；"
                "按指定照派，如不妥请在派工单总览里改派", file=first["file"], sheet=first["sheet"], value=member.name))
    return problems


def _customers_of(customers: pd.DataFrame, columns: list[str], tickets: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The 客户档案 rows (these columns) of the customers the tickets name, by 客户编号: a day's open
    tickets name a few thousand of an HQ month's 50,000 customers."""
    named = customers[customers["customer_id"].isin({ticket["customer_id"] for ticket in tickets})]
    return {c["customer_id"]: c for c in rows_of(named[["customer_id", *columns]])}


def plan_dispatch(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                  today: dt.date, open_cases: dict[str, str] | None = None,
                  pins: pd.DataFrame | None = None, open_now: pd.DataFrame | None = None) -> DispatchResult:
    """docs/rules.md § Dispatch for the plan date P = the next working day after today. open_cases:
    customer → the 投诉编号 of their open complaint case on today (ComplaintCases.open_by_customer),
    whose tickets come first; pins, the manager's and the hotline's placements as the folder states
    them (Inbox.pins); open_now, the open tickets on today where the caller has them (rules/tickets.py)."""
    plan = calendar.next_workday(today)
    matrix, warnings = parse_priority_matrix(settings.priority_matrix)
    shown = ("customer_name", "contact", "phone", "address", "area", "lat", "lon", "owner")
    staff = sorted(rows_of(table_of(tables, "staff")), key=lambda s: staff_order(s["staff_id"]))
    leaves = rows_of(table_of(tables, "leave"))
    names = staff_labels(staff)
    roles = {s["staff_id"]: s["role"] for s in staff}
    model = DistanceModel(table_of(tables, "area_distance"))
    staff_places = Places.of([s["lat"] for s in staff], [s["lon"] for s in staff], [s["area"] for s in staff])
    open_cases = open_cases or {}

    if open_now is None:
        open_now = open_tickets(table_of(tables, "calls"), table_of(tables, "feedback"), calendar, today)
    tickets = rows_of(open_now)
    customers = _customers_of(table_of(tables, "customers"), [*shown, "key_customer"], tickets)
    for index, ticket in enumerate(tickets):
        customer = customers.get(ticket["customer_id"], {})
        ticket.update({key: customer.get(key) for key in shown})
        ticket["key_customer"] = bool(customer.get("key_customer"))
        ticket["open_case"] = open_cases.get(ticket["customer_id"])
        ticket["_place"] = index
        pool = pool_of(ticket["category"])
        ticket["pool"], ticket["service_type"] = pool.role, pool.service_type
        ticket["owner_name"] = names.get(ticket["owner"], ticket["owner"])
    ticket_places = Places.of([t["lat"] for t in tickets], [t["lon"] for t in tickets], [t["area"] for t in tickets])
    by_ticket = {t["ticket_id"]: t for t in tickets}
    stated, problems = stated_pins(pins, PIN_DISPATCH, "工单", lambda pin: _pin_applies(pin, by_ticket, plan))

    members: dict[str, _Member] = {}
    assignments: list[dict[str, Any]] = []
    backlog: list[dict[str, Any]] = []
    for pool in POOLS:
        in_pool = [
            _Member(s["staff_id"], names[s["staff_id"]], daily_cap(s, settings), _absence(s, leaves, plan), index)
            for index, s in enumerate(staff) if s["role"] == pool.role
        ]
        members.update({m.staff_id: m for m in in_pool})
        queue = sorted((t for t in tickets if t["pool"] == pool.role), key=lambda t: priority_key(t, settings, matrix))
        placed: dict[str, _Pin] = {}
        for ticket_id in (t["ticket_id"] for t in queue if t["ticket_id"] in stated):
            checked = _checked_pin(stated[ticket_id], pool, {m.staff_id: m for m in in_pool}, names, roles, plan)
            if isinstance(checked, Problem):
                problems.append(checked)
            else:
                placed[ticket_id] = checked
        problems.extend(_over_cap(placed, members, plan))
        done, left = _plan_pool(pool, queue, in_pool, placed, staff_places, ticket_places, names, roles, model)
        assignments.extend(done)
        backlog.extend(left)

    _routes(assignments, members, staff_places, ticket_places, model)
    for a in assignments:
        a["assignee_name"] = names[a["assignee"]]
        planned = a.get("planned")
        a["planned_name"] = names.get(planned, planned) if planned else a["assignee_name"]
    for row in (*assignments, *backlog):
        if row["open_case"]:
            first = f"{COMPLAINT_FIRST}（未结投诉{row['open_case']}）"
            row["reason"] = f"{first}；{row['reason']}" if row["reason"] else first
    pool_rank = {pool.role: i for i, pool in enumerate(POOLS)}
    assignments.sort(key=lambda a: (pool_rank[a["pool"]], staff_order(a["assignee"]), a["route"]))
    backlog.sort(key=lambda t: (pool_rank[t["pool"]], t["priority"]))
    return DispatchResult(
        plan,
        pd.DataFrame([{k: a[k] for k in ASSIGNMENT_COLUMNS} for a in assignments], columns=list(ASSIGNMENT_COLUMNS),
                     dtype=object),
        pd.DataFrame([{k: t[k] for k in BACKLOG_COLUMNS} for t in backlog], columns=list(BACKLOG_COLUMNS), dtype=object),
        warnings,
        problems,
        tuple(m.name for m in sorted(members.values(), key=lambda m: staff_order(m.staff_id)) if m.absence is None),
    )


def dispatch_figures(result: DispatchResult) -> dict[str, Any]:
    """The key dispatch figures for run.json and the manager's report."""
    assignments = result.assignments
    return {
        "plan_date": result.plan_date.isoformat(),
        "assigned": len(assignments),
        "moved": int(assignments["moved"].sum()) if len(assignments) else 0,
        "backlog": len(result.backlog),
        "per_person": {str(k): int(v) for k, v in assignments["assignee_name"].value_counts(sort=False).items()},
    }
