"""Implementation projects as of D (docs/rules.md § Implementation projects): each project's stage,
and whether it is late going live, waiting too long for acceptance, or for handover to service.

- 上线逾期: 实施中 and 计划上线 before D; the days behind it are the working days after 计划上线 up to D.
- 验收逾期: 待验收 more than settings.acceptance_workdays working days after 实际上线.
- 交接逾期: 待交接 more than settings.handover_workdays working days after the acceptance date.

"N working days after a date" counts the working days after it up to and including D
(WorkCalendar.workdays_waiting). The acceptance itself (the project's 验收结论, else its latest
returned checklist) and the stage are decided in rules/acceptance.py, which the reader shares.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.rules.acceptance import (
    AWAITING_ACCEPTANCE,
    AWAITING_HANDOVER,
    IN_PROGRESS,
    REWORK,
    STAGES,
    Verdict,
    acceptance_of,
    checklist_verdicts,
    item_key,
    stage_of,
)
from kis_batch.rules.common import month_start, staff_order
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of

YES, NO = "是", "否"
# Projects whose acceptance sheet the manager fills in.
TO_CHECK = (AWAITING_ACCEPTANCE, REWORK)
OVERVIEW_COLUMNS = [
    "project_id", "customer_id", "customer_name", "specialist", "specialist_name", "scope", "stage", "start",
    "planned_live", "live", "acceptance", "acceptance_source", "accepted_on", "accepted_by", "signed", "handover_to",
    "handover_to_name", "handed_over", "live_overdue", "live_days", "acceptance_overdue", "acceptance_days",
    "handover_overdue", "handover_days", "notes",
]
CHECKLIST_COLUMNS = ["seq", "project_id", "item", "previous", "outcome", "notes", "date", "checked_by"]


@dataclass
class ProjectReport:
    today: dt.date
    projects: pd.DataFrame  # OVERVIEW_COLUMNS, one row per project, by stage then 项目编号
    checklists: dict[str, pd.DataFrame]  # 项目编号 -> CHECKLIST_COLUMNS, for each project at 待验收 or 整改中
    figures: dict[str, Any]


def _late(since: dt.date | None, limit: int, calendar: WorkCalendar, today: dt.date) -> tuple[str, int | None]:
    """(是/否, working days since the date up to D) against a limit of working days."""
    if since is None:
        return NO, None
    waited = calendar.workdays_waiting(since, today)
    return (YES if waited > limit else NO), waited


def project_report(tables: dict[str, pd.DataFrame], settings: Settings, calendar: WorkCalendar,
                   today: dt.date) -> ProjectReport:
    """Every project's stage and overdue flags, and the checklist to fill for those awaiting a check."""
    projects = rows_of(table_of(tables, "projects"))
    checks = rows_of(table_of(tables, "acceptance"))
    verdicts = checklist_verdicts(checks, settings.acceptance_items)
    names = {r["staff_id"]: r["name"] for r in rows_of(table_of(tables, "staff"))}
    customers = {r["customer_id"]: r["customer_name"]
                 for r in rows_of(table_of(tables, "customers"), ("customer_id", "customer_name"))}
    rows: list[dict[str, Any]] = []
    checklists: dict[str, pd.DataFrame] = {}
    for project in projects:
        pid = project["project_id"]
        verdict = verdicts.get(pid)
        acceptance = acceptance_of(project, verdict)
        stage = stage_of(project, acceptance, today)
        live_late = (YES if stage == IN_PROGRESS and project["planned_live"] < today else NO,
                     calendar.workdays_waiting(project["planned_live"], today) if stage == IN_PROGRESS else None)
        check_late = _late(project["live"] if stage == AWAITING_ACCEPTANCE else None,
                           settings.acceptance_workdays, calendar, today)
        handover_late = _late(acceptance.date if stage == AWAITING_HANDOVER else None,
                              settings.handover_workdays, calendar, today)
        rows.append({
            **{key: project[key] for key in ("project_id", "customer_id", "specialist", "scope", "start",
                                             "planned_live", "live", "handover_to", "handed_over", "notes")},
            "customer_name": customers.get(project["customer_id"]),
            "specialist_name": names.get(project["specialist"], project["specialist"]),
            "stage": stage, "acceptance": acceptance.conclusion, "acceptance_source": acceptance.source,
            "accepted_on": acceptance.date,
            "accepted_by": project["accepted_by"] or (verdict.checked_by if verdict else None),
            "signed": verdict.signed if verdict else None,
            "handover_to_name": names.get(project["handover_to"], project["handover_to"]),
            "live_overdue": live_late[0], "live_days": live_late[1] if live_late[0] == YES else None,
            "acceptance_overdue": check_late[0], "acceptance_days": check_late[1],
            "handover_overdue": handover_late[0], "handover_days": handover_late[1],
        })
        if stage in TO_CHECK:
            checklists[pid] = _checklist(pid, settings.acceptance_items, verdict)
    frame = pd.DataFrame(rows, columns=OVERVIEW_COLUMNS)
    if len(frame):
        order = sorted(range(len(frame)), key=lambda i: (STAGES.index(rows[i]["stage"]), rows[i]["project_id"]))
        frame = frame.iloc[order].reset_index(drop=True)
    ordered = {pid: checklists[pid] for pid in frame["project_id"] if pid in checklists}
    return ProjectReport(today, frame, ordered, _figures(frame, today))


def _checklist(project_id: str, items: tuple[str, ...], verdict: Verdict | None) -> pd.DataFrame:
    """The checklist rows to fill in, with the last returned round's result beside each item."""
    previous = verdict.outcomes if verdict is not None else {}
    return pd.DataFrame([{"seq": n, "project_id": project_id, "item": item, "previous": previous.get(item_key(item)),
                          "outcome": None, "notes": None, "date": None, "checked_by": None}
                         for n, item in enumerate(items, 1)], columns=CHECKLIST_COLUMNS)


def _figures(frame: pd.DataFrame, today: dt.date) -> dict[str, Any]:
    stages = frame["stage"].value_counts().to_dict()
    first = month_start(today)
    return {
        "projects": len(frame),
        "by_stage": {stage: int(stages.get(stage, 0)) for stage in STAGES},
        "live_this_month": int(sum(1 for day in frame["live"] if day is not None and first <= day <= today)),
        "awaiting_acceptance": int(stages.get(AWAITING_ACCEPTANCE, 0)),
        "rework": int(stages.get(REWORK, 0)),
        "live_overdue": int((frame["live_overdue"] == YES).sum()),
        "acceptance_overdue": int((frame["acceptance_overdue"] == YES).sum()),
        "handover_overdue": int((frame["handover_overdue"] == YES).sum()),
    }


def by_specialist(report: ProjectReport) -> dict[str, ProjectReport]:
    """Each specialist's own projects (by 工号, in 工号 order), with their own figures: what their
    message carries, titled with their count and not the department's."""
    frame = report.projects
    ids = sorted(set(frame["specialist"]), key=staff_order)
    own: dict[str, ProjectReport] = {}
    for sid in ids:
        rows = frame[frame["specialist"] == sid].reset_index(drop=True)
        checklists = {pid: report.checklists[pid] for pid in rows["project_id"] if pid in report.checklists}
        own[sid] = ProjectReport(report.today, rows, checklists, _figures(rows, report.today))
    return own
