"""The engineers' and specialists' working days: dispatched tickets served by the owner (or the
nearest colleague with room), their own 客户拜访 in the room left, project days, a route from the
base with travel and lunch, and how each visit went; remote tickets handled the same day."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from kis_batch.demo.parameters import (
    CAP,
    DAY_STARTS,
    DURATION_MIX,
    INSTALL_DURATION_MIX,
    LUNCH,
    LUNCH_SLACK,
    MANAGER_SCORE,
    MANAGER_SCORE_SHARE,
    PHONED_AHEAD_SHARE,
    PROJECT_DAY_SHARE,
    PROJECT_NOTE,
    PROJECT_TYPES,
    PROJECTS_PER_IMPLEMENTER,
    REMOTE_DELAY,
    REMOTE_LATEST,
    REMOTE_MINUTES,
    REMOTE_RESULT_MIX,
    RESULT_MIX,
    SATISFACTION_MIX,
    SERVICE_TYPE_OF,
    SIGNED_SHARE,
    TRAVEL_MIN_PER_KM,
    TRAVEL_MINUTES,
    UNRESOLVED_SATISFACTION_MIX,
    VISIT_NOTES,
    VISIT_TARGETS,
)
from kis_batch.demo.people import Customer, Department, Person, km, nearest
from kis_batch.demo.records import Attendance, OpenTickets, Ticket, Visit
from kis_batch.schema import ENGINEER, IMPLEMENTER, RESOLVED, VISIT_TYPE


def dispatch(tickets: OpenTickets, pool: str, present: list[Person]) -> dict[str, list[Ticket]]:
    """Serve the highest-priority open tickets up to the pool's room: the owner keeps theirs up to
    the cap, the rest go to the nearest colleague with room; what is left waits a day more."""
    room = {p.staff_id: CAP for p in present}
    jobs: dict[str, list[Ticket]] = defaultdict(list)
    excess: list[Ticket] = []
    for ticket in tickets.take(pool, CAP * len(present)):
        owner = ticket.customer.owner.staff_id
        if room.get(owner, 0) > 0:
            jobs[owner].append(ticket)
            room[owner] -= 1
        else:
            excess.append(ticket)
    for ticket in excess:
        taker = nearest((p for p in present if room[p.staff_id] > 0), ticket.customer.place)
        jobs[taker.staff_id].append(ticket)
        room[taker.staff_id] -= 1
    return jobs


class OwnVisits:
    """客户拜访 at each engineer's own pace towards a target for the month. Targets are spread
    evenly; the engineers with the fewest customers (the most room) aim highest."""

    def __init__(self, rng: random.Random, engineers: list[Person], customers: list[Customer],
                 month_days: list[dt.date]) -> None:
        self.rng, self.month_days = rng, month_days
        owned: dict[str, list[Customer]] = defaultdict(list)
        for customer in customers:
            owned[customer.owner.staff_id].append(customer)
        self.order = {p.staff_id: self._candidates(owned[p.staff_id]) for p in engineers}
        span = VISIT_TARGETS[1] - VISIT_TARGETS[0]
        targets = [VISIT_TARGETS[1] - round(span * i / max(1, len(engineers) - 1)) for i in range(len(engineers))]
        by_load = sorted(engineers, key=lambda p: (len(owned[p.staff_id]), p.staff_id))
        self.target = {p.staff_id: t for p, t in zip(by_load, targets, strict=True)}
        self.done: dict[str, int] = defaultdict(int)

    def _candidates(self, own: list[Customer]) -> list[Customer]:
        """Whom an engineer visits unprompted: key customers first, then the others, shuffled."""
        own = list(own)
        self.rng.shuffle(own)
        return sorted(own, key=lambda c: not c.key)

    def plan(self, day: dt.date, index: int, engineer: Person, room: int, busy: set[str]) -> list[Visit]:
        """The day's 客户拜访 in the room left, skipping customers already on the route."""
        sid = engineer.staff_id
        due = round(self.target[sid] * (index + 1) / len(self.month_days)) - self.done[sid]
        candidates = self.order[sid]
        plan: list[Visit] = []
        for customer in list(candidates):
            if len(plan) >= min(room, due):
                break
            if customer.customer_id not in busy:
                candidates.remove(customer)
                plan.append(Visit(day, engineer, customer, VISIT_TYPE, notes=self.rng.choice(VISIT_NOTES[VISIT_TYPE])))
        self.done[sid] += len(plan)
        return plan


class ProjectDays:
    """Each specialist's implementation projects, and their days there."""

    def __init__(self, rng: random.Random, specialists: list[Person], customers: list[Customer]) -> None:
        self.rng = rng
        self.projects = {p.staff_id: rng.sample(customers, min(PROJECTS_PER_IMPLEMENTER, len(customers)))
                         for p in specialists}

    def plan(self, day: dt.date, specialist: Person, busy: set[str], has_tickets: bool) -> list[Visit]:
        """A day at one of the specialist's projects (always, on a day without tickets)."""
        free = [c for c in self.projects[specialist.staff_id] if c.customer_id not in busy]
        if not free or (has_tickets and self.rng.random() >= PROJECT_DAY_SHARE):
            return []
        return [Visit(day, specialist, self.rng.choice(free), PROJECT_TYPES.pick(self.rng), notes=PROJECT_NOTE)]


def route(rng: random.Random, person: Person, plan: list[Visit]) -> None:
    """Order the day's visits as a route from the base (nearest next) and time them."""
    here, clock = person.place, rng.randint(*DAY_STARTS)
    remaining = list(plan)
    plan.clear()
    while remaining:
        visit = min(remaining, key=lambda v, h=here: (km(h, v.customer.place), v.customer.customer_id))
        remaining.remove(visit)
        if plan:
            clock += min(TRAVEL_MINUTES[0] + round(km(here, visit.customer.place) * TRAVEL_MIN_PER_KM), TRAVEL_MINUTES[1])
        if LUNCH[0] <= clock < LUNCH[1]:
            clock = LUNCH[1] + rng.randint(0, LUNCH_SLACK)
        low, high = (INSTALL_DURATION_MIX if visit.service_type == "安装系统" else DURATION_MIX).pick(rng)
        visit.arrive, visit.leave = clock, clock + rng.randint(low, high)
        clock, here = visit.leave, visit.customer.place
        plan.append(visit)


def judge(rng: random.Random, visit: Visit) -> None:
    """How a visit went: result, satisfaction, whether the engineer phoned ahead and got it signed."""
    if visit.ticket is not None:
        visit.result = (RESULT_MIX if visit.mode == "上门" else REMOTE_RESULT_MIX).pick(rng)
    resolved = visit.result == RESOLVED
    visit.satisfaction = (SATISFACTION_MIX if resolved else UNRESOLVED_SATISFACTION_MIX).pick(rng)
    visit.phoned_ahead = rng.random() < PHONED_AHEAD_SHARE
    visit.signed = rng.random() < SIGNED_SHARE if visit.mode == "上门" else None
    if rng.random() < MANAGER_SCORE_SHARE:
        visit.manager_score = rng.randint(*MANAGER_SCORE)
    if not resolved:
        visit.notes = rng.choice(VISIT_NOTES[visit.result])


class FieldWork:
    """Everyone's visits of a working day: dispatched tickets first, then, in the room left, the
    engineers' own visits and the specialists' project days; each person's day routed."""

    def __init__(self, rng: random.Random, department: Department, customers: list[Customer],
                 month_days: list[dt.date], tickets: OpenTickets) -> None:
        self.rng, self.department, self.tickets = rng, department, tickets
        self.own_visits = OwnVisits(rng, department.engineers, customers, month_days)
        self.project_days = ProjectDays(rng, department.specialists, customers)

    def day(self, day: dt.date, index: int, attendance: Attendance) -> list[Visit]:
        """The day's on-site visits, routed, not yet judged."""
        done: list[Visit] = []
        for pool, people in ((ENGINEER, self.department.engineers), (IMPLEMENTER, self.department.specialists)):
            present = attendance.present(people, day)
            jobs = dispatch(self.tickets, pool, present)
            for person in present:
                plan = [Visit(day, person, t.customer, SERVICE_TYPE_OF.get(t.category, "问题处理"), t)
                        for t in jobs.get(person.staff_id, [])]
                busy = {v.customer.customer_id for v in plan}
                if pool == ENGINEER:
                    plan += self.own_visits.plan(day, index, person, CAP - len(plan), busy)
                elif len(plan) < CAP:
                    plan += self.project_days.plan(day, person, busy, bool(plan))
                route(self.rng, person, plan)
                done += plan
        return done

    def remote(self, day: dt.date, attendance: Attendance) -> list[Visit]:
        """Remote tickets are handled the same day by the owner (or the nearest present colleague);
        a call too late in the day waits for the next morning."""
        engineers = attendance.present(self.department.engineers, day)
        rng = self.rng
        later: list[Ticket] = []
        visits: list[Visit] = []
        for ticket in self.tickets.remote:
            if ticket.call_time.date() == day:
                start = ticket.call_time.hour * 60 + ticket.call_time.minute + rng.randint(*REMOTE_DELAY)
            else:
                start = rng.randint(*DAY_STARTS)
            minutes = rng.randint(*REMOTE_MINUTES)
            if start + minutes > REMOTE_LATEST or not engineers:
                later.append(ticket)
                continue
            owner = ticket.customer.owner
            person = owner if owner in engineers else nearest(engineers, ticket.customer.place)
            visit = Visit(day, person, ticket.customer, "问题处理", ticket, "远程", start, start + minutes)
            judge(rng, visit)
            self.tickets.after_visit(visit)
            visits.append(visit)
        self.tickets.remote = later
        return visits
