"""WorkCalendar against hand-checked dates of the official 2026 arrangement and the 2027 fallback."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import chinese_calendar
import holidays as holidays_package
import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from kis_batch import calendar as calendar_module
from kis_batch.calendar import WorkCalendar, fallback_message
from kis_batch.cli import main
from kis_batch.problems import Code, Severity
from kis_batch.settings import Settings

D = dt.date


def days_between(start: dt.date, end: dt.date) -> list[dt.date]:
    return [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]


# --- the official calendar (2026 as published, and as the library holds it) ---


def test_library_holds_the_2026_national_day_arrangement() -> None:
    # 国务院办公厅 2026: 10月1日至7日放假, 9月20日(周日)、10月10日(周六)上班
    assert chinese_calendar.is_workday(D(2026, 10, 10))
    assert D(2026, 10, 10).weekday() == 5
    assert chinese_calendar.is_workday(D(2026, 9, 20))
    assert not any(chinese_calendar.is_workday(D(2026, 10, day)) for day in range(1, 8))


def test_national_day_holiday_pushes_the_plan_date() -> None:
    assert WorkCalendar().next_workday(D(2026, 9, 30)) == D(2026, 10, 8)


def test_saturday_makeup_workday_is_the_plan_date() -> None:
    cal = WorkCalendar()
    assert cal.next_workday(D(2026, 10, 9)) == D(2026, 10, 10)
    assert cal.is_workday(D(2026, 10, 10))
    assert cal.next_workday(D(2026, 10, 10)) == D(2026, 10, 12)


def test_spring_festival_with_its_makeup_saturday() -> None:
    cal = WorkCalendar()
    assert cal.next_workday(D(2026, 2, 13)) == D(2026, 2, 14)  # Saturday 调休上班
    assert cal.next_workday(D(2026, 2, 14)) == D(2026, 2, 24)  # 2月15日至23日放假


def test_weekend_and_plain_weekday() -> None:
    cal = WorkCalendar()
    assert cal.next_workday(D(2026, 11, 6)) == D(2026, 11, 9)  # Friday -> Monday
    assert cal.next_workday(D(2026, 11, 10)) == D(2026, 11, 11)
    assert not cal.is_workday(D(2026, 11, 7))
    assert cal.is_workday(D(2026, 11, 30))


def test_november_2026_has_21_working_days() -> None:
    # Nov 1 is a Sunday; weekdays 2–6, 9–13, 16–20, 23–27, 30; no holiday
    expected = [D(2026, 11, d) for d in (2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20, 23, 24, 25, 26, 27, 30)]
    cal = WorkCalendar()
    assert cal.month_workdays(D(2026, 11, 17)) == expected
    assert cal.count_workdays(D(2026, 11, 1), D(2026, 11, 30)) == 21


def test_october_2026_working_days() -> None:
    # 31 days, 22 weekdays, minus Oct 1, 2, 5, 6, 7 (weekday holidays), plus Saturday Oct 10
    cal = WorkCalendar()
    days = cal.month_workdays(D(2026, 10, 1))
    assert len(days) == 18
    assert days[:3] == [D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)]


# --- the 2027 fallback: chinesecalendar 1.11 ends with 2026 ---
# The holidays package's 2027 for China: 元旦 Jan 1 (Fri); 除夕 Feb 5 (Fri), 春节 Feb 6–8 with Feb 9–10
# for the weekend days; 清明 Apr 5; 劳动节 May 1–4; 端午 Jun 9; 中秋 Sep 15; 国庆 Oct 1–5. It does
# not list the bridging days of the long holidays (those come with the 调休 arrangement).


def test_2027_new_year_is_a_holiday_so_new_years_eve_plans_the_monday() -> None:
    cal = WorkCalendar()
    assert cal.fallback_years == ()
    assert not cal.is_workday(D(2027, 1, 1))
    assert cal.next_workday(D(2026, 12, 31)) == D(2027, 1, 4)  # Jan 1 元旦 (Fri), Jan 2–3 a weekend
    assert cal.fallback_years == (2027,)


def test_2027_spring_festival_and_national_day_are_not_working_days() -> None:
    cal = WorkCalendar()
    assert not any(cal.is_workday(D(2027, 2, day)) for day in range(5, 11))
    assert cal.next_workday(D(2027, 2, 4)) == D(2027, 2, 11)
    assert not any(cal.is_workday(D(2027, 10, day)) for day in range(1, 6))
    assert cal.next_workday(D(2027, 9, 30)) == D(2027, 10, 6)
    # 2027-02: 20 weekdays, less Feb 5, 8, 9, 10
    assert len(cal.month_workdays(D(2027, 2, 1))) == 16


def test_fallback_subtracts_the_settings_holidays() -> None:
    cal = WorkCalendar(holidays=[D(2027, 1, 4)])
    assert cal.next_workday(D(2026, 12, 31)) == D(2027, 1, 5)
    assert cal.fallback_years == (2027,)


def test_fallback_adds_the_settings_makeup_workdays() -> None:
    cal = WorkCalendar(makeup_workdays=[D(2027, 1, 2)])
    assert cal.is_workday(D(2027, 1, 2))
    assert not cal.is_workday(D(2027, 1, 3))


def test_a_2027_makeup_saturday_in_the_settings_is_a_working_day() -> None:
    saturday = D(2027, 2, 20)
    assert saturday.weekday() == 5
    assert not WorkCalendar().is_workday(saturday)
    cal = WorkCalendar.from_settings(Settings().replace(makeup_workdays=(saturday,)))
    assert cal.is_workday(saturday)
    assert cal.next_workday(D(2027, 2, 19)) == saturday
    assert cal.fallback_years == (2027,)


def test_the_settings_makeup_list_overrides_a_statutory_holiday_too() -> None:
    assert WorkCalendar(makeup_workdays=[D(2027, 1, 1)]).next_workday(D(2026, 12, 31)) == D(2027, 1, 1)


def test_fallback_years_are_every_unknown_year_consulted_sorted() -> None:
    cal = WorkCalendar()
    cal.count_workdays(D(2028, 12, 30), D(2029, 1, 2))
    cal.is_workday(D(2003, 6, 2))
    cal.is_workday(D(2026, 6, 2))
    assert cal.fallback_years == (2003, 2028, 2029)


def test_a_year_beyond_the_holidays_package_is_monday_to_friday() -> None:
    cal = WorkCalendar()
    assert cal.next_workday(D(2200, 12, 31)) == D(2201, 1, 1)  # a Thursday, no rules that far ahead
    assert cal.fallback_years == (2200, 2201)


def test_counting_across_the_year_end_into_the_fallback() -> None:
    # Dec 28–31 (Mon–Thu) 4, Jan 1 (Fri) 元旦, Jan 4–8 5
    assert WorkCalendar().count_workdays(D(2026, 12, 28), D(2027, 1, 8)) == 9


def test_fallback_message() -> None:
    assert fallback_message([]) == ""
    assert fallback_message([2027]) == (
        "2027年的放假调休安排日历库中还没有：法定节假日已取自 holidays 库，其余周一至周五按上班计算，"
        "再扣除规则设置中“节假日”所列日期、加上“调休上班”所列日期；调休上班日无法预知，"
        "请在规则设置的“调休上班”中列出该年的调休上班日期（调休放假的日子列在“节假日”）"
    )
    multiple = fallback_message((2028, 2027, 2028))
    assert multiple.startswith("2027年、2028年的放假调休安排")
    assert "列出这些年份的调休上班日期" in multiple


# --- 规则设置 overrides ---


def test_settings_makeup_turns_a_sunday_into_a_workday() -> None:
    sunday = D(2026, 11, 8)
    cal = WorkCalendar(makeup_workdays=[sunday])
    assert cal.is_workday(sunday)
    assert cal.next_workday(D(2026, 11, 7)) == sunday
    assert len(cal.month_workdays(sunday)) == 22


def test_settings_holiday_turns_a_weekday_off() -> None:
    wednesday = D(2026, 11, 11)
    cal = WorkCalendar(holidays=[wednesday])
    assert not cal.is_workday(wednesday)
    assert cal.next_workday(D(2026, 11, 10)) == D(2026, 11, 12)
    assert len(cal.month_workdays(wednesday)) == 20


def test_settings_override_the_library_both_ways() -> None:
    cal = WorkCalendar(holidays=[D(2026, 10, 10)], makeup_workdays=[D(2026, 10, 5)])
    assert not cal.is_workday(D(2026, 10, 10))  # library: makeup Saturday
    assert cal.is_workday(D(2026, 10, 5))  # library: National Day
    assert cal.next_workday(D(2026, 10, 9)) == D(2026, 10, 12)


def test_a_date_in_both_lists_is_a_holiday() -> None:
    day = D(2026, 11, 11)
    assert not WorkCalendar(holidays=[day], makeup_workdays=[day]).is_workday(day)


def test_from_settings() -> None:
    s = Settings().replace(holidays=(D(2027, 1, 4), D(2026, 11, 11)), makeup_workdays=(D(2026, 11, 8),))
    cal = WorkCalendar.from_settings(s)
    assert not cal.is_workday(D(2026, 11, 11))
    assert cal.is_workday(D(2026, 11, 8))
    assert cal.next_workday(D(2026, 12, 31)) == D(2027, 1, 5)
    assert WorkCalendar.from_settings(Settings()).next_workday(D(2026, 12, 31)) == D(2027, 1, 4)


def test_datetimes_count_as_their_calendar_day() -> None:
    cal = WorkCalendar(holidays=[D(2026, 11, 11)])
    assert not cal.is_workday(dt.datetime(2026, 11, 11, 9, 30))
    assert cal.next_workday(dt.datetime(2026, 9, 30, 23, 59)) == D(2026, 10, 8)


# --- counting ---


def test_workdays_across_national_day() -> None:
    cal = WorkCalendar()
    expected = [D(2026, 9, 28), D(2026, 9, 29), D(2026, 9, 30), D(2026, 10, 8), D(2026, 10, 9), D(2026, 10, 10)]
    assert cal.workdays(D(2026, 9, 28), D(2026, 10, 11)) == expected
    assert cal.count_workdays(D(2026, 9, 28), D(2026, 10, 11)) == 6


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (D(2026, 11, 10), D(2026, 11, 10), 1),  # same day, a workday
        (D(2026, 10, 3), D(2026, 10, 3), 0),  # same day, a holiday
        (D(2026, 11, 14), D(2026, 11, 15), 0),  # a weekend
        (D(2026, 11, 20), D(2026, 11, 10), 0),  # reversed
        (D(2026, 10, 1), D(2026, 10, 7), 0),  # the whole holiday
        (D(2026, 1, 1), D(2026, 12, 31), 248),  # 261 weekdays − 19 weekday holidays + 6 makeup days
    ],
)
def test_count_workdays_edges(start: dt.date, end: dt.date, expected: int) -> None:
    cal = WorkCalendar()
    assert cal.count_workdays(start, end) == expected
    assert len(cal.workdays(start, end)) == expected


@pytest.mark.parametrize(
    ("since", "until", "expected"),
    [
        (D(2026, 11, 10), D(2026, 11, 10), 0),  # same day
        (D(2026, 11, 12), D(2026, 11, 10), 0),  # reversed
        (D(2026, 11, 10), D(2026, 11, 11), 1),
        (D(2026, 11, 13), D(2026, 11, 16), 1),  # Friday to Monday
        (D(2026, 9, 30), D(2026, 10, 8), 1),  # across National Day
        (D(2026, 9, 29), D(2026, 10, 9), 3),  # Sep 30, Oct 8, Oct 9
        (D(2026, 10, 3), D(2026, 10, 8), 1),  # called in on a holiday
        (D(2026, 10, 3), D(2026, 10, 7), 0),
    ],
)
def test_workdays_waiting(since: dt.date, until: dt.date, expected: int) -> None:
    assert WorkCalendar().workdays_waiting(since, until) == expected


def test_each_month_is_asked_of_the_library_once(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dt.date] = []
    real = chinese_calendar.is_workday

    def counting(day: dt.date) -> bool:
        calls.append(day)
        return real(day)

    monkeypatch.setattr(calendar_module.chinese_calendar, "is_workday", counting)
    cal = WorkCalendar()
    for _ in range(1000):
        cal.count_workdays(D(2026, 10, 15), D(2026, 11, 20))
        cal.is_workday(D(2026, 11, 3))
        cal.next_workday(D(2026, 10, 31))
    assert len(calls) == 1 + 31 + 30  # the year probe, then each day of October and November once


# --- properties over 2025–2028 (two library years, two fallback years) ---

dates = st.dates(min_value=D(2025, 1, 1), max_value=D(2028, 12, 31))


def expected_workday(day: dt.date, holidays: set[dt.date], makeup: set[dt.date]) -> bool:
    if day in holidays:
        return False
    if day in makeup:
        return True
    if day.year <= 2026:
        return chinese_calendar.is_workday(day)
    return day.weekday() < 5 and day not in holidays_package.China(years=day.year)


@settings(max_examples=300, deadline=None)
@given(day=dates, holidays=st.sets(dates, max_size=20), makeup=st.sets(dates, max_size=20))
def test_is_workday_follows_settings_then_library_then_weekdays(day: dt.date, holidays: set[dt.date], makeup: set[dt.date]) -> None:
    cal = WorkCalendar(holidays, makeup)
    assert cal.is_workday(day) == expected_workday(day, holidays, makeup)


@settings(max_examples=300, deadline=None)
@given(day=dates, holidays=st.sets(dates, max_size=20), makeup=st.sets(dates, max_size=20))
def test_next_workday_is_the_first_workday_after(day: dt.date, holidays: set[dt.date], makeup: set[dt.date]) -> None:
    cal = WorkCalendar(holidays, makeup)
    following = cal.next_workday(day)
    assert following > day
    assert cal.is_workday(following)
    assert not any(cal.is_workday(x) for x in days_between(day + dt.timedelta(days=1), following - dt.timedelta(days=1)))


@settings(max_examples=300, deadline=None)
@given(a=dates, b=dates, holidays=st.sets(dates, max_size=20), makeup=st.sets(dates, max_size=20))
def test_counts_agree_with_day_by_day(a: dt.date, b: dt.date, holidays: set[dt.date], makeup: set[dt.date]) -> None:
    cal = WorkCalendar(holidays, makeup)
    by_day = [x for x in days_between(a, b) if cal.is_workday(x)]
    assert cal.workdays(a, b) == by_day
    assert cal.count_workdays(a, b) == len(by_day)
    assert cal.workdays_waiting(a, b) == (len(by_day) - cal.is_workday(a) if b > a else 0)
    around = days_between(a.replace(day=1), a.replace(day=28) + dt.timedelta(days=4))
    assert cal.month_workdays(a) == [x for x in around if x.month == a.month and cal.is_workday(x)]


# --- the command on new year's eve ---

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"


def test_the_example_month_run_on_new_years_eve_plans_the_first_working_day_of_2027(tmp_path: Path) -> None:
    inbox = tmp_path / "收件夹"
    shutil.copytree(EXAMPLE, inbox)
    result = CliRunner().invoke(main, ["run", str(inbox), "--date", "2026-12-31", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "派工日期 2027-01-04" in result.output
    out = tmp_path / "out" / "2026-12-31"
    assert (out / "派工单_2027-01-04.xlsx").is_file()
    assert not list(out.glob("派工单_2027-01-01*"))
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["figures"]["plan_date"] == "2027-01-04"
    assert manifest["figures"]["calendar_fallback_years"] == [2027]
    rows = list(openpyxl.load_workbook(out / "校验报告_2026-12-31.xlsx")["问题"].iter_rows(min_row=2, values_only=True))
    found = [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]
    warnings = [row for row in found if row["代码"] == Code.CALENDAR.value]
    assert len(warnings) == 1 and warnings[0]["严重性"] == Severity.WARNING.value
    assert warnings[0]["说明"] == fallback_message([2027])
