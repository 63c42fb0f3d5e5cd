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
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.rules.common import month_start
from kis_batch.rules.complaints import CLOSED, ComplaintCases
from kis_batch.rules.customers import CustomerTracking
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


@dataclass(frozen=True)
class MonthlySummary:
    """Everything 月度总结_YYYY-MM.xlsx shows; trend is filled from the history when it is written."""

    month: str
    as_of: dt.date
    overview: pd.DataFrame  # item, value, note
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


def month_calls(tables: dict[str, pd.DataFrame], as_of: dt.date) -> pd.DataFrame:
    """The calls of as_of's month up to as_of."""
    calls = table_of(tables, "calls")
    days = [day_of(when) for when in calls["call_time"].tolist()]
    first = month_start(as_of)
    return calls[[d is not None and first <= d <= as_of for d in days]]


def column_values(frame: pd.DataFrame, key: str) -> list[Any]:
    """A column's values, or none where the sheet lacked that optional column."""
    return frame[key].tolist() if key in frame.columns else [None] * len(frame)


def training_candidates(tables: dict[str, pd.DataFrame], settings: Settings, as_of: dt.date) -> pd.DataFrame:
    """Customers with 深层培训来电次数 or more 操作咨询/数据问题 calls in the month: most calls first."""
    customers = {c["customer_id"]: c for c in table_rows(tables, "customers")}
    names = {s["staff_id"]: s["name"] for s in table_rows(tables, "staff")}
    per_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for call in rows_of(month_calls(tables, as_of)):
        if call.get("category") in TRAINING_CATEGORIES:
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


def _percent(value: float | None) -> str:
    return "—" if value is None or pd.isna(value) else f"{value:.1%}"


def _overview(evaluation: MonthEvaluation, calls: pd.DataFrame, scores: Scores, gaps: pd.DataFrame,
              quality: QualityReport, fees: FeeReport, complaints: ComplaintCases, projects: ProjectReport,
              tracking: CustomerTracking, training: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    q, f, c, p = quality.figures, fees.figures(), complaints.figures, projects.figures
    people = evaluation.people
    grades = "，".join(f"{g} {sum(x.grade == g for x in people)}" for g in ("A", "B", "C", "D"))
    responsibility = c["by_responsibility"]
    lines = [
        ("来电", f"{len(calls)} 个", f"电话或远程解决 {_percent(solved_without_visit(calls))}（见来电分类）"),
        ("服务", f"{len(scores.rows)} 单", "按服务类型见服务分类"),
        *quota_lines(gaps, settings),
        ("客户满意度", _percent(q["csat"]), f"评价 {q['ratings']} 条，满意+非常满意的比例"),
        ("投诉", f"{c['filed_month']} 起",
         f"本部门 {responsibility['department']}，总部 {responsibility['headquarters']}，"
         f"客户原因 {responsibility['customer']}，其他 {responsibility['other']}；未结案 {c['open']}，超期 {c['overdue']}"),
        ("回访覆盖", _percent(q["coverage"]), f"接通 {q['customers_reached']}/{q['customers']} 家，目标 {_percent(q['coverage_rule'])}"),
        ("违规", f"{q['breaches']} 次", "未电话预约、超时、反馈缺失、上门不属实"),
        ("年费收款率", _percent(f["collection_rate_month"]), f"本年 {_percent(f['collection_rate_year'])}"),
        ("实施项目", f"{p['projects']} 个", f"本月上线 {p['live_this_month']}，待验收 {p['awaiting_acceptance']}，"
         f"逾期 {p['live_overdue'] + p['acceptance_overdue'] + p['handover_overdue']}"),
        ("重点客户久未联系", f"{tracking.figures['not_contacted']} 家", f"跟踪客户 {tracking.figures['tracked']} 家"),
        ("培训建议", f"{len(training)} 家", f"操作咨询和数据问题来电 {settings.training_calls} 次以上：{TRAINING}"),
        ("月度考核", f"{len(people)} 人", f"等级 {grades}"),
    ]
    return pd.DataFrame(lines, columns=["item", "value", "note"])


def monthly_summary(tables: dict[str, pd.DataFrame], settings: Settings, evaluation: MonthEvaluation, scores: Scores,
                    gaps: pd.DataFrame, quality: QualityReport, fees: FeeReport, complaints: ComplaintCases,
                    projects: ProjectReport, tracking: CustomerTracking) -> MonthlySummary:
    """The month as of the 考核's day from the rules' results of that day (the trend is left empty)."""
    as_of = evaluation.as_of
    calls = month_calls(tables, as_of)
    training = training_candidates(tables, settings, as_of)
    tracked = tracking.customers
    return MonthlySummary(
        evaluation.month, as_of,
        _overview(evaluation, calls, scores, gaps, quality, fees, complaints, projects, tracking, training, settings),
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
