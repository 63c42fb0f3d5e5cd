"""The monthly evaluation (docs/rules.md § Monthly close: 月度考核): each service engineer and
implementation specialist out of 100, from the month's own results — the quota counts, the scores,
the callbacks, the quality report's breaches, the fee collection and the complaint cases — so the
考核 never disagrees with the evening's workbooks of the same day.

Pure functions on the rules' results; nothing here reads or writes a file.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- Who is evaluated: the active 服务工程师 and 实施专员 of 员工名单, and the leavers among them who
  served in the month (marked 离职; an engineer's quota pro rata to the days worked, see rules/quotas.py).
- A specialist's task part counts the scored rows with a 处理结果; a visit a callback disproved
  (上门属实=否) stays among them but is never 已解决.
- A callback is about the engineer it names (服务代表), else the customer's 服务代表, as the quality
  report attributes it. No rated callback about the person: the department's share; none in the
  department either: full points (nothing to judge on, like fees with nothing due).
- Parts are kept to two decimals and the total is their sum rounded half up to one decimal, then
  clipped to 0–100; the grade is read from that rounded total, so 89.95 is 90.0 and an A.
- Every complaint case of the month is listed as evidence; only those judged 本部门 deduct.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.rules.common import month_members, month_start, shown_name, staff_order
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.fees import FeeReport
from kis_batch.rules.quality import SATISFIED, QualityReport
from kis_batch.rules.scoring import Scores
from kis_batch.schema import DEPARTMENT_RESPONSIBLE, ENGINEER, IMPLEMENTER, RESOLVED, RESULTS
from kis_batch.settings import Settings
from kis_batch.tables import column_lists, rows_of, table_rows

EVALUATED_ROLES = (ENGINEER, IMPLEMENTER)
GRADES = ("A", "B", "C", "D")
CASE_COLUMNS = ("staff", "responsibility", "filed_on")
PART_KEYS = ("task", "service", "callbacks", "discipline", "fees", "complaints")
# Of a scored row (rules/scoring.py), what a person's evidence keeps: a tuple per row, these values in
# this order. Tuples of the columns shown, not the row's dicts: an HQ month's are 100,000 rows, as
# dicts of every column ~80 MB held to the end of the run.
SCORED_EVIDENCE = ("service_date", "ticket_id", "customer_id", "service_type", "mode", "result", "satisfaction",
                   "computed", "manager_score", "final", "breaches", "disproved")
_RESULT, _FINAL, _DISPROVED = (SCORED_EVIDENCE.index(key) for key in ("result", "final", "disproved"))


@dataclass(frozen=True)
class PersonEvaluation:
    """One person's month: every part, the figures behind it and the rows that are its evidence."""

    staff_id: str
    name: str
    role: str
    # 任务: an engineer's resolutions and visits against the quotas; a specialist's 已解决 share
    task: float
    resolutions: int | None
    resolution_quota: int | None
    visits: int | None
    visit_quota: int | None
    resolved_rows: int | None
    result_rows: int | None
    # 服务评分: the mean final score of the month's scored rows
    service: float
    scored_rows: int
    mean_score: float | None
    # 回访满意: satisfied ÷ rated reached callbacks about them (or the department's share)
    callbacks: float
    callbacks_rated: int
    callbacks_satisfied: int
    callback_rate: float | None
    callbacks_from_department: bool
    # 纪律
    discipline: float
    breach_count: int
    # 年费: the collection this month of the contracts they own
    fees: float
    fees_due: float
    fees_paid: float
    fee_rate: float | None
    # 投诉扣分 (a positive number taken off)
    complaints: float
    complaints_counted: int
    total: float
    grade: str
    rank: int
    # evidence
    feedback: tuple[tuple[Any, ...], ...]  # the scored rows, SCORED_EVIDENCE of each
    breach_list: tuple[dict[str, Any], ...]
    complaint_list: tuple[dict[str, Any], ...]
    callback_list: tuple[dict[str, Any], ...]

    def parts(self) -> dict[str, float]:
        return {key: getattr(self, key) for key in PART_KEYS}


@dataclass(frozen=True)
class MonthEvaluation:
    """The month's 考核 as of a day: everyone in rank order, and the department's callback share."""

    month: str  # YYYY-MM
    as_of: dt.date
    people: tuple[PersonEvaluation, ...]
    department_callback_rate: float | None
    settings: Settings


def as_of_day(month: dt.date, today: dt.date) -> dt.date:
    """The day a month's 考核 stands on: its last day, or D if earlier."""
    following = (month_start(month) + dt.timedelta(days=32)).replace(day=1)
    return min(following - dt.timedelta(days=1), today)


def total_points(parts: dict[str, float]) -> float:
    """The parts added (the complaint deduction taken off), rounded half up to one decimal, 0–100."""
    raw = sum(value for key, value in parts.items() if key != "complaints") - parts.get("complaints", 0.0)
    rounded = float(Decimal(repr(round(raw, 9))).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return min(100.0, max(0.0, rounded))


def grade_of(total: float, settings: Settings) -> str:
    for grade, bound in zip(GRADES, (settings.eval_grade_a, settings.eval_grade_b, settings.eval_grade_c), strict=False):
        if total >= bound:
            return grade
    return GRADES[-1]


def _points(weight: float, share: float) -> float:
    return round(weight * share, 2)


def _ratio(done: int, quota: int) -> float:
    return 1.0 if quota <= 0 else min(1.0, done / quota)


def cases_from_complaints(complaints: ComplaintCases) -> pd.DataFrame:
    """The complaint cases as the evaluation takes them: 被投诉人, the 责任判定 they count under (本部门
    until judged, docs/rules.md § Complaint cases) and the day filed, with what the evidence shows."""
    cases = complaints.cases
    return pd.DataFrame({
        "staff": cases["staff"], "responsibility": cases["counted_responsibility"], "filed_on": cases["filed"],
        "complaint_id": cases["complaint_id"], "customer_id": cases["customer_id"],
        "customer_name": cases["customer_name"], "content": cases["content"],
    }, columns=[*CASE_COLUMNS, "complaint_id", "customer_id", "customer_name", "content"], dtype=object)


def _callbacks_about(tables: dict[str, pd.DataFrame], first: dt.date, as_of: dt.date) -> list[dict[str, Any]]:
    """Reached, rated callbacks of the month, each with the person it is about."""
    owners = {c["customer_id"]: c["owner"] for c in table_rows(tables, "customers", ("customer_id", "owner"))}
    found = []
    for c in table_rows(tables, "callbacks"):
        day = day_of(c["date"])
        if day is None or not first <= day <= as_of or c["reached"] is not True or c["satisfaction"] is None:
            continue
        found.append({**c, "date": day, "about": c["staff"] or owners.get(c["customer_id"]),
                      "satisfied": c["satisfaction"] in SATISFIED})
    return found


def _by_staff(rows: list[dict[str, Any]], key: str) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        grouped.setdefault(r[key], []).append(r)
    return grouped


def _scored_by_staff(rows: pd.DataFrame) -> dict[str, list[tuple[Any, ...]]]:
    """Each person's scored rows as SCORED_EVIDENCE tuples, in the rows' order."""
    grouped: dict[str, list[tuple[Any, ...]]] = {}
    evidence_rows = zip(*column_lists(rows[list(SCORED_EVIDENCE)]), strict=True)
    for staff, evidence in zip(rows["staff"].tolist(), evidence_rows, strict=True):
        grouped.setdefault(staff, []).append(evidence)
    return grouped


def evaluate_month(tables: dict[str, pd.DataFrame], scores: Scores, gaps: pd.DataFrame, quality: QualityReport,
                   fees: FeeReport, cases: pd.DataFrame, settings: Settings) -> MonthEvaluation:
    """Everyone's 考核 for the month of scores.today as of that day (the rules' results must all stand
    on the same day). `cases` has one row per complaint case: staff (被投诉人), responsibility, filed_on."""
    as_of = scores.today
    first = month_start(as_of)
    s = settings
    scored = _scored_by_staff(scores.rows)
    quotas = {g["staff_id"]: g for g in rows_of(gaps)}
    breaches = _by_staff(rows_of(quality.breaches), "staff")
    collection = {c["owner"]: c for c in rows_of(fees.collection) if c["owner"] is not None}
    month_cases = [{**c, "filed_on": day_of(c["filed_on"])} for c in rows_of(cases)
                   if c["filed_on"] is not None and first <= day_of(c["filed_on"]) <= as_of]
    for case in month_cases:
        case["deduction"] = s.eval_complaint_deduction if case["responsibility"] == DEPARTMENT_RESPONSIBLE else 0
    complaints = _by_staff(month_cases, "staff")
    callbacks = _callbacks_about(tables, first, as_of)
    department_rate = (sum(c["satisfied"] for c in callbacks) / len(callbacks)) if callbacks else None
    about = _by_staff(callbacks, "about")

    drafts = []
    for member in month_members(table_rows(tables, "staff"), EVALUATED_ROLES, scored):
        staff_id = member["staff_id"]
        mine = scored.get(staff_id, [])
        task: dict[str, Any] = dict.fromkeys(("resolutions", "resolution_quota", "visits", "visit_quota",
                                              "resolved_rows", "result_rows"))
        if member["role"] == ENGINEER:
            quota = quotas.get(staff_id, {})
            task.update(resolutions=int(quota.get("resolutions_done", 0)),
                        resolution_quota=int(quota.get("resolutions_quota", s.monthly_resolutions)),
                        visits=int(quota.get("visits_done", 0)),
                        visit_quota=int(quota.get("visits_quota", s.monthly_visits)))
            share = (_ratio(task["resolutions"], task["resolution_quota"])
                     + _ratio(task["visits"], task["visit_quota"])) / 2
        else:
            with_result = [r for r in mine if r[_RESULT] in RESULTS]
            resolved = [r for r in with_result if r[_RESULT] == RESOLVED and not r[_DISPROVED]]
            task.update(resolved_rows=len(resolved), result_rows=len(with_result))
            share = len(resolved) / len(with_result) if with_result else 0.0

        finals = [float(r[_FINAL]) for r in mine]
        mean = sum(finals) / len(finals) if finals else None

        rated = about.get(staff_id, [])
        satisfied = sum(c["satisfied"] for c in rated)
        own_rate = satisfied / len(rated) if rated else None
        callback_share = own_rate if rated else (department_rate if department_rate is not None else 1.0)

        broken = breaches.get(staff_id, [])
        owned = collection.get(staff_id)
        due = float(owned["month_due"]) if owned else 0.0
        paid = float(owned["month_paid"]) if owned else 0.0
        fee_rate = paid / due if due else None
        cases_of = complaints.get(staff_id, [])
        counted = sum(1 for c in cases_of if c["deduction"])

        parts = {
            "task": _points(s.eval_task_points, share),
            "service": _points(s.eval_service_points, mean / 100) if mean is not None else 0.0,
            "callbacks": _points(s.eval_callback_points, callback_share),
            "discipline": max(0.0, float(s.eval_discipline_points) - s.eval_breach_deduction * len(broken)),
            "fees": _points(s.eval_fee_points, fee_rate) if fee_rate is not None else float(s.eval_fee_points),
            "complaints": float(s.eval_complaint_deduction * counted),
        }
        total = total_points(parts)
        drafts.append(dict(
            staff_id=staff_id, name=shown_name(member), role=member["role"], **task, **parts,
            scored_rows=len(mine), mean_score=round(mean, 2) if mean is not None else None,
            callbacks_rated=len(rated), callbacks_satisfied=satisfied, callback_rate=own_rate,
            callbacks_from_department=not rated, breach_count=len(broken),
            fees_due=due, fees_paid=paid, fee_rate=fee_rate, complaints_counted=counted,
            total=total, grade=grade_of(total, s),
            feedback=tuple(mine), breach_list=tuple(broken), complaint_list=tuple(cases_of), callback_list=tuple(rated),
        ))
    drafts.sort(key=lambda d: (-d["total"], staff_order(d["staff_id"])))
    people = tuple(PersonEvaluation(**d, rank=rank) for rank, d in enumerate(drafts, 1))
    return MonthEvaluation(f"{as_of:%Y-%m}", as_of, people, department_rate, settings)
