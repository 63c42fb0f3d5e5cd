"""Rows against each other: a row rejected or warned at its cell, what it names (工号 or 姓名,
客户编号) resolved with the reason a refused row was refused, and a table's repeated drops merged,
those that disagree refused as conflicts.
"""

from __future__ import annotations

import datetime as dt
import itertools
import operator
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from kis_batch.inbox import Collector
from kis_batch.ingest.reading import OK, Row
from kis_batch.outputs import person_label
from kis_batch.problems import Code, Severity
from kis_batch.schema import Template, service_happened
from kis_batch.tables import FILE, PROVENANCE, ROW, SHEET, KeyIndex, casefold


def reject(record: Row, key: str, out: Collector, code: Code, message: str) -> None:
    out.at_cell(record, key, code, Severity.ERROR, message)
    record[OK] = False


def warn(record: Row, key: str, out: Collector, code: Code, message: str) -> None:
    out.at_cell(record, key, code, Severity.WARNING, message)


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


class StaffIndex:
    """Staff are referred to by 工号 or 姓名; both resolve to the 工号 (docs/rules.md § Inputs (员工名单)). A
    name two staff share resolves to neither; 姓名_工号 (as the outputs print a shared name) resolves to
    that 工号 while it is that person's 姓名. A former name (the history's, passed in: 姓名 -> 工号)
    that no one on the roster has now resolves to the one 工号 that had it, told once per file."""

    def __init__(self, staff: list[Row], rejected: dict[str, str] | None = None,
                 former: Mapping[str, set[str]] | None = None) -> None:
        self.ids = KeyIndex([r["staff_id"] for r in staff], rejected)
        by_name: dict[str, list[str]] = defaultdict(list)
        for r in staff:
            by_name[r["name"]].append(r["staff_id"])
        self.by_name = {name: ids[0] for name, ids in by_name.items() if len(ids) == 1}
        self.shared_names = {name: ids for name, ids in by_name.items() if len(ids) > 1}
        self.names = {r["staff_id"]: r["name"] for r in staff}
        self.labelled = {person_label(name, staff_id): staff_id for staff_id, name in self.names.items()}
        on_roster = {name: sorted(i for i in ids if i in self.names) for name, ids in (former or {}).items()
                     if name not in by_name}
        self.former = {name: ids[0] for name, ids in on_roster.items() if len(ids) == 1}
        self.shared_names |= {name: ids for name, ids in on_roster.items() if len(ids) > 1}
        self._told: set[tuple[str, str]] = set()
        self._resolved: dict[str, str | None] = {}

    def resolve(self, value: str | None) -> str | None:
        """The 工号 a reference names, or None; each distinct value looked up once (an HQ month's rows
        name the same few hundred people half a million times)."""
        if value is None:
            return None
        if value not in self._resolved:
            self._resolved[value] = (self.ids.find(value) or self.by_name.get(value) or self.labelled.get(value)
                                     or self.former.get(value))
        return self._resolved[value]

    def resolve_at(self, record: Row, key: str, out: Collector) -> str | None:
        """record[key] resolved; a former name is a 警告 once per file, naming old and new name."""
        value = record[key]
        found = self.resolve(value)
        if found is not None and value in self.former and (record[FILE], value) not in self._told:
            self._told.add((record[FILE], value))
            out.add(Code.FORMER_NAME, Severity.WARNING,
                    f"“{value}”是工号 {found} 以前的姓名，现名“{self.names[found]}”：本文件里写“{value}”的行都按 {found} "
                    f"{self.names[found]}读取；以后请填现名或工号", file=record[FILE], sheet=record[SHEET])
        return found

    def why_not(self, value: str, label: str) -> str:
        """The message for a reference that resolves to no one."""
        if value in self.shared_names:
            shared = self.shared_names[value]
            return (f"{label}“{value}”有{len(shared)}名员工同名（工号 {'、'.join(shared)}），无法确定是谁；"
                    f"请改填工号，或写成“{person_label(value, shared[0])}”这样的姓名_工号")
        note = self.ids.rejected_note(value)
        if note:
            return f"{label}“{value}”在员工名单中的那一行没有被采用（{note}）；请先更正员工名单的那一行"
        return f"{label}“{value}”不在员工名单中；请填员工名单里的工号或姓名"


def _column_and_ok(records: list[Row], key: str) -> tuple[list[Any], list[bool]]:
    """A column of the table these rows are of, and its rows' accepted flags, both by Row.index: the
    reference checks of an HQ month read half a million cells, at a third of the cost of reading
    them through each Row."""
    table = records[0].table  # the rows of one table share its columns (ingest/reading.py TypedRows)
    return table.columns[key], table.ok


def resolve_staff(records: list[Row], key: str, index: StaffIndex | None, out: Collector,
                  label: str, *, optional: bool = False) -> None:
    """Each reference to a person resolved to the 工号. One that names no one rejects the row, or,
    in an optional column, is an 错误 at its cell alone: the cell is taken as blank and the rest of
    the row is used (docs/rules.md § Bad input)."""
    if index is None or not records:
        return
    values, ok = _column_and_ok(records, key)
    for r in records:
        value = values[r.index]
        if value is None or value in index.ids.keys or not ok[r.index]:  # a 工号 as typed: most rows
            continue
        resolved = index.resolve_at(r, key, out)
        if resolved is not None:
            r[key] = resolved
        elif optional:
            out.at_cell(r, key, Code.UNKNOWN_REFERENCE, Severity.ERROR,
                        f"{index.why_not(r[key], label)}；本格按空白处理，这一行的其余内容照常采用")
            r[key] = None
        else:
            reject(r, key, out, Code.UNKNOWN_REFERENCE, index.why_not(r[key], label))


def require_customer(records: list[Row], customers: KeyIndex | None, out: Collector) -> None:
    """Every 客户编号 names a customer of 客户档案 (in any letter case, where that is unambiguous)."""
    if customers is None or not records:
        return
    values, ok = _column_and_ok(records, "customer_id")
    for r in records:
        value = values[r.index]
        if value is None or value in customers.keys or not ok[r.index]:  # as typed: most rows
            continue
        found = customers.find(value)
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


# Tables the tool's own sheets come back as (派工单, 回访, the 验收 forms, 催收清单): of their rows about one
# key the newest statement wins (docs/rules.md § Returned sheets); 投诉处理 is settled in rules/reconcile.py.
RETURNED = {"feedback": None, "callbacks": None, "acceptance": "date", "fee_chase": None}  # key -> the row's own date


def merge_repeats(template: Template, records: list[Row], out: Collector, today: dt.date | None = None) -> list[Row]:
    """Keep one of identical repeats; report same key with different content as a conflict. On a
    returned sheet (given today), the newest of the rows that disagree wins, and only a tie is one."""
    flags = records[0].table.ok if records else []
    ok = [r for r in records if flags[r.index]]
    if not template.key_columns or not ok:
        return ok
    columns = ok[0].table.values(template.key_columns, ok)
    keys: list[Any] = columns[0] if len(columns) == 1 else list(zip(*columns, strict=True))
    if len(set(keys)) == len(keys):  # the usual case: nothing repeated
        return _in_sheet_order(ok)
    counts = Counter(keys)
    groups: dict[Any, list[Row]] = defaultdict(list)
    for key, r in zip(keys, ok, strict=True):
        if counts[key] > 1:
            groups[key].append(r)
    chosen: set[int] = set()  # of each repeated key, the row kept
    for rows in groups.values():
        filled = [r for r in rows if not is_placeholder(template, r)]
        rows = filled or rows
        if today is not None and template.key in RETURNED:
            own = RETURNED[template.key]
            top = max(out.standing(r, today, r[own] if own else None) for r in rows)
            rows = [r for r in rows if out.standing(r, today, r[own] if own else None) == top]
        distinct: dict[tuple[Any, ...], Row] = {}
        for r in rows:
            distinct.setdefault(_content(template, r), r)
        if len(distinct) == 1:
            chosen.add(rows[0].index)
            continue
        places = "；".join(f"{r[FILE]} / {r[SHEET]} 第{r[ROW]}行" for r in distinct.values())
        labels = "+".join(template.fields[k].zh for k in template.key_columns)
        for r in rows:
            reject(r, template.key_columns[0], out, Code.CONFLICT,
                   f"同一{labels}出现了内容不同的几行（{places}）；请保留正确的一行，删掉其余的")
    return _in_sheet_order([r for key, r in zip(keys, ok, strict=True) if counts[key] == 1 or r.index in chosen])


def _in_sheet_order(rows: list[Row]) -> list[Row]:
    """Rows (of one table) ordered by file, sheet and row number: as they come where they are so
    already (the usual case), else sorted."""
    if not rows:
        return rows
    files, sheets, numbers = rows[0].table.values(PROVENANCE, rows)
    if _ascending(files, sheets, numbers):
        return rows
    places = list(zip(files, sheets, numbers, strict=True))
    return [rows[i] for i in sorted(range(len(rows)), key=places.__getitem__)]


def _ascending(files: list[str], sheets: list[str], numbers: list[int]) -> bool:
    """Whether (file, sheet, row number) never decreases down the rows. A sheet's rows hold its
    file's and sheet's names as one object each, so the names are compared only where they change
    (an HQ month's 300,000 calls checked in a fraction of the time sorting them takes)."""
    changes = map(operator.or_, map(operator.is_not, files[1:], files), map(operator.is_not, sheets[1:], sheets))
    starts = [0, *itertools.compress(range(1, len(numbers)), changes), len(numbers)]
    for start, end in itertools.pairwise(starts):
        if start and (files[start - 1], sheets[start - 1], numbers[start - 1]) > (files[start], sheets[start],
                                                                                  numbers[start]):
            return False
        if not all(map(operator.le, numbers[start:end - 1], numbers[start + 1:end])):
            return False
    return True
