"""Recognising a sheet by its headers: any file name, any sheet name, the header row anywhere in
the first rows (title rows above it), headers in Chinese or English, a bracketed hint or unit after
a header (严重性（高/中/低）, 年费金额(元)), and a two-level header whose merged upper cell spans
columns (上门时间 over 到达时间/离开时间): the lowest cells name those columns.

Every other header cell of a recognised sheet is kept as an unmapped column, with the template
column it most likely means, so that nothing typed under it is dropped without a word
(docs/rules.md § Bad input).
"""

from __future__ import annotations

import datetime as dt
import difflib
import functools
import re
from dataclasses import dataclass, field
from typing import Any

from kis_batch.coerce import normalise_text
from kis_batch.schema import TEMPLATES, Column, Template

HEADER_SEARCH_ROWS = 10
# A sheet sharing this many headers with a template, but not all its required ones, is reported.
NEAR_MISS_HEADERS = 3
# How alike an unknown header and a template header must be to be named as the one it likely means.
LIKELY_HEADER_RATIO = 0.5

_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")


def header_key(value: Any) -> str:
    """Headers compare without spaces, case, full-width forms or a required-marker star."""
    return _text_key(value) if isinstance(value, str) else ""


@functools.lru_cache(maxsize=4096)
def _text_key(text: str) -> str:
    # Cached: every file of the folder repeats the same headers.
    return re.sub(r"[\s*]", "", normalise_text(text)).lower()


@functools.lru_cache(maxsize=4096)
def _bare_key(key: str) -> str:
    """A header key without its bracketed hint or unit: 严重性(高/中/低) -> 严重性."""
    return _BRACKETED.sub("", key)


_LOOKUP: dict[str, dict[str, str]] = {
    t.key: {header_key(h): c.key for c in t.columns for h in c.headers} for t in TEMPLATES
}
_REFERENCE: dict[str, frozenset[str]] = {t.key: frozenset(map(header_key, t.reference_headers)) for t in TEMPLATES}


_ALL_HEADERS = frozenset(key for lookup in _LOOKUP.values() for key in lookup)
# A template is tried on a row only if the row names at least this many of its headers: fewer can be
# neither a match (all required headers) nor a near miss (NEAR_MISS_HEADERS of them).
_LEAST_SHARED = {t.key: min(NEAR_MISS_HEADERS, len(t.required)) for t in TEMPLATES}


def _column_key(lookup: dict[str, str], key: str) -> str | None:
    """The template column a header key names, directly or once its bracketed hint is removed."""
    if not key:
        return None
    found = lookup.get(key)
    if found is None and ("(" in key or "[" in key or "【" in key):
        found = lookup.get(_bare_key(key))
    return found


@dataclass
class Recognised:
    template: Template
    header_row: int  # 0-based grid index of the (upper) header row
    positions: dict[str, int]  # column key -> 0-based column index
    headers: dict[str, str]  # column key -> header text as written
    duplicates: list[tuple[int, str]] = field(default_factory=list)
    # Header cells that name no template column: (0-based column index, header text as written).
    unmapped: list[tuple[int, str]] = field(default_factory=list)
    # Rows of the header: 2 where a merged upper header has its columns named in the row below.
    header_rows: int = 1
    # What the sheet says of itself, which decides between statements about the same key on
    # returned sheets (docs/rules.md § Returned sheets): the date D printed in its title rows, and
    # when its file was last saved (seconds since the epoch).
    stated_on: dt.date | None = None
    saved_at: float = 0.0

    @property
    def data_row(self) -> int:
        """0-based grid index of the first data row."""
        return self.header_row + self.header_rows

    def missing_in_use(self) -> list[Column]:
        """Template columns the rules use that this sheet lacks (their defaults apply to every row)."""
        return [c for c in self.template.columns if c.when_missing and c.key not in self.positions]


@dataclass
class NearMiss:
    template: Template
    header_row: int
    missing: list[Column]


def likely_column(template: Template, header: str, taken: set[str]) -> Column | None:
    """The template column an unknown header most likely means: the most alike header text,
    columns the sheet has not mapped yet first; None where nothing is alike enough."""
    text = _bare_key(header_key(header))
    best: tuple[float, bool, Column] | None = None
    for column in template.columns:
        for known in column.headers:
            ratio = difflib.SequenceMatcher(None, text, header_key(known)).ratio()
            candidate = (ratio, column.key not in taken, column)
            if ratio >= LIKELY_HEADER_RATIO and (best is None or candidate[:2] > best[:2]):
                best = candidate
    return best[2] if best else None


def _match(template: Template, keys: list[str], row: list[Any]) -> Recognised:
    lookup = _LOOKUP[template.key]
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    duplicates: list[tuple[int, str]] = []
    for index, cell_key in enumerate(keys):
        key = _column_key(lookup, cell_key)
        if key is None:
            continue
        if key in positions:
            duplicates.append((index, str(row[index])))
            continue
        positions[key] = index
        headers[key] = normalise_text(row[index])
    return Recognised(template, -1, positions, headers, duplicates)


def _lower_headers(found: Recognised, below: list[Any]) -> None:
    """A two-level header: where the row under the header row holds nothing under the columns
    already found (their cells are merged down) and names further template columns (under a merged
    upper cell such as 上门时间), those lowest cells are the headers and the data starts a row later."""
    lookup = _LOOKUP[found.template.key]
    if any(index < len(below) and _filled(below[index]) for index in found.positions.values()):
        return
    named = {index: _column_key(lookup, header_key(cell)) for index, cell in enumerate(below) if _filled(cell)}
    if not named or None in named.values() or any(key in found.positions for key in named.values()):
        return
    for index, key in named.items():
        assert key is not None
        found.positions[key] = index
        found.headers[key] = normalise_text(below[index])
    found.header_rows = 2


def _filled(cell: Any) -> bool:
    return cell is not None and not (isinstance(cell, str) and not cell.strip())


def _collect_unmapped(found: Recognised, rows: list[list[Any]]) -> None:
    """Header cells (of either header row) that name no column; the tool's own reference columns
    (客户名称 on a returned dispatch sheet …) are known and left out."""
    mapped = set(found.positions.values()) | {index for index, _ in found.duplicates}
    reference = _REFERENCE[found.template.key]
    lowest: dict[int, Any] = {}
    for row in rows[found.header_row : found.data_row]:
        for index, cell in enumerate(row):
            if _filled(cell):
                lowest[index] = cell
    for index, cell in sorted(lowest.items()):
        if index in mapped:
            continue
        text = normalise_text(cell)
        if header_key(text) in reference or _bare_key(header_key(text)) in reference:
            continue
        found.unmapped.append((index, text))


# A date printed in a title row: 2026-11-27, 2026/11/27 or 2026年11月27日.
_TITLE_DATE = re.compile(r"(\d{4})\s*[-/年]\s*(\d{1,2})\s*[-/月]\s*(\d{1,2})")


def stated_date(title_rows: list[list[Any]]) -> dt.date | None:
    """The first full date written above the header (a returned workbook's D), if any."""
    for row in title_rows:
        for cell in row:
            if isinstance(cell, dt.date):
                return cell.date() if isinstance(cell, dt.datetime) else cell
            for match in _TITLE_DATE.finditer(str(cell) if cell is not None else ""):
                try:
                    return dt.date(*map(int, match.groups()))
                except ValueError:
                    continue
    return None


def recognise(rows: list[list[Any]]) -> Recognised | NearMiss | None:
    """The template whose required headers a row holds, preferring the fullest match."""
    best: Recognised | None = None
    near: NearMiss | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [header_key(cell) for cell in row]
        named = {key if key in _ALL_HEADERS else _bare_key(key) for key in keys if key}
        if not named & _ALL_HEADERS:
            continue
        for template in TEMPLATES:
            if len(named.intersection(_LOOKUP[template.key])) < _LEAST_SHARED[template.key]:
                continue
            found = _match(template, keys, row)
            missing = [c for c in template.required if c.key not in found.positions]
            if not missing:
                if best is None or len(found.positions) > len(best.positions):
                    found.header_row = index
                    best = found
            elif len(found.positions) >= NEAR_MISS_HEADERS and (
                near is None or len(missing) < len(near.missing)
            ):
                near = NearMiss(template, index, missing)
    if best is None:
        return near
    best.stated_on = stated_date(rows[:best.header_row])
    if best.header_row + 1 < len(rows):
        _lower_headers(best, rows[best.header_row + 1])
    _collect_unmapped(best, rows)
    return best
