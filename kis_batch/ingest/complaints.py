"""Reading 投诉处理 (docs/rules.md § Complaint cases): each row names a complaint case by its 投诉编号
and records how it was judged, handled and closed. A returned 投诉跟踪 sheet is such a sheet, so one
case may come back many times; the row with the latest 结案日期 wins, else the last file read.
"""

from __future__ import annotations

import datetime as dt
import re

import pandas as pd

from kis_batch.ingest.tables import OK, Collector, KeyIndex, Row, StaffIndex, reject, resolve_staff
from kis_batch.problems import Code, Severity
from kis_batch.tables import FILE, ROW, SHEET

# The columns a clerk fills in; a returned row with none of them filled records nothing yet.
FILLED_IN = ("responsibility", "action", "handler", "closed_on", "confirmed", "notes")
# TS + date + 客户编号, and -n for a further case of that customer that day.
CASE_NUMBER = re.compile(r"^TS\d{8}-(?P<customer>.+?)(?P<further>-\d+)?$", re.IGNORECASE)


def _known_cases(tables: dict[str, pd.DataFrame], today: dt.date) -> KeyIndex:
    # Imported here: the cases come from the rules, which read the tables this package builds.
    from kis_batch.rules.complaints import case_numbers

    return KeyIndex(case_numbers(tables, today))


def _unknown_case(number: str, customers: KeyIndex | None, today: dt.date) -> str:
    """Why a 投诉编号 names no case: its customer's 客户档案 row was rejected (so were its complaints),
    or it is simply not a case."""
    match = CASE_NUMBER.match(number)
    if match is not None and customers is not None:
        for customer in (match["customer"] + (match["further"] or ""), match["customer"]):
            note = customers.rejected_note(customer)
            if note:
                return (f"投诉编号“{number}”的客户“{customer}”在客户档案中的那一行没有被采用（{note}），它的投诉都没有立案；"
                        "请先更正客户档案的那一行。本行未采用")
    return (f"投诉编号“{number}”不是已立案的投诉（截至 {today:%Y-%m-%d}）；请照投诉跟踪表核对编号，"
            "编号形如 TS20261120-C0012。本行未采用")


def _recorded(r: Row) -> bool:
    return any(r[key] is not None for key in FILLED_IN)


def handling_rows(rows: list[Row], tables: dict[str, pd.DataFrame], staff: StaffIndex | None,
                  customers: KeyIndex | None, today: dt.date, out: Collector) -> list[Row]:
    """One row per case: 处理人 resolved to a 工号, a 结案日期 after D refused at its cell (the rest of
    the row stays), an unknown 投诉编号 rejected at its cell; of one case's rows, the filled-in one with
    the latest 结案日期, else the last read (file, sheet, row order)."""
    resolve_staff(rows, "handler", staff, out, "处理人")
    for r in rows:
        if r[OK] and r["closed_on"] is not None and r["closed_on"] > today:
            out.at_cell(r, "closed_on", Code.FUTURE_DATE, Severity.ERROR,
                        f"结案日期 {r['closed_on']:%Y-%m-%d} 晚于本次运行日期 {today:%Y-%m-%d}，不可能已经结案，应是笔误；"
                        "本行按未结案采用，请改正结案日期")
            r["closed_on"] = None
    ok = [r for r in rows if r[OK]]
    if not ok:
        return []
    cases = _known_cases(tables, today)
    latest: dict[str, Row] = {}
    for r in sorted(ok, key=lambda r: (r[FILE], r[SHEET], r[ROW])):
        found = cases.find(r["complaint_id"])
        if found is None:
            reject(r, "complaint_id", out, Code.UNKNOWN_REFERENCE, _unknown_case(r["complaint_id"], customers, today))
            continue
        r["complaint_id"] = found
        kept = latest.get(found)
        if kept is None or (_recorded(r) and (not _recorded(kept) or (r["closed_on"] or dt.date.min)
                                              >= (kept["closed_on"] or dt.date.min))):
            latest[found] = r
    return sorted(latest.values(), key=lambda r: (r[FILE], r[SHEET], r[ROW]))
