"""Building real input workbooks for tests, the way a clerk would: openpyxl, Chinese headers."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

from kis_batch.render.dispatch import dispatch_sheets, write_dispatch_overview, write_person_sheets
from kis_batch.rules.dispatch import DispatchResult
from kis_batch.schema import BY_KEY
from kis_batch.settings import Settings
from kis_batch.tables import FILE, ROW, SHEET, frame_of_records

Sheet = tuple[Sequence[str], Sequence[Sequence[Any]]]


def write_workbook(path: Path, sheets: dict[str, Sheet], titles: dict[str, str] | None = None) -> Path:
    """One workbook with a sheet per entry: an optional title row, the header row, the rows."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, (headers, rows) in sheets.items():
        sheet = book.create_sheet(name)
        if titles and name in titles:
            sheet.append([titles[name]])
        sheet.append(list(headers))
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                if isinstance(cell.value, str) and cell.value.startswith("="):
                    cell.data_type = "s"  # text as typed (openpyxl would store a formula with no value)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


STAFF_HEADERS = ("工号", "姓名", "岗位", "区域", "纬度", "经度", "邮箱", "每日上限", "在岗")
CUSTOMER_HEADERS = ("客户编号", "客户名称", "联系人", "联系电话", "地址", "区域", "服务代表", "重点客户")


def basic_department(folder: Path) -> Path:
    """Two engineers, one specialist, three customers: the smallest valid folder."""
    return write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("E01", "张伟", "服务工程师", "西湖区", None, None, "e01@example.com", None, "是"),
            ("E02", "王强", "服务工程师", "滨江区", None, None, "e02@example.com", None, "是"),
            ("E03", "赵敏", "实施专员", "西湖区", None, None, "e03@example.com", None, "是"),
        ]),
        "客户档案": (CUSTOMER_HEADERS, [
            ("C001", "甲公司", "李会计", "057188001234", "文三路1号", "西湖区", "张伟", "是"),
            ("C002", "乙公司", "王出纳", "057188005678", "江南大道2号", "滨江区", "E02", "否"),
            ("C003", "丙公司", None, None, None, "西湖区", "E01", None),
        ]),
    })


def write_records(path: Path, sheets: dict[str, Sequence[dict[str, Any]]]) -> Path:
    """One workbook with a sheet per entry, each a list of dicts keyed by header (Chinese or English)."""
    tables: dict[str, Sheet] = {}
    for name, records in sheets.items():
        headers = list(dict.fromkeys(h for r in records for h in r))
        tables[name] = (headers, [[r.get(h) for h in headers] for r in records])
    return write_workbook(path, tables)


def table(key: str, rows: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """A typed table as ingest hands it on, from dicts with English keys; omitted columns take the
    template's default, provenance is made up. For testing the pure steps without workbooks."""
    template = BY_KEY[key]
    records = [{**{c.key: c.default for c in template.columns}, FILE: "test.xlsx", SHEET: template.zh, ROW: i + 2, **r}
               for i, r in enumerate(rows)]
    return frame_of_records(template, records)


def header_row(sheet: Any, marker: str) -> tuple[int, dict[str, int]]:
    """An output sheet's header row (below its title) and each header's column number."""
    for row in sheet.iter_rows(min_row=1, max_row=5):
        headers = {c.value: c.column for c in row if c.value}
        if marker in headers:
            return row[0].row, headers
    raise AssertionError(f"no header row with {marker}")


def write_dispatch_books(out: Path, result: DispatchResult, tables: dict[str, pd.DataFrame], written: list[Path],
                         suggestions: pd.DataFrame | None = None) -> None:
    """派工单_P.xlsx and the per-person workbooks, written as a run writes them."""
    sheets = dispatch_sheets(result, tables, suggestions, settings=Settings())
    write_dispatch_overview(out, result, sheets, written)
    write_person_sheets(out, sheets, written)
