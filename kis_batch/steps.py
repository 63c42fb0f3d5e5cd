"""The day's rules composed once: every rule step of a day, each after the results it needs, for the
evening run and the month's close alike, so the 考核 a close records is computed exactly as the
evening's month to date of the same day (docs/rules.md § Monthly close). Nothing here reads or
writes a file, or decides a rule.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.parallel import run_jobs
from kis_batch.rules.callbacks import CallbackPlan, callback_figures, plan_callbacks
from kis_batch.rules.complaints import ComplaintCases, complaint_cases
from kis_batch.rules.customers import CustomerTracking, track_customers
from kis_batch.rules.dispatch import DispatchResult, plan_dispatch
from kis_batch.rules.evaluation import MonthEvaluation, cases_from_complaints, evaluate_month
from kis_batch.rules.fees import FeeReport, fee_status
from kis_batch.rules.month_figures import held_complaints
from kis_batch.rules.projects import ProjectReport, project_report
from kis_batch.rules.quality import QualityReport, quality_report
from kis_batch.rules.quotas import quota_gaps
from kis_batch.rules.scoring import Scores, score_feedback
from kis_batch.rules.suggestions import suggest_visits
from kis_batch.rules.summary import returned_feedback
from kis_batch.settings import Settings


@dataclass(frozen=True)
class Step:
    """One pure computation of a run: the result it gives, the results it needs (passed to compute
    as keyword arguments), and how."""

    name: str
    needs: tuple[str, ...]
    compute: Callable[..., Any]


def step_rounds(steps: list[Step], given: Collection[str] = ()) -> list[list[Step]]:
    """The steps in rounds: each in the first round after every result it needs (given: results
    already computed), so a round's steps need nothing from each other; within a round, in the
    order given (put the longest first)."""
    by_name = {step.name: step for step in steps}
    round_of: dict[str, int] = {}

    def place(step: Step, path: tuple[str, ...]) -> int:
        if step.name in path:
            raise ValueError(f"steps need each other in a cycle: {' → '.join((*path, step.name))}")
        if step.name not in round_of:
            needs = [need for need in step.needs if need not in given]
            unknown = [need for need in needs if need not in by_name]
            if unknown:
                raise ValueError(f"step {step.name} needs {unknown}, which no step gives")
            round_of[step.name] = 1 + max((place(by_name[need], (*path, step.name)) for need in needs), default=-1)
        return round_of[step.name]

    rounds: list[list[Step]] = [[] for _ in range(1 + max((place(step, ()) for step in steps), default=-1))]
    for step in steps:
        rounds[round_of[step.name]].append(step)
    return rounds


def _with_calendar_years(compute: Callable[[], Any], calendar: WorkCalendar) -> tuple[Any, tuple[int, ...]]:
    return compute(), calendar.fallback_years


def split_steps(steps: list[Step], first: Collection[str]) -> tuple[list[Step], list[Step]]:
    """The steps the results named first stand on (those included), and the others; each part in
    the order given. The evening computes the first part, starts writing what it is enough for,
    and computes the rest meanwhile."""
    by_name = {step.name: step for step in steps}
    wanted: set[str] = set()
    waiting = list(first)
    while waiting:
        name = waiting.pop()
        if name not in wanted:
            wanted.add(name)
            waiting.extend(by_name[name].needs)
    return [step for step in steps if step.name in wanted], [step for step in steps if step.name not in wanted]


def compute_steps(steps: list[Step], calendar: WorkCalendar, parallel: bool,
                  given: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every step's result by name, round by round, standing on the results given (computed
    before); on a large run two processes share each round. A worker's calendar is a copy, so each
    step hands back the years it found the library lacks, for the run report to name."""
    results: dict[str, Any] = dict(given or {})
    for steps_now in step_rounds(steps, results.keys()):
        jobs = [partial(_with_calendar_years, partial(step.compute, **{need: results[need] for need in step.needs}),
                        calendar) for step in steps_now]
        for step, (value, years) in zip(steps_now, run_jobs(jobs, parallel=parallel), strict=True):
            calendar.note_fallback_years(years)
            results[step.name] = value
    return {step.name: results[step.name] for step in steps}


@dataclass(frozen=True)
class MonthResults:
    """What a month's 考核 and 月度总结 stand on, every result for the same day; a field per step,
    named as the step."""

    scores: Scores
    fees: FeeReport
    projects: ProjectReport
    quality: QualityReport
    gaps: pd.DataFrame
    customers: CustomerTracking
    complaints: ComplaintCases
    cases: pd.DataFrame  # the complaint cases the 考核 deducts for, with their 责任判定
    evaluation: MonthEvaluation


@dataclass(frozen=True)
class DayResults(MonthResults):
    """Every rule's result for a day D: the month's, and the work for the next working day."""

    returned: tuple[int, int]  # (tickets dispatched for D, of those served on D)
    dispatch: DispatchResult
    month_callbacks: dict[str, Any]  # callback_figures of D's month up to D
    callbacks: CallbackPlan
    suggestions: pd.DataFrame


def day_steps(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar, day: dt.date,
              pins: pd.DataFrame | None = None, history_months: pd.DataFrame | None = None) -> list[Step]:
    """The rule steps of a day, in the order a round takes them. Scores, the largest result, is
    declared first in its round, so the parent process computes it and it is never pickled;
    otherwise the longest first. pins: the manager's and the hotline's placements (Inbox.pins);
    history_months: the history's month_figures rows as the caller read them, for the year-to-date
    tables."""
    plan = calendar.next_workday(day)
    held = held_complaints(history_months, day) if history_months is not None else {}
    return [
        Step("scores", (), partial(score_feedback, tables, settings, calendar, day)),
        Step("returned", (), partial(returned_feedback, tables, settings, calendar, day)),
        Step("dispatch", ("complaints",),
             lambda complaints: plan_dispatch(tables, settings, calendar, day, complaints.open_by_customer(), pins)),
        Step("fees", (), partial(fee_status, tables, settings, day, plan, pins)),
        Step("month_callbacks", (), partial(callback_figures, tables, settings, day, day)),
        Step("projects", (), partial(project_report, tables, settings, calendar, day)),
        Step("callbacks", ("dispatch",), lambda dispatch: plan_callbacks(tables, dispatch, settings, calendar, day)),
        Step("quality", ("scores",), lambda scores: quality_report(tables, scores, settings, calendar, day, held)),
        Step("gaps", ("scores",), lambda scores: quota_gaps(scores, tables, settings, calendar)),
        Step("suggestions", ("dispatch", "gaps", "fees"),
             lambda dispatch, gaps, fees: suggest_visits(tables, dispatch, gaps, fees, day)),
        Step("customers", ("fees",), lambda fees: track_customers(tables, fees, settings, calendar, day)),
        Step("cases", ("complaints",), cases_from_complaints),
        Step("evaluation", ("scores", "gaps", "quality", "fees", "cases"),
             partial(evaluate_month, tables, settings=settings)),
        Step("complaints", ("scores",), lambda scores: complaint_cases(tables, scores.links, settings, calendar, day)),
    ]


def month_results(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                  day: dt.date, history_months: pd.DataFrame | None = None) -> MonthResults:
    """Of the day's steps, only those the month's 考核 and 月度总结 need: a close plans no work."""
    wanted = {field.name for field in dataclasses.fields(MonthResults)}
    steps = [step for step in day_steps(tables, settings, calendar, day, history_months=history_months)
             if step.name in wanted]
    return MonthResults(**compute_steps(steps, calendar, parallel=False))
