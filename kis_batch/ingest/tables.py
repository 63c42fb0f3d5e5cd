"""From recognised sheets to typed, trusted tables: coerce every cell, check every row, resolve
references, merge repeated drops, and turn everything wrong into a Problem at its exact cell.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from kis_batch import coerce
from kis_batch.coerce import CoerceError, is_blank
from kis_batch.ingest.recognise import Recognised
from kis_batch.ingest.workbook import MergedRange
from kis_batch.problems import Code, Problem, Severity, column_letter, shown_value
from kis_batch.schema import BY_KEY, GROUP_SEGMENT, Column, Kind, Template, service_happened

# Provenance columns carried by every typed row, so later steps can point at the cell.
FILE, SHEET, ROW = "_file", "_sheet", "_row"
PROVENANCE = (FILE, SHEET, ROW)


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


def table_keys(template: Template) -> list[str]:
    """A typed table's columns: the template's keys in order, then the provenance."""
    return [c.key for c in template.columns] + list(PROVENANCE)


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
        """Each named column's values at these rows of this table, in their order."""
        at = [row.index for row in rows]
        return [list(map(self.columns[key].__getitem__, at)) for key in keys]


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


@dataclass
class Collector:
    """Problems of the whole run, and the column positions needed to point at a cell."""

    problems: list[Problem] = field(default_factory=list)
    layouts: dict[tuple[str, str], Recognised] = field(default_factory=dict)

    def add(self, code: Code, severity: Severity, message: str, **where: Any) -> None:
        self.problems.append(Problem(code, severity, message, **where))

    def at_cell(self, record: Row, key: str, code: Code, severity: Severity, message: str,
                value: Any = None) -> None:
        layout = self.layouts.get((record[FILE], record[SHEET]))
        letter = header = ""
        if layout is not None and key in layout.positions:
            letter = column_letter(layout.positions[key])
            header = layout.headers[key]
        elif layout is not None:
            header = layout.template.fields[key].zh if key in layout.template.fields else key
        self.add(code, severity, message, file=record[FILE], sheet=record[SHEET], row=record[ROW],
                 column=letter, header=header, value=shown_value(value if value is not None else record.get(key)))


def coerce_value(column: Column, raw: Any, reference: dt.date) -> Any:
    """One cell to its column's type; blank gives the column's default."""
    if type(raw) is str:
        raw = coerce.normalise_text(raw)  # once, here; the converters accept clean text as it is
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
        normalise, default = coerce.normalise_text, column.default
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
    required ones reject the row, the others take the column's default with an error or a warning."""
    col = data.found.positions[column.key]
    values = typed.columns[column.key]
    rejects = column.required or column.key in data.found.template.key_columns
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
        if source is None or source[1] != col or source[0] < data.found.data_row:
            continue
        if rejects:
            out.at_cell(Row(typed, n), column.key, Code.REQUIRED, Severity.ERROR,
                        f"“{column.zh}”是合并单元格的一部分，值只在合并区域的第一行（第{source[0] + 1}行）；"
                        "请取消合并，在每一行都填上值")
            typed.ok[n] = False
        else:
            out.at_cell(Row(typed, n), column.key, Code.REQUIRED, Severity.WARNING,
                        f"“{column.zh}”是合并单元格的一部分，值只在合并区域的第一行（第{source[0] + 1}行），本行按空白读取；"
                        "如本行也是这个值，请取消合并并填上")


def _phones_typed_as_numbers(raws: list[Any], values: list[Any], typed: TypedRows, out: Collector) -> None:
    """A phone saved as a number has lost its leading 0 (0571… becomes 571…): said at the cell."""
    for n, raw in enumerate(raws):
        if type(raw) in (int, float) and values[n] and not _MOBILE.fullmatch(values[n]):
            out.at_cell(Row(typed, n), PHONE, Code.TYPE, Severity.WARNING,
                        f"联系电话以数字保存，开头的0已丢失（显示为{values[n]}）；请把该列设为文本格式后重新输入号码", raw)


def reject(record: Row, key: str, out: Collector, code: Code, message: str) -> None:
    out.at_cell(record, key, code, Severity.ERROR, message)
    record[OK] = False


def warn(record: Row, key: str, out: Collector, code: Code, message: str) -> None:
    out.at_cell(record, key, code, Severity.WARNING, message)


def check_rows(template: Template, records: list[Row], out: Collector) -> None:
    """Rules within one row (docs/rules.md § Inputs: both coordinates or neither, leave after arrive, end after start)."""
    for r in records:
        if template.key in ("customers", "staff") and (r["lat"] is None) != (r["lon"] is None):
            key = "lon" if r["lon"] is None else "lat"
            warn(r, key, out, Code.CONSTRAINT, "纬度和经度要么都填，要么都不填；本行的坐标已忽略，按区域估算距离")
            r["lat"] = r["lon"] = None
        elif template.key == "feedback" and r["arrive"] and r["leave"] and r["leave"] < r["arrive"]:
            reject(r, "leave", out, Code.CONSTRAINT,
                   f"离开时间 {r['leave']:%H:%M} 早于到达时间 {r['arrive']:%H:%M}，请更正")
        elif template.key == "fees" and r["start"] and r["end"] and r["end"] <= r["start"]:
            reject(r, "end", out, Code.CONSTRAINT, "服务到期必须晚于服务开始，请更正")
        elif template.key == "leave" and r["start"] and r["end"] and r["end"] < r["start"]:
            reject(r, "end", out, Code.CONSTRAINT, "结束日期早于开始日期，请更正")
        if template.key == "fees" and r[OK] and r["amount"] is not None and (r["paid"] or 0) > r["amount"]:
            warn(r, "paid", out, Code.CONSTRAINT, "已收金额大于年费金额，请核对")
        if template.key == "customers" and r[OK] and r["segment"] == GROUP_SEGMENT and r["group"] is None:
            warn(r, "group", out, Code.CONSTRAINT,
                 f"客户类别是{GROUP_SEGMENT}，但没有填所属集团：客户跟踪表无法把它和同集团的成员汇总在一起"
                 "（暂归入“未填所属集团”）；请填写所属集团")


def assign_ticket_ids(records: list[Row]) -> None:
    """Blank 工单号 get a stable id from call time + customer + order within the sheet."""
    seen: dict[tuple[Any, ...], int] = defaultdict(int)
    for r in records:
        if r["ticket_id"] or r["call_time"] is None or r["customer_id"] is None:
            continue
        group = (r[FILE], r[SHEET], r["call_time"], r["customer_id"])
        seen[group] += 1
        r["ticket_id"] = f"T{r['call_time']:%Y%m%d%H%M}-{r['customer_id']}-{seen[group]}"


def rejection_notes(rows: list[Row], keys: Sequence[str], out: Collector) -> dict[str, str]:
    """Key values of rows that were not accepted -> where the row is and why, so that a row naming
    one is told which row was rejected and why instead of a bare "not found"."""
    refused = [r for r in rows if not r[OK]]
    if not refused:
        return {}
    reasons: dict[tuple[str, str, int | None], str] = {}
    for problem in out.problems:
        if problem.severity is Severity.ERROR:
            reasons.setdefault((problem.file, problem.sheet, problem.row), problem.message)
    notes: dict[str, str] = {}
    for r in refused:
        reason = reasons.get((r[FILE], r[SHEET], r[ROW]), "该行有错误")
        for key in keys:
            if r[key] is not None:
                notes.setdefault(casefold(r[key]), f"{r[FILE]} / {r[SHEET]} 第{r[ROW]}行：{reason}")
    return notes


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


class StaffIndex:
    """Staff are referred to by 工号 or 姓名; both resolve to the 工号. A name two staff share
    resolves to neither."""

    def __init__(self, staff: list[Row], rejected: dict[str, str] | None = None) -> None:
        self.ids = KeyIndex([r["staff_id"] for r in staff], rejected)
        by_name: dict[str, list[str]] = defaultdict(list)
        for r in staff:
            by_name[r["name"]].append(r["staff_id"])
        self.by_name = {name: ids[0] for name, ids in by_name.items() if len(ids) == 1}
        self.shared_names = {name: ids for name, ids in by_name.items() if len(ids) > 1}

    def resolve(self, value: str | None) -> str | None:
        if value is None:
            return None
        return self.ids.find(value) or self.by_name.get(value)

    def why_not(self, value: str, label: str) -> str:
        """The message for a reference that resolves to no one."""
        if value in self.shared_names:
            ids = "、".join(self.shared_names[value])
            return f"{label}“{value}”有{len(self.shared_names[value])}名员工同名（工号 {ids}），无法确定是谁；请改填工号"
        note = self.ids.rejected_note(value)
        if note:
            return f"{label}“{value}”在员工名单中的那一行没有被采用（{note}）；请先更正员工名单的那一行"
        return f"{label}“{value}”不在员工名单中；请填员工名单里的工号或姓名"


def resolve_staff(records: list[Row], key: str, index: StaffIndex | None, out: Collector,
                  label: str) -> None:
    if index is None:
        return
    for r in records:
        if not r[OK] or r[key] is None:
            continue
        resolved = index.resolve(r[key])
        if resolved is None:
            reject(r, key, out, Code.UNKNOWN_REFERENCE, index.why_not(r[key], label))
        else:
            r[key] = resolved


def require_customer(records: list[Row], customers: KeyIndex | None, out: Collector) -> None:
    """Every 客户编号 names a customer of 客户档案 (in any letter case, where that is unambiguous)."""
    if customers is None:
        return
    for r in records:
        if not r[OK] or r["customer_id"] is None:
            continue
        found = customers.find(r["customer_id"])
        if found is not None:
            r["customer_id"] = found
            continue
        note = customers.rejected_note(r["customer_id"])
        message = (f"客户编号“{r['customer_id']}”在客户档案中的那一行没有被采用（{note}）；请先更正客户档案的那一行"
                   if note else f"客户编号“{r['customer_id']}”不在客户档案中；请核对编号，或先在客户档案里添加该客户")
        reject(r, "customer_id", out, Code.UNKNOWN_REFERENCE, message)


def _content(template: Template, record: Row) -> tuple[Any, ...]:
    return tuple(record[c.key] for c in template.columns if not c.tool_written)


def is_placeholder(template: Template, record: Row) -> bool:
    """A returned sheet's row nobody filled in yet: superseded by a filled row of the same key."""
    if template.key == "feedback":
        return not service_happened(record)
    if template.key == "callbacks":
        return record["reached"] is None
    if template.key == "acceptance":
        return record["outcome"] is None
    return False


def merge_repeats(template: Template, records: list[Row], out: Collector) -> list[Row]:
    """Keep one of identical repeats; report same key with different content as a conflict."""
    ok = [r for r in records if r[OK]]
    if not template.key_columns or not ok:
        return ok
    keys = list(zip(*ok[0].table.values(template.key_columns, ok), strict=True))
    if len(set(keys)) == len(keys):  # the usual case: nothing repeated
        return _in_sheet_order(ok)
    groups: dict[Any, list[Row]] = defaultdict(list)
    for key, r in zip(keys, ok, strict=True):
        groups[key].append(r)
    kept: list[Row] = []
    for rows in groups.values():
        if len(rows) == 1:
            kept.append(rows[0])
            continue
        filled = [r for r in rows if not is_placeholder(template, r)]
        rows = filled or rows
        distinct: dict[tuple[Any, ...], Row] = {}
        for r in rows:
            distinct.setdefault(_content(template, r), r)
        if len(distinct) == 1:
            kept.append(rows[0])
            continue
        places = "；".join(f"{r[FILE]} / {r[SHEET]} 第{r[ROW]}行" for r in distinct.values())
        labels = "+".join(template.fields[k].zh for k in template.key_columns)
        for r in rows:
            reject(r, template.key_columns[0], out, Code.CONFLICT,
                   f"同一{labels}出现了内容不同的几行（{places}）；请保留正确的一行，删掉其余的")
    return _in_sheet_order(kept)


def _in_sheet_order(rows: list[Row]) -> list[Row]:
    """Rows (of one table) ordered by file, sheet and row number."""
    if not rows:
        return rows
    places = list(zip(*rows[0].table.values(PROVENANCE, rows), strict=True))
    return [rows[i] for i in sorted(range(len(rows)), key=places.__getitem__)]


def to_frame(template: Template, rows: list[Row]) -> pd.DataFrame:
    """Typed rows (of one TypedRows) as a DataFrame: schema columns in order, then provenance."""
    keys = table_keys(template)
    if not rows:
        return pd.DataFrame({k: [] for k in keys}, columns=keys, dtype=object)
    return pd.DataFrame(dict(zip(keys, rows[0].table.values(keys, rows), strict=True)), columns=keys, dtype=object)


def frame_of_records(template: Template, records: list[dict[str, Any]]) -> pd.DataFrame:
    """A typed table from dicts holding every column and the provenance: for tables made outside a
    folder read (the test builders, the dispatch benchmark)."""
    keys = table_keys(template)
    typed = TypedRows({key: [r[key] for r in records] for key in keys}, [True] * len(records))
    return to_frame(template, typed.rows())


def empty_frame(key: str) -> pd.DataFrame:
    return to_frame(BY_KEY[key], [])
