"""The checks of the folder that need the rules' own answers, run right after reading and before
any step (the reader imports no rule):

- 投诉处理 (docs/rules.md § Complaint cases): each row names a complaint case by its 投诉编号, and the
  cases are found by the rules from the calls and callbacks. A row naming no case is rejected at
  its cell, and so is a 结案日期 before the case was filed. A returned 投诉跟踪 sheet is such a
  sheet, so one case may come back many times: the newest statement wins, a closed case whose newest
  statement clears 结案日期 or says 客户确认 否 is reopened, and two newest statements that disagree
  are a conflict (docs/rules.md § Returned sheets).
- 实施项目 and 验收单 (docs/rules.md § Implementation projects), against the acceptance rule: items
  outside the checklist, a round with items missing, a 验收结论 that disagrees with the returned
  checklist, and a handover the customer roster does not show. Warnings; the rows stay. A returned
  验收 form's ticked 验收结论 is weighed against its checklist, which decides: one that agrees is
  recorded with who signed, one that does not is a warning at the box.
- A leaver's customers, fee contracts and projects not handed over (docs/rules.md § Inputs (员工名单)): a
  警告 at each cell that still names them (rules/leavers.py).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from kis_batch.inbox import AcceptanceForm, Collector, Inbox
from kis_batch.problems import Code, Severity, column_letter, shown_value
from kis_batch.rules.acceptance import (
    HANDED_OVER,
    SIGNED,
    Verdict,
    acceptance_of,
    checklist_verdicts,
    item_key,
    stage_of,
)
from kis_batch.rules.complaints import (
    CONFLICTED,
    HANDLING_FACTS,
    REOPENED,
    REOPENED_ON,
    SAVED_AT,
    STATED_ON,
    case_filed_dates,
)
from kis_batch.rules.leavers import warn_still_assigned
from kis_batch.rules.scoring import EventLinks, link_events
from kis_batch.schema import COMPLAINT_HANDLING
from kis_batch.settings import Settings
from kis_batch.tables import FILE, ROW, SHEET, KeyIndex, casefold, frame_of_records, rows_of, table_rows

# The columns a clerk fills in; a returned row with none of them filled records nothing yet.
FILLED_IN = ("responsibility", "action", "handler", "closed_on", "confirmed", "notes")
# TS + date + 客户编号, and -n for a further case of that customer that day.
CASE_NUMBER = re.compile(r"^TS\d{8}-(?P<customer>.+?)(?P<further>-\d+)?$", re.IGNORECASE)


def reconcile(inbox: Inbox) -> EventLinks | None:
    """Check what was read against the rules: problems join the inbox's at their cells, in the
    order the reader would have said them; 投诉处理 keeps one row per known case. Gives the day's
    complaints tied to their services (scoring.link_events) where the cases needed them, so the
    day's scores do not tie them again (seconds on an HQ month)."""
    out = inbox.cells()
    links = _one_row_per_case(inbox, out)
    _check_projects(inbox.tables, inbox.settings, inbox.today, inbox.acceptance_forms, out)
    warn_still_assigned(inbox.tables, inbox.today, out)
    return links


def _unknown_case(number: str, refused_customers: dict[str, str], today: dt.date) -> str:
    """Why a 投诉编号 names no case: its customer's 客户档案 row was rejected (so were its complaints),
    or it is simply not a case."""
    match = CASE_NUMBER.match(number)
    if match is not None:
        for customer in (match["customer"] + (match["further"] or ""), match["customer"]):
            note = refused_customers.get(casefold(customer))
            if note:
                return (f"投诉编号“{number}”的客户“{customer}”在客户档案中的那一行没有被采用（{note}），它的投诉都没有立案；"
                        "请先更正客户档案的那一行。本行未采用")
    return (f"投诉编号“{number}”不是已立案的投诉（截至 {today:%Y-%m-%d}）；请照投诉跟踪表核对编号，"
            "编号形如 TS20261120-C0012。本行未采用")


def _recorded(r: dict[str, Any]) -> bool:
    return any(r[key] is not None for key in FILLED_IN)


def _closes(r: dict[str, Any]) -> bool:
    """A statement that the case is closed: a 结案日期 the customer did not reject (客户确认 否)."""
    return r["closed_on"] is not None and r["confirmed"] is not False


def _in_sheet_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r[FILE], r[SHEET], r[ROW]))


def _place(r: dict[str, Any]) -> str:
    return f"{r[FILE]} / {r[SHEET]} 第{r[ROW]}行"


def _one_row_per_case(inbox: Inbox, out: Collector) -> EventLinks | None:
    """An unknown 投诉编号, and a 结案日期 before the case was filed, said at their cells; of one
    case's statements the newest counts (docs/rules.md § Returned sheets), a reopening is counted,
    and two newest statements that disagree are a conflict."""
    rows = rows_of(inbox.tables["complaint_handling"])
    if not rows:
        return None
    links = link_events(inbox.tables, inbox.today)
    filed = case_filed_dates(inbox.tables, links)
    cases = KeyIndex(list(filed))
    statements: dict[str, list[dict[str, Any]]] = {}
    refused = []
    for r in _in_sheet_order(rows):
        found = cases.find(r["complaint_id"])
        if found is None:
            out.at_cell(r, "complaint_id", Code.UNKNOWN_REFERENCE, Severity.ERROR,
                        _unknown_case(r["complaint_id"], inbox.refused_customers, inbox.today))
            refused.append(r)
            continue
        r["complaint_id"] = found
        if r["closed_on"] is not None and r["closed_on"] < filed[found]:
            out.at_cell(r, "closed_on", Code.CONSTRAINT, Severity.ERROR,
                        f"结案日期 {r['closed_on']:%Y-%m-%d} 早于这起投诉的立案日期 {filed[found]:%Y-%m-%d}，应是笔误；"
                        "本行按未结案采用，请改正结案日期")
            r["closed_on"] = None
        statements.setdefault(found, []).append(r)
    kept = []
    for found, mine in statements.items():
        winner, conflicting = _newest(mine, out, inbox.today)
        if conflicting:
            places = "；".join(_place(r) for r in conflicting)
            for r in conflicting:
                out.at_cell(r, "complaint_id", Code.CONFLICT, Severity.ERROR,
                            f"投诉编号 {found} 有几处同样新的填写内容不同（{places}）：案件暂按“冲突”列出，"
                            "请保留正确的一处，改正或删掉其余的")
            refused.extend(conflicting)
        kept.append(winner)
    kept = _in_sheet_order(kept)
    frame = frame_of_records(COMPLAINT_HANDLING, kept)
    for fact in HANDLING_FACTS:  # what the newest statement alone does not say: the case's history
        frame[fact] = pd.Series([r[fact] for r in kept], index=frame.index, dtype=object)
    inbox.set_aside("complaint_handling", frame, frame_of_records(COMPLAINT_HANDLING, refused))
    return links


Standing = tuple[dt.date, float]


def _standing(r: dict[str, Any], out: Collector, today: dt.date, own: bool = True) -> Standing:
    """How new a statement is (Collector.standing, its own date its 结案日期); a statement carried
    from a closed month, whose file has left the folder, weighs as it did then."""
    if r.get(STATED_ON) is not None:
        return r[STATED_ON], r[SAVED_AT]
    return out.standing(r, today, r["closed_on"] if own else None)


def _newest(rows: list[dict[str, Any]], out: Collector,
            today: dt.date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The statement that counts for one case, with what its history says (HANDLING_FACTS), and the
    statements of equal standing that disagree with it. A row nobody filled in says nothing; a
    carried statement brings the case's history up to it (docs/rules.md § A month's life)."""
    said = [r for r in rows if _recorded(r)] or rows[-1:]
    said.sort(key=lambda r: _standing(r, out, today))
    top = _standing(said[-1], out, today)
    newest = [r for r in said if _standing(r, out, today) == top]
    contents = {tuple(r[key] for key in FILLED_IN) for r in newest}
    reopened, reopened_on, closed = 0, None, False
    for r in said:
        if r.get(REOPENED) is not None:
            reopened, reopened_on, closed = r[REOPENED], r[REOPENED_ON], _closes(r)
        elif _closes(r):
            closed, reopened_on = True, None
        elif closed:
            closed, reopened = False, reopened + 1
            stated = _standing(r, out, today, own=False)[0]
            reopened_on = stated if stated > dt.date.min else today
    if len(contents) > 1:  # no file's statement counts until one is corrected
        blank = {**{key: None for key in FILLED_IN}, FILE: "", SHEET: "", ROW: 0}
        return {**newest[0], **blank, REOPENED: reopened, REOPENED_ON: None, CONFLICTED: True,
                STATED_ON: top[0], SAVED_AT: top[1]}, newest
    return {**said[-1], REOPENED: reopened, REOPENED_ON: reopened_on, CONFLICTED: False,
            STATED_ON: top[0], SAVED_AT: top[1]}, []


def _check_projects(tables: dict[str, pd.DataFrame], settings: Settings, today: dt.date,
                    forms: list[AcceptanceForm], out: Collector) -> None:
    """The acceptance rule's warnings, each at the cell it is about (rows are kept)."""
    checklist = {item_key(item) for item in settings.acceptance_items}
    checks = table_rows(tables, "acceptance")
    for r in checks:
        if item_key(r["item"]) not in checklist:
            out.at_cell(r, "item", Code.CONSTRAINT, Severity.WARNING,
                        f"检查项“{r['item']}”不在规则设置的验收检查项中：它的结果照常计入（不合格即不通过），"
                        "但不算清单的一项；如是清单里某一项的别的写法，请照清单改写")
    verdicts = checklist_verdicts(checks, settings.acceptance_items)
    for verdict in verdicts.values():
        if verdict.conclusion is None:
            out.at_cell(verdict.first, "project_id", Code.CONSTRAINT, Severity.WARNING,
                        f"项目 {verdict.project_id} 的验收单（{verdict.date:%Y-%m-%d}）还缺 {len(verdict.missing)} 项："
                        f"{'、'.join(verdict.missing)}；每一项都填了合格/不合格/不适用才能得出验收结论，请补齐后交回")
    _weigh_forms(forms, tables, verdicts, out)
    names = {r["staff_id"]: r["name"] for r in table_rows(tables, "staff")}
    owners = {r["customer_id"]: r["owner"] for r in table_rows(tables, "customers", ("customer_id", "owner"))}

    def who(staff_id: str | None) -> str:
        return f"{names.get(staff_id, staff_id)}（{staff_id}）" if staff_id else "（空）"

    for r in table_rows(tables, "projects"):
        pid, verdict = r["project_id"], verdicts.get(r["project_id"])
        if r["acceptance"] is not None and verdict is not None and verdict.conclusion not in (None, r["acceptance"]):
            failed = f"，不合格：{'、'.join(verdict.failed)}" if verdict.failed else ""
            out.at_cell(r, "acceptance", Code.CONFLICT, Severity.WARNING,
                        f"项目 {pid} 的验收结论填的是“{r['acceptance']}”，而 {verdict.date:%Y-%m-%d} 交回的验收单得出"
                        f"“{verdict.conclusion}”{failed}；以实施项目为准，请核对后改正其中一处")
        stage = stage_of(r, acceptance_of(r, verdict), today)
        if r["handed_over"] is not None and stage != HANDED_OVER:
            out.at_cell(r, "handed_over", Code.CONSTRAINT, Severity.WARNING,
                        f"项目 {pid} 填了交接日期，但验收尚未通过，项目按{stage}计；请核对验收结论或交回的验收单")
        elif stage == HANDED_OVER and r["handover_to"] != owners.get(r["customer_id"]):
            out.at_cell(r, "handover_to", Code.CONSTRAINT, Severity.WARNING,
                        f"项目 {pid} 已交接给 {who(r['handover_to'])}，但客户档案中客户 {r['customer_id']} 的服务代表是 "
                        f"{who(owners.get(r['customer_id']))}；请在客户档案里更新服务代表（如交接填错了，改正实施项目）")


def _signers(form: AcceptanceForm) -> str:
    return "；".join(" ".join(part for part in (s.label, s.name, s.date) if part) for s in form.signatures) or "未签字"


def _weigh_forms(forms: list[AcceptanceForm], tables: dict[str, pd.DataFrame], verdicts: dict[str, Verdict],
                 out: Collector) -> None:
    """A returned 验收 form's ticked 验收结论 against the checklist, which decides (docs/rules.md
    § Implementation projects): one that agrees is recorded with who signed on the rows of the
    round it concludes; one that contradicts it, or stands over a blank or unfinished checklist, is a
    警告 at the box. A form of a round a later one replaced says nothing."""
    projects = KeyIndex([r["project_id"] for r in table_rows(tables, "projects")])
    signed: dict[str, list[str]] = {}
    for form in forms:
        pid = projects.find(form.project_id) if form.project_id else None
        if not form.ticked or pid is None:
            continue
        verdict, ticked = verdicts.get(pid), "”和“".join(form.ticked)
        if len(form.ticked) > 1:
            why = f"项目 {pid} 的验收结论同时勾了“{ticked}”"
        elif form.checked_on is None or verdict is None:
            why = f"项目 {pid} 的验收结论勾了“{ticked}”，但这张验收单的检查项都没有填结果，勾选不作数"
        elif form.checked_on < verdict.date:
            continue
        elif verdict.conclusion is None:
            why = (f"项目 {pid} 的验收结论勾了“{ticked}”，但检查项还缺 {len(verdict.missing)} 项"
                   f"（{'、'.join(verdict.missing)}），还得不出验收结论")
        elif verdict.conclusion != form.ticked[0]:
            failed = f"（不合格：{'、'.join(verdict.failed)}）" if verdict.failed else ""
            why = f"项目 {pid} 的验收结论勾了“{ticked}”，但检查项得出“{verdict.conclusion}”{failed}，项目按“{verdict.conclusion}”计"
        else:
            signed.setdefault(pid, []).append(_signers(form))
            continue
        out.add(Code.CONFLICT, Severity.WARNING, f"{why}；判定按检查项，请逐项填写（核对）结果后再勾选验收结论",
                file=form.file, sheet=form.sheet, row=form.box_row, column=column_letter(form.box_column),
                header="验收结论", value=shown_value(form.box_text))
    if signed:
        checks = tables["acceptance"]
        tables["acceptance"] = checks.assign(**{SIGNED: pd.Series(
            ["；".join(dict.fromkeys(signed[pid])) if pid in signed and day == verdicts[pid].date else None
             for pid, day in zip(checks["project_id"], checks["date"], strict=True)], index=checks.index, dtype=object)})
