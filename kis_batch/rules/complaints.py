"""Complaint cases (docs/rules.md § Complaint cases: 投诉跟踪_D): every complaint filed as a case and
followed until it is closed, so none is forgotten and those open too long reach the general manager
("对客户投诉进行立案跟踪，并向总经理汇报").

The complaints are the quality report's (rules/quality.complaint_rows): the same grouping of records
and the same engineer, so the two workbooks never count differently. Pure functions on the ingested
tables; the 投诉处理 table holds one row per case already (rules/reconcile.py keeps the newest
statement and says whether the case was reopened or stands in conflict).

Decided here, where the rules are silent (docs/rules.md § Decisions):
- 已过工作日 of a closed case counts up to its 结案日期 (how long it took), of an open one up to D.
- 责任判定 left blank counts as 本部门 and is shown as 未判定 in the counts; the case row keeps the
  cell blank so that a returned sheet does not turn the default into a judgement.
- "This month" for counts: cases filed (立案日期) in D's month; closed this month: 结案日期 in D's month;
  open and overdue: every open case, whatever month it was filed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.rules.common import month_start, staff_order
from kis_batch.rules.complaint_records import complaint_rows
from kis_batch.rules.quality import TOTAL
from kis_batch.rules.scoring import EventLinks
from kis_batch.schema import DEPARTMENT_RESPONSIBLE, RESPONSIBILITIES
from kis_batch.settings import Settings
from kis_batch.tables import table_rows

CASE_PREFIX = "TS"
PENDING, IN_PROGRESS, CLOSED, CONFLICT = "待处理", "处理中", "已结案", "冲突"
STATUSES = (PENDING, IN_PROGRESS, CLOSED, CONFLICT)
# What rules/reconcile.py adds to each 投诉处理 row from the case's other statements (docs/rules.md
# § Returned sheets): how often a closed case was reopened, the day of the reopening that stands
# (None once closed again), whether the newest statements disagree, and how new the counted
# statement is (its date and its file's save time), so a carried row weighs as it did.
REOPENED, REOPENED_ON, CONFLICTED = "reopened", "reopened_on", "conflicted"
STATED_ON, SAVED_AT = "stated_on", "saved_at"
HANDLING_FACTS = (REOPENED, REOPENED_ON, CONFLICTED, STATED_ON, SAVED_AT)
UNJUDGED = "未判定"
RESPONSIBILITY_KEYS = dict(zip(RESPONSIBILITIES, ("department", "headquarters", "customer", "other"), strict=True))

CASE_COLUMNS = (
    "complaint_id", "status", "filed", "workdays", "overdue", "customer_id", "customer_name", "staff", "staff_name",
    "source", "content", "responsibility", "counted_responsibility", "action", "handler", "handler_name", "closed_on",
    "confirmed", "notes", "reopened",
)
RESPONSIBILITY_COLUMNS = ("responsibility", "filed", "unjudged", "open", "overdue", "closed")
ENGINEER_COLUMNS = ("staff", "staff_name", *RESPONSIBILITY_KEYS.values(), "filed", "open", "overdue", "closed")


@dataclass
class ComplaintCases:
    """Every case up to D (CASE_COLUMNS), the three views 投诉跟踪 shows, and the key figures."""

    today: dt.date
    cases: pd.DataFrame  # in order of 投诉编号's first record
    open: pd.DataFrame  # overdue first, then the oldest
    closed_month: pd.DataFrame  # closed in D's month, latest first
    by_responsibility: pd.DataFrame  # the month's cases per 责任判定, then 合计
    by_engineer: pd.DataFrame  # per 被投诉人, then 合计
    figures: dict[str, Any]

    def open_by_customer(self) -> dict[str, str]:
        """Customer → the 投诉编号 of their open case (not 已结案), the most pressing first: the
        re-visits dispatch puts before routine work (docs/rules.md § Dispatch)."""
        cases: dict[str, str] = {}
        for customer, number in zip(self.open["customer_id"].tolist(), self.open["complaint_id"].tolist(), strict=True):
            cases.setdefault(customer, number)
        return cases


def number_cases(complaints: list[dict[str, Any]]) -> list[str]:
    """投诉编号 of complaints in order of first record: "TS" + the first record's date + "-" + 客户编号,
    and "-2", "-3" … for further cases of that customer that day. Depends only on the cases of the
    same customer and day, so it stays the same across runs and when other complaints are added."""
    seen: Counter[tuple[dt.date, str]] = Counter()
    numbers = []
    for complaint in complaints:
        day, customer = complaint["date"], complaint["customer_id"]
        seen[(day, customer)] += 1
        suffix = f"-{seen[(day, customer)]}" if seen[(day, customer)] > 1 else ""
        numbers.append(f"{CASE_PREFIX}{day:%Y%m%d}-{customer}{suffix}")
    return numbers


def numbered_complaints(tables: dict[str, pd.DataFrame], links: EventLinks) -> list[dict[str, Any]]:
    """The quality report's complaints up to D, each with its 投诉编号."""
    complaints = complaint_rows(tables, links)
    return [{**c, "complaint_id": number} for c, number in zip(complaints, number_cases(complaints), strict=True)]


def case_filed_dates(tables: dict[str, pd.DataFrame], links: EventLinks) -> dict[str, dt.date]:
    """Every 投诉编号 up to D (the day of links) with its 立案日期, from the tables alone (for
    checking a returned 投诉处理 sheet)."""
    complaints = complaint_rows(tables, links)
    return {number: c["date"] for c, number in zip(complaints, number_cases(complaints), strict=True)}


def _status(handling: dict[str, Any], today: dt.date) -> str:
    if handling.get(CONFLICTED):
        return CONFLICT
    if handling.get(REOPENED_ON) is not None:
        return IN_PROGRESS
    if handling.get("closed_on") is not None and handling["closed_on"] <= today:
        return CLOSED
    return IN_PROGRESS if handling.get("action") else PENDING


def _case(complaint: dict[str, Any], handling: dict[str, Any], names: dict[str, str], settings: Settings,
          calendar: WorkCalendar, today: dt.date) -> dict[str, Any]:
    status = _status(handling, today)
    until = handling["closed_on"] if status == CLOSED else today
    # A reopened case is overdue counted from its reopening (docs/rules.md § Returned sheets).
    workdays = calendar.workdays_waiting(handling.get(REOPENED_ON) or complaint["date"], until)
    handler = handling.get("handler")
    return {
        "complaint_id": complaint["complaint_id"], "status": status, "filed": complaint["date"],
        "workdays": workdays, "overdue": status != CLOSED and workdays > settings.complaint_overdue_workdays,
        "customer_id": complaint["customer_id"], "customer_name": complaint["customer_name"],
        "staff": complaint["staff"], "staff_name": complaint["staff_name"], "source": complaint["source"],
        "content": complaint["content"], "responsibility": handling.get("responsibility"),
        "counted_responsibility": handling.get("responsibility") or DEPARTMENT_RESPONSIBLE,
        "action": handling.get("action"), "handler": handler, "handler_name": names.get(handler, handler),
        "closed_on": handling.get("closed_on") if status == CLOSED else None,
        "confirmed": handling.get("confirmed"), "notes": handling.get("notes"), "reopened": handling.get(REOPENED) or 0,
    }


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def _tallies(cases: list[dict[str, Any]], today: dt.date) -> dict[str, int]:
    first = month_start(today)
    return {
        "filed": sum(c["filed"] >= first for c in cases),
        "open": sum(c["status"] != CLOSED for c in cases),
        "overdue": sum(bool(c["overdue"]) for c in cases),
        "closed": sum(c["status"] == CLOSED and c["closed_on"] >= first for c in cases),
    }


def _by_responsibility(cases: list[dict[str, Any]], today: dt.date) -> pd.DataFrame:
    first = month_start(today)
    rows = []
    for responsibility in RESPONSIBILITIES:
        mine = [c for c in cases if c["counted_responsibility"] == responsibility]
        unjudged = sum(c["responsibility"] is None and c["filed"] >= first for c in mine)
        rows.append({"responsibility": responsibility, **_tallies(mine, today), "unjudged": unjudged})
    rows.append({"responsibility": TOTAL, **_tallies(cases, today),
                 "unjudged": sum(c["responsibility"] is None and c["filed"] >= first for c in cases)})
    return _frame(rows, RESPONSIBILITY_COLUMNS)


def _by_engineer(cases: list[dict[str, Any]], today: dt.date) -> pd.DataFrame:
    first = month_start(today)
    per_staff: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    for c in cases:
        per_staff[c["staff"]].append(c)

    def row(staff: str | None, name: str | None, mine: list[dict[str, Any]]) -> dict[str, Any]:
        month = Counter(c["counted_responsibility"] for c in mine if c["filed"] >= first)
        return {"staff": staff, "staff_name": name, **{key: month[r] for r, key in RESPONSIBILITY_KEYS.items()},
                **_tallies(mine, today)}

    rows = [row(s, mine[0]["staff_name"], mine) for s, mine in
            sorted(per_staff.items(), key=lambda item: staff_order(item[0] or ""))]
    rows.append(row(None, TOTAL, cases))
    return _frame(rows, ENGINEER_COLUMNS)


def complaint_cases(tables: dict[str, pd.DataFrame], links: EventLinks, settings: Settings, calendar: WorkCalendar,
                    today: dt.date) -> ComplaintCases:
    """Every complaint up to D as a case with its status, age and handling; links are scoring's, as
    the quality report uses them."""
    handling = {h["complaint_id"]: h for h in table_rows(tables, "complaint_handling")}
    names = {s["staff_id"]: s["name"] for s in table_rows(tables, "staff")}
    cases = [_case(c, handling.get(c["complaint_id"], {}), names, settings, calendar, today)
             for c in numbered_complaints(tables, links)]
    first = month_start(today)
    still_open = sorted((c for c in cases if c["status"] != CLOSED),
                        key=lambda c: (not c["overdue"], -c["workdays"], c["filed"], c["complaint_id"]))
    closed = sorted((c for c in cases if c["status"] == CLOSED and c["closed_on"] >= first),
                    key=lambda c: (c["closed_on"], c["complaint_id"]), reverse=True)
    month = [c for c in cases if c["filed"] >= first]
    tallies = _tallies(cases, today)
    figures: dict[str, Any] = {
        "month": f"{today:%Y-%m}",
        "overdue_after_workdays": settings.complaint_overdue_workdays,
        "cases": len(cases),
        "filed_month": tallies["filed"],
        "open": tallies["open"],
        "pending": sum(c["status"] == PENDING for c in cases),
        "in_progress": sum(c["status"] == IN_PROGRESS for c in cases),
        "overdue": tallies["overdue"],
        "closed_month": tallies["closed"],
        "by_responsibility": {key: sum(c["counted_responsibility"] == r for c in month)
                              for r, key in RESPONSIBILITY_KEYS.items()},
        "unjudged_month": sum(c["responsibility"] is None for c in month),
        "overdue_cases": tuple(c["complaint_id"] for c in still_open if c["overdue"]),
    }
    return ComplaintCases(today, _frame(cases, CASE_COLUMNS), _frame(still_open, CASE_COLUMNS),
                          _frame(closed, CASE_COLUMNS), _by_responsibility(cases, today), _by_engineer(cases, today),
                          figures)
