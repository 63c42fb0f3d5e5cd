"""The department's books (docs/rules.md § A month's life): before a run, what the history says of
the months before — the closes in force, the carry-forward to start from, the rows each month was
last seen with; after reading the folder, a 警告 for each closed month's file that changed and the
carried rows the folder no longer holds. Reads the history, never a rule.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from kis_batch import history
from kis_batch.inbox import Inbox
from kis_batch.ledger.rows import DATED, decode_rows, month_files, month_of, months_counted, rows_per_month, with_carried
from kis_batch.outputs import HISTORY
from kis_batch.problems import Code, Problem, Severity
from kis_batch.tables import FILE


@dataclass
class Books:
    """The ledger as a run found it, and what the folder holds of each month before the carry."""

    month: str  # the month the run stands in (D's, or the month a report closes)
    closes: dict[str, history.Close] = field(default_factory=dict)
    rows_seen: dict[str, int] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)  # months the history has month-to-date records of
    carried_from: str | None = None
    carried: dict[str, pd.DataFrame] = field(default_factory=dict)
    folder_rows: Counter[str] = field(default_factory=Counter)  # dated rows per month, the folder's own
    feedback_months: set[str] = field(default_factory=set)  # months the folder holds feedback of
    added: dict[str, int] = field(default_factory=dict)  # carried rows put beside the folder's, per table

    @property
    def known_tickets(self) -> frozenset[str]:
        """The 工单号 the carried call rows hold, so feedback about them is not a ticket without a call."""
        calls = self.carried.get("calls")
        return frozenset(calls["ticket_id"].tolist()) if calls is not None else frozenset()

    def closed(self, month: str) -> history.Close | None:
        return self.closes.get(month)


def read_books(out_root: Path, month: str, problems: list[Problem]) -> Books:
    """The ledger before month's run; a history that cannot be read is a 警告 and the run starts
    from the folder alone, as before there was a ledger."""
    path = out_root / HISTORY
    if not path.exists():
        return Books(month)
    try:
        found = history.read_books(path, month)
    except history.HistoryError as error:
        problems.append(Problem(Code.HISTORY, Severity.WARNING, str(error), file=HISTORY))
        return Books(month)
    carried = {key: decode_rows(key, text) for key, text in found.carried.items()}
    return Books(month, found.closes, found.rows_seen, found.recorded, found.carried_from, carried)


def open_books(inbox: Inbox, books: Books) -> None:
    """After reading: count the folder's own rows per month, warn once per file of a closed month
    whose rows of that month changed, then add the carried rows the folder no longer holds."""
    books.folder_rows = rows_per_month(inbox.tables)
    books.feedback_months = set(months_counted(inbox.tables["feedback"][DATED["feedback"]].tolist()))
    _warn_changed_closed_files(inbox, books)
    books.added = with_carried(inbox.tables, books.carried)


def _warn_changed_closed_files(inbox: Inbox, books: Books) -> None:
    closed_here = {m for m in books.folder_rows if m in books.closes}
    for month, files in sorted(month_files(inbox.tables, closed_here).items()):
        close = books.closes[month]
        when = f"{close.closed_at:%Y-%m-%d %H:%M}" if close.closed_at else "此前"
        for path, digest in files.items():
            if close.files.get(path) == digest or (not close.files and close.closed_at is None):
                continue
            what = "有改动" if path in close.files else f"有 {month} 的新行"
            inbox.problems.append(Problem(
                Code.CLOSED_MONTH, Severity.WARNING,
                f"{month} 已于 {when} 结账，这个文件里该月的数据{what}；已结账的数字不变，本次按结账时的数据计算。"
                f"如确需改动，请运行 kis-batch report 收件夹 --month {month} --reopen（反结账）重算", file=path))


def months_to_close(books: Books) -> list[str]:
    """Every month before the run's not yet closed that the history has month-to-date records of or
    whose feedback the folder holds, oldest first."""
    return sorted(m for m in (books.recorded | books.feedback_months) if m < books.month and m not in books.closes)


def too_few_rows(books: Books, month: str) -> str | None:
    """Why a close of the month must refuse: the folder holds fewer of its rows than the history
    last saw (its files archived, or rows deleted); else None."""
    close = books.closes.get(month)
    seen = close.rows if close is not None and close.rows is not None else books.rows_seen.get(month)
    held = books.folder_rows.get(month, 0)
    if seen is None or held >= seen:
        return None
    return (f"{month} 不能结账：文件夹里只有该月 {held} 行（热线记录、服务反馈单、回访记录），而历史上次见到 {seen} 行；"
            f"像是该月的文件已移出收件夹或删了行。请把该月的文件放回收件夹后重新运行")


def archivable_files(inbox: Inbox, closed: set[str]) -> list[str]:
    """The folder's files whose every row is a dated row of a closed month: they may leave the inbox."""
    if not closed:
        return []
    months_of: dict[str, set[str | None]] = {}
    for key, frame in inbox.tables.items():
        column = DATED.get(key)
        dates = frame[column].tolist() if column else [None] * len(frame)
        for path, value in zip(frame[FILE].tolist(), dates, strict=True):
            months_of.setdefault(path, set()).add(month_of(value) if column else None)
    present = {f.path for f in inbox.files if f.status == "read"}
    return sorted(path for path, months in months_of.items() if path in present and months <= closed)


def today_month(today: dt.date) -> str:
    return f"{today:%Y-%m}"
