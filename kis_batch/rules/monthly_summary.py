"""The monthly summary (docs/rules.md § Monthly close: 月度总结): the department's month for the
general manager, from the same rules' results as the month's 考核 on the same day, plus the training
candidates, the quality report to the vendor (质量上报) and the trend over the months the history holds.

Pure functions on the rules' results; nothing here reads or writes a file.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- 电话/远程解决率 = calls of the month with 处理方式 电话已解决 or 远程处理 ÷ calls with a 处理方式.
- A training candidate counts the month's calls (up to the day) filed under 操作咨询 or 数据问题;
  3 or more (深层培训来电次数) is a candidate for 深层应用培训.
- 质量上报 lists the cases filed in the month, and earlier ones still open or closed in the month;
  their effect reads from 状态 and 客户确认.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.rules.common import month_start
from kis_batch.rules.complaints import CLOSED, ComplaintCases
from kis_batch.rules.customers import CustomerTracking, not_contacted_line
from kis_batch.rules.display import NO_DATA, NO_VALUE, as_of_text, change_text, figure_text, percent_as_of, percent_text
from kis_batch.rules.evaluation import MonthEvaluation
from kis_batch.rules.fees import FeeReport
from kis_batch.rules.figures import Figure
from kis_batch.rules.projects import ProjectReport
from kis_batch.rules.quality import QualityReport
from kis_batch.rules.quotas import quota_lines
from kis_batch.rules.scoring import Scores
from kis_batch.schema import CATEGORIES, HANDLINGS, SERVICE_TYPES
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of, table_rows

TRAINING = "深层应用培训"
TRAINING_CATEGORIES = ("操作咨询", "数据问题")
SOLVED_WITHOUT_VISIT = ("电话已解决", "远程处理")
TRAINING_COLUMNS = ("customer_id", "customer_name", "owner_name", "consulting", "data", "calls", "problems", "advice")
REPORT_COLUMNS = ("complaint_id", "filed", "customer_id", "customer_name", "staff_name", "content",
                  "counted_responsibility", "action", "handler_name", "status", "closed_on", "effect")
# The trend's columns: (history figure, its key in the trend frame), in the order the sheet shows them.
TREND_FIGURES = (
    (Figure.CALLS, "calls"), (Figure.SERVICES, "services"), (Figure.QUOTA_RESOLUTIONS, "resolutions"),
    (Figure.QUOTA_VISITS, "visits"), (Figure.SERVICES_MEAN_SCORE, "mean_score"), (Figure.QUALITY_CSAT, "csat"),
    (Figure.QUALITY_COMPLAINTS, "complaints"), (Figure.COMPLAINTS_DEPARTMENT, "complaints_department"),
    (Figure.QUALITY_COVERAGE, "coverage"), (Figure.FEES_COLLECTION_RATE_MONTH, "collection_month"),
    (Figure.FEES_COLLECTION_RATE_YEAR, "collection_year"), (Figure.PROJECTS_LIVE_THIS_MONTH, "projects_live"),
    (Figure.CUSTOMERS_NOT_CONTACTED, "not_contacted"), (Figure.TRAINING_CUSTOMERS, "training"),
    (Figure.EVALUATION_MEAN_TOTAL, "mean_total"),
)
TREND_COLUMNS = ("month", "as_of", "final", *(key for _, key in TREND_FIGURES))
# 概览: a line's words, then its figure this month and the month before, the change and the target;
# figure and kind (how display.figure_text writes it) say which history figure the line is.
OVERVIEW_COLUMNS = ("item", "value", "previous", "change", "target", "note", "figure", "kind")
# The rates 概览's chart sets beside the month before and their target: (label, history figure).
OVERVIEW_RATES = (("客户满意率", Figure.QUALITY_CSAT), ("回访覆盖率", Figure.QUALITY_COVERAGE),
                  ("年费本月收款率", Figure.FEES_COLLECTION_RATE_MONTH), ("电话/远程解决率", Figure.CALLS_SOLVED_WITHOUT_VISIT))
RATE_COLUMNS = ("label", "value", "previous", "target")


@dataclass(frozen=True)
class MonthlySummary:
    """Everything 月度总结_YYYY-MM.xlsx shows; trend is filled from the history when it is written."""

    month: str
    as_of: dt.date
    overview: pd.DataFrame  # OVERVIEW_COLUMNS; previous and change are filled from the history with the trend
    rates: pd.DataFrame  # RATE_COLUMNS: OVERVIEW_RATES as numbers for 概览's chart
    calls_by_category: pd.DataFrame  # label, calls, share
    calls_by_handling: pd.DataFrame  # label, calls, share
    services: pd.DataFrame  # label, services, mean_score
    quotas: pd.DataFrame  # the quota table of the day
    satisfaction: pd.DataFrame  # the quality report's, per engineer then 合计
    coverage: pd.DataFrame  # the quality report's, per 服务代表 then 合计
    complaints_by_responsibility: pd.DataFrame
    complaints_by_engineer: pd.DataFrame
    fees: pd.DataFrame  # collection per owner, then 合计
    projects: pd.DataFrame
    not_contacted: pd.DataFrame  # tracked customers 久未联系
    lookback_days: int  # the tracking's look-back for complaints and low ratings
    training: pd.DataFrame  # TRAINING_COLUMNS
    quality_report: pd.DataFrame  # REPORT_COLUMNS
    evaluation: MonthEvaluation
    trend: pd.DataFrame  # TREND_COLUMNS, one row per month of the history
    previous_month: str | None = None  # the month 概览's 上月 column shows, with its as-of; None before the history


# What the month's figures and summary read of its calls.
MONTH_CALL_COLUMNS = ("customer_id", "category", "handling", "problem")


def month_calls(tables: dict[str, pd.DataFrame], as_of: dt.date) -> pd.DataFrame:
    """The calls of as_of's month up to as_of (MONTH_CALL_COLUMNS of them: an HQ month's call log is
    300,000 rows of a score of columns)."""
    calls = table_of(tables, "calls")
    days = [day_of(when) for when in calls["call_time"].tolist()]
    first = month_start(as_of)
    return calls.loc[[d is not None and first <= d <= as_of for d in days],
                     [column for column in MONTH_CALL_COLUMNS if column in calls.columns]]


def column_values(frame: pd.DataFrame, key: str) -> list[Any]:
    """A column's values, or none where the sheet lacked that optional column."""
    return frame[key].tolist() if key in frame.columns else [None] * len(frame)


def training_candidates(tables: dict[str, pd.DataFrame], settings: Settings, calls: pd.DataFrame) -> pd.DataFrame:
    """Customers with 深层培训来电次数 or more 操作咨询/数据问题 calls in the month (calls: month_calls):
    most calls first."""
    customers = {c["customer_id"]: c for c in table_rows(tables, "customers", ("customer_id", "customer_name", "owner"))}
    names = {s["staff_id"]: s["name"] for s in table_rows(tables, "staff", ("staff_id", "name"))}
    per_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    training = calls.loc[[category in TRAINING_CATEGORIES for category in column_values(calls, "category")]]
    for call in rows_of(training, ("customer_id", "category", "problem")):
        per_customer[call["customer_id"]].append(call)
    rows = []
    for customer_id, calls in per_customer.items():
        if len(calls) < settings.training_calls:
            continue
        customer = customers.get(customer_id, {})
        kinds = Counter(c["category"] for c in calls)
        rows.append({"customer_id": customer_id, "customer_name": customer.get("customer_name"),
                     "owner_name": names.get(customer.get("owner"), customer.get("owner")),
                     "consulting": kinds[TRAINING_CATEGORIES[0]], "data": kinds[TRAINING_CATEGORIES[1]],
                     "calls": len(calls), "problems": "；".join(str(c["problem"]) for c in calls if c.get("problem")),
                     "advice": TRAINING})
    rows.sort(key=lambda r: (-r["calls"], r["customer_id"]))
    return pd.DataFrame(rows, columns=TRAINING_COLUMNS, dtype=object)


def _counted(values: list[Any], labels: tuple[str, ...]) -> pd.DataFrame:
    counts = Counter(values)
    total = sum(counts[label] for label in labels)
    return pd.DataFrame([{"label": label, "calls": counts[label], "share": counts[label] / total if total else None}
                         for label in labels], columns=["label", "calls", "share"])


def solved_without_visit(calls: pd.DataFrame) -> float | None:
    """The share of the month's calls with a 处理方式 solved by phone or remotely."""
    handled = [h for h in column_values(calls, "handling") if h in HANDLINGS]
    return sum(h in SOLVED_WITHOUT_VISIT for h in handled) / len(handled) if handled else None


def _services(scores: Scores) -> pd.DataFrame:
    rows = scores.rows
    out = []
    for label in SERVICE_TYPES:
        mine = rows[rows["service_type"] == label] if len(rows) else rows
        out.append({"label": label, "services": len(mine),
                    "mean_score": round(float(pd.to_numeric(mine["final"]).mean()), 1) if len(mine) else None})
    return pd.DataFrame(out, columns=["label", "services", "mean_score"])


def _effect(case: dict[str, Any]) -> str:
    if case["status"] == CLOSED:
        return {True: "已结案，客户认可", False: "已结案，客户不认可，需再跟进"}.get(case["confirmed"], "已结案，待客户确认")
    if case["overdue"]:
        return f"{case['status']}，已超期（{case['workdays']} 个工作日）"
    return str(case["status"])


def quality_report_rows(complaints: ComplaintCases, as_of: dt.date) -> pd.DataFrame:
    """质量上报: the month's cases and the earlier ones still open or closed this month, with the action and its effect."""
    first = month_start(as_of)
    rows = [{**{k: c.get(k) for k in REPORT_COLUMNS}, "effect": _effect(c)} for c in rows_of(complaints.cases)
            if c["filed"] >= first or c["status"] != CLOSED or (c["closed_on"] is not None and c["closed_on"] >= first)]
    return pd.DataFrame(rows, columns=REPORT_COLUMNS, dtype=object)


def _overview(evaluation: MonthEvaluation, calls: pd.DataFrame, scores: Scores, gaps: pd.DataFrame,
              quality: QualityReport, fees: FeeReport, complaints: ComplaintCases, projects: ProjectReport,
              tracking: CustomerTracking, training: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The lines the general manager reads first; each names its history figure, so 上月 and 变化 can be
    added from the history, and a month-to-date rate says the day it stands on."""
    q, f, c, p = quality.figures, fees.figures(), complaints.figures, projects.figures
    as_of = evaluation.as_of
    people = evaluation.people
    grades = "，".join(f"{g} {sum(x.grade == g for x in people)}" for g in ("A", "B", "C", "D"))
    responsibility = c["by_responsibility"]
    resolved, visited = quota_lines(gaps, settings)
    mean_total = sum(x.total for x in people) / len(people) if people else None
    # (item, value, note, its history figure, how it is written, target)
    lines = [
        ("来电", f"{figure_text(len(calls), 'int')} 个",
         f"电话或远程解决 {percent_as_of(solved_without_visit(calls), as_of)}（见来电分类）", Figure.CALLS, "int", NO_VALUE),
        ("服务", f"{figure_text(len(scores.rows), 'int')} 单", "按服务类型见服务分类", Figure.SERVICES, "int", NO_VALUE),
        (*resolved, Figure.QUOTA_RESOLUTIONS, "int", f"{settings.monthly_resolutions * len(gaps)} 家次"),
        (*visited, Figure.QUOTA_VISITS, "int", f"{settings.monthly_visits * len(gaps)} 家次"),
        ("客户满意度", percent_as_of(q["csat"], as_of), f"评价 {q['ratings']} 条，满意+非常满意的比例",
         Figure.QUALITY_CSAT, "percent", f"{percent_text(q['csat_alert'])}（提示线）"),
        ("投诉", f"{c['filed_month']} 起",
         f"本部门 {responsibility['department']}，总部 {responsibility['headquarters']}，"
         f"客户原因 {responsibility['customer']}，其他 {responsibility['other']}；未结案 {c['open']}，超期 {c['overdue']}",
         Figure.COMPLAINTS_FILED, "int", NO_VALUE),
        ("回访覆盖", percent_as_of(q["coverage"], as_of), f"接通 {q['customers_reached']}/{q['customers']} 家",
         Figure.QUALITY_COVERAGE, "percent", f"不少于 {percent_text(q['coverage_rule'])}"),
        ("违规", f"{q['breaches']} 次", "未电话预约、超时、反馈缺失、上门不属实", Figure.QUALITY_BREACHES, "int", "0 次"),
        ("年费收款率", percent_as_of(f["collection_rate_month"], as_of),
         f"本年 {percent_as_of(f['collection_rate_year'], as_of)}", Figure.FEES_COLLECTION_RATE_MONTH, "percent", NO_VALUE),
        ("实施项目", f"{p['projects']} 个", f"本月上线 {p['live_this_month']}，待验收 {p['awaiting_acceptance']}，"
         f"逾期 {p['live_overdue'] + p['acceptance_overdue'] + p['handover_overdue']}", Figure.PROJECTS, "int", NO_VALUE),
        (*not_contacted_line(tracking), Figure.CUSTOMERS_NOT_CONTACTED, "int", "0 家"),
        ("培训建议", f"{len(training)} 家", f"操作咨询和数据问题来电 {settings.training_calls} 次以上：{TRAINING}",
         Figure.TRAINING_CUSTOMERS, "int", NO_VALUE),
        ("月度考核", f"{len(people)} 人，平均 {figure_text(mean_total, 'score')} 分", f"等级 {grades}；上月、变化为平均分",
         Figure.EVALUATION_MEAN_TOTAL, "score", NO_VALUE),
    ]
    rows = [{"item": item, "value": value, "previous": None, "change": None, "target": target, "note": note,
             "figure": figure, "kind": kind} for item, value, note, figure, kind, target in lines]
    return pd.DataFrame(rows, columns=OVERVIEW_COLUMNS, dtype=object)


def _rates(quality: QualityReport, fees: FeeReport, calls: pd.DataFrame) -> pd.DataFrame:
    """OVERVIEW_RATES of the month as numbers, for 概览's chart (上月 filled with the trend)."""
    q = quality.figures
    values = {Figure.QUALITY_CSAT: (q["csat"], q["csat_alert"]), Figure.QUALITY_COVERAGE: (q["coverage"], q["coverage_rule"]),
              Figure.FEES_COLLECTION_RATE_MONTH: (fees.figures()["collection_rate_month"], None),
              Figure.CALLS_SOLVED_WITHOUT_VISIT: (solved_without_visit(calls), None)}
    return pd.DataFrame([{"label": label, "value": values[figure][0], "previous": None, "target": values[figure][1]}
                         for label, figure in OVERVIEW_RATES], columns=RATE_COLUMNS, dtype=object)


def monthly_summary(tables: dict[str, pd.DataFrame], settings: Settings, evaluation: MonthEvaluation, scores: Scores,
                    gaps: pd.DataFrame, quality: QualityReport, fees: FeeReport, complaints: ComplaintCases,
                    projects: ProjectReport, tracking: CustomerTracking) -> MonthlySummary:
    """The month as of the 考核's day from the rules' results of that day (the trend is left empty)."""
    as_of = evaluation.as_of
    calls = month_calls(tables, as_of)
    training = training_candidates(tables, settings, calls)
    tracked = tracking.customers
    return MonthlySummary(
        evaluation.month, as_of,
        _overview(evaluation, calls, scores, gaps, quality, fees, complaints, projects, tracking, training, settings),
        _rates(quality, fees, calls),
        _counted(column_values(calls, "category"), CATEGORIES), _counted(column_values(calls, "handling"), HANDLINGS),
        _services(scores), gaps, quality.satisfaction, quality.coverage, complaints.by_responsibility,
        complaints.by_engineer, fees.collection, projects.projects,
        tracked[tracked["overdue"].astype(bool)] if len(tracked) else tracked, tracking.lookback_days,
        training, quality_report_rows(complaints, as_of), evaluation, pd.DataFrame(columns=TREND_COLUMNS),
    )


def trend_of(month_figures: pd.DataFrame) -> pd.DataFrame:
    """One row per month of the history's month_figures, in month order (a figure a month lacks stays empty)."""
    rows = []
    for month, frame in month_figures.groupby("month", sort=True):
        values = dict(zip(frame["figure"], frame["value"], strict=True))
        rows.append({"month": month, "as_of": frame["as_of"].iloc[0], "final": "是" if frame["final"].iloc[0] else "否",
                     **{key: values.get(figure) for figure, key in TREND_FIGURES}})
    return pd.DataFrame(rows, columns=TREND_COLUMNS, dtype=object)


def _month_before(month: str) -> str:
    first = dt.date.fromisoformat(f"{month}-01")
    return f"{month_start(first - dt.timedelta(days=1)):%Y-%m}"


def with_history(summary: MonthlySummary, month_figures: pd.DataFrame) -> MonthlySummary:
    """The summary with the history's months (month_figures, this month's own figures among them): the
    trend, and 概览's 上月 and 变化 against the month before as the history holds it (无数据 where it
    holds none)."""
    trend = trend_of(month_figures)
    by_month = {month: dict(zip(frame["figure"], frame["value"], strict=True))
                for month, frame in month_figures.groupby("month")}
    mine = by_month.get(summary.month, {})
    previous = _month_before(summary.month)
    before = by_month.get(previous)
    overview, rates = summary.overview.copy(), summary.rates.copy()
    if before is None:
        overview["previous"] = NO_DATA
        return replace(summary, overview=overview, rates=rates, trend=trend, previous_month=f"{previous}（{NO_DATA}）")
    overview["previous"] = [figure_text(before.get(figure), kind) for figure, kind in
                            zip(overview["figure"], overview["kind"], strict=True)]
    overview["change"] = [change_text(mine.get(figure), before.get(figure), kind) for figure, kind in
                          zip(overview["figure"], overview["kind"], strict=True)]
    rates["previous"] = [before.get(figure) for _, figure in OVERVIEW_RATES]
    row = trend[trend["month"] == previous].iloc[0]
    label = previous if row["final"] == "是" else f"{previous}{as_of_text(dt.date.fromisoformat(row['as_of']))}"
    return replace(summary, overview=overview, rates=rates, trend=trend, previous_month=label)
