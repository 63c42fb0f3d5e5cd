"""The manager's and the hotline's say over P's plan, as the folder states it (docs/rules.md § Dispatch,
§ Fees): a returned 派工单 总览 whose 派给 differs from its 计划派给, a call's 指定工程师, a returned
催收清单 (or a hand-filled 年费催收 row) whose 催收负责人 differs from its 计划负责人.

Here each is read and located at its cell; whether it holds on P (the person on duty, the right
pool) is the rules' to decide, since only they know P and who is away. Of several returned 总览 or
催收清单 rows about one ticket or chase, the newest statement counts (docs/rules.md § Returned sheets).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pandas as pd

from kis_batch.inbox import Collector
from kis_batch.ingest.reading import OK, Row
from kis_batch.ingest.references import StaffIndex, merge_repeats, resolve_staff
from kis_batch.problems import Code, Severity
from kis_batch.schema import FEE_CHASE, HOLD, PIN_CHASE, PIN_COLUMNS, PIN_DISPATCH

OVERVIEW_SOURCE, CALL_SOURCE, CHASE_SOURCE = "派工单总览", "热线记录", "催收清单"


def set_holds_aside(feedback: list[Row]) -> set[int]:
    """A returned 总览 row whose 派给 says 不派 is the manager holding that ticket. As feedback it
    stays the row the tool wrote (派给 = its 计划派给), a plan not done yet; the rows' indices are kept
    for read_pins."""
    held: set[int] = set()
    for r in feedback:
        if r[OK] and r["planned"] is not None and r["staff"] == HOLD:
            held.add(r.index)
            r["staff"] = r["planned"]
    return held


def resolve_assigned(calls: list[Row], staff: StaffIndex | None, out: Collector) -> None:
    """A call's 指定工程师 as a 工号. It is optional: one that names no one is an 错误 at its cell,
    taken as blank, and the call stays."""
    if staff is None:
        return
    for r in calls:
        if not r[OK] or r["assigned"] is None:
            continue
        found = staff.resolve(r["assigned"])
        if found is None:
            out.at_cell(r, "assigned", Code.UNKNOWN_REFERENCE, Severity.ERROR,
                        f"{staff.why_not(r['assigned'], '指定工程师')}。本行其余内容照常使用，此格按留空处理，该单照常派工")
        r["assigned"] = found


def chase_rows(rows: list[Row], staff: StaffIndex | None, today: dt.date, out: Collector) -> list[Row]:
    """年费催收 rows with 催收负责人 as a 工号 (one that names no one rejects its row: the row says
    nothing else), repeats merged, the newest statement winning."""
    resolve_staff(rows, "owner", staff, out, "催收负责人")
    return merge_repeats(FEE_CHASE, rows, out, today)


def _planned(value: str | None, staff: StaffIndex | None) -> str | None:
    """计划派给 / 计划负责人 as a 工号 where it names one (the tool wrote a 姓名)."""
    if value is None or staff is None:
        return value
    return staff.resolve(value) or value


def _newest_overview_rows(feedback: list[Row], held: set[int], staff: StaffIndex | None, today: dt.date,
                          out: Collector) -> list[tuple[Row, str | None, str | None, bool]]:
    """The returned 总览 rows that count, each with its 派给 (None: 不派), its 计划派给 and whether it
    pins: of one ticket's rows for one plan date only the newest statements, so a 总览 the manager
    corrected since pins nothing. Newest statements that disagree all pin (a 派给 left as planned
    pins to the planned person), so the rules say the conflict."""
    about: dict[tuple[Any, Any], list[Row]] = defaultdict(list)
    for r in feedback:
        if r[OK] and r["planned"] is not None and r["ticket_id"] is not None:
            about[(r["ticket_id"], r["service_date"])].append(r)
    counted = []
    for rows in about.values():
        top = max(out.standing(r, today) for r in rows)
        newest = [r for r in rows if out.standing(r, today) == top]
        said = [(r, None if r.index in held else r["staff"], _planned(r["planned"], staff)) for r in newest]
        disagree = len({person for _, person, _ in said}) > 1
        counted.extend((r, person, planned, disagree or person != planned) for r, person, planned in said)
    return counted


def read_pins(feedback: list[Row], held: set[int], calls: list[Row], chases: list[Row], staff: StaffIndex | None,
              today: dt.date, out: Collector) -> pd.DataFrame:
    """Every pin the folder states (schema.PIN_COLUMNS): person None is a hold (不派)."""
    pins: list[dict[str, Any]] = []

    def pin(kind: str, key: str, plan: Any, person: str | None, planned: str | None, source: str, r: Row,
            column: str, value: str) -> None:
        pins.append({"kind": kind, "key": key, "plan_date": plan, "person": person, "planned": planned,
                     "source": source, **out.cell(r, column), "value": value})

    for r, person, planned, pins_it in _newest_overview_rows(feedback, held, staff, today, out):
        if pins_it:
            pin(PIN_DISPATCH, r["ticket_id"], r["service_date"], person, planned, OVERVIEW_SOURCE, r, "staff",
                HOLD if person is None else person)
    for r in calls:
        if r[OK] and r["assigned"] is not None:
            pin(PIN_DISPATCH, r["ticket_id"], None, r["assigned"], None, CALL_SOURCE, r, "assigned", r["assigned"])
    for r in chases:
        planned = _planned(r["planned"], staff)
        if r["owner"] != planned:
            pin(PIN_CHASE, r["contract_id"], r["chase_date"], r["owner"], planned, CHASE_SOURCE, r, "owner",
                r["owner"])
    return pd.DataFrame(pins, columns=list(PIN_COLUMNS), dtype=object)
