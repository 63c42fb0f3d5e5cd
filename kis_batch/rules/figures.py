"""Figures as typed values. A run's key figures: what run.json records under "figures" (docs/rules.md
§ Outputs). Each rule keeps returning its natural result; these are built from it, so a figure
renamed or dropped in a rule fails here, at construction, rather than as a missing key in a reader.
Fields are declared in the order run.json shows them: `to_json()` gives the same JSON, key for key.

And a month's figures, as the history keeps them: each under a declared `Figure`, so a name
misspelt where the figures are made or read fails at once (ValueError naming it) instead of
showing as an empty cell in the 月度总结 or the 季度述职.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import pandas as pd

from kis_batch.rules.callbacks import CallbackPlan
from kis_batch.rules.complaint_records import SOURCES
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.customers import CustomerTracking
from kis_batch.rules.dispatch import DispatchResult, dispatch_figures
from kis_batch.rules.evaluation import GRADES
from kis_batch.rules.fees import FeeReport
from kis_batch.rules.projects import ProjectReport
from kis_batch.rules.quality import BREACH_KINDS, LEVEL_KEYS, QualityReport
from kis_batch.rules.suggestions import suggestion_figures
from kis_batch.schema import CATEGORIES, HANDLINGS, SERVICE_TYPES

# Figures kept per label and read by none by name: (the family, its labels); each label's figure is
# family.label (calls.category.安装 …).
FIGURE_FAMILIES = (
    ("calls.category", CATEGORIES), ("calls.handling", HANDLINGS), ("services.type", SERVICE_TYPES),
    ("quality.complaints_by_source", tuple(SOURCES)), ("quality.satisfaction_mix", tuple(LEVEL_KEYS.values())),
    ("quality.breaches_by_kind", tuple(BREACH_KINDS.values())), ("evaluation.grade", GRADES),
)


class Figure(StrEnum):
    """Every figure the history keeps of a month (its month_figures rows), by the name stored there."""

    _ignore_ = "declared family labels label"

    CALLS = "calls"
    CALLS_SOLVED_WITHOUT_VISIT = "calls.solved_without_visit"
    SERVICES = "services"
    SERVICES_MEAN_SCORE = "services.mean_score"
    QUOTA_RESOLUTIONS = "quota.resolutions"
    QUOTA_VISITS = "quota.visits"
    QUOTA_RESOLUTIONS_TARGET = "quota.resolutions_target"
    QUOTA_VISITS_TARGET = "quota.visits_target"
    QUALITY_COMPLAINTS = "quality.complaints"
    QUALITY_COMPLAINTS_YEAR = "quality.complaints_year"
    QUALITY_RATINGS = "quality.ratings"
    QUALITY_CSAT = "quality.csat"
    QUALITY_CSAT_FEEDBACK = "quality.csat_feedback"
    QUALITY_CSAT_CALLBACKS = "quality.csat_callbacks"
    QUALITY_CSAT_ALERT = "quality.csat_alert"
    QUALITY_CUSTOMERS = "quality.customers"
    QUALITY_CUSTOMERS_REACHED = "quality.customers_reached"
    QUALITY_COVERAGE = "quality.coverage"
    QUALITY_COVERAGE_RULE = "quality.coverage_rule"
    QUALITY_COVERAGE_TARGET = "quality.coverage_target"
    QUALITY_COVERAGE_PACE = "quality.coverage_pace"
    QUALITY_BREACHES = "quality.breaches"
    FEES_CONTRACTS = "fees.contracts"
    FEES_OVERDUE = "fees.overdue"
    FEES_OVERDUE_BALANCE = "fees.overdue_balance"
    FEES_DUE_FOR_RENEWAL = "fees.due_for_renewal"
    FEES_LAPSED = "fees.lapsed"
    FEES_RENEWAL_RISK = "fees.renewal_risk"
    FEES_UNAPPROVED = "fees.unapproved"
    FEES_CHASE = "fees.chase"
    FEES_COLLECTION_RATE_MONTH = "fees.collection_rate_month"
    FEES_COLLECTION_RATE_YEAR = "fees.collection_rate_year"
    EVALUATION_PEOPLE = "evaluation.people"
    EVALUATION_MEAN_TOTAL = "evaluation.mean_total"
    COMPLAINTS_DEPARTMENT = "complaints.department"
    COMPLAINTS_HEADQUARTERS = "complaints.headquarters"
    COMPLAINTS_CUSTOMER = "complaints.customer"
    COMPLAINTS_OTHER = "complaints.other"
    COMPLAINTS_FILED = "complaints.filed"
    COMPLAINTS_OPEN = "complaints.open"
    COMPLAINTS_OVERDUE = "complaints.overdue"
    COMPLAINTS_CLOSED = "complaints.closed"
    PROJECTS = "projects.projects"
    PROJECTS_LIVE_THIS_MONTH = "projects.live_this_month"
    PROJECTS_AWAITING_ACCEPTANCE = "projects.awaiting_acceptance"
    PROJECTS_REWORK = "projects.rework"
    PROJECTS_LIVE_OVERDUE = "projects.live_overdue"
    PROJECTS_ACCEPTANCE_OVERDUE = "projects.acceptance_overdue"
    PROJECTS_HANDOVER_OVERDUE = "projects.handover_overdue"
    CUSTOMERS_TRACKED = "customers.tracked"
    CUSTOMERS_NOT_CONTACTED = "customers.not_contacted"
    CUSTOMERS_GROUPS = "customers.groups"
    CUSTOMERS_TRACKED_BY_SEGMENT_KEY = "customers.tracked_by_segment.key"
    CUSTOMERS_TRACKED_BY_SEGMENT_LARGE = "customers.tracked_by_segment.large"
    CUSTOMERS_TRACKED_BY_SEGMENT_GROUP = "customers.tracked_by_segment.group"
    CUSTOMERS_TRACKED_BY_SEGMENT_REMOTE = "customers.tracked_by_segment.remote"
    CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_KEY = "customers.not_contacted_by_segment.key"
    CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_LARGE = "customers.not_contacted_by_segment.large"
    CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_GROUP = "customers.not_contacted_by_segment.group"
    CUSTOMERS_NOT_CONTACTED_BY_SEGMENT_REMOTE = "customers.not_contacted_by_segment.remote"
    TRAINING_CUSTOMERS = "training.customers"
    # One member per label of each family (calls.category.安装 …), named as its value in capitals.
    declared = vars()
    for family, labels in FIGURE_FAMILIES:
        for label in labels:
            declared[f"{family}_{label}".replace(".", "_").upper()] = f"{family}.{label}"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, float]:
    """Nested figures as dotted names with their numbers (text, None and flags left out); a list of
    per-person dicts is keyed by staff_id, any other list by position."""
    flat: dict[str, float] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, (list, tuple)):
            for index, item in enumerate(value):
                label = item.get("staff_id", index) if isinstance(item, Mapping) else index
                flat.update(flatten(item, f"{name}.{label}.") if isinstance(item, Mapping)
                            else flatten({str(label): item}, f"{name}."))
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            flat[name] = float(value)
    return flat


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
    closed_month: str | None = None  # the latest month this run closed (docs/rules.md § A month's life)
    closed_months: tuple[str, ...] = ()  # every month this run closed, oldest first
    archivable: tuple[str, ...] = ()  # the folder's files holding only closed months' rows
    carried_rows: int = 0  # rows carried from closed months that the folder no longer holds
