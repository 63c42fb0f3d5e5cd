"""Working days: China's official calendar, overridden by 规则设置, and never a crash on a new year.

Dispatch (the plan date P), waiting days, on-time scoring, quota pace and callback spreading all
count working days, over thousands of rows; so each month's working days are worked out once and
kept sorted, and every question is answered by bisecting those lists.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections.abc import Iterable

import chinese_calendar

from kis_batch.coerce import day_of
from kis_batch.settings import Settings

_ONE_DAY = dt.timedelta(days=1)


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


def _month_days(year: int, month: int) -> list[dt.date]:
    first = dt.date(year, month, 1)
    y, m = _next_month(year, month)
    return [first + dt.timedelta(days=i) for i in range((dt.date(y, m, 1) - first).days)]


class WorkCalendar:
    """China's official working days (chinese_calendar: holidays and 调休 make-up workdays),
    overridden by 规则设置; Monday–Friday plus the settings' holidays where the library has no data."""

    def __init__(self, holidays: Iterable[dt.date] = (), makeup_workdays: Iterable[dt.date] = ()) -> None:
        self._holidays = frozenset(day_of(d) for d in holidays)
        self._makeup = frozenset(day_of(d) for d in makeup_workdays)
        self._months: dict[tuple[int, int], tuple[dt.date, ...]] = {}
        self._library_years: dict[int, bool] = {}

    @classmethod
    def from_settings(cls, settings: Settings) -> WorkCalendar:
        return cls(settings.holidays, settings.makeup_workdays)

    @property
    def fallback_years(self) -> tuple[int, ...]:
        """Years consulted so far that the library has no data for, so the run report can say so."""
        return tuple(sorted(year for year, known in self._library_years.items() if not known))

    def note_fallback_years(self, years: Iterable[int]) -> None:
        """Years another process's copy of this calendar found the library lacks."""
        for year in years:
            self._library_years[year] = False

    def _library_knows(self, year: int) -> bool:
        if year not in self._library_years:
            try:
                chinese_calendar.is_workday(dt.date(year, 1, 1))
            except NotImplementedError:
                self._library_years[year] = False
            else:
                self._library_years[year] = True
        return self._library_years[year]

    def _month(self, year: int, month: int) -> tuple[dt.date, ...]:
        """The month's working days, sorted; computed once per month."""
        key = (year, month)
        if key not in self._months:
            known = self._library_knows(year)
            self._months[key] = tuple(
                day
                for day in _month_days(year, month)
                if day not in self._holidays and (day in self._makeup or (chinese_calendar.is_workday(day) if known else day.weekday() < 5))
            )
        return self._months[key]

    def is_workday(self, day: dt.date) -> bool:
        day = day_of(day)
        days = self._month(day.year, day.month)
        i = bisect.bisect_left(days, day)
        return i < len(days) and days[i] == day

    def next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`: the plan date P for today D."""
        day = day_of(day)
        year, month = day.year, day.month
        days = self._month(year, month)
        i = bisect.bisect_right(days, day)
        while i == len(days):
            year, month = _next_month(year, month)
            days, i = self._month(year, month), 0
        return days[i]

    def _slice(self, start: dt.date, end: dt.date) -> tuple[dt.date, ...]:
        """Working days in [start, end] of the one month that holds both."""
        days = self._month(start.year, start.month)
        return days[bisect.bisect_left(days, start) : bisect.bisect_right(days, end)]

    def _spans(self, start: dt.date, end: dt.date) -> Iterable[tuple[dt.date, dt.date]]:
        """[start, end] cut at month boundaries."""
        while start <= end:
            y, m = _next_month(start.year, start.month)
            month_end = dt.date(y, m, 1) - _ONE_DAY
            yield start, min(end, month_end)
            start = month_end + _ONE_DAY

    def workdays(self, start: dt.date, end: dt.date) -> list[dt.date]:
        """Working days in [start, end], inclusive; [] if end < start."""
        start, end = day_of(start), day_of(end)
        return [day for a, b in self._spans(start, end) for day in self._slice(a, b)]

    def count_workdays(self, start: dt.date, end: dt.date) -> int:
        """len(workdays(start, end)) without building the list."""
        start, end = day_of(start), day_of(end)
        total = 0
        for a, b in self._spans(start, end):
            days = self._month(a.year, a.month)
            total += bisect.bisect_right(days, b) - bisect.bisect_left(days, a)
        return total

    def month_workdays(self, day: dt.date) -> list[dt.date]:
        """All working days of the month containing `day`."""
        day = day_of(day)
        return list(self._month(day.year, day.month))

    def workdays_waiting(self, since: dt.date, until: dt.date) -> int:
        """Working days after `since` up to and including `until`: how long a ticket has waited."""
        since, until = day_of(since), day_of(until)
        return self.count_workdays(since + _ONE_DAY, until) if until > since else 0


def fallback_message(years: Iterable[int]) -> str:
    """The run report's warning for years without official calendar data; "" when there are none."""
    distinct = sorted(set(years))
    if not distinct:
        return ""
    named = "、".join(f"{year}年" for year in distinct)
    which = "该年" if len(distinct) == 1 else "这些年份"
    return (
        f"{named}的法定节假日和调休数据日历库中没有，已按周一至周五上班计算，"
        f"并扣除规则设置中“节假日”所列日期、加上“调休上班”所列日期；请在规则设置中补充{which}的节假日和调休上班日期"
    )


WEEKDAY_NAMES = "一二三四五六日"


def day_label(day: dt.date) -> str:
    """How staff write a working day: 2026-11-30（星期一）."""
    return f"{day.isoformat()}（星期{WEEKDAY_NAMES[day.weekday()]}）"
