"""Finding the evening folder's workbooks and refusing, before any parser sees them, the files
that would hurt it: oversized, zip bombs, absurd used ranges, encrypted or disguised files.
"""

from __future__ import annotations

import hashlib
import html
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from kis_batch.outputs import REPORT_MARK_XML
from kis_batch.problems import column_letter

SPREADSHEET_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
EXCEL_MAX_ROWS = 1_048_576
EXCEL_MAX_COLUMNS = 16_384
# The extent of a sheet: row numbers (an r="" of digits only: row tags), cells with rows of six
# digits or more, and the columns' letters. No pattern stops at Excel's own limits (seven digits,
# three letters): a reference beyond them must be seen to be refused. Patterns start with a literal
# ' r="' so the scan runs at C speed and in one pass however the text is made, and only a cell
# beyond the farthest column seen so far, or six digits deep, is read further; XML that separates
# attributes with other white space is normalised first (rare).
_ROW_NUMBER = re.compile(rb' r="([0-9]+)"')
_REFERENCE = re.compile(rb' r="([A-Z]+)([0-9]+)"')
# A cell beyond column n (0–25): a later single letter, two letters or more, or six digits deep.
_FAR_CELL = [re.compile(rf' r="(?:[{chr(65 + n)}-Z]|[A-Z](?:[A-Z]|[0-9]{{6}}))'.encode()) for n in range(26)]
# Past column Z every cell of a wide sheet is far: its letters and its deep rows are listed instead.
_DEEP_CELL = re.compile(rb' r="[A-Z]+([0-9]{6,})"')
_WIDE_COLUMN = re.compile(rb' r="([A-Z]{2,})[0-9]')
_ODD_SPACING = (b'\nr="', b'\tr="', b'\rr="')
_ANY_SPACE_R = re.compile(rb'\s+r="')
_HIDDEN_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]{1,7})"[^>]*?\bhidden="(?:1|true)"')
# A cell holding an Excel error value (#REF!, #N/A …): readers give it as blank, so it is found here.
_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*?\bt="e"[^>]*)>(?:<(?:\w+:)?f\b[^>]*(?:/>|>[^<]*</(?:\w+:)?f>))?'
                         rb'<(?:\w+:)?v>([^<]*)</')
_CELL_REFERENCE = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
_SHEET_TAG = re.compile(r"<(?:\w+:)?sheet\b[^>]*>")
_RELATIONSHIP_TAG = re.compile(r"<(?:\w+:)?Relationship\b[^>]*>")
_ATTRIBUTE = re.compile(r'([\w:]+)="([^"]*)"')
# Real workbooks compress 5-20 times; far more than this, on a large sheet, is a zip bomb.
MAX_COMPRESSION_RATIO = 100
RATIO_CHECK_FROM_BYTES = 10 * 2**20
DAMAGED_ZIP = (zipfile.BadZipFile, zlib.error, OSError, EOFError, ValueError, RuntimeError, NotImplementedError)
# Files staff drop by mistake whose data would otherwise be lost without a word.
DATA_SUFFIX_ADVICE = {
    ".csv": "CSV文件（编码不确定，如GBK）不直接读取；请用Excel或WPS打开后另存为.xlsx",
    ".xlsb": "Excel二进制工作簿(.xlsb)不读取；请另存为.xlsx",
    ".et": "WPS表格格式(.et)不读取；请在WPS中另存为.xlsx",
    ".numbers": "Numbers文件不读取；请导出为.xlsx",
}
_SCAN_CHUNK = 1 << 20


class UnreadableFile(Exception):
    """A file that is skipped as a whole; the message says why in plain Chinese."""


class ToolReport(Exception):
    """One of the tool's own result workbooks (评分, 年费 …) dropped into the folder: not input."""


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int
    max_unzipped_bytes: int
    max_cells: int


def _parts_inside(folder: Path, out_root: Path | None) -> tuple[str, ...] | None:
    """The output root's path below the folder, as parts; None unless it lies strictly inside."""
    if out_root is None:
        return None
    root, inner = folder.resolve(), out_root.resolve()
    if inner == root or not inner.is_relative_to(root):
        return None
    return inner.relative_to(root).parts


def discover(folder: Path, out_root: Path | None = None) -> tuple[list[Path], list[Path]]:
    """Spreadsheets to read, and other visible files (reported, not read), sorted by path.

    Lock files (~$…), hidden and temp files and empty files are passed over silently, and so is
    everything under out_root when it lies inside the folder (`run .` writes to ./output): the
    filled-in kinds of output, 派工单_P_姓名 and 回访_P, are valid input, and the tool's own copies
    would otherwise come back on the next run as feedback and callbacks.
    """
    wanted: list[Path] = []
    others: list[Path] = []
    output = _parts_inside(folder, out_root)
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "~$", "~")) for part in relative.parts):
            continue
        if output is not None and relative.parts[: len(output)] == output:
            continue
        if not path.is_file() or path.is_symlink():
            continue
        if path.suffix.lower() in (".tmp", ".bak") or path.name.lower() in ("thumbs.db", "desktop.ini"):
            continue
        if path.stat().st_size == 0:
            continue
        if path.suffix.lower() in SPREADSHEET_SUFFIXES:
            wanted.append(path)
        else:
            others.append(path)
    return wanted, others


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(_SCAN_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def _column_number(letters: bytes) -> int:
    column = 0
    for char in letters:
        column = column * 26 + (char - 64)
    return column


@dataclass(frozen=True)
class SheetScan:
    """What a sheet's XML says before any parser builds it: its extent, its hidden rows (Excel row
    numbers) and its cells holding an Excel error value ((0-based row, 0-based column) -> #REF! …)."""

    rows: int
    cols: int
    hidden_rows: frozenset[int] = frozenset()
    error_cells: dict[tuple[int, int], str] = field(default_factory=dict)


def _far_cells(text: bytes, max_row: int, max_col: int) -> tuple[int, int]:
    """The farthest row and column a stretch of sheet XML names, given the farthest seen so far: on
    most stretches no cell lies beyond them, so cells are not listed one by one."""
    at = 0
    while max_col < 26:
        found = _FAR_CELL[max_col].search(text, at)
        if found is None:
            return max_row, max_col
        at = found.end()
        reference = _REFERENCE.match(text, found.start())
        if reference is not None:
            letters, digits = reference.groups()
            max_col = max(max_col, _column_number(letters))
            max_row = max(max_row, int(digits)) if len(digits) >= 6 else max_row
    deep = _DEEP_CELL.findall(text)
    return (max(max_row, *map(int, deep)) if deep else max_row,
            max(max_col, *map(_column_number, set(_WIDE_COLUMN.findall(text)))))


def _declaration_end(text: bytes) -> int:
    """Where the <?xml …?> declaration opening a part ends, with the line break after it (0 without one)."""
    if not text.startswith(b"<?xml"):
        return 0
    end = text.find(b"?>") + 2
    while text[end:end + 1] in (b"\r", b"\n"):
        end += 1
    return end


def _scan_sheet(archive: zipfile.ZipFile, member: str) -> SheetScan:
    """The farthest cell a sheet's XML names and its hidden rows, read in a stream."""
    max_row = max_col = 0
    hidden: set[int] = set()
    errors: dict[tuple[int, int], str] = {}
    tail = b""
    with archive.open(member) as handle:
        while True:
            block = handle.read(_SCAN_CHUNK)
            if not block:
                break
            text = tail + block
            # The XML declaration ends in a line break: a break past it is looked for first (one quick
            # pass), the breaks before r="…" only where there is one.
            past = _declaration_end(text) if not tail else 0
            if any(text.find(space, past) >= 0 for space in (b"\n", b"\t", b"\r")) and any(
                    odd in text for odd in _ODD_SPACING):
                text = _ANY_SPACE_R.sub(b' r="', text)
            rows = _ROW_NUMBER.findall(text)
            if rows:
                max_row = max(max_row, max(map(int, rows)))
            max_row, max_col = _far_cells(text, max_row, max_col)
            if b"hidden=" in text:
                hidden.update(int(m.group(1)) for m in _HIDDEN_ROW.finditer(text))
            if b't="e"' in text:
                errors.update(_error_cells(text))
            tail = text[-256:]
    return SheetScan(max_row, max_col, frozenset(hidden), errors)


def _error_cells(text: bytes) -> dict[tuple[int, int], str]:
    found: dict[tuple[int, int], str] = {}
    for match in _ERROR_CELL.finditer(text):
        where = _CELL_REFERENCE.search(match.group(1))
        if where:
            position = (int(where.group(2)) - 1, _column_number(where.group(1)) - 1)
            found[position] = match.group(2).decode("utf-8", "replace")
    return found


def _sheet_names(archive: zipfile.ZipFile) -> dict[str, str]:
    """Worksheet XML member -> the sheet's name as Excel shows it."""
    try:
        book = archive.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return {}
    targets = {}
    for tag in _RELATIONSHIP_TAG.findall(rels):
        attributes = dict(_ATTRIBUTE.findall(tag))
        target = attributes.get("Target", "").lstrip("/")
        targets[attributes.get("Id")] = target if target.startswith("xl/") else f"xl/{target}"
    names: dict[str, str] = {}
    for tag in _SHEET_TAG.findall(book):
        attributes = dict(_ATTRIBUTE.findall(tag))
        if attributes.get("r:id") in targets and "name" in attributes:
            names[targets[attributes["r:id"]]] = html.unescape(attributes["name"])
    return names


def check_safe(path: Path, limits: Limits) -> dict[str, SheetScan]:
    """Raise UnreadableFile for anything a reader should not be given; return, per sheet name, the
    scan of each sheet with hidden rows or error cells, where the format tells them."""
    size = path.stat().st_size
    if size > limits.max_file_bytes:
        raise UnreadableFile(
            f"文件有 {size / 2**20:.1f} MB，超过上限 {limits.max_file_bytes / 2**20:.0f} MB；请拆分后再放入，或在规则设置中调高"
        )
    with path.open("rb") as handle:
        head = handle.read(8)
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".ods"):
        if head.startswith(OLE_MAGIC):
            raise UnreadableFile("文件设置了打开密码（已加密），无法读取；请另存为不加密的文件")
        if not head.startswith(ZIP_MAGIC):
            raise UnreadableFile("文件内容不是Excel/WPS表格（可能是改了扩展名的其他文件）；请用Excel或WPS另存为.xlsx")
        return _check_zip(path, limits)
    if suffix == ".xls" and not head.startswith(OLE_MAGIC):
        if head.startswith(ZIP_MAGIC):
            raise UnreadableFile("文件实际是.xlsx格式但扩展名为.xls；请把扩展名改为.xlsx")
        raise UnreadableFile("文件不是真正的Excel .xls（可能是网页或文本另存的）；请用Excel或WPS另存为.xlsx")
    return {}


def _check_zip(path: Path, limits: Limits) -> dict[str, SheetScan]:
    try:
        with zipfile.ZipFile(path) as archive:
            return _check_archive(archive, limits)
    except DAMAGED_ZIP as error:
        raise UnreadableFile(f"文件已损坏或未复制完整，无法打开（{type(error).__name__}）；请重新保存后再放入") from None


def _check_archive(archive: zipfile.ZipFile, limits: Limits) -> dict[str, SheetScan]:
    members = archive.infolist()
    unzipped = sum(m.file_size for m in members)
    if unzipped > limits.max_unzipped_bytes:
        raise UnreadableFile(
            f"文件解压后有 {unzipped / 2**20:.0f} MB，超过上限 {limits.max_unzipped_bytes / 2**20:.0f} MB（疑似压缩炸弹）"
        )
    packed = sum(m.compress_size for m in members)
    if unzipped > RATIO_CHECK_FROM_BYTES and unzipped > MAX_COMPRESSION_RATIO * max(packed, 1):
        raise UnreadableFile(f"文件压缩比异常（{unzipped // max(packed, 1)} 倍，疑似压缩炸弹），未读取")
    if "docProps/custom.xml" in archive.namelist() and REPORT_MARK_XML in archive.read("docProps/custom.xml"):
        raise ToolReport("这是 kis-batch 生成的结果工作簿，不作为输入读取（只有填好的派工单和回访清单会被读回）")
    names: dict[str, str] | None = None  # read only for a sheet with hidden rows or error cells
    notable: dict[str, SheetScan] = {}
    for member in members:
        name = member.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        scan = _scan_sheet(archive, name)
        rows, cols = scan.rows, scan.cols
        if rows > EXCEL_MAX_ROWS or cols > EXCEL_MAX_COLUMNS or rows * cols > limits.max_cells:
            where = f"{column_letter(cols - 1)}{rows}"
            raise UnreadableFile(
                f"工作表 {name.rsplit('/', 1)[-1]} 的已用区域延伸到 {where}（约 {rows * cols:,} 个单元格），"
                "超过上限；请删除远处的空白格式或多余内容后再保存"
            )
        if scan.hidden_rows or scan.error_cells:
            names = _sheet_names(archive) if names is None else names
            if name in names:
                notable[names[name]] = scan
    return notable
