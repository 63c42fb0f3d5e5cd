"""What several rules share, kept in one place so they never disagree: the order of staff ids, who
is on duty and with what daily cap, the bounds of a month, the records that make a complaint, and
the pins the manager and the hotline put on a plan.

Pure functions; nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.outputs import person_labels
from kis_batch.problems import Code, Problem, Severity
from kis_batch.schema import COMPLAINT_CATEGORY
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of

# Staff -----------------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def staff_order(staff_id: str) -> tuple[tuple[int, Any], ...]:
    """Staff ids in the order people read them (E2 before E10): "the lower staff id" wins ties.
    Cached: a month's rows sort by a few hundred ids."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", staff_id) if part)


def daily_cap(member: dict[str, Any], settings: Settings) -> int:
    """How many customers a member may be sent to in a day: their own 每日上限, else the rule's."""
    return settings.daily_cap if member["daily_cap"] is None else int(member["daily_cap"])


# How a leaver's 姓名 is marked in the month they still count in.
LEAVER_MARK = "（离职）"


def is_active(member: dict[str, Any]) -> bool:
    """在岗: only 否 takes someone off the roster (a blank counts as 是)."""
    return member["active"] is not False


def leave_on(staff_id: str, leaves: Iterable[dict[str, Any]], day: dt.date) -> dict[str, Any] | None:
    """The 请假 row that covers `day` for this member, or None."""
    return next((leave for leave in leaves if leave["staff_id"] == staff_id and leave["start"] <= day <= leave["end"]),
                None)


def on_duty(member: dict[str, Any], leaves: Iterable[dict[str, Any]], day: dt.date) -> bool:
    """Active and not on leave on `day`: someone who can be sent out that day."""
    return is_active(member) and leave_on(member["staff_id"], leaves, day) is None


def active_members(staff: Iterable[dict[str, Any]], roles: Iterable[str]) -> list[dict[str, Any]]:
    """The active members of the given roles, in staff-id order."""
    wanted = set(roles)
    return sorted((s for s in staff if s["role"] in wanted and is_active(s)), key=lambda s: staff_order(s["staff_id"]))


def month_members(staff: Iterable[dict[str, Any]], roles: Iterable[str],
                  worked: Iterable[str]) -> list[dict[str, Any]]:
    """The active members of the given roles and the leavers among them who worked in the month
    (their 工号 in worked), in staff-id order: a leaver stays in the month they worked
    (docs/rules.md § Inputs (员工名单))."""
    wanted, worked = set(roles), set(worked)
    return sorted((s for s in staff if s["role"] in wanted and (is_active(s) or s["staff_id"] in worked)),
                  key=lambda s: staff_order(s["staff_id"]))


def shown_name(member: dict[str, Any]) -> str:
    """The 姓名 as the month's lists show it: a leaver's marked 离职."""
    return member["name"] if is_active(member) else f"{member['name']}{LEAVER_MARK}"


def staff_labels(staff: Iterable[dict[str, Any]]) -> dict[str, str]:
    """工号 -> how the sheets that come back name each person (派给, 计划派给, 服务代表, 催收负责人): the 姓名,
    or 姓名_工号 when two on the roster share it, which the reader resolves to the 工号 (outputs.person_labels)."""
    people = list(staff)
    return person_labels([s["staff_id"] for s in people], [s["name"] for s in people])


# Months ----------------------------------------------------------------------------------------------

def month_start(day: dt.date) -> dt.date:
    """The first day of `day`'s month."""
    return day.replace(day=1)


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    following = (month_start(day) + dt.timedelta(days=32)).replace(day=1)
    return following - dt.timedelta(days=1)


# Complaints ------------------------------------------------------------------------------------------

CALLS_SOURCE, CALLBACKS_SOURCE = "calls", "callbacks"


@dataclass(frozen=True)
class ComplaintRecord:
    """One record that makes a complaint (docs/rules.md § Quality): a call filed under 投诉, or a
    callback with 投诉=是. Records about the same visit may be one complaint; the rules that count
    complaints decide that."""

    source: str  # the table it comes from: CALLS_SOURCE or CALLBACKS_SOURCE
    customer_id: str
    day: dt.date
    when: dt.datetime  # a call's time; a callback's is callback_time
    record: dict[str, Any]


def callback_time(day: dt.date) -> dt.datetime:
    """A callback has a date only: it is about services up to the end of that day."""
    return dt.datetime.combine(day, dt.time.max)


def complaint_records(tables: dict[str, pd.DataFrame], upto: dt.date) -> list[ComplaintRecord]:
    """Every complaint record dated up to `upto`: the calls first, then the callbacks, each in table order."""
    found: list[ComplaintRecord] = []
    for call in rows_of(complaint_calls(table_of(tables, "calls"))):
        when = call["call_time"]
        if when is not None and day_of(when) <= upto:
            found.append(ComplaintRecord(CALLS_SOURCE, call["customer_id"], day_of(when),
                                         pd.Timestamp(when).to_pydatetime(), call))
    callbacks = table_of(tables, "callbacks")
    for callback in rows_of(callbacks.loc[[flag is True for flag in callbacks["complaint"].tolist()]]):
        day = day_of(callback["date"])
        if day is not None and day <= upto:
            found.append(ComplaintRecord(CALLBACKS_SOURCE, callback["customer_id"], day,
                                         callback_time(day), callback))
    return found


def complaint_calls(calls: pd.DataFrame) -> pd.DataFrame:
    """The calls the hotline filed under 投诉."""
    return calls[calls["category"] == COMPLAINT_CATEGORY]


# Pins ------------------------------------------------------------------------------------------------

def pin_problem(pin: dict[str, Any], code: Code, severity: Severity, message: str, value: str) -> Problem:
    """A problem at the cell that states a pin (kis_batch/ingest/pins.py located it)."""
    return Problem(code, severity, message, file=pin["file"], sheet=pin["sheet"], row=pin["row"], column=pin["column"],
                   header=pin["header"], value=value)


def stated_pins(pins: pd.DataFrame | None, kind: str, what: str,
                applies: Callable[[dict[str, Any]], bool]) -> tuple[dict[str, dict[str, Any]], list[Problem]]:
    """One pin per key (工单号, 合同编号) among those of this kind that apply: a returned sheet's, which
    names its plan date, wins over one without (a call's 指定工程师). Statements that name different
    people are a conflict: an 错误 at each, and the key is planned as if none were given."""
    if pins is None or not len(pins):
        return {}, []
    stated: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for pin in rows_of(pins[pins["kind"] == kind]):
        if applies(pin):
            stated[pin["key"]].append(pin)
    chosen: dict[str, dict[str, Any]] = {}
    problems: list[Problem] = []
    for key, found in stated.items():
        winners = [p for p in found if p["plan_date"] is not None] or found
        if len({p["person"] for p in winners}) == 1:
            chosen[key] = winners[0]
            continue
        places = "；".join(f"{p['file']} / {p['sheet']} 第{p['row']}行" for p in winners)
        problems.extend(pin_problem(p, Code.CONFLICT, Severity.ERROR,
                                    f"{what}{key}在几处指定了不同的人（{places}）；请只保留一处。本次按未指定安排", p["value"])
                        for p in winners)
    return chosen, problems
