"""The ledger's rows (docs/rules.md § A month's life): typed table rows kept in the history as JSON
and put back beside the folder's, and what a month's dated rows are, per file, so a close can tell
later whether a closed month's files changed.

Below the rules: it knows the tables and their keys, never a rule.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.schema import BY_KEY
from kis_batch.tables import FILE, PROVENANCE, frame_of_records, rows_of, table_keys

# The tables whose rows are dated events of a month, and the column that dates them.
DATED = {"calls": "call_time", "feedback": "service_date", "callbacks": "date"}
# The tables whose statements about one key the rules weigh after the carry is added (投诉处理, in
# rules/reconcile.py): a carried statement joins the folder's with the columns the rules added (how
# new it is, the case's history) and the newest wins (docs/rules.md § Returned sheets).
WEIGHED = ("complaint_handling",)

_TAGS = (("$t", dt.datetime), ("$d", dt.date), ("$h", dt.time))
_TAG_OF = {kind: tag for tag, kind in _TAGS}
_DATED = tuple(kind for _, kind in _TAGS)


def _tagged(value: Any) -> Any:
    tag = _TAG_OF.get(type(value))  # the usual value: looked up by its exact type
    if tag is not None:
        return {tag: value.isoformat()}
    for tag, kind in _TAGS:  # a subclass (a pandas Timestamp is a datetime)
        if isinstance(value, kind):
            return {tag: value.isoformat()}
    if hasattr(value, "item"):  # a numpy scalar
        return value.item()
    raise TypeError(f"cannot keep {type(value).__name__} in the ledger")


def _untagged(value: dict[str, Any]) -> Any:
    if len(value) == 1:
        (tag, text), = value.items()
        if tag == "$t":
            return dt.datetime.fromisoformat(text)
        if tag == "$d":
            return dt.date.fromisoformat(text)
        if tag == "$h":
            return dt.time.fromisoformat(text)
    return value


# Rows encoded at a time where a table's JSON is written out piece by piece.
ROWS_PER_PIECE = 10_000


def encode_rows(frame: pd.DataFrame) -> str:
    """A typed table's rows as JSON: dates, times and date-times tagged so they come back as they were."""
    return "".join(encoded_pieces(frame))


def encoded_pieces(frame: pd.DataFrame) -> Iterator[str]:
    """encode_rows's text in pieces of ROWS_PER_PIECE rows: {"columns": [...], "rows": [[...], ...]},
    written out without ever holding all of it."""
    columns = list(frame.columns)
    values = [_dates_tagged(frame[c].tolist()) for c in columns]
    yield f'{{"columns": {json.dumps(columns, ensure_ascii=False)}, "rows": ['
    for start in range(0, len(frame), ROWS_PER_PIECE):
        rows = [list(row) for row in zip(*(column[start:start + ROWS_PER_PIECE] for column in values), strict=True)]
        yield (", " if start else "") + json.dumps(rows, ensure_ascii=False, default=_tagged)[1:-1]
    yield "]}"


class SpooledRows(Mapping[str, bytes]):
    """Tables' encoded rows (encode_rows, as UTF-8 bytes) kept in files until read, one table at a
    time: an HQ month's carry-forward is some 45 MB of text, which a run would otherwise hold through
    its busiest seconds, until the history takes it at the end (benchmarks/bench_run.py). Read as
    bytes, which the history stores as the text they are without decoding them here."""

    def __init__(self, files: Mapping[str, Path]) -> None:
        self._files = dict(files)

    def __getitem__(self, key: str) -> bytes:
        return self._files[key].read_bytes()

    def __iter__(self) -> Iterator[str]:
        return iter(self._files)

    def __len__(self) -> int:
        return len(self._files)

    def discard(self) -> None:
        """Removes the files (once the history holds the rows, or the run failed)."""
        for path in self._files.values():
            path.unlink(missing_ok=True)


def spool_rows(folder: Path, tables: Mapping[str, pd.DataFrame], name: str) -> SpooledRows:
    """Each table's rows encoded into a file .{name}_{table}.tmp in folder: hidden, and named as a
    run's half-written files are, so a run that dies leaves nothing the next run does not remove."""
    folder.mkdir(parents=True, exist_ok=True)
    files = {key: folder / f".{name}_{key}.tmp" for key in tables}
    for key, frame in tables.items():
        with files[key].open("w", encoding="utf-8", newline="") as spool:
            spool.writelines(encoded_pieces(frame))
    return SpooledRows(files)


def _dates_tagged(values: list[Any]) -> list[Any]:
    """A column's values with its dates and times already tagged, each distinct one once: a carried
    call log repeats its call times and days thousands of times, and json calls back for each."""
    if not any(issubclass(kind, _DATED) for kind in set(map(type, values))):
        return values
    try:
        tags = {value: _tagged(value) for value in set(values) if isinstance(value, _DATED)}
    except TypeError:  # an unhashable value: json tags the dates as it meets them
        return values
    return list(map(tags.get, values, values))


def decode_rows(key: str, text: str) -> pd.DataFrame:
    """A table's carried rows back as a typed table, its columns the template's (a column added to
    the template since reads blank), then those the rules added to its rows (a weighed table's
    history, the signers of an acceptance round), so a carried row says what it said in its month."""
    kept = json.loads(text, object_hook=_untagged)
    records = [dict(zip(kept["columns"], row, strict=True)) for row in kept["rows"]]
    frame = frame_of_records(BY_KEY[key], [{c: r.get(c) for c in table_keys(BY_KEY[key])} for r in records])
    for column in (c for c in kept["columns"] if c not in frame.columns):
        frame[column] = pd.Series([r[column] for r in records], index=frame.index, dtype=object)
    return frame


def row_key(key: str, row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in BY_KEY[key].key_columns)


def _place(row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in PROVENANCE)


def with_carried(tables: dict[str, pd.DataFrame], carried: Mapping[str, pd.DataFrame]) -> dict[str, int]:
    """Add to the tables the carried rows the folder no longer holds: of most tables those whose keys
    it lacks (the folder's own statement wins); of a weighed table those whose file and row it lacks,
    for the rules to weigh beside its own; the rows added per table."""
    added: dict[str, int] = {}
    for key, rows in carried.items():
        if key in WEIGHED:
            held = {_place(r) for r in rows_of(tables[key])}
            missing = rows[[_place(r) not in held for r in rows_of(rows)]]
        else:
            held = {row_key(key, r) for r in rows_of(tables[key])}
            missing = rows[[row_key(key, r) not in held for r in rows_of(rows)]]
        if len(missing):
            joined = pd.concat([tables[key], missing], ignore_index=True)
            for column in missing.columns.difference(tables[key].columns):  # the folder's rows: blank
                joined[column] = joined[column].astype(object).where(joined[column].notna(), None)
            tables[key] = joined
            added[key] = len(missing)
    return added


def month_of(value: Any) -> str | None:
    """2026-11 for any date or time in it (isoformat rather than strftime: a run asks this of every
    dated row, half a million on an HQ month)."""
    day = day_of(value)
    return day.isoformat()[:7] if day is not None else None


def rows_per_month(tables: Mapping[str, pd.DataFrame]) -> Counter[str]:
    """The dated rows (calls, feedback, callbacks) of each month."""
    counted: Counter[str] = Counter()
    for key, column in DATED.items():
        counted.update(months_counted(tables[key][column].tolist()))
    return counted


def months_counted(values: list[Any]) -> Counter[str]:
    """The values (dates, date-times) of each month, blanks left out: counted by day first, since a
    month's rows fall on a few dozen days (an HQ month's call log is 300,000 rows)."""
    counted: Counter[str] = Counter()
    for day, rows in Counter(map(day_of, values)).items():
        if day is not None:
            counted[month_of(day)] += rows
    return counted


def month_files(tables: Mapping[str, pd.DataFrame], months: set[str]) -> dict[str, dict[str, str]]:
    """Per month asked for, each file holding dated rows of it, with a digest of those rows: a file
    whose rows of a closed month change (or a new file with such rows) shows a different digest,
    while new rows of later months in the same file (回访记录 grows every day) leave it alone."""
    digests: dict[str, dict[str, Any]] = defaultdict(dict)
    if not months:
        return {}
    for key, column in DATED.items():
        frame = tables[key]
        in_month = [month_of(v) in months for v in frame[column].tolist()]
        if not any(in_month):
            continue
        for r in rows_of(frame[in_month]):
            month = month_of(r[column])
            digest = digests[month].setdefault(r[FILE], hashlib.sha256())
            digest.update(json.dumps([key, *(r[c] for c in BY_KEY[key].fields)], ensure_ascii=False,
                                     default=str).encode())
    return {month: {path: h.hexdigest() for path, h in sorted(files.items())} for month, files in digests.items()}
