"""One figure, one value (docs/rules.md § Outputs): the example month's evening run and the month's close
standing on the same day, every workbook written by the real writers and read back with python-calamine,
show each figure they share with the same value: per-person complaints, callback coverage, spot checks
per engineer, fee rates with their as-of, quota counts and 久未联系 counts."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
from python_calamine import CalamineWorkbook

from kis_batch import history, pipeline
from kis_batch.close import report_month
from kis_batch.outputs import HISTORY
from kis_batch.rules.display import percent_text
from kis_batch.rules.figures import Figure
from tests.conftest import EXAMPLE, EXAMPLE_TODAY

D = EXAMPLE_TODAY
AS_OF = "（截至11-27）"
ENGINEERS = ("余欣怡", "范一鸣", "郭伟", "汪洋", "苏一鸣", "何雪梅")


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """OUT after the evening run of D and the close of D's month as of D."""
    root = tmp_path_factory.mktemp("one_figure")
    pipeline.run(EXAMPLE, D, root)
    report_month(EXAMPLE, dt.date(2026, 11, 1), D, root)
    return root


def sheet(path: Path, name: str) -> list[list[Any]]:
    return CalamineWorkbook.from_path(str(path)).get_sheet_by_name(name).to_python()


def table(rows: list[list[Any]], first_header: str, left: int = 0) -> list[dict[str, Any]]:
    """The block whose header row starts with first_header at column left, as dicts, up to a blank row."""
    top = next(n for n, row in enumerate(rows) if len(row) > left and row[left] == first_header)
    header = [h for h in rows[top][left:] if h != ""]
    found = []
    for row in rows[top + 1:]:
        cells = row[left:left + len(header)]
        if all(c == "" for c in cells):
            break
        found.append(dict(zip(header, cells, strict=True)))
    return found


def lines(rows: list[list[Any]], item_header: str) -> dict[str, dict[str, Any]]:
    return {r[item_header]: r for r in table(rows, item_header)}


@pytest.fixture(scope="module")
def books(out: Path) -> dict[str, Path]:
    day, month = out / D.isoformat(), out / "2026-11"
    return {"manager": day / "经理日报_2026-11-27.xlsx", "quality": day / "质量_2026-11-27.xlsx",
            "callbacks": day / "回访_2026-11-30.xlsx", "fees": day / "年费_2026-11-27.xlsx",
            "quotas": day / "指标缺口_2026-11-27.xlsx", "customers": day / "客户跟踪_2026-11-27.xlsx",
            "scores": day / "评分_2026-11-27.xlsx", "complaints": day / "投诉跟踪_2026-11-27.xlsx",
            "summary": month / "月度总结_2026-11.xlsx", "run": day / "run.json"}


def test_complaints_per_person_are_the_same_on_every_page(books: dict[str, Path]) -> None:
    manager = {r["姓名"]: r["投诉"] for r in table(sheet(books["manager"], "日报"), "姓名", left=4)}
    quality = {r["服务代表"]: r["合计"] for r in table(sheet(books["quality"], "投诉统计"), "工号") if r["工号"]}
    by_person = table(sheet(books["summary"], "投诉按人"), "工号")
    summary = {r["被投诉人"]: r["本月立案"] for r in by_person if r["工号"]}
    assert manager["余欣怡"] == 4 and sum(manager.values()) == 26  # was 0 for everyone
    assert manager == {name: quality.get(name, 0) for name in manager}
    assert {name: n for name, n in summary.items()} == {name: n for name, n in quality.items() if n}


def test_callback_coverage_is_one_value_with_its_day(books: dict[str, Path]) -> None:
    figures = json.loads(books["run"].read_text())["figures"]["quality"]
    shown = percent_text(figures["coverage"])
    assert figures["coverage"] == 0.3325 and shown == "33.3%"  # Python's own format would say 33.2%
    manager = lines(sheet(books["manager"], "日报"), "项目")["回访覆盖"]
    quality = lines(sheet(books["quality"], "概览"), "指标")["回访覆盖率"]
    summary = lines(sheet(books["summary"], "概览"), "项目")["回访覆盖"]
    assert f"{shown}{AS_OF}" in manager["说明"] and summary["本月"] == f"{shown}{AS_OF}"
    assert percent_text(quality["比率"]) == shown
    assert f"= {shown}，" in sheet(books["quality"], "回访覆盖")[0][0]


def test_spot_checks_per_engineer_are_counted_once(books: dict[str, Path]) -> None:
    title = sheet(books["callbacks"], "月度抽查")[0][0]  # P is in D's month: the same month counted
    callbacks = {name: int(done) for name, done in re.findall(r"(\S+?)(\d+)/10", title.split("：", 1)[1])}
    quality = {r["服务代表"]: r["月度抽查"] for r in table(sheet(books["quality"], "回访覆盖"), "工号") if r["工号"]}
    assert set(callbacks) == set(ENGINEERS)
    assert callbacks == {name: quality[name] for name in callbacks}
    manager = lines(sheet(books["manager"], "日报"), "项目")["月度抽查"]["今日数字"]
    assert manager == f"{sum(min(n, 10) for n in callbacks.values())}/{10 * len(ENGINEERS)}"


def test_fee_rates_read_the_same_with_their_as_of(books: dict[str, Path]) -> None:
    fees = json.loads(books["run"].read_text())["figures"]["fees"]
    month, year = percent_text(fees["collection_rate_month"]), percent_text(fees["collection_rate_year"])
    manager = lines(sheet(books["manager"], "日报"), "项目")["年费收款率"]
    summary = lines(sheet(books["summary"], "概览"), "项目")["年费收款率"]
    assert manager["今日数字"] == summary["本月"] == f"{month}{AS_OF}"
    assert manager["说明"] == summary["说明"] == f"本年 {year}{AS_OF}"
    total = next(r for r in table(sheet(books["fees"], "收款率"), "负责人") if r["负责人"] == "合计")
    assert (percent_text(total["本月收款率"]), percent_text(total["本年收款率"])) == (month, year)


def test_quota_counts_are_the_quota_table_s(books: dict[str, Path]) -> None:
    gaps = table(sheet(books["quotas"], "指标缺口"), "工号")
    resolutions = sum(r["已解决家次"] for r in gaps if r["工号"])
    visits = sum(r["已拜访家次"] for r in gaps if r["工号"])
    manager = lines(sheet(books["manager"], "日报"), "项目")
    summary = lines(sheet(books["summary"], "概览"), "项目")
    assert manager["本月问题解决"]["今日数字"] == summary["问题解决"]["本月"] == f"{resolutions:.0f} 家次"
    assert manager["本月客户拜访"]["今日数字"] == summary["客户拜访"]["本月"] == f"{visits:.0f} 家次"
    people = {r["姓名"]: (r["本月解决"], r["本月拜访"]) for r in table(sheet(books["manager"], "日报"), "姓名", left=4)}
    assert {r["姓名"]: (r["已解决家次"], r["已拜访家次"]) for r in gaps if r["工号"]} == {
        name: people[name] for name in ENGINEERS}


def test_not_contacted_counts_are_the_tracking_sheets(books: dict[str, Path]) -> None:
    counted = {}
    for name in ("重点客户", "大客户", "集团客户", "异地客户"):
        title = sheet(books["customers"], name)[0][0]
        counted[name] = int(re.search(r"久未联系 (\d+) 家", title).group(1))
    manager = lines(sheet(books["manager"], "日报"), "项目")["客户久未联系"]
    summary = lines(sheet(books["summary"], "概览"), "项目")["客户久未联系"]
    assert manager["今日数字"] == summary["本月"] and manager["说明"] == summary["说明"]
    for name, n in counted.items():
        assert f"{name} {n}" in manager["说明"]
    assert len(table(sheet(books["summary"], "久未联系"), "客户编号")) == int(manager["今日数字"].split()[0])


def _month(name: str, as_of: dt.date, final: bool, calls: int, callbacks: int,
           rows: int | None = None) -> history.MonthRecord:
    figures = {Figure.QUALITY_COMPLAINTS: calls + callbacks, Figure.QUALITY_COMPLAINTS_BY_SOURCE_CALLS: calls,
               Figure.QUALITY_COMPLAINTS_BY_SOURCE_CALLBACKS: callbacks, Figure.QUALITY_COMPLAINTS_BY_SOURCE_BOTH: 0}
    return history.MonthRecord(name, as_of, final, (), figures, rows=rows)


def _complaints_by_month(out_root: Path) -> dict[str, tuple[Any, str]]:
    quality = out_root / D.isoformat() / "质量_2026-11-27.xlsx"
    return {r["月份"]: (r["合计"], r["数据来源"]) for r in table(sheet(quality, "投诉统计"), "月份")}


def test_the_evening_run_takes_earlier_months_complaints_from_the_history(tmp_path: Path) -> None:
    """质量's 投诉按月份 and 今年累计: a closed September and October's latest month to date from the history
    (its close refused: the history saw more of its rows than the folder holds), November from the
    run; January, before the folder's calls and not in the history, 无数据."""
    history.record(tmp_path / HISTORY, None, [_month("2026-09", dt.date(2026, 9, 30), True, 18, 2),
                                              _month("2026-10", dt.date(2026, 10, 29), False, 17, 2, rows=10**6)])
    result = pipeline.run(EXAMPLE, D, tmp_path)
    assert result.closed_months == () and result.errors == 1
    months = _complaints_by_month(tmp_path)
    assert months["9月"] == (20, "历史：已结账") and months["10月"] == (19, "历史：截至10-29")
    assert months["11月"] == (26, f"本次运行{AS_OF}") and months["1月"] == ("", "无数据")
    note = lines(sheet(tmp_path / D.isoformat() / "质量_2026-11-27.xlsx", "概览"), "指标")["本月投诉"]["说明"]
    assert "今年累计 65 起" in note


def test_the_evening_run_stands_on_the_months_it_closes_first(tmp_path: Path) -> None:
    """An October the history holds only to date is closed by the run before the day's tables: 质量
    shows October's close, and the close itself takes September from the history."""
    history.record(tmp_path / HISTORY, None, [_month("2026-09", dt.date(2026, 9, 30), True, 18, 2),
                                              _month("2026-10", dt.date(2026, 10, 29), False, 17, 2)])
    result = pipeline.run(EXAMPLE, D, tmp_path)
    assert result.closed_months == ("2026-10",)
    figures = history.read_table(tmp_path / HISTORY, "month_figures")
    closed = figures[(figures["month"] == "2026-10") & (figures["final"] == 1)]
    values = dict(zip(closed["figure"], closed["value"], strict=True))
    october = int(values[Figure.QUALITY_COMPLAINTS])
    months = _complaints_by_month(tmp_path)
    assert months["9月"] == (20, "历史：已结账") and months["10月"] == (october, "历史：已结账")
    assert int(values[Figure.QUALITY_COMPLAINTS_YEAR]) == 20 + october
    assert months["11月"] == (26, f"本次运行{AS_OF}")
