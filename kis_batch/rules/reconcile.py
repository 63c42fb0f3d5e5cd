"""The checks of the folder that need the rules' own answers, run right after reading and before
any step (the reader imports no rule):

- 投诉处理 (docs/rules.md § Complaint cases): each row names a complaint case by its 投诉编号, and the
  cases are found by the rules from the calls and callbacks. A row naming no case is rejected at
  its cell. A returned 投诉跟踪 sheet is such a sheet, so one case may come back many times; the row
  with the latest 结案日期 wins, else the last file read.
- 实施项目 and 验收单 (docs/rules.md § Implementation projects), against the acceptance rule: items
  outside the checklist, a round with items missing, a 验收结论 that disagrees with the returned
  checklist, and a handover the customer roster does not show. Warnings; the rows stay.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pandas as pd

from kis_batch.inbox import Collector, Inbox
from kis_batch.problems import Code, Severity
from kis_batch.rules.acceptance import HANDED_OVER, acceptance_of, checklist_verdicts, item_key, stage_of
from kis_batch.rules.complaints import case_numbers
from kis_batch.schema import COMPLAINT_HANDLING
from kis_batch.settings import Settings
from kis_batch.tables import FILE, ROW, SHEET, KeyIndex, casefold, frame_of_records, rows_of, table_rows

# The columns a clerk fills in; a returned row with none of them filled records nothing yet.
FILLED_IN = ("responsibility", "action", "handler", "closed_on", "confirmed", "notes")
# TS + date + 客户编号, and -n for a further case of that customer that day.
CASE_NUMBER = re.compile(r"^TS\d{8}-(?P<customer>.+?)(?P<further>-\d+)?$", re.IGNORECASE)


def reconcile(inbox: Inbox) -> None:
    """Check what was read against the rules: problems join the inbox's at their cells, in the
    order the reader would have said them; 投诉处理 keeps one row per known case."""
    out = inbox.cells()
    _one_row_per_case(inbox, out)
    _check_projects(inbox.tables, inbox.settings, inbox.today, out)


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


def _in_sheet_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda r: (r[FILE], r[SHEET], r[ROW]))


def _one_row_per_case(inbox: Inbox, out: Collector) -> None:
    """An unknown 投诉编号 rejected at its cell; of one case's rows, the filled-in one with the latest
    结案日期, else the last read (file, sheet, row order)."""
    rows = rows_of(inbox.tables["complaint_handling"])
    if not rows:
        return
    cases = KeyIndex(case_numbers(inbox.tables, inbox.today))
    latest: dict[str, dict[str, Any]] = {}
    refused = []
    for r in _in_sheet_order(rows):
        found = cases.find(r["complaint_id"])
        if found is None:
            out.at_cell(r, "complaint_id", Code.UNKNOWN_REFERENCE, Severity.ERROR,
                        _unknown_case(r["complaint_id"], inbox.refused_customers, inbox.today))
            refused.append(r)
            continue
        r["complaint_id"] = found
        kept = latest.get(found)
        if kept is None or (_recorded(r) and (not _recorded(kept) or (r["closed_on"] or dt.date.min)
                                              >= (kept["closed_on"] or dt.date.min))):
            latest[found] = r
    inbox.set_aside("complaint_handling", frame_of_records(COMPLAINT_HANDLING, _in_sheet_order(list(latest.values()))),
                    frame_of_records(COMPLAINT_HANDLING, refused))


def _check_projects(tables: dict[str, pd.DataFrame], settings: Settings, today: dt.date, out: Collector) -> None:
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
    names = {r["staff_id"]: r["name"] for r in table_rows(tables, "staff")}
    owners = {r["customer_id"]: r["owner"] for r in table_rows(tables, "customers")}

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
