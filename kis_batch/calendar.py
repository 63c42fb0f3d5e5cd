"""Working days: China's official calendar, overridden by 规则设置, and never a crash on a new year.

The official arrangement (holidays and 调休 make-up workdays) comes from chinesecalendar, which
knows a year only once the State Council has published it. For a year it lacks, the statutory
holidays come from the `holidays` package (dates fixed by law and the lunar calendar, so known
years ahead) and every other weekday is a working day; the 调休 days are unknown until 规则设置
lists them, and the run report says so (docs/rules.md § Calendar).

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


def statutory_holidays(year: int) -> frozenset[dt.date]:
    """China's statutory holidays of a year from the `holidays` package, with the weekday it gives
    for one that falls on a weekend; empty for a year it has no rules for. Imported here: a tenth
    of a second that only a year chinesecalendar lacks pays."""
    import holidays as holiday_rules

    return frozenset(holiday_rules.country_holidays("CN", years=year))


class WorkCalendar:
    """China's official working days (chinese_calendar: holidays and 调休 make-up workdays),
    overridden by 规则设置; where chinese_calendar has no data for a year, Monday–Friday minus the
    statutory holidays of the `holidays` package."""

    def __init__(self, holidays: Iterable[dt.date] = (), makeup_workdays: Iterable[dt.date] = ()) -> None:
        self._holidays = frozenset(day_of(d) for d in holidays)
        self._makeup = frozenset(day_of(d) for d in makeup_workdays)
        self._months: dict[tuple[int, int], tuple[dt.date, ...]] = {}
        self._library_years: dict[int, bool] = {}
        self._statutory: dict[int, frozenset[dt.date]] = {}

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

    def _fallback_workday(self, day: dt.date) -> bool:
        if day.year not in self._statutory:
            self._statutory[day.year] = statutory_holidays(day.year)
        return day.weekday() < 5 and day not in self._statutory[day.year]

    def _month(self, year: int, month: int) -> tuple[dt.date, ...]:
        """The month's working days, sorted; computed once per month."""
        key = (year, month)
        if key not in self._months:
            official = chinese_calendar.is_workday if self._library_knows(year) else self._fallback_workday
            self._months[key] = tuple(
                day for day in _month_days(year, month) if day not in self._holidays and (day in self._makeup or official(day))
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
        f"{named}的放假调休安排日历库中还没有：法定节假日已取自 holidays 库，其余周一至周五按上班计算，"
        f"再扣除规则设置中“节假日”所列日期、加上“调休上班”所列日期；调休上班日无法预知，"
        f"请在规则设置的“调休上班”中列出{which}的调休上班日期（调休放假的日子列在“节假日”）"
    )


WEEKDAY_NAMES = "一二三四五六日"


def day_label(day: dt.date) -> str:
    """How staff write a working day: 2026-11-30（星期一）."""
    return f"{day.isoformat()}（星期{WEEKDAY_NAMES[day.weekday()]}）"
