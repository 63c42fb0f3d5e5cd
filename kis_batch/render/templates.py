"""The blank input templates (kis-batch init), derived from the schema declarations alone:
one workbook per template group, dropdowns on enumerated columns, typed columns, a 说明 sheet.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import pandas as pd

from kis_batch.render.columns import Col, col_from_schema
from kis_batch.render.saving import atomic_book
from kis_batch.render.style import Book, write_table
from kis_batch.schema import SETTINGS_SHEET, TEMPLATES, Column, Kind, Template
from kis_batch.settings import allowed_text, default_of, format_setting, setting_fields

# Rows below the header that carry dropdowns and formats in a blank template.
TEMPLATE_ROWS = 500

_KIND_WORDS = {
    Kind.TEXT: "文字", Kind.ID: "编号（文本，保留前导0）", Kind.DATE: "日期", Kind.TIME: "时间",
    Kind.DATETIME: "日期时间", Kind.BOOL: "是/否", Kind.CHOICE: "下拉选择", Kind.NUMBER: "数字", Kind.INT: "整数",
    Kind.EMAIL: "邮箱地址",
}

GUIDE_COLS = (
    Col("sheet", "工作表", 12), Col("header", "列名", 12), Col("key", "英文名", 14), Col("required", "必填", 6),
    Col("kind", "类型", 16), Col("choices", "可选值", 30), Col("default", "默认", 8), Col("help", "说明", 50),
    Col("example", "示例", 22),
)


def workbook_groups() -> dict[str, list[Template]]:
    groups: dict[str, list[Template]] = {}
    for template in TEMPLATES:
        groups.setdefault(template.workbook, []).append(template)
    return groups


def blank_columns(template: Template) -> list[Column]:
    """The columns a clerk fills in: not those only the tool's own sheets carry (计划派给 …)."""
    return [c for c in template.columns if not c.tool_written]


def template_cols(template: Template) -> list[Col]:
    return [Col(c.key, c.zh, c.width, col_from_schema(c).kind, c.choices, fill=True) for c in blank_columns(template)]


def settings_frame() -> pd.DataFrame:
    """规则设置 with every default filled in and explained, with the values each setting allows."""
    rows = []
    for f in setting_fields():
        rows.append({"name": f.metadata["zh"], "value": format_setting(f, default_of(f)),
                     "help": f"{f.metadata['help']}。可填：{allowed_text(f)}"})
    return pd.DataFrame(rows)


def guide_frame(templates: list[Template]) -> pd.DataFrame:
    rows = []
    for template in templates:
        for c in blank_columns(template):
            default = c.default
            if isinstance(default, bool):
                default = "是" if default else "否"
            rows.append({
                "sheet": template.zh, "header": c.zh, "key": c.key, "required": "是" if c.required else "",
                "kind": _KIND_WORDS[c.kind], "choices": "/".join(c.choices), "default": default,
                "help": c.help, "example": c.example,
            })
    return pd.DataFrame(rows)


def write_template(book: Book, templates: list[Template]) -> None:
    for template in templates:
        if template is SETTINGS_SHEET:
            cols = [Col(c.key, c.zh, c.width) for c in template.columns]
            write_table(book, template.zh, settings_frame(), cols)
        else:
            write_table(book, template.zh, pd.DataFrame(), template_cols(template), fill_rows=TEMPLATE_ROWS)
    purposes = "；".join(f"{t.zh}：{t.purpose}" for t in templates)
    write_table(book, "说明", guide_frame(templates), GUIDE_COLS, title=purposes)


class TemplateFiles(NamedTuple):
    written: list[Path]
    kept: list[Path]  # already there, left as they were


def write_templates(folder: Path) -> TemplateFiles:
    """One blank workbook per template group into folder, except where a file of that name exists:
    init is run on folders that already hold filled workbooks, and a blank one must never
    replace a month of staff's work (docs/rules.md § Bad input)."""
    folder.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    kept: list[Path] = []
    for name, templates in workbook_groups().items():
        target = folder / f"{name}.xlsx"
        if target.exists():
            kept.append(target)
            continue
        with atomic_book(target, written) as book:
            write_template(book, templates)
    return TemplateFiles(written, kept)
