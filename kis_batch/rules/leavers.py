"""What a leaver still holds (docs/rules.md § Inputs (员工名单)): a person whose 在岗 is 否 is never dispatched
to, so each customer, running fee contract and project not yet handed over that still names them
would be served by no one. Each is a 警告 at its cell (请改派), and the manager's page sums them up
per person in one line.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kis_batch.inbox import Collector
from kis_batch.problems import Code, Severity
from kis_batch.rules.common import is_active, staff_order
from kis_batch.tables import table_rows


@dataclass
class StillAssigned:
    """One leaver's rows that still name them: (row, the column that names them)."""

    name: str
    customers: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    contracts: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    projects: list[tuple[dict[str, Any], str]] = field(default_factory=list)

    def summary(self) -> str:
        """张三 客户12家、合同5份、项目1个 (the kinds they hold)."""
        parts = [f"{label}{len(rows)}{unit}" for label, rows, unit in
                 (("客户", self.customers, "家"), ("合同", self.contracts, "份"), ("项目", self.projects, "个")) if rows]
        return f"{self.name} {'、'.join(parts)}"


def still_assigned(tables: dict[str, pd.DataFrame], today: dt.date) -> dict[str, StillAssigned]:
    """Per leaver (by 工号, in 工号 order) who still holds something: their customers, their fee
    contracts still running or unpaid on D, and the projects not handed over that they implement
    or are to take over."""
    leavers = {s["staff_id"]: StillAssigned(s["name"]) for s in table_rows(tables, "staff") if not is_active(s)}
    if not leavers:
        return {}
    for r in table_rows(tables, "customers"):
        if r["owner"] in leavers:
            leavers[r["owner"]].customers.append((r, "owner"))
    for r in table_rows(tables, "fees"):
        running = r["end"] is None or r["end"] >= today or (r["paid"] or 0) < (r["amount"] or 0)
        if r["owner"] in leavers and running:
            leavers[r["owner"]].contracts.append((r, "owner"))
    for r in table_rows(tables, "projects"):
        if r["handed_over"] is not None:
            continue
        for key in ("specialist", "handover_to"):
            if r[key] in leavers:
                leavers[r[key]].projects.append((r, key))
    held = {sid: a for sid, a in leavers.items() if a.customers or a.contracts or a.projects}
    return {sid: held[sid] for sid in sorted(held, key=staff_order)}


def warn_still_assigned(tables: dict[str, pd.DataFrame], today: dt.date, out: Collector) -> None:
    """A 警告 at each cell that still names a leaver, saying to reassign it."""
    for staff_id, held in still_assigned(tables, today).items():
        who = f"{held.name}（{staff_id}）"
        for r, key in held.customers:
            out.at_cell(r, key, Code.LEAVER, Severity.WARNING,
                        f"服务代表{who}已离职（员工名单在岗为否），这家客户不会再派给他；请改派给在岗的服务工程师")
        for r, key in held.contracts:
            out.at_cell(r, key, Code.LEAVER, Severity.WARNING,
                        f"负责人{who}已离职，这份合同的催收没有人跟进；请改派负责人")
        for r, key in held.projects:
            role = "实施专员" if key == "specialist" else "交接服务代表"
            out.at_cell(r, key, Code.LEAVER, Severity.WARNING,
                        f"{role}{who}已离职，这个项目还没有交接；请改派{role}")


def still_assigned_line(tables: dict[str, pd.DataFrame], today: dt.date) -> tuple[str, str, str] | None:
    """The manager's page line: 离职人员待改派：张三 客户12家、合同5份、项目1个; None when no leaver holds anything."""
    held = still_assigned(tables, today)
    if not held:
        return None
    return ("离职人员待改派", "；".join(a.summary() for a in held.values()), "见校验报告中的“请改派”警告")
