"""A demo of several months (kis-batch demo --months N): which months, and the commands a clerk
follows through them the way the department lives its months (docs/rules.md § A month's life)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kis_batch.calendar import WorkCalendar
from kis_batch.rules.common import month_start


def month_firsts(month: dt.date, count: int) -> list[dt.date]:
    """The first days of count consecutive months ending with month's, oldest first."""
    firsts = [month_start(month)]
    while len(firsts) < count:
        firsts.insert(0, month_start(firsts[0] - dt.timedelta(days=1)))
    return firsts


def _path(path: Path) -> str:
    """A path as typed on a command line: quoted when it holds a space."""
    return f'"{path}"' if " " in str(path) else str(path)


def month_commands(folder: Path, month: dt.date, today: dt.date, count: int, out: Path) -> list[str]:
    """The department's sequence over the demo's months, as commands to paste: each earlier month's
    evening run on its last working day, then its 结账 (report --month: here each month is its own
    folder, so the next month's run, which would close it from a shared inbox, does not hold its
    files); the last month's evening run on today, then the quarter's review."""
    calendar = WorkCalendar()
    firsts = month_firsts(month, count)
    commands = []
    for first in firsts[:-1]:
        inbox = _path(folder / f"{first:%Y-%m}")
        commands.append(f"kis-batch run {inbox} --date {calendar.month_workdays(first)[-1]} --out {_path(out)}")
        commands.append(f"kis-batch report {inbox} --month {first:%Y-%m} --out {_path(out)}")
    last = _path(folder / f"{firsts[-1]:%Y-%m}")
    commands.append(f"kis-batch run {last} --date {today} --out {_path(out)}")
    quarter = f"{today.year}-Q{(today.month - 1) // 3 + 1}"
    commands.append(f"kis-batch report {last} --quarter {quarter} --date {today} --out {_path(out)}")
    return commands
