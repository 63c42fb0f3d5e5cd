"""Reading a messy evening folder: title rows, every date form, √/×, text phones, lock files,
a corrupt file, unknown customers, times out of order; and the same data in every file format."""

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import xlwt
from click.testing import CliRunner

from kis_batch.cli import main
from kis_batch.ingest import load_folder
from kis_batch.problems import Code, Severity
from tests.builders import basic_department, write_workbook

TODAY = dt.date(2026, 11, 27)
CALL_HEADERS = ("工单号", "来电时间", "客户编号", "问题类别", "问题描述", "严重性", "紧急性", "处理方式")
FEEDBACK_HEADERS = ("工单号", "服务日期", "服务代表", "客户编号", "服务类型", "电话预约", "到达时间", "离开时间",
                    "处理结果", "客户满意度")


def messy_folder(folder: Path) -> Path:
    basic_department(folder)
    write_workbook(folder / "热线记录.xlsx", {
        "Sheet1": (CALL_HEADERS, [
            ("T1", "2026年11月27日 09:05", "C001", "软件故障", "凭证过账报错", "高", "紧急", "需上门"),
            ("T2", "２０２６/１１/２６", "C002", "操作咨询", "报表取数", "低", None, "电话已解决"),
            ("T3", dt.datetime(2026, 11, 26, 10, 0), "C404", "软件故障", "无法登录", "中", "一般", "需上门"),
        ]),
    }, titles={"Sheet1": "热线来电登记表 2026年11月"})
    write_workbook(folder / "反馈 张伟.xlsx", {
        "反馈": (FEEDBACK_HEADERS, [
            ("T9", "2026.11.26", "张伟", "C001", "问题处理", "√", "9:00", "10:30", "已解决", 5),
            (None, "2026-11-26", "E01", "C003", "客户拜访", "×", "14:00", "13:00", "已解决", "满意"),
        ]),
    })
    (folder / "~$热线记录.xlsx").write_bytes(b"\x00lock")
    (folder / "损坏.xlsx").write_bytes(b"PK\x03\x04 this is not really a workbook")
    return folder


@pytest.fixture
def inbox(tmp_path):
    return load_folder(messy_folder(tmp_path / "in"), TODAY)


def test_valid_rows_are_accepted_with_their_types(inbox):
    calls = inbox.tables["calls"].set_index("ticket_id")
    assert list(calls.index) == ["T1", "T2"]
    assert calls.loc["T1", "call_time"] == dt.datetime(2026, 11, 27, 9, 5)
    assert calls.loc["T2", "call_time"] == dt.datetime(2026, 11, 26)
    assert calls.loc["T2", "urgency"] == "一般"  # default
    customers = inbox.tables["customers"].set_index("customer_id")
    assert customers.loc["C001", "phone"] == "057188001234"
    assert customers.loc["C001", "key_customer"] is True
    assert customers.loc["C003", "key_customer"] is False  # default 否
    assert customers.loc["C002", "owner"] == "E02"
    assert customers.loc["C001", "owner"] == "E01"  # 姓名 resolved to 工号
    feedback = inbox.tables["feedback"]
    assert len(feedback) == 1
    row = feedback.iloc[0]
    assert (row["service_date"], row["staff"], row["phoned_ahead"], row["satisfaction"]) == (
        dt.date(2026, 11, 26), "E01", True, "非常满意")
    assert (row["arrive"], row["leave"]) == (dt.time(9, 0), dt.time(10, 30))


def test_problems_name_file_sheet_row_and_column(inbox):
    by_code = {}
    for p in inbox.problems:
        by_code.setdefault(p.code, []).append(p)
    unknown = [p for p in by_code[Code.UNKNOWN_REFERENCE] if p.severity is Severity.ERROR]
    assert [(p.file, p.sheet, p.row, p.column, p.header, p.value) for p in unknown] == [
        ("热线记录.xlsx", "Sheet1", 5, "C", "客户编号", "C404")]
    order = by_code[Code.CONSTRAINT][0]
    assert (order.file, order.row, order.column, order.header, order.severity) == (
        "反馈 张伟.xlsx", 3, "H", "离开时间", Severity.ERROR)
    corrupt = by_code[Code.UNREADABLE]
    assert [(p.file, p.severity) for p in corrupt] == [("损坏.xlsx", Severity.ERROR)]
    assert not any("~$" in p.file for p in inbox.problems)
    ticket_warning = [p for p in by_code[Code.UNKNOWN_REFERENCE] if p.severity is Severity.WARNING]
    assert [(p.value, p.row) for p in ticket_warning] == [("T9", 2)]


def test_manifest_counts_rows_per_file(inbox):
    files = {f.path: f for f in inbox.files}
    assert "~$热线记录.xlsx" not in files
    assert (files["热线记录.xlsx"].rows_read, files["热线记录.xlsx"].rows_accepted,
            files["热线记录.xlsx"].rows_rejected) == (3, 2, 1)
    assert files["损坏.xlsx"].status == "skipped"


def test_check_exits_1_and_prints_the_problems(tmp_path):
    folder = messy_folder(tmp_path / "in")
    result = CliRunner().invoke(main, ["check", str(folder), "--date", "2026-11-27"])
    assert result.exit_code == 1
    assert "损坏.xlsx" in result.output and "C404" in result.output and "~$" not in result.output


def test_inputs_are_never_modified(tmp_path):
    folder = messy_folder(tmp_path / "in")
    before = {p: p.read_bytes() for p in folder.iterdir()}
    CliRunner().invoke(main, ["run", str(folder), "--date", "2026-11-27", "--out", str(tmp_path / "out")])
    assert {p: p.read_bytes() for p in folder.iterdir()} == before


def test_same_rows_twice_count_once_and_a_changed_copy_is_a_conflict(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    calls = {"来电": (CALL_HEADERS, [("T1", "2026-11-26 9:00", "C001", "其他", "a", "中", "一般", "需上门")])}
    write_workbook(folder / "a.xlsx", calls)
    write_workbook(folder / "a - 副本.xlsx", calls)
    inbox = load_folder(folder, TODAY)
    assert len(inbox.tables["calls"]) == 1
    assert not inbox.problems
    write_workbook(folder / "b.xlsx", {"来电": (CALL_HEADERS, [
        ("T1", "2026-11-26 9:00", "C001", "其他", "changed", "中", "一般", "需上门")])})
    inbox = load_folder(folder, TODAY)
    assert inbox.tables["calls"].empty
    conflicts = [p for p in inbox.problems if p.code is Code.CONFLICT]
    assert len(conflicts) == 3 and all(p.severity is Severity.ERROR for p in conflicts)


def test_blank_ticket_ids_are_generated_stably(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    rows = [(None, "2026-11-26 9:00", "C001", "其他", "a", None, None, "需上门"),
            (None, "2026-11-26 9:00", "C001", "其他", "b", None, None, "需上门")]
    write_workbook(folder / "a.xlsx", {"来电": (CALL_HEADERS, rows)})
    first = list(load_folder(folder, TODAY).tables["calls"]["ticket_id"])
    assert first == ["T202611260900-C001-1", "T202611260900-C001-2"]
    assert list(load_folder(folder, TODAY).tables["calls"]["ticket_id"]) == first


def test_missing_required_column_is_named(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(folder / "a.xlsx", {"来电": (("工单号", "来电时间", "客户编号", "严重性"), [("T1", "2026-11-26", "C001", "高")])})
    problems = [p for p in load_folder(folder, TODAY).problems if p.code is Code.MISSING_COLUMN]
    assert len(problems) == 1 and "问题描述" in problems[0].message and problems[0].sheet == "来电"


def test_settings_sheet_overrides_rules(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(folder / "规则.xlsx", {"规则设置": (("参数", "值", "说明"), [
        ("每日派工上限", 4, ""), ("回访覆盖率", "35%", ""), ("节假日", "2027-01-01, 2027-02-10", ""),
        ("节假日", dt.date(2027, 2, 11), ""), ("当日核实时间", "16:30", ""), ("不存在的参数", 1, ""),
    ])})
    inbox = load_folder(folder, TODAY)
    settings = inbox.settings
    assert settings.daily_cap == 4 and settings.callback_coverage == pytest.approx(0.35)
    assert settings.holidays == (dt.date(2027, 1, 1), dt.date(2027, 2, 10), dt.date(2027, 2, 11))
    assert settings.verification_call_time == dt.time(16, 30)
    assert [p.code for p in inbox.problems] == [Code.SETTING]


# --- the same tables from every file format, written by real writers ---------------------------

FORMAT_ROWS = [
    ("T1", dt.datetime(2026, 11, 26, 9, 5), "C001", "软件故障", "凭证过账报错", "高", "紧急", "需上门"),
    ("T2", dt.datetime(2026, 11, 26, 14, 30), "C002", "操作咨询", "0571开头的问题", "低", "不急", "远程处理"),
]


def _frame(rows):
    return pd.DataFrame(rows, columns=list(CALL_HEADERS))


def _write_openpyxl(path):
    write_workbook(path, {"热线记录": (CALL_HEADERS, FORMAT_ROWS)})


def _write_xlsxwriter(path):
    _frame(FORMAT_ROWS).to_excel(path, sheet_name="热线记录", index=False, engine="xlsxwriter")


def _write_ods(path):
    _frame(FORMAT_ROWS).to_excel(path, sheet_name="热线记录", index=False, engine="odf")


def _write_xls(path):
    book = xlwt.Workbook()
    sheet = book.add_sheet("热线记录")
    style = xlwt.easyxf(num_format_str="yyyy-mm-dd hh:mm")
    for col, header in enumerate(CALL_HEADERS):
        sheet.write(0, col, header)
    for r, row in enumerate(FORMAT_ROWS, 1):
        for col, value in enumerate(row):
            sheet.write(r, col, value, style if isinstance(value, dt.datetime) else xlwt.Style.default_style)
    book.save(str(path))


@pytest.mark.parametrize(("suffix", "writer"), [
    (".xlsx", _write_openpyxl), (".xlsx", _write_xlsxwriter), (".ods", _write_ods), (".xls", _write_xls),
])
def test_same_tables_from_every_format(tmp_path, suffix, writer):
    folder = tmp_path / "in"
    basic_department(folder)
    writer(folder / f"calls{suffix}")
    inbox = load_folder(folder, TODAY)
    assert not inbox.problems
    calls = inbox.tables["calls"].drop(columns=["_file", "_sheet", "_row"])
    expected = [dict(zip(("ticket_id", "call_time", "customer_id", "category", "problem", "severity", "urgency",
                          "handling"), row, strict=True)) for row in FORMAT_ROWS]
    got = calls[list(expected[0])].to_dict("records")
    assert [{k: (v.to_pydatetime() if hasattr(v, "to_pydatetime") else v) for k, v in r.items()} for r in got] == expected


def test_xlsm_is_read_as_values(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    _write_openpyxl(tmp_path / "calls.xlsx")
    shutil.copy(tmp_path / "calls.xlsx", folder / "calls.xlsm")
    assert len(load_folder(folder, TODAY).tables["calls"]) == 2


def test_hidden_sheet_data_is_read_with_a_warning(tmp_path):
    folder = tmp_path / "in"
    basic_department(folder)
    path = folder / "calls.xlsx"
    _write_openpyxl(path)
    book = openpyxl.load_workbook(path)
    book.create_sheet("可见")
    book["热线记录"].sheet_state = "hidden"
    book.save(path)
    inbox = load_folder(folder, TODAY)
    assert len(inbox.tables["calls"]) == 2
    assert [p.code for p in inbox.problems] == [Code.HIDDEN]


def test_two_processes_read_the_same_tables_and_problems_as_one(tmp_path, monkeypatch):
    import kis_batch.ingest.early as ingest

    folder = messy_folder(tmp_path / "in")
    serial = load_folder(folder, TODAY)
    monkeypatch.setattr(ingest, "PARALLEL_FROM_BYTES", 0)
    parallel = load_folder(folder, TODAY)
    assert parallel.problems == serial.problems
    assert [f.path for f in parallel.files] == [f.path for f in serial.files]
    for key, frame in serial.tables.items():
        assert parallel.tables[key].equals(frame), key


def test_a_sheet_typed_column_by_column_keeps_each_cell_its_own_type_and_ragged_rows() -> None:
    """Readers give grids whose rows differ in length, and cells Python counts equal (True == 1 ==
    1.0) that a sheet does not: each cell must still be typed on its own, at its own row."""
    from kis_batch.inbox import Collector
    from kis_batch.ingest.reading import SheetData, coerce_sheet
    from kis_batch.ingest.recognise import Recognised, recognise

    grid: list[list[object]] = [
        ["客户档案"],
        ["客户编号", "客户名称", "区域", "服务代表", "联系电话"],
        ["C1", "甲公司", "西湖区", "E01", True],
        ["C2", "乙公司", "西湖区", "E01", 1],
        [],
        ["C3", "丙公司", "西湖区", "E01", 1.0, "表外的备注"],
        ["C4", "丁公司"],
    ]
    found = recognise(grid)
    assert isinstance(found, Recognised)
    out = Collector(layouts={("f.xlsx", "Sheet1"): found})
    typed = coerce_sheet(SheetData("f.xlsx", "Sheet1", found, grid), TODAY, out)
    assert [(r["customer_id"], r["phone"], r["_row"], r["_ok"]) for r in typed.rows()] == [
        ("C1", "是", 3, True), ("C2", "1", 4, True), ("C3", "1", 6, True), ("C4", None, 7, False)]
    # The phones typed as numbers are said (their leading 0 may be gone); C4 lacks its required cells.
    assert sorted((p.row, p.column, p.severity) for p in out.problems) == [
        (4, "E", Severity.WARNING), (6, "E", Severity.WARNING), (7, "C", Severity.ERROR), (7, "D", Severity.ERROR)]


@pytest.mark.parametrize(
    ("out_root", "skipped"),
    [
        ("in/output", True),  # run . with the default ./output
        ("in/output/2026-11-27", True),
        ("in/outputs", False),  # a sibling whose name starts the same
        ("in", False),  # the inbox itself: the inbox is never skipped
        ("out", False),  # beside the inbox
    ],
)
def test_the_output_root_inside_the_inbox_is_not_read(tmp_path, out_root, skipped):
    inbox = tmp_path / "in"
    basic_department(inbox)
    write_workbook(inbox / "output" / "2026-11-27" / "热线记录.xlsx", {"热线记录": (CALL_HEADERS, [
        ("T1", "2026-11-27 09:05", "C001", "软件故障", "凭证过账报错", "高", "紧急", "需上门"),
    ])})
    loaded = load_folder(inbox, TODAY, out_root=tmp_path / out_root)
    assert len(loaded.tables["calls"]) == (0 if skipped else 1)
    listed = [f.path for f in loaded.files]
    assert "基础.xlsx" in listed and ("output/2026-11-27/热线记录.xlsx" in listed) is not skipped


def test_a_customer_time_and_row_number_read_from_many_workbooks_is_one_object_wherever_it_recurs(tmp_path,
                                                                                                   monkeypatch):
    """Each workbook is typed on its own, in one of two processes; the folder's tables then hold one
    object per customer id, time of day and row number, so a forked worker reading them touches few
    memory pages (docs/rules.md § Decisions, large folders). The values are what the sheets say."""
    import kis_batch.ingest.early as ingest

    folder = tmp_path / "in"
    basic_department(folder)
    for day in (26, 27):
        write_workbook(folder / f"热线记录_11{day}.xlsx", {"热线记录": (
            ("工单号", "来电时间", "客户编号", "问题描述", "处理方式"),
            [(f"T{day}-{n}", f"2026-11-{day} 09:0{n}", customer, "凭证过账报错", "需上门")
             for n, customer in enumerate(("C001", "C002", "C001"))])})
        write_workbook(folder / f"服务反馈单_11{day}.xlsx", {"服务反馈单": (
            ("工单号", "服务日期", "服务代表", "客户编号", "到达时间", "离开时间", "处理结果"),
            [(f"T{day}-{n}", f"2026-11-{day}", "张伟", customer, "9:30", "11:00", "已解决")
             for n, customer in enumerate(("C001", "C002", "C001"))])})
    monkeypatch.setattr(ingest, "PARALLEL_FROM_BYTES", 0)  # the workbooks typed in two processes
    tables = load_folder(folder, TODAY).tables

    roster = dict(zip(tables["customers"]["customer_id"], tables["customers"]["customer_id"], strict=True))
    for key in ("calls", "feedback"):
        ids = tables[key]["customer_id"].tolist()
        assert ids == ["C001", "C002", "C001"] * 2
        assert all(value is roster[value] for value in ids), key
        rows = tables[key]["_row"].tolist()
        assert rows == [2, 3, 4] * 2
        assert all(value is rows[n % 3] for n, value in enumerate(rows)), key
    feedback = tables["feedback"]
    assert set(feedback["arrive"]) == {dt.time(9, 30)} and set(feedback["leave"]) == {dt.time(11)}
    assert len({id(value) for value in [*feedback["arrive"], *feedback["leave"]]}) == 2
