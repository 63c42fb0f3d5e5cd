"""The checks of a folder's rows once every file is read: within a row (both coordinates or neither,
times in order), dates that cannot be yet, and across the tables, in dependency order: staff,
customers, then what names them, each table's repeats merged.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.inbox import Collector
from kis_batch.ingest.pins import chase_rows, read_pins, resolve_assigned, set_holds_aside
from kis_batch.ingest.projects import cross_check_projects
from kis_batch.ingest.reading import OK, Row, TypedRows, to_frame
from kis_batch.ingest.references import (
    StaffIndex,
    is_placeholder,
    merge_repeats,
    reject,
    rejection_notes,
    require_customer,
    resolve_staff,
    warn,
)
from kis_batch.outputs import person_label
from kis_batch.problems import Code, Severity
from kis_batch.schema import BY_KEY, GROUP_SEGMENT, VISIT_TYPE, Kind, Template, service_happened
from kis_batch.tables import FILE, SHEET, KeyIndex


def check_rows(template: Template, records: list[Row], out: Collector) -> None:
    """Rules within one row (docs/rules.md § Inputs: both coordinates or neither, leave after arrive, end after start)."""
    for r in records:
        if template.key in ("customers", "staff") and (r["lat"] is None) != (r["lon"] is None):
            key = "lon" if r["lon"] is None else "lat"
            warn(r, key, out, Code.CONSTRAINT, "纬度和经度要么都填，要么都不填；本行的坐标已忽略，按区域估算距离")
            r["lat"] = r["lon"] = None
        elif template.key == "feedback" and r["arrive"] and r["leave"] and r["leave"] < r["arrive"]:
            reject(r, "leave", out, Code.CONSTRAINT,
                   f"离开时间 {r['leave']:%H:%M} 早于到达时间 {r['arrive']:%H:%M}，请更正")
        elif template.key == "fees" and r["start"] and r["end"] and r["end"] <= r["start"]:
            reject(r, "end", out, Code.CONSTRAINT, "服务到期必须晚于服务开始，请更正")
        elif template.key == "leave" and r["start"] and r["end"] and r["end"] < r["start"]:
            reject(r, "end", out, Code.CONSTRAINT, "结束日期早于开始日期，请更正")
        if template.key == "fees" and r[OK] and r["amount"] is not None and (r["paid"] or 0) > r["amount"]:
            warn(r, "paid", out, Code.CONSTRAINT, "已收金额大于年费金额，请核对")
        if template.key == "customers" and r[OK] and r["segment"] == GROUP_SEGMENT and r["group"] is None:
            warn(r, "group", out, Code.CONSTRAINT,
                 f"客户类别是{GROUP_SEGMENT}，但没有填所属集团：客户跟踪表无法把它和同集团的成员汇总在一起"
                 "（暂归入“未填所属集团”）；请填写所属集团")


def assign_ticket_ids(records: list[Row]) -> None:
    """Blank 工单号 get a stable id from call time + customer + order within the sheet."""
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    for r in records:
        if r["ticket_id"] or r["call_time"] is None or r["customer_id"] is None:
            continue
        group = (r[FILE], r[SHEET], r["call_time"], r["customer_id"])
        seen[group] += 1
        r["ticket_id"] = f"T{r['call_time']:%Y%m%d%H%M}-{r['customer_id']}-{seen[group]}"


# The date that places a row of these tables in time.
DATED = {"feedback": "service_date", "calls": "call_time", "callbacks": "date"}


def check_dates(raw: dict[str, TypedRows], today: dt.date, out: Collector) -> None:
    """Rows a run would otherwise leave out without a word, for their date (docs/rules.md § Inputs):

    - dated after D (a service, call or callback that cannot have happened yet: a typo): an 错误 at
      the date cell, naming D; the row is rejected. A row not filled in yet (a returned dispatch or
      callback list of a later day, still blank) is a plan, not a typo, and passes.
    - feedback of an earlier month: kept (it counts for its own month), but where it sits in a file
      that holds feedback of D's month, a 警告 at its date cell says it is not in this month's
      figures. The folder accumulates, so last month's own files get no message.

    Read down the columns: a month's call log is hundreds of thousands of rows, rarely one late.
    """
    tomorrow = today + dt.timedelta(days=1)
    for key, column in DATED.items():
        typed, template = raw[key], BY_KEY[key]
        values = typed.columns[column]
        # 来电时间 is a date-time: after D means from the next midnight on.
        limit = dt.datetime.combine(tomorrow, dt.time.min) if template.fields[column].kind is Kind.DATETIME else tomorrow
        latest = max(filter(None, values), default=None)  # a date is never falsy; a blank (None) is
        if latest is None or latest < limit:
            continue
        header = template.fields[column].zh
        for n in [n for n, value in enumerate(values) if value is not None and value >= limit]:
            r = Row(typed, n)
            if r[OK] and not is_placeholder(template, r):
                reject(r, column, out, Code.FUTURE_DATE,
                       f"{header} {day_of(values[n]):%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经发生，"
                       f"应是笔误；本行未采用，请改正{header}")
    first = today.replace(day=1)
    feedback = raw["feedback"]
    days, files = feedback.columns["service_date"], feedback.columns[FILE]
    files_of_month = {f for day, f in zip(days, files, strict=True) if day is not None and first <= day <= today}
    for n, (day, f) in enumerate(zip(days, files, strict=True)):
        if day is not None and day < first and f in files_of_month and feedback.ok[n]:
            warn(Row(feedback, n), "service_date", out, Code.OTHER_MONTH,
                 f"服务日期 {day:%Y-%m-%d} 不在本月（{today:%Y年%m月}），本行不计入本月的评分和指标，"
                 f"只计入{day:%Y年%m月}；如果日期填错了，请改正")


def _unresolved_services(feedback: list[Row], today: dt.date, out: Collector) -> None:
    """A service with 到达时间/离开时间 but no 处理结果 happened and is not a resolution; say so at the
    处理结果 cell (a 客户拜访 needs no result: it counts as a visit). Rows of D's month only: last
    month's were told in their own month."""
    first = today.replace(day=1)
    for r in feedback:
        if (r["result"] is None and r["service_type"] != VISIT_TYPE and service_happened(r)
                and first <= r["service_date"] <= today):
            warn(r, "result", out, Code.CONSTRAINT,
                 "填了到达/离开时间但没有填处理结果：本次服务不计入问题解决数，评分的结果分按未解决计；"
                 "请填写处理结果（已解决/部分解决/未解决）")


def cross_check(raw: dict[str, list[Row]], today: dt.date, out: Collector, known_tickets: frozenset[str] = frozenset(),
                former_names: Mapping[str, set[str]] | None = None
                ) -> tuple[dict[str, pd.DataFrame], dict[str, str], pd.DataFrame]:
    """References between tables, in dependency order: staff, customers, then what names them. With
    the tables, the 客户档案 rows refused (客户编号 -> where and why) and the pins the folder states
    (kis_batch/ingest/pins.py). former_names: 姓名 -> the 工号 that had it (the history's), so rows
    still using an old name after a rename resolve."""
    kept: dict[str, list[Row]] = {}
    kept["staff"] = merge_repeats(BY_KEY["staff"], raw["staff"], out)
    _shared_names(kept["staff"], out)
    staff = (StaffIndex(kept["staff"], rejection_notes(raw["staff"], ("staff_id", "name"), out), former_names)
             if raw["staff"] else None)
    if staff is None:
        out.add(Code.MISSING_TABLE, Severity.ERROR, "文件夹里没有员工名单；请放入员工名单（kis-batch init 生成模板）")

    resolve_staff(raw["customers"], "owner", staff, out, "服务代表")
    kept["customers"] = merge_repeats(BY_KEY["customers"], raw["customers"], out)
    refused_customers = rejection_notes(raw["customers"], ("customer_id",), out)
    customers = KeyIndex([r["customer_id"] for r in kept["customers"]], refused_customers) if raw["customers"] else None
    if customers is None:
        out.add(Code.MISSING_TABLE, Severity.ERROR, "文件夹里没有客户档案；请放入客户档案（kis-batch init 生成模板）")

    resolve_staff(raw["leave"], "staff_id", staff, out, "工号")
    for key in ("leave", "area_distance", "settings"):
        kept[key] = merge_repeats(BY_KEY[key], raw[key], out)

    require_customer(raw["calls"], customers, out)
    assign_ticket_ids(raw["calls"])
    resolve_assigned(raw["calls"], staff, out)
    kept["calls"] = merge_repeats(BY_KEY["calls"], raw["calls"], out)
    tickets = set(_column(kept["calls"], "ticket_id")) | known_tickets

    require_customer(raw["feedback"], customers, out)
    held = set_holds_aside(raw["feedback"])
    resolve_staff(raw["feedback"], "staff", staff, out, "服务代表")
    kept["feedback"] = merge_repeats(BY_KEY["feedback"], raw["feedback"], out, today)
    for r, ticket in zip(kept["feedback"], _column(kept["feedback"], "ticket_id"), strict=True):
        if ticket and ticket not in tickets:
            out.at_cell(r, "ticket_id", Code.UNKNOWN_REFERENCE, Severity.WARNING,
                        f"工单号“{r['ticket_id']}”在文件夹的热线记录里找不到（来电可能早于本月记录）；已照常读取")
    _unresolved_services(kept["feedback"], today, out)

    require_customer(raw["fees"], customers, out)
    resolve_staff(raw["fees"], "owner", staff, out, "负责人", optional=True)
    owners = {r["customer_id"]: r["owner"] for r in kept["customers"]}
    for r in raw["fees"]:
        if r[OK] and r["owner"] is None:
            r["owner"] = owners.get(r["customer_id"])
    kept["fees"] = merge_repeats(BY_KEY["fees"], raw["fees"], out)
    kept["fee_chase"] = chase_rows(raw["fee_chase"], staff, today, out)

    require_customer(raw["callbacks"], customers, out)
    resolve_staff(raw["callbacks"], "staff", staff, out, "服务代表", optional=True)
    kept["callbacks"] = merge_repeats(BY_KEY["callbacks"], raw["callbacks"], out, today)

    kept.update(cross_check_projects(raw, kept["staff"], staff, customers, today, out))
    kept["complaint_handling"] = _handling(raw["complaint_handling"], staff, today, out)
    pins = read_pins(raw["feedback"], held, raw["calls"], kept["fee_chase"], staff, today, out)
    return {key: to_frame(BY_KEY[key], rows) for key, rows in kept.items()}, refused_customers, pins


def _column(rows: list[Row], key: str) -> list[Any]:
    """One column's values at these rows (of one table), in their order."""
    return rows[0].table.values((key,), rows)[0] if rows else []


def _handling(rows: list[Row], staff: StaffIndex | None, today: dt.date, out: Collector) -> list[Row]:
    """投诉处理 (docs/rules.md § Complaint cases): 处理人 resolved to a 工号, a 结案日期 after D and
    an unknown 处理人 refused at their cells (the rest of the row stays). Which case each row names, and which row of a case
    counts, the rules step after reading decides (rules/reconcile.py): the cases are the rules'."""
    resolve_staff(rows, "handler", staff, out, "处理人", optional=True)
    for r in rows:
        if r[OK] and r["closed_on"] is not None and r["closed_on"] > today:
            out.at_cell(r, "closed_on", Code.FUTURE_DATE, Severity.ERROR,
                        f"结案日期 {r['closed_on']:%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经结案，应是笔误；"
                        "本行按未结案采用，请改正结案日期")
            r["closed_on"] = None
    return [r for r in rows if r[OK]]


def _shared_names(staff: list[Row], out: Collector) -> None:
    """Two staff of one 姓名 are both kept (each is found by 工号); the name is said at each row,
    and wherever the name alone is used it is an error (see StaffIndex.why_not)."""
    by_name: dict[str, list[Row]] = defaultdict(list)
    for r in staff:
        by_name[r["name"]].append(r)
    for name, rows in by_name.items():
        if len(rows) > 1:
            ids = "、".join(r["staff_id"] for r in rows)
            for r in rows:
                warn(r, "name", out, Code.DUPLICATE_KEY,
                     f"姓名“{name}”重名（工号 {ids}）：两人都已采用，但凡是只填了“{name}”的地方都无法确定是谁；"
                     f"请在姓名后加区分（如“{name}A”），或在其他表里改填工号或“{person_label(name, rows[0]['staff_id'])}”"
                     "这样的姓名_工号")
