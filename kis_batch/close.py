"""The month's close, 结账 (docs/rules.md § A month's life): the 考核 and the 月度总结 of a month as of
its last day (or D if earlier) from the folder and the carry-forward, written to OUT/YYYY-MM/
(月度考核_YYYY-MM.xlsx, 月度总结_YYYY-MM.xlsx) and recorded in the history once, with the month's
carry-forward. Every evening run closes the months before D's not yet closed; `kis-batch report
--month` closes one on request, and with --reopen (反结账) closes it again, the earlier close kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from kis_batch import history
from kis_batch.calendar import WorkCalendar
from kis_batch.identities import former_names
from kis_batch.ingest import Inbox, Progress, load_folder
from kis_batch.ledger.books import Books, archivable_files, open_books, read_books, too_few_rows
from kis_batch.ledger.carry import carry_forward
from kis_batch.ledger.rows import encode_rows, month_files
from kis_batch.lock import run_lock
from kis_batch.outputs import CLOSE_OUTPUTS, DECK_OUTPUT, HISTORY, month_folder, quarter_folder
from kis_batch.problems import Code, Problem, Severity
from kis_batch.rules.common import month_end
from kis_batch.rules.evaluation import MonthEvaluation, as_of_day
from kis_batch.rules.figures import Figure
from kis_batch.rules.month_figures import month_figures
from kis_batch.rules.monthly_summary import MonthlySummary, monthly_summary, with_history
from kis_batch.rules.quarter import QuarterReview, quarter_months, quarter_review
from kis_batch.rules.reconcile import reconcile
from kis_batch.settings import Settings
from kis_batch.steps import MonthResults, month_results

# The history's month_figures table as read_table gives it.
MONTH_FIGURE_COLUMNS = ["month", "figure", "value", "as_of", "final"]


@dataclass(frozen=True)
class ClosedMonth:
    """A month's 考核, its 月度总结 and its department figures, as the history records them."""

    evaluation: MonthEvaluation
    figures: dict[Figure, float]
    summary: MonthlySummary
    carried: dict[str, pd.DataFrame]  # the rows later months need (ledger/carry.py)
    months: pd.DataFrame  # the history's month_figures with this close in place, for the run's later closes

    def record(self, books: Books, tables: Mapping[str, pd.DataFrame], now: dt.datetime) -> history.MonthRecord:
        """The close as the history keeps it: final, with the month's rows the folder held, each
        file's digest of them and the carry-forward."""
        month = self.evaluation.month
        return replace(month_record(self.evaluation, self.figures, final=True), rows=books.folder_rows.get(month, 0),
                       closed_at=now, files=month_files(tables, {month}).get(month, {}),
                       carried=encoded(self.carried))


def encoded(carried: Mapping[str, pd.DataFrame]) -> dict[str, str]:
    return {key: encode_rows(rows) for key, rows in carried.items()}


def month_record(evaluation: MonthEvaluation, figures: Mapping[Figure, float], final: bool) -> history.MonthRecord:
    """A month's 考核 and figures as the history stores them."""
    people = tuple({"staff_id": p.staff_id, "name": p.name, "role": p.role, **p.parts(), "total": p.total,
                    "grade": p.grade, "rank": p.rank} for p in evaluation.people)
    return history.MonthRecord(evaluation.month, evaluation.as_of, final, people, dict(figures))


def evaluate_as_of(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                   as_of: dt.date, history_months: pd.DataFrame | None = None) -> ClosedMonth:
    """The 考核 of as_of's month standing on as_of, with its figures and 月度总结: the day's rules as
    the evening composes them. history_months, the history's month_figures as the caller read them
    (a run's earlier closes in place), give the year to date, the trend and 概览's 上月; none, a
    department without history."""
    months = history_months if history_months is not None else pd.DataFrame(columns=MONTH_FIGURE_COLUMNS)
    month = month_results(tables, settings, calendar, as_of, months)
    figures = month_figures_of(tables, settings, month)
    in_history = with_close(months, month.evaluation, figures)
    summary = monthly_summary(tables, settings, month.evaluation, month.scores, month.gaps, month.quality, month.fees,
                              month.complaints, month.projects, month.customers)
    carried = carry_forward(tables, month.scores.links, month.tickets, settings, as_of)
    return ClosedMonth(month.evaluation, figures, with_history(summary, in_history), carried, in_history)


def month_figures_of(tables: dict[str, pd.DataFrame], settings: Settings, month: MonthResults) -> dict[Figure, float]:
    """The department's figures of a day's month, as the history keeps them."""
    return month_figures(tables, settings, month.scores, month.gaps, month.quality, month.fees, month.evaluation,
                         month.complaints, month.projects, month.customers)


def read_months(out_root: Path) -> pd.DataFrame:
    """The history's month_figures; none where the history cannot be read (the run reports that when
    it records); reading never creates it."""
    path = out_root / HISTORY
    try:
        if path.exists():
            return history.read_table(path, "month_figures")
    except history.HistoryError:
        pass
    return pd.DataFrame(columns=MONTH_FIGURE_COLUMNS)


def with_close(months: pd.DataFrame, evaluation: MonthEvaluation, figures: Mapping[Figure, float]) -> pd.DataFrame:
    """The history's month_figures with a close's figures in place of its month (the close is
    recorded after the workbooks, and a run's later closes stand on its earlier ones)."""
    month = evaluation.month
    ours = pd.DataFrame({"month": month, "figure": list(figures), "value": list(figures.values()),
                         "as_of": evaluation.as_of.isoformat(), "final": 1}, columns=MONTH_FIGURE_COLUMNS)
    return pd.concat([months[months["month"] != month], ours], ignore_index=True) if len(months) else ours


def write_close(out_root: Path, closed: ClosedMonth, written: list[Path]) -> None:
    """月度考核_YYYY-MM.xlsx and 月度总结_YYYY-MM.xlsx in OUT/YYYY-MM/, under that folder's lock (their
    writers are imported only now: only the day that closes a month loads them)."""
    folder = month_folder(out_root, closed.evaluation.month)
    results = {"evaluation": closed.evaluation, "summary": closed.summary}
    with run_lock(folder):
        for output in CLOSE_OUTPUTS:
            output.write(folder, results, written)


def record_history(out_root: Path, day: history.DayRecord | None, months: list[history.MonthRecord]) -> Problem | None:
    """Write to OUT/history.sqlite; a locked or damaged database is a 警告 for the run report, never a stop."""
    try:
        history.record(out_root / HISTORY, day, months)
    except history.HistoryError as error:
        return Problem(Code.HISTORY, Severity.WARNING, str(error), file=HISTORY)
    return None


class MonthAlreadyClosed(Exception):
    """A close asked of a month closed before, without --reopen: nothing is changed."""

    def __init__(self, close: history.Close) -> None:
        when = f"{close.closed_at:%Y-%m-%d %H:%M}" if close.closed_at else "此前"
        super().__init__(f"{close.month} 已于 {when} 结账（截至 {close.as_of.isoformat()}），这次没有改动任何结果；"
                         f"确需重算请加 --reopen（反结账），原结账会作为一个版本保留在历史里")
        self.close = close


class CloseRefused(Exception):
    """A close the folder cannot support (its rows of the month fewer than the history saw)."""


@dataclass
class ReportResult:
    month: str
    as_of: dt.date
    inbox: Inbox
    closed: ClosedMonth
    outputs: list[Path] = field(default_factory=list)
    earlier: history.Close | None = None  # the close a 反结账 replaced
    changes: list[str] = field(default_factory=list)  # what the 反结账 changed, figure by figure
    archivable: list[str] = field(default_factory=list)


def read_for_close(folder: Path, month: str, today: dt.date, out_root: Path,
                   progress: Progress | None) -> tuple[Inbox, Books]:
    """The folder as of D with the carry-forward of the months closed before month."""
    problems: list[Problem] = []
    books = read_books(out_root, month, problems)
    inbox = load_folder(folder, today, None, progress, out_root, books.known_tickets,
                        former_names(out_root / HISTORY, today))
    inbox.problems.extend(problems)
    open_books(inbox, books)
    reconcile(inbox)
    return inbox, books


def report_month(folder: Path, month: dt.date, today: dt.date, out_root: Path,
                 progress: Progress | None = None, reopen: bool = False) -> ReportResult:
    """`kis-batch report --month`: close the month as of min(its end, D), once. MonthAlreadyClosed
    when it was closed before and reopen is not asked (nothing changes); CloseRefused when the folder
    holds fewer of its rows than the history saw (nothing written)."""
    name = f"{month:%Y-%m}"
    earlier = closed_month(out_root, name)
    if earlier is not None and not reopen:
        raise MonthAlreadyClosed(earlier)
    inbox, books = read_for_close(folder, name, today, out_root, progress)
    refused = too_few_rows(books, name)
    if refused:
        raise CloseRefused(refused)
    calendar = WorkCalendar.from_settings(inbox.settings)
    as_of = as_of_day(month, today)
    closed = evaluate_as_of(inbox.tables, inbox.settings, calendar, as_of, read_months(out_root))
    result = ReportResult(closed.evaluation.month, as_of, inbox, closed, earlier=earlier)
    if progress:
        progress(f"写出 {closed.evaluation.month} 月度考核、月度总结并记入历史")
    write_close(out_root, closed, result.outputs)
    record = closed.record(books, inbox.tables, dt.datetime.now())
    problem = record_history(out_root, None, [record])
    if problem:
        inbox.problems.append(problem)
    if earlier is not None:
        result.changes = close_changes(earlier, record)
    result.archivable = archivable_files(inbox, set(books.closes) | {name})
    return result


def closed_month(out_root: Path, month: str) -> history.Close | None:
    """The close in force of a month, if the history has one."""
    path = out_root / HISTORY
    if not path.exists():
        return None
    versions = history.close_versions(path, month)
    return versions[-1] if versions else None


def _shown(value: float | None) -> str:
    return "—" if value is None else f"{value:g}"


def close_changes(before: history.Close, after: history.MonthRecord) -> list[str]:
    """What a 反结账 changed: each department figure, then each person's total, in words."""
    lines = [f"{figure}：{_shown(before.figures.get(figure))} → {_shown(after.figures.get(figure))}"
             for figure in sorted(set(before.figures) | set(after.figures), key=str)
             if before.figures.get(figure) != after.figures.get(figure)]
    old = {p["staff_id"]: p for p in before.people}
    new = {p["staff_id"]: p for p in after.people}
    for staff_id in sorted(set(old) | set(new)):
        was, now = old.get(staff_id), new.get(staff_id)
        if was is None or now is None or was["total"] != now["total"]:
            name = (now or was or {}).get("name", staff_id)
            lines.append(f"{name}（{staff_id}）总分：{_shown(was and was['total'])} → {_shown(now and now['total'])}")
    return lines


@dataclass
class QuarterResult:
    quarter: str
    as_of: dt.date
    inbox: Inbox
    review: QuarterReview
    closed_months: list[str] = field(default_factory=list)  # closed first, as the history lacked them
    outputs: list[Path] = field(default_factory=list)


def report_quarter(folder: Path, year: int, quarter: int, today: dt.date, out_root: Path,
                   progress: Progress | None = None) -> QuarterResult:
    """`kis-batch report --quarter`: first close the quarter's months that ended by D, that the history
    has no close of and whose feedback the folder holds (each written and recorded like `report --month`);
    then build 季度述职 from the history alone. HistoryError when the history cannot be read."""
    months = quarter_months(year, quarter)
    # The carry-forward of every month closed before D's, as the evening run of D starts from: a month
    # of the quarter closed here reads the work carried into it like the run that would close it.
    inbox, books = read_for_close(folder, f"{today:%Y-%m}", today, out_root, progress)
    calendar = WorkCalendar.from_settings(inbox.settings)
    result_months: list[str] = []
    outputs: list[Path] = []
    for month in months:
        name = f"{month:%Y-%m}"
        if as_of_day(month, today) < month_end(month) or name in books.closes or name not in books.feedback_months:
            continue
        refused = too_few_rows(books, name)
        if refused:
            raise CloseRefused(refused)
        if progress:
            progress(f"历史里没有 {name} 的月度结算，先结算该月")
        closed = evaluate_as_of(inbox.tables, inbox.settings, calendar, month_end(month), read_months(out_root))
        write_close(out_root, closed, outputs)
        problem = record_history(out_root, None, [closed.record(books, inbox.tables, dt.datetime.now())])
        if problem:
            raise history.HistoryError(problem.message)
        result_months.append(name)
    review = quarter_review(year, quarter, history.read_table(out_root / HISTORY, "month_figures"),
                            history.read_table(out_root / HISTORY, "person_months"))
    result = QuarterResult(review.quarter, today, inbox, review, result_months, outputs)
    if progress:
        progress(f"写出 {review.quarter} 季度述职")
    folder_out = quarter_folder(out_root, review.quarter)
    with run_lock(folder_out):
        DECK_OUTPUT.write(folder_out, {"review": review}, result.outputs)
    return result
