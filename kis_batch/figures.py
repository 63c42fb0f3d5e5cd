"""The key figures of a run as typed values: what run.json records under "figures" (docs/rules.md
§ Outputs). Each rule keeps returning its natural result; these are built from it, so a figure
renamed or dropped in a rule fails here, at construction, rather than as a missing key in a reader.

Fields are declared in the order run.json shows them: `to_json()` gives the same JSON, key for key.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.rules.callbacks import CallbackPlan
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.customers import CustomerTracking
from kis_batch.rules.dispatch import DispatchResult, dispatch_figures
from kis_batch.rules.fees import FeeReport
from kis_batch.rules.projects import ProjectReport
from kis_batch.rules.quality import QualityReport
from kis_batch.rules.suggestions import suggestion_figures


class _Figures:
    def to_json(self) -> dict[str, Any]:
        """Plain dicts and lists in field order, for json.dumps."""
        return dataclasses.asdict(self)  # type: ignore[call-overload]


@dataclass(frozen=True)
class DispatchFigures(_Figures):
    plan_date: str
    assigned: int
    moved: int
    backlog: int
    per_person: Mapping[str, int]  # assignee name -> tickets, in the order they are listed

    @classmethod
    def of(cls, result: DispatchResult) -> DispatchFigures:
        return cls(**dispatch_figures(result))


@dataclass(frozen=True)
class SuggestionFigures(_Figures):
    count: int
    per_person: Mapping[str, int]

    @classmethod
    def of(cls, suggestions: pd.DataFrame) -> SuggestionFigures:
        return cls(**suggestion_figures(suggestions))


@dataclass(frozen=True)
class FeeFigures(_Figures):
    contracts: int
    overdue: int
    overdue_balance: float
    due_for_renewal: int
    lapsed: int
    renewal_risk: int
    unapproved: int
    chase: int
    collection_rate_month: float | None
    collection_rate_year: float | None

    @classmethod
    def of(cls, report: FeeReport) -> FeeFigures:
        return cls(**report.figures())


@dataclass(frozen=True)
class SpotCheckFigures(_Figures):
    """One engineer's month of spot checks, and how many P's list adds."""

    staff_id: str
    name: str
    done: int
    target: int
    served: int
    listed: int


@dataclass(frozen=True)
class CallbackFigures(_Figures):
    month: str
    customers: int
    coverage_rule: float
    coverage_target: int
    reached: int
    coverage: float | None
    spot_check_target: int
    spot_checks: tuple[SpotCheckFigures, ...]
    plan_date: str
    verification_time: str
    workdays_left: int
    listed: Mapping[str, int]  # verification, spot_checks, satisfaction
    reached_if_all_called: int

    @classmethod
    def of(cls, plan: CallbackPlan) -> CallbackFigures:
        figures = plan.figures
        return cls(**{**figures, "spot_checks": tuple(SpotCheckFigures(**s) for s in figures["spot_checks"])})


@dataclass(frozen=True)
class QualityFigures(_Figures):
    month: str
    complaints: int
    complaints_by_source: Mapping[str, int]
    complaints_year: int
    ratings: int
    csat: float | None
    csat_feedback: float | None
    csat_callbacks: float | None
    csat_alert: float
    satisfaction_mix: Mapping[str, int]
    customers: int
    customers_reached: int
    coverage: float | None
    coverage_rule: float
    coverage_target: int
    coverage_pace: float
    coverage_status: str
    breaches: int
    breaches_by_kind: Mapping[str, int]

    @classmethod
    def of(cls, report: QualityReport) -> QualityFigures:
        return cls(**report.figures)


@dataclass(frozen=True)
class CustomerFigures(_Figures):
    """Tracked customers (重点客户, 大客户, 集团客户, 异地客户) and how many are 久未联系; by segment keyed
    key, large, group, remote (a customer in two counts in both)."""

    tracked: int
    not_contacted: int
    tracked_by_segment: Mapping[str, int]
    not_contacted_by_segment: Mapping[str, int]
    groups: int

    @classmethod
    def of(cls, tracking: CustomerTracking) -> CustomerFigures:
        return cls(**tracking.figures)


@dataclass(frozen=True)
class ProjectFigures(_Figures):
    projects: int
    by_stage: Mapping[str, int]  # 未开始 … 已交接, each stage in order
    live_this_month: int
    awaiting_acceptance: int
    rework: int
    live_overdue: int
    acceptance_overdue: int
    handover_overdue: int

    @classmethod
    def of(cls, report: ProjectReport) -> ProjectFigures:
        return cls(**report.figures)


@dataclass(frozen=True)
class ComplaintFigures(_Figures):
    """Complaint cases up to D: open, overdue (by 投诉编号), closed this month, this month's by responsibility."""

    month: str
    overdue_after_workdays: int
    cases: int
    filed_month: int
    open: int
    pending: int
    in_progress: int
    overdue: int
    closed_month: int
    by_responsibility: Mapping[str, int]  # department, headquarters, customer, other (blank counts as department)
    unjudged_month: int
    overdue_cases: tuple[str, ...]

    @classmethod
    def of(cls, cases: ComplaintCases) -> ComplaintFigures:
        return cls(**cases.figures)


@dataclass(frozen=True)
class RunFigures(_Figures):
    """run.json's "figures": the day's counts and each part's key figures."""

    plan_date: str
    errors: int
    warnings: int
    rows: Mapping[str, int]  # input table -> rows taken
    calendar_fallback_years: tuple[int, ...]
    dispatch: DispatchFigures
    suggested_visits: SuggestionFigures
    fees: FeeFigures
    callbacks: CallbackFigures
    quality: QualityFigures
    customers: CustomerFigures
    projects: ProjectFigures
    complaints: ComplaintFigures
    closed_month: str | None = None  # YYYY-MM when this run closed the month before (docs/rules.md § Monthly close)
