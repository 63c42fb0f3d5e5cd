"""The implementation projects (实施项目) and the returned acceptance checklists (验收单): a dozen
projects across every stage (docs/rules.md § Implementation projects), dated in working days from D."""

from __future__ import annotations

import datetime as dt
import functools
import random
from typing import Any

from kis_batch.calendar import WorkCalendar
from kis_batch.demo.parameters import (
    CHECKED_DAYS_BEFORE,
    FAILED_ITEM,
    FAILED_NOTE,
    FAILED_ROUND,
    NOT_APPLICABLE_ITEM,
    ONE_DAY,
    PROJECT_MANAGER_NAME,
    PROJECT_MODULES,
    PROJECT_SHAPES,
    RULES,
)
from kis_batch.demo.people import Customer, Person
from kis_batch.schema import IMPLEMENTER


def _workday_offset(calendar: WorkCalendar, today: dt.date, back: int | None) -> dt.date | None:
    """The working day `back` working days before today (after it, for a negative back); None stays None."""
    if back is None:
        return None
    day, step = today, (-ONE_DAY if back > 0 else ONE_DAY)
    for _ in range(abs(back)):
        day += step
        while not calendar.is_workday(day):
            day += step
    return day


def _checklist_rows(project_id: str, checklist: str, checked: dt.date | None) -> list[dict[str, Any]]:
    """A returned 验收单: every item 合格 (one 不适用), or one item 不合格 in a failed round."""
    rows = []
    for item in RULES.acceptance_items:
        failed = checklist == FAILED_ROUND and item == FAILED_ITEM
        outcome = "不合格" if failed else ("不适用" if item == NOT_APPLICABLE_ITEM else "合格")
        rows.append({"project_id": project_id, "item": item, "outcome": outcome,
                     "notes": FAILED_NOTE if failed else None, "date": checked, "checked_by": PROJECT_MANAGER_NAME})
    return rows


def project_rows(seed: int, calendar: WorkCalendar, today: dt.date, staff: list[Person],
                 customers: list[Customer]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """实施项目 rows and the returned 验收单 rows. A generator of its own, so the rest of the month is
    the same with or without the projects."""
    rng = random.Random(f"{seed}-projects")
    specialists = [p for p in staff if p.role == IMPLEMENTER]
    workday = functools.partial(_workday_offset, calendar, today)
    chosen = rng.sample(customers, min(len(PROJECT_SHAPES), len(customers)))
    projects: list[dict[str, Any]] = []
    checks: list[dict[str, Any]] = []
    for n, (shape, customer) in enumerate(zip(PROJECT_SHAPES, chosen, strict=False), 1):
        start, planned, live, accepted, acceptance, handed, checklist = shape
        project_id = f"SS{today.year}-{n:03d}"
        projects.append({
            "project_id": project_id, "customer_id": customer.customer_id,
            "specialist": specialists[n % len(specialists)].name,
            "scope": f"{customer.product.split()[0]}：{rng.choice(PROJECT_MODULES)}",
            "start": workday(start), "planned_live": workday(planned), "live": workday(live), "accepted_on": workday(accepted),
            "acceptance": acceptance, "accepted_by": PROJECT_MANAGER_NAME if acceptance else None,
            "handover_to": customer.owner.name if handed is not None else None, "handed_over": workday(handed),
            "notes": None,
        })
        if checklist is not None:
            checks += _checklist_rows(project_id, checklist, workday(CHECKED_DAYS_BEFORE[checklist]))
    return projects, checks
