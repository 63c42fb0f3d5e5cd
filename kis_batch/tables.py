"""The run's typed tables as every step sees them: one DataFrame per template, its columns the
template's keys in order and then where each row came from (file, sheet, row), so any step can
point at the cell a value was read from.

Below the reader and the rules alike: it imports only the schema.
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import pandas as pd

from kis_batch.schema import BY_KEY, Template

# Provenance columns carried by every typed row, so later steps can point at the cell.
FILE, SHEET, ROW = "_file", "_sheet", "_row"
PROVENANCE = (FILE, SHEET, ROW)


def table_keys(template: Template) -> list[str]:
    """A typed table's columns: the template's keys in order, then the provenance."""
    return [c.key for c in template.columns] + list(PROVENANCE)


def frame_of_records(template: Template, records: list[dict[str, Any]]) -> pd.DataFrame:
    """A typed table from dicts holding every column and the provenance: for tables made outside a
    folder read (the test builders, the dispatch benchmark)."""
    keys = table_keys(template)
    return pd.DataFrame({key: [r[key] for r in records] for key in keys}, columns=keys, dtype=object)


def empty_frame(key: str) -> pd.DataFrame:
    return frame_of_records(BY_KEY[key], [])


def casefold(value: str) -> str:
    return value.casefold() if isinstance(value, str) else value


class KeyIndex:
    """The keys of a master table (客户编号, 工号) as references find them: as typed, or in another
    letter case where no two keys of the table differ only by case (c0001 finds C0001)."""

    def __init__(self, keys: Sequence[str], rejected: dict[str, str] | None = None) -> None:
        self.keys = set(keys)
        folded: dict[str, set[str]] = defaultdict(set)
        for key in self.keys:
            folded[casefold(key)].add(key)
        self.folded = {k: next(iter(v)) for k, v in folded.items() if len(v) == 1}
        self.rejected = rejected or {}

    def find(self, value: str) -> str | None:
        return value if value in self.keys else self.folded.get(casefold(value))

    def rejected_note(self, value: str) -> str | None:
        return self.rejected.get(casefold(value))


# Every rule reads the run's tables as rows (客户档案 and the staff by a dozen rules), so each table's
# columns are taken out of pandas once while the frame lives; the dicts are built anew for every
# caller, so no rule sees another's edits.
_COLUMN_LISTS: dict[int, tuple[weakref.ref[pd.DataFrame], tuple[str, ...], int, list[list[Any]]]] = {}


def _column_lists(frame: pd.DataFrame) -> tuple[tuple[str, ...], list[list[Any]]]:
    columns, key = tuple(frame.columns), id(frame)
    kept = _COLUMN_LISTS.get(key)
    if kept is not None and kept[0]() is frame and kept[1] == columns and kept[2] == len(frame):
        return columns, kept[3]
    lists = [frame[c].tolist() for c in columns]
    _COLUMN_LISTS[key] = (weakref.ref(frame, lambda _, key=key: _COLUMN_LISTS.pop(key, None)), columns, len(frame), lists)
    return columns, lists


def rows_of(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows as dicts. The tables hold object columns, so this is to_dict("records")
    without its per-cell boxing: several times faster on a month of rows."""
    columns, lists = _column_lists(frame)
    return [dict(zip(columns, values, strict=True)) for values in zip(*lists, strict=True)]


def table_of(tables: dict[str, pd.DataFrame], key: str) -> pd.DataFrame:
    """A table of the run, or its empty frame where the folder had none (steps run on any subset)."""
    return tables[key] if key in tables else empty_frame(key)


def table_rows(tables: dict[str, pd.DataFrame], key: str) -> list[dict[str, Any]]:
    """A table of the run as rows (empty where the folder had none)."""
    return rows_of(table_of(tables, key))
