"""Hostile and messy workbooks (docs/rules.md § Bad input): each case from a real failure report, with the
expected behaviour. The run survives, names the bad file, and never loses a good row."""

import datetime as dt
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kis_batch import pipeline
from kis_batch.cli import main
from kis_batch.ingest import load_folder
from kis_batch.problems import Code, Severity
from kis_batch.schema import BY_KEY, SETTINGS_SHEET
from kis_batch.tables import FILE, ROW, SHEET
from tests.builders import CUSTOMER_HEADERS, basic_department, write_workbook

TODAY = dt.date(2026, 11, 27)
CALLS = ("工单号", "来电时间", "客户编号", "问题描述", "处理方式", "问题类别")  # the last left blank
GOOD_CALL = ("T1", "2026-11-27 09:00", "C001", "凭证过账报错", "需上门")
HOSTILE_TEXT = ['=HYPERLINK("http://evil.example/x","点我")', '=DISPIMG("ID_1",1)', "{=1+1}", "+1-2", "-3+4",
                "@SUM(A1:A2)", "http://evil.example/", "=cmd|' /C calc'!A0"]


def _folder_with_calls(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(folder / "calls.xlsx", {"热线记录": (CALLS, [GOOD_CALL])})
    return folder


def _rewrite_sheet(source: Path, target: Path, change) -> Path:
    """A copy of source whose first worksheet XML is changed by change(bytes) -> bytes."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = change(data)
            zout.writestr(item, data)
    return target


def _problems_for(inbox, name):
    return [p for p in inbox.problems if p.file == name]


# 1. Text that looks like a formula or a link stays text in every output ---------------------------

def test_formula_like_text_is_never_a_live_formula_in_any_output(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(CALLS))
    for i, text in enumerate(HOSTILE_TEXT):
        sheet.append([f"T{i}", "2026-11-27 09:00", "C001", None, "需上门"])
        cell = sheet.cell(row=i + 2, column=4)
        cell.value, cell.data_type = text, "s"  # typed as text (a leading apostrophe in Excel)
    book.save(folder / "calls.xlsx")
    result = pipeline.run(folder, TODAY, tmp_path / "out")
    assert result.errors == 0
    seen_text = False
    for output in result.outputs:
        if output.suffix != ".xlsx":
            continue
        with zipfile.ZipFile(output) as archive:
            for name in archive.namelist():
                if not name.startswith("xl/worksheets/sheet"):
                    continue
                xml = archive.read(name).decode("utf-8")
                assert "<f>" not in xml and "<f " not in xml, f"{output.name}:{name} holds a formula"
                assert "<hyperlink" not in xml
            strings = archive.read("xl/sharedStrings.xml").decode("utf-8") if "xl/sharedStrings.xml" in \
                archive.namelist() else ""
            seen_text |= "DISPIMG" in strings
    assert seen_text, "the hostile text should appear in the dispatch sheets, as text"


# 2. XML bombs and external entities ------------------------------------------------------------

LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%s;" % (str(i - 1).encode() if i > 2 else b"")) * 10)
                     for i in range(2, 10))
          + b"]>")


@pytest.mark.parametrize(("name", "prolog", "entity"), [
    ("laughs.xlsx", LAUGHS, b"&lol9;"),
    ("xxe.xlsx", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>', b"&x;"),
])
def test_xml_bombs_and_external_entities_are_reported_as_damaged(tmp_path, name, prolog, entity):
    folder = _folder_with_calls(tmp_path)
    write_workbook(tmp_path / "base.xlsx", {"热线记录": (CALLS, [("T9", "2026-11-27 10:00", "C002", "x", "需上门")])})

    def poison(xml: bytes) -> bytes:
        xml = re.sub(rb"^<\?xml[^>]*\?>", b"", xml)
        return prolog + xml.replace(b"<t>x</t>", b"<t>" + entity + b"</t>")

    _rewrite_sheet(tmp_path / "base.xlsx", folder / name, poison)
    result = pipeline.run(folder, TODAY, tmp_path / "out")
    damaged = _problems_for(result.inbox, name)
    assert [(p.code, p.severity) for p in damaged] == [(Code.UNREADABLE, Severity.ERROR)]
    assert list(result.inbox.tables["calls"]["ticket_id"]) == ["T1"]
    for output in result.outputs:
        if output.suffix == ".xlsx":
            with zipfile.ZipFile(output) as archive:
                assert not any(b"root:x:0" in archive.read(n) for n in archive.namelist())
        else:
            assert "root:x:0" not in output.read_text(encoding="utf-8")


# 3. Zip bombs and absurd used ranges, refused before parsing, in a separate process ----------------

def _check_in_subprocess(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kis_batch", "check", str(folder), "--date", "2026-11-27"],
                          capture_output=True, text=True, timeout=60)


def test_zip_bomb_is_refused_quickly(tmp_path):
    folder = _folder_with_calls(tmp_path)
    write_workbook(tmp_path / "base.xlsx", {"Sheet": (("a",), [("b",)])})
    padding = b" " * (40 * 2**20)
    _rewrite_sheet(tmp_path / "base.xlsx", folder / "bomb.xlsx", lambda xml: xml.replace(b"<sheetData>", b"<sheetData>" + padding))
    assert (folder / "bomb.xlsx").stat().st_size < 200_000
    done = _check_in_subprocess(folder)
    assert done.returncode == 1
    assert "bomb.xlsx" in done.stdout and "压缩" in done.stdout


def test_one_cell_at_xfd1048576_is_refused_without_crashing(tmp_path):
    folder = _folder_with_calls(tmp_path)
    book = openpyxl.Workbook()
    book.active["A1"] = "客户编号"
    book.active["XFD1048576"] = 1
    book.save(folder / "far.xlsx")
    assert (folder / "far.xlsx").stat().st_size < 10_000
    done = _check_in_subprocess(folder)
    assert done.returncode == 1, done.stderr
    assert "far.xlsx" in done.stdout and "XFD1048576" in done.stdout


@pytest.mark.parametrize(("far_row", "far_cell", "named", "space"), [(b"20000000", b"A20000000", "B20000000", b" "),
                                                                    (b"2", b"AAAA2", "AAAA2", b" "),
                                                                    (b"20000000", b"A20000000", "B20000000", b"\n")])
def test_a_row_or_cell_numbered_past_excel_is_refused_before_reading(tmp_path, far_row, far_cell, named, space):
    """Eight-digit rows and four-letter columns are beyond any sheet Excel writes; read as they are,
    a few bytes would make the reader build a grid of millions of rows. So also where a line break,
    not a space, stands before the attribute (XML allows either)."""
    folder = _folder_with_calls(tmp_path)
    write_workbook(tmp_path / "base.xlsx", {"Sheet": (("客户编号", "客户名称"), [("C9", "甲")])})
    _rewrite_sheet(tmp_path / "base.xlsx", folder / "far.xlsx",
                   lambda xml: xml.replace(b'<row r="2"', b'<row' + space + b'r="' + far_row + b'"')
                   .replace(b' r="A2"', space + b'r="' + far_cell + b'"'))
    assert space + b'r="' + far_cell + b'"' in zipfile.ZipFile(folder / "far.xlsx").read("xl/worksheets/sheet1.xml")
    done = _check_in_subprocess(folder)
    assert done.returncode == 1, done.stderr
    assert "far.xlsx" in done.stdout and f"已用区域延伸到 {named}" in done.stdout


# 4. Encrypted, disguised, foreign formats, macros ------------------------------------------------

@pytest.mark.parametrize(("name", "content", "words"), [
    ("加密.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, "密码"),
    ("网页.xls", "<html><body><table><tr><td>客户编号</td></tr></table></body></html>".encode(), "网页或文本"),
    ("名单.csv", "客户编号,客户名称\nC009,丁公司\n".encode("gbk"), "另存为.xlsx"),
    ("报表.xlsb", b"PK\x03\x04binary", ".xlsb"),
    ("表格.et", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1wps", "WPS"),
    ("截断.xlsx", None, "损坏"),
])
def test_unreadable_formats_get_a_specific_message_and_the_run_goes_on(tmp_path, name, content, words):
    folder = _folder_with_calls(tmp_path)
    if content is None:
        whole = (folder / "calls.xlsx").read_bytes()
        content = whole[: len(whole) // 2]
    (folder / name).write_bytes(content)
    inbox = load_folder(folder, TODAY)
    problems = _problems_for(inbox, name)
    assert len(problems) == 1 and problems[0].severity is Severity.ERROR and words in problems[0].message
    assert list(inbox.tables["calls"]["ticket_id"]) == ["T1"]


def test_xlsm_with_macros_is_read_as_values_and_macros_go_nowhere(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(tmp_path / "calls.xlsx", {"热线记录": (CALLS, [GOOD_CALL])})
    with zipfile.ZipFile(tmp_path / "calls.xlsx") as zin, zipfile.ZipFile(folder / "宏.xlsm", "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, zin.read(item.filename))
        zout.writestr("xl/vbaProject.bin", b"Attribute VB_Name = \"Module1\"\nSub AutoOpen()\nShell \"calc\"\nEnd Sub")
    result = pipeline.run(folder, TODAY, tmp_path / "out")
    assert list(result.inbox.tables["calls"]["ticket_id"]) == ["T1"] and result.errors == 0
    for output in result.outputs:
        if output.suffix == ".xlsx":
            assert not any("vba" in n.lower() for n in zipfile.ZipFile(output).namelist())


# 5. Lock files, temp files, empty files ----------------------------------------------------------

def test_lock_temp_and_empty_files_are_ignored_silently(tmp_path):
    folder = _folder_with_calls(tmp_path)
    (folder / "~$calls.xlsx").write_bytes(b"\x07owner")
    (folder / "~WRL0001.tmp").write_bytes(b"x")
    (folder / ".~lock.calls.xlsx#").write_bytes(b"x")
    (folder / "空.xlsx").write_bytes(b"")
    inbox = load_folder(folder, TODAY)
    assert inbox.problems == []
    assert {f.path for f in inbox.files} == {"基础.xlsx", "calls.xlsx"}


# 6. Merged titles, hidden rows, odd header spelling, missing required column -------------------

def test_merged_title_hidden_row_and_full_width_headers(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    book = openpyxl.Workbook()
    sheet = book.active
    sheet["A1"] = "热线记录（11月）"
    sheet.merge_cells("A1:E1")
    sheet.append([" 工单号 ", "来电　时间", "ｃｕｓｔｏｍｅｒ＿ｉｄ", "问题描述", "处理方式", "问题类别"])
    sheet.append(list(GOOD_CALL))
    sheet.append(["T2", "2026-11-27 10:00", "C002", "隐藏的行", "需上门"])
    sheet.row_dimensions[4].hidden = True
    book.save(folder / "calls.xlsx")
    inbox = load_folder(folder, TODAY)
    assert list(inbox.tables["calls"]["ticket_id"]) == ["T1", "T2"]
    assert [(p.code, p.severity, p.row) for p in inbox.problems] == [(Code.HIDDEN, Severity.WARNING, 4)]


def test_missing_required_column_names_sheet_and_header(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(folder / "客户2.xlsx", {"新客户": (("客户编号", "客户名称", "区域"), [("C010", "戊公司", "西湖区")])})
    problems = [p for p in load_folder(folder, TODAY).problems if p.code is Code.MISSING_COLUMN]
    assert [(p.file, p.sheet, p.severity) for p in problems] == [("客户2.xlsx", "新客户", Severity.ERROR)]
    assert "服务代表" in problems[0].message


# 7. Long numbers, 1904 dates, year-less dates, serials as text ---------------------------------

def test_long_numbers_and_every_date_form(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    book = openpyxl.Workbook()
    book.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
    sheet = book.active
    sheet.append(list(CUSTOMER_HEADERS))
    sheet.append([1001, "数字编号公司", None, 110101199001011234, None, "西湖区", "E01", "否"])
    sheet.append(["C011", "一九零四公司", None, 13812345678, None, "西湖区", "E01", "否"])
    calls = book.create_sheet("来电")
    calls.append(list(CALLS))
    calls.append(["T1", dt.datetime(2026, 11, 27, 9, 0), "C011", "1904年制的日期", "需上门"])
    calls.append(["T2", "11-27", "C011", "没有年份", "需上门"])
    calls.append(["T3", "46353", "C011", "序列号当文本", "需上门"])
    book.save(folder / "杂.xlsx")
    inbox = load_folder(folder, TODAY)
    customers = inbox.tables["customers"].set_index("customer_id")
    assert customers.loc["C011", "phone"] == "13812345678"
    # Its phone lost digits: an error at that cell, the phone left blank, the customer kept.
    assert customers.loc["1001", "phone"] is None
    lost = [p for p in inbox.problems if p.code is Code.TYPE and p.severity is Severity.ERROR]
    assert len(lost) == 1 and (lost[0].row, lost[0].column) == (2, "D") and "15位" in lost[0].message
    calls_table = inbox.tables["calls"].set_index("ticket_id")
    assert calls_table.loc["T1", "call_time"] == dt.datetime(2026, 11, 27, 9, 0)
    assert calls_table.loc["T2", "call_time"] == dt.datetime(2026, 11, 27)
    assert calls_table.loc["T3", "call_time"] == dt.datetime(2026, 11, 27)


# 14. Fuzz: random cells in every template column never crash the run, every rejected row is reported

_CELL = st.one_of(
    st.none(), st.booleans(), st.integers(-10**6, 10**17), st.floats(allow_nan=True, allow_infinity=True),
    st.dates(dt.date(1900, 3, 1), dt.date(2100, 1, 1)), st.times(),
    st.text(max_size=30),
    st.sampled_from([*HOSTILE_TEXT, "是", "否", "√", "高", "需上门", "已解决", "11-27", "25:99", "2026年13月1日", "E01", "张伟", "C001"]),
)
FUZZED = [t for t in BY_KEY.values() if t is not SETTINGS_SHEET]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(template=st.sampled_from(FUZZED), rows=st.lists(st.lists(_CELL, min_size=14, max_size=14), min_size=1, max_size=5))
def test_fuzzed_cells_never_crash_and_every_rejected_row_is_reported(tmp_path_factory, template, rows):
    folder = tmp_path_factory.mktemp("fuzz")
    basic_department(folder)
    headers = [c.zh for c in template.columns]
    cleaned = [[v.replace("\x00", "") if isinstance(v, str) else v for v in row[: len(headers)]] for row in rows]
    cleaned = [[re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", v) if isinstance(v, str) else v for v in row]
               for row in cleaned]
    write_workbook(folder / "fuzz.xlsx", {template.zh: (headers, cleaned)})
    result = CliRunner().invoke(main, ["run", str(folder), "--date", "2026-11-27", "--out",
                                       str(tmp_path_factory.mktemp("out"))])
    assert result.exit_code in (0, 1), result.output
    inbox = load_folder(folder, TODAY)
    used = {(r[FILE], r[SHEET], r[ROW]) for frame in inbox.tables.values() for r in frame.to_dict("records")}
    reported = {(p.file, p.sheet, p.row) for p in inbox.problems if p.severity is Severity.ERROR}
    record = next(f for f in inbox.files if f.path == "fuzz.xlsx")
    assert record.rows_read == record.rows_accepted + record.rows_rejected + record.rows_repeated
    for excel_row in range(2, len(cleaned) + 2):
        place = ("fuzz.xlsx", template.zh, excel_row)
        blank = all(v is None or (isinstance(v, str) and not v.strip()) for v in cleaned[excel_row - 2])
        assert blank or place in used or place in reported or record.rows_repeated, place
