"""The hotline's calls for the plan date P (docs/rules.md § Callbacks): the 17:00 verification of every
customer visited on P, each engineer's monthly spot checks, and enough satisfaction calls that the
month's callback coverage reaches the rule by its last working day, if every list is called on its day.

Pure functions on the ingested tables and the dispatch; nothing here reads or writes a file.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- The month is the month of P, since the calls happen on P. Only callbacks and feedback dated from
  the first of that month up to D count, so when D is the last working day of a month and P the first
  of the next, every count starts fresh at 0 (and a rerun of an old D gives its old lists).
- A customer is done for a kind once a callback of that kind this month has 接通=是; coverage counts
  distinct customers with 接通=是 on any kind. A row with 接通 blank (a list never called) or 否 (nobody
  answered) counts for nothing: the customer may be listed again, behind those never tried.
- "No customer twice in a month" holds for the sampled kinds (月度抽查, 满意度回访): a customer spot-checked
  this month is not spot-checked again for any engineer, and one reached by any callback is not put on
  the satisfaction list. 当日核实 checks visits, so a customer visited on two days is verified on both.
- 当日核实 is one row per customer (the callback's key is date + customer + kind): its 工单号 and 服务代表
  are the customer's first visit on P, and 服务内容 lists every visit of that customer.
- 月度抽查 samples, per service engineer, the customers of that engineer's filled feedback this month,
  at random (seeded by P) so that nobody can predict them, preferring customers not already called at
  17:00 that day. An engineer's quota for the day is ceil(checks still missing / working days left); a
  customer served by two engineers goes to one list only, the engineer with fewer candidates first.
- 满意度回访 counts today's other lists as if they will be reached, then takes ceil(missing / working
  days left) customers not reached this month. Priority: more of the three reasons first (served this
  month, key customer, a complaint no reached callback has followed since), then in that order, then
  the longest since any call, the most recently served, and a random draw seeded by P.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.coerce import day_of
from kis_batch.rules.common import (
    ComplaintRecord,
    complaint_records,
    is_active,
    month_end,
    month_start,
    staff_labels,
    staff_order,
)
from kis_batch.rules.dispatch import DispatchResult
from kis_batch.schema import CALLBACK_KINDS, ENGINEER, SERVICE_FACTS, service_happened
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of, table_rows

VERIFICATION, SPOT_CHECK, SATISFACTION = CALLBACK_KINDS
LIST_COLUMNS = (
    "date", "kind", "customer_id", "customer_name", "contact", "phone", "ticket_id", "staff", "staff_name", "about",
    "reason",
)
# Floating point makes 0.3 × 10 slightly above 3; the target is a count of customers.
_ROUND_DIGITS = 9


@dataclass
class CallbackPlan:
    """The three lists for P (LIST_COLUMNS each) and the month's progress, for run.json and the report."""

    plan_date: dt.date
    verification: pd.DataFrame
    spot_checks: pd.DataFrame
    satisfaction: pd.DataFrame
    figures: dict[str, Any]


Records = dict[str, list[dict[str, Any]]]
# The tables this step reads row by row, and the columns it reads of each (None: all of them).
_READ: dict[str, tuple[str, ...] | None] = {
    "customers": ("customer_id", "customer_name", "contact", "phone", "key_customer"),
    "staff": None,
    "feedback": ("ticket_id", "customer_id", "staff", "service_date", "service_type", *SERVICE_FACTS),
    "callbacks": ("customer_id", "date", "kind", "reached", "staff"),
}


def _records(tables: dict[str, pd.DataFrame]) -> Records:
    """The tables this step reads row by row, converted once (the long call log is read by column)."""
    return {key: table_rows(tables, key, columns) for key, columns in _READ.items()}


def coverage_target(settings: Settings, customers: int) -> int:
    """ceil(coverage × customers): the distinct customers to reach in a month."""
    return math.ceil(round(settings.callback_coverage * customers, _ROUND_DIGITS))


def spot_checks_done(callbacks: list[dict[str, Any]], first: dt.date, upto: dt.date) -> dict[str, set[str]]:
    """Each engineer's spot-checked customers from first to upto: reached 月度抽查 callbacks, counted for
    the callback's 服务代表, the engineer checked. The 回访 lists, the quality report and the manager's
    page all count them so."""
    done: dict[str, set[str]] = defaultdict(set)
    for r in callbacks:
        day = day_of(r["date"])
        if r["kind"] == SPOT_CHECK and r["reached"] is True and r["staff"] and day is not None and first <= day <= upto:
            done[r["staff"]].add(r["customer_id"])
    return done


class _History:
    """What the folder says about one month up to D: who was reached, checked, served, complained."""

    def __init__(self, records: Records, calls: pd.DataFrame, complaints: list[ComplaintRecord], month_of: dt.date,
                 upto: dt.date) -> None:
        self.start = month_start(month_of)
        self.reached: set[str] = set()
        self.spot_done = spot_checks_done(records["callbacks"], self.start, upto)
        self.spot_checked: set[str] = set()
        self.tried: dict[str, set[str]] = defaultdict(set)  # kind -> customers called, nobody answered
        self.last_called: dict[str, dt.date] = {}
        reached_on: dict[str, list[dt.date]] = defaultdict(list)
        for r in records["callbacks"]:
            day = day_of(r["date"])
            if day is None or day > upto or r["reached"] is None:
                continue
            customer = r["customer_id"]
            self.last_called[customer] = max(day, self.last_called.get(customer, day))
            if r["reached"]:
                reached_on[customer].append(day)
            if day < self.start:
                continue
            if not r["reached"]:
                self.tried[r["kind"]].add(customer)
            elif r["kind"] == SPOT_CHECK:
                self.reached.add(customer)
                self.spot_checked.add(customer)
            else:
                self.reached.add(customer)

        # Filled feedback: this month's per engineer (spot checks), and each customer's latest ever.
        self.served: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)  # engineer -> customer -> latest
        self.latest: dict[str, dict[str, Any]] = {}
        # In a fixed order whatever the files' order: two services of one customer on one day are no tie.
        for r in sorted(records["feedback"], key=lambda r: (day_of(r["service_date"]) or dt.date.min, r["ticket_id"] or "",
                                                            r["staff"] or "")):
            day = day_of(r["service_date"])
            if not service_happened(r) or day is None or day > upto:
                continue
            self.latest[r["customer_id"]] = r
            if day >= self.start and r["staff"]:
                self.served[r["staff"]][r["customer_id"]] = r
        self.served_this_month = {c: day_of(r["service_date"]) for c, r in self.latest.items()
                                  if day_of(r["service_date"]) >= self.start}

        self._calls = calls

        # A complaint (its latest record up to D) stays open until a reached callback follows it on a later day.
        latest_complaint: dict[str, dt.date] = {}
        for c in complaints:
            latest_complaint[c.customer_id] = max(c.day, latest_complaint.get(c.customer_id, c.day))
        self.open_complaints = {c: day for c, day in latest_complaint.items()
                                if not any(called > day for called in reached_on.get(c, ()))}

    @functools.cached_property
    def problems(self) -> dict[str, str]:
        """Each ticket's 问题描述, for the few rows a list names (the figures alone need none)."""
        calls = self._calls
        return {ticket: problem for ticket, problem in
                zip(calls["ticket_id"].tolist(), calls["problem"].tolist(), strict=True) if ticket and problem}


def _engineers(records: Records, history: _History) -> list[dict[str, Any]]:
    """Service engineers on duty, and any other who served or was checked this month."""
    return sorted((s for s in records["staff"] if s["role"] == ENGINEER and (
        is_active(s) or history.served.get(s["staff_id"]) or history.spot_done.get(s["staff_id"]))),
        key=lambda s: staff_order(s["staff_id"]))


def callback_figures(tables: dict[str, pd.DataFrame], settings: Settings, month_of: dt.date,
                     upto: dt.date) -> dict[str, Any]:
    """Coverage and spot checks of the month holding `month_of`, counted up to `upto`; the report of
    D may want D's month while the lists for P count P's."""
    records = _records(tables)
    history = _History(records, table_of(tables, "calls"), complaint_records(tables, upto), month_of, upto)
    return _figures(records, settings, history, month_of)


def _figures(records: Records, settings: Settings, history: _History, month_of: dt.date) -> dict[str, Any]:
    customers = {r["customer_id"] for r in records["customers"]}
    reached = len(history.reached & customers)
    return {
        "month": f"{month_of:%Y-%m}",
        "customers": len(customers),
        "coverage_rule": settings.callback_coverage,
        "coverage_target": coverage_target(settings, len(customers)),
        "reached": reached,
        "coverage": round(reached / len(customers), 4) if customers else None,
        "spot_check_target": settings.spot_checks_per_engineer,
        "spot_checks": [
            {"staff_id": s["staff_id"], "name": s["name"], "done": len(history.spot_done.get(s["staff_id"], ())),
             "target": settings.spot_checks_per_engineer, "served": len(history.served.get(s["staff_id"], ()))}
            for s in _engineers(records, history)
        ],
    }


def _random_rank(ids: Iterable[str], plan: dt.date) -> dict[str, int]:
    """A draw seeded by P: the same customers and date always give the same order."""
    order = sorted(set(ids))
    random.Random(plan.toordinal()).shuffle(order)
    return {customer: index for index, customer in enumerate(order)}


def _service_text(r: dict[str, Any], problems: dict[str, str]) -> str:
    """What a callback asks about: "11-26 问题处理·已解决：凭证过账报错"."""
    text = f"{day_of(r['service_date']):%m-%d} " + "·".join(p for p in (r["service_type"], r["result"]) if p)
    problem = problems.get(r["ticket_id"]) if r["ticket_id"] else None
    return f"{text}：{problem}" if problem else text


def _row(plan: dt.date, kind: str, customer: dict[str, Any], ticket: str | None, staff: str | None,
         names: dict[str, str], about: str | None, reason: str | None = None) -> dict[str, Any]:
    return {"date": plan, "kind": kind, "customer_id": customer["customer_id"],
            "customer_name": customer.get("customer_name"), "contact": customer.get("contact"),
            "phone": customer.get("phone"), "ticket_id": ticket, "staff": staff,
            "staff_name": names.get(staff, staff) if staff else None, "about": about, "reason": reason}


def _verification(dispatch: DispatchResult, customers: dict[str, dict[str, Any]],
                  names: dict[str, str]) -> list[dict[str, Any]]:
    """One row per customer dispatched for P, in dispatch order, naming every visit."""
    visits: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in rows_of(dispatch.assignments):
        visits[a["customer_id"]].append(a)
    rows = []
    for customer_id, own in visits.items():
        first = own[0]
        # The first visit is the row's 工单号 and 服务代表; any other visit of the customer is named in full.
        about = "；".join([first["problem"] or "", *(
            f"另{v['ticket_id']} {v['problem'] or ''}（{names.get(v['assignee'], v['assignee'])}）" for v in own[1:])])
        customer = customers.get(customer_id, {"customer_id": customer_id, **{k: first.get(k) for k in
                                                                             ("customer_name", "contact", "phone")}})
        rows.append(_row(dispatch.plan_date, VERIFICATION, customer, first["ticket_id"], first["assignee"], names,
                         about or None))
    return rows


def _spot_checks(engineers: list[dict[str, Any]], history: _History, settings: Settings, days_left: int,
                 verified_today: set[str], rank: dict[str, int], plan: dt.date,
                 customers: dict[str, dict[str, Any]], names: dict[str, str]) -> list[dict[str, Any]]:
    """Each engineer's share of the month's checks still missing, spread over the working days left."""
    target = settings.spot_checks_per_engineer
    wanted: dict[str, int] = {}
    ranked: dict[str, list[str]] = {}
    for s in engineers:
        sid = s["staff_id"]
        missing = max(0, target - len(history.spot_done.get(sid, ())))
        wanted[sid] = math.ceil(missing / days_left)
        candidates = [c for c in history.served.get(sid, {}) if c not in history.spot_checked and c in customers]
        ranked[sid] = sorted(candidates, key=lambda c: (c in verified_today, c in history.tried[SPOT_CHECK],
                                                        rank[c]))
    taken: dict[str, str] = {}
    for sid in sorted(ranked, key=lambda sid: (len(ranked[sid]), staff_order(sid))):
        for customer in [c for c in ranked[sid] if c not in taken][: wanted[sid]]:
            taken[customer] = sid
    rows = []
    count = {sid: len(history.spot_done.get(sid, ())) for sid in ranked}
    for customer, sid in sorted(taken.items(), key=lambda item: (staff_order(item[1]), rank[item[0]])):
        count[sid] += 1
        service = history.served[sid][customer]
        rows.append(_row(plan, SPOT_CHECK, customers[customer], service["ticket_id"], sid, names,
                         _service_text(service, history.problems), f"{names.get(sid, sid)}本月第{count[sid]}/{target}家"))
    return rows


def _satisfaction(history: _History, settings: Settings, days_left: int, listed_today: set[str],
                  rank: dict[str, int], plan: dt.date, customers: dict[str, dict[str, Any]],
                  names: dict[str, str]) -> list[dict[str, Any]]:
    """Enough customers not reached this month to keep coverage on course for the month's end."""
    covered = (history.reached | listed_today) & customers.keys()
    missing = coverage_target(settings, len(customers)) - len(covered)
    if missing <= 0:
        return []

    def priority(c: str) -> tuple[Any, ...]:
        reasons = (c in history.served_this_month, bool(customers[c].get("key_customer")), c in history.open_complaints)
        served = history.served_this_month.get(c)
        return (-sum(reasons), *(not r for r in reasons), history.last_called.get(c, dt.date.min),
                -(served.toordinal() if served else 0), rank[c])

    chosen = sorted((c for c in customers if c not in covered), key=priority)[: math.ceil(missing / days_left)]
    rows = []
    for c in chosen:
        why = []
        if c in history.served_this_month:
            why.append(f"本月服务过{history.served_this_month[c]:%m-%d}")
        if customers[c].get("key_customer"):
            why.append("重点客户")
        if c in history.open_complaints:
            why.append(f"{history.open_complaints[c]:%m-%d}投诉后未回访")
        last = history.last_called.get(c)
        # Not reached this month, so a call this month is one nobody answered.
        if last is None:
            why.append("从未回访")
        else:
            why.append(f"{last:%m-%d}回访未接通" if last >= history.start else f"上次回访{last:%m-%d}")
        service = history.latest.get(c)
        rows.append(_row(plan, SATISFACTION, customers[c], service["ticket_id"] if service else None,
                         service["staff"] if service else None, names,
                         _service_text(service, history.problems) if service else None, "、".join(why)))
    return rows


def _frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(LIST_COLUMNS), dtype=object)


def plan_callbacks(tables: dict[str, pd.DataFrame], dispatch: DispatchResult, settings: Settings,
                   calendar: WorkCalendar, today: dt.date) -> CallbackPlan:
    """The three callback lists for P = dispatch.plan_date, with the month's progress as of D = today."""
    plan = dispatch.plan_date
    days_left = max(1, calendar.count_workdays(plan, month_end(plan)))
    records = _records(tables)
    history = _History(records, table_of(tables, "calls"), complaint_records(tables, today), plan, today)
    customers = {r["customer_id"]: r for r in records["customers"]}
    names = staff_labels(records["staff"])
    rank = _random_rank(customers, plan)

    verification = _verification(dispatch, customers, names)
    verified_today = {r["customer_id"] for r in verification}
    engineers = _engineers(records, history)
    spot = _spot_checks(engineers, history, settings, days_left, verified_today, rank, plan, customers, names)
    listed = verified_today | {r["customer_id"] for r in spot}
    satisfaction = _satisfaction(history, settings, days_left, listed, rank, plan, customers, names)

    figures = _figures(records, settings, history, plan)
    spot_listed = Counter(r["staff"] for r in spot)
    for s in figures["spot_checks"]:
        s["listed"] = spot_listed[s["staff_id"]]
    figures.update({
        "plan_date": plan.isoformat(),
        "verification_time": f"{settings.verification_call_time:%H:%M}",
        "workdays_left": days_left,
        "listed": {"verification": len(verification), "spot_checks": len(spot), "satisfaction": len(satisfaction)},
        "reached_if_all_called": len((history.reached | listed | {r["customer_id"] for r in satisfaction})
                                     & customers.keys()),
    })
    return CallbackPlan(plan, _frame(verification), _frame(spot), _frame(satisfaction), figures)
