"""The hotline's callbacks (回访记录): the 17:00 verification of the day's visits, each engineer's
monthly spot checks at an even pace, satisfaction calls to customers not yet reached, and at the end
a couple of visits the customer denies and a couple of complaints."""

from __future__ import annotations

import datetime as dt
import math
import random
from collections import defaultdict

from kis_batch.demo.parameters import (
    CALLBACK_COMPLAINTS,
    FALSE_VISITS,
    REACHED_SHARE,
    RULES,
    SAME_SATISFACTION_SHARE,
    SATISFACTION_CALLS_PER_CUSTOMER,
    SATISFACTION_MIX,
    SPOT_CHECK_PACE,
    VERIFY_SHARE,
)
from kis_batch.demo.people import Customer, Department
from kis_batch.demo.records import Callback, Ticket, Visit
from kis_batch.schema import ENGINEER


class Callbacks:
    """The hotline's callbacks so far, and what it remembers: whom each engineer served on site,
    whom it has spot-checked and reached."""

    def __init__(self, rng: random.Random, department: Department, customer_count: int,
                 month_days: list[dt.date]) -> None:
        self.rng, self.department, self.month_days = rng, department, month_days
        self.satisfaction_calls = max(1, round(customer_count * SATISFACTION_CALLS_PER_CUSTOMER))
        self.made: list[Callback] = []
        self.served_by: dict[str, dict[str, Visit]] = defaultdict(dict)  # engineer -> customer -> last visit
        self.spot_checked: set[tuple[str, str]] = set()
        self.spot_checks: dict[str, int] = defaultdict(int)
        self.reached: set[str] = set()
        self.keys: set[tuple[dt.date, str, str]] = set()

    def note_visit(self, visit: Visit) -> None:
        """An engineer's visit on site, a candidate for the monthly spot checks."""
        if visit.staff.role == ENGINEER and visit.mode == "上门":
            self.served_by[visit.staff.staff_id][visit.customer.customer_id] = visit

    def day(self, day: dt.date, index: int, visits: list[Visit], calls: list[Ticket]) -> None:
        """The day's callbacks, in the order the hotline makes them."""
        for visit in visits:
            if self.rng.random() < VERIFY_SHARE:
                self._call(day, "当日核实", visit.customer, visit)
        self._spot_checks(day, index)
        settled = [t for t in calls if t.handling == "电话已解决" and t.customer.customer_id not in self.reached]
        for ticket in self.rng.sample(settled, min(self.satisfaction_calls, len(settled))):
            self._call(day, "满意度回访", ticket.customer, None, ticket)

    def _spot_checks(self, day: dt.date, index: int) -> None:
        """Each engineer's customers served before today, checked at a little under the even pace."""
        quota = RULES.spot_checks_per_engineer
        for engineer in self.department.engineers:
            sid = engineer.staff_id
            due = math.floor(quota * SPOT_CHECK_PACE * (index + 1) / len(self.month_days)) - self.spot_checks[sid]
            served = [v for c, v in self.served_by[sid].items() if (sid, c) not in self.spot_checked and v.day < day]
            for visit in self.rng.sample(served, max(0, min(due, len(served)))):
                self.spot_checked.add((sid, visit.customer.customer_id))
                self.spot_checks[sid] += 1
                self._call(day, "月度抽查", visit.customer, visit)

    def _call(self, day: dt.date, kind: str, customer: Customer, visit: Visit | None,
              ticket: Ticket | None = None) -> None:
        """One call per customer, day and kind (the callback key)."""
        key = (day, customer.customer_id, kind)
        if key in self.keys:
            return
        self.keys.add(key)
        ticket = visit.ticket if visit else ticket
        reached = self.rng.random() < REACHED_SHARE
        satisfaction = verified = None
        if reached:
            self.reached.add(customer.customer_id)
            verified = "是" if visit else "不适用"
            if visit is not None and self.rng.random() < SAME_SATISFACTION_SHARE:
                satisfaction = visit.satisfaction
            else:
                satisfaction = SATISFACTION_MIX.pick(self.rng)
        self.made.append(Callback(
            day, customer, kind, ticket.ticket_id if ticket else None, visit.staff if visit else customer.owner,
            reached, verified, satisfaction, self.department.hotline, False if reached else None,
            None if reached else "无人接听",
        ))

    def mark_findings(self, today: dt.date) -> None:
        """A couple of visits the customer says never happened, and a couple of complaints."""
        reached = [c for c in self.made if c.kind == "当日核实" and c.reached and c.day < today]
        picked = self.rng.sample(reached, min(FALSE_VISITS + CALLBACK_COMPLAINTS, len(reached)))
        for callback in picked[:FALSE_VISITS]:
            callback.verified, callback.satisfaction, callback.notes = "否", "不满意", "客户称当天没有工程师上门"
        for callback in picked[FALSE_VISITS:]:
            callback.complaint, callback.satisfaction, callback.notes = True, "不满意", "客户投诉：问题拖了好几天才处理"
