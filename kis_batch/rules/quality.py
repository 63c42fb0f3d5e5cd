"""Service quality (docs/rules.md § Quality: 质量_D): complaints, satisfaction, callback coverage and rule
breaches for the month of D up to D, so the manager sees each month whom customers complain about,
how satisfied they are, whether the hotline reaches enough of them and where the rules were broken.

Pure functions on the ingested tables and the day's scores; nothing here reads or writes a file.
Breaches and the tying of a complaint to a visit come from scoring, so the two reports never disagree.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- A complaint is a 投诉 call or a callback with 投诉=是, up to D. Records about the same visit (tied as
  scoring ties them) are one complaint: the hotline's record and the callback usually are the same
  one. A callback naming a 投诉 call's 工单号 is that call's complaint. Otherwise each call is one
  complaint, and one customer's complaining callbacks of one day are one. A complaint counts in the
  month of its first record; its source is 来电投诉, 回访投诉 or 来电+回访 (both).
- The engineer concerned: the visit's engineer when tied; else the callback's 服务代表; else the
  customer's 服务代表. The 认定依据 column says which.
- "Per category": the call log files every complaint under 投诉 itself, so complaints are counted by
  source and by the 服务类型 of the visit concerned (未关联服务 when none).
- Satisfaction from feedback is the month's scored rows, by the engineer who served; from callbacks,
  the month's callbacks with 接通=是, by the callback's 服务代表, else the customer's. A blank rating
  is 未评价 and stays out of CSAT (a share of ratings must not invent ratings; scoring still gives
  it no points). Combined pools both.
- Coverage: distinct customers of 客户档案 reached (接通=是) by any callback this month ÷ all customers,
  against ceil(rule × customers); the status compares it with a straight line over the month's
  working days, as the quota gaps do: 已达标 / 正常 / 落后. It is also shown per customer's 服务代表,
  though the rule binds the department as a whole; beside it, the 服务代表's own 月度抽查 of the month,
  counted as the 回访 lists count them (callbacks.spot_checks_done: by the engineer checked).
- 投诉按月份 and 今年累计: a month before D's that the history holds (its close, else its latest month
  to date) is the history's count, said so in 数据来源; D's month, and a month the history lacks, are
  counted from the folder.
- Breaches, one row each: scoring's breaches of the month's scored rows; a 上门属实=否 callback that
  ties to no on-site feedback (of the callback's 服务代表, else the customer's); feedback missing =
  a feedback row not done yet (schema.service_happened: no 处理结果 and no times) dated in the month
  up to D, unless the same 工单号 (without one: the same customer and engineer) has a service that
  happened dated on or after it up to D.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.coerce import day_of
from kis_batch.rules.callbacks import SPOT_CHECK, coverage_target, spot_checks_done
from kis_batch.rules.common import month_start, staff_order
from kis_batch.rules.complaint_records import COMPLAINT_COLUMNS, SOURCES, People, complaint_rows
from kis_batch.rules.display import NO_DATA, as_of_text
from kis_batch.rules.scoring import NO_PHONE_AHEAD, NOT_VISITED, OVER_TIME, Event, Scores
from kis_batch.schema import CALLBACK_KINDS, SATISFACTION, SERVICE_FACTS, SERVICE_TYPES, VISIT_TYPE, service_happened
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of, table_rows

# A colour cue for the manager, not a department rule: the rules set no satisfaction target, so a CSAT
# under this share is marked for a look rather than judged against a number from 规则设置.
CSAT_ALERT = 0.90
SATISFIED = SATISFACTION[:2]  # 非常满意, 满意: CSAT counts these
LEVEL_KEYS = dict(zip(SATISFACTION, ("very_satisfied", "satisfied", "neutral", "unsatisfied"), strict=True))
RATING_SOURCES = ("feedback", "callbacks", "all")

FEEDBACK_MISSING = "反馈缺失"
BREACH_KINDS = {NO_PHONE_AHEAD: "no_phone_ahead", OVER_TIME: "over_time", FEEDBACK_MISSING: "feedback_missing",
                NOT_VISITED: "not_visited"}

UNLINKED = "未关联服务"
TOTAL = "合计"
REACHED, ON_TRACK, BEHIND = "已达标", "正常", "落后"
CSAT_OK, CSAT_LOW, NO_RATINGS = "正常", "偏低", "无评价"
NONE_FOUND, COMPLAINED, BROKEN = "无", "有投诉", "有违规"

COUNT_COLUMNS = (*SOURCES, "total")
SATISFACTION_COLUMNS = (
    "staff", "staff_name",
    *(f"{source}_{key}" for source in RATING_SOURCES[:2] for key in (*LEVEL_KEYS.values(), "count", "csat")),
    "all_count", "all_csat", "feedback_unrated",
)
MIX_COLUMNS = ("satisfaction", "feedback", "callbacks", "all")
KIND_KEYS = dict(zip(CALLBACK_KINDS, ("verification", "spot_check", "satisfaction_call"), strict=True))
COVERAGE_COLUMNS = ("staff", "staff_name", "customers", "reached", "coverage", *KIND_KEYS.values(), "unanswered")
BREACH_COLUMNS = ("service_date", "staff", "staff_name", "customer_id", "customer_name", "ticket_id", "service_type",
                  "mode", "kind", "reason")
BREACH_COUNT_COLUMNS = ("staff", "staff_name", "feedback", *BREACH_KINDS.values(), "total")
OVERVIEW_COLUMNS = ("item", "count", "rate", "target", "status", "note")
MONTH_COLUMNS = ("month", *COUNT_COLUMNS, "source")
FROM_FOLDER = "本次运行"


@dataclass(frozen=True)
class HeldMonth:
    """An earlier month's complaints as the history holds them: by source (calls, callbacks, both) and
    total, and where they come from (历史：已结账, or 历史：截至MM-DD)."""

    counts: dict[str, int]
    source: str


@dataclass
class QualityReport:
    """The month's quality tables (the *_COLUMNS above) and its key figures for run.json and the
    manager's report."""

    today: dt.date
    overview: pd.DataFrame
    complaints: pd.DataFrame  # this month's, one row per complaint
    complaints_by_engineer: pd.DataFrame
    complaints_by_type: pd.DataFrame
    complaints_by_month: pd.DataFrame  # January to D's month
    satisfaction: pd.DataFrame  # per engineer, then 合计
    satisfaction_mix: pd.DataFrame
    coverage: pd.DataFrame  # per customer's 服务代表, then 合计
    breaches: pd.DataFrame
    breaches_by_engineer: pd.DataFrame
    figures: dict[str, Any]

    def complaints_of(self, staff: str) -> int:
        """This month's complaints about one person, as the 投诉统计 sheet counts them."""
        rows = self.complaints_by_engineer
        return int(rows.loc[rows["staff"] == staff, "total"].sum())


def _frame(rows: list[dict[str, Any]], columns: Iterable[str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=list(columns), dtype=object)


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


# Complaints (the records themselves: rules/complaint_records.py) ------------------------------------

def _counts(rows: list[dict[str, Any]]) -> dict[str, int]:
    """Complaints by source, and their total."""
    by_source = Counter(r["source"] for r in rows)
    counts = {key: by_source[label] for key, label in SOURCES.items()}
    return {**counts, "total": len(rows)}


def _months(year: list[dict[str, Any]], today: dt.date, held: Mapping[int, HeldMonth],
            first_call: dt.date | None) -> list[dict[str, Any]]:
    """The year to date per month: the history's count where it holds an earlier month, else the
    folder's; a month before the folder's first call that the history lacks is 无数据, not 0."""
    rows = []
    for m in range(1, today.month + 1):
        if m < today.month and m in held:
            rows.append({"month": f"{m}月", **held[m].counts, "source": held[m].source})
        elif m < today.month and (first_call is None or dt.date(today.year, m + 1, 1) <= first_call):
            rows.append({"month": f"{m}月", **dict.fromkeys(COUNT_COLUMNS), "source": NO_DATA})
        else:
            counted = _counts([r for r in year if r["date"].month == m])
            rows.append({"month": f"{m}月", **counted, "source": FROM_FOLDER + (as_of_text(today) if m == today.month
                                                                                 else "")})
    return rows


def _complaint_tables(year: list[dict[str, Any]], month: list[dict[str, Any]], today: dt.date, people: People,
                      held: Mapping[int, HeldMonth], first_call: dt.date | None) -> tuple[
                          pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """This month per engineer (with 合计) and per service type; the year to date per month."""
    per_staff: dict[str | None, list[dict[str, Any]]] = defaultdict(list)
    per_type: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in month:
        per_staff[r["staff"]].append(r)
        per_type[r["service_type"] or UNLINKED].append(r)
    engineers = [{"staff": s, "staff_name": people.name(s), **_counts(per_staff[s])}
                 for s in people.roster(per_staff)]
    engineers.append({"staff": None, "staff_name": TOTAL, **_counts(month)})
    types = [{"service_type": t, **_counts(per_type[t])} for t in (*SERVICE_TYPES, UNLINKED)]
    return (_frame(engineers, ("staff", "staff_name", *COUNT_COLUMNS)),
            _frame(types, ("service_type", *COUNT_COLUMNS)),
            _frame(_months(year, today, held, first_call), MONTH_COLUMNS))


# Satisfaction --------------------------------------------------------------------------------------

def _ratings(scores: Scores, callbacks: list[dict[str, Any]], people: People) -> dict[str, list[tuple[str, str | None]]]:
    """(engineer, rating) pairs per source; a rating may be blank."""
    from_feedback = list(zip(scores.rows["staff"], scores.rows["satisfaction"], strict=True))
    from_callbacks = [(c["staff"] or people.owner(c["customer_id"]), c["satisfaction"])
                      for c in callbacks if c["reached"] is True]
    return {"feedback": from_feedback, "callbacks": from_callbacks}


def _satisfaction_row(staff: str | None, name: str | None, ratings: dict[str, list[str | None]]) -> dict[str, Any]:
    row: dict[str, Any] = {"staff": staff, "staff_name": name}
    for source, given in ratings.items():
        counts = Counter(r for r in given if r is not None)
        rated = sum(counts.values())
        row.update({f"{source}_{key}": counts[level] for level, key in LEVEL_KEYS.items()})
        row.update({f"{source}_count": rated, f"{source}_csat": _share(sum(counts[s] for s in SATISFIED), rated)})
    rated = row["feedback_count"] + row["callbacks_count"]
    satisfied = sum(row[f"{source}_{LEVEL_KEYS[s]}"] for source in ratings for s in SATISFIED)
    row.update({"all_count": rated, "all_csat": _share(satisfied, rated),
                "feedback_unrated": sum(r is None for r in ratings["feedback"])})
    return row


def _satisfaction_tables(ratings: dict[str, list[tuple[str, str | None]]], people: People) -> tuple[
        pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Per engineer and 合计; the overall mix for the chart; the 合计 row itself for the figures."""
    staffed = {source: defaultdict(list) for source in ratings}
    for source, pairs in ratings.items():
        for staff, rating in pairs:
            staffed[source][staff].append(rating)
    rows = [_satisfaction_row(s, people.name(s), {src: staffed[src][s] for src in ratings})
            for s in people.roster(*(staffed[src] for src in ratings))]
    total = _satisfaction_row(None, TOTAL, {src: [r for _, r in pairs] for src, pairs in ratings.items()})
    rows.append(total)
    mix = [{"satisfaction": level, "feedback": total[f"feedback_{key}"], "callbacks": total[f"callbacks_{key}"],
            "all": total[f"feedback_{key}"] + total[f"callbacks_{key}"]} for level, key in LEVEL_KEYS.items()]
    return _frame(rows, SATISFACTION_COLUMNS), _frame(mix, MIX_COLUMNS), total


# Coverage ------------------------------------------------------------------------------------------

def _coverage(callbacks: list[dict[str, Any]], people: People, settings: Settings, calendar: WorkCalendar,
              today: dt.date) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Customers reached this month, per customer's 服务代表 and in all, and the status against the rule."""
    reached_by_kind: dict[str, set[str]] = defaultdict(set)
    tried: set[str] = set()
    for c in callbacks:
        if c["customer_id"] in people.customers:
            if c["reached"] is True:
                reached_by_kind[c["kind"]].add(c["customer_id"])
            elif c["reached"] is False:
                tried.add(c["customer_id"])
    reached = set().union(*reached_by_kind.values())
    spot_done = spot_checks_done(callbacks, month_start(today), today)

    def row(staff: str | None, name: str | None, customers: set[str], spot_checks: int) -> dict[str, Any]:
        got = customers & reached
        return {"staff": staff, "staff_name": name, "customers": len(customers), "reached": len(got),
                "coverage": _share(len(got), len(customers)),
                **{key: len(customers & reached_by_kind[kind]) for kind, key in KIND_KEYS.items()},
                KIND_KEYS[SPOT_CHECK]: spot_checks, "unanswered": len((customers & tried) - reached)}

    owned: dict[str | None, set[str]] = defaultdict(set)
    for customer, record in people.customers.items():
        owned[record["owner"]].add(customer)
    rows = [row(s, people.name(s), owned[s], len(spot_done.get(s or "", ())))
            for s in sorted(owned.keys() | spot_done.keys(), key=lambda s: staff_order(s or ""))]
    rows.append(row(None, TOTAL, set(people.customers), sum(len(done) for done in spot_done.values())))

    target = coverage_target(settings, len(people.customers))
    workdays = calendar.month_workdays(today)
    elapsed = calendar.count_workdays(month_start(today), today)
    pace = target * elapsed / len(workdays) if workdays else target
    status = REACHED if len(reached) >= target else ON_TRACK if len(reached) >= pace else BEHIND
    figures = {"customers": len(people.customers), "customers_reached": len(reached),
               "coverage": _share(len(reached), len(people.customers)), "coverage_rule": settings.callback_coverage,
               "coverage_target": target, "coverage_pace": round(pace, 1), "coverage_status": status}
    return _frame(rows, COVERAGE_COLUMNS), figures


# Breaches ------------------------------------------------------------------------------------------

def _scored_breaches(scores: Scores, people: People) -> list[dict[str, Any]]:
    return [{"service_date": r["service_date"], "staff": r["staff"], "staff_name": people.name(r["staff"]),
             "customer_id": r["customer_id"], "customer_name": people.customer_name(r["customer_id"]),
             "ticket_id": r["ticket_id"], "service_type": r["service_type"], "mode": r["mode"], "kind": kind,
             "reason": reason}
            for r in rows_of(scores.rows.loc[[bool(found) for found in scores.rows["breach_list"].tolist()]],
                             ("service_date", "staff", "customer_id", "ticket_id", "service_type", "mode", "breach_list"))
            for kind, reason in r["breach_list"]]


def _unmatched_disproved(events: list[Event], people: People, first: dt.date) -> list[dict[str, Any]]:
    """上门属实=否 callbacks of the month that no on-site feedback answers for."""
    rows = []
    for e in events:
        day = e.when.date()
        if e.service is None and day >= first:
            staff = e.staff or people.owner(e.customer_id)
            rows.append({"service_date": day, "staff": staff, "staff_name": people.name(staff),
                         "customer_id": e.customer_id, "customer_name": people.customer_name(e.customer_id),
                         "ticket_id": e.ticket_id, "service_type": None, "mode": None, "kind": NOT_VISITED,
                         "reason": f"{day:%m-%d} {e.record['kind']}回访客户称未上门，且没有对应的上门服务反馈单"})
    return rows


# The feedback columns _missing_feedback reads.
_FEEDBACK_READ = ("service_date", "ticket_id", "customer_id", "staff", "service_type", "mode", *SERVICE_FACTS)


def _missing_feedback(feedback: list[dict[str, Any]], people: People, first: dt.date,
                      today: dt.date) -> list[dict[str, Any]]:
    """Feedback rows returned not done in the month up to D, not followed by a service that happened.

    A blank 客户拜访 row without a 工单号 is a suggested visit not taken (optional), not missing feedback."""
    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return ("ticket", r["ticket_id"]) if r["ticket_id"] else ("visit", r["customer_id"], r["staff"])

    filled: dict[tuple[Any, ...], list[dt.date]] = defaultdict(list)
    for r in feedback:
        day = day_of(r["service_date"])
        if service_happened(r) and day is not None and day <= today:
            filled[key(r)].append(day)
    rows = []
    for r in feedback:
        day = day_of(r["service_date"])
        suggested = r["service_type"] == VISIT_TYPE and not r["ticket_id"]
        if not service_happened(r) and not suggested and day is not None and first <= day <= today and not any(
                later >= day for later in filled[key(r)]):
            rows.append({"service_date": day, "staff": r["staff"], "staff_name": people.name(r["staff"]),
                         "customer_id": r["customer_id"], "customer_name": people.customer_name(r["customer_id"]),
                         "ticket_id": r["ticket_id"], "service_type": r["service_type"], "mode": r["mode"],
                         "kind": FEEDBACK_MISSING,
                         "reason": "服务反馈单交回但处理结果和到达/离开时间都没填（未完成或漏填），之后也没有这张工单的反馈"})
    return rows


def _breach_tables(rows: list[dict[str, Any]], scores: Scores, people: People) -> tuple[pd.DataFrame, pd.DataFrame]:
    kinds = list(BREACH_KINDS)
    rows.sort(key=lambda r: (r["service_date"], staff_order(r["staff"] or ""), r["customer_id"], kinds.index(r["kind"])))
    served = Counter(scores.rows["staff"])
    per_staff: dict[str | None, Counter[str]] = defaultdict(Counter)
    for r in rows:
        per_staff[r["staff"]][r["kind"]] += 1

    def row(staff: str | None, name: str | None, found: Counter[str], feedback: int) -> dict[str, Any]:
        return {"staff": staff, "staff_name": name, "feedback": feedback,
                **{key: found[kind] for kind, key in BREACH_KINDS.items()}, "total": sum(found.values())}

    counts = [row(s, people.name(s), per_staff[s], served[s]) for s in people.roster(per_staff, served)]
    counts.append(row(None, TOTAL, Counter(r["kind"] for r in rows), len(scores.rows)))
    return _frame(rows, BREACH_COLUMNS), _frame(counts, BREACH_COUNT_COLUMNS)


# The report ----------------------------------------------------------------------------------------

def _csat_status(csat: float | None) -> str:
    return NO_RATINGS if csat is None else CSAT_OK if csat >= CSAT_ALERT else CSAT_LOW


def _overview(figures: dict[str, Any], total: dict[str, Any]) -> pd.DataFrame:
    """The key figures as the manager reads them: value, target, status, and what is behind it."""
    by_source = figures["complaints_by_source"]
    kinds = figures["breaches_by_kind"]
    rows = [
        {"item": "本月投诉", "count": figures["complaints"], "status": COMPLAINED if figures["complaints"] else NONE_FOUND,
         "note": f"来电投诉 {by_source['calls']} 起、回访投诉 {by_source['callbacks']} 起、来电和回访都提到 "
                 f"{by_source['both']} 起（同一投诉只计一次）；今年累计 {figures['complaints_year']} 起"},
        *({"item": item, "count": total[f"{source}_count"], "rate": total[f"{source}_csat"], "target": CSAT_ALERT,
           "status": _csat_status(total[f"{source}_csat"]), "note": note}
          for item, source, note in (
              ("综合满意率", "all", "非常满意+满意 占全部评价（反馈单和回访合计）；90%为提示线，非制度规定"),
              ("反馈单满意率", "feedback", f"本月服务反馈单的评价；未评价 {total['feedback_unrated']} 条不计入"),
              ("回访满意率", "callbacks", "本月接通的回访中客户给出的评价"))),
        {"item": "回访覆盖率", "count": figures["customers_reached"], "rate": figures["coverage"],
         "target": figures["coverage_rule"], "status": figures["coverage_status"],
         "note": f"本月接通 {figures['customers_reached']} 家 / 客户 {figures['customers']} 家；月底需 "
                 f"{figures['coverage_target']} 家，按工作日进度现应约 {figures['coverage_pace']:g} 家"},
        {"item": "违规", "count": figures["breaches"], "status": BROKEN if figures["breaches"] else NONE_FOUND,
         "note": "、".join(f"{kind} {kinds[key]} 次" for kind, key in BREACH_KINDS.items())},
    ]
    return _frame(rows, OVERVIEW_COLUMNS)


def quality_report(tables: dict[str, pd.DataFrame], scores: Scores, settings: Settings, calendar: WorkCalendar,
                   today: dt.date, held: Mapping[int, HeldMonth] | None = None) -> QualityReport:
    """Complaints, satisfaction, callback coverage and breaches of D's month up to D (complaints per
    month also for the year to date); held, the earlier months of D's year the history holds, by month
    number."""
    people = People(tables, scores.rows["staff"])
    first = month_start(today)
    links = scores.links

    complaints = complaint_rows(tables, links)
    year = [r for r in complaints if r["date"].year == today.year]
    month = [r for r in year if r["date"] >= first]
    # The first day of the call log: its call times are a few thousand distinct minutes.
    called = {day_of(when) for when in set(table_of(tables, "calls")["call_time"].tolist())} - {None}
    by_engineer, by_type, by_month = _complaint_tables(year, month, today, people, held or {},
                                                       min(called) if called else None)

    callbacks = [c for c in table_rows(tables, "callbacks")
                 if (day := day_of(c["date"])) is not None and first <= day <= today]
    satisfaction, mix, total = _satisfaction_tables(_ratings(scores, callbacks, people), people)
    coverage, coverage_figures = _coverage(callbacks, people, settings, calendar, today)

    breach_rows = [*_scored_breaches(scores, people), *_unmatched_disproved(links.disproved, people, first),
                   *_missing_feedback(table_rows(tables, "feedback", _FEEDBACK_READ), people, first, today)]
    breaches, breaches_by_engineer = _breach_tables(breach_rows, scores, people)

    month_counts = _counts(month)
    figures: dict[str, Any] = {
        "month": f"{today:%Y-%m}",
        "complaints": month_counts["total"],
        "complaints_by_source": {key: month_counts[key] for key in SOURCES},
        "complaints_year": int(pd.to_numeric(by_month["total"]).sum()),
        "ratings": total["all_count"],
        "csat": total["all_csat"],
        "csat_feedback": total["feedback_csat"],
        "csat_callbacks": total["callbacks_csat"],
        "csat_alert": CSAT_ALERT,
        "satisfaction_mix": {LEVEL_KEYS[r["satisfaction"]]: r["all"] for r in mix.to_dict("records")},
        **coverage_figures,
        "breaches": len(breaches),
        "breaches_by_kind": {key: int((breaches["kind"] == kind).sum()) for kind, key in BREACH_KINDS.items()},
    }
    return QualityReport(today, _overview(figures, total), _frame(month, COMPLAINT_COLUMNS), by_engineer, by_type,
                         by_month, satisfaction, mix, coverage, breaches, breaches_by_engineer, figures)
