"""The month's close (docs/rules.md § Monthly close): the 考核 and the 月度总结 of a month as of its last
day (or D if earlier) from the folder, written to OUT/YYYY-MM/ (月度考核_YYYY-MM.xlsx,
月度总结_YYYY-MM.xlsx) and recorded in the history as final. `kis-batch report --month` does it on
request; the evening run on the first working day of a month does it for the month before.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kis_batch import history
from kis_batch.calendar import WorkCalendar
from kis_batch.coerce import day_of
from kis_batch.ingest import Inbox, Progress, load_folder
from kis_batch.lock import run_lock
from kis_batch.outputs import HISTORY, month_folder, quarter_folder
from kis_batch.problems import Code, Problem, Severity
from kis_batch.rules.common import month_end, month_start, table_of
from kis_batch.rules.evaluation import MonthEvaluation, as_of_day
from kis_batch.rules.figures import Figure
from kis_batch.rules.month_figures import month_figures
from kis_batch.rules.monthly_summary import MonthlySummary, monthly_summary, with_history
from kis_batch.rules.quarter import QuarterReview, quarter_months, quarter_review
from kis_batch.settings import Settings
from kis_batch.steps import MonthResults, month_results


@dataclass(frozen=True)
class ClosedMonth:
    """A month's 考核, its 月度总结 and its department figures, as the history records them."""

    evaluation: MonthEvaluation
    figures: dict[Figure, float]
    summary: MonthlySummary

    def record(self, final: bool) -> history.MonthRecord:
        return month_record(self.evaluation, self.figures, final)


def month_record(evaluation: MonthEvaluation, figures: Mapping[Figure, float], final: bool) -> history.MonthRecord:
    """A month's 考核 and figures as the history stores them."""
    people = tuple({"staff_id": p.staff_id, "name": p.name, "role": p.role, **p.parts(), "total": p.total,
                    "grade": p.grade, "rank": p.rank} for p in evaluation.people)
    return history.MonthRecord(evaluation.month, evaluation.as_of, final, people, dict(figures))


def evaluate_as_of(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                   as_of: dt.date, history_months: pd.DataFrame | None = None) -> ClosedMonth:
    """The 考核 of as_of's month standing on as_of, with its figures and 月度总结: the day's rules as
    the evening composes them (history_months, the history's month_figures, for the year to date)."""
    month = month_results(tables, settings, calendar, as_of, history_months)
    summary = monthly_summary(tables, settings, month.evaluation, month.scores, month.gaps, month.quality, month.fees,
                              month.complaints, month.projects, month.customers)
    return ClosedMonth(month.evaluation, month_figures_of(tables, settings, month), summary)


def month_figures_of(tables: dict[str, pd.DataFrame], settings: Settings, month: MonthResults) -> dict[Figure, float]:
    """The department's figures of a day's month, as the history keeps them."""
    return month_figures(tables, settings, month.scores, month.gaps, month.quality, month.fees, month.evaluation,
                         month.complaints, month.projects, month.customers)


def month_to_close(tables: dict[str, pd.DataFrame], calendar: WorkCalendar, today: dt.date) -> dt.date | None:
    """The month before D's (its first day) when D is its month's first working day and the folder
    holds feedback of that month; else None."""
    if calendar.month_workdays(today)[:1] != [today]:
        return None
    previous = month_start(month_start(today) - dt.timedelta(days=1))
    dates = [day_of(value) for value in table_of(tables, "feedback")["service_date"].tolist()]
    return previous if any(d is not None and month_start(d) == previous for d in dates) else None


def read_months(out_root: Path) -> pd.DataFrame:
    """The history's month_figures; none where the history cannot be read (the run reports that when
    it records); reading never creates it."""
    path = out_root / HISTORY
    try:
        if path.exists():
            return history.read_table(path, "month_figures")
    except history.HistoryError:
        pass
    return pd.DataFrame(columns=["month", "figure", "value", "as_of", "final"])


def history_months(out_root: Path, closed: ClosedMonth) -> pd.DataFrame:
    """The history's month_figures with this close in place of its month (the close is recorded after
    the workbooks); a history that cannot be read leaves this month alone."""
    months = read_months(out_root)
    month = closed.evaluation.month
    ours = pd.DataFrame({"month": month, "figure": list(closed.figures), "value": list(closed.figures.values()),
                         "as_of": closed.evaluation.as_of.isoformat(), "final": 1})
    return pd.concat([months[months["month"] != month], ours], ignore_index=True) if len(months) else ours


def write_close(out_root: Path, closed: ClosedMonth, written: list[Path]) -> None:
    """月度考核_YYYY-MM.xlsx and 月度总结_YYYY-MM.xlsx in OUT/YYYY-MM/, under that folder's lock."""
    # Here, not above: only the day that closes a month writes these, and their writers cost every
    # other evening run's start.
    from kis_batch.render.evaluation import write_evaluation
    from kis_batch.render.monthly_summary import write_monthly_summary

    folder = month_folder(out_root, closed.evaluation.month)
    with run_lock(folder):
        write_evaluation(folder, closed.evaluation, written)
        write_monthly_summary(folder, with_history(closed.summary, history_months(out_root, closed)), written)


def record_history(out_root: Path, day: history.DayRecord | None, months: list[history.MonthRecord]) -> Problem | None:
    """Write to OUT/history.sqlite; a locked or damaged database is a 警告 for the run report, never a stop."""
    try:
        history.record(out_root / HISTORY, day, months)
    except history.HistoryError as error:
        return Problem(Code.HISTORY, Severity.WARNING, str(error), file=HISTORY)
    return None


@dataclass
class ReportResult:
    month: str
    as_of: dt.date
    inbox: Inbox
    closed: ClosedMonth
    outputs: list[Path] = field(default_factory=list)


def report_month(folder: Path, month: dt.date, today: dt.date, out_root: Path,
                 progress: Progress | None = None) -> ReportResult:
    """`kis-batch report --month`: read the folder as of D, close the month as of min(its end, D)."""
    inbox = load_folder(folder, today, None, progress, out_root)
    calendar = WorkCalendar.from_settings(inbox.settings)
    as_of = as_of_day(month, today)
    closed = evaluate_as_of(inbox.tables, inbox.settings, calendar, as_of, read_months(out_root))
    result = ReportResult(closed.evaluation.month, as_of, inbox, closed)
    if progress:
        progress(f"写出 {closed.evaluation.month} 月度考核、月度总结并记入历史")
    write_close(out_root, closed, result.outputs)
    problem = record_history(out_root, None, [closed.record(final=True)])
    if problem:
        inbox.problems.append(problem)
    return result


@dataclass
class QuarterResult:
    quarter: str
    as_of: dt.date
    inbox: Inbox
    review: QuarterReview
    closed_months: list[str] = field(default_factory=list)  # closed first, as the history lacked them
    outputs: list[Path] = field(default_factory=list)


def months_with_feedback(tables: dict[str, pd.DataFrame]) -> set[dt.date]:
    """The months (first days) the folder holds feedback of."""
    dates = (day_of(value) for value in table_of(tables, "feedback")["service_date"].tolist())
    return {month_start(d) for d in dates if d is not None}


def closed_months(out_root: Path) -> set[str]:
    """The months the history holds a close of (final 1)."""
    figures = history.read_table(out_root / HISTORY, "month_figures")
    return set(figures.loc[figures["final"] == 1, "month"])


def report_quarter(folder: Path, year: int, quarter: int, today: dt.date, out_root: Path,
                   progress: Progress | None = None) -> QuarterResult:
    """`kis-batch report --quarter`: first close the quarter's months that ended by D, that the history
    has no close of and whose feedback the folder holds (each written and recorded like `report --month`);
    then build 季度述职 from the history alone. HistoryError when the history cannot be read."""
    inbox = load_folder(folder, today, None, progress, out_root)
    calendar = WorkCalendar.from_settings(inbox.settings)
    result_months: list[str] = []
    outputs: list[Path] = []
    held = months_with_feedback(inbox.tables)
    already = closed_months(out_root)
    for month in quarter_months(year, quarter):
        name = f"{month:%Y-%m}"
        if as_of_day(month, today) < month_end(month) or name in already or month not in held:
            continue
        if progress:
            progress(f"历史里没有 {name} 的月度结算，先结算该月")
        closed = evaluate_as_of(inbox.tables, inbox.settings, calendar, month_end(month), read_months(out_root))
        write_close(out_root, closed, outputs)
        problem = record_history(out_root, None, [closed.record(final=True)])
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
        # Here, not above: python-pptx costs every evening run's start a tenth of a second.
        from kis_batch.render.deck import write_deck

        write_deck(folder_out, review, result.outputs)
    return result
