"""Where a fast path stands in for a rule, the rule written out plainly as docs/rules.md states it
and a property test that the two agree on every input drawn: the typing of a column's cells
(docs/rules.md § Bad input), the open tickets on D (docs/rules.md § Dispatch), the rows and columns every rule
and writer reads a table as, and the lines a wrapped cell prints on."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kis_batch import tables as tables_module
from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import load_folder
from kis_batch.ingest.reading import coerce_cells, coerce_cells_once_each
from kis_batch.render.paper import WRAP_PAD_UNITS, printed_lines, printed_width
from kis_batch.rules.tickets import DISPATCHED_HANDLINGS, UNFINISHED_RESULTS, open_tickets
from kis_batch.schema import BY_KEY, HANDLINGS, RESOLVED, RESULTS, SERVICE_FACTS, service_happened
from kis_batch.tables import column_lists, rows_of
from tests.builders import table
from tests.test_example import EXAMPLE

TODAY = dt.date(2026, 11, 27)  # a Friday

# --- a column's cells ---

COLUMNS = [column for template in BY_KEY.values() for column in template.columns]
CELL = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-5, 50_000),
    st.floats(-5, 50_000, allow_nan=False),
    st.text("0123456789-./: 　是否年月日%", max_size=12),
    st.sampled_from(["需上门", "远程处理", "已解决", "高", "紧急", "服务工程师", " E01 ", "#REF!", "17:00", "2026-11-27"]),
    st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
    st.datetimes(dt.datetime(2020, 1, 1), dt.datetime(2030, 12, 31)),
    st.times(),
)
# Cells Python counts equal (True == 1 == 1.0) that a sheet does not.
EQUAL_TO_PYTHON = st.lists(st.sampled_from([True, False, 1, 0, 1.0, 0.0]), min_size=2, max_size=4)
# A column repeats a few values many times, as a month's sheets do.
COLUMN_CELLS = st.one_of(st.lists(CELL, min_size=1, max_size=5), EQUAL_TO_PYTHON).flatmap(
    lambda pool: st.lists(st.sampled_from(pool), max_size=15))


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "error") or hasattr(b, "error"):  # a failure: the same reason
        return hasattr(a, "error") and hasattr(b, "error") and str(a.error) == str(b.error)
    return type(a) is type(b) and a == b


@settings(max_examples=400, deadline=None)
@given(column=st.sampled_from(COLUMNS), raws=COLUMN_CELLS)
def test_coercing_each_distinct_cell_once_gives_what_coercing_every_cell_gives(column, raws) -> None:
    fast, fast_failed = coerce_cells_once_each(column, raws, TODAY)
    rule, rule_failed = coerce_cells(column, raws, TODAY)
    assert fast_failed == rule_failed
    assert len(fast) == len(rule) and all(_same(a, b) for a, b in zip(fast, rule, strict=True)), (fast, rule)


# --- open tickets ---

def reference_open_tickets(calls: pd.DataFrame, feedback: pd.DataFrame, today: dt.date) -> Counter:
    """docs/rules.md § Dispatch, read literally, one ticket at a time: a call up to D whose 处理方式
    is 需上门 or 远程处理 and no feedback up to D says 已解决; plus every ticket whose latest filled
    feedback up to D is 部分解决 or 未解决, its customer from that feedback if no call up to D has it.
    Latest: the later service date; on one day an 已解决 outranks the others, then the later row."""
    counted = [f for f in rows_of(feedback)
               if f["ticket_id"] and f["result"] and f["service_date"] and f["service_date"] <= today]

    def latest(ticket: str) -> dict[str, Any] | None:
        mine = sorted((f for f in counted if f["ticket_id"] == ticket),
                      key=lambda f: (f["service_date"], f["result"] == RESOLVED))
        return mine[-1] if mine else None

    def came_back(ticket: str) -> bool:
        last = latest(ticket)
        return last is not None and last["result"] in UNFINISHED_RESULTS

    calls_by_d = [c for c in rows_of(calls) if c["call_time"] is not None and c["call_time"].date() <= today]
    found: Counter = Counter()
    for call in calls_by_d:
        solved = any(f["ticket_id"] == call["ticket_id"] and f["result"] == RESOLVED for f in counted)
        if (call["handling"] in DISPATCHED_HANDLINGS and not solved) or came_back(call["ticket_id"]):
            last = latest(call["ticket_id"])
            found[(call["ticket_id"], call["customer_id"], call["call_time"], call["call_time"].date(),
                   last["result"] if last else None)] += 1
    logged = {c["ticket_id"] for c in calls_by_d}
    for ticket in {f["ticket_id"] for f in counted} - logged:
        if came_back(ticket):
            first = min(f["service_date"] for f in counted if f["ticket_id"] == ticket)
            last = latest(ticket)
            found[(ticket, last["customer_id"], None, first, last["result"])] += 1
    return found


TICKETS = st.sampled_from(["T1", "T2", "T3", "T4"])
CUSTOMERS = st.sampled_from(["C1", "C2", "C3"])
DAYS = st.integers(24, 30).map(lambda day: dt.date(2026, 11, day))
CALL = st.fixed_dictionaries({
    "ticket_id": TICKETS, "customer_id": CUSTOMERS, "handling": st.sampled_from(HANDLINGS), "problem": st.just("报错"),
    "call_time": st.one_of(st.none(), st.builds(lambda day, hour: dt.datetime.combine(day, dt.time(hour)),
                                                 DAYS, st.integers(0, 23))),
})
FEEDBACK = st.fixed_dictionaries({
    "ticket_id": st.one_of(st.none(), TICKETS), "customer_id": CUSTOMERS, "staff": st.just("张伟"),
    "result": st.one_of(st.none(), st.sampled_from(RESULTS)), "service_date": st.one_of(st.none(), DAYS),
    "notes": st.sampled_from(["", "待补丁"]),
})


def _found(calls: pd.DataFrame, feedback: pd.DataFrame) -> Counter:
    """open_tickets's rows as the reference counts them."""
    found = open_tickets(calls, feedback, WorkCalendar(), TODAY)
    call_times = [None if pd.isna(t) else t for t in found["call_time"]]
    return Counter(zip(found["ticket_id"], found["customer_id"], call_times, found["since"], found["last_result"],
                       strict=True))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(calls=st.lists(CALL, max_size=8), feedback=st.lists(FEEDBACK, max_size=8))
def test_the_open_tickets_fast_path_finds_what_the_rule_finds(calls, feedback) -> None:
    calls_table, feedback_table = table("calls", calls), table("feedback", feedback)
    assert _found(calls_table, feedback_table) == reference_open_tickets(calls_table, feedback_table, TODAY)


def test_the_example_month_has_open_tickets_both_ways() -> None:
    """The property above on a real month: the bundled example, as read."""
    tables = load_folder(EXAMPLE, TODAY).tables
    fast = _found(tables["calls"], tables["feedback"])
    assert sum(fast.values()) > 0 and fast == reference_open_tickets(tables["calls"], tables["feedback"], TODAY)


@pytest.mark.parametrize("kept_up_to_cells", [tables_module.ROWS_KEPT_UP_TO_CELLS, 0])
def test_each_caller_gets_the_rows_as_pandas_gives_them_and_its_own_copy(monkeypatch, kept_up_to_cells) -> None:
    """rows_of keeps a small table's rows and copies them for each caller (a large one is built per
    caller): either way the rows are the frame's records, and one rule's edits reach no other rule."""
    monkeypatch.setattr(tables_module, "ROWS_KEPT_UP_TO_CELLS", kept_up_to_cells)
    customers = load_folder(EXAMPLE, TODAY).tables["customers"]
    first = rows_of(customers)
    assert first == customers.to_dict("records") and len(first) > 1
    first[0]["name"] = "改过的名字"
    first[1]["added_by_a_rule"] = True
    again = rows_of(customers)
    assert again == customers.to_dict("records")
    assert again[0] is not first[0] and "added_by_a_rule" not in again[1]


def test_the_rows_of_named_columns_are_the_records_cut_to_those_columns() -> None:
    """A caller reading a few columns of a long table gets each record with those keys only, in the
    table's order; an empty table gives no rows."""
    calls = load_folder(EXAMPLE, TODAY).tables["calls"]
    wanted = ("customer_id", "call_time", "_row")
    cut = rows_of(calls, wanted)
    assert len(cut) > 1 and cut == [{key: r[key] for key in wanted} for r in calls.to_dict("records")]
    assert rows_of(calls.iloc[:0], wanted) == []


def test_whether_a_service_happened_is_read_from_the_service_facts_alone() -> None:
    """Rules that build feedback rows of a few columns for service_happened name SERVICE_FACTS: the
    function reads those columns and no other, and any one of them filled means it happened."""
    blank = dict.fromkeys(SERVICE_FACTS)
    assert service_happened(blank) is False
    for fact in SERVICE_FACTS:
        assert service_happened({**blank, fact: "filled"}) is True


def _same_value(a: Any, b: Any) -> bool:
    """Equal and of one type, a missing value (NaN, NaT, None) equal to itself."""
    return type(a) is type(b) and (a is b or a == b or (pd.isna(a) is True and pd.isna(b) is True))


@given(st.lists(st.tuples(st.text(max_size=3), st.integers(-5, 5), st.floats(allow_nan=True, allow_infinity=False),
                          st.booleans(), st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)),
                          st.one_of(st.none(), st.text(max_size=3), st.integers(0, 9), st.dates())), max_size=6))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_the_column_lists_are_what_each_column_gives(rows) -> None:
    """column_lists converts a frame in one step; each column's values and their types are those of
    frame[column].tolist(), whatever the columns' dtypes (text, int, float with NaN, bool, datetime,
    mixed objects)."""
    frame = pd.DataFrame(rows, columns=["text", "int", "float", "bool", "date", "mixed"])
    frame["when"] = pd.to_datetime(frame["date"])
    expected = [frame[column].tolist() for column in frame.columns]
    found = column_lists(frame)
    assert len(found) == len(expected)
    for column, want, got in zip(frame.columns, expected, found, strict=True):
        assert len(got) == len(want) and all(map(_same_value, want, got)), column


def test_a_frame_without_columns_has_no_column_lists() -> None:
    assert column_lists(pd.DataFrame(index=range(3))) == []


@given(st.text("ab 1：客户地址上门\n", max_size=40), st.floats(0.5, 60))
@settings(max_examples=300, deadline=None)
def test_a_wrapped_cell_prints_on_the_lines_its_measured_width_needs(text, width) -> None:
    """printed_lines skips measuring a line too short to fill the column even in wide characters;
    every count is the measured one: each line's printed width over the room, at least one line."""
    room = max(width - WRAP_PAD_UNITS, 1)
    assert printed_lines(text, width) == sum(max(1, math.ceil(printed_width(line) / room)) for line in text.split("\n"))


# --- rows in sheet order ---

# A run of rows from one sheet: its file, its sheet, row numbers going up (or not, when made so).
SHEET_RUN = st.tuples(st.sampled_from(["f1", "f2", "f3"]), st.sampled_from(["s1", "s2"]),
                      st.lists(st.integers(2, 60), min_size=1, max_size=6), st.booleans())


@settings(max_examples=400, deadline=None)
@given(runs=st.lists(SHEET_RUN, max_size=6), shared_names=st.booleans())
def test_rows_come_in_sheet_order_as_sorting_them_gives(runs, shared_names) -> None:
    """The check that spares sorting rows already in (file, sheet, row) order gives what sorting
    gives: a run's names are one object each (as a sheet's rows hold them), or equal names are
    separate objects."""
    from kis_batch.ingest.reading import TypedRows
    from kis_batch.ingest.references import _in_sheet_order
    from kis_batch.tables import FILE, ROW, SHEET

    files, sheets, numbers = [], [], []
    for file, sheet, rows, ascending in runs:
        file, sheet = (file, sheet) if shared_names else ("".join(list(file)), "".join(list(sheet)))
        for number in sorted(rows) if ascending else rows:
            files.append(file)
            sheets.append(sheet)
            numbers.append(number)
    typed = TypedRows({FILE: files, SHEET: sheets, ROW: numbers}, [True] * len(numbers))
    rows = typed.rows()
    expected = sorted(range(len(rows)), key=lambda n: (files[n], sheets[n], numbers[n]))
    assert [r.index for r in _in_sheet_order(rows)] == expected
