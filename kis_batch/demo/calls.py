"""The hotline's call log (热线记录): each working day's calls, busier on Mondays and at month end
(结账); a complaint is about a recent visit, a customer already waiting for a visit is only chasing it.
Also the last earlier call of each tracked customer the month did not reach."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections import defaultdict

from kis_batch.calendar import WorkCalendar
from kis_batch.demo.parameters import (
    BLANK_TICKET_ID_SHARE,
    BUSY_FROM,
    CALL_HOURS,
    CATEGORY_HANDLING_MIX,
    CATEGORY_MIX,
    CHASE_PROBLEM,
    CLOSING_CATEGORIES,
    CLOSING_PROBLEM_SHARE,
    CLOSING_PROBLEMS,
    COMPLAINT_LOOKBACK_DAYS,
    COMPLAINTS,
    CONTACT_TITLES,
    DAY_CLOSES,
    DAY_OPENS,
    EARLIER_CALL_DAYS,
    EARLIER_CALL_PROBLEMS,
    EARLIER_CALL_TIME,
    HOTLINE_RECORDS_SHARE,
    KEY_CALL_WEIGHT,
    MONTH_END_DAYS,
    MONTH_END_URGENCY_MIX,
    ONE_DAY,
    OTHER_CALLER_SHARE,
    PROBLEMS,
    REMOTE_EARLIER_CALL_DAYS,
    SEGMENT_CALL_WEIGHT,
    SERIOUS_CATEGORIES,
    SERIOUS_SEVERITY_MIX,
    SEVERITY_MIX,
    SURNAMES,
    URGENCY_MIX,
    Mix,
)
from kis_batch.demo.people import Customer, Department
from kis_batch.demo.records import OpenTickets, Ticket, Visit, clock
from kis_batch.schema import COMPLAINT_CATEGORY, ENGINEER, SEGMENTS


class CallLog:
    """Who calls, about what, and how the hotline handles it; key and large customers call more."""

    def __init__(self, rng: random.Random, department: Department, customers: list[Customer],
                 calls_per_day: tuple[int, int], handling: Mix, tickets: OpenTickets) -> None:
        self.rng, self.department, self.customers = rng, department, customers
        self.calls_per_day, self.handling, self.tickets = calls_per_day, handling, tickets
        self.id_width = max(3, len(str(calls_per_day[1])))
        weights = [KEY_CALL_WEIGHT if c.key else SEGMENT_CALL_WEIGHT.get(c.segment, 1.0) for c in customers]
        self.call_weights = list(itertools.accumulate(weights))

    def day(self, day: dt.date, month_end: bool, recent: list[Visit]) -> list[Ticket]:
        """The day's calls in time order, numbered; those needing a visit or remote help are queued."""
        rng, (low, high) = self.rng, self.calls_per_day
        split = round(low + (high - low) * BUSY_FROM)
        count = rng.randint(split, high) if day.weekday() == 0 or month_end else rng.randint(low, split)
        moments = sorted(self._moment(day) for _ in range(count))
        customers = rng.choices(self.customers, cum_weights=self.call_weights, k=count)
        tickets: list[Ticket] = []
        numbers = itertools.count(1)
        for moment, customer in zip(moments, customers, strict=True):
            ticket = self._call(moment, customer, month_end, recent)
            if ticket.handling != "电话已解决" or rng.random() >= BLANK_TICKET_ID_SHARE:
                ticket.ticket_id = f"T{day:%Y%m%d}-{next(numbers):0{self.id_width}d}"
            tickets.append(ticket)
            if ticket.handling == "需上门":
                self.tickets.wait_for_visit(ticket, day)
            elif ticket.handling == "远程处理":
                self.tickets.remote.append(ticket)
        return tickets

    def _moment(self, day: dt.date) -> dt.datetime:
        minutes = CALL_HOURS.pick(self.rng) * 60 + self.rng.randint(0, 59)
        return dt.datetime.combine(day, clock(min(max(minutes, DAY_OPENS), DAY_CLOSES)))

    def _call(self, moment: dt.datetime, customer: Customer, month_end: bool, recent: list[Visit]) -> Ticket:
        """One call: a complaint is about a recent visit; a customer already waiting for a visit is
        only chasing it."""
        rng = self.rng
        category = CATEGORY_MIX.pick(rng)
        notes = None
        if category == COMPLAINT_CATEGORY and recent:
            visit = rng.choice(recent)
            customer, problem = visit.customer, rng.choice(COMPLAINTS).format(name=visit.staff.name)
            visit.satisfaction = "不满意"
            notes = f"涉及{visit.day.month}月{visit.day.day}日上门"
        elif category == COMPLAINT_CATEGORY:
            category, problem = "其他", rng.choice(PROBLEMS["其他"])
        elif month_end and category in CLOSING_CATEGORIES and rng.random() < CLOSING_PROBLEM_SHARE:
            problem, notes = rng.choice(CLOSING_PROBLEMS), "月底结账急用"
        else:
            problem = rng.choice(PROBLEMS[category])
        handling = (CATEGORY_HANDLING_MIX.get(category, self.handling)).pick(rng)
        waiting = self.tickets.waiting.get(customer.customer_id)
        if waiting is not None and handling == "需上门":
            category, handling, problem = "其他", "电话已解决", CHASE_PROBLEM.format(ticket=waiting.ticket_id)
        severity = (SERIOUS_SEVERITY_MIX if category in SERIOUS_CATEGORIES else SEVERITY_MIX).pick(rng)
        urgency = (MONTH_END_URGENCY_MIX if month_end else URGENCY_MIX).pick(rng)
        caller = customer.contact if rng.random() >= OTHER_CALLER_SHARE else rng.choice(SURNAMES) + rng.choice(CONTACT_TITLES)
        recorder = self.department.hotline if rng.random() < HOTLINE_RECORDS_SHARE else self.department.assistant
        return Ticket(None, moment, customer, category, problem, severity, urgency, handling, caller, recorder.name, notes)

    def earlier(self, contacted: set[str], calendar: WorkCalendar, today: dt.date) -> list[Ticket]:
        """The last call before this month of each tracked customer (重点客户, 大客户, 集团客户, 异地客户)
        not in contacted: the folder keeps that part of the earlier log, so 客户跟踪 has customers
        久未联系. Settled on the phone, so nothing else in the month changes."""
        quiet = [c for c in self.customers if (c.key or c.segment != SEGMENTS[0]) and c.customer_id not in contacted]
        calls: list[Ticket] = []
        numbers: dict[dt.date, int] = defaultdict(int)
        for index, customer in enumerate(quiet):
            back = (REMOTE_EARLIER_CALL_DAYS[index % 2] if customer.segment == SEGMENTS[3] else EARLIER_CALL_DAYS) + index
            day = today - dt.timedelta(days=back)
            while not calendar.is_workday(day):
                day -= ONE_DAY
            numbers[day] += 1
            calls.append(Ticket(f"T{day:%Y%m%d}-{numbers[day]:0{self.id_width}d}",
                                dt.datetime.combine(day, EARLIER_CALL_TIME) + dt.timedelta(minutes=7 * numbers[day]),
                                customer, "操作咨询", EARLIER_CALL_PROBLEMS[index % len(EARLIER_CALL_PROBLEMS)], "低",
                                "一般", "电话已解决", customer.contact, self.department.hotline.name))
        return sorted(calls, key=lambda t: t.call_time)


def recent_visits(visits: list[Visit], days: list[dt.date], index: int) -> list[Visit]:
    """The engineers' visits on site of the last few working days, which a complaint may be about."""
    lately = set(days[max(0, index - COMPLAINT_LOOKBACK_DAYS): index])
    return [v for v in visits if v.day in lately and v.mode == "上门" and v.staff.role == ENGINEER]


def is_month_end(day: dt.date, month_days: list[dt.date]) -> bool:
    """The last working days of the month are busy (月结/结账)."""
    return day in month_days[-MONTH_END_DAYS:]
