"""The manager's one-page summary: the day's figures from every other result, plus the two things
only this page asks for — how much of the dispatch for D came back as feedback, and the calls of
each working day of the month.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.coerce import day_of
from kis_batch.rules.common import complaint_calls, month_members, month_start, shown_name
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.customers import CustomerTracking, not_contacted_line
from kis_batch.rules.dispatch import DispatchResult, plan_dispatch
from kis_batch.rules.display import percent_as_of, percent_text
from kis_batch.rules.fees import FeeReport
from kis_batch.rules.leavers import still_assigned_line
from kis_batch.rules.projects import ProjectReport
from kis_batch.rules.quality import QualityReport
from kis_batch.rules.quotas import STATUSES, quota_lines
from kis_batch.rules.scoring import Scores
from kis_batch.schema import ENGINEER, IMPLEMENTER, SATISFACTION, service_happened
from kis_batch.settings import Settings
from kis_batch.tables import rows_of

# How far back to look for the working day before D (the longest holiday is 8 days).
LOOKBACK_DAYS = 31


@dataclass
class ManagerSummary:
    today: dt.date
    plan_date: dt.date
    headline: pd.DataFrame  # item, value, note: one line per figure, in reading order
    people: pd.DataFrame  # one row per engineer and specialist
    daily_calls: pd.DataFrame  # date, day (MM-DD), calls, complaints: each working day of D's month up to D
    satisfaction_mix: pd.DataFrame  # level, count


def _previous_workday(calendar: WorkCalendar, day: dt.date) -> dt.date | None:
    for back in range(1, LOOKBACK_DAYS):
        candidate = day - dt.timedelta(days=back)
        if calendar.is_workday(candidate):
            return candidate
    return None


def returned_feedback(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                      today: dt.date) -> tuple[int, int]:
    """(tickets dispatched for D, of those served on D: feedback dated D that happened). The dispatch for D is
    planned again from the folder as it stood the working day before: a pure function of the folder."""
    previous = _previous_workday(calendar, today) if calendar.is_workday(today) else None
    if previous is None:
        return 0, 0
    earlier: DispatchResult = plan_dispatch(tables, settings, calendar, previous)
    dispatched = set(earlier.assignments["ticket_id"])
    feedback = tables["feedback"]
    done = {r["ticket_id"] for r in rows_of(feedback[["ticket_id", "service_date", "result", "arrive", "leave"]])
            if r["ticket_id"] in dispatched and r["service_date"] == today and service_happened(r)}
    return len(dispatched), len(done)


def daily_calls(tables: dict[str, pd.DataFrame], calendar: WorkCalendar, today: dt.date) -> pd.DataFrame:
    calls = tables["calls"]
    called = Counter(day_of(when) for when in calls["call_time"])
    complained = Counter(day_of(when) for when in complaint_calls(calls)["call_time"])
    return pd.DataFrame([{"date": day, "day": f"{day:%m-%d}", "calls": called[day], "complaints": complained[day]}
                         for day in calendar.workdays(month_start(today), today)],
                        columns=["date", "day", "calls", "complaints"])


def _people(tables: dict[str, pd.DataFrame], dispatch: DispatchResult, scores: Scores, gaps: pd.DataFrame,
            quality: QualityReport) -> pd.DataFrame:
    staff = tables["staff"]
    tomorrow = dispatch.assignments["assignee"].value_counts().to_dict()
    by_score = scores.by_engineer.set_index("staff").to_dict("index") if len(scores.by_engineer) else {}
    by_gap = gaps.set_index("staff_id").to_dict("index") if len(gaps) else {}
    rows = []
    # A leaver who served this month stays in the table, marked 离职 (docs/rules.md § Inputs (员工名单)).
    for member in month_members(rows_of(staff), (ENGINEER, IMPLEMENTER), scores.rows["staff"]):
        gap = by_gap.get(member["staff_id"], {})
        score = by_score.get(member["staff_id"], {})
        rows.append({
            "name": shown_name(member), "role": member["role"], "tomorrow": tomorrow.get(member["staff_id"], 0),
            "resolutions": gap.get("resolutions_done"), "visits": gap.get("visits_done"), "status": gap.get("status"),
            "average": score.get("average"), "breaches": score.get("breaches", 0),
            "complaints": quality.complaints_of(member["staff_id"]),
        })
    return pd.DataFrame(rows, columns=["name", "role", "tomorrow", "resolutions", "visits", "status", "average",
                                       "breaches", "complaints"])


def _projects_line(report: ProjectReport) -> tuple[str, str, str]:
    f = report.figures
    return ("实施项目", f"本月上线 {f['live_this_month']}，待验收 {f['awaiting_acceptance']}，整改中 {f['rework']}",
            f"上线逾期 {f['live_overdue']}，验收逾期 {f['acceptance_overdue']}，交接逾期 {f['handover_overdue']}")


def _complaint_lines(complaints: ComplaintCases) -> list[tuple[str, str, str]]:
    """Open cases and those closed this month; the overdue ones by name, to report to the general
    manager (docs/rules.md § Complaint cases)."""
    f = complaints.figures
    overdue = complaints.open[complaints.open["overdue"].astype(bool)] if len(complaints.open) else complaints.open
    named = "；".join(f"{r['complaint_id']} {r['customer_name'] or r['customer_id']}（被投诉人 {r['staff_name'] or '—'}，"
                     f"已过 {r['workdays']} 个工作日，{r['status']}）" for r in rows_of(overdue))
    lines = [
        ("投诉案件", f"未结案 {f['open']} 起，超期 {f['overdue']} 起",
         f"本月已结案 {f['closed_month']} 起；立案后超过 {f['overdue_after_workdays']} 个工作日未结案即超期，见投诉跟踪表"),
        ("上报总经理", f"{f['overdue']} 起超期投诉", named or "没有超期未结案的投诉"),
    ]
    reopened = [r for r in rows_of(complaints.open) if r["reopened"]]
    if reopened:  # a case closed once and reopened since: the customer called again
        lines.append(("投诉重开", f"{len(reopened)} 起已结案的投诉重开",
                      "；".join(f"{r['complaint_id']} {r['customer_name'] or r['customer_id']}（重开 {r['reopened']} 次"
                               f"{'，' + r['notes'] if r['notes'] else ''}）" for r in reopened)))
    return lines


def manager_summary(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar, today: dt.date,
                    dispatch: DispatchResult, returned_today: tuple[int, int],
                    scores: Scores, gaps: pd.DataFrame, fees: FeeReport, quality: QualityReport,
                    callbacks: dict[str, Any], tracking: CustomerTracking,
                    complaints: ComplaintCases, errors: int, warnings: int,
                    projects: ProjectReport | None = None) -> ManagerSummary:
    """Everything the manager reads in a minute, as (item, value, note) lines and small tables.
    returned_today is returned_feedback for D; callbacks, callback_figures for D's month up to D;
    errors and warnings, the run's problems found so far; projects, the implementation projects (a
    line of their own where given)."""
    dispatched, returned = returned_today
    quality_figures, fee_figures = quality.figures, fees.figures()
    moved = int(dispatch.assignments["moved"].sum()) if len(dispatch.assignments) else 0
    statuses = gaps["status"].value_counts().to_dict() if len(gaps) else {}
    spot_done = sum(min(s["done"], s["target"]) for s in callbacks["spot_checks"])
    spot_target = sum(s["target"] for s in callbacks["spot_checks"])
    breaches = quality_figures["breaches_by_kind"]
    lines = [
        ("明日派工", f"{len(dispatch.assignments)} 单", f"改派 {moved} 单，未派 {len(dispatch.backlog)} 单顺延"),
        ("今日反馈回收", f"{returned}/{dispatched}", "今日派出的工单中已交回反馈的"),
        *quota_lines(gaps, settings, "本月"),
        ("指标状态", "，".join(f"{s} {statuses.get(s, 0)}" for s in STATUSES), "见指标缺口表"),
        ("回访覆盖", f"{quality_figures['customers_reached']}/{quality_figures['coverage_target']}",
         f"本月接通客户 {percent_as_of(quality_figures['coverage'], today)}，"
         f"目标 {percent_text(quality_figures['coverage_rule'])}"),
        ("月度抽查", f"{spot_done}/{spot_target}", f"每人每月 {settings.spot_checks_per_engineer} 家"),
        ("本月投诉", f"{quality_figures['complaints']} 起", "来电与回访合并计"),
        *_complaint_lines(complaints),
        ("客户满意度", percent_as_of(quality_figures["csat"], today), "满意+非常满意的比例"),
        ("违规", f"{quality_figures['breaches']} 次",
         f"未电话预约 {breaches['no_phone_ahead']}，超时 {breaches['over_time']}，"
         f"反馈缺失 {breaches['feedback_missing']}，上门不属实 {breaches['not_visited']}"),
        ("年费收款率", percent_as_of(fee_figures["collection_rate_month"], today),
         f"本年 {percent_as_of(fee_figures['collection_rate_year'], today)}"),
        ("年费逾期", f"{fee_figures['overdue']} 份", f"欠款 {fee_figures['overdue_balance']:,.0f} 元"),
        ("续费", f"待续费 {fee_figures['due_for_renewal']}，已过期未续 {fee_figures['lapsed']}",
         f"续费风险 {fee_figures['renewal_risk']}，未核准 {fee_figures['unapproved']}"),
        not_contacted_line(tracking),
        *([_projects_line(projects)] if projects is not None else []),
        *filter(None, [still_assigned_line(tables, today)]),
        ("校验", f"错误 {errors}，警告 {warnings}", "见校验报告"),
    ]
    mix = quality_figures["satisfaction_mix"]
    keys = ("very_satisfied", "satisfied", "neutral", "unsatisfied")
    return ManagerSummary(
        today, dispatch.plan_date,
        pd.DataFrame(lines, columns=["item", "value", "note"]),
        _people(tables, dispatch, scores, gaps, quality),
        daily_calls(tables, calendar, today),
        pd.DataFrame({"level": list(SATISFACTION), "count": [mix.get(k, 0) for k in keys]}),
    )
