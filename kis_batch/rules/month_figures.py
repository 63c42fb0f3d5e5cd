"""The department's figures of a month up to a day, as the history keeps them for the 月度总结's trend
and the 季度述职 (docs/rules.md § Monthly close): calls by category and handling, services by type,
quota counts, scores, the quality and fee figures, the 考核 in brief, complaint cases, projects,
tracked customers and training candidates; and, back from the history, what a year-to-date table
takes of the earlier months.

Pure functions on the rules' results of one day, or on the history's month_figures rows as the
orchestrator read them; the history only stores what they give.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

import pandas as pd

from kis_batch.rules.common import month_start
from kis_batch.rules.complaint_records import SOURCES
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.customers import CustomerTracking
from kis_batch.rules.display import as_of_text
from kis_batch.rules.evaluation import GRADES, MonthEvaluation
from kis_batch.rules.fees import FeeReport
from kis_batch.rules.figures import FeeFigures, Figure, QualityFigures, flatten
from kis_batch.rules.monthly_summary import month_calls, solved_without_visit, training_candidates
from kis_batch.rules.projects import ProjectReport
from kis_batch.rules.quality import HeldMonth, QualityReport
from kis_batch.rules.scoring import Scores
from kis_batch.settings import Settings

PROJECT_FIGURES = ("projects", "live_this_month", "awaiting_acceptance", "rework", "live_overdue", "acceptance_overdue",
                   "handover_overdue")


def _declared(figures: Mapping[str, float]) -> dict[Figure, float]:
    """The figures under their declared names; ValueError naming any figure not declared."""
    return {Figure(name): value for name, value in figures.items()}


def month_figures(tables: dict[str, pd.DataFrame], settings: Settings, scores: Scores, gaps: pd.DataFrame,
                  quality: QualityReport, fees: FeeReport, evaluation: MonthEvaluation, complaints: ComplaintCases,
                  projects: ProjectReport, tracking: CustomerTracking) -> dict[Figure, float]:
    """The month up to the 考核's day, from the rules' results of that day."""
    as_of = evaluation.as_of
    calls = month_calls(tables, as_of)
    figures: dict[str, float] = {}
    if "calls" in tables and len(tables["calls"]):
        figures[Figure.CALLS] = float(len(calls))
        for column in ("category", "handling"):
            figures.update({f"calls.{column}.{key}": float(n) for key, n in calls[column].value_counts().items()})
    rows = scores.rows
    figures[Figure.SERVICES] = float(len(rows))
    figures.update({f"services.type.{key}": float(n) for key, n in rows["service_type"].value_counts().items()})
    if len(rows):
        figures[Figure.SERVICES_MEAN_SCORE] = float(pd.to_numeric(rows["final"]).mean())
    figures[Figure.QUOTA_RESOLUTIONS] = float(gaps["resolutions_done"].sum()) if len(gaps) else 0.0
    figures[Figure.QUOTA_VISITS] = float(gaps["visits_done"].sum()) if len(gaps) else 0.0
    figures[Figure.QUOTA_RESOLUTIONS_TARGET] = float(gaps["resolutions_quota"].sum()) if len(gaps) else 0.0
    figures[Figure.QUOTA_VISITS_TARGET] = float(gaps["visits_quota"].sum()) if len(gaps) else 0.0
    figures.update(flatten(QualityFigures.of(quality).to_json(), "quality."))
    figures.update(flatten(FeeFigures.of(fees).to_json(), "fees."))
    people = evaluation.people
    figures[Figure.EVALUATION_PEOPLE] = float(len(people))
    if people:
        figures[Figure.EVALUATION_MEAN_TOTAL] = round(sum(p.total for p in people) / len(people), 2)
    for grade in GRADES:
        figures[f"evaluation.grade.{grade}"] = float(sum(p.grade == grade for p in people))
    c, p = complaints.figures, projects.figures
    figures.update({f"complaints.{key}": float(n) for key, n in c["by_responsibility"].items()})
    figures.update({Figure.COMPLAINTS_FILED: float(c["filed_month"]), Figure.COMPLAINTS_OPEN: float(c["open"]),
                    Figure.COMPLAINTS_OVERDUE: float(c["overdue"]), Figure.COMPLAINTS_CLOSED: float(c["closed_month"])})
    figures.update({f"projects.{key}": float(p[key]) for key in PROJECT_FIGURES})
    figures.update(flatten(tracking.figures, "customers."))
    figures[Figure.CALLS_SOLVED_WITHOUT_VISIT] = solved_without_visit(calls) or 0.0
    figures[Figure.TRAINING_CUSTOMERS] = float(len(training_candidates(tables, settings, calls)))
    return _declared(figures)


def held_complaints(months: pd.DataFrame, day: dt.date) -> dict[int, HeldMonth]:
    """The complaints of D's year's months before D's month as the history's month_figures rows hold
    them, by month number; a month without its complaint figures is left to the folder."""
    held: dict[int, HeldMonth] = {}
    for month, frame in months.groupby("month"):
        first = dt.date.fromisoformat(f"{month}-01")
        values = dict(zip(frame["figure"], frame["value"], strict=True))
        if first.year != day.year or first >= month_start(day) or Figure.QUALITY_COMPLAINTS not in values:
            continue
        counts = {key: int(values.get(Figure(f"quality.complaints_by_source.{key}"), 0)) for key in SOURCES}
        final = bool(frame["final"].iloc[0])
        as_of = "已结账" if final else as_of_text(dt.date.fromisoformat(str(frame["as_of"].iloc[0]))).strip("（）")
        held[first.month] = HeldMonth({**counts, "total": int(values[Figure.QUALITY_COMPLAINTS])}, f"历史：{as_of}")
    return held
