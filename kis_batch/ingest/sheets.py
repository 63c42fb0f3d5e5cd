"""One workbook read on its own, a unit that needs nothing from the other files: opened safely,
its sheets recognised (the columns it lacks or adds said at the header), its rows typed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from kis_batch.inbox import AcceptanceForm, Collector, InputFile
from kis_batch.ingest.files import Limits, ToolReport, UnreadableFile, check_safe, sha256_of
from kis_batch.ingest.projects import read_acceptance_form
from kis_batch.ingest.reading import SheetData, TypedRows, coerce_sheet
from kis_batch.ingest.recognise import NearMiss, Recognised, likely_column, recognise
from kis_batch.ingest.workbook import read_sheets
from kis_batch.problems import Code, Problem, Severity, column_letter
from kis_batch.schema import ACCEPTANCE, CHASE_SHEET, COMPLAINT_COUNTS_SHEET, FEE_READING_SHEETS, PROJECT_OVERVIEW, SERVICE_SHEET

# Sheets the tool writes for reading only (guides, the backlog, the printable 服务单); a returned
# workbook's copies are passed over.
IGNORED_SHEETS = ("说明", "填写说明", "instructions", "未派", SERVICE_SHEET, PROJECT_OVERVIEW, COMPLAINT_COUNTS_SHEET)


def _read_file(path: Path, name: str, limits: Limits, out: Collector, record: InputFile) -> list[SheetData]:
    """The recognised sheets of one file; problems with the file or its sheets go to out."""
    try:
        scans = check_safe(path, limits)
        sheets = read_sheets(path)
    except UnreadableFile as error:
        record.status, record.message = "skipped", str(error)
        out.add(Code.UNREADABLE, Severity.ERROR, f"整个文件未读取：{error}", file=name)
        return []
    except ToolReport as notice:
        record.status, record.message = "skipped", str(notice)
        out.add(Code.UNREADABLE, Severity.WARNING, str(notice), file=name)
        return []
    found: list[SheetData] = []
    saved_at = path.stat().st_mtime
    near_misses: list[tuple[str, NearMiss]] = []
    # A returned 年费_D.xlsx: only its chase list comes back.
    reading_only = FEE_READING_SHEETS if any(sheet.name == CHASE_SHEET for sheet in sheets) else ()
    for sheet in sheets:
        if sheet.name.strip().lower() in IGNORED_SHEETS or sheet.name in reading_only:
            continue
        match = recognise(sheet.rows)
        has_data = any(any(str(v).strip() for v in row) for row in sheet.rows)
        if isinstance(match, Recognised):
            record.sheets[sheet.name] = match.template.key
            match.saved_at = saved_at
            if sheet.hidden and len(sheet.rows) > match.data_row:
                out.add(Code.HIDDEN, Severity.WARNING, "这是隐藏的工作表，其中的数据已照常读取；如不应使用请删除该表",
                        file=name, sheet=sheet.name)
            _report_columns(match, name, sheet.name, out)
            scan = scans.get(sheet.name)
            found.append(SheetData(name, sheet.name, match, sheet.rows, scan.hidden_rows if scan else frozenset(),
                                   sheet.merged, scan.error_cells if scan else {}))
        elif isinstance(match, NearMiss):
            near_misses.append((sheet.name, match))
        elif has_data:
            out.add(Code.UNRECOGNISED_SHEET, Severity.WARNING,
                    "前10行里找不到任何模板的表头，此表未读取；如果它应该被读取，请使用 kis-batch init 生成的模板表头",
                    file=name, sheet=sheet.name)
    for sheet_name, match in near_misses:
        _report_near_miss(match, name, sheet_name, set(record.sheets.values()), out)
    return found


def _report_columns(match: Recognised, file: str, sheet: str, out: Collector) -> None:
    """Header cells that name no template column, and columns the rules use that the sheet lacks:
    both are said, since every row of the sheet is read without them."""
    header_row = match.header_row + 1
    for index, header in match.duplicates:
        out.add(Code.DUPLICATE_COLUMN, Severity.WARNING, f"列名“{header}”重复，只读取了第一列",
                file=file, sheet=sheet, row=header_row, column=column_letter(index), header=header)
    taken = set(match.positions)
    for index, header in match.unmapped:
        likely = likely_column(match.template, header, taken)
        if likely is not None:
            hint = f"最可能是模板的“{likely.zh}”列：如是，请把表头改为“{likely.zh}”"
        else:
            hint = f"{match.template.zh}模板里没有对应的列；如这一列需要使用，请照 kis-batch init 生成的模板改表头"
        out.add(Code.UNMAPPED_COLUMN, Severity.WARNING, f"列“{header}”不是{match.template.zh}的列，这一列的内容没有读取；{hint}",
                file=file, sheet=sheet, row=header_row, column=column_letter(index), header=header)
    for column in match.missing_in_use():
        out.add(Code.MISSING_COLUMN, Severity.WARNING, f"{column.when_missing}；如有此内容，请加一列“{column.zh}”",
                file=file, sheet=sheet, row=header_row, header=column.zh)


# A sheet named with one of these words is a clerk's own summary, not meant as a template.
SUMMARY_WORDS = ("汇总", "统计", "合计", "小计", "总结", "透视", "summary")


def _report_near_miss(match: NearMiss, file: str, sheet: str, recognised: set[str], out: Collector) -> None:
    """A sheet with several of a template's headers but not its required ones. Beside a real sheet
    of that template in the same file, or named as a summary (汇总 …), it is the clerk's own table:
    a warning. Otherwise it was meant as one and its rows are lost: an error."""
    missing = "、".join(f"“{c.zh}”" for c in match.missing)
    own_table = match.template.key in recognised or any(word in sheet.lower() for word in SUMMARY_WORDS)
    if own_table:
        out.add(Code.MISSING_COLUMN, Severity.WARNING,
                f"此表有{match.template.zh}的部分列名，但缺少必填列 {missing}，按自己的汇总表处理，未读取；"
                "如果它应该被读取，请补上这些列",
                file=file, sheet=sheet, row=match.header_row + 1)
    else:
        out.add(Code.MISSING_COLUMN, Severity.ERROR,
                f"看起来是{match.template.zh}，但缺少必填列 {missing}；请在表头行补上该列（表头可以是中文或英文）",
                file=file, sheet=sheet, row=match.header_row + 1)


@dataclass
class FileResult:
    """One workbook read and typed on its own: a unit that needs nothing from the other files."""

    record: InputFile
    problems: list[Problem]
    layouts: dict[tuple[str, str], Recognised]
    rows: dict[str, TypedRows]  # template key -> typed rows
    acceptance_forms: list[AcceptanceForm]


def ingest_file(path: Path, name: str, limits: Limits, today: dt.date) -> FileResult:
    """Read one workbook and type its rows; the raw grid is dropped as soon as it is typed."""
    out = Collector()
    record = InputFile(name, sha256_of(path), path.stat().st_size)
    rows: dict[str, TypedRows] = {}
    forms: list[AcceptanceForm] = []
    for data in _read_file(path, name, limits, out, record):
        out.layouts[(data.file, data.sheet)] = data.found
        typed = coerce_sheet(data, today, out)
        key = data.found.template.key
        form = read_acceptance_form(data, typed, today) if key == ACCEPTANCE.key else None
        forms += [form] if form else []
        if key in rows:
            rows[key].extend(typed)
        else:
            rows[key] = typed
    return FileResult(record, out.problems, out.layouts, rows, forms)
