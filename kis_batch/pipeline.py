"""The one place that sequences a run: read the folder, compute every result (pure), then write
every workbook and the manifest. Nothing here decides a rule or formats a cell.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch import history
from kis_batch.calendar import WorkCalendar, fallback_message
from kis_batch.close import (
    ClosedMonth,
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
from kis_batch.ledger.rows import SpooledRows, spool_rows
from kis_batch.lock import run_lock
from kis_batch.outputs import (
    CUSTOMERS_OUTPUT,
    DAY_OUTPUTS,
    DISPATCH_OUTPUT,
    FEES_OUTPUT,
    HISTORY,
    MANIFEST,
    PERSON_DISPATCH_OUTPUT,
    Output,
    day_folder,
    progress_line,
)
from kis_batch.parallel import PARALLEL_COMPUTE_FROM_BYTES, PARALLEL_FROM_BYTES
from kis_batch.problems import Code, Problem, Severity, count
from kis_batch.render.dispatch import DispatchSheets, dispatch_sheets
from kis_batch.render.mail_roster import run_digest, write_mail_roster
from kis_batch.render.manifest import earlier_outputs, write_manifest
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.dispatch import DispatchResult
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
from kis_batch.rules.scoring import Scores
from kis_batch.rules.summary import ManagerSummary, manager_summary
from kis_batch.settings import Settings
from kis_batch.steps import DAY_RESULTS, MONTH_RESULTS, RECONCILED, DayResults, MonthResults, Step, compute_steps, day_steps, split_steps

# The results tomorrow's 派工单 sheets are made from: computed first, so their workbooks are written
# while the other rules run.
DISPATCH_STEPS = ("dispatch", "suggestions")
# The outputs that take longest to write on a large month (benchmarks/bench_run.py), longest first.
LONGEST_WRITING = (DISPATCH_OUTPUT, FEES_OUTPUT, PERSON_DISPATCH_OUTPUT, CUSTOMERS_OUTPUT)
# D's carry-forward waits for the history in OUT/D/.carried_<table>.tmp (ledger/rows.spool_rows).
CARRIED_SPOOL = "carried"
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
    the writers' workbooks, which would be, are freed as each is saved (render/saving.py)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _written_by(writer: Callable[..., None]) -> list[Path]:
    """The files one output writer wrote, returned (from a worker process too) instead of appended.
    Each workbook is freed as soon as it is saved (render/saving.py lets go of its sheets), though
    the cycle collector is off for the run."""
    written: list[Path] = []
    writer(written=written)
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
    calendar = WorkCalendar.from_settings(inbox.settings)
    plan = calendar.next_workday(today)
    tables, settings = inbox.tables, inbox.settings
    input_bytes = sum(f.size for f in inbox.files)
    given: dict[str, Any] = {"today": today, "tables": tables, "settings": settings}
    # The checks that need the rules' answers are the schedule's first step, beside the rules that
    # do not read what they change; the earlier months' closes stand on them, so they come first
    # when a month closes, and the closes before the day's steps (the year to date stands on them).
    checking = Step(RECONCILED, (), partial(reconcile, inbox))
    if months_to_close(books):
        given[RECONCILED] = checking.compute()
    recorded = read_months(out_root)
    closes = _close_earlier_months(inbox, books, calendar, today, recorded)
    months = closes[-1].months if closes else recorded
    steps = day_steps(tables, settings, calendar, today, inbox.pins, months)
    out = day_folder(out_root, today)
    writing = [output for output in DAY_OUTPUTS if output.writer]
    with run_lock(out):
        _clean_stale_temporaries(out)
        earlier = earlier_outputs(out)
        if progress:
            progress(progress_line(DAY_OUTPUTS))
        # The workbooks and the month's record join the rules' schedule: each is written as soon as
        # the results it shows are computed, beside the rules still to compute. This process takes
        # what tomorrow's 派工单 stand on first, then the other rules, while a worker writes the
        # 派工单 and the rest, the longest first; a small run's rules stay in this process, a fork
        # costing more than they take.
        first, rest = split_steps(steps, DISPATCH_STEPS)
        inbox_now, sheets, carried, so_far, summary, roster = _steps_after_rules(
            inbox, calendar, today, books.folder_rows.get(f"{today:%Y-%m}", 0), out)
        longest, *others = _writing_steps(sorted(writing, key=_longest_first), out, given)
        long_ones = len(LONGEST_WRITING) - 1  # after the longest: the carry-forward, these, the month so far
        found = compute_steps([*([checking] if RECONCILED not in given else []), *first, sheets, *rest, inbox_now,
                               longest, carried, *others[:long_ones], so_far, *others[long_ones:], summary, roster],
                              calendar, parallel=input_bytes >= PARALLEL_FROM_BYTES, given=given,
                              **_sharing(input_bytes >= PARALLEL_COMPUTE_FROM_BYTES, steps))
        day = DayResults(**{name: found[name] for name in DAY_RESULTS})
        result = RunResult(today, plan, out, inbox, _run_figures(inbox, plan, calendar, day, books, closes))
        results = {**given, **found}
        # Every problem so far is in the validation report; one found below has it written again.
        problems_known = len(inbox.problems)
        month_now = replace(found["so_far"], carried=found["carried"])
        written_by = {output: found[_written_name(output)] for output in writing}  # in the order run.json lists them
        try:
            _close_and_record(result, month_now, books, closes, out_root, progress, now)
        finally:
            found["carried"].discard()
        this_run = {path.name for paths in written_by.values() for path in paths} | {MANIFEST}
        result.removed_outputs = _remove_earlier_outputs(out, earlier, this_run, inbox)
        if len(inbox.problems) > problems_known:
            _write_again([output for output in writing if output.lists_problems], written_by, out, results)
        result.outputs = [path for paths in written_by.values() for path in paths]
        _note_relocated(inbox, result.outputs)
        result.outputs.append(write_manifest(out, inbox, list(result.outputs), result.figures.to_json(),
                                             now or dt.datetime.now(), result.removed_outputs))
    return result


def _with_rules_problems(inbox: Inbox, calendar: WorkCalendar, **day: Any) -> Inbox:
    """The inbox with the problems the rules found (steps.DayResults) added to the run's."""
    found = DayResults(**day)
    for warning in found.dispatch.warnings:
        inbox.problems.append(Problem(Code.SETTING, Severity.WARNING, warning, sheet="规则设置"))
    inbox.problems.extend([*found.dispatch.problems, *found.fees.problems])
    _calendar_warnings(inbox, calendar)
    return inbox


def _summary(calendar: WorkCalendar, today: dt.date, inbox: Inbox, **day: Any) -> ManagerSummary:
    """The manager's page, which counts every problem of the run."""
    found = DayResults(**day)
    return manager_summary(inbox.tables, inbox.settings, calendar, today, found.dispatch, found.returned, found.scores,
                           found.gaps, found.fees, found.quality, found.month_callbacks, found.customers,
                           found.complaints, count(inbox.problems, Severity.ERROR),
                           count(inbox.problems, Severity.WARNING), projects=found.projects)


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


def _writing(output: Output, out: Path, results: dict[str, Any]) -> Callable[[], list[Path]]:
    """The job writing one output: the files it wrote."""
    return partial(_written_by, partial(output.write, out, results))


def _longest_first(output: Output) -> int:
    """Where an output's writing comes in the schedule: the longest first (so none is left to write
    alone at the end), then in the order of DAY_OUTPUTS."""
    return LONGEST_WRITING.index(output) if output in LONGEST_WRITING else len(LONGEST_WRITING)


def _sharing(rules_too: bool, rules: list[Step]) -> dict[str, Any]:
    """What a worker may take: on a large run every step but those changing the inbox; on a smaller
    one the writing alone, from when tomorrow's 派工单 sheets are ready (the longest workbook)."""
    changing_the_inbox = [RECONCILED, "inbox"]
    if rules_too:
        return {"here": changing_the_inbox}
    return {"here": [*changing_the_inbox, "sheets", *(step.name for step in rules)], "share_after": "sheets"}


def _steps_after_rules(inbox: Inbox, calendar: WorkCalendar, today: dt.date, folder_rows: int,
                       out: Path) -> tuple[Step, Step, Step, Step, Step, Step]:
    """What the writers and the history need besides the rules' results: tomorrow's 派工单 sheets, D's
    carry-forward and month to date as the history records them, the inbox with the rules' problems
    (it changes the inbox, so only this process takes it), the manager's page and mail.json."""
    tables, settings = inbox.tables, inbox.settings
    return (
        Step("inbox", DAY_RESULTS, partial(_with_rules_problems, inbox, calendar)),
        Step("sheets", ("dispatch", "suggestions"), partial(_sheets, tables, settings)),
        Step("carried", ("scores", "tickets"), partial(carried_so_far, tables, settings, today, out)),
        Step("so_far", MONTH_RESULTS, partial(month_so_far, tables, settings, folder_rows)),
        Step("summary", ("inbox", *DAY_RESULTS), partial(_summary, calendar, today)),
        Step("mail_roster", ("sheets", "dispatch", "complaints", "summary"), partial(_mail_roster, out, tables, settings)),
    )


def _mail_roster(out: Path, tables: dict[str, pd.DataFrame], settings: Settings, sheets: DispatchSheets,
                 dispatch: DispatchResult, complaints: ComplaintCases, summary: ManagerSummary) -> Path:
    return write_mail_roster(out, tables["staff"], settings, run_digest(sheets, dispatch, complaints, summary))


def _sheets(tables: dict[str, pd.DataFrame], settings: Settings, dispatch: DispatchResult,
            suggestions: pd.DataFrame) -> DispatchSheets:
    return dispatch_sheets(dispatch, tables, suggestions, settings=settings)


def _writing_steps(outputs: list[Output], out: Path, given: Mapping[str, Any]) -> list[Step]:
    """A step per output, writing it from the results it needs beside those given: the files it wrote."""
    return [Step(_written_name(output), tuple(need for need in output.needs if need not in given),
                 partial(_write_with, output, out, given), output.large) for output in outputs]


def _written_name(output: Output) -> str:
    return f"写出{output.documented}"


def _write_with(output: Output, out: Path, given: Mapping[str, Any], **found: Any) -> list[Path]:
    return _writing(output, out, {**given, **found})()


def month_so_far(tables: dict[str, pd.DataFrame], settings: Settings, folder_rows: int,
                 **month: Any) -> history.MonthRecord:
    """D's month to date as the history records it, from the month's results (steps.MonthResults);
    its carry-forward comes from carried_so_far. It needs nothing the writers write, so it is one
    more step beside them; it is recorded after the workbooks all the same."""
    found = MonthResults(**month)
    return replace(month_record(found.evaluation, month_figures_of(tables, settings, found), final=False),
                   rows=folder_rows)


def carried_so_far(tables: dict[str, pd.DataFrame], settings: Settings, today: dt.date, out: Path, scores: Scores,
                   tickets: pd.DataFrame) -> SpooledRows:
    """D's carry-forward (期初, docs/rules.md § A month's life), encoded as the history keeps it, in
    files in OUT/D until the history takes it. It stands on scoring's links and the open tickets
    alone, so it is computed beside tomorrow's 派工单 (seconds on an HQ month)."""
    return spool_rows(out, carry_forward(tables, scores.links, tickets, settings, today), CARRIED_SPOOL)


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
