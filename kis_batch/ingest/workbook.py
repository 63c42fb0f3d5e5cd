"""Reading a workbook's sheets as grids of values (python-calamine: fast, keeps text as text,
never runs macros). Row and column indices in a grid are Excel's, 0-based, starting at A1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import python_calamine as calamine

from kis_batch.ingest.files import UnreadableFile

# A merged range as 0-based (first row, first column, last row, last column).
MergedRange = tuple[int, int, int, int]


@dataclass(frozen=True)
class RawSheet:
    name: str
    rows: list[list[Any]]
    hidden: bool = False
    # Readers give a merged range's value in its first cell only; the ranges say why the rest are blank.
    merged: tuple[MergedRange, ...] = ()


def read_sheets(path: Path) -> list[RawSheet]:
    """Every worksheet of a workbook, values only; raises UnreadableFile for damaged files."""
    try:
        book = calamine.CalamineWorkbook.from_path(str(path))
    except calamine.PasswordError:
        raise UnreadableFile("文件设置了打开密码（已加密），无法读取；请另存为不加密的文件") from None
    except Exception as error:  # each reader fails differently on a damaged file
        raise UnreadableFile(f"文件已损坏或不是表格文件，无法打开（{type(error).__name__}）；请用Excel或WPS重新保存") from None
    sheets: list[RawSheet] = []
    try:
        for meta in book.sheets_metadata:
            if meta.typ != calamine.SheetTypeEnum.WorkSheet:
                continue
            try:
                sheet = book.get_sheet_by_name(meta.name)
                rows = sheet.to_python(skip_empty_area=False)
                merged = tuple((a[0], a[1], b[0], b[1]) for a, b in sheet.merged_cell_ranges or ())
            except Exception as error:
                raise UnreadableFile(
                    f"工作表“{meta.name}”已损坏，无法读取（{type(error).__name__}）；请用Excel或WPS重新保存"
                ) from None
            sheets.append(RawSheet(meta.name, rows, meta.visible != calamine.SheetVisibleEnum.Visible, merged))
    finally:
        book.close()
    return sheets
