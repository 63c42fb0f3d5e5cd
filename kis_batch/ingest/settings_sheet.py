"""规则设置 (docs/rules.md § Settings): the rows of the settings sheet over the defaults."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from kis_batch.coerce import CoerceError
from kis_batch.inbox import Collector
from kis_batch.ingest.reading import OK, Row
from kis_batch.ingest.references import warn
from kis_batch.problems import Code, Severity
from kis_batch.settings import (
    SETTING_FIELDS,
    Settings,
    accumulates,
    allowed_text,
    format_setting,
    lookup_setting,
    parse_setting,
    shown_setting,
)


def _reject(r: Row, name: str, out: Collector, code: Code, message: str) -> None:
    """An 错误 at the 值 cell, the value shown as it may be (a webhook's key masked) and not used."""
    out.at_cell(r, "value", code, Severity.ERROR, message, value=shown_setting(name, r["value"]))
    r[OK] = False


def settings_from(records: list[Row], base: Settings, today: dt.date, out: Collector) -> Settings:
    """规则设置 rows override the defaults. A value unreadable or out of its range is an 错误 at its
    cell and the default stays; repeated date lists add up; other repeats must agree."""
    given: dict[str, list[tuple[Any, Row]]] = defaultdict(list)
    for r in records:
        if not r[OK] or r["value"] is None:
            continue
        f = lookup_setting(r["name"])
        if f is None:
            out.at_cell(r, "name", Code.SETTING, Severity.WARNING,
                        f"不认识的参数“{r['name']}”，已忽略；参数名请照 kis-batch init 生成的规则设置填写")
            continue
        name, allowed = f.metadata["zh"], allowed_text(f)
        try:
            read = parse_setting(f, r["value"], today)
        except CoerceError as error:
            instead = "这一格未采用" if accumulates(f) else f"本次按默认值 {format_setting(f, getattr(base, f.name))} 执行"
            _reject(r, f.name, out, Code.SETTING, f"参数“{name}”的值{error}；可填：{allowed}。{instead}，请改正")
            continue
        for note in read.notes:
            warn(r, "value", out, Code.SETTING, f"参数“{name}”{note}")
        if read.left_out:
            out.at_cell(r, "value", Code.SETTING, Severity.ERROR,
                        f"参数“{name}”中{'，'.join(read.left_out)}，未采用；同一格的 {format_setting(f, read.value)} "
                        f"照常使用。可填：{allowed}，请改正")
        given[f.name].append((read.value, r))
    changes: dict[str, Any] = {}
    for key, values in given.items():
        if accumulates(SETTING_FIELDS[key]):
            changes[key] = tuple(sorted({d for value, _ in values for d in value}))
            continue
        if len({value for value, _ in values}) > 1:
            for _, r in values:
                _reject(r, key, out, Code.CONFLICT,
                        f"参数“{r['name']}”在几处设置了不同的值；请只保留一处。本次按默认值执行")
            continue
        changes[key] = values[0][0]
    return base.replace(**changes)
