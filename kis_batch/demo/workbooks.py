"""Writing the example month: each ledger into the workbook the clerks would have filled in, laid out
as the blank templates (kis-batch init), with the real writers."""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.demo.complaints import complaint_handling_rows
from kis_batch.demo.fees import fee_rows
from kis_batch.demo.month import MonthDays, MonthLedger, simulate_month
from kis_batch.demo.months import month_firsts
from kis_batch.demo.parameters import CONTRACT_SHARE, DEFAULT_SEED, FEEDBACK_WEEKLY_ABOVE, HANDLING_WEIGHTS, handling_mix
from kis_batch.demo.people import Department, make_customers, make_staff
from kis_batch.demo.projects import project_rows
from kis_batch.demo.records import OpenTickets, Visit
from kis_batch.demo.rows import call_rows, callback_rows, customer_rows, distance_rows, feedback_rows, leave_rows, staff_rows
from kis_batch.render.saving import atomic_book
from kis_batch.render.style import write_table
from kis_batch.render.templates import template_cols, write_template
from kis_batch.rules.common import month_end
from kis_batch.schema import (
    ACCEPTANCE,
    AREA_DISTANCE,
    CALLBACKS,
    CALLS,
    COMPLAINT_HANDLING,
    CUSTOMERS,
    FEEDBACK,
    FEES,
    LEAVE,
    PROJECTS,
    SETTINGS_SHEET,
    STAFF,
    Template,
)


class _Folder:
    """The folder the month is written into, and the files written, in order."""

    def __init__(self, path: Path) -> None:
        path.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.written: list[Path] = []

    def book(self, name: str, sheets: Sequence[tuple[Template, list[dict[str, Any]]]], title: str | None = None) -> None:
        """A workbook laid out as the blank template the clerks filled in."""
        with atomic_book(self.path / name, self.written) as book:
            for template, rows in sheets:
                write_table(book, template.zh, pd.DataFrame(rows), template_cols(template), title=title)

    def settings(self) -> None:
        """The 规则设置 workbook as kis-batch init writes it: every setting at its default."""
        with atomic_book(self.path / "规则设置.xlsx", self.written) as book:
            write_template(book, [SETTINGS_SHEET])


def _feedback_books(ledger: MonthLedger, days: MonthDays, weekly: bool) -> dict[tuple[str, dt.date], list[Visit]]:
    """Each person's feedback per working day (or per week at scale); today's only from those who
    have returned theirs."""
    books: dict[tuple[str, dt.date], list[Visit]] = defaultdict(list)
    week_start: dict[tuple[int, int], dt.date] = {}
    for day in days.so_far:
        week_start.setdefault(day.isocalendar()[:2], day)
    for visit in ledger.visits:
        if visit.day == days.today and visit.staff.staff_id not in ledger.returned_today:
            continue
        period = week_start[visit.day.isocalendar()[:2]] if weekly else visit.day
        books[(visit.staff.name, period)].append(visit)
    return books


def _check_sizes(first: dt.date, today: dt.date, customers: int, engineers: int, specialists: int,
                 calls_per_day: tuple[int, int], contract_share: float) -> None:
    if today < first:
        raise ValueError(f"today {today} is before the month {first:%Y-%m}")
    if customers < 1 or engineers < 1 or specialists < 1 or not 0 < calls_per_day[0] <= calls_per_day[1]:
        raise ValueError("customers, engineers, specialists and calls per day must be positive")
    if not 0 < contract_share <= 1:
        raise ValueError("contract_share must be more than 0 and at most 1")


class _Simulation:
    """The department simulated over its months: the same people and customers, one random stream,
    and the tickets still open at a month's end carried into the next."""

    def __init__(self, seed: int, customers: int, engineers: int, specialists: int, calls_per_day: tuple[int, int],
                 remote_percent: int, contract_share: float) -> None:
        self.seed, self.calls_per_day, self.contract_share = seed, calls_per_day, contract_share
        self.handling = handling_mix(remote_percent)
        self.weekly = engineers > FEEDBACK_WEEKLY_ABOVE
        self.rng = random.Random(seed)
        self.calendar = WorkCalendar()
        self.staff = Department.of(make_staff(self.rng, engineers, specialists))
        self.customers = make_customers(self.rng, customers, self.staff.engineers)
        self.open_tickets = OpenTickets()

    def write_month(self, folder: Path, first: dt.date, today: dt.date, *, starts: bool, over: bool) -> list[Path]:
        """The month's workbooks from its 1st up to and including today; return the files written.
        The month the department starts with keeps an excerpt of the earlier call log
        (热线记录_往月摘录, its history from before it used the tool); a later month has none, the
        tool's own carry-forward brings its open work. A month over has every feedback back."""
        rng, calendar, staff = self.rng, self.calendar, self.staff
        month_days = calendar.month_workdays(first)
        days = MonthDays(month_days, [d for d in month_days if d <= today], today, over)
        ledger = simulate_month(rng, calendar, days, staff, self.customers, self.calls_per_day, self.handling,
                                self.open_tickets)
        out = _Folder(folder)
        out.book("员工名单.xlsx", [(STAFF, staff_rows(staff.staff)), (LEAVE, leave_rows(ledger.leave)),
                                (AREA_DISTANCE, distance_rows())])
        out.book("客户档案.xlsx", [(CUSTOMERS, customer_rows(self.customers))])
        for day, tickets in ledger.calls.items():
            out.book(f"热线记录_{day.isoformat()}.xlsx", [(CALLS, call_rows(tickets))])
        if starts and ledger.earlier_calls:
            out.book("热线记录_往月摘录.xlsx", [(CALLS, call_rows(ledger.earlier_calls))])
        feedback = _feedback_books(ledger, days, self.weekly)
        for (name, period), visits in sorted(feedback.items()):
            out.book(f"服务反馈单_{name}_{period.isoformat()}.xlsx", [(FEEDBACK, feedback_rows(visits))],
                     title=f"服务反馈单  {name}  {period.isoformat()}")
        out.book("年费台账.xlsx", [(FEES, fee_rows(rng, self.customers, today, staff.assistant, self.contract_share))])
        out.book("回访记录.xlsx", [(CALLBACKS, callback_rows(ledger.callbacks))])
        projects, checks = project_rows(self.seed, calendar, today, staff.staff, self.customers)
        out.book("实施项目.xlsx", [(PROJECTS, projects)])
        out.book("验收单.xlsx", [(ACCEPTANCE, checks)])
        returned = [v for visits in feedback.values() for v in visits]
        out.book("投诉处理.xlsx", [(COMPLAINT_HANDLING, complaint_handling_rows(ledger, returned, staff, calendar, today))])
        out.settings()
        return out.written


def write_demo(folder: Path, month: dt.date, today: dt.date, seed: int = DEFAULT_SEED, *, months: int = 1,
               customers: int = 800, engineers: int = 6, specialists: int = 3, calls_per_day: tuple[int, int] = (40, 80),
               remote_percent: int = HANDLING_WEIGHTS["远程处理"], contract_share: float = CONTRACT_SHARE) -> list[Path]:
    """Write a realistic month of example input into folder, from the 1st of month up to and
    including today; return the files written. The same arguments give byte-identical files.
    Files of the same names are replaced and nothing else is touched, so use a fresh folder: an
    earlier demo's other days would disagree with this one.

    With months above 1, that many consecutive months up to month, each into folder/YYYY-MM/ (the
    earlier ones whole, the last up to today), lived the way the department lives them
    (docs/rules.md § A month's life): the tickets open at a month's end are served in the next, and
    only the first month has the excerpt of the earlier call log.

    The scale knobs let a benchmark ask for a large department; beyond FEEDBACK_WEEKLY_ABOVE
    engineers, feedback comes in one workbook per person per week instead of per day. Two more
    shape it: remote_percent of most calls are handled remotely (each a feedback row), and
    contract_share of the customers have a fee contract.
    """
    firsts = month_firsts(month, months)
    _check_sizes(firsts[0], today, customers, engineers, specialists, calls_per_day, contract_share)
    simulation = _Simulation(seed, customers, engineers, specialists, calls_per_day, remote_percent, contract_share)
    if months == 1:
        return simulation.write_month(folder, firsts[0], today, starts=True, over=False)
    written: list[Path] = []
    for first in firsts:
        last = first == firsts[-1]
        written += simulation.write_month(folder / f"{first:%Y-%m}", first, today if last else month_end(first),
                                          starts=first == firsts[0], over=not last)
    return written
