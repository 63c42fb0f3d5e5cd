"""月度总结 worked out by hand on a small November 2026 folder of real workbooks: the 培训建议 threshold
(exactly 3 qualifying calls in, 2 out, an October call not counted), the share solved by phone or
remotely, the trend sheet equal to the history's month_figures over two closed months; and the example
month's workbook with rows on every sheet."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch import history
from kis_batch.close import report_month
from kis_batch.ingest import load_folder
from kis_batch.outputs import HISTORY
from kis_batch.rules.monthly_summary import TREND_FIGURES, month_calls, training_candidates
from tests.builders import write_records
from tests.test_evaluation import november

NOVEMBER, OCTOBER = dt.date(2026, 11, 1), dt.date(2026, 10, 1)
DAY = dt.date(2026, 11, 20)
EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"
SHEETS = ["概览", "来电", "服务", "指标", "满意度", "投诉", "投诉按人", "回访覆盖", "年费", "实施", "久未联系",
          "培训建议", "质量上报", "考核", "趋势"]


def _call(when: str, customer: str, category: str, handling: str = "电话已解决") -> dict[str, Any]:
    return {"来电时间": when, "客户编号": customer, "问题类别": category, "问题描述": f"{category} {when}",
            "处理方式": handling}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """November's folder with calls: C001 three qualifying calls (2 操作咨询, 1 数据问题); C002 two and a
    软件故障; C003 two in November and one in October. Handling: 6 电话已解决, 1 远程处理, 1 转总部 in November."""
    folder = november(tmp_path_factory.mktemp("summary") / "in")
    write_records(folder / "热线.xlsx", {"热线记录": [
        _call("2026-11-03 09:00", "C001", "操作咨询"),
        _call("2026-11-05 10:00", "C001", "数据问题", "远程处理"),
        _call("2026-11-09 11:00", "C001", "操作咨询"),
        _call("2026-11-03 14:00", "C002", "操作咨询"),
        _call("2026-11-04 15:00", "C002", "数据问题"),
        _call("2026-11-05 16:00", "C002", "软件故障", "转总部"),
        _call("2026-10-30 09:30", "C003", "操作咨询"),
        _call("2026-11-04 09:30", "C003", "操作咨询"),
        _call("2026-11-05 09:30", "C003", "操作咨询"),
    ]})
    return folder


def _rows(sheet: Any) -> list[dict[str, Any]]:
    """A result sheet's rows under its title and header (row 2), keyed by header."""
    headers = [c.value for c in sheet[2]]
    return [dict(zip(headers, (c.value for c in row), strict=False)) for row in sheet.iter_rows(min_row=3)
            if row[0].value is not None]


@pytest.fixture(scope="module")
def closed(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """October closed first, then November: a history of two months."""
    out = tmp_path_factory.mktemp("summary_out")
    report_month(folder, OCTOBER, DAY, out)
    report_month(folder, NOVEMBER, DAY, out)
    return out


def test_training_takes_three_qualifying_calls_of_the_month(closed):
    book = openpyxl.load_workbook(closed / "2026-11" / "月度总结_2026-11.xlsx")
    rows = _rows(book["培训建议"])
    assert [(r["客户编号"], r["操作咨询来电"], r["数据问题来电"], r["合计"], r["建议"]) for r in rows] == [
        ("C001", 2, 1, 3, "深层应用培训")]


def test_the_training_threshold_is_the_setting(folder):
    inbox = load_folder(folder, DAY)
    fewer = inbox.settings.replace(training_calls=2)
    found = training_candidates(inbox.tables, fewer, month_calls(inbox.tables, DAY))
    assert list(found["customer_id"]) == ["C001", "C002", "C003"] and list(found["calls"]) == [3, 2, 2]


def test_calls_by_handling_and_the_share_solved_without_a_visit(closed):
    book = openpyxl.load_workbook(closed / "2026-11" / "月度总结_2026-11.xlsx")
    overview = {r["项目"]: r for r in _rows(book["概览"])}
    assert overview["来电"]["本月"] == "8 个" and "电话或远程解决 87.5%" in overview["来电"]["说明"]
    assert overview["培训建议"]["本月"] == "1 家"
    calls = book["来电"]
    by_label = {row[0].value: row[1].value for row in calls.iter_rows(min_row=3) if row[0].value}
    assert by_label["操作咨询"] == 5 and by_label["数据问题"] == 2 and by_label["软件故障"] == 1
    assert by_label["电话已解决"] == 6 and by_label["远程处理"] == 1 and by_label["转总部"] == 1
    assert calls._charts, "category and handling charts"


def test_the_trend_sheet_is_the_history_month_by_month(closed):
    figures = history.read_table(closed / HISTORY, "month_figures")
    assert sorted(set(figures["month"])) == ["2026-10", "2026-11"]
    book = openpyxl.load_workbook(closed / "2026-11" / "月度总结_2026-11.xlsx")
    sheet = book["趋势"]
    rows = _rows(sheet)
    assert [r["月份"] for r in rows] == ["2026-10", "2026-11"]
    headers = {"calls": "来电", "services": "服务", "quality.csat": "满意率", "quota.visits": "拜访家次",
               "training.customers": "培训建议", "evaluation.mean_total": "考核平均分"}
    for row in rows:
        recorded = figures[figures["month"] == row["月份"]].set_index("figure")["value"]
        for figure, header in headers.items():
            assert row[header] == pytest.approx(recorded.get(figure)), (row["月份"], figure)
    assert rows[1]["来电"] == 8 and rows[0]["来电"] == 1  # the October call
    assert {figure for figure, _ in TREND_FIGURES} <= set(figures["figure"]) | {"services.mean_score", "quality.csat",
                                                                                 "quality.coverage"}
    assert sheet._charts


def test_the_example_month_fills_every_sheet(tmp_path):
    result = report_month(EXAMPLE, NOVEMBER, dt.date(2026, 11, 27), tmp_path)
    path = tmp_path / "2026-11" / "月度总结_2026-11.xlsx"
    assert path in result.outputs
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == SHEETS
    for name in SHEETS:
        assert _rows(book[name]), f"{name} has no rows"
    report = [r for r in _rows(book["质量上报"]) if r["立案日期"] is not None]  # the legend line has none
    assert all(r["处理效果"] for r in report)
    assert all(r["处理效果"].startswith("已结案") for r in report if r["状态"] == "已结案")
    assert any(r["处理效果"] == "已结案，客户认可" for r in report)
