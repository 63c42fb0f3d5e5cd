"""Quota gaps (docs/rules.md § Quota gaps): how far each service engineer is from the month's problem
resolutions and customer visits, and whether the working days left can still close the gap.

Decided here, where the rules are silent (docs/rules.md § Decisions):
- Resolutions and visits each get a status by the rule of docs/rules.md § Quota gaps; the engineer's overall status is the
  worse of the two (无法达标 worst, then 落后, 正常, 已达标).
- A service that a callback found did not happen (上门属实=否) scores 0 and counts towards neither
  quota. Counts come from the scored rows, so what counts is what happened (schema.service_happened):
  a 客户拜访 with 到达/离开时间 is a visit whatever its 处理结果; a row without 处理结果 and without
  times is not done yet and counts for nothing, 客户拜访 rows included.
- Gap is quota − done as the rule says, so a negative gap shows how far beyond the quota someone is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.rules.common import daily_cap, is_active, month_end, month_members, month_start, shown_name
from kis_batch.rules.scoring import Scores
from kis_batch.schema import ENGINEER, RESOLVED, VISIT_TYPE
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of

REACHED, ON_TRACK, BEHIND, OUT_OF_REACH = "已达标", "正常", "落后", "无法达标"
STATUSES = (REACHED, ON_TRACK, BEHIND, OUT_OF_REACH)  # best to worst
METRICS = ("resolutions", "visits")
METRIC_COLUMNS = ("done", "quota", "gap", "pace", "needed", "status")
GAP_COLUMNS = (
    "staff_id", "name", "area", "daily_cap", "month_workdays", "elapsed_workdays", "workdays_left",
    *(f"{metric}_{column}" for metric in METRICS for column in METRIC_COLUMNS), "status",
)


def _metric(done: int, quota: int, cap: int, elapsed: int, total: int, left: int) -> dict[str, Any]:
    """The figures and status for one metric of one engineer."""
    gap = quota - done
    needed = 0 if gap <= 0 else (-(-gap // left) if left else None)
    if gap <= 0:
        status = REACHED
    elif needed is None or needed > cap:
        status = OUT_OF_REACH
    elif done * total < quota * elapsed:  # done < quota × elapsed ÷ total, in whole numbers
        status = BEHIND
    else:
        status = ON_TRACK
    pace = round(quota * elapsed / total, 1) if total else None
    return {"done": done, "quota": quota, "gap": gap, "pace": pace, "needed": needed, "status": status}


def quota_gaps(scores: Scores, tables: dict[str, pd.DataFrame], settings: Settings,
               calendar: WorkCalendar) -> pd.DataFrame:
    """One row per active 服务工程师, and per leaver who served this month (their quota pro rata to the
    working days up to their last service, marked 离职): month-to-date resolutions and visits against the quotas.

    Counts come from the scored rows, so a visit a callback disproved counts for nothing.
    """
    today = scores.today
    rows = scores.rows
    counted = rows[~rows["disproved"].astype(bool)]
    visit = counted["service_type"] == VISIT_TYPE
    resolved = counted[~visit & (counted["result"] == RESOLVED)]["staff"].value_counts()
    visits = counted[visit]["staff"].value_counts()

    total = len(calendar.month_workdays(today))
    elapsed = calendar.count_workdays(month_start(today), today)
    left = calendar.count_workdays(calendar.next_workday(today), month_end(today))

    # A leaver counts for the days they worked: up to their last service of the month, quota pro rata.
    last_served = {staff: max(days) for staff, days in rows.groupby("staff")["service_date"]} if len(rows) else {}
    gaps = []
    for s in month_members(rows_of(table_of(tables, "staff")), (ENGINEER,), last_served):
        cap = daily_cap(s, settings)
        worked, span, days_left, share = elapsed, total, left, 1.0
        if not is_active(s):
            worked = span = calendar.count_workdays(month_start(today), last_served[s["staff_id"]])
            days_left, share = 0, worked / total if total else 1.0
        row: dict[str, Any] = {"staff_id": s["staff_id"], "name": shown_name(s), "area": s["area"], "daily_cap": cap,
                               "month_workdays": total, "elapsed_workdays": worked, "workdays_left": days_left}
        for metric, counts, quota in (("resolutions", resolved, settings.monthly_resolutions),
                                      ("visits", visits, settings.monthly_visits)):
            figures = _metric(int(counts.get(s["staff_id"], 0)), round(quota * share), cap, worked, span, days_left)
            row.update({f"{metric}_{key}": value for key, value in figures.items()})
        row["status"] = max((row[f"{metric}_status"] for metric in METRICS), key=STATUSES.index)
        gaps.append(row)
    return pd.DataFrame(gaps, columns=list(GAP_COLUMNS), dtype=object)


def quota_lines(gaps: pd.DataFrame, settings: Settings, prefix: str = "") -> list[tuple[str, str, str]]:
    """The department's resolutions and visits so far against the quotas, as a summary page's lines
    (item, figure, note): the manager's day and the month's summary show the same two."""
    engineers = len(gaps)
    return [
        (f"{prefix}问题解决", f"{int(gaps['resolutions_done'].sum()) if engineers else 0} 家次",
         f"指标 {settings.monthly_resolutions}×{engineers} 人"),
        (f"{prefix}客户拜访", f"{int(gaps['visits_done'].sum()) if engineers else 0} 家次",
         f"指标 {settings.monthly_visits}×{engineers} 人"),
    ]
