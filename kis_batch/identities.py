"""Who each 工号 has been called (docs/rules.md § Inputs (员工名单)): a person is their 工号, and a rename keeps
it, so the history keeps every 姓名 a 工号 has had and the run lets rows that still use an old name
resolve to the 工号 (with one 警告 per file) instead of being rejected row by row.

Table staff_names(staff_id, name, first_seen, last_seen) in OUT/history.sqlite: one row per 工号 and
姓名 the roster of an evening run held, with the first and latest day it did.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

# Another process writing the history: wait this long for it, then go on without former names.
READ_TIMEOUT_S = 2.0


def add_staff_names(db: sqlite3.Connection) -> None:
    """The history's migration step that adds staff_names."""
    db.execute("CREATE TABLE staff_names (staff_id TEXT NOT NULL, name TEXT NOT NULL, first_seen TEXT NOT NULL,"
               " last_seen TEXT NOT NULL, PRIMARY KEY (staff_id, name))")


def record_names(db: sqlite3.Connection, day: dt.date, people: Iterable[tuple[str, str]]) -> None:
    """The roster of day D, inside the caller's transaction: each (工号, 姓名) seen on D."""
    key = day.isoformat()
    db.executemany("INSERT INTO staff_names VALUES (?, ?, ?, ?) ON CONFLICT (staff_id, name) DO UPDATE SET"
                   " first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)",
                   [(staff_id, name, key, key) for staff_id, name in people])


def former_names(path: Path, before: dt.date) -> dict[str, set[str]]:
    """Every 姓名 the history saw a 工号 use on a day before D -> those 工号 (the reader uses the ones
    no longer on the roster under that name). Read only: empty when there is no history yet; a
    history that cannot be read is reported when the run records, here it only means no former names."""
    if not path.is_file():
        return {}
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=READ_TIMEOUT_S)
        try:
            rows = db.execute("SELECT name, staff_id FROM staff_names WHERE first_seen < ?",
                              (before.isoformat(),)).fetchall()
        finally:
            db.close()
    except sqlite3.Error:  # no such table yet (an older history), locked or damaged
        return {}
    found: dict[str, set[str]] = defaultdict(set)
    for name, staff_id in rows:
        found[name].add(staff_id)
    return dict(found)
