"""From a recognised sheet to typed rows: every cell coerced to its column's type, column by
column, and everything wrong turned into a Problem at its exact cell (docs/rules.md § Bad input).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from kis_batch import coerce
from kis_batch.coerce import CoerceError, is_blank
from kis_batch.inbox import Collector
from kis_batch.ingest.recognise import Recognised
from kis_batch.ingest.workbook import MergedRange
from kis_batch.problems import Code, Severity
from kis_batch.schema import Column, Kind, Template
from kis_batch.tables import FILE, ROW, SHEET, table_keys

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class SheetData:
    """One recognised sheet: where it is, which template, and its data rows."""

    file: str
    sheet: str
    found: Recognised
    rows: list[list[Any]]
    hidden_rows: frozenset[int] = frozenset()  # Excel row numbers
    merged: tuple[MergedRange, ...] = ()
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)  # (grid row, column) -> #REF! …

    def merged_into(self, row: int, column: int) -> tuple[int, int] | None:
        """The first cell of the merged range that covers (row, column) below or right of it, if any."""
        for top, left, bottom, right in self.merged:
            if top <= row <= bottom and left <= column <= right and (row, column) != (top, left):
                return top, left
        return None


OK = "_ok"


@dataclass
class TypedRows:
    """Typed rows of one template, column by column (the template's keys, then FILE, SHEET, ROW),
    and whether each row is still ok. Columns rather than a dict per row: an HQ month is 450,000
    rows, which workers hand to the parent and the parent turns into frames."""

    columns: dict[str, list[Any]]
    ok: list[bool]

    @classmethod
    def empty(cls, template: Template) -> TypedRows:
        return cls({key: [] for key in table_keys(template)}, [])

    def extend(self, other: TypedRows) -> None:
        for key, values in self.columns.items():
            values.extend(other.columns[key])
        self.ok.extend(other.ok)

    def rows(self) -> list[Row]:
        return [Row(self, index) for index in range(len(self.ok))]

    def values(self, keys: Sequence[str], rows: list[Row]) -> list[list[Any]]:
        """Each named column's values at these rows of this table, in their order (most often every
        row, in order: the columns copied as they are)."""
        at = [row.index for row in rows]
        if at == list(range(len(self.ok))):
            return [list(self.columns[key]) for key in keys]
        return [list(map(self.columns[key].__getitem__, at)) for key in keys]


# What recurs across a folder's files, each workbook typed on its own: a customer's 客户编号 in every
# day's call log, feedback and fee list, the same minutes of the day, the same row numbers.
SHARED_COLUMNS = ("customer_id", ROW)
SHARED_KINDS = (Kind.TIME,)


def share_equal_values(tables: dict[str, TypedRows], templates: Sequence[Template]) -> None:
    """Each customer id, time of day and row number as one object wherever it recurs. An HQ month's
    50,000 customers arrive as 400,000 copies, spread over every page of its tables; a forked worker
    that only reads a value copies the page holding it (Python counts the reference), so the copies
    made each worker hold its own copy of most of the tables (benchmarks/bench_run.py measures the
    peak: about 60 MB less)."""
    canonical: dict[str, dict[Any, Any]] = {}
    for template in templates:
        typed = tables[template.key]
        shared = [(column.key, column.kind) for column in template.columns if column.kind in SHARED_KINDS]
        shared += [(key, key) for key in SHARED_COLUMNS if key in typed.columns]
        for key, alike in shared:
            values, one_each = typed.columns[key], canonical.setdefault(alike, {})
            values[:] = map(one_each.setdefault, values, values)


class Row:
    """One row of a TypedRows, read and written like a dict by column key, provenance key or "_ok":
    the checks go row by row while the values stay in their columns."""

    __slots__ = ("index", "table")

    def __init__(self, table: TypedRows, index: int) -> None:
        self.table = table
        self.index = index

    def __getitem__(self, key: str) -> Any:
        if key == OK:
            return self.table.ok[self.index]
        return self.table.columns[key][self.index]

    def __setitem__(self, key: str, value: Any) -> None:
        if key == OK:
            self.table.ok[self.index] = value
        else:
            self.table.columns[key][self.index] = value

    def get(self, key: str, default: Any = None) -> Any:
        return self[key] if key == OK or key in self.table.columns else default


def coerce_value(column: Column, raw: Any, reference: dt.date) -> Any:
    """One cell to its column's type; blank gives the column's default."""
    if type(raw) is str:
        # Once, here; the converters accept clean text as it is.
        raw = (coerce.normalise_free_text if column.kind is Kind.TEXT else coerce.normalise_text)(raw)
        if not raw:
            return column.default
    elif is_blank(raw):
        return column.default
    kind = column.kind
    if kind in (Kind.TEXT, Kind.ID):
        return raw if type(raw) is str else coerce.to_text(raw)
    if kind is Kind.DATE:
        return coerce.to_date(raw, reference)
    if kind is Kind.TIME:
        return coerce.to_time(raw)
    if kind is Kind.DATETIME:
        return coerce.to_datetime(raw, reference)
    if kind is Kind.BOOL:
        return coerce.to_bool(dict(column.synonyms).get(raw, raw) if column.synonyms else raw)
    if kind is Kind.CHOICE:
        return coerce.to_choice(raw, column.choices, dict(column.synonyms))
    if kind is Kind.EMAIL:
        return coerce.to_address(raw)
    number = coerce.to_number(raw)
    if kind is Kind.INT:
        if not number.is_integer():
            raise CoerceError("应填整数")
        number = int(number)
    if column.minimum is not None and number < column.minimum:
        raise CoerceError(f"应不小于 {column.minimum:g}")
    if column.maximum is not None and number > column.maximum:
        raise CoerceError(f"应不大于 {column.maximum:g}")
    return number


def _present(value: Any) -> bool:
    return value is not None and value != "" and not (type(value) is str and is_blank(value))


def _has_value(columns: list[list[Any]], index: int) -> bool:
    """Whether a row holds anything in the template's columns (usually decided by the first)."""
    return any(_present(column[index]) for column in columns)


class _Failed:
    """A cached coercion failure (the reason), so a bad value repeated down a column is judged once."""

    __slots__ = ("error",)

    def __init__(self, error: CoerceError) -> None:
        self.error = error


def _coerce_one(column: Column, raw: Any, reference: dt.date) -> Any:
    try:
        return coerce_value(column, raw, reference)
    except CoerceError as error:
        return _Failed(error)


# Cell types Python counts equal across (True == 1 == 1.0) though a sheet does not.
_NUMERIC_TYPES = frozenset((bool, int, float))


def coerce_cells(column: Column, raws: list[Any], reference: dt.date) -> tuple[list[Any], list[int]]:
    """The rule (docs/rules.md § Bad input): each cell of a column typed on its own by coerce_value
    (a failure kept as its reason), and the positions that failed."""
    typed = [_coerce_one(column, raw, reference) for raw in raws]
    return typed, [n for n, value in enumerate(typed) if type(value) is _Failed]


def coerce_cells_once_each(column: Column, raws: list[Any], reference: dt.date) -> tuple[list[Any], list[int]]:
    """What coerce_cells gives, with each distinct cell coerced once: a month's call log repeats its
    customers, categories and dates thousands of times. Cells are told apart by type as well as
    value where a column mixes numeric types (True == 1 == 1.0 to Python, not to a sheet)."""
    keys: list[Any] = raws
    types = set(map(type, raws))
    if len(types & _NUMERIC_TYPES) > 1:
        keys = list(zip(map(type, raws), raws, strict=True))
    try:
        distinct = set(keys)
    except TypeError:  # an unhashable cell: coerce cell by cell
        return coerce_cells(column, raws, reference)
    if types == {str} and column.kind in (Kind.TEXT, Kind.ID):  # the commonest column: text as typed
        normalise = coerce.normalise_free_text if column.kind is Kind.TEXT else coerce.normalise_text
        default = column.default
        return list(map({raw: normalise(raw) or default for raw in distinct}.__getitem__, raws)), []
    if keys is raws:
        mapping = {raw: _coerce_one(column, raw, reference) for raw in distinct}
    else:
        mapping = {key: _coerce_one(column, key[1], reference) for key in distinct}
    typed = list(map(mapping.__getitem__, keys))
    if not any(type(value) is _Failed for value in mapping.values()):
        return typed, []
    return typed, [n for n, value in enumerate(typed) if type(value) is _Failed]


def _columns_of(grid: list[list[Any]], positions: dict[str, int]) -> dict[str, list[Any]]:
    """The template's columns of a grid, each a list down the rows (short rows read as blank)."""
    lengths = set(map(len, grid))
    width = max(max(positions.values(), default=-1) + 1, *lengths, 0)
    if lengths - {width}:
        grid = [row + [None] * (width - len(row)) for row in grid]
    by_position = list(zip(*grid, strict=True)) if grid else [()] * width
    return {key: list(by_position[pos]) for key, pos in positions.items()}


# Phones typed as numbers: a mobile (11 digits from 1) survives; anything else may have lost its 0.
PHONE = "phone"
_MOBILE = re.compile(r"1\d{10}")


def coerce_sheet(data: SheetData, reference: dt.date, out: Collector) -> TypedRows:
    """Typed rows of one sheet. A bad cell of a required or key column rejects its row; a bad cell
    of any other column is an error at that cell, its column's default is used and the row stays
    (docs/rules.md § Bad input). One message per cell, naming the real cause: a value that did not
    parse, an Excel error value (#REF!), or a merged cell whose value stands in its first row.

    Work goes column by column with a cache per column: a month's call log repeats its customers,
    categories and dates thousands of times. Only the columns that hold a failure or a blank
    required cell are walked again for problems.
    """
    template = data.found.template
    positions = data.found.positions
    first = data.found.data_row
    grid = data.rows[first:]
    raw_columns = _columns_of(grid, positions)
    present = list(raw_columns.values())
    # Blank rows (trailing or anywhere) hold nothing to lose.
    lead = present[0] if present else []
    kept = [i for i, value in enumerate(lead)
            if (value != "" and value is not None and not (type(value) is str and value.isspace()))
            or _has_value(present, i)]
    if len(kept) < len(lead):
        raw_columns = {key: [values[i] for i in kept] for key, values in raw_columns.items()}
    coerced = {c.key: coerce_cells_once_each(c, raw_columns[c.key], reference) if c.key in raw_columns
               else ([c.default] * len(kept), []) for c in template.columns}
    excel_rows = [first + i + 1 for i in kept]
    columns = {c.key: coerced[c.key][0] for c in template.columns}
    columns.update({FILE: [data.file] * len(kept), SHEET: [data.sheet] * len(kept), ROW: excel_rows})
    typed = TypedRows(columns, [True] * len(kept))
    for row in excel_rows if data.hidden_rows else ():
        if row in data.hidden_rows:
            out.add(Code.HIDDEN, Severity.WARNING, "这一行被隐藏了，其中的数据已照常读取；如不应使用请删除该行",
                    file=data.file, sheet=data.sheet, row=row)
    for column in template.columns:
        values, failed = coerced[column.key]
        rejects = column.required or column.key in template.key_columns
        for n in failed:
            raw = raw_columns[column.key][n]
            if rejects:
                out.at_cell(Row(typed, n), column.key, Code.TYPE, Severity.ERROR, f"“{column.zh}”{values[n].error}", raw)
                typed.ok[n] = False
                values[n] = None
            else:
                out.at_cell(Row(typed, n), column.key, Code.TYPE, Severity.ERROR,
                            f"“{column.zh}”{values[n].error}；本行其余内容照常使用，此格{_as_default(column)}", raw)
                values[n] = column.default
        if column.key in positions and (data.error_cells or data.merged):
            _blank_for_a_reason(data, column, kept, typed, out, set(failed))
        if column.required and None in values:
            failed_here = set(failed)
            for n in (n for n, value in enumerate(values) if value is None and n not in failed_here):
                if typed.ok[n] is False and _explained(data, column, kept[n]):
                    continue
                raw = raw_columns[column.key][n] if column.key in raw_columns else None
                out.at_cell(Row(typed, n), column.key, Code.REQUIRED, Severity.ERROR, f"“{column.zh}”是必填项，请补上", raw)
                typed.ok[n] = False
        if column.key == PHONE and column.key in raw_columns:
            _phones_typed_as_numbers(raw_columns[column.key], values, typed, out)
    return typed


def _as_default(column: Column) -> str:
    if column.default is None:
        return f"按留空处理（{column.help}）" if column.help else "按留空处理"
    shown = coerce.to_text(column.default) if not isinstance(column.default, float) else f"{column.default:g}"
    return f"按默认值“{shown}”处理"


def _explained(data: SheetData, column: Column, index: int) -> bool:
    """Whether a blank cell was already reported for its real cause (error value, merged cell)."""
    row, col = data.found.data_row + index, data.found.positions.get(column.key)
    return col is not None and ((row, col) in data.error_cells or data.merged_into(row, col) is not None)


def _blank_for_a_reason(data: SheetData, column: Column, kept: list[int], typed: TypedRows, out: Collector,
                        failed: set[int]) -> None:
    """A blank cell that is an Excel error value, or part of a merged range, is said as such: the
    required ones reject the row, the others take the column's default with an error or a warning.
    A merged range is one message, at its first blank row, naming every row it blanks."""
    col = data.found.positions[column.key]
    values = typed.columns[column.key]
    rejects = column.required or column.key in data.found.template.key_columns
    merged: dict[tuple[int, int], list[int]] = {}
    for n, index in enumerate(kept):
        if n in failed or (values[n] is not None and values[n] != column.default):
            continue
        row = data.found.data_row + index
        error = data.error_cells.get((row, col))
        if error is not None:
            fix = "本行未使用" if rejects else f"本行其余内容照常使用，此格{_as_default(column)}"
            out.at_cell(Row(typed, n), column.key, Code.TYPE, Severity.ERROR,
                        f"“{column.zh}”是Excel错误值 {error}（公式引用的单元格已删除或无效）；请改为实际的值。{fix}", error)
            typed.ok[n] = typed.ok[n] and not rejects
            continue
        source = data.merged_into(row, col)
        if source is not None and source[1] == col and source[0] >= data.found.data_row:
            merged.setdefault(source, []).append(n)
    for (top, _), blanked in merged.items():
        rows = [typed.columns[ROW][n] for n in blanked]
        shown = f"第{rows[0]}行" if len(rows) == 1 else f"第{rows[0]}–{rows[-1]}行"
        said = f"“{column.zh}”{shown}是合并单元格的一部分，值只在合并区域的第一行（第{top + 1}行）"
        if rejects:
            out.at_cell(Row(typed, blanked[0]), column.key, Code.REQUIRED, Severity.ERROR,
                        f"{said}，{'这几行' if len(rows) > 1 else '本行'}未采用；请取消合并，在每一行都填上值")
            for n in blanked:
                typed.ok[n] = False
        else:
            out.at_cell(Row(typed, blanked[0]), column.key, Code.REQUIRED, Severity.WARNING,
                        f"{said}，{'这几行' if len(rows) > 1 else '本行'}按空白读取；如也是这个值，请取消合并并填上")


def _phones_typed_as_numbers(raws: list[Any], values: list[Any], typed: TypedRows, out: Collector) -> None:
    """A phone saved as a number has lost its leading 0 (0571… becomes 571…): said at the cell."""
    for n, raw in enumerate(raws):
        if type(raw) in (int, float) and values[n] and not _MOBILE.fullmatch(values[n]):
            out.at_cell(Row(typed, n), PHONE, Code.TYPE, Severity.WARNING,
                        f"联系电话以数字保存，开头的0已丢失（显示为{values[n]}）；请把该列设为文本格式后重新输入号码", raw)


def to_frame(template: Template, rows: list[Row]) -> pd.DataFrame:
    """Typed rows (of one TypedRows) as a DataFrame: schema columns in order, then provenance."""
    import numpy as np  # loaded only where frames are built: the early read (ingest/early.py) needs none
    import pandas as pd

    keys = table_keys(template)
    if not rows:
        return pd.DataFrame({k: [] for k in keys}, columns=keys, dtype=object)
    # The frame's one block of object columns, filled column by column and handed over as it is:
    # a third faster than pandas building a column per key and then stacking them.
    block = np.empty((len(keys), len(rows)), dtype=object)
    for at, values in enumerate(rows[0].table.values(keys, rows)):
        block[at] = np.fromiter(values, dtype=object, count=len(rows))
    return pd.DataFrame(block.T, columns=keys, dtype=object, copy=False)
