"""Recognising a sheet by its headers: any file name, any sheet name, the header row anywhere in
the first rows (title rows above it), headers in Chinese or English.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Any

from kis_batch.coerce import normalise_text
from kis_batch.schema import TEMPLATES, Column, Template

HEADER_SEARCH_ROWS = 10
# A sheet sharing this many headers with a template, but not all its required ones, is reported.
NEAR_MISS_HEADERS = 3


def header_key(value: Any) -> str:
    """Headers compare without spaces, case, full-width forms or a required-marker star."""
    return _text_key(value) if isinstance(value, str) else ""


@functools.lru_cache(maxsize=4096)
def _text_key(text: str) -> str:
    # Cached: every file of the folder repeats the same headers.
    return re.sub(r"[\s*]", "", normalise_text(text)).lower()


_LOOKUP: dict[str, dict[str, str]] = {
    t.key: {header_key(h): c.key for c in t.columns for h in c.headers} for t in TEMPLATES
}


_ALL_HEADERS = frozenset(key for lookup in _LOOKUP.values() for key in lookup)


@dataclass
class Recognised:
    template: Template
    header_row: int  # 0-based grid index
    positions: dict[str, int]  # column key -> 0-based column index
    headers: dict[str, str]  # column key -> header text as written
    duplicates: list[tuple[int, str]] = field(default_factory=list)


@dataclass
class NearMiss:
    template: Template
    header_row: int
    missing: list[Column]


def _match(template: Template, keys: list[str], row: list[Any]) -> Recognised:
    lookup = _LOOKUP[template.key]
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    duplicates: list[tuple[int, str]] = []
    for index, cell_key in enumerate(keys):
        key = lookup.get(cell_key) if cell_key else None
        if key is None:
            continue
        if key in positions:
            duplicates.append((index, str(row[index])))
            continue
        positions[key] = index
        headers[key] = normalise_text(row[index])
    return Recognised(template, -1, positions, headers, duplicates)


def recognise(rows: list[list[Any]]) -> Recognised | NearMiss | None:
    """The template whose required headers a row holds, preferring the fullest match."""
    best: Recognised | None = None
    near: NearMiss | None = None
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        keys = [header_key(cell) for cell in row]
        if not any(key in _ALL_HEADERS for key in keys):
            continue
        for template in TEMPLATES:
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
    return best or near
