"""The simulated month: what the department did each working day up to today, kept as plain data
(the month's ledger) for the workbooks. One generator drives it all, in a fixed order, so the same
arguments always give the same month."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass

from kis_batch.calendar import WorkCalendar
from kis_batch.demo.callbacks import Callbacks
from kis_batch.demo.calls import CallLog, is_month_end, recent_visits
from kis_batch.demo.parameters import LEAVE_DAYS, LEAVE_PERIODS_MIN, LEAVE_REASONS, RETURNED_TODAY_SHARE, STAFF_PER_LEAVE_PERIOD, Mix
from kis_batch.demo.people import Customer, Department
from kis_batch.demo.records import Attendance, Callback, Leave, OpenTickets, Ticket, Visit
from kis_batch.demo.visits import FieldWork, judge
from kis_batch.schema import ENGINEER


@dataclass(frozen=True)
class MonthDays:
    """The month's working days, those up to today, and today; a month over (an earlier month of a
    demo of several) has every feedback back."""

    month: list[dt.date]
    so_far: list[dt.date]
    today: dt.date
    over: bool = False


@dataclass
class MonthLedger:
    """What happened this month, for the workbooks."""

    leave: list[Leave]
    calls: dict[dt.date, list[Ticket]]
    visits: list[Visit]
    callbacks: list[Callback]
    returned_today: set[str]  # staff ids whose feedback for today is back
    earlier_calls: list[Ticket]  # the last earlier call of tracked customers the month did not reach


def plan_leave(rng: random.Random, calendar: WorkCalendar, days: MonthDays, department: Department) -> list[Leave]:
    """A few leave periods in the month, one covering the next working day after today, so the
    example's dispatch has an absent engineer to work around."""
    pool = department.engineers + department.specialists
    periods = max(LEAVE_PERIODS_MIN, len(pool) // STAFF_PER_LEAVE_PERIOD)
    people = rng.sample(pool, min(periods, len(pool)))
    absent = next((p for p in people if p.role == ENGINEER), people[0])
    plan_day = calendar.next_workday(days.today)
    leave = [Leave(absent, plan_day, calendar.next_workday(plan_day), rng.choice(LEAVE_REASONS))]
    earlier = days.so_far[:-1] or days.month
    for person in people:
        if person is absent:
            continue
        start = end = rng.choice(earlier)
        for _ in range(rng.randint(*LEAVE_DAYS) - 1):
            end = calendar.next_workday(end)
        leave.append(Leave(person, start, end, rng.choice(LEAVE_REASONS)))
    return leave


def simulate_month(rng: random.Random, calendar: WorkCalendar, days: MonthDays, department: Department,
                   customers: list[Customer], calls_per_day: tuple[int, int], handling: Mix,
                   tickets: OpenTickets) -> MonthLedger:
    """Each working day in turn: the visits, the calls, the remote help, the hotline's callbacks.
    tickets are those open when the month starts (the month before's, in a demo of several months);
    the month leaves in it those still open at its end."""
    call_log = CallLog(rng, department, customers, calls_per_day, handling, tickets)
    field = FieldWork(rng, department, customers, days.month, tickets)
    callbacks = Callbacks(rng, department, len(customers), days.month)
    leave = plan_leave(rng, calendar, days, department)
    attendance = Attendance.of(leave, calendar)
    calls: dict[dt.date, list[Ticket]] = {}
    visits: list[Visit] = []
    for index, day in enumerate(days.so_far):
        on_site = field.day(day, index, attendance)
        for visit in on_site:
            judge(rng, visit)
            callbacks.note_visit(visit)
            tickets.after_visit(visit)
        visits += on_site
        calls[day] = call_log.day(day, is_month_end(day, days.month), recent_visits(visits, days.so_far, index))
        visits += field.remote(day, attendance)
        callbacks.day(day, index, on_site, calls[day])
    callbacks.mark_findings(days.today)
    contacted = ({t.customer.customer_id for day_calls in calls.values() for t in day_calls}
                 | {v.customer.customer_id for v in visits} | {c.customer.customer_id for c in callbacks.made if c.reached})
    return MonthLedger(leave, calls, visits, callbacks.made, _returned_today(rng, visits, days),
                       call_log.earlier(contacted, calendar, days.today))


def _returned_today(rng: random.Random, visits: list[Visit], days: MonthDays) -> set[str]:
    """Those of today's visitors who returned their feedback by the time of the run: all of them
    once the month is over."""
    if not days.so_far or days.so_far[-1] != days.today:
        return set()
    workers = sorted({v.staff.staff_id for v in visits if v.day == days.today})
    if days.over:
        return set(workers)
    return set(rng.sample(workers, round(len(workers) * RETURNED_TODAY_SHARE)))
