"""Scores for returned feedback (docs/rules.md § Scores): every service of the month of D that happened
(schema.service_happened), up to D, scored by the rubric with each part shown, so an engineer sees where points went and the manager
can overrule a total (经理评分) without hiding what the rubric said.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- Only an on-site visit (服务方式 上门) is bound by phoning ahead and the visit-length limit: a 远程
  or 电话 service gets both parts' points. An on-site visit without both times gets no time points
  and is a breach (the limit cannot be checked), unless its type is exempt. A blank 电话预约 on a
  visit counts as not phoned. When 规则设置 turns 上门前电话预约 off, every row gets those points.
- On time: served on or before the first working day after the reference day, which is the call's
  day or, if later, the day of the ticket's latest earlier 部分解决/未解决 feedback. A visit with no
  ticket, or a ticket with neither a call in the folder nor an earlier feedback, is on time.
- A complaint (a 投诉 call, or a callback with 投诉=是) and a callback with 上门属实=否 belong to the
  customer's latest service that had begun by then (for a callback naming a 工单号 or 服务代表, the
  latest of that ticket or engineer); 上门属实 only ever concerns an on-site visit. Only events up to
  D count. One service loses the complaint deduction once, however many complaints name it (the
  hotline's record and the callback are usually the same complaint), and never goes below 0.
- A blank 客户满意度 scores as 不满意 (0 by default): the form asks for it. Likewise a service that
  happened (到达/离开时间 filled) without 处理结果 is scored like any other, its result part as 未解决
  (0 by default): a 客户拜访 without a result still counts as a visit and is still checked for
  phoning ahead, time and complaints, but earns no result points it did not claim.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.coerce import day_of
from kis_batch.rules.common import (
    CALLBACKS_SOURCE,
    CALLS_SOURCE,
    active_members,
    callback_time,
    complaint_records,
    month_start,
    staff_order,
)
from kis_batch.rules.tickets import UNFINISHED_RESULTS
from kis_batch.schema import (
    ENGINEER,
    FEEDBACK,
    IMPLEMENTER,
    service_happened,
)
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of, table_rows

ONSITE = FEEDBACK.fields["mode"].default  # 上门: the only mode that is a visit
NOT_VERIFIED = "否"
SCORED_ROLES = (ENGINEER, IMPLEMENTER)
# The kinds of breach a scored row can carry (the quality report counts them by kind).
NO_PHONE_AHEAD, OVER_TIME, NOT_VISITED = "未电话预约", "上门超时", "上门不属实"

ROW_COLUMNS = (
    "ticket_id", "service_date", "staff", "customer_id", "service_type", "mode", "result", "satisfaction",
    "phoned_ahead", "arrive", "leave", "minutes", "result_points", "satisfaction_points", "phoned_points",
    "time_points", "due_date", "on_time_points", "complaint", "complaint_points", "disproved", "computed",
    "manager_score", "final", "breaches", "breach_count", "breach_list",
)
ENGINEER_COLUMNS = ("staff", "count", "average", "breaches", "complaints")


@dataclass
class Scores:
    """The month's scored feedback up to D, and each engineer's month so far."""

    today: dt.date
    rows: pd.DataFrame  # ROW_COLUMNS, ordered by service date, engineer, customer
    by_engineer: pd.DataFrame  # ENGINEER_COLUMNS, one row per engineer with feedback or on duty
    links: EventLinks  # complaints and disproved visits tied to services (the quality report reuses them)

    @property
    def today_rows(self) -> pd.DataFrame:
        """The feedback of D itself: what the evening's 评分 sheet opens with."""
        return self.rows[self.rows["service_date"] == self.today]


def _minutes(arrive: dt.time | None, leave: dt.time | None) -> int | None:
    if arrive is None or leave is None:
        return None
    return (dt.datetime.combine(dt.date.min, leave) - dt.datetime.combine(dt.date.min, arrive)).seconds // 60


@dataclass
class Event:
    """A complaint or a disproved visit, with the call or callback row it comes from, tied to the
    service it is about (`service`, an index into EventLinks.services; None when none is found)."""

    customer_id: str
    when: dt.datetime
    text: str
    source: str  # the table it comes from: "calls" or "callbacks"
    record: dict[str, Any]
    ticket_id: str | None = None
    staff: str | None = None
    service: int | None = None


@dataclass
class EventLinks:
    """Services that happened up to D (every month, in scoring order) and the complaints and disproved
    visits up to D, each tied to one of those services where one fits."""

    services: list[dict[str, Any]]
    complaints: list[Event]
    disproved: list[Event]


class _Services:
    """Services that happened up to D, per customer, ordered by when each began, for tying events."""

    def __init__(self, services: list[dict[str, Any]]) -> None:
        self._by_customer: dict[str, list[tuple[dt.datetime, int]]] = defaultdict(list)
        for index, r in enumerate(services):
            began = dt.datetime.combine(r["service_date"], r["arrive"] or dt.time.min)
            self._by_customer[r["customer_id"]].append((began, index))
        for entries in self._by_customer.values():
            entries.sort()
        self._services = services

    def tie(self, event: Event, onsite_only: bool = False) -> int | None:
        """The index of the latest service of the event's customer begun by the event's time."""
        entries = self._by_customer.get(event.customer_id, [])
        for _, index in reversed(entries[: bisect.bisect_right(entries, (event.when, len(self._services)))]):
            r = self._services[index]
            if event.ticket_id and r["ticket_id"] != event.ticket_id:
                continue
            if event.staff and r["staff"] != event.staff:
                continue
            if onsite_only and r["mode"] != ONSITE:
                continue
            return index
        return None


def _events(tables: dict[str, pd.DataFrame], today: dt.date) -> tuple[list[Event], list[Event]]:
    """Complaints (common.complaint_records) and disproved visits (上门属实=否), up to D."""
    complaints: list[Event] = []
    disproved: list[Event] = []
    for c in complaint_records(tables, today):
        if c.source == CALLS_SOURCE:
            complaints.append(Event(c.customer_id, c.when, f"热线投诉 {c.day:%m-%d} {c.record['ticket_id']}", c.source,
                                    c.record))
        else:
            complaints.append(Event(c.customer_id, c.when, f"回访投诉 {c.day:%m-%d}", c.source, c.record,
                                    c.record["ticket_id"], c.record["staff"]))
    for callback in table_rows(tables, "callbacks"):
        day = day_of(callback["date"])
        if callback["verified"] == NOT_VERIFIED and day is not None and day <= today:
            disproved.append(Event(callback["customer_id"], callback_time(day), f"回访核实未上门 {day:%m-%d}",
                                   CALLBACKS_SOURCE, callback, callback["ticket_id"], callback["staff"]))
    return complaints, disproved


def _on_time_references(calls: pd.DataFrame, services: list[dict[str, Any]]) -> tuple[
        dict[str, dt.date], dict[str, list[dt.date]]]:
    """Per ticket served: the call's day, and the sorted days of its 部分解决/未解决 feedback."""
    served = calls[calls["ticket_id"].isin({r["ticket_id"] for r in services})]
    called = {ticket: day_of(when) for ticket, when in zip(served["ticket_id"].tolist(), served["call_time"].tolist(),
                                                            strict=True) if when is not None}
    unfinished: dict[str, list[dt.date]] = defaultdict(list)
    for r in services:
        if r["ticket_id"] and r["result"] in UNFINISHED_RESULTS:
            unfinished[r["ticket_id"]].append(r["service_date"])
    for days in unfinished.values():
        days.sort()
    return called, unfinished


def _due_date(r: dict[str, Any], called: dict[str, dt.date], unfinished: dict[str, list[dt.date]],
              next_workday: Callable[[dt.date], dt.date]) -> dt.date | None:
    """The last on-time day for this service, or None when nothing says when it was asked for."""
    ticket = r["ticket_id"]
    if not ticket:
        return None
    earlier = unfinished.get(ticket, [])
    earlier = earlier[: bisect.bisect_left(earlier, r["service_date"])]
    references = ([called[ticket]] if ticket in called else []) + earlier[-1:]
    return next_workday(max(references)) if references else None


@dataclass(frozen=True)
class ChoicePart:
    """A part of the rubric scored by the choice made in one feedback column: each choice word's points
    are the setting named beside it (评分_<word> in 规则设置)."""

    column: str  # the feedback column holding the choice
    settings: dict[str, str]  # choice word -> the Settings field holding its points
    blank: str  # the choice word a blank (or unknown) cell scores as

    def points(self, settings: Settings) -> dict[str, float]:
        return {choice: getattr(settings, key) for choice, key in self.settings.items()}

    def score(self, row: dict[str, Any], points: dict[str, float]) -> float:
        return points.get(row[self.column], points[self.blank])


# The rubric's choice parts by their column in the scored rows (docs/rules.md § Scores). A blank 处理结果
# (a service that happened without one) scores as 未解决, a blank 客户满意度 as 不满意: the form asks for both.
CHOICE_PARTS = {
    "result_points": ChoicePart("result", {"已解决": "score_resolved", "部分解决": "score_partial",
                                           "未解决": "score_unresolved"}, blank="未解决"),
    "satisfaction_points": ChoicePart("satisfaction", {"非常满意": "score_very_satisfied", "满意": "score_satisfied",
                                                       "一般": "score_neutral", "不满意": "score_unsatisfied"},
                                      blank="不满意"),
}


def _choice_points(settings: Settings) -> dict[str, dict[str, float]]:
    """Each choice part's points per choice word under these settings."""
    return {name: part.points(settings) for name, part in CHOICE_PARTS.items()}


def _score_row(r: dict[str, Any], settings: Settings, points: dict[str, dict[str, float]],
               due: dt.date | None, complaints: list[str], disproved: list[str]) -> dict[str, Any]:
    """One row's breakdown, total and breaches."""
    onsite = r["mode"] == ONSITE
    minutes = _minutes(r["arrive"], r["leave"]) if onsite else None
    exempt = r["service_type"] in settings.visit_time_exempt_types
    breaches: list[tuple[str, str]] = []  # (kind, in words)

    phoned = not (onsite and settings.phone_ahead_required) or r["phoned_ahead"] is True
    if not phoned:
        breaches.append((NO_PHONE_AHEAD, "未电话预约" if r["phoned_ahead"] is False else "电话预约未填"))
    within = not onsite or exempt or (minutes is not None and minutes <= settings.max_visit_minutes)
    if not within:
        breaches.append((OVER_TIME, f"上门{minutes}分钟，超过{settings.max_visit_minutes}分钟" if minutes is not None
                         else "上门未填到达/离开时间"))
    if disproved:
        breaches.append((NOT_VISITED, "上门不属实（" + "；".join(disproved) + "）"))

    parts = {
        **{name: part.score(r, points[name]) for name, part in CHOICE_PARTS.items()},
        "phoned_points": settings.score_phoned_ahead if phoned else 0,
        "time_points": settings.score_within_time if within else 0,
        "on_time_points": settings.score_on_time if due is None or r["service_date"] <= due else 0,
    }
    deduction = settings.complaint_deduction if complaints else 0
    computed = 0 if disproved else max(0, sum(parts.values()) - deduction)
    manager = r["manager_score"]
    return {
        **{key: r[key] for key in ("ticket_id", "service_date", "staff", "customer_id", "service_type", "mode",
                                   "result", "satisfaction", "phoned_ahead", "arrive", "leave", "manager_score")},
        **parts,
        "minutes": minutes,
        "due_date": due,
        "complaint": "；".join(complaints) or None,
        "complaint_points": deduction,
        "disproved": bool(disproved),
        "computed": computed,
        "final": computed if manager is None else manager,
        "breaches": "；".join(text for _, text in breaches) or None,
        "breach_count": len(breaches),
        "breach_list": tuple(breaches),
    }


def _by_engineer(rows: pd.DataFrame, staff: pd.DataFrame) -> pd.DataFrame:
    """Month to date per engineer: everyone who has feedback, and every engineer on duty (0 so far)."""
    on_duty = [s["staff_id"] for s in active_members(rows_of(staff), SCORED_ROLES)]
    people = sorted(set(on_duty) | set(rows["staff"]), key=staff_order)
    summary = []
    by_person = dict(list(rows.groupby("staff", sort=False))) if len(rows) else {}
    nobody = rows.iloc[:0]
    for person in people:
        mine = by_person.get(person, nobody)
        summary.append({
            "staff": person,
            "count": len(mine),
            "average": round(float(pd.to_numeric(mine["final"]).mean()), 1) if len(mine) else None,
            "breaches": int(mine["breach_count"].sum()),
            "complaints": int((mine["complaint_points"] > 0).sum()),
        })
    return pd.DataFrame(summary, columns=list(ENGINEER_COLUMNS), dtype=object)


def link_events(tables: dict[str, pd.DataFrame], today: dt.date) -> EventLinks:
    """Tie every complaint and disproved visit up to D to the service it is about, so the scores and
    the quality report blame the same visit."""
    services = [r for r in rows_of(table_of(tables, "feedback"))
                if service_happened(r) and r["service_date"] is not None and day_of(r["service_date"]) <= today]
    for r in services:  # rows_of's own dicts: the day of a date-time kept in place
        r["service_date"] = day_of(r["service_date"])
    services.sort(key=lambda r: (r["service_date"], staff_order(r["staff"]), r["customer_id"], r["ticket_id"] or ""))
    index = _Services(services)
    complaints, disproved = _events(tables, today)
    for event in complaints:
        event.service = index.tie(event)
    for event in disproved:
        event.service = index.tie(event, onsite_only=True)
    return EventLinks(services, complaints, disproved)


def score_feedback(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                   today: dt.date, links: EventLinks | None = None) -> Scores:
    """Score every service of D's month up to D that happened; the rest are not done yet. links:
    link_events of these tables and D, where the caller has them already."""
    calls = table_of(tables, "calls")
    links = link_events(tables, today) if links is None else links
    services = links.services
    complaints: dict[int, list[str]] = defaultdict(list)
    disproved: dict[int, list[str]] = defaultdict(list)
    for event in links.complaints:
        if event.service is not None:
            complaints[event.service].append(event.text)
    for event in links.disproved:
        if event.service is not None:
            disproved[event.service].append(event.text)

    called, unfinished = _on_time_references(calls, services)
    first = month_start(today)
    points = _choice_points(settings)
    next_workday = functools.lru_cache(maxsize=None)(calendar.next_workday)  # a month's rows share a few days
    scored = [
        _score_row(r, settings, points, _due_date(r, called, unfinished, next_workday), complaints[i], disproved[i])
        for i, r in enumerate(services) if r["service_date"] >= first
    ]
    rows = pd.DataFrame(scored, columns=list(ROW_COLUMNS), dtype=object)
    return Scores(today, rows, _by_engineer(rows, table_of(tables, "staff")), links)
