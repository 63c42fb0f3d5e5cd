"""Every setting has a range (docs/rules.md § Settings): a value in 规则设置 that cannot be read or is
out of range is an 错误 at its cell, the default is used and the run completes with every output."""

import dataclasses
import datetime as dt
import json
import shutil
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from kis_batch.cli import main
from kis_batch.coerce import CoerceError
from kis_batch.ingest import load_folder
from kis_batch.problems import Severity
from kis_batch.render.templates import settings_frame
from kis_batch.schema import BY_KEY
from kis_batch.settings import (
    FREE_TEXT,
    MAIL_ADDRESS,
    AsTyped,
    Between,
    OneOf,
    Phrases,
    Settings,
    Share,
    WebAddress,
    allowed_of,
    allowed_text,
    default_of,
    lookup_setting,
    parse_setting,
    setting_fields,
)

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
TODAY = "2026-11-27"
REPORT = f"校验报告_{TODAY}.xlsx"
SETTINGS_BOOK, SETTINGS_SHEET = "规则设置.xlsx", "规则设置"
REFERENCE = dt.date(2026, 11, 27)


@dataclasses.dataclass
class Run:
    exit_code: int
    folder: Path
    out: Path

    @property
    def figures(self) -> dict:
        return json.loads((self.out / "run.json").read_text(encoding="utf-8"))["figures"]

    @property
    def outputs(self) -> set[str]:
        """The workbooks written, their plan date shown as P (a holiday may move it)."""
        plan = self.figures["plan_date"]
        return {p.name.replace(plan, "P") for p in self.out.glob("*.xlsx")}

    def report(self) -> list[dict]:
        sheet = openpyxl.load_workbook(self.out / REPORT, read_only=True)["问题"]
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]

    def sheet_rows(self, plan_book: str) -> list[tuple]:
        book = openpyxl.load_workbook(self.out / plan_book, read_only=True)
        return [(sheet.title, row) for sheet in book for row in sheet.iter_rows(values_only=True)]


def _run(tmp_path: Path, values: dict[str, object]) -> Run:
    """The example month copied, its 规则设置 values set (appended where the 参数 is absent), run by the CLI."""
    folder, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(EXAMPLE, folder)
    path = folder / SETTINGS_BOOK
    book = openpyxl.load_workbook(path)
    sheet = book[SETTINGS_SHEET]
    for name, value in values.items():
        row = next((r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == name), None)
        if row is None:
            row = sheet.max_row + 1
            sheet.cell(row, 1).value = name
        sheet.cell(row, 2).value = value
    book.save(path)
    result = CliRunner().invoke(main, ["run", str(folder), "--date", TODAY, "--out", str(out)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return Run(result.exit_code, folder, out / TODAY)


def _row_of(run: Run, name: str) -> int:
    sheet = openpyxl.load_workbook(run.folder / SETTINGS_BOOK, read_only=True)[SETTINGS_SHEET]
    return next(n for n, row in enumerate(sheet.iter_rows(values_only=True), start=1) if row[0] == name)


def _setting_problems(run: Run) -> list[dict]:
    return [p for p in run.report() if p["文件"] == SETTINGS_BOOK]


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Run:
    run = _run(tmp_path_factory.mktemp("clean"), {})
    assert run.exit_code == 0
    return run


def _assert_one_error_at(run: Run, clean: Run, name: str) -> dict:
    assert run.exit_code == 1
    assert run.outputs == clean.outputs
    [problem] = _setting_problems(run)
    assert (problem["工作表"], problem["行号"], problem["列"], problem["列名"], problem["严重性"]) == (
        SETTINGS_SHEET, _row_of(run, name), "B", "值", "错误")
    return problem


# --- the values that used to end the run with a traceback ---------------------------------------

@pytest.mark.parametrize("value", ["三", "-3", "2.5", 0])
def test_a_bad_daily_cap_is_an_error_at_its_cell_and_dispatch_keeps_the_default(tmp_path, clean, value):
    run = _run(tmp_path, {"每日派工上限": value})
    problem = _assert_one_error_at(run, clean, "每日派工上限")
    assert "1–50 的整数" in problem["说明"] and "默认值 3" in problem["说明"]
    assert run.figures["dispatch"] == clean.figures["dispatch"]


def test_an_impossible_verification_time_keeps_17_00(tmp_path, clean):
    run = _run(tmp_path, {"当日核实时间": "25:00"})
    problem = _assert_one_error_at(run, clean, "当日核实时间")
    assert "默认值 17:00" in problem["说明"]
    assert run.figures["callbacks"] == clean.figures["callbacks"]


def test_negative_visit_minutes_keep_the_two_hour_limit(tmp_path, clean):
    run = _run(tmp_path, {"上门最长分钟": -120})
    problem = _assert_one_error_at(run, clean, "上门最长分钟")
    assert "默认值 120" in problem["说明"]
    assert run.figures["quality"] == clean.figures["quality"]


def test_a_word_among_the_holidays_is_an_error_and_the_calendar_is_unchanged(tmp_path, clean):
    run = _run(tmp_path, {"节假日": "春节"})
    problem = _assert_one_error_at(run, clean, "节假日")
    assert "“春节”不是日期" in problem["说明"]
    assert run.figures["plan_date"] == clean.figures["plan_date"]
    assert run.figures["dispatch"] == clean.figures["dispatch"]


def test_one_bad_date_in_a_list_is_named_and_the_good_dates_are_kept(tmp_path, clean):
    run = _run(tmp_path, {"节假日": "2026-11-30，春节"})
    problem = _assert_one_error_at(run, clean, "节假日")
    assert "“春节”不是日期" in problem["说明"] and "2026-11-30 照常使用" in problem["说明"]
    assert clean.figures["plan_date"] == "2026-11-30"
    assert run.figures["plan_date"] == "2026-12-01"  # the good date in the same cell still counts


# --- rates -------------------------------------------------------------------------------------

def test_a_bare_30_coverage_is_read_as_30_percent_with_a_warning(tmp_path, clean):
    run = _run(tmp_path, {"回访覆盖率": 30})
    assert run.exit_code == 0
    [problem] = _setting_problems(run)
    assert (problem["行号"], problem["列"], problem["严重性"]) == (_row_of(run, "回访覆盖率"), "B", "警告")
    assert "30%" in problem["说明"]
    assert run.figures["callbacks"] == clean.figures["callbacks"]
    book = f"回访_{clean.figures['plan_date']}.xlsx"
    assert run.sheet_rows(book) == clean.sheet_rows(book)


def test_a_rate_typed_as_percent_and_as_a_bare_number_list_the_same_calls(tmp_path, clean):
    with_sign = _run(tmp_path / "sign", {"回访覆盖率": "40％"})
    bare = _run(tmp_path / "bare", {"回访覆盖率": "40"})
    assert _setting_problems(with_sign) == []
    book = f"回访_{clean.figures['plan_date']}.xlsx"
    assert bare.sheet_rows(book) == with_sign.sheet_rows(book)
    assert with_sign.figures["callbacks"]["coverage_target"] == 320
    assert with_sign.figures["callbacks"]["listed"]["satisfaction"] > clean.figures["callbacks"]["listed"]["satisfaction"]


# --- parse_setting ------------------------------------------------------------------------------

def _field(name: str) -> dataclasses.Field:
    f = lookup_setting(name)
    assert f is not None
    return f


@pytest.mark.parametrize(("name", "raw", "expected"), [
    ("每日派工上限", 1, 1), ("每日派工上限", "50", 50), ("每日派工上限", "３", 3),
    ("上门最长分钟", 1, 1), ("上门最长分钟", 1440, 1440),
    ("每月问题解决指标", 0, 0), ("每月抽查家数", "0", 0),
    ("评分_已解决", 0, 0), ("评分_已解决", 100, 100),
    ("邮件端口", 1, 1), ("邮件端口", 65535, 65535), ("邮件加密", "STARTTLS", "starttls"),
    ("回访覆盖率", "30%", 0.30), ("回访覆盖率", "30％", 0.30), ("回访覆盖率", 0.3, 0.3),
    ("回访覆盖率", 0, 0.0), ("回访覆盖率", 1, 1.0), ("回访覆盖率", "100%", 1.0),
    ("附件上限MB", 0.5, 0.5), ("当日核实时间", "16:30", dt.time(16, 30)),
    ("超时豁免服务类型", "安装系统，培训", ("安装系统", "培训")),
])
def test_values_in_range_are_read(name, raw, expected):
    read = parse_setting(_field(name), raw, REFERENCE)
    assert read.value == pytest.approx(expected) if isinstance(expected, float) else read.value == expected
    assert read.notes == () and read.left_out == ()


@pytest.mark.parametrize(("name", "raw"), [
    ("每日派工上限", 0), ("每日派工上限", 51), ("每日派工上限", 2.5), ("每日派工上限", "三"),
    ("上门最长分钟", 0), ("上门最长分钟", -120), ("上门最长分钟", 1441),
    ("每月问题解决指标", -1), ("每人每日催收条数", 0), ("续费风险回看天数", 0),
    ("评分_已解决", 101), ("评分_投诉扣分", -5),
    ("邮件端口", 0), ("邮件端口", 65536), ("邮件加密", "plain"),
    ("回访覆盖率", "150%"), ("回访覆盖率", 101), ("回访覆盖率", -0.1), ("回访覆盖率", "百分之三十"),
    ("附件上限MB", 0), ("输入文件上限MB", -1), ("单表单元格上限", 0),
    ("当日核实时间", "25:00"), ("重点客户优先", "也许"), ("节假日", "春节"), ("超时豁免服务类型", "装系统"),
])
def test_values_out_of_range_or_unreadable_are_refused(name, raw):
    with pytest.raises(CoerceError):
        parse_setting(_field(name), raw, REFERENCE)


@pytest.mark.parametrize(("raw", "rate"), [(30, 0.30), ("30", 0.30), (100, 1.0), (1.5, 0.015)])
def test_a_bare_rate_above_1_is_a_percentage_with_a_note(raw, rate):
    read = parse_setting(_field("回访覆盖率"), raw, REFERENCE)
    assert read.value == pytest.approx(rate)
    assert len(read.notes) == 1 and "%" in read.notes[0]


def test_a_list_keeps_its_good_items_and_names_the_bad_ones():
    read = parse_setting(_field("节假日"), "2027-01-01, 春节, 2027-02-10", REFERENCE)
    assert read.value == (dt.date(2027, 1, 1), dt.date(2027, 2, 10))
    assert len(read.left_out) == 1 and "春节" in read.left_out[0]


# --- a webhook is a secret -------------------------------------------------------------------------

WECOM_KEY, DINGTALK_TOKEN = "wecom-key-0123456789abcdef", "ding-token-0123456789abcdef"


def test_a_webhook_is_checked_and_never_written_out_whole(tmp_path, clean):
    """A robot's webhook must be https:// (plain http only to this computer); the run report, run.json
    and mail.json show it with its key masked, and the signing secret not at all."""
    run = _run(tmp_path, {"企业微信机器人": f"https://qyapi.example/cgi-bin/webhook/send?key={WECOM_KEY}",
                          "钉钉机器人": f"http://oapi.example/robot/send?access_token={DINGTALK_TOKEN}",
                          "钉钉加签": "SECsigning-secret-value"})
    problem = _assert_one_error_at(run, clean, "钉钉机器人")
    assert "不是 https:// 开头的网址" in problem["说明"] and problem["值"] == "http://oapi.example/robot/send?access_token=ding***"
    written = "".join((run.out / name).read_text(encoding="utf-8") for name in ("run.json", "mail.json"))
    assert "https://qyapi.example/cgi-bin/webhook/send?key=weco***" in written
    for secret in (WECOM_KEY, DINGTALK_TOKEN, "signing-secret"):
        assert secret not in written
    assert parse_setting(_field("钉钉机器人"), "http://127.0.0.1:8080/robot/send?access_token=x", REFERENCE).value
    for refused in ("qyapi.example/send?key=x", "ftp://qyapi.example/x", "http://localhost.example/x", "https:// x"):
        with pytest.raises(CoerceError):
            parse_setting(_field("企业微信机器人"), refused, REFERENCE)


# --- the declaration itself ---------------------------------------------------------------------

@pytest.mark.parametrize("f", setting_fields(), ids=lambda f: f.name)
def test_every_setting_declares_a_range_that_holds_its_default(f):
    allowed, default = allowed_of(f), default_of(f)
    assert isinstance(allowed, (Between, Share, OneOf, AsTyped, Phrases, WebAddress))
    if isinstance(default, (int, float)) and not isinstance(default, bool):
        assert isinstance(allowed, (Between, Share)), "a number needs a range"
        assert allowed.admits(default)
    if isinstance(allowed, AsTyped) and isinstance(default, str):
        assert allowed in (FREE_TEXT, MAIL_ADDRESS), "text that is not free needs its choices or its reader"
    written = settings_frame().set_index("name").loc[f.metadata["zh"], "value"]
    if written:  # what init writes reads back as the default, inside its range
        assert parse_setting(f, written, REFERENCE).value == default


def test_the_settings_template_states_each_range_from_the_declaration():
    frame = settings_frame().set_index("name")
    for f in setting_fields():
        assert frame.loc[f.metadata["zh"], "help"].endswith("可填：" + allowed_text(f))


@given(st.integers(-10, 200))
def test_a_cap_is_accepted_exactly_when_it_lies_within_1_to_50(cap):
    try:
        accepted = parse_setting(_field("每日派工上限"), cap, REFERENCE).value == cap
    except CoerceError:
        accepted = False
    assert accepted == (1 <= cap <= 50)


def test_a_personal_daily_cap_follows_the_same_range_as_the_setting():
    column = BY_KEY["staff"].fields["daily_cap"]
    cap = allowed_of(_field("每日派工上限"))
    assert (column.minimum, column.maximum) == (cap.low, cap.high) == (1, 50)
    assert Settings().daily_cap == 3


def test_a_personal_daily_cap_of_0_is_an_error_at_its_cell(tmp_path):
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    book = openpyxl.load_workbook(folder / "员工名单.xlsx")
    sheet = book["员工名单"]
    column = [c.value for c in sheet[1]].index("每日上限") + 1
    sheet.cell(2, column).value = 0
    book.save(folder / "员工名单.xlsx")
    [problem] = load_folder(folder, REFERENCE).problems
    assert (problem.file, problem.sheet, problem.row, problem.column, problem.header, problem.severity) == (
        "员工名单.xlsx", "员工名单", 2, openpyxl.utils.get_column_letter(column), "每日上限", Severity.ERROR)
