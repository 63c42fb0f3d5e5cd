"""A problem found in the input is a record with a stable code and its exact place.

Problems are collected for the whole run and rendered once (validation report, terminal summary,
run.json); nothing in the pipeline prints or raises for bad input.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from kis_batch.coerce import to_text

if TYPE_CHECKING:
    import pandas as pd


class Severity(StrEnum):
    ERROR = "错误"  # the row is rejected
    WARNING = "警告"  # the row is kept


class Code(StrEnum):
    UNREADABLE = "unreadable-file"
    UNRECOGNISED_SHEET = "unrecognised-sheet"
    MISSING_COLUMN = "missing-column"
    DUPLICATE_COLUMN = "duplicate-column"
    UNMAPPED_COLUMN = "unmapped-column"
    HIDDEN = "hidden-data"
    REQUIRED = "required-value"
    TYPE = "type-error"
    CONSTRAINT = "constraint"
    FUTURE_DATE = "future-date"
    OTHER_MONTH = "other-month"
    UNKNOWN_REFERENCE = "unknown-reference"
    FORMER_NAME = "former-name"
    LEAVER = "leaver-still-assigned"
    DUPLICATE_KEY = "duplicate-key"
    CONFLICT = "conflict"
    MISSING_TABLE = "missing-table"
    SETTING = "setting"
    CALENDAR = "calendar-fallback"
    OUTPUT_LOCKED = "output-locked"
    HISTORY = "history"
    CLOSED_MONTH = "closed-month"


@dataclass(frozen=True)
class Problem:
    code: Code
    severity: Severity
    message: str
    file: str = ""
    sheet: str = ""
    row: int | None = None  # as Excel shows it (1-based)
    column: str = ""  # letter
    header: str = ""
    value: str = ""

    def to_dict(self) -> dict[str, Any]:
        record = asdict(self)
        record["code"] = self.code.value
        record["severity"] = self.severity.value
        return record


def shown_value(value: Any) -> str:
    """The offending value as text for the report, never failing on odd cells."""
    if value is None:
        return ""
    try:
        return to_text(value)[:200]
    except ValueError:
        return repr(value)[:200]


def column_letter(index: int) -> str:
    """0-based column index to Excel letters (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


REPORT_COLUMNS = {
    "severity": "严重性",
    "code": "代码",
    "file": "文件",
    "sheet": "工作表",
    "row": "行号",
    "column": "列",
    "header": "列名",
    "value": "值",
    "message": "说明",
}


def problems_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problems sorted for reading: errors first, then by file, sheet and row."""
    import pandas as pd  # loaded only where frames are built: the early read (ingest/early.py) needs none

    frame = pd.DataFrame([p.to_dict() for p in problems], columns=list(REPORT_COLUMNS))
    if frame.empty:
        return frame
    frame["_order"] = frame["severity"].map({Severity.ERROR.value: 0, Severity.WARNING.value: 1})
    frame["_row"] = frame["row"].fillna(0).astype(int)
    frame = frame.sort_values(["_order", "file", "sheet", "_row", "column"], kind="stable")
    return frame.drop(columns=["_order", "_row"]).reset_index(drop=True)


def count(problems: list[Problem], severity: Severity) -> int:
    return sum(1 for p in problems if p.severity is severity)
