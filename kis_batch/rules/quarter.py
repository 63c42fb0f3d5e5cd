"""The quarterly review's figures (docs/rules.md § Monthly close: 季度述职), read only from the history's
months: each month of the quarter as the history holds it (the close, else the latest month to date),
or absent — never filled in — and the quarter's key figures beside the previous quarter's.

Pure functions on the history's tables; nothing here reads or writes a file.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- A quarter's count (calls, services, complaints …) is the sum over the months the history holds; a
  rate (satisfaction, coverage, the month's collection rate, the mean 考核) is the mean of those months'
  rates; the year's collection rate is the latest month's. No month held: 无数据.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.rules.figures import Figure

NO_DATA = "无数据"
QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
SUM, MEAN, LATEST = "sum", "mean", "latest"
# The key figures slide: label, history figure, how a quarter takes it, how it is shown.
KEY_FIGURES = (
    ("来电", Figure.CALLS, SUM, "int"),
    ("服务单", Figure.SERVICES, SUM, "int"),
    ("问题解决家次", Figure.QUOTA_RESOLUTIONS, SUM, "int"),
    ("客户拜访家次", Figure.QUOTA_VISITS, SUM, "int"),
    ("电话/远程解决率", Figure.CALLS_SOLVED_WITHOUT_VISIT, MEAN, "percent"),
    ("客户满意率", Figure.QUALITY_CSAT, MEAN, "percent"),
    ("回访覆盖率", Figure.QUALITY_COVERAGE, MEAN, "percent"),
    ("投诉（起）", Figure.QUALITY_COMPLAINTS, SUM, "int"),
    ("本部门责任投诉", Figure.COMPLAINTS_DEPARTMENT, SUM, "int"),
    ("违规（次）", Figure.QUALITY_BREACHES, SUM, "int"),
    ("年费收款率（月均）", Figure.FEES_COLLECTION_RATE_MONTH, MEAN, "percent"),
    ("年费收款率（本年）", Figure.FEES_COLLECTION_RATE_YEAR, LATEST, "percent"),
    ("上线项目", Figure.PROJECTS_LIVE_THIS_MONTH, SUM, "int"),
    ("考核平均分", Figure.EVALUATION_MEAN_TOTAL, MEAN, "score"),
)


@dataclass(frozen=True)
class MonthData:
    """One month of the quarter as the history holds it; no figures when it holds none."""

    month: str  # YYYY-MM
    as_of: str | None
    final: bool
    figures: dict[str, float]  # as stored, by figure name
    people: pd.DataFrame  # person_months rows of the month, in rank order

    @property
    def present(self) -> bool:
        return bool(self.figures)

    @property
    def label(self) -> str:
        """The month as a chart category: 2026-10, 2026-11（截至11-27）, 2026-12（无数据）."""
        if not self.present:
            return f"{self.month}（{NO_DATA}）"
        return self.month if self.final else f"{self.month}（截至{self.as_of[5:]}）"

    def value(self, figure: Figure | str) -> float | None:
        """The month's figure, or None when the history has none; ValueError for a name never declared."""
        return self.figures.get(Figure(figure))


@dataclass(frozen=True)
class QuarterReview:
    quarter: str  # YYYY-Qn
    months: tuple[MonthData, ...]
    previous_quarter: str
    previous: tuple[MonthData, ...]

    @property
    def missing(self) -> list[str]:
        return [m.month for m in self.months if not m.present]


def parse_quarter(text: str) -> tuple[int, int]:
    """2026-Q4 (or 2026Q4, 2026-q4) as (year, quarter); ValueError otherwise."""
    match = QUARTER.match(text.strip())
    if match is None:
        raise ValueError(f"季度“{text}”的格式不对，应为 YYYY-Qn，如 2026-Q4")
    return int(match.group(1)), int(match.group(2))


def quarter_name(year: int, quarter: int) -> str:
    return f"{year}-Q{quarter}"


def quarter_months(year: int, quarter: int) -> list[dt.date]:
    """The first days of the quarter's three months."""
    return [dt.date(year, 3 * (quarter - 1) + n, 1) for n in (1, 2, 3)]


def previous_quarter(year: int, quarter: int) -> tuple[int, int]:
    return (year, quarter - 1) if quarter > 1 else (year - 1, 4)


def _month(month: str, figures: pd.DataFrame, people: pd.DataFrame) -> MonthData:
    mine = figures[figures["month"] == month]
    staff = people[people["month"] == month].sort_values("rank") if len(people) else people
    if not len(mine):
        return MonthData(month, None, False, {}, staff.reset_index(drop=True))
    return MonthData(month, str(mine["as_of"].iloc[0]), bool(mine["final"].iloc[0]),
                     {str(k): float(v) for k, v in zip(mine["figure"], mine["value"], strict=True)},
                     staff.reset_index(drop=True))


def quarter_review(year: int, quarter: int, month_figures: pd.DataFrame, person_months: pd.DataFrame) -> QuarterReview:
    """The quarter's months and the previous quarter's, from the history's month_figures and person_months."""
    before = previous_quarter(year, quarter)
    return QuarterReview(
        quarter_name(year, quarter),
        tuple(_month(f"{d:%Y-%m}", month_figures, person_months) for d in quarter_months(year, quarter)),
        quarter_name(*before),
        tuple(_month(f"{d:%Y-%m}", month_figures, person_months) for d in quarter_months(*before)),
    )


def quarter_value(months: tuple[MonthData, ...], figure: Figure, how: str) -> float | None:
    """A figure over the months held (sum, mean or the latest); None when no month holds it."""
    values = [m.value(figure) for m in months if m.present and m.value(figure) is not None]
    if not values:
        return None
    if how == SUM:
        return float(sum(values))
    if how == MEAN:
        return sum(values) / len(values)
    return values[-1]


def shown(value: Any, kind: str) -> str:
    """A figure as the deck writes it."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return "—"
    if kind == "percent":
        return f"{value:.1%}"
    if kind == "score":
        return f"{value:.1f}"
    if kind == "money":
        return f"¥{value:,.0f}"
    return f"{value:,.0f}"


def change(now: float | None, before: float | None, kind: str) -> str:
    """本季度 against 上季度: the difference (percentage points for a rate)."""
    if now is None or before is None:
        return "—"
    diff = now - before
    if kind == "percent":
        return f"{diff * 100:+.1f} 个百分点"
    return f"{diff:+.1f}" if kind == "score" else f"{diff:+,.0f}"
