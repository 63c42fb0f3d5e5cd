"""Reading 实施项目 and 验收单 (docs/rules.md § Implementation projects).

At the cells: the customer must exist; the 实施专员 must be an implementation specialist and the
交接服务代表 a service engineer; the dates must be in order and not after D. A bad optional date
or 交接服务代表 is an 错误 at its cell, the cell is taken as blank and the project stays.

A 验收单 row names a project of 实施项目; a row with a 结果 needs its 验收日期. A row left blank (the
pipeline's checklist not filled in yet) yields to a filled one, and an earlier round of the same
item yields to a later one: a project's acceptance is its latest 验收日期.

Once the tables stand, the acceptance rule's warnings: items outside the checklist, a round with
items missing, a 验收结论 that disagrees with the returned checklist, and a handover the customer
roster does not show.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pandas as pd

from kis_batch.ingest.tables import (
    OK,
    Collector,
    KeyIndex,
    Row,
    StaffIndex,
    merge_repeats,
    reject,
    rejection_notes,
    require_customer,
)
from kis_batch.problems import Code, Severity
from kis_batch.rules.acceptance import HANDED_OVER, acceptance_of, checklist_verdicts, item_key, stage_of
from kis_batch.schema import ACCEPTANCE, ENGINEER, IMPLEMENTER, PROJECTS
from kis_batch.settings import Settings

# The dates of a project in the order they happen; each may not be before the ones above it.
DATE_ORDER = ("start", "live", "accepted_on", "handed_over")


def _person(r: Row, key: str, role: str, staff: StaffIndex | None, roles: dict[str, str], out: Collector) -> None:
    """The 工号 or 姓名 in r[key] resolved to a 工号 of the given role. The required 实施专员 rejects
    its row when it is not one; the optional 交接服务代表 is an 错误 at its cell, taken as blank."""
    value = r[key]
    if value is None or staff is None:
        return
    label = PROJECTS.fields[key].zh
    found = staff.resolve(value)
    if found is not None and roles.get(found) == role:
        r[key] = found
        return
    if found is None:
        code, message = Code.UNKNOWN_REFERENCE, staff.why_not(value, label)
    else:
        code = Code.CONSTRAINT
        message = (f"{label}“{value}”在员工名单中的岗位是{roles.get(found)}，不是{role}；"
                   f"请填{role}的工号或姓名（如岗位写错了，先改正员工名单）")
    if PROJECTS.fields[key].required:
        reject(r, key, out, code, f"{message}。本行未采用")
    else:
        out.at_cell(r, key, code, Severity.ERROR, f"{message}。本行其余内容照常使用，此格按留空处理")
        r[key] = None


def _dates_in_order(r: Row, today: dt.date, out: Collector) -> None:
    """计划上线 not before 开始日期 (else the row is rejected); 实际上线, 验收日期, 交接日期 each not
    after D and not before the date before it: an 错误 at the later cell, which is taken as blank."""
    fields = PROJECTS.fields
    if r["planned_live"] < r["start"]:
        reject(r, "planned_live", out, Code.CONSTRAINT,
               f"计划上线 {r['planned_live']:%Y-%m-%d} 早于开始日期 {r['start']:%Y-%m-%d}；请更正其中一个日期。本行未采用")
        return
    before = "start"
    for key in DATE_ORDER[1:]:
        value, header = r[key], fields[key].zh
        if value is None:
            continue
        if value > today:
            out.at_cell(r, key, Code.FUTURE_DATE, Severity.ERROR,
                        f"{header} {value:%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经发生，应是笔误；"
                        f"本行其余内容照常使用，此格按留空处理，请改正{header}")
            r[key] = None
        elif value < r[before]:
            out.at_cell(r, key, Code.CONSTRAINT, Severity.ERROR,
                        f"{header} {value:%Y-%m-%d} 早于{fields[before].zh} {r[before]:%Y-%m-%d}；"
                        f"本行其余内容照常使用，此格按留空处理，请改正日期")
            r[key] = None
        else:
            before = key


def _latest_rounds(rows: list[Row]) -> list[Row]:
    """The rows without an earlier round of the same project and item: a re-check after 整改 replaces
    the first check's rows rather than conflicting with them."""
    latest: dict[tuple[str, str], dt.date] = {}
    for r in rows:
        if r[OK] and r["outcome"] is not None and r["date"] is not None:
            key = (r["project_id"], r["item"])
            latest[key] = max(latest.get(key, r["date"]), r["date"])
    return [r for r in rows if not (r[OK] and r["outcome"] is not None and r["date"] is not None
                                    and r["date"] < latest[(r["project_id"], r["item"])])]


def cross_check_projects(raw: dict[str, list[Row]], staff_rows: list[Row], staff: StaffIndex | None,
                         customers: KeyIndex | None, today: dt.date, out: Collector) -> dict[str, list[Row]]:
    """实施项目 and 验收单 checked against the roster, the customers and each other; the rows kept."""
    projects = raw["projects"]
    require_customer(projects, customers, out)
    roles = {r["staff_id"]: r["role"] for r in staff_rows}
    for r in projects:
        if r[OK]:
            _person(r, "specialist", IMPLEMENTER, staff, roles, out)
        if r[OK]:
            _person(r, "handover_to", ENGINEER, staff, roles, out)
            _dates_in_order(r, today, out)
    kept = merge_repeats(PROJECTS, projects, out)
    checks = raw["acceptance"]
    known = KeyIndex([r["project_id"] for r in kept], rejection_notes(projects, ("project_id",), out)) if projects else None
    if known is None and checks:
        out.add(Code.MISSING_TABLE, Severity.ERROR,
                "文件夹里有验收单，但没有实施项目，验收单无从对照；请放入实施项目（kis-batch init 生成模板）")
    for r in checks:
        if not r[OK] or known is None:
            continue
        found = known.find(r["project_id"])
        if found is None:
            note = known.rejected_note(r["project_id"])
            reject(r, "project_id", out, Code.UNKNOWN_REFERENCE,
                   f"项目编号“{r['project_id']}”在实施项目中的那一行没有被采用（{note}）；请先更正实施项目的那一行" if note
                   else f"项目编号“{r['project_id']}”不在实施项目中；请核对编号，或先在实施项目里添加该项目")
            continue
        r["project_id"] = found
        if r["outcome"] is None:
            continue
        if r["date"] is None:
            reject(r, "date", out, Code.REQUIRED,
                   "填了结果就必须填验收日期（项目的验收按最近一次验收日期的各项结果判断）；请补上。本行未采用")
        elif r["date"] > today:
            reject(r, "date", out, Code.FUTURE_DATE,
                   f"验收日期 {r['date']:%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经发生，应是笔误；本行未采用，请改正验收日期")
    return {"projects": kept, "acceptance": merge_repeats(ACCEPTANCE, _latest_rounds(checks), out)}


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records") if len(frame) else []


def check_projects(tables: dict[str, pd.DataFrame], settings: Settings, today: dt.date, out: Collector) -> None:
    """The acceptance rule's warnings, each at the cell it is about (rows are kept)."""
    checklist = {item_key(item) for item in settings.acceptance_items}
    checks = _records(tables["acceptance"])
    for r in checks:
        if item_key(r["item"]) not in checklist:
            out.at_cell(r, "item", Code.CONSTRAINT, Severity.WARNING,  # type: ignore[arg-type]
                        f"检查项“{r['item']}”不在规则设置的验收检查项中：它的结果照常计入（不合格即不通过），"
                        "但不算清单的一项；如是清单里某一项的别的写法，请照清单改写")
    verdicts = checklist_verdicts(checks, settings.acceptance_items)
    for verdict in verdicts.values():
        if verdict.conclusion is None:
            out.at_cell(verdict.first, "project_id", Code.CONSTRAINT, Severity.WARNING,  # type: ignore[arg-type]
                        f"项目 {verdict.project_id} 的验收单（{verdict.date:%Y-%m-%d}）还缺 {len(verdict.missing)} 项："
                        f"{'、'.join(verdict.missing)}；每一项都填了合格/不合格/不适用才能得出验收结论，请补齐后交回")
    names = {r["staff_id"]: r["name"] for r in _records(tables["staff"])}
    owners = {r["customer_id"]: r["owner"] for r in _records(tables["customers"])}

    def who(staff_id: str | None) -> str:
        return f"{names.get(staff_id, staff_id)}（{staff_id}）" if staff_id else "（空）"

    for r in _records(tables["projects"]):
        pid, verdict = r["project_id"], verdicts.get(r["project_id"])
        if r["acceptance"] is not None and verdict is not None and verdict.conclusion not in (None, r["acceptance"]):
            failed = f"，不合格：{'、'.join(verdict.failed)}" if verdict.failed else ""
            out.at_cell(r, "acceptance", Code.CONFLICT, Severity.WARNING,  # type: ignore[arg-type]
                        f"项目 {pid} 的验收结论填的是“{r['acceptance']}”，而 {verdict.date:%Y-%m-%d} 交回的验收单得出"
                        f"“{verdict.conclusion}”{failed}；以实施项目为准，请核对后改正其中一处")
        stage = stage_of(r, acceptance_of(r, verdict), today)
        if r["handed_over"] is not None and stage != HANDED_OVER:
            out.at_cell(r, "handed_over", Code.CONSTRAINT, Severity.WARNING,  # type: ignore[arg-type]
                        f"项目 {pid} 填了交接日期，但验收尚未通过，项目按{stage}计；请核对验收结论或交回的验收单")
        elif stage == HANDED_OVER and r["handover_to"] != owners.get(r["customer_id"]):
            out.at_cell(r, "handover_to", Code.CONSTRAINT, Severity.WARNING,  # type: ignore[arg-type]
                        f"项目 {pid} 已交接给 {who(r['handover_to'])}，但客户档案中客户 {r['customer_id']} 的服务代表是 "
                        f"{who(owners.get(r['customer_id']))}；请在客户档案里更新服务代表（如交接填错了，改正实施项目）")
