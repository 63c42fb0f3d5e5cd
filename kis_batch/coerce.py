"""Turning what a clerk typed into typed values, accepting every form docs/rules.md § Inputs lists.

Each function takes one raw cell (as a reader returns it: str, float, int, bool, date, datetime,
time or None) and returns a typed value or raises CoerceError with a plain-Chinese reason.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Serials typed as text are only taken as dates in a plausible window (1982-2064).
SERIAL_RANGE = (30000, 60000)
# Beyond 15 significant digits Excel has already rounded a number: an id typed as a number is lost.
EXACT_DIGITS = 15


class CoerceError(ValueError):
    """A value that cannot be read as its column's type; the message says how to fix it."""


def normalise_text(value: Any) -> str:
    """Full-width letters, digits and spaces to half-width; outer spaces stripped; runs folded."""
    text = str(value)
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text).replace("\u200b", "").replace("\ufeff", "")
    return _folded(text)


def _folded(text: str) -> str:
    """Outer spaces stripped and runs folded. Most cells hold none: a text with no space that is all
    printable has no white space of any kind (every other one is unprintable), and stays as it is."""
    if " " not in text and text.isprintable():
        return text
    return " ".join(text.split())


# Full-width letters and digits (Ａ, ５) to their ASCII forms; zero-width marks dropped. Punctuation
# is left as typed.
_HALF_WIDTH = str.maketrans({**{chr(c): chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F) if chr(c - 0xFEE0).isalnum()},
                             "\u200b": None, "\ufeff": None})


def normalise_free_text(value: Any) -> str:
    """Free text (a note, a problem, a name) as typed, its full-width "，" and "：" kept: only
    full-width letters, digits and spaces made half-width, outer spaces stripped, runs folded.
    Ids, numbers, dates and choices go through normalise_text instead."""
    text = str(value)
    if not text.isascii():
        text = text.translate(_HALF_WIDTH)
    return _folded(text)


# An address as typed alone (zhangwei@example.com) or as mail programs copy it (张伟 <zhangwei@example.com>).
_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$")
_NAMED_ADDRESS = re.compile(r"^(?P<name>.*?)\s*<(?P<address>[^<>]*)>$")


def to_address(value: Any) -> str:
    """An e-mail address, alone or after a name in angle brackets (what Outlook copies); the address
    itself is returned, so mail is sent to exactly what was checked."""
    text = normalise_text(value)
    named = _NAMED_ADDRESS.match(text)
    address = named["address"].strip() if named else text
    if not _ADDRESS.match(address) or ".." in address:
        raise CoerceError("不是有效的邮箱地址；填地址本身（如 zhangwei@example.com）或 姓名 <地址>")
    return address


def day_of(value: Any) -> Any:
    """The calendar day of a date-time (pandas Timestamps included); dates and None pass through."""
    return value.date() if isinstance(value, dt.datetime) else value


def is_blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and (not value or value.isspace() or normalise_text(value) == "")


def to_text(value: Any) -> str:
    """Any cell as text; a whole number typed as a number loses its '.0' (ids, phones, codes)."""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer():
            if abs(value) >= 10**EXACT_DIGITS:
                raise CoerceError(
                    "这个编号/号码以数字保存，超过15位后Excel已丢失末尾数字；请把该列设为文本格式后重新输入"
                )
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time(0) else value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return normalise_text(value)


def to_number(value: Any) -> float:
    if isinstance(value, bool):
        raise CoerceError("应填数字")
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise CoerceError("应填数字")
        return float(value)
    text = normalise_text(value).replace(",", "").replace("，", "").replace("¥", "").replace("元", "")
    try:
        number = float(text)
    except ValueError:
        raise CoerceError("应填数字，例如 1200 或 1200.50") from None
    if not math.isfinite(number):
        raise CoerceError("应填数字")
    return number


_YES = {"是", "y", "yes", "1", "√", "✓", "✔", "true", "对", "有"}
_NO = {"否", "n", "no", "0", "×", "✗", "✘", "x", "false", "不", "无"}


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value in (0, 1):
        return bool(value)
    text = normalise_text(value).lower()
    if text in _YES:
        return True
    if text in _NO:
        return False
    raise CoerceError("应填 是 或 否（也可填 Y/N、√/×、1/0）")


def _from_serial(number: float) -> dt.datetime:
    return EXCEL_EPOCH + dt.timedelta(days=number)


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_MONTH_DAY = re.compile(r"^(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
_DATE_TIME = re.compile(r"^(.+?)[\sT]+(\d{1,2}[:：]\d{2}(?:[:：]\d{2})?)$")
_TIME = re.compile(r"^(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?$")
_TIME_ZH = re.compile(r"^(上午|下午|晚上)?\s*(\d{1,2})\s*[点時时](?:\s*(\d{1,2})\s*分?)?$")


def _make_date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise CoerceError(f"{year}年{month}月{day}日 不是有效日期") from None


def to_date(value: Any, reference: dt.date) -> dt.date:
    """A date in any accepted form; a month-day without year takes the reference date's year."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise CoerceError("应填日期，例如 2026-11-27")
    if isinstance(value, (int, float)):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return _from_serial(float(value)).date()
        raise CoerceError("应填日期，例如 2026-11-27")
    text = normalise_text(value)
    match = _DATE_TIME.match(text)
    if match and _TIME.match(match.group(2).replace("：", ":")):
        text = match.group(1)
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            return _make_date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _MONTH_DAY.match(text)
    if match:
        return _make_date(reference.year, int(match.group(1)), int(match.group(2)))
    if re.fullmatch(r"\d{5}(\.\d+)?", text) and SERIAL_RANGE[0] <= float(text) <= SERIAL_RANGE[1]:
        return _from_serial(float(text)).date()
    raise CoerceError("应填日期，例如 2026-11-27、2026/11/27、2026.11.27 或 2026年11月27日")


def to_time(value: Any) -> dt.time:
    """A time of day: Excel time, 9:05 / 09:05 / 09:05:30, 9点05分, or a day fraction."""
    if isinstance(value, dt.datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, dt.time):
        return value.replace(microsecond=0)
    if isinstance(value, dt.timedelta):
        seconds = round(value.total_seconds())
        if 0 <= seconds < 86400:
            return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value < 1:
        seconds = round(float(value) * 86400)
        seconds = min(seconds, 86399)
        return dt.time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    text = normalise_text(value)
    match = _TIME.match(text)
    if match:
        hour, minute, second = int(match.group(1)), int(match.group(2)), int(match.group(3) or 0)
    else:
        match = _TIME_ZH.match(text)
        if not match:
            raise CoerceError("应填时间，例如 9:05 或 14:30")
        hour, minute, second = int(match.group(2)), int(match.group(3) or 0), 0
        if match.group(1) in ("下午", "晚上") and hour < 12:
            hour += 12
    if hour > 23 or minute > 59 or second > 59:
        raise CoerceError("应填时间，例如 9:05 或 14:30")
    return dt.time(hour, minute, second)


def to_datetime(value: Any, reference: dt.date) -> dt.datetime:
    """A moment: Excel date-time, or a date with an optional time (a bare date is midnight)."""
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=0)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time(0))
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if SERIAL_RANGE[0] <= value <= SERIAL_RANGE[1]:
            return _from_serial(float(value)).replace(microsecond=0)
        raise CoerceError("应填日期和时间，例如 2026-11-27 09:05")
    text = normalise_text(value)
    match = _DATE_TIME.match(text)
    if match:
        return dt.datetime.combine(to_date(match.group(1), reference), to_time(match.group(2)))
    try:
        return dt.datetime.combine(to_date(text, reference), dt.time(0))
    except CoerceError:
        raise CoerceError("应填日期和时间，例如 2026-11-27 09:05") from None


def to_choice(value: Any, choices: tuple[str, ...], synonyms: dict[str, str] | None = None) -> str:
    """One of a column's allowed words; numbers and synonyms map through the column's table."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = normalise_text(value)
    if synonyms and text in synonyms:
        return synonyms[text]
    if text in choices:
        return text
    folded = {normalise_text(c).lower(): c for c in choices}
    if text.lower() in folded:
        return folded[text.lower()]
    raise CoerceError("应为以下之一：" + "/".join(choices))
