"""What the simulated month records, as plain data: the calls (tickets), the feedback rows (visits),
the hotline's callbacks and the leave; and the tickets still waiting for a visit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from kis_batch.calendar import WorkCalendar
from kis_batch.demo.people import Customer, Person
from kis_batch.schema import ENGINEER, IMPLEMENTATION_CATEGORY, IMPLEMENTER, RESOLVED, SEVERITIES, URGENCIES


@dataclass
class Ticket:
    ticket_id: str | None
    call_time: dt.datetime
    customer: Customer
    category: str
    problem: str
    severity: str
    urgency: str
    handling: str
    caller: str
    recorded_by: str
    notes: str | None = None
    since: dt.date = dt.date.min  # waiting for a visit from this day (call, or last unresolved visit)


@dataclass
class Visit:
    """One feedback row: a ticket served (on site or remote) or a visit without a ticket."""

    day: dt.date
    staff: Person
    customer: Customer
    service_type: str
    ticket: Ticket | None = None
    mode: str = "上门"
    arrive: int = 0  # minutes after midnight
    leave: int = 0
    result: str = RESOLVED
    satisfaction: str = "满意"
    phoned_ahead: bool = True
    signed: bool | None = True
    manager_score: int | None = None
    notes: str | None = None


@dataclass
class Callback:
    day: dt.date
    customer: Customer
    kind: str
    ticket_id: str | None
    staff: Person
    reached: bool
    verified: str | None
    satisfaction: str | None
    caller: Person
    complaint: bool | None = False
    notes: str | None = None


@dataclass(frozen=True)
class Leave:
    person: Person
    start: dt.date
    end: dt.date
    reason: str


@dataclass(frozen=True)
class Attendance:
    """Who is away on which working day, from the leave."""

    absent: frozenset[tuple[str, dt.date]]

    @classmethod
    def of(cls, leave: list[Leave], calendar: WorkCalendar) -> Attendance:
        return cls(frozenset((p.person.staff_id, day) for p in leave for day in calendar.workdays(p.start, p.end)))

    def present(self, people: Iterable[Person], day: dt.date) -> list[Person]:
        return [p for p in people if (p.staff_id, day) not in self.absent]


def clock(minutes: int) -> dt.time:
    """A time of day from minutes after midnight, as visits keep it."""
    return dt.time(minutes // 60, minutes % 60)


_SEVERITY_RANK = {s: rank for rank, s in enumerate(SEVERITIES)}
_URGENCY_RANK = {u: rank for rank, u in enumerate(URGENCIES)}


def _priority(ticket: Ticket) -> tuple[Any, ...]:
    """The dispatch order (docs/rules.md § Dispatch): key customer, severity, urgency, longest waiting, call time, id."""
    return (not ticket.customer.key, _SEVERITY_RANK[ticket.severity], _URGENCY_RANK[ticket.urgency],
            ticket.since, ticket.call_time, ticket.ticket_id or "")


def pool_of(ticket: Ticket) -> str:
    """实施 tickets go to the implementation specialists, the rest to the service engineers."""
    return IMPLEMENTER if ticket.category == IMPLEMENTATION_CATEGORY else ENGINEER


@dataclass
class OpenTickets:
    """The tickets carried from day to day: those waiting for a visit (per pool, and by customer, so
    a customer calling again is only chasing theirs) and the remote ones not yet handled."""

    by_pool: dict[str, list[Ticket]] = field(default_factory=lambda: {ENGINEER: [], IMPLEMENTER: []})
    waiting: dict[str, Ticket] = field(default_factory=dict)  # customer -> its ticket waiting for a visit
    remote: list[Ticket] = field(default_factory=list)

    def wait_for_visit(self, ticket: Ticket, since: dt.date) -> None:
        ticket.since = since
        self.by_pool[pool_of(ticket)].append(ticket)
        self.waiting[ticket.customer.customer_id] = ticket

    def after_visit(self, visit: Visit) -> None:
        """A resolved ticket stops waiting; an unresolved one waits for another visit from this day."""
        ticket = visit.ticket
        if ticket is None:
            return
        if visit.result != RESOLVED:
            self.wait_for_visit(ticket, visit.day)
        elif self.waiting.get(ticket.customer.customer_id) is ticket:
            del self.waiting[ticket.customer.customer_id]

    def take(self, pool: str, count: int) -> list[Ticket]:
        """The count highest-priority tickets of the pool; the rest wait a day more."""
        queue = sorted(self.by_pool[pool], key=_priority)
        self.by_pool[pool] = queue[count:]
        return queue[:count]
