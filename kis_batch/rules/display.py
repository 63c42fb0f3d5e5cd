"""How a figure is written, one rule for every output (docs/rules.md § Outputs): a share to one decimal
place, as Excel's number format PERCENT_FORMAT shows the same number, so a rate written as text by
one output and as a formatted cell or a chart label by another reads the same (0.3325 is 33.3 %
everywhere); and a month-to-date figure with the day it stands on, wherever it meets a closed one.

Pure functions; nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_UP, Decimal

# Every writer's, the charts' and the deck's number format of a share.
PERCENT_FORMAT = "0.0%"
NO_VALUE = "—"
# A month the history holds nothing of: shown so, never as a zero.
NO_DATA = "无数据"
# Excel rounds a number to 15 significant digits before it applies a format.
_EXCEL_DIGITS = 15


def _missing(value: float | None) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _rounded(value: float, places: str) -> Decimal:
    """value rounded as Excel shows it: to 15 significant digits, then half away from zero."""
    return Decimal(f"{value:.{_EXCEL_DIGITS}g}").quantize(Decimal(places), rounding=ROUND_HALF_UP)


def percent_text(value: float | None) -> str:
    """A share as PERCENT_FORMAT shows it: 0.3325 → 33.3%, rounded half away from zero as Excel does
    (Python's own format rounds the binary value, 0.33249999…, down to 33.2%)."""
    if _missing(value):
        return NO_VALUE
    return f"{_rounded(value * 100, '0.1')}%"


def points_text(difference: float | None) -> str:
    """A change of a share in percentage points, signed, to one decimal: +1.5 个百分点."""
    if _missing(difference):
        return NO_VALUE
    return f"{_rounded(difference * 100, '0.1'):+} 个百分点"


def as_of_text(day: dt.date) -> str:
    """（截至11-27）: the day a month-to-date figure stands on."""
    return f"（截至{day:%m-%d}）"


def percent_as_of(value: float | None, day: dt.date) -> str:
    """A month-to-date share with its day: 76.0%（截至11-27）."""
    return percent_text(value) if _missing(value) else f"{percent_text(value)}{as_of_text(day)}"


def figure_text(value: float | None, kind: str) -> str:
    """A figure as every summary writes it, by its kind: int 1,234 · percent 33.3% · score 85.2 · money ¥1,234."""
    if _missing(value):
        return NO_VALUE
    if kind == "percent":
        return percent_text(value)
    if kind == "score":
        return f"{_rounded(value, '0.1')}"
    if kind == "money":
        return f"¥{_rounded(value, '1'):,}"
    return f"{_rounded(value, '1'):,}"


def change_text(now: float | None, before: float | None, kind: str) -> str:
    """now against before, as the difference of the two as they are written (so 1,066 against 1,269
    reads -203), signed; percentage points for a share."""
    if _missing(now) or _missing(before):
        return NO_VALUE
    if kind == "percent":
        return f"{_rounded(now * 100, '0.1') - _rounded(before * 100, '0.1'):+} 个百分点"
    if kind == "score":
        return f"{_rounded(now, '0.1') - _rounded(before, '0.1'):+}"
    return f"{_rounded(now, '1') - _rounded(before, '1'):+,}"
