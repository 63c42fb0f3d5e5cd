"""Where an implementation project stands (docs/rules.md § Implementation projects): the conclusion
of its acceptance — its own 验收结论, else the returned 验收单 of its latest 验收日期 — and its stage.

Pure functions on rows read by column key; the checks right after reading (rules/reconcile.py)
ask it the same questions the report asks when they word their warnings.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kis_batch.coerce import normalise_text
from kis_batch.inbox import Record
from kis_batch.schema import ACCEPTED, FAILED_CHECK, NOT_ACCEPTED, Cells

NOT_STARTED, IN_PROGRESS, AWAITING_ACCEPTANCE, REWORK, AWAITING_HANDOVER, HANDED_OVER = STAGES = (
    "未开始", "实施中", "待验收", "整改中", "待交接", "已交接")
FROM_PROJECT, FROM_CHECKLIST = "实施项目", "验收单"
# Who signed a returned form whose ticked 验收结论 agrees with its round: a column rules/reconcile.py
# adds to that round's 验收单 rows.
SIGNED = "signed"


def item_key(item: str) -> str:
    """A checklist item as compared: full-width brackets and commas as their half-width forms, no
    spaces (the reader normalises cells the same way)."""
    return normalise_text(item).replace(" ", "")


@dataclass(frozen=True)
class Verdict:
    """What one project's latest returned 验收单 says."""

    project_id: str
    date: dt.date  # the latest 验收日期 with a 结果
    conclusion: str | None  # 通过 / 不通过 / None: not every checklist item returned yet
    failed: tuple[str, ...]  # items 不合格
    missing: tuple[str, ...]  # checklist items with no 结果 on that date nor an earlier 合格/不适用
    outcomes: dict[str, str]  # item_key -> its 结果 on that date, or the earlier 合格/不适用 it keeps
    checked_by: str | None
    first: Cells  # the round's first row, where a warning about the round points
    signed: str | None = None  # who signed the round's form, where its ticked conclusion agrees


def checklist_verdicts(rows: Iterable[Record], checklist: Sequence[str]) -> dict[str, Verdict]:
    """Per project, the rows of its latest 验收日期 that carry a 结果, each checklist item the round
    leaves blank keeping its earlier 合格/不适用 (a re-check after 整改 fills only the failed items):
    any 不合格 → 不通过; every checklist item 合格/不适用 → 通过; otherwise no conclusion yet (the
    missing items named)."""
    by_project: dict[str, list[Record]] = defaultdict(list)
    for row in rows:
        if row["outcome"] is not None and row["date"] is not None:
            by_project[row["project_id"]].append(row)
    verdicts: dict[str, Verdict] = {}
    for project_id, returned in by_project.items():
        latest = max(r["date"] for r in returned)
        round_rows = [r for r in returned if r["date"] == latest]
        failed = tuple(r["item"] for r in round_rows if r["outcome"] == FAILED_CHECK)
        outcomes = {item_key(r["item"]): r["outcome"] for r in round_rows}
        for r in sorted((r for r in returned if r["date"] < latest), key=lambda r: r["date"], reverse=True):
            if r["outcome"] != FAILED_CHECK:
                outcomes.setdefault(item_key(r["item"]), r["outcome"])
        missing = tuple(item for item in checklist if item_key(item) not in outcomes)
        conclusion = NOT_ACCEPTED if failed else (ACCEPTED if not missing else None)
        checked_by = next((r["checked_by"] for r in round_rows if r["checked_by"]), None)
        signed = next((r.get(SIGNED) for r in round_rows if r.get(SIGNED)), None)
        verdicts[project_id] = Verdict(project_id, latest, conclusion, failed, missing, outcomes, checked_by,
                                       round_rows[0], signed)
    return verdicts


@dataclass(frozen=True)
class Acceptance:
    """A project's acceptance as it stands: the conclusion, its date, and which sheet said so."""

    conclusion: str | None
    date: dt.date | None
    source: str  # FROM_PROJECT, FROM_CHECKLIST or "" (none yet)


def acceptance_of(project: Cells, verdict: Verdict | None) -> Acceptance:
    """实施项目's own 验收结论 wins; otherwise the returned checklist's conclusion, if it has one."""
    if project["acceptance"] is not None:
        date = project["accepted_on"] or (verdict.date if verdict else None)
        return Acceptance(project["acceptance"], date, FROM_PROJECT)
    if verdict is not None and verdict.conclusion is not None:
        return Acceptance(verdict.conclusion, verdict.date, FROM_CHECKLIST)
    return Acceptance(None, None, "")


def stage_of(project: Cells, acceptance: Acceptance, today: dt.date) -> str:
    """未开始 (开始日期 after D), 实施中 (no 实际上线), 待验收 (no conclusion), 整改中 (不通过),
    待交接 (通过, no 交接日期), 已交接."""
    if project["start"] > today:
        return NOT_STARTED
    if project["live"] is None:
        return IN_PROGRESS
    if acceptance.conclusion is None:
        return AWAITING_ACCEPTANCE
    if acceptance.conclusion == NOT_ACCEPTED:
        return REWORK
    if project["handed_over"] is None:
        return AWAITING_HANDOVER
    return HANDED_OVER
