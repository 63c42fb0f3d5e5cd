"""What several rules share (kis_batch/rules/common.py): month bounds, who is on duty with what cap,
and which records make a complaint, checked on typed tables as ingest hands them on."""

from __future__ import annotations

import calendar
import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from kis_batch.rules.common import (
    CALLBACKS_SOURCE,
    CALLS_SOURCE,
    complaint_records,
    daily_cap,
    month_end,
    month_start,
    on_duty,
)
from kis_batch.settings import Settings
from kis_batch.tables import table_rows
from tests.builders import table


@given(st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2099, 12, 31)))
def test_month_bounds_are_the_first_and_last_day_of_the_month(day: dt.date) -> None:
    last = calendar.monthrange(day.year, day.month)[1]
    assert month_start(day) == day.replace(day=1)
    assert month_end(day) == day.replace(day=last)


def test_on_duty_means_active_and_not_on_leave_that_day_and_the_cap_falls_back_to_the_rule() -> None:
    tables = {
        "staff": table("staff", [{"staff_id": "E01", "name": "张伟", "role": "服务工程师", "daily_cap": 5},
                                 {"staff_id": "E02", "name": "王强", "role": "服务工程师", "active": False},
                                 {"staff_id": "E03", "name": "李娜", "role": "服务工程师"}]),
        "leave": table("leave", [{"staff_id": "E03", "start": dt.date(2026, 11, 23), "end": dt.date(2026, 11, 24)}]),
    }
    staff, leaves = table_rows(tables, "staff"), table_rows(tables, "leave")
    duty = {day: [s["staff_id"] for s in staff if on_duty(s, leaves, day)]
            for day in (dt.date(2026, 11, 20), dt.date(2026, 11, 23), dt.date(2026, 11, 25))}
    assert duty == {dt.date(2026, 11, 20): ["E01", "E03"], dt.date(2026, 11, 23): ["E01"],
                    dt.date(2026, 11, 25): ["E01", "E03"]}
    assert [daily_cap(s, Settings(daily_cap=4)) for s in staff] == [5, 4, 4]


def test_complaint_records_are_complaint_calls_and_complaining_callbacks_up_to_the_day() -> None:
    tables = {
        "calls": table("calls", [
            {"ticket_id": "T1", "call_time": dt.datetime(2026, 11, 19, 9), "customer_id": "C001", "category": "投诉"},
            {"ticket_id": "T2", "call_time": dt.datetime(2026, 11, 19, 10), "customer_id": "C002",
             "category": "软件故障"},
            {"ticket_id": "T3", "call_time": dt.datetime(2026, 11, 21, 9), "customer_id": "C003", "category": "投诉"},
        ]),
        "callbacks": table("callbacks", [
            {"date": dt.date(2026, 11, 20), "customer_id": "C004", "kind": "满意度回访", "reached": True,
             "complaint": True},
            {"date": dt.date(2026, 11, 20), "customer_id": "C005", "kind": "满意度回访", "reached": True,
             "complaint": False},
        ]),
    }
    found = complaint_records(tables, dt.date(2026, 11, 20))
    assert [(c.source, c.customer_id, c.day) for c in found] == [
        (CALLS_SOURCE, "C001", dt.date(2026, 11, 19)), (CALLBACKS_SOURCE, "C004", dt.date(2026, 11, 20))]
    assert found[0].when == dt.datetime(2026, 11, 19, 9)
    assert found[1].when == dt.datetime.combine(dt.date(2026, 11, 20), dt.time.max)  # a callback: the whole day
