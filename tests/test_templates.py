"""The blank templates: committed copies are fresh, they read back clean, and any valid table
written into its template reads back equal to itself."""

import datetime as dt
import hashlib
import re
import shutil
import string
from pathlib import Path

import openpyxl
import pandas as pd
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kis_batch.cli import main
from kis_batch.coerce import day_of
from kis_batch.ingest import load_folder
from kis_batch.ingest.checks import DATED
from kis_batch.problems import Code, Severity
from kis_batch.render.saving import atomic_book
from kis_batch.render.style import write_table
from kis_batch.render.templates import template_cols, workbook_groups
from kis_batch.schema import BY_KEY, COMPLAINT_HANDLING, SETTINGS_SHEET, TEMPLATES, Column, Kind, Template
from kis_batch.settings import Settings, default_of, format_setting, setting_fields

COMMITTED = Path(__file__).resolve().parent.parent / "input_templates"


def test_committed_templates_are_fresh(tmp_path):
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 0
    fresh = sorted(tmp_path.glob("*.xlsx"))
    assert [p.name for p in fresh] == sorted(p.name for p in COMMITTED.glob("*.xlsx"))
    stale = [p.name for p in fresh if p.read_bytes() != (COMMITTED / p.name).read_bytes()]
    assert not stale, f"input_templates is stale: delete {stale} there, then run kis-batch init input_templates"


def test_init_on_a_folder_of_filled_workbooks_writes_only_the_missing_templates(tmp_path):
    filled = tmp_path / "客户档案.xlsx"
    shutil.copyfile(COMMITTED / "example" / "客户档案.xlsx", filled)
    before = hashlib.sha256(filled.read_bytes()).hexdigest()
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert hashlib.sha256(filled.read_bytes()).hexdigest() == before
    assert "已存在，未覆盖：客户档案.xlsx" in result.output
    assert "已写出" not in "".join(line for line in result.output.splitlines() if "客户档案" in line)
    others = sorted(p.name for p in COMMITTED.glob("*.xlsx") if p.name != "客户档案.xlsx")
    assert sorted(p.name for p in tmp_path.glob("*.xlsx") if p != filled) == others
    assert all((tmp_path / name).read_bytes() == (COMMITTED / name).read_bytes() for name in others)
    assert all(f"已写出 {tmp_path / name}" in result.output for name in others)
    customers = load_folder(tmp_path, dt.date(2026, 11, 27)).tables["customers"]
    assert len(customers) == 800  # the filled rows, not a blank template

    again = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert again.exit_code == 0 and "已写出" not in again.output
    assert hashlib.sha256(filled.read_bytes()).hexdigest() == before


def test_templates_have_dropdowns_frozen_headers_and_a_guide(tmp_path):
    CliRunner().invoke(main, ["init", str(tmp_path)])
    book = openpyxl.load_workbook(tmp_path / "热线记录.xlsx")
    assert book.sheetnames == ["热线记录", "说明"]
    sheet = book["热线记录"]
    assert [c.value for c in sheet[1]] == [c.zh for c in BY_KEY["calls"].columns]
    assert sheet.freeze_panes == "A2"
    lists = {str(v.sqref).split(":")[0][0]: v.formula1 for v in sheet.data_validations.dataValidation}
    assert lists["G"] == '"高,中,低"' and lists["I"] == '"电话已解决,远程处理,需上门,转总部"'
    guide = book["说明"]
    assert any(row[1].value == "来电时间" and row[3].value == "是" for row in guide.iter_rows())
    staff_book = openpyxl.load_workbook(tmp_path / "员工名单.xlsx")
    assert staff_book.sheetnames == ["员工名单", "请假", "区域距离", "说明"]


def test_settings_template_holds_every_default_and_reads_back_unchanged(tmp_path):
    CliRunner().invoke(main, ["init", str(tmp_path)])
    sheet = openpyxl.load_workbook(tmp_path / "规则设置.xlsx")["规则设置"]
    names = [row[0].value for row in sheet.iter_rows(min_row=2)]
    assert "每日派工上限" in names and "回访覆盖率" in names and len(names) == len(Settings.__dataclass_fields__)
    inbox = load_folder(tmp_path, dt.date(2026, 11, 27))
    assert inbox.settings == Settings()
    assert {p.code for p in inbox.problems} == {Code.MISSING_TABLE}


# --- round trip property ------------------------------------------------------------------------

_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "张伟王强赵敏公司=+-@()#/ ", min_size=1, max_size=12)


def _value(column: Column):
    kind, choices = column.kind, column.choices
    if kind is Kind.TEXT:
        return _TEXT.map(lambda s: " ".join(s.split())).filter(bool)
    if kind is Kind.ID:
        return st.text(alphabet=string.digits + "ABC-", min_size=1, max_size=11)
    if kind is Kind.EMAIL:
        part = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=8)
        return st.tuples(part, part).map(lambda p: f"{p[0]}@{p[1]}.com")
    if kind is Kind.DATE:
        return st.dates(dt.date(2000, 1, 1), dt.date(2040, 12, 31))
    if kind is Kind.TIME:
        return st.times().map(lambda t: t.replace(second=0, microsecond=0))
    if kind is Kind.DATETIME:
        return st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2040, 12, 31)).map(
            lambda d: d.replace(second=0, microsecond=0))
    if kind is Kind.BOOL:
        return st.booleans()
    if kind is Kind.CHOICE:
        return st.sampled_from(choices)
    low = -1e6 if column.minimum is None else column.minimum
    high = 1e6 if column.maximum is None else column.maximum
    if kind is Kind.INT:
        return st.integers(int(low), int(high))
    return st.floats(low, high, allow_nan=False).map(lambda x: round(x, 4))


def _row(template: Template):
    fields = {}
    for c in template.columns:
        value = _value(c)
        # A blank 工单号 in a call log is filled by the tool, so the round trip starts from a filled one.
        optional = not c.required and not (template.key == "calls" and c.key == "ticket_id")
        fields[c.key] = st.one_of(st.none(), value) if optional else value
        if c.tool_written:  # only the tool's own sheets carry it; a blank template has no such column
            fields[c.key] = st.none()
    return st.fixed_dictionaries(fields).filter(lambda r: _valid(template, r))


def _valid(template: Template, r: dict) -> bool:
    if "lat" in r and (r["lat"] is None) != (r["lon"] is None):
        return False
    if template.key == "feedback" and r["arrive"] and r["leave"] and r["leave"] < r["arrive"]:
        return False
    if template.key in ("fees", "leave") and r.get("start") and r["end"] and r["end"] <= r["start"]:
        return False
    if template.key in DATED and day_of(r[DATED[template.key]]) > RUN_DAY:
        return False  # a service, call or callback after the run's day is an error
    if template.key == "projects":
        dates = [r[k] for k in ("start", "live", "accepted_on", "handed_over") if r[k] is not None]
        if r["planned_live"] < r["start"] or dates != sorted(dates) or dates[-1] > RUN_DAY:
            return False  # out of order or after the run's day: an error at the cell
    if template.key == "acceptance" and r["outcome"] is not None and (r["date"] is None or r["date"] > RUN_DAY):
        return False  # a result needs its 验收日期, not after the run's day
    return not (template.key == "fees" and r["amount"] is not None and (r["paid"] or 0) > r["amount"])


# 投诉处理 rows name complaint cases, which only a folder's calls and callbacks file: its round trip
# is in tests/test_complaints.py, against a folder that has them.
ROUND_TRIP = [t for t in BY_KEY.values() if t not in (SETTINGS_SHEET, COMPLAINT_HANDLING)]
RUN_DAY = dt.date(2026, 11, 27)


@st.composite
def typed_table(draw):
    template = draw(st.sampled_from(ROUND_TRIP))
    rows = draw(st.lists(_row(template), min_size=1, max_size=6,
                         unique_by=lambda r: tuple(r[k] for k in template.key_columns)))
    return template, rows


def _with_defaults(template: Template, row: dict) -> dict:
    return {c.key: (c.default if row[c.key] is None else row[c.key]) for c in template.columns}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=typed_table())
def test_any_valid_table_round_trips_through_its_template(tmp_path_factory, table):
    template, rows = table
    folder = tmp_path_factory.mktemp("rt")
    with atomic_book(folder / f"{template.workbook}.xlsx", []) as book:
        write_table(book, template.zh, pd.DataFrame(rows), template_cols(template))
    inbox = load_folder(folder, RUN_DAY)
    assert [p for p in inbox.problems if p.severity is Severity.ERROR and p.code is not Code.MISSING_TABLE] == []
    frame = inbox.tables[template.key]
    got = [{k: (v.to_pydatetime() if isinstance(v, pd.Timestamp) else v) for k, v in r.items()}
           for r in frame.drop(columns=["_file", "_sheet", "_row"]).to_dict("records")]
    assert got == [_with_defaults(template, r) for r in rows]


def test_every_template_group_is_written():
    assert set(workbook_groups()) == {"客户档案", "员工名单", "热线记录", "服务反馈单", "年费台账", "回访记录", "投诉处理", "实施项目",
                                      "规则设置"}


def _as_written(default: object) -> str:
    """A column's default as a help text says it: 是/否, 0 rather than 0.0."""
    if isinstance(default, bool):
        return "是" if default else "否"
    if isinstance(default, float) and default.is_integer():
        return str(int(default))
    return str(default)


def test_a_default_a_help_text_names_is_the_default_in_force():
    """默认X in a column's help is the column's own default or, where a blank is filled from 规则设置,
    that setting's default: a number written twice would drift when the default changes."""
    settings = {f.name: f for f in setting_fields()}
    checked = []
    for template in TEMPLATES:
        for column in template.columns:
            for said in re.findall(r"默认([^，；。（）\s]+)", column.help):
                where = (template.zh, column.zh, said)
                if "规则设置" in column.help:
                    setting = settings[column.key]
                    assert said == format_setting(setting, default_of(setting)), where
                elif column.default is not None:
                    assert said == _as_written(column.default), where
                else:
                    assert not re.search(r"\d", said), where  # words, as 默认客户的服务代表
                checked.append(where)
    assert ("员工名单", "每日上限", str(Settings().daily_cap)) in checked and len(checked) >= 9
