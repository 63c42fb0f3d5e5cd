"""Rows a run does not count are never dropped without a word, and a service that happened counts
whatever its 处理结果 says (docs/rules.md § Inputs, § Scores, § Quota gaps).

Each test copies the example month into tmp_path, adds rows to its workbooks with openpyxl, runs the
real pipeline (or the command) for 2026-11-27 and reads the written workbooks back. Figures that must
not move are compared with a run of the unedited copy, never with hard-coded totals.
"""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from click.testing import CliRunner

from kis_batch import pipeline
from kis_batch.cli import main
from kis_batch.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
TODAY = dt.date(2026, 11, 27)
DAY = TODAY.isoformat()
ENGINEER = "郭伟"
FEEDBACK_FILE = f"服务反馈单_{ENGINEER}_{DAY}.xlsx"
CALLS_FILE = f"热线记录_{DAY}.xlsx"
CALLBACKS_FILE = "回访记录.xlsx"


def copy_example(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE, folder)
    return folder


def append_rows(path: Path, rows: list[dict[str, Any]]) -> list[int]:
    """Add rows (by header) below the first sheet's data; the Excel row numbers they landed on."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    header_row = next(r for r in range(1, 6) if sheet.cell(r, 2).value is not None)
    columns = {sheet.cell(header_row, c).value: c for c in range(1, sheet.max_column + 1)}
    placed = []
    for row in rows:
        at = sheet.max_row + 1
        for header, value in row.items():
            sheet.cell(at, columns[header], value)
        placed.append(at)
    book.save(path)
    return placed


def sheet_records(path: Path, sheet: str, header_row: int = 2) -> list[dict[str, Any]]:
    rows = list(openpyxl.load_workbook(path, read_only=True)[sheet].iter_rows(min_row=header_row, values_only=True))
    return [dict(zip(rows[0], values, strict=True)) for values in rows[1:] if any(v is not None for v in values)]


def problems(out: Path) -> list[tuple[Any, ...]]:
    """The validation report's rows: (severity, code, file, sheet, row, column, header)."""
    return [(r["严重性"], r["代码"], r["文件"], r["工作表"], r["行号"], r["列"], r["列名"])
            for r in sheet_records(out / DAY / f"校验报告_{DAY}.xlsx", "问题")]


def messages(out: Path) -> list[str]:
    return [r["说明"] for r in sheet_records(out / DAY / f"校验报告_{DAY}.xlsx", "问题")]


def quota_counts(out: Path) -> dict[str, tuple[int, int]]:
    """Per engineer in 指标缺口: (已解决家次, 已拜访家次)."""
    return {r["姓名"]: (r["已解决家次"], r["已拜访家次"])
            for r in sheet_records(out / DAY / f"指标缺口_{DAY}.xlsx", "指标缺口")}


def missing_feedback(out: Path) -> list[tuple[Any, ...]]:
    return [(r["服务日期"].date(), r["服务代表"], r["客户编号"])
            for r in sheet_records(out / DAY / f"质量_{DAY}.xlsx", "违规") if r["违规类型"] == "反馈缺失"]


def feedback(day: dt.date, customer: str, **extra: Any) -> dict[str, Any]:
    """A filled 问题处理 of the engineer: on site, phoned, one hour, solved, satisfied."""
    return {"服务日期": dt.datetime.combine(day, dt.time()), "服务代表": ENGINEER, "客户编号": customer,
            "服务类型": "问题处理", "服务方式": "上门", "电话预约": "是", "到达时间": dt.time(9, 0),
            "离开时间": dt.time(10, 0), "处理结果": "已解决", "客户满意度": "满意", "客户签字": "是", **extra}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The unedited example month: its figures, and customers no feedback, call or callback names."""
    tmp = tmp_path_factory.mktemp("base")
    result = pipeline.run(copy_example(tmp), TODAY, tmp / "out")
    assert result.errors == 0 and problems(tmp / "out") == []
    tables = result.inbox.tables
    named = {*tables["feedback"]["customer_id"], *tables["calls"]["customer_id"], *tables["callbacks"]["customer_id"]}
    unserved = [c for c in tables["customers"]["customer_id"] if c not in named]
    return {"quotas": quota_counts(tmp / "out"), "missing": missing_feedback(tmp / "out"), "unserved": unserved}


def test_rows_dated_after_d_are_errors_at_their_date_cell(tmp_path: Path, base: dict[str, Any]) -> None:
    folder, out = copy_example(tmp_path), tmp_path / "out"
    customer = base["unserved"][0]
    late, far, plan = append_rows(folder / FEEDBACK_FILE, [
        feedback(dt.date(2026, 11, 30), customer),
        feedback(dt.date(2062, 11, 20), customer),
        # A returned dispatch row of a later day, nothing filled in yet: a plan, not a typo.
        {"工单号": "T20261127-002", "服务日期": dt.datetime(2026, 11, 30), "服务代表": ENGINEER,
         "客户编号": customer, "服务类型": "问题处理"},
    ])
    (call,) = append_rows(folder / CALLS_FILE, [{
        "工单号": "T20261128-001", "来电时间": dt.datetime(2026, 11, 28, 9, 5), "客户编号": customer,
        "问题描述": "凭证过账报错", "处理方式": "需上门"}])
    (callback,) = append_rows(folder / CALLBACKS_FILE, [{
        "回访日期": dt.datetime(2026, 11, 28), "客户编号": customer, "回访类型": "满意度回访", "接通": "是",
        "客户满意度": "满意"}])

    ran = CliRunner().invoke(main, ["run", str(folder), "--date", DAY, "--out", str(out)])

    assert ran.exit_code == 1, ran.output
    found = problems(out)
    assert sorted(found) == sorted([
        ("错误", "future-date", CALLBACKS_FILE, "回访记录", callback, "A", "回访日期"),
        ("错误", "future-date", CALLS_FILE, "热线记录", call, "B", "来电时间"),
        ("错误", "future-date", FEEDBACK_FILE, "服务反馈单", late, "B", "服务日期"),
        ("错误", "future-date", FEEDBACK_FILE, "服务反馈单", far, "B", "服务日期"),
    ])
    assert plan not in {p[4] for p in found if p[2] == FEEDBACK_FILE}
    said = dict(zip(found, messages(out), strict=True))
    assert all(DAY in text and "笔误" in text for text in said.values())
    assert "2062-11-20" in said[("错误", "future-date", FEEDBACK_FILE, "服务反馈单", far, "B", "服务日期")]
    # Rejected rows count nowhere: the month's figures are those of the unedited folder.
    assert quota_counts(out) == base["quotas"]


def test_a_row_of_another_month_in_a_file_of_d_is_a_warning_and_counts_nowhere_this_month(
        tmp_path: Path, base: dict[str, Any]) -> None:
    folder, out = copy_example(tmp_path), tmp_path / "out"
    customer = base["unserved"][0]
    (october,) = append_rows(folder / FEEDBACK_FILE, [feedback(dt.date(2026, 10, 15), customer)])
    # Last month's own file in the accumulating folder is normal: no message.
    last_month = folder / f"服务反馈单_{ENGINEER}_2026-10-30.xlsx"
    shutil.copy(folder / FEEDBACK_FILE, last_month)
    book = openpyxl.load_workbook(last_month)
    sheet = book.worksheets[0]
    sheet.delete_rows(3, sheet.max_row)
    book.save(last_month)
    append_rows(last_month, [feedback(dt.date(2026, 10, 30), customer)])

    result = pipeline.run(folder, TODAY, out)

    assert result.errors == 0
    assert problems(out) == [("警告", "other-month", FEEDBACK_FILE, "服务反馈单", october, "B", "服务日期")]
    assert "2026年10月" in messages(out)[0] and "2026年11月" in messages(out)[0]
    assert quota_counts(out) == base["quotas"]
    # Kept, not dropped: both rows are in the table, counted in their own month.
    kept = result.inbox.tables["feedback"]
    assert sorted(kept[kept["customer_id"] == customer]["service_date"]) == [dt.date(2026, 10, 15),
                                                                            dt.date(2026, 10, 30)]


def test_a_service_that_happened_counts_whatever_its_result(tmp_path: Path, base: dict[str, Any]) -> None:
    folder, out = copy_example(tmp_path), tmp_path / "out"
    visited, attended, waiting = base["unserved"][:3]
    _, no_result, _ = append_rows(folder / FEEDBACK_FILE, [
        feedback(TODAY, visited, 服务类型="客户拜访", 处理结果=None),  # times and a signature, no result
        feedback(TODAY, attended, 处理结果=None),
        feedback(TODAY, waiting, 到达时间=None, 离开时间=None, 处理结果=None, 客户满意度=None, 客户签字=None),
    ])

    result = pipeline.run(folder, TODAY, out)

    assert result.errors == 0
    assert problems(out) == [("警告", "constraint", FEEDBACK_FILE, "服务反馈单", no_result, "J", "处理结果")]
    resolutions, visits = base["quotas"][ENGINEER]
    assert quota_counts(out) == {**base["quotas"], ENGINEER: (resolutions, visits + 1)}
    assert sorted(missing_feedback(out)) == sorted([*base["missing"], (TODAY, ENGINEER, waiting)])
    scored = {r["客户编号"]: r for r in sheet_records(out / DAY / f"评分_{DAY}.xlsx", "当日评分")}
    assert waiting not in scored
    # Scored like any service, its result part as 未解决 (0 of the rubric's 40); every other part in full.
    rubric = Settings()
    others = rubric.score_satisfied + rubric.score_phoned_ahead + rubric.score_within_time + rubric.score_on_time
    assert (scored[visited]["处理结果"], scored[visited]["结果分"], scored[visited]["计算得分"]) == (None, 0, others)
    assert (scored[attended]["结果分"], scored[attended]["计算得分"]) == (0, others)
