"""The run's typed tables as every step sees them: one DataFrame per template, its columns the
template's keys in order and then where each row came from (file, sheet, row), so any step can
point at the cell a value was read from.

Below the reader and the rules alike: it imports only the schema.
"""

from __future__ import annotations

import weakref
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from kis_batch.schema import BY_KEY, Template

if TYPE_CHECKING:
    import pandas as pd

# Provenance columns carried by every typed row, so later steps can point at the cell.
FILE, SHEET, ROW = "_file", "_sheet", "_row"
PROVENANCE = (FILE, SHEET, ROW)


def table_keys(template: Template) -> list[str]:
    """A typed table's columns: the template's keys in order, then the provenance."""
    return [c.key for c in template.columns] + list(PROVENANCE)


def frame_of_records(template: Template, records: list[dict[str, Any]]) -> pd.DataFrame:
    """A typed table from dicts holding every column and the provenance: for tables made outside a
    folder read (the test builders, the dispatch benchmark)."""
    import pandas as pd  # loaded only where frames are built: the early read (ingest/early.py) needs none

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
        distinct = list(self.keys)
        folded = list(map(casefold, distinct))
        cases = Counter(folded)
        self.folded = {fold: key for fold, key in zip(folded, distinct, strict=True) if cases[fold] == 1}
        self.rejected = rejected or {}

    def find(self, value: str) -> str | None:
        return value if value in self.keys else self.folded.get(casefold(value))

    def rejected_note(self, value: str) -> str | None:
        return self.rejected.get(casefold(value))


# Every rule reads the run's tables as rows (客户档案 and the staff by a dozen rules, ~116 calls on a
# department's run), so a table's rows are built once while the frame lives and each caller is handed
# copies: copying a dict is an order of magnitude cheaper than building it from the columns, and no
# rule sees another's edits. Only tables up to ROWS_KEPT_UP_TO_CELLS are kept (a department's
# largest has ~20,000 cells), so an HQ month's calls are not held a second time as dicts; larger
# tables are built for each caller.
ROWS_KEPT_UP_TO_CELLS = 100_000
_KEPT_ROWS: dict[int, tuple[weakref.ref[pd.DataFrame], tuple[str, ...], int, list[dict[str, Any]]]] = {}


def column_lists(frame: pd.DataFrame) -> list[list[Any]]:
    """Every column's values, as frame[column].tolist() gives each, in one conversion instead of a
    Series built per column (a third of the cost; the rules and writers read ~2,000 columns a run)."""
    return frame.to_numpy(dtype=object).T.tolist() if len(frame.columns) else []


def _built_rows(columns: Sequence[str], lists: list[list[Any]]) -> list[dict[str, Any]]:
    return [dict(zip(columns, values)) for values in zip(*lists)]  # noqa: B905 (equal lengths, one per column)


def rows_of(frame: pd.DataFrame, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """A frame's rows as dicts. The tables hold object columns, so this is to_dict("records")
    without its per-cell boxing; a small table's rows are built once and copied for each caller.
    columns: only these, for a caller that reads a few columns of a long table (an HQ month's
    call log as dicts of all its columns is ~200 MB and a second to build)."""
    if columns is not None:
        return _built_rows(columns, [frame[column].tolist() for column in columns])
    columns, key = tuple(frame.columns), id(frame)
    if len(frame) * len(columns) > ROWS_KEPT_UP_TO_CELLS:
        return _built_rows(columns, column_lists(frame))
    kept = _KEPT_ROWS.get(key)
    if kept is None or kept[0]() is not frame or kept[1] != columns or kept[2] != len(frame):
        kept = (weakref.ref(frame, lambda _, key=key: _KEPT_ROWS.pop(key, None)), columns, len(frame),
                _built_rows(columns, column_lists(frame)))
        _KEPT_ROWS[key] = kept
    return [row.copy() for row in kept[3]]


def table_of(tables: dict[str, pd.DataFrame], key: str) -> pd.DataFrame:
    """A table of the run, or its empty frame where the folder had none (steps run on any subset)."""
    return tables[key] if key in tables else empty_frame(key)


def table_rows(tables: dict[str, pd.DataFrame], key: str, columns: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """A table of the run as rows (empty where the folder had none); columns as in rows_of."""
    return rows_of(table_of(tables, key), columns)
