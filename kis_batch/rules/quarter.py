"""The quarterly review's figures (docs/rules.md § Monthly close: 季度述职), read only from the history's
months: each month of the quarter as the history holds it (the close, else the latest month to date),
or absent — never filled in — and the quarter's key figures beside the previous quarter's.

Pure functions on the history's tables; nothing here reads or writes a file.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- A quarter's figure is the mean over the months the history holds (月均): a count per month, so a
  quarter of two months held compares with a quarter of one; a rate, the mean of those months'
  rates; the year's collection rate is the latest month's. No month held: 无数据. Each quarter says
  how many months it holds.
- The takeaways (本季度要点) are written from these figures alone: the two counts and the rate that
  changed most per month against the previous quarter, the complaint cases open and overdue at the
  end of the latest month held, the quotas and the fees of that month.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from kis_batch.rules.display import NO_DATA, change_text, figure_text, percent_text
from kis_batch.rules.figures import Figure

QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
MEAN, LATEST = "mean", "latest"
# The key figures slide: label, history figure, how a quarter takes it, how it is shown.
KEY_FIGURES = (
    ("来电（月均）", Figure.CALLS, MEAN, "int"),
    ("服务单（月均）", Figure.SERVICES, MEAN, "int"),
    ("问题解决家次（月均）", Figure.QUOTA_RESOLUTIONS, MEAN, "int"),
    ("客户拜访家次（月均）", Figure.QUOTA_VISITS, MEAN, "int"),
    ("电话/远程解决率", Figure.CALLS_SOLVED_WITHOUT_VISIT, MEAN, "percent"),
    ("客户满意率", Figure.QUALITY_CSAT, MEAN, "percent"),
    ("回访覆盖率", Figure.QUALITY_COVERAGE, MEAN, "percent"),
    ("投诉（起，月均）", Figure.QUALITY_COMPLAINTS, MEAN, "int"),
    ("本部门责任投诉（月均）", Figure.COMPLAINTS_DEPARTMENT, MEAN, "int"),
    ("违规（次，月均）", Figure.QUALITY_BREACHES, MEAN, "int"),
    ("年费收款率（月均）", Figure.FEES_COLLECTION_RATE_MONTH, MEAN, "percent"),
    ("年费收款率（本年）", Figure.FEES_COLLECTION_RATE_YEAR, LATEST, "percent"),
    ("上线项目（月均）", Figure.PROJECTS_LIVE_THIS_MONTH, MEAN, "int"),
    ("考核平均分", Figure.EVALUATION_MEAN_TOTAL, MEAN, "score"),
)
# The counts and rates the takeaways compare per month: (what, history figure, its unit).
CHANGE_COUNTS = (("来电", Figure.CALLS, "个"), ("服务单", Figure.SERVICES, "单"),
                 ("投诉", Figure.QUALITY_COMPLAINTS, "起"), ("违规", Figure.QUALITY_BREACHES, "次"))
MOST_SENTENCES = 5
CHANGE_RATES = (("客户满意率", Figure.QUALITY_CSAT), ("回访覆盖率", Figure.QUALITY_COVERAGE),
                ("年费本月收款率", Figure.FEES_COLLECTION_RATE_MONTH))


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

    @property
    def held(self) -> int:
        """How many of the quarter's months the history holds."""
        return sum(m.present for m in self.months)

    @property
    def previous_held(self) -> int:
        return sum(m.present for m in self.previous)


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
    """A figure over the months held: the mean per month, or the latest; None when no month holds it."""
    values = [m.value(figure) for m in months if m.present and m.value(figure) is not None]
    if not values:
        return None
    return sum(values) / len(values) if how == MEAN else values[-1]


def _latest(months: tuple[MonthData, ...]) -> MonthData | None:
    return next((m for m in reversed(months) if m.present), None)


def _count_change(review: QuarterReview) -> list[tuple[float, str]]:
    """(how large, the sentence) for each count both quarters hold, per month."""
    found = []
    for what, figure, unit in CHANGE_COUNTS:
        now, before = quarter_value(review.months, figure, MEAN), quarter_value(review.previous, figure, MEAN)
        if now is None or not before:
            continue
        ratio = now / before - 1
        way = "增加" if ratio > 0 else "减少" if ratio < 0 else "持平"
        by = f" {percent_text(abs(ratio))}" if ratio else ""
        found.append((abs(ratio), f"{what}月均 {figure_text(now, 'int')} {unit}，比上季度月均 "
                                  f"{figure_text(before, 'int')} {unit}{way}{by}。"))
    return sorted(found, key=lambda item: -item[0])


def _rate_change(review: QuarterReview) -> list[tuple[float, str]]:
    found = []
    for what, figure in CHANGE_RATES:
        now, before = quarter_value(review.months, figure, MEAN), quarter_value(review.previous, figure, MEAN)
        if now is not None and before is not None:
            points = change_text(now, before, "percent").lstrip("+-")
            way = f"上升 {points}" if now > before else f"下降 {points}" if now < before else "持平"
            found.append((abs(now - before), f"{what} {percent_text(now)}，比上季度 {percent_text(before)} {way}。"))
    return sorted(found, key=lambda item: -item[0])


def _status_sentences(month: MonthData) -> list[str]:
    """The latest month's complaint cases, quotas and fees, in plain sentences."""
    label, value = month.label, month.value
    sentences = []
    open_cases, overdue = value(Figure.COMPLAINTS_OPEN), value(Figure.COMPLAINTS_OVERDUE)
    if open_cases is not None:
        sentences.append(f"{label} 末未结案投诉 {open_cases:.0f} 起，其中超期 {overdue or 0:.0f} 起"
                         + ("，已上报总经理。" if overdue else "，没有超期案件。"))
    quotas = [(what, value(done), value(target)) for what, done, target in (
        ("问题解决", Figure.QUOTA_RESOLUTIONS, Figure.QUOTA_RESOLUTIONS_TARGET),
        ("客户拜访", Figure.QUOTA_VISITS, Figure.QUOTA_VISITS_TARGET)) if value(done) is not None]
    if quotas:
        parts = [f"{what} {done:,.0f} 家次" + (f"（指标 {target:,.0f}，{'已达标' if done >= target else '未达标'}）"
                                               if target else "") for what, done, target in quotas]
        sentences.append(f"{label} {'，'.join(parts)}。")
    year, balance = value(Figure.FEES_COLLECTION_RATE_YEAR), value(Figure.FEES_OVERDUE_BALANCE)
    if year is not None or balance is not None:
        sentences.append(f"{label} 年费本年收款率 {percent_text(year)}，逾期欠款 {figure_text(balance, 'money')}"
                         f"（{figure_text(value(Figure.FEES_OVERDUE), 'int')} 份）。")
    return sentences


def takeaways(review: QuarterReview) -> list[str]:
    """3–5 plain sentences for the general manager, from the history's figures alone: what changed
    most per month, then the latest month's overdue cases, quotas and fees."""
    latest = _latest(review.months)
    if latest is None:
        return [f"历史数据库中没有 {review.quarter} 任何月份的数据。"]
    status = _status_sentences(latest)
    room = MOST_SENTENCES - len(status)
    rates = [sentence for _, sentence in _rate_change(review)[:1]]
    changes = [sentence for _, sentence in _count_change(review)[:max(1, room - len(rates))]] + rates
    if not changes:
        changes = [f"上季度 {review.previous_quarter} 在历史数据库中没有数据，无法按月比较。"]
    return [*changes, *status][:MOST_SENTENCES]
