"""The one place that sequences a run: read the folder, compute every result (pure), then write
every workbook and the manifest. Nothing here decides a rule or formats a cell.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from kis_batch import history
from kis_batch.calendar import WorkCalendar, fallback_message
from kis_batch.close import ClosedMonth, evaluate_as_of, month_cases, month_to_close, record_history, write_close
from kis_batch.figures import (
    CallbackFigures,
    ComplaintFigures,
    CustomerFigures,
    DispatchFigures,
    FeeFigures,
    ProjectFigures,
    QualityFigures,
    RunFigures,
    SuggestionFigures,
)
from kis_batch.ingest import Inbox, Progress, load_folder
from kis_batch.lock import run_lock
from kis_batch.outputs import day_folder
from kis_batch.parallel import PARALLEL_COMPUTE_FROM_BYTES, PARALLEL_FROM_BYTES, run_jobs
from kis_batch.problems import Code, Problem, Severity, count
from kis_batch.render.callbacks import write_callbacks
from kis_batch.render.complaints import write_complaints
from kis_batch.render.customers import write_customers
from kis_batch.render.dispatch import dispatch_sheets, write_dispatch_overview, write_person_sheets
from kis_batch.render.fees import write_fees
from kis_batch.render.mail_roster import write_mail_roster
from kis_batch.render.manager import write_manager
from kis_batch.render.manifest import write_manifest
from kis_batch.render.projects import write_projects
from kis_batch.render.quality import write_quality
from kis_batch.render.quotas import write_quotas
from kis_batch.render.report import write_report
from kis_batch.render.scores import write_scores
from kis_batch.rules.callbacks import callback_figures, plan_callbacks
from kis_batch.rules.complaints import complaint_cases
from kis_batch.rules.customers import track_customers
from kis_batch.rules.dispatch import plan_dispatch
from kis_batch.rules.evaluation import as_of_day, evaluate_month
from kis_batch.rules.fees import fee_status
from kis_batch.rules.monthly_summary import summary_figures
from kis_batch.rules.projects import project_report
from kis_batch.rules.quality import quality_report
from kis_batch.rules.quotas import quota_gaps
from kis_batch.rules.scoring import score_feedback
from kis_batch.rules.suggestions import suggest_visits
from kis_batch.rules.summary import manager_summary, returned_feedback
from kis_batch.settings import Settings

# The name style.replace_file gives an output whose target was locked: 名称(1).xlsx
RELOCATED = re.compile(r"\(\d+\)(\.\w+)$")


@dataclass
class RunResult:
    today: dt.date
    plan_date: dt.date
    out_dir: Path
    inbox: Inbox
    figures: RunFigures
    outputs: list[Path] = field(default_factory=list)
    closed_outputs: list[Path] = field(default_factory=list)  # its 月度考核, in OUT/YYYY-MM/

    @property
    def closed_month(self) -> str | None:
        """The month before, when this run closed it (docs/rules.md § Monthly close)."""
        return self.figures.closed_month

    @property
    def errors(self) -> int:
        return count(self.inbox.problems, Severity.ERROR)

    @property
    def exit_code(self) -> int:
        """docs/rules.md § Bad input: 0 clean, 1 errors reported (2, a run that could not complete, is the CLI's)."""
        return 1 if self.errors else 0


def check(folder: Path, today: dt.date, base: Settings | None = None, progress: Progress | None = None,
          out_root: Path | None = None) -> Inbox:
    """Validate only: the folder read and checked, with the calendar's warnings added; out_root,
    where a run would write, is left unread if it lies inside the folder, as a run leaves it."""
    inbox = load_folder(folder, today, base, progress, out_root)
    calendar = WorkCalendar.from_settings(inbox.settings)
    calendar.next_workday(today)
    _calendar_warnings(inbox, calendar)
    return inbox


def _calendar_warnings(inbox: Inbox, calendar: WorkCalendar) -> None:
    if calendar.fallback_years:
        inbox.problems.append(Problem(Code.CALENDAR, Severity.WARNING, fallback_message(calendar.fallback_years)))


def _clean_stale_temporaries(out_dir: Path) -> None:
    """Half-written files of a run that was killed; safe to remove while holding the lock."""
    for stale in out_dir.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


def _note_relocated(inbox: Inbox, outputs: list[Path]) -> None:
    """An output held open (Excel on Windows) was saved under another name: say so."""
    for path in outputs:
        if RELOCATED.search(path.name):
            original = RELOCATED.sub(r"\1", path.name)
            inbox.problems.append(Problem(Code.OUTPUT_LOCKED, Severity.WARNING,
                                          f"{original} 被占用（可能正在Excel中打开），本次结果已另存为 {path.name}；关闭后重新运行即可",
                                          file=path.name))


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A run holds every input value, and the steps build a dict per row they read, until the end;
    Python's cycle collector would walk them all again every few thousand allocations (a fifth of
    an HQ-scale run). The run makes little cyclic garbage, so the collector waits until it is over."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@dataclass(frozen=True)
class Step:
    """One pure computation of a run: the result it gives, the results it needs (passed to compute
    as keyword arguments), and how."""

    name: str
    needs: tuple[str, ...]
    compute: Callable[..., Any]


def step_rounds(steps: list[Step]) -> list[list[Step]]:
    """The steps in rounds: each in the first round after every result it needs, so a round's steps
    need nothing from each other; within a round, in the order given (put the longest first)."""
    by_name = {step.name: step for step in steps}
    round_of: dict[str, int] = {}

    def place(step: Step, path: tuple[str, ...]) -> int:
        if step.name in path:
            raise ValueError(f"steps need each other in a cycle: {' → '.join((*path, step.name))}")
        if step.name not in round_of:
            unknown = [need for need in step.needs if need not in by_name]
            if unknown:
                raise ValueError(f"step {step.name} needs {unknown}, which no step gives")
            round_of[step.name] = 1 + max((place(by_name[need], (*path, step.name)) for need in step.needs), default=-1)
        return round_of[step.name]

    rounds: list[list[Step]] = [[] for _ in range(1 + max((place(step, ()) for step in steps), default=-1))]
    for step in steps:
        rounds[round_of[step.name]].append(step)
    return rounds


def _with_calendar_years(compute: Callable[[], Any], calendar: WorkCalendar) -> tuple[Any, tuple[int, ...]]:
    return compute(), calendar.fallback_years


def compute_steps(steps: list[Step], calendar: WorkCalendar, parallel: bool) -> dict[str, Any]:
    """Every step's result by name, round by round; on a large run two processes share each round.
    A worker's calendar is a copy, so each step hands back the years it found the library lacks,
    for the run report to name."""
    results: dict[str, Any] = {}
    for steps_now in step_rounds(steps):
        jobs = [partial(_with_calendar_years, partial(step.compute, **{need: results[need] for need in step.needs}),
                        calendar) for step in steps_now]
        for step, (value, years) in zip(steps_now, run_jobs(jobs, parallel=parallel), strict=True):
            calendar.note_fallback_years(years)
            results[step.name] = value
    return results


def _written_by(writer: Callable[..., None]) -> list[Path]:
    """The files one output writer wrote, returned (from a worker process too) instead of appended."""
    written: list[Path] = []
    writer(written=written)
    return written


def run(folder: Path, today: dt.date, out_root: Path, base: Settings | None = None,
        progress: Progress | None = None, now: dt.datetime | None = None) -> RunResult:
    """Read the folder, compute tomorrow's work and today's figures, write OUT/D/."""
    with _no_cycle_collection():
        return _run(folder, today, out_root, base, progress, now)


def _run(folder: Path, today: dt.date, out_root: Path, base: Settings | None,
         progress: Progress | None, now: dt.datetime | None) -> RunResult:
    inbox = load_folder(folder, today, base, progress, out_root)
    calendar = WorkCalendar.from_settings(inbox.settings)
    plan = calendar.next_workday(today)
    tables, settings = inbox.tables, inbox.settings
    input_bytes = sum(f.size for f in inbox.files)
    # Scores, the largest result, is declared first in its round, so this process computes it and
    # it is never pickled; otherwise the longest first.
    steps = [
        Step("scores", (), partial(score_feedback, tables, settings, calendar, today)),
        Step("returned", (), partial(returned_feedback, inbox, calendar, today)),
        Step("dispatch", ("complaints",), partial(plan_dispatch, tables, settings, calendar, today, pins=inbox.pins)),
        Step("fees", (), partial(fee_status, tables, settings, today, plan, inbox.pins)),
        Step("month_callbacks", (), partial(callback_figures, tables, settings, today, today)),
        Step("projects", (), partial(project_report, tables, settings, calendar, today)),
        Step("callbacks", ("dispatch",),
             lambda dispatch: plan_callbacks(tables, dispatch, settings, calendar, today)),
        Step("quality", ("scores",), lambda scores: quality_report(tables, scores, settings, calendar, today)),
        Step("gaps", ("scores",), lambda scores: quota_gaps(scores, tables, settings, calendar)),
        Step("suggestions", ("dispatch", "gaps", "fees"),
             lambda dispatch, gaps, fees: suggest_visits(tables, dispatch, gaps, fees, today)),
        Step("customers", ("fees",), lambda fees: track_customers(tables, fees, settings, calendar, today)),
        Step("cases", ("complaints",), month_cases),
        Step("evaluation", ("scores", "gaps", "quality", "fees", "cases"),
             partial(evaluate_month, tables, settings=settings)),
        Step("complaints", ("scores",),
             lambda scores: complaint_cases(tables, scores.links, settings, calendar, today)),
    ]
    found = compute_steps(steps, calendar, parallel=input_bytes >= PARALLEL_COMPUTE_FROM_BYTES)
    dispatch, fees, gaps, quality = found["dispatch"], found["fees"], found["gaps"], found["quality"]
    for warning in dispatch.warnings:
        inbox.problems.append(Problem(Code.SETTING, Severity.WARNING, warning, sheet="规则设置"))
    inbox.problems.extend([*dispatch.problems, *fees.problems])
    # The first working day of a month closes the month before (its 考核 as of its last day).
    closing = month_to_close(tables, calendar, today)
    closed = evaluate_as_of(tables, settings, calendar, as_of_day(closing, today)) if closing else None
    _calendar_warnings(inbox, calendar)
    # Last: the manager's page counts the problems, the ones found while computing included.
    summary = manager_summary(inbox, calendar, today, dispatch, found["returned"], found["scores"], gaps, fees,
                              quality, found["month_callbacks"], found["customers"], found["complaints"],
                              projects=found["projects"])
    figures = RunFigures(
        plan_date=plan.isoformat(),
        errors=count(inbox.problems, Severity.ERROR),
        warnings=count(inbox.problems, Severity.WARNING),
        rows={key: len(frame) for key, frame in inbox.tables.items()},
        calendar_fallback_years=tuple(calendar.fallback_years),
        dispatch=DispatchFigures.of(dispatch),
        suggested_visits=SuggestionFigures.of(found["suggestions"]),
        fees=FeeFigures.of(fees),
        callbacks=CallbackFigures.of(found["callbacks"]),
        quality=QualityFigures.of(quality),
        customers=CustomerFigures.of(found["customers"]),
        projects=ProjectFigures.of(found["projects"]),
        complaints=ComplaintFigures.of(found["complaints"]),
        closed_month=closed.evaluation.month if closed else None,
    )
    result = RunResult(today, plan, day_folder(out_root, today), inbox, figures)
    scores, callbacks, suggestions = found["scores"], found["callbacks"], found["suggestions"]
    with run_lock(result.out_dir):
        _clean_stale_temporaries(result.out_dir)
        if progress:
            progress("写出派工单、评分、指标缺口、年费、回访、质量、投诉跟踪、客户跟踪、实施、经理日报和校验报告")
        out = result.out_dir
        sheets = dispatch_sheets(dispatch, tables, suggestions)
        writers = [
            partial(write_dispatch_overview, out, dispatch, sheets),
            partial(write_person_sheets, out, sheets),
            partial(write_scores, out, today, scores, tables),
            partial(write_quotas, out, today, gaps),
            partial(write_fees, out, today, fees),
            partial(write_callbacks, out, callbacks),
            partial(write_quality, out, today, quality),
            partial(write_customers, out, found["customers"]),
            partial(write_projects, out, found["projects"], settings),
            partial(write_complaints, out, found["complaints"]),
            partial(write_manager, out, summary, gaps),
        ]
        parallel = input_bytes >= PARALLEL_FROM_BYTES
        for written in run_jobs([partial(_written_by, writer) for writer in writers], parallel=parallel):
            result.outputs.extend(written)
        _close_and_record(result, found, closed, out_root, progress, now)
        write_report(out, today, inbox, result.outputs)
        _note_relocated(inbox, result.outputs)
        write_mail_roster(out, tables["staff"], settings)
        result.outputs.append(write_manifest(result.out_dir, inbox, list(result.outputs), figures.to_json(),
                                             now or dt.datetime.now()))
    return result


def _close_and_record(result: RunResult, found: dict[str, Any], closed: ClosedMonth | None, out_root: Path,
                      progress: Progress | None, now: dt.datetime | None) -> None:
    """After the day's workbooks: the month before's 考核 when this run closes it, then the history in
    one transaction (the day, this month so far, the closed month); a history that cannot be written
    is a 警告 in the run report."""
    months = []
    if closed is not None:
        write_close(out_root, closed, result.closed_outputs)
        months.append(closed.record(final=True))
        if progress:
            progress(f"今天是本月第一个工作日：已结算上月 {closed.evaluation.month} 的月度考核（截至 "
                     f"{closed.evaluation.as_of.isoformat()}），见 {result.closed_outputs[0]}")
    evaluation = found["evaluation"]
    figures = history.month_figures(result.inbox.tables, found["scores"], found["gaps"], found["quality"],
                                    found["fees"], evaluation)
    figures.update(summary_figures(result.inbox.tables, result.inbox.settings, result.today, found["complaints"],
                                   found["projects"], found["customers"]))
    months.append(history.month_record(evaluation, figures, final=False))
    figures_now = result.figures
    day = history.DayRecord(
        result.today, result.plan_date, now or dt.datetime.now(), figures_now.errors, figures_now.warnings,
        tuple({"path": f.path, "sha256": f.sha256, "rows_accepted": f.rows_accepted} for f in result.inbox.files),
        history.flatten(figures_now.to_json()))
    problem = record_history(out_root, day, months)
    if problem:
        result.inbox.problems.append(problem)
