"""The 投诉处理 the manager recorded this month. Most complaints are judged, handled and closed
within a working day or two; the newest are still open, and one older case is left in progress past
the limit, for the general manager."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.demo.month import MonthLedger
from kis_batch.demo.parameters import (
    CLOSE_AFTER_WORKDAYS,
    COMPLAINT_ACTIONS,
    COMPLAINT_RESPONSIBILITY_EVERY,
    LEFT_OVERDUE_WORKDAYS,
    STILL_NEW_WORKDAYS,
)
from kis_batch.demo.people import Department
from kis_batch.demo.records import Visit
from kis_batch.demo.rows import call_rows, callback_rows, feedback_rows
from kis_batch.rules.complaints import numbered_complaints
from kis_batch.rules.scoring import link_events
from kis_batch.schema import DEPARTMENT_RESPONSIBLE


def _cases(ledger: MonthLedger, feedback: list[Visit], today: dt.date) -> list[dict[str, Any]]:
    """The cases the pipeline files from the month's calls, feedback and callbacks: the same rules
    find them here, from the same rows."""
    callbacks = pd.DataFrame(callback_rows(ledger.callbacks), dtype=object)
    callbacks["complaint"] = callbacks["complaint"] == "是"
    tables = {"calls": pd.DataFrame(call_rows([t for day in ledger.calls.values() for t in day]), dtype=object),
              "feedback": pd.DataFrame(feedback_rows(feedback), dtype=object),
              "callbacks": callbacks}
    return numbered_complaints(tables, link_events(tables, today))


def complaint_handling_rows(ledger: MonthLedger, feedback: list[Visit], department: Department,
                            calendar: WorkCalendar, today: dt.date) -> list[dict[str, Any]]:
    """One row per case old enough to be handled: closed a day or two after it was filed, judged
    mostly the department's fault, handled by the manager or the assistant in turn."""
    cases = _cases(ledger, feedback, today)
    ages = [calendar.workdays_waiting(c["date"], today) for c in cases]
    left_open = max((i for i, age in enumerate(ages) if age >= LEFT_OVERDUE_WORKDAYS), default=None)
    manager = department.manager
    rows = []
    for index, (case, age) in enumerate(zip(cases, ages, strict=True)):
        if age <= STILL_NEW_WORKDAYS:
            continue
        action = COMPLAINT_ACTIONS[index % len(COMPLAINT_ACTIONS)]
        if index == left_open:
            rows.append({"complaint_id": case["complaint_id"], "action": action, "handler": manager.name,
                         "notes": "客户要求总部出具书面说明，等待中"})
            continue
        closed = case["date"]
        for _ in range(CLOSE_AFTER_WORKDAYS[index % len(CLOSE_AFTER_WORKDAYS)]):
            closed = calendar.next_workday(closed)
        responsibility = next((r for n, r in COMPLAINT_RESPONSIBILITY_EVERY.items() if index % n == n - 1),
                              DEPARTMENT_RESPONSIBLE)
        rows.append({"complaint_id": case["complaint_id"], "responsibility": responsibility, "action": action,
                     "handler": department.assistant.name if index % 2 else manager.name,
                     "closed_on": min(closed, today), "confirmed": "是"})
    return rows
