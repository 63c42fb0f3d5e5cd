"""OUT/history.sqlite: a rerun of a day replaces it, days accumulate, a writer killed before its commit
leaves the database whole, an empty or older file is migrated, and a damaged or locked database is a
警告 `history` in the run report while the day's workbooks are still written."""

from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import openpyxl
import pytest

from kis_batch import history, pipeline
from kis_batch.history import DayRecord, MonthRecord
from kis_batch.outputs import QUALITY_OUTPUT, REPORT_OUTPUT
from tests.builders import header_row
from tests.test_evaluation import november

D1, D2 = dt.date(2026, 11, 19), dt.date(2026, 11, 20)


def _day(day: dt.date, value: float) -> DayRecord:
    return DayRecord(day, day + dt.timedelta(days=1), dt.datetime(2026, 11, 20, 18, 0), 0, 1,
                     ({"path": "a.xlsx", "sha256": "00", "rows_accepted": 3},), {"dispatch.assigned": value, "rows.x": 2})


def _month(as_of: dt.date, total: float, final: bool = False) -> MonthRecord:
    person = {"staff_id": "E01", "name": "张伟", "role": "服务工程师", "task": 30.0, "service": 30.0, "callbacks": 20.0,
              "discipline": 10.0, "fees": 10.0, "complaints": 100 - total, "total": total, "grade": "A", "rank": 1}
    return MonthRecord("2026-11", as_of, final, (person,), {"calls": total})


def _rows(path: Path, sql: str) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_a_rerun_of_a_day_replaces_it_and_days_accumulate(tmp_path):
    db = tmp_path / "history.sqlite"
    history.record(db, _day(D1, 5), [_month(D1, 90.0)])
    history.record(db, _day(D1, 7), [_month(D1, 91.0)])
    assert _rows(db, "SELECT day, figure, value FROM day_figures ORDER BY figure") == [
        ("2026-11-19", "dispatch.assigned", 7.0), ("2026-11-19", "rows.x", 2.0)]
    assert _rows(db, "SELECT total, as_of FROM person_months") == [(91.0, "2026-11-19")]
    history.record(db, _day(D2, 9), [_month(D2, 92.0)])
    assert _rows(db, "SELECT day, plan_date, errors, warnings FROM runs ORDER BY day") == [
        ("2026-11-19", "2026-11-20", 0, 1), ("2026-11-20", "2026-11-21", 0, 1)]
    assert _rows(db, "SELECT day, value FROM day_figures WHERE figure = 'dispatch.assigned' ORDER BY day") == [
        ("2026-11-19", 7.0), ("2026-11-20", 9.0)]
    # An older day's rerun never replaces a later month to date, nor anything a close recorded.
    history.record(db, _day(D1, 8), [_month(D1, 50.0)])
    assert _rows(db, "SELECT total, as_of, final FROM person_months") == [(92.0, "2026-11-20", 0)]
    history.record(db, None, [_month(dt.date(2026, 11, 30), 88.0, final=True)])
    history.record(db, _day(D2, 9), [_month(D2, 60.0)])
    assert _rows(db, "SELECT total, as_of, final FROM person_months") == [(88.0, "2026-11-30", 1)]
    assert _rows(db, "SELECT value, final FROM month_figures") == [(88.0, 1)]


def test_a_writer_killed_before_commit_leaves_the_database_whole(tmp_path):
    db = tmp_path / "history.sqlite"
    history.record(db, _day(D1, 5), [_month(D1, 90.0)])
    script = textwrap.dedent(f"""
        import datetime as dt, os, signal
        from kis_batch import history
        from tests.test_history import _day, _month
        con = history.open_history(__import__("pathlib").Path({str(db)!r}))
        con.execute("BEGIN IMMEDIATE")
        history.write_records(con, _day(dt.date(2026, 11, 20), 9), [_month(dt.date(2026, 11, 20), 10.0)])
        con.execute("DELETE FROM day_figures WHERE day = '2026-11-19'")
        os.kill(os.getpid(), signal.SIGKILL)
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).resolve().parent.parent, timeout=60)
    assert done.returncode == -signal.SIGKILL
    assert _rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert _rows(db, "SELECT day FROM runs") == [("2026-11-19",)]
    assert _rows(db, "SELECT count(*) FROM day_figures WHERE day = '2026-11-19'") == [(2,)]
    assert _rows(db, "SELECT total, as_of FROM person_months") == [(90.0, "2026-11-19")]
    history.record(db, _day(D2, 9), [_month(D2, 92.0)])  # and it takes the next write
    assert _rows(db, "SELECT count(*) FROM runs") == [(2,)]


def test_an_empty_or_older_file_is_migrated(tmp_path):
    empty = tmp_path / "empty.sqlite"
    empty.write_bytes(b"")
    older = tmp_path / "older.sqlite"
    con = sqlite3.connect(older)
    con.execute("CREATE TABLE meta (schema_version INTEGER)")
    con.execute("INSERT INTO meta VALUES (0)")
    con.commit()
    con.close()
    for path in (empty, older):
        history.record(path, _day(D1, 5), [_month(D1, 90.0)])
        assert _rows(path, "SELECT schema_version FROM meta") == [(history.SCHEMA_VERSION,)]
        assert _rows(path, "SELECT count(*) FROM runs") == [(1,)]
    newer = tmp_path / "newer.sqlite"
    con = sqlite3.connect(newer)
    con.execute("CREATE TABLE meta (schema_version INTEGER)")
    con.execute("INSERT INTO meta VALUES (99)")
    con.commit()
    con.close()
    with pytest.raises(history.HistoryError, match="更新版本"):
        history.record(newer, _day(D1, 5))


def _history_warnings(out_day: Path) -> list[dict]:
    sheet = openpyxl.load_workbook(out_day / REPORT_OUTPUT.file_name(D2))["问题"]
    top, headers = header_row(sheet, "代码")
    rows = [{h: row[c - 1].value for h, c in headers.items()} for row in sheet.iter_rows(min_row=top + 1)]
    return [r for r in rows if r["代码"] == "history"]


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return november(tmp_path_factory.mktemp("history") / "in")


def test_a_damaged_history_is_reported_and_the_workbooks_still_come(folder, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    garbage = os.urandom(4096)
    (out / "history.sqlite").write_bytes(garbage)
    result = pipeline.run(folder, D2, out)
    assert (result.out_dir / QUALITY_OUTPUT.file_name(D2)).is_file() and (result.out_dir / REPORT_OUTPUT.file_name(D2)).is_file()
    [warning] = _history_warnings(result.out_dir)
    assert warning["严重性"] == "警告" and warning["文件"] == "history.sqlite" and "损坏" in warning["说明"]
    assert (out / "history.sqlite").read_bytes() == garbage  # left as it was, for whoever looks into it
    assert result.exit_code == 0


def test_a_locked_history_is_reported_and_the_workbooks_still_come(folder, tmp_path, monkeypatch):
    out = tmp_path / "out"
    history.record(out / "history.sqlite", _day(D1, 5), [_month(D1, 90.0)])
    monkeypatch.setattr(history, "LOCK_TIMEOUT_S", 0.2)
    holder = sqlite3.connect(out / "history.sqlite", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process writing
    try:
        result = pipeline.run(folder, D2, out)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert (result.out_dir / QUALITY_OUTPUT.file_name(D2)).is_file()
    [warning] = _history_warnings(result.out_dir)
    assert "占用" in warning["说明"]
    assert _rows(out / "history.sqlite", "SELECT day FROM runs") == [("2026-11-19",)]
    pipeline.run(folder, D2, out)  # once free, the next run records its day
    assert _rows(out / "history.sqlite", "SELECT day FROM runs ORDER BY day") == [("2026-11-19",), ("2026-11-20",)]
