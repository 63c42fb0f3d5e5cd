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

from kis_batch import history
from kis_batch.calendar import WorkCalendar, fallback_message
from kis_batch.close import (
    ClosedMonth,
    evaluate_as_of,
    month_figures_of,
    month_record,
    month_to_close,
    read_months,
    record_history,
    write_close,
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
from kis_batch.rules.evaluation import as_of_day
from kis_batch.rules.figures import (
    CallbackFigures,
    ComplaintFigures,
    CustomerFigures,
    DispatchFigures,
    FeeFigures,
    ProjectFigures,
    QualityFigures,
    RunFigures,
    SuggestionFigures,
    flatten,
)
from kis_batch.rules.summary import manager_summary
from kis_batch.settings import Settings
from kis_batch.steps import DayResults, day_results

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
    months = read_months(out_root)
    found = day_results(tables, settings, calendar, today, parallel=input_bytes >= PARALLEL_COMPUTE_FROM_BYTES,
                        history_months=months)
    dispatch, fees, gaps, quality = found.dispatch, found.fees, found.gaps, found.quality
    for warning in dispatch.warnings:
        inbox.problems.append(Problem(Code.SETTING, Severity.WARNING, warning, sheet="规则设置"))
    # The first working day of a month closes the month before (its 考核 as of its last day).
    closing = month_to_close(tables, calendar, today)
    closed = evaluate_as_of(tables, settings, calendar, as_of_day(closing, today), months) if closing else None
    _calendar_warnings(inbox, calendar)
    # Last: the manager's page counts the problems, the ones found while computing included.
    summary = manager_summary(tables, settings, calendar, today, dispatch, found.returned, found.scores, gaps,
                              fees, quality, found.month_callbacks, found.customers, found.complaints,
                              count(inbox.problems, Severity.ERROR), count(inbox.problems, Severity.WARNING),
                              projects=found.projects)
    figures = RunFigures(
        plan_date=plan.isoformat(),
        errors=count(inbox.problems, Severity.ERROR),
        warnings=count(inbox.problems, Severity.WARNING),
        rows={key: len(frame) for key, frame in inbox.tables.items()},
        calendar_fallback_years=tuple(calendar.fallback_years),
        dispatch=DispatchFigures.of(dispatch),
        suggested_visits=SuggestionFigures.of(found.suggestions),
        fees=FeeFigures.of(fees),
        callbacks=CallbackFigures.of(found.callbacks),
        quality=QualityFigures.of(quality),
        customers=CustomerFigures.of(found.customers),
        projects=ProjectFigures.of(found.projects),
        complaints=ComplaintFigures.of(found.complaints),
        closed_month=closed.evaluation.month if closed else None,
    )
    result = RunResult(today, plan, day_folder(out_root, today), inbox, figures)
    scores, callbacks, suggestions = found.scores, found.callbacks, found.suggestions
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
            partial(write_customers, out, found.customers),
            partial(write_projects, out, found.projects, settings),
            partial(write_complaints, out, found.complaints),
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


def _close_and_record(result: RunResult, found: DayResults, closed: ClosedMonth | None, out_root: Path,
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
    figures = month_figures_of(result.inbox.tables, result.inbox.settings, found)
    months.append(month_record(found.evaluation, figures, final=False))
    figures_now = result.figures
    day = history.DayRecord(
        result.today, result.plan_date, now or dt.datetime.now(), figures_now.errors, figures_now.warnings,
        tuple({"path": f.path, "sha256": f.sha256, "rows_accepted": f.rows_accepted} for f in result.inbox.files),
        flatten(figures_now.to_json()))
    problem = record_history(out_root, day, months)
    if problem:
        result.inbox.problems.append(problem)
