"""Declaring an output column: its header, width, how its cells show, and whether staff fill it in
(with a dropdown where Excel can hold the list). Writing the columns is render/style.py; how wide
they print is render/paper.py.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from kis_batch.schema import CUSTOMERS, Column, Kind, Template


@dataclass(frozen=True)
class Col:
    """One output column: the header people see and how its cells are shown."""

    key: str
    header: str
    width: float = 12
    kind: str = "text"  # text | date | time | datetime | int | number | percent | score | km | bool | deduction | gap
    choices: tuple[str, ...] = ()  # a dropdown list for a fill-in column
    fill: bool = False  # staff fill this column in: tinted, with a dropdown where it has choices
    wrap: bool = False  # long text wraps within the width (rows grow) so printed sheets stay readable


def col_from_schema(column: Column, *, fill: bool = False, header: str | None = None) -> Col:
    """An output column that reuses an input template column's header, type and choices."""
    kind = {Kind.DATE: "date", Kind.TIME: "time", Kind.DATETIME: "datetime", Kind.INT: "int",
            Kind.NUMBER: "number", Kind.BOOL: "bool"}.get(column.kind, "text")
    return Col(column.key, header or column.zh, column.width, kind, column.choices if fill else (), fill)


def input_col(template: Template, key: str, width: float, header: str | None = None, *, wrap: bool = False) -> Col:
    """A template column shown read-only, at the width the sheet can spare (wrapped, for long text)."""
    return replace(col_from_schema(template.fields[key], header=header), width=width, wrap=wrap)


# Whom to ring: the customer's 联系人 and 联系电话, alike on every sheet that calls or visits.
CONTACT = input_col(CUSTOMERS, "contact", 6.5)
PHONE = input_col(CUSTOMERS, "phone", 12)

# Excel keeps a dropdown list of at most 255 characters; a longer roster gets a free-text cell.
DROPDOWN_CHARACTERS = 255


def person_choice(col: Col, people: tuple[str, ...], *extra: str) -> Col:
    """col as a fill-in column with a dropdown of these people (and extra words), where Excel can hold the list."""
    choices = (*people, *extra)
    return replace(col, fill=True, choices=choices if len(",".join(choices)) <= DROPDOWN_CHARACTERS else ())
