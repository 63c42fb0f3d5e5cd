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
from kis_batch.parallel import WORKER_CHECK_S, SharedJobs, fork_context
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
from kis_batch.rules.tickets import open_tickets
from kis_batch.settings import Settings
from kis_batch.tables import table_of


@dataclass(frozen=True)
class Step:
    """One pure computation of a run: the result it gives, the results it needs (passed to compute
    as keyword arguments), and how."""

    name: str
    needs: tuple[str, ...]
    compute: Callable[..., Any]
    large: bool = False  # holds much memory while it runs: not beside another large step (parallel._Claims)


def check_needs(steps: list[Step], given: Collection[str] = ()) -> None:
    """Refuses steps that need a result no step gives (given: results already computed), or that
    need each other in a cycle."""
    names = {step.name for step in steps} | set(given)
    for step in steps:
        unknown = [need for need in step.needs if need not in names]
        if unknown:
            raise ValueError(f"step {step.name} needs {unknown}, which no step gives")
    done, waiting = set(given), list(steps)
    while waiting:
        ready = [step for step in waiting if all(need in done for need in step.needs)]
        if not ready:
            raise ValueError(f"steps need each other in a cycle: {', '.join(step.name for step in waiting)}")
        done.update(step.name for step in ready)
        waiting = [step for step in waiting if step.name not in done]


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
        if name not in wanted and name in by_name:  # not a step: a result given
            wanted.add(name)
            waiting.extend(by_name[name].needs)
    return [step for step in steps if step.name in wanted], [step for step in steps if step.name not in wanted]


def compute_steps(steps: list[Step], calendar: WorkCalendar, parallel: bool,
                  given: Mapping[str, Any] | None = None, here: Collection[str] = (),
                  share_after: str | None = None) -> dict[str, Any]:
    """Every step's result by name, standing on the results given (computed before). Each step runs
    once what it needs is computed; of the steps ready, this process takes the first in the order
    given. On a large run a forked worker takes the other steps ready at its start, and those that
    stand only on them, while this process goes on with the steps that stand on its own results,
    then helps with those the worker has not begun: no step waits for a slower one it does not
    need. Once the worker has taken all it could, the next one takes the steps ready then. here:
    steps only this process computes (on a run where a worker's start would cost more than they
    take); share_after: the step before which no worker starts (a small run's first worker is worth
    its start only once the longest job is ready). A worker's calendar is a copy, so each step hands
    back the years it found the library lacks, for the run report to name."""
    results: dict[str, Any] = dict(given or {})
    check_needs(steps, results.keys())
    context = fork_context() if parallel else None
    shared: SharedJobs[tuple[Any, tuple[int, ...]]] | None = None
    shared_steps: list[Step] = []

    def keep(step: Step, outcome: tuple[Any, tuple[int, ...]]) -> None:
        value, years = outcome
        calendar.note_fallback_years(years)
        results[step.name] = value

    def may_run_here(index: int) -> bool:
        return all(need in results for need in shared_steps[index].needs)

    try:
        while True:
            held = {step.name for step in shared_steps} if shared is not None else set()
            waiting = [step for step in steps if step.name not in results and step.name not in held]
            if not waiting and shared is None:
                break
            ready = [step for step in waiting if all(need in results for need in step.needs)]
            shareable = [step for step in ready[1:] if step.name not in here]
            if shared is None and context is not None and shareable and (share_after is None or share_after in results):
                shared_steps = _with_what_stands_on_them(shareable, [s for s in waiting if s is not ready[0]],
                                                         results.keys(), here)
                ready = ready[:1]
                position = {step.name: index for index, step in enumerate(shared_steps)}
                shared = SharedJobs([_job(step, results, calendar) for step in shared_steps], context,
                                    [tuple(position[need] for need in step.needs if need in position)
                                     for step in shared_steps], [step.large for step in shared_steps])
            came: list[int] = []
            if ready:
                keep(ready[0], _job(ready[0], results, calendar)())
            elif shared is not None and (taken := shared.take(may_run_here)) is not None:
                came.append(taken)
            elif shared is not None:
                came += shared.arrived(WORKER_CHECK_S)  # nothing to do here but wait for the worker
            if shared is not None:
                for index in [*came, *shared.arrived()]:
                    keep(shared_steps[index], shared.found[index])
                if shared.complete or shared.worker_ended:  # what the worker could not take is this process's
                    shared.close()
                    shared = None
    finally:
        if shared is not None:
            shared.close()
    return {step.name: results[step.name] for step in steps}


def _with_what_stands_on_them(shared: list[Step], waiting: list[Step], computed: Collection[str],
                              here: Collection[str]) -> list[Step]:
    """The steps ready for a worker, then, in order, the waiting steps that stand only on what is
    computed and on those, where another step waits for them: the worker keeps what it computes, so
    it goes on with them unaided. A step nobody waits for (a workbook) is left for the next worker,
    forked with the longest ones ready then, rather than lengthening this one's list."""
    chosen = list(shared)
    theirs = {step.name for step in chosen}
    awaited = {need for step in waiting for need in step.needs}
    for step in waiting:
        if step.name not in theirs and step.name not in here and step.name in awaited and all(
                need in computed or need in theirs for need in step.needs):
            chosen.append(step)
            theirs.add(step.name)
    return chosen


def _job(step: Step, results: dict[str, Any], calendar: WorkCalendar) -> Callable[[], tuple[Any, tuple[int, ...]]]:
    """A step run where it is taken, its needs looked up then: a worker's earlier steps are in its
    own results. The result is kept there too."""
    def run() -> tuple[Any, tuple[int, ...]]:
        outcome = _with_calendar_years(partial(step.compute, **{need: results[need] for need in step.needs}), calendar)
        results[step.name] = outcome[0]
        return outcome
    return run


@dataclass(frozen=True)
class MonthResults:
    """What a month's 考核 and 月度总结 stand on, every result for the same day; a field per step,
    named as the step."""

    scores: Scores
    tickets: pd.DataFrame  # the open tickets on the day (rules/tickets.py)
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


# The result of the checks after reading that need the rules' answers (rules/reconcile.py), which
# the steps reading what they change stand on.
RECONCILED = "reconciled"
# The results a month's 考核 and 月度总结 stand on, and every result of a day, by step name.
MONTH_RESULTS = tuple(field.name for field in dataclasses.fields(MonthResults))
DAY_RESULTS = tuple(field.name for field in dataclasses.fields(DayResults))


def day_steps(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar, day: dt.date,
              pins: pd.DataFrame | None = None, history_months: pd.DataFrame | None = None) -> list[Step]:
    """The rule steps of a day, in the order this process takes them when several are ready
    (compute_steps): scores first, the largest result, so the parent process computes it and it is
    never pickled; then the chain tomorrow's work waits on (tickets, complaints, dispatch,
    callbacks); then what the month's 考核 waits on, the longest first; customer tracking, which no
    step waits on, late, so the worker takes it while this process computes the 考核. pins: the
    manager's and the hotline's placements (Inbox.pins); history_months: the history's
    month_figures rows as the caller read them, for the year-to-date tables.

    The steps that read what the checks after reading change (投诉处理, the 验收单: rules/reconcile.py)
    stand on RECONCILED, that check's result (the day's complaints tied to their services, where it
    tied them): the evening runs it as a step, so the others need not wait for it; a close, on
    tables already checked, is given None and scoring ties the complaints as of its own day."""
    plan = calendar.next_workday(day)
    held = held_complaints(history_months, day) if history_months is not None else {}
    return [
        Step("scores", (RECONCILED,), lambda reconciled: score_feedback(tables, settings, calendar, day, reconciled)),
        Step("tickets", (), partial(open_tickets, table_of(tables, "calls"), table_of(tables, "feedback"), calendar, day)),
        Step("complaints", ("scores",), lambda scores: complaint_cases(tables, scores.links, settings, calendar, day)),
        Step("dispatch", ("complaints", "tickets"),
             lambda complaints, tickets: plan_dispatch(tables, settings, calendar, day, complaints.open_by_customer(),
                                                       pins, tickets)),
        Step("callbacks", ("dispatch",), lambda dispatch: plan_callbacks(tables, dispatch, settings, calendar, day)),
        Step("returned", (), partial(returned_feedback, tables, settings, calendar, day)),
        Step("fees", (), partial(fee_status, tables, settings, day, plan, pins)),
        Step("month_callbacks", (), partial(callback_figures, tables, settings, day, day)),
        Step("quality", ("scores",), lambda scores: quality_report(tables, scores, settings, calendar, day, held)),
        Step("gaps", ("scores",), lambda scores: quota_gaps(scores, tables, settings, calendar)),
        Step("cases", ("complaints",), cases_from_complaints),
        Step("evaluation", ("scores", "gaps", "quality", "fees", "cases"),
             partial(evaluate_month, tables, settings=settings)),
        Step("suggestions", ("dispatch", "gaps", "fees"),
             lambda dispatch, gaps, fees: suggest_visits(tables, dispatch, gaps, fees, day)),
        Step("customers", ("fees", "tickets"), lambda fees, tickets: track_customers(tables, fees, tickets, settings, day)),
        Step("projects", (RECONCILED,), lambda reconciled: project_report(tables, settings, calendar, day)),
    ]


def month_results(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                  day: dt.date, history_months: pd.DataFrame | None = None) -> MonthResults:
    """Of the day's steps, only those the month's 考核 and 月度总结 need: a close plans no work."""
    steps, _ = split_steps(day_steps(tables, settings, calendar, day, history_months=history_months), MONTH_RESULTS)
    return MonthResults(**compute_steps(steps, calendar, parallel=False, given={RECONCILED: None}))
