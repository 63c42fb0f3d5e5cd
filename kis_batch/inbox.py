"""What reading the folder hands every later step: the typed tables, the settings, the files read
and every problem found, with the column positions that let a later check point at a cell.

Below the reader and the rules alike, so the rules step run right after reading (rules/reconcile.py)
adds its problems and sets rows aside the way the reader does.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from kis_batch.problems import Code, Problem, Severity, column_letter, shown_value
from kis_batch.schema import PIN_COLUMNS, Template
from kis_batch.settings import Settings
from kis_batch.tables import FILE, ROW, SHEET

if TYPE_CHECKING:
    import pandas as pd


class Record(Protocol):
    """A row read by column key and provenance: a dict of a table, or a typed row while reading."""

    def __getitem__(self, key: str, /) -> Any: ...

    def get(self, key: str, default: Any = None, /) -> Any: ...


class SheetLayout(Protocol):
    """Where a recognised sheet keeps its template's columns."""

    template: Template
    positions: dict[str, int]  # column key -> 0-based column index
    headers: dict[str, str]  # column key -> header text as written
    stated_on: dt.date | None  # the date D printed in the sheet's title rows
    saved_at: float  # when its file was last saved


@dataclass
class Collector:
    """Problems of the whole run, and the column positions needed to point at a cell."""

    problems: list[Problem] = field(default_factory=list)
    layouts: dict[tuple[str, str], SheetLayout] = field(default_factory=dict)

    def add(self, code: Code, severity: Severity, message: str, **where: Any) -> None:
        self.problems.append(Problem(code, severity, message, **where))

    def standing(self, record: Record, today: dt.date, own_date: dt.date | None = None) -> tuple[dt.date, float]:
        """How new a returned row's statement is (docs/rules.md § Returned sheets): the date D its
        workbook's title states, else the row's own date, else the day its file was saved (a save
        after D counts as D); on the same day, the file saved later. Never the path: a correction
        in a subfolder counts as much as one at the top."""
        layout = self.layouts.get((record[FILE], record[SHEET]))
        saved_at = layout.saved_at if layout is not None else 0.0
        stated = layout.stated_on if layout is not None else None
        saved_on = min(dt.date.fromtimestamp(saved_at), today) if saved_at else dt.date.min
        return stated or own_date or saved_on, saved_at

    def cell(self, record: Record, key: str) -> dict[str, Any]:
        """Where record[key] stands, as a problem about it names it: file, sheet, row, column, header."""
        layout = self.layouts.get((record[FILE], record[SHEET]))
        letter = header = ""
        if layout is not None and key in layout.positions:
            letter = column_letter(layout.positions[key])
            header = layout.headers[key]
        elif layout is not None:
            header = layout.template.fields[key].zh if key in layout.template.fields else key
        return {"file": record[FILE], "sheet": record[SHEET], "row": record[ROW], "column": letter, "header": header}

    def at_cell(self, record: Record, key: str, code: Code, severity: Severity, message: str,
                value: Any = None) -> None:
        self.add(code, severity, message, **self.cell(record, key),
                 value=shown_value(value if value is not None else record.get(key)))


@dataclass(frozen=True)
class Signature:
    """A 签字 line of a returned form as filled in: whose line (客户, 服务部经理), the name and the
    date written after the labels (the date as written where it does not read as one)."""

    label: str
    name: str
    date: str


@dataclass(frozen=True)
class AcceptanceForm:
    """What a returned 验收 form says below its checklist (docs/rules.md § Implementation projects):
    the conclusion ticked or typed in its box, who signed, and what its own checklist holds; the
    box's place, for a warning about it. Read by the reader, weighed in rules/reconcile.py."""

    file: str
    sheet: str
    project_id: str | None
    ticked: tuple[str, ...]  # 通过 / 不通过 as ticked (☑ √ ✓ ■) or typed alone; () nothing ticked
    box_row: int  # Excel row of the 验收结论 box
    box_column: int  # 0-based
    box_text: str
    signatures: tuple[Signature, ...]
    checked_on: dt.date | None  # the form's latest 验收日期 with a 结果; None: its checklist is blank


@dataclass
class InputFile:
    """One file of the folder as the manifest reports it."""

    path: str
    sha256: str
    size: int
    status: str = "read"  # read | skipped
    sheets: dict[str, str] = field(default_factory=dict)  # sheet name -> template key
    rows_read: int = 0
    rows_accepted: int = 0
    rows_rejected: int = 0
    rows_repeated: int = 0
    message: str = ""


def _no_pins() -> pd.DataFrame:
    import pandas as pd  # loaded only where frames are built: the early read (ingest/early.py) needs none

    return pd.DataFrame(columns=list(PIN_COLUMNS), dtype=object)


@dataclass
class Inbox:
    """Everything the folder says, typed and trusted, with every problem found in it."""

    folder: Path
    today: dt.date
    settings: Settings
    tables: dict[str, pd.DataFrame]
    problems: list[Problem]
    files: list[InputFile]
    layouts: dict[tuple[str, str], SheetLayout] = field(default_factory=dict)
    # 客户档案 rows not accepted: 客户编号 (case-folded) -> where the row is and why, so that a row
    # naming one is told why instead of a bare "not found".
    refused_customers: dict[str, str] = field(default_factory=dict)
    # The manager's and the hotline's say over P's plan (schema.PIN_COLUMNS), for dispatch and fees.
    pins: pd.DataFrame = field(default_factory=_no_pins)
    # The 验收结论 boxes and 签字 lines of returned 验收 forms.
    acceptance_forms: list[AcceptanceForm] = field(default_factory=list)

    def cells(self) -> Collector:
        """Where a later check reports at a cell: the same problems, the same column positions."""
        return Collector(self.problems, self.layouts)

    def set_aside(self, key: str, kept: pd.DataFrame, refused: pd.DataFrame) -> None:
        """A table narrowed after reading: its rows refused (an 错误 at their cells) count as rejected
        in their files, the others left out as repeats, as the reader counts them."""
        before, after = Counter(self.tables[key][FILE].tolist()), Counter(kept[FILE].tolist())
        rejected = Counter(refused[FILE].tolist())
        self.tables[key] = kept
        for record in self.files:
            left_out = before[record.path] - after[record.path]
            record.rows_accepted -= left_out
            record.rows_rejected += rejected[record.path]
            record.rows_repeated += left_out - rejected[record.path]
