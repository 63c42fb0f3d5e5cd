"""The history database OUT/history.sqlite (docs/rules.md § Monthly close): every evening run's key
figures and each person's month-to-date 考核, and each closed month's final 考核 and department
figures, so the monthly summary and the quarterly review read months from one place.

Tables (query them by hand with any SQLite tool):
- meta(schema_version): one row, the version of the tables below.
- runs(day, plan_date, run_at, errors, warnings, inputs): one row per day D run; inputs is JSON
  (path, sha256, rows accepted of every input file).
- day_figures(day, figure, value): the run's key figures, flattened to dotted names, numbers only.
- person_months(month, staff_id, …, final): one row per person and month: the month-to-date 考核 of
  the latest evening run (final 0), or the month's close (final 1), which an evening run never replaces.
- month_figures(month, figure, value, final): the month's department figures, likewise.
- closes(month, version, closed_at, as_of, rows, files, people, figures): every close of a month, kept
  when a 反结账 replaces it; the highest version is the one person_months and month_figures show.
- carried(month, tbl, as_of, final, rows): the 期初 carry-forward, the rows of each table later
  months need as of the month's latest run (final 0) or its close (final 1); JSON the ledger encodes.
- month_rows(month, rows, day): how many of the month's dated rows the latest run of that month saw.
- staff_names(staff_id, name, first_seen, last_seen): every 姓名 each 工号 has had (identities.py).

Writes are one transaction each, so a run killed midway leaves the database as it was; a rerun of
the same D replaces that day's rows. A locked or damaged database raises HistoryError, which the
caller reports; it never stops the day's workbooks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.identities import add_staff_names, record_names

# Another process writing (a second run's history): wait this long, then report and go on.
LOCK_TIMEOUT_S = 2.0

PERSON_COLUMNS = ("month", "staff_id", "name", "role", "as_of", "task", "service", "callbacks", "discipline", "fees",
                  "complaints", "total", "grade", "rank", "final")


class HistoryError(Exception):
    """The history could not be read or written; the message says why and what to do, in Chinese."""


def _to_v1(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE runs (day TEXT PRIMARY KEY, plan_date TEXT NOT NULL, run_at TEXT NOT NULL,"
               " errors INTEGER NOT NULL, warnings INTEGER NOT NULL, inputs TEXT NOT NULL)")
    db.execute("CREATE TABLE day_figures (day TEXT NOT NULL REFERENCES runs(day), figure TEXT NOT NULL,"
               " value REAL NOT NULL, PRIMARY KEY (day, figure))")
    db.execute("CREATE TABLE person_months (month TEXT NOT NULL, staff_id TEXT NOT NULL, name TEXT NOT NULL,"
               " role TEXT NOT NULL, as_of TEXT NOT NULL, task REAL, service REAL, callbacks REAL, discipline REAL,"
               " fees REAL, complaints REAL, total REAL NOT NULL, grade TEXT NOT NULL, rank INTEGER NOT NULL,"
               " final INTEGER NOT NULL, PRIMARY KEY (month, staff_id))")
    db.execute("CREATE TABLE month_figures (month TEXT NOT NULL, figure TEXT NOT NULL, value REAL NOT NULL,"
               " as_of TEXT NOT NULL, final INTEGER NOT NULL, PRIMARY KEY (month, figure))")


def _to_v2(db: sqlite3.Connection) -> None:
    """The ledger's tables; a close recorded before them becomes its month's version 1 (when unknown)."""
    db.execute("CREATE TABLE closes (month TEXT NOT NULL, version INTEGER NOT NULL, closed_at TEXT, as_of TEXT NOT NULL,"
               " rows INTEGER, files TEXT NOT NULL, people TEXT NOT NULL, figures TEXT NOT NULL,"
               " PRIMARY KEY (month, version))")
    db.execute("CREATE TABLE carried (month TEXT NOT NULL, tbl TEXT NOT NULL, as_of TEXT NOT NULL,"
               " final INTEGER NOT NULL, rows TEXT NOT NULL, PRIMARY KEY (month, tbl))")
    db.execute("CREATE TABLE month_rows (month TEXT PRIMARY KEY, rows INTEGER NOT NULL, day TEXT NOT NULL)")
    for month, as_of in db.execute("SELECT month, MAX(as_of) FROM month_figures WHERE final = 1 GROUP BY month").fetchall():
        people = [dict(zip(PERSON_COLUMNS, row, strict=True)) for row in db.execute(
            f"SELECT {', '.join(PERSON_COLUMNS)} FROM person_months WHERE month = ? AND final = 1", (month,))]
        figures = dict(db.execute("SELECT figure, value FROM month_figures WHERE month = ? AND final = 1", (month,)))
        db.execute("INSERT INTO closes VALUES (?, 1, NULL, ?, NULL, '{}', ?, ?)",
                   (month, as_of, json.dumps(people, ensure_ascii=False), json.dumps(figures, ensure_ascii=False)))


# MIGRATIONS[n] takes the tables from version n to n + 1; SCHEMA_VERSION is where they end.
MIGRATIONS: tuple[Callable[[sqlite3.Connection], None], ...] = (_to_v1, _to_v2, add_staff_names)
SCHEMA_VERSION = len(MIGRATIONS)


@dataclass(frozen=True)
class DayRecord:
    """What an evening run records about its day D."""

    day: dt.date
    plan_date: dt.date
    run_at: dt.datetime
    errors: int
    warnings: int
    inputs: tuple[Mapping[str, Any], ...]
    figures: Mapping[str, float]
    staff: tuple[tuple[str, str], ...] = ()  # the roster's (工号, 姓名), for identities.staff_names


@dataclass(frozen=True)
class MonthRecord:
    """A month's 考核 and department figures as of a day; final when the month's close made it."""

    month: str
    as_of: dt.date
    final: bool
    people: tuple[Mapping[str, Any], ...]
    figures: Mapping[str, float]
    # What the ledger keeps beside (docs/rules.md § A month's life): the month's dated rows the
    # folder held, a close's time and its digest of each file's rows of the month, and the
    # carry-forward (table -> encoded rows).
    rows: int | None = None
    closed_at: dt.datetime | None = None
    files: Mapping[str, str] = field(default_factory=dict)
    carried: Mapping[str, str | bytes] = field(default_factory=dict)  # text, or its UTF-8 bytes


@dataclass(frozen=True)
class Close:
    """One recorded close of a month (its version; the highest is in force)."""

    month: str
    version: int
    closed_at: dt.datetime | None
    as_of: dt.date
    rows: int | None
    files: Mapping[str, str]
    people: tuple[Mapping[str, Any], ...]
    figures: Mapping[str, float]


def _explain(error: sqlite3.Error, path: Path) -> HistoryError:
    text = str(error)
    if isinstance(error, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return HistoryError(f"历史数据库 {path} 正被另一个程序占用（{text}），本次未记入历史；"
                            "等另一个 kis-batch 结束、关闭打开它的工具后重新运行即可")
    return HistoryError(f"历史数据库 {path} 无法读写，可能已损坏（{text}），本次未记入历史；"
                        "请把它移到别处保留备份，重新运行会建一个新的")


def _version(db: sqlite3.Connection) -> int:
    if db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone() is None:
        return 0
    row = db.execute("SELECT schema_version FROM meta").fetchone()
    return int(row[0]) if row else 0


def _migrate(db: sqlite3.Connection, path: Path) -> None:
    """Bring the tables to SCHEMA_VERSION, one version step per transaction."""
    while (version := _version(db)) < SCHEMA_VERSION:
        db.execute("BEGIN IMMEDIATE")
        try:
            if _version(db) == version:  # another process may have migrated meanwhile
                MIGRATIONS[version](db)
                db.execute("CREATE TABLE IF NOT EXISTS meta (schema_version INTEGER NOT NULL)")
                db.execute("DELETE FROM meta")
                db.execute("INSERT INTO meta VALUES (?)", (version + 1,))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
    if version > SCHEMA_VERSION:
        raise HistoryError(f"历史数据库 {path} 是更新版本的 kis-batch 写的（表结构第 {version} 版），本次未记入历史；"
                           "请升级 kis-batch")


def open_history(path: Path) -> sqlite3.Connection:
    """The database, created or migrated to the current tables; transactions are the caller's
    (autocommit mode, so BEGIN IMMEDIATE takes the write lock at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, timeout=LOCK_TIMEOUT_S, isolation_level=None)
    try:
        _migrate(db, path)
    except sqlite3.Error as error:
        db.close()
        raise _explain(error, path) from error
    except HistoryError:
        db.close()
        raise
    return db


def write_records(db: sqlite3.Connection, day: DayRecord | None, months: Sequence[MonthRecord]) -> None:
    """The statements of one record, inside the caller's transaction."""
    if day is not None:
        key = day.day.isoformat()
        db.execute("DELETE FROM day_figures WHERE day = ?", (key,))
        db.execute("DELETE FROM runs WHERE day = ?", (key,))
        db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?)",
                   (key, day.plan_date.isoformat(), day.run_at.isoformat(timespec="seconds"), day.errors,
                    day.warnings, json.dumps(list(day.inputs), ensure_ascii=False)))
        db.executemany("INSERT INTO day_figures VALUES (?, ?, ?)",
                       [(key, figure, value) for figure, value in day.figures.items()])
        record_names(db, day.day, day.staff)
    for month in months:
        _write_month(db, month)


def _write_month(db: sqlite3.Connection, month: MonthRecord) -> None:
    """A close replaces the month's rows; a month-to-date record replaces only month-to-date rows
    no later than itself, so neither a close nor a later day is ever overwritten by an older day."""
    as_of = month.as_of.isoformat()
    if month.final:
        db.execute("DELETE FROM person_months WHERE month = ?", (month.month,))
        db.execute("DELETE FROM month_figures WHERE month = ?", (month.month,))
        _write_close(db, month)
    else:
        if db.execute("SELECT 1 FROM person_months WHERE month = ? AND (final = 1 OR as_of > ?) UNION "
                      "SELECT 1 FROM month_figures WHERE month = ? AND (final = 1 OR as_of > ?)",
                      (month.month, as_of, month.month, as_of)).fetchone():
            return
        db.execute("DELETE FROM person_months WHERE month = ?", (month.month,))
        db.execute("DELETE FROM month_figures WHERE month = ?", (month.month,))
    db.executemany(f"INSERT INTO person_months ({', '.join(PERSON_COLUMNS)}) VALUES "
                   f"({', '.join('?' * len(PERSON_COLUMNS))})",
                   [(month.month, p["staff_id"], p["name"], p["role"], as_of, p["task"], p["service"], p["callbacks"],
                     p["discipline"], p["fees"], p["complaints"], p["total"], p["grade"], p["rank"], int(month.final))
                    for p in month.people])
    db.executemany("INSERT INTO month_figures VALUES (?, ?, ?, ?, ?)",
                   [(month.month, figure, value, as_of, int(month.final)) for figure, value in month.figures.items()])
    if month.carried:
        db.execute("DELETE FROM carried WHERE month = ?", (month.month,))
        # A table at a time, as they may be large; bytes stored as the UTF-8 text they are.
        db.executemany("INSERT INTO carried VALUES (?, ?, ?, ?, CAST(? AS TEXT))",
                       ((month.month, table, as_of, int(month.final), rows) for table, rows in month.carried.items()))
    if month.rows is not None:
        db.execute("INSERT OR REPLACE INTO month_rows VALUES (?, ?, ?)", (month.month, month.rows, as_of))


def _write_close(db: sqlite3.Connection, month: MonthRecord) -> None:
    """A close is a new version of its month's closes: an earlier one stays, a 反结账 adds the next."""
    (version,) = db.execute("SELECT COALESCE(MAX(version), 0) + 1 FROM closes WHERE month = ?", (month.month,)).fetchone()
    db.execute("INSERT INTO closes VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               (month.month, version, (month.closed_at or dt.datetime.now()).isoformat(timespec="seconds"),
                month.as_of.isoformat(), month.rows, json.dumps(dict(month.files), ensure_ascii=False),
                json.dumps([dict(p) for p in month.people], ensure_ascii=False),
                json.dumps(dict(month.figures), ensure_ascii=False)))


def record(path: Path, day: DayRecord | None, months: Iterable[MonthRecord] = ()) -> None:
    """Write a day and months in one transaction; HistoryError if the database is locked or damaged."""
    db = open_history(path)
    try:
        db.execute("BEGIN IMMEDIATE")
        try:
            write_records(db, day, list(months))
            db.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                db.execute("ROLLBACK")
            raise
    except sqlite3.Error as error:
        raise _explain(error, path) from error
    finally:
        db.close()


def read_table(path: Path, table: str) -> pd.DataFrame:
    """One table of the history as a frame, in its key order (for the readers that build on it)."""
    if table not in ("meta", "runs", "day_figures", "person_months", "month_figures", "month_rows", "staff_names"):
        raise ValueError(f"no table {table}")
    db = open_history(path)
    try:
        return pd.read_sql_query(f"SELECT * FROM {table} ORDER BY 1, 2" if table != "meta" else "SELECT * FROM meta", db)
    except sqlite3.Error as error:
        raise _explain(error, path) from error
    finally:
        db.close()


@dataclass(frozen=True)
class Books:
    """What the ledger reads before a run: the close in force of every closed month, how many rows
    each month was last seen with, and the carry-forward of the latest month closed before a given one."""

    closes: dict[str, Close]
    rows_seen: dict[str, int]
    recorded: set[str]  # the months with a month-to-date record
    carried_from: str | None  # the month whose close's carry-forward `carried` is
    carried: dict[str, str]


def _close_of(row: tuple[Any, ...]) -> Close:
    month, version, closed_at, as_of, rows, files, people, figures = row
    return Close(month, version, dt.datetime.fromisoformat(closed_at) if closed_at else None,
                 dt.date.fromisoformat(as_of), rows, json.loads(files), tuple(json.loads(people)), json.loads(figures))


def read_books(path: Path, before_month: str) -> Books:
    """The ledger in one read (milliseconds; no archived month is read again)."""
    db = open_history(path)
    try:
        closes = {row[0]: _close_of(row) for row in db.execute("SELECT * FROM closes ORDER BY month, version")}
        rows_seen = dict(db.execute("SELECT month, rows FROM month_rows"))
        recorded = {month for (month,) in db.execute("SELECT DISTINCT month FROM month_figures WHERE final = 0")}
        earlier = [month for month in closes if month < before_month]
        carried_from = max(earlier, default=None)
        carried = dict(db.execute("SELECT tbl, rows FROM carried WHERE month = ? AND final = 1", (carried_from,)))
        return Books(closes, rows_seen, recorded | set(rows_seen), carried_from, carried)
    except sqlite3.Error as error:
        raise _explain(error, path) from error
    finally:
        db.close()


def close_versions(path: Path, month: str) -> list[Close]:
    """Every close recorded of a month, oldest first."""
    db = open_history(path)
    try:
        return [_close_of(row) for row in db.execute("SELECT * FROM closes WHERE month = ? ORDER BY version", (month,))]
    except sqlite3.Error as error:
        raise _explain(error, path) from error
    finally:
        db.close()
