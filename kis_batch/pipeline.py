"""The one place that sequences a run: read the folder, compute every result (pure), then write
every workbook and the manifest. Nothing here decides a rule or formats a cell.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch import history
from kis_batch.calendar import WorkCalendar, fallback_message
from kis_batch.close import (
    ClosedMonth,
    encoded,
    evaluate_as_of,
    month_figures_of,
    month_record,
    read_months,
    record_history,
    write_close,
)
from kis_batch.identities import former_names
from kis_batch.ingest import Inbox, Progress, load_folder
from kis_batch.ingest.early import EarlyRead
from kis_batch.ingest.files import sha256_of
from kis_batch.ledger.books import Books, archivable_files, months_to_close, open_books, read_books, too_few_rows
from kis_batch.ledger.carry import carry_forward
from kis_batch.lock import run_lock
from kis_batch.outputs import DAY_OUTPUTS, HISTORY, MANIFEST, Output, day_folder, progress_line
from kis_batch.parallel import (
    PARALLEL_COMPUTE_FROM_BYTES,
    PARALLEL_FROM_BYTES,
    StartedJobs,
    fork_context,
    run_jobs,
)
from kis_batch.problems import Code, Problem, Severity, count
from kis_batch.render.dispatch import dispatch_sheets
from kis_batch.render.mail_roster import run_digest, write_mail_roster
from kis_batch.render.manifest import earlier_outputs, write_manifest
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
from kis_batch.rules.reconcile import reconcile
from kis_batch.rules.scoring import EventLinks
from kis_batch.rules.summary import ManagerSummary, manager_summary
from kis_batch.settings import Settings
from kis_batch.steps import DayResults, compute_steps, day_steps, split_steps

# The results tomorrow's 派工单 sheets are made from: computed first, so their workbooks are written
# while the other rules run.
DISPATCH_STEPS = ("dispatch", "suggestions")
# The name saving.replace_file gives an output whose target was locked: 名称(1).xlsx
RELOCATED = re.compile(r"\(\d+\)(\.\w+)$")


@dataclass
class RunResult:
    today: dt.date
    plan_date: dt.date
    out_dir: Path
    inbox: Inbox
    figures: RunFigures
    outputs: list[Path] = field(default_factory=list)
    removed_outputs: list[str] = field(default_factory=list)  # an earlier run's files of D this run did not write
    closed_outputs: list[Path] = field(default_factory=list)  # the closes' 月度考核 and 月度总结, in OUT/YYYY-MM/

    @property
    def carried_rows(self) -> int:
        """Rows carried from closed months the folder no longer holds."""
        return self.figures.carried_rows

    @property
    def closed_months(self) -> tuple[str, ...]:
        """The months this run closed, oldest first (docs/rules.md § A month's life)."""
        return self.figures.closed_months

    @property
    def closed_month(self) -> str | None:
        """The latest month this run closed."""
        return self.figures.closed_month

    @property
    def archivable(self) -> tuple[str, ...]:
        """The folder's files holding only closed months' rows: they may leave the inbox."""
        return self.figures.archivable

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
    problems: list[Problem] = []
    books = read_books(out_root, f"{today:%Y-%m}", problems) if out_root is not None else Books(f"{today:%Y-%m}")
    former = former_names(out_root / HISTORY, today) if out_root is not None else None
    inbox = load_folder(folder, today, base, progress, out_root, books.known_tickets, former)
    inbox.problems.extend(problems)
    open_books(inbox, books)
    reconcile(inbox)
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


def _remove_earlier_outputs(out_dir: Path, earlier: dict[str, str], written: set[str],
                            inbox: Inbox) -> list[str]:
    """A rerun replaces the outputs (docs/rules.md § Outputs): what the earlier run of D wrote and this
    one does not (a leaver's 派工单, an old name's) is removed, so no stale route is printed. Only files
    the earlier run.json lists, unchanged since: one edited since is kept, with a 警告."""
    removed: list[str] = []
    for name, sha256 in sorted(earlier.items()):
        path = out_dir / name
        if name in written or not path.is_file():
            continue
        if sha256_of(path) != sha256:
            inbox.problems.append(Problem(Code.OUTPUT_LOCKED, Severity.WARNING,
                                          f"{name} 是上一次运行写的，本次没有再生成；它在那之后被改过，所以保留未删，"
                                          "请确认已不需要后自行删除", file=name))
            continue
        path.unlink()
        removed.append(name)
    return removed


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A run holds every input value, and the steps build a dict per row they read, until the end;
    Python's cycle collector would walk them all again every few thousand allocations (a fifth of
    an HQ-scale run). The run makes little cyclic garbage, so the collector waits until it is over;
    only the writers' workbooks are collected as each is written (_written_by)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _written_by(writer: Callable[..., None]) -> list[Path]:
    """The files one output writer wrote, returned (from a worker process too) instead of appended.
    An xlsxwriter workbook is a reference cycle holding every cell it wrote, freed only by the cycle
    collector: collected here, the writers of an HQ month stop adding hundreds of MB. The collector
    walks only what was made since the month was frozen (gc.freeze in _run), so this costs little
    beyond freeing the cells."""
    written: list[Path] = []
    writer(written=written)
    gc.collect()
    return written


def run(folder: Path, today: dt.date, out_root: Path, base: Settings | None = None,
        progress: Progress | None = None, now: dt.datetime | None = None, early: EarlyRead | None = None) -> RunResult:
    """Read the folder, compute tomorrow's work and today's figures, write OUT/D/. early: the
    folder's reading started while the command was loading (ingest/early.py)."""
    with _no_cycle_collection():
        return _run(folder, today, out_root, base, progress, now, early)


def _run(folder: Path, today: dt.date, out_root: Path, base: Settings | None,
         progress: Progress | None, now: dt.datetime | None, early: EarlyRead | None) -> RunResult:
    problems: list[Problem] = []
    books = read_books(out_root, f"{today:%Y-%m}", problems)
    inbox = load_folder(folder, today, base, progress, out_root, books.known_tickets,
                        former_names(out_root / HISTORY, today), early)
    inbox.problems.extend(problems)
    open_books(inbox, books)
    links = reconcile(inbox)
    calendar = WorkCalendar.from_settings(inbox.settings)
    plan = calendar.next_workday(today)
    tables, settings = inbox.tables, inbox.settings
    input_bytes = sum(f.size for f in inbox.files)
    # The earlier months close first: the day's year-to-date tables stand on their closes.
    recorded = read_months(out_root)
    closes = _close_earlier_months(inbox, books, calendar, today, recorded)
    months = closes[-1].months if closes else recorded
    steps = day_steps(tables, settings, calendar, today, inbox.pins, months, links)
    compute_parallel = input_bytes >= PARALLEL_COMPUTE_FROM_BYTES
    # What tomorrow's 派工单 stand on first, so they are written while the rest is computed; where
    # the steps are shared with a worker (an HQ month), all of them at once, so the worker always
    # has steps to take.
    first, rest = (steps, []) if compute_parallel else split_steps(steps, DISPATCH_STEPS)
    found = compute_steps(first, calendar, compute_parallel)
    out = day_folder(out_root, today)
    # What the writers are given, by the names their declarations need (kis_batch/outputs.py).
    results: dict[str, Any] = {**found, "today": today, "tables": tables, "settings": settings,
                               "sheets": dispatch_sheets(found["dispatch"], tables, found["suggestions"], settings=settings)}
    writing = [output for output in DAY_OUTPUTS if output.writer]
    with run_lock(out):
        _clean_stale_temporaries(out)
        earlier = earlier_outputs(out)
        if progress:
            progress(progress_line(DAY_OUTPUTS))
        # Tomorrow's 派工单, what else the first steps are enough for, and the carry-forward start in a
        # worker now; the other rules are computed meanwhile, and their workbooks shared with a second
        # worker, which then helps the first with what it has not started. An HQ month computed them
        # all and shares them in one pool: a third process would hold its own copy of the month.
        ready = [output for output in writing if set(output.needs) <= results.keys()]
        gc.freeze()  # what stands now (the month, the first steps) is never cyclic garbage: see _written_by
        parallel = input_bytes >= PARALLEL_FROM_BYTES
        carried_now = partial(carried_so_far, tables, found["scores"].links, found["tickets"], settings, today)
        early_jobs = [_writing(output, out, results) for output in ready]
        # The longest first: the 派工单 总览, then the carry-forward.
        started = StartedJobs([*early_jobs[:1], carried_now, *early_jobs[1:]],
                              fork_context() if parallel and not compute_parallel else None)
        try:
            found |= compute_steps(rest, calendar, compute_parallel, given=found)
            day = DayResults(**found)
            summary = _found_problems_and_summary(inbox, calendar, today, day)
            result = RunResult(today, plan, out, inbox, _run_figures(inbox, plan, calendar, day, books, closes))
            results |= {**found, "inbox": inbox, "summary": summary}
            later = [output for output in writing if output not in ready]
            month_now = partial(month_so_far, tables, settings, day, books.folder_rows.get(f"{today:%Y-%m}", 0))
            roster = partial(write_mail_roster, out, tables["staff"], settings,
                             run_digest(results["sheets"], day.dispatch, day.complaints, summary))
            # The validation report is written beside the others; a step after them that finds a
            # problem (below) has it written again, so it lists every problem of the run.
            problems_known = len(inbox.problems)
            (so_far, _, *written_later), (first_written, carried, *written_early) = _pooled(
                [month_now, roster, *(_writing(output, out, results) for output in later)], started, parallel)
            written = {**dict(zip(ready, [first_written, *written_early], strict=True)),
                       **dict(zip(later, written_later, strict=True))}
        finally:
            started.cancel()
        so_far = replace(so_far, carried=carried)
        written_by = {output: written[output] for output in writing}  # in the order run.json lists them
        _close_and_record(result, so_far, books, closes, out_root, progress, now)
        this_run = {path.name for paths in written_by.values() for path in paths} | {MANIFEST}
        result.removed_outputs = _remove_earlier_outputs(out, earlier, this_run, inbox)
        if len(inbox.problems) > problems_known:
            _write_again([output for output in writing if output.lists_problems], written_by, out, results)
        result.outputs = [path for paths in written_by.values() for path in paths]
        _note_relocated(inbox, result.outputs)
        result.outputs.append(write_manifest(out, inbox, list(result.outputs), result.figures.to_json(),
                                             now or dt.datetime.now(), result.removed_outputs))
    return result


def _found_problems_and_summary(inbox: Inbox, calendar: WorkCalendar, today: dt.date, day: DayResults) -> ManagerSummary:
    """The problems the rules found, added to the run's; then the manager's page, which counts them all."""
    for warning in day.dispatch.warnings:
        inbox.problems.append(Problem(Code.SETTING, Severity.WARNING, warning, sheet="规则设置"))
    inbox.problems.extend([*day.dispatch.problems, *day.fees.problems])
    _calendar_warnings(inbox, calendar)
    return manager_summary(inbox.tables, inbox.settings, calendar, today, day.dispatch, day.returned, day.scores,
                           day.gaps, day.fees, day.quality, day.month_callbacks, day.customers, day.complaints,
                           count(inbox.problems, Severity.ERROR), count(inbox.problems, Severity.WARNING),
                           projects=day.projects)


def _run_figures(inbox: Inbox, plan: dt.date, calendar: WorkCalendar, day: DayResults, books: Books,
                 closes: list[ClosedMonth]) -> RunFigures:
    """The run's key figures, as run.json records them."""
    closed_names = tuple(c.evaluation.month for c in closes)
    return RunFigures(
        plan_date=plan.isoformat(),
        errors=count(inbox.problems, Severity.ERROR),
        warnings=count(inbox.problems, Severity.WARNING),
        rows={key: len(frame) for key, frame in inbox.tables.items()},
        calendar_fallback_years=tuple(calendar.fallback_years),
        dispatch=DispatchFigures.of(day.dispatch),
        suggested_visits=SuggestionFigures.of(day.suggestions),
        fees=FeeFigures.of(day.fees),
        callbacks=CallbackFigures.of(day.callbacks),
        quality=QualityFigures.of(day.quality),
        customers=CustomerFigures.of(day.customers),
        projects=ProjectFigures.of(day.projects),
        complaints=ComplaintFigures.of(day.complaints),
        closed_month=closed_names[-1] if closed_names else None,
        closed_months=closed_names,
        archivable=tuple(archivable_files(inbox, set(books.closes) | set(closed_names))),
        carried_rows=sum(books.added.values()),
    )


def _write_again(outputs: list[Output], written_by: dict[Output, list[Path]], out: Path,
                 results: dict[str, Any]) -> None:
    """Outputs that list the run's problems, written again once a later step has found more; a file
    the first writing had to keep under another name (its target held open) goes."""
    for output in outputs:
        first, written_by[output] = written_by[output], _writing(output, out, results)()
        for path in set(first) - set(written_by[output]):
            path.unlink(missing_ok=True)


def _close_earlier_months(inbox: Inbox, books: Books, calendar: WorkCalendar, today: dt.date,
                          months: pd.DataFrame) -> list[ClosedMonth]:
    """Every month before D's not yet closed, oldest first, each as of its last day and standing on
    the history's months (months) with the closes before it in place; a month the folder no longer
    holds enough of is an 错误 and stops the closing there (the months after it wait)."""
    closes: list[ClosedMonth] = []
    for month in months_to_close(books):
        refused = too_few_rows(books, month)
        if refused:
            inbox.problems.append(Problem(Code.CLOSED_MONTH, Severity.ERROR, refused))
            break
        first = dt.date.fromisoformat(f"{month}-01")
        closes.append(evaluate_as_of(inbox.tables, inbox.settings, calendar, as_of_day(first, today),
                                     closes[-1].months if closes else months))
    return closes


def _pooled(own: list[Callable[[], Any]], started: StartedJobs[Any], parallel: bool) -> tuple[list[Any], list[Any]]:
    """The results of a pool's own jobs and of the started ones. With a worker on the started jobs
    the pool helps it at its end. Without one they follow the pool's first job, the longest first:
    this process takes that first job (the month's record, whose figures then come back unpickled)
    and the pool's worker the next, the 派工单 总览, whose workbook is held in memory while it is
    written (hundreds of MB on an HQ month, which this process, holding the month, would add to)."""
    helpers = started.helpers()
    if started.started:
        pooled = run_jobs([*own, *helpers], parallel=parallel)
        return pooled[:len(own)], started.finish(helped=pooled[len(own):])
    pooled = run_jobs([own[0], *helpers, *own[1:]], parallel=parallel)
    return [pooled[0], *pooled[1 + len(helpers):]], started.finish(helped=pooled[1:1 + len(helpers)])


def _writing(output: Output, out: Path, results: dict[str, Any]) -> Callable[[], list[Path]]:
    """The job writing one output: the files it wrote."""
    return partial(_written_by, partial(output.write, out, results))


def month_so_far(tables: dict[str, pd.DataFrame], settings: Settings, found: DayResults,
                 folder_rows: int) -> history.MonthRecord:
    """D's month to date as the history records it (its carry-forward comes from carried_so_far). It
    needs nothing the writers write, so it is one more job beside them; it is recorded after the
    workbooks all the same."""
    return replace(month_record(found.evaluation, month_figures_of(tables, settings, found), final=False),
                   rows=folder_rows)


def carried_so_far(tables: dict[str, pd.DataFrame], links: EventLinks, open_now: pd.DataFrame, settings: Settings,
                   today: dt.date) -> dict[str, str]:
    """D's carry-forward (期初, docs/rules.md § A month's life), encoded as the history keeps it. It
    stands on scoring's links and the open tickets alone, so it is computed beside tomorrow's 派工单
    (seconds on an HQ month)."""
    return encoded(carry_forward(tables, links, open_now, settings, today))


def _close_and_record(result: RunResult, so_far: history.MonthRecord, books: Books, closes: list[ClosedMonth],
                      out_root: Path, progress: Progress | None, now: dt.datetime | None) -> None:
    """After the day's workbooks: the earlier months' closes, then the history in one transaction
    (the day, this month so far with its carry-forward, the closes); a history that cannot be
    written is a 警告 in the run report."""
    moment = now or dt.datetime.now()
    tables = result.inbox.tables
    months = []
    for closed in closes:
        written: list[Path] = []
        write_close(out_root, closed, written)
        result.closed_outputs.extend(written)
        months.append(closed.record(books, tables, moment))
        if progress:
            progress(f"已结账 {closed.evaluation.month}（截至 {closed.evaluation.as_of.isoformat()}）："
                     f"{'、'.join(str(path) for path in written)}")
    months.append(so_far)
    figures_now = result.figures
    day = history.DayRecord(
        result.today, result.plan_date, moment, figures_now.errors, figures_now.warnings,
        tuple({"path": f.path, "sha256": f.sha256, "rows_accepted": f.rows_accepted} for f in result.inbox.files),
        flatten(figures_now.to_json()),
        tuple(zip(result.inbox.tables["staff"]["staff_id"], result.inbox.tables["staff"]["name"], strict=True)))
    problem = record_history(out_root, day, months)
    if problem and problem not in result.inbox.problems:  # said once when reading the ledger failed alike
        result.inbox.problems.append(problem)
