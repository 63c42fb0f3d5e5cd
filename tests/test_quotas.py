"""Quota gaps per docs/rules.md § Quota gaps, worked out by hand on November 2026 (21 working days: no holiday, 9 weekend
days), the written 指标缺口_D.xlsx with its colours and charts, and both score workbooks opening in
LibreOffice."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl

from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import load_folder
from kis_batch.problems import Severity
from kis_batch.render.quotas import write_quotas
from kis_batch.render.scores import write_scores
from kis_batch.rules.quotas import quota_gaps
from kis_batch.rules.scoring import score_feedback
from kis_batch.settings import Settings
from tests.builders import CUSTOMER_HEADERS, STAFF_HEADERS, table, write_records, write_workbook
from tests.conftest import ToPdf


def gaps_for(tables: dict, settings: Settings, today: dt.date):
    """Quota gaps as the pipeline computes them: from the day's scores."""
    return quota_gaps(score_feedback(tables, settings, CALENDAR, today), tables, settings, CALENDAR)

CALENDAR = WorkCalendar()
# D = Friday 20 November 2026. Working days: 2–20 November elapsed = 15 of 21; P = Monday 23rd;
# left = 23–27 and 30 = 6. Pace: resolutions 45 × 15 ÷ 21 = 32.14, visits 15 × 15 ÷ 21 = 10.71.
TODAY = dt.date(2026, 11, 20)
ELAPSED = CALENDAR.workdays(dt.date(2026, 11, 1), TODAY)


def test_the_hand_figures_of_november_2026() -> None:
    assert len(CALENDAR.month_workdays(TODAY)) == 21 and len(ELAPSED) == 15
    assert CALENDAR.next_workday(TODAY) == dt.date(2026, 11, 23)


def feedback_rows(staff: str, resolutions: int, visits: int, first: int = 0, **extra: Any) -> list[dict[str, Any]]:
    """Distinct customers per day so no two rows share a key: resolutions then visits, spread over the days."""
    rows = []
    for i in range(resolutions + visits):
        n = first + i
        rows.append({"服务日期": ELAPSED[n % len(ELAPSED)].isoformat(), "服务代表": staff, "客户编号": f"C{n:03d}",
                     "服务类型": "问题处理" if i < resolutions else "客户拜访", "服务方式": "上门", "电话预约": "是",
                     "到达时间": "9:00", "离开时间": "10:00", "处理结果": "已解决", "客户满意度": "满意", **extra})
    return rows


def november_folder(folder: Path) -> Path:
    """Four engineers, one at each status; plus rows that must not count, and people who are not listed."""
    write_workbook(folder / "员工.xlsx", {"员工名单": (STAFF_HEADERS, [
        ("E01", "张伟", "服务工程师", "西湖区", None, None, None, None, "是"),
        ("E02", "王强", "服务工程师", "滨江区", None, None, None, None, "是"),
        ("E03", "赵敏", "实施专员", "西湖区", None, None, None, None, "是"),
        ("E04", "李娜", "服务工程师", "上城区", None, None, None, 3, "是"),
        ("E05", "刘洋", "服务工程师", "拱墅区", None, None, None, None, "是"),
        ("E06", "陈静", "服务工程师", "西湖区", None, None, None, None, "否"),
    ])})
    write_workbook(folder / "客户.xlsx", {"客户档案": (CUSTOMER_HEADERS, [
        (f"C{n:03d}", f"客户{n:03d}", None, None, None, "西湖区", "E01", "否") for n in range(80)
    ])})
    remote = [{**r, "服务方式": "远程", "到达时间": None, "离开时间": None} for r in feedback_rows("李娜", 10, 0, first=40)]
    rows = [
        *feedback_rows("张伟", 45, 15),  # 已达标
        *feedback_rows("王强", 33, 10),  # 正常 once the 客户拜访 marked 已解决 below counts as a visit
        {**feedback_rows("王强", 0, 1, first=43)[0]},
        {**feedback_rows("王强", 1, 0, first=44)[0], "处理结果": "未解决"},
        {**feedback_rows("王强", 1, 0, first=45)[0], "处理结果": "部分解决"},
        {**feedback_rows("王强", 0, 1, first=46)[0], "处理结果": None, "到达时间": None, "离开时间": None},  # not done yet
        {**feedback_rows("王强", 1, 0, first=48)[0], "服务日期": "2026-10-30"},  # last month
        *feedback_rows("李娜", 20, 10),  # 落后: with 10 remote resolutions below, 30 and 10
        *remote,
        *feedback_rows("刘洋", 20, 0),  # 无法达标
        *feedback_rows("赵敏", 5, 0),  # a specialist: no quota
        *feedback_rows("陈静", 5, 0),  # a leaver: still counted, for the days worked
    ]
    write_records(folder / "反馈.xlsx", {"服务反馈单": rows})
    return folder


EXPECTED = {
    # staff: resolutions (done, gap, needed, status), visits (done, gap, needed, status), overall
    "E01": ((45, 0, 0, "已达标"), (15, 0, 0, "已达标"), "已达标"),
    "E02": ((33, 12, 2, "正常"), (11, 4, 1, "正常"), "正常"),  # 33 ≥ 32.14, 11 ≥ 10.71
    "E04": ((30, 15, 3, "落后"), (10, 5, 1, "落后"), "落后"),  # 3 a day fits the cap of 3; 30 < 32.14
    "E05": ((20, 25, 5, "无法达标"), (0, 15, 3, "落后"), "无法达标"),  # 25 in 6 days = 5 a day > 3
    # A leaver: quotas pro rata to the 5 working days up to the last service (45 × 5/21 → 11, 15 × 5/21 → 4).
    "E06": ((5, 6, None, "无法达标"), (0, 4, None, "无法达标"), "无法达标"),
}


def figures(row: dict[str, Any], metric: str) -> tuple[Any, ...]:
    return tuple(row[f"{metric}_{key}"] for key in ("done", "gap", "needed", "status"))


def load(folder: Path, today: dt.date = TODAY) -> tuple[dict[str, Any], Settings]:
    inbox = load_folder(folder, today)
    assert [p.message for p in inbox.problems if p.severity is Severity.ERROR] == []
    return inbox.tables, inbox.settings


def test_four_engineers_one_at_each_status(tmp_path: Path) -> None:
    tables, settings = load(november_folder(tmp_path / "in"))
    gaps = gaps_for(tables, settings, TODAY)
    assert list(gaps["staff_id"]) == list(EXPECTED)
    for row in gaps.to_dict("records"):
        resolutions, visits, overall = EXPECTED[row["staff_id"]]
        assert figures(row, "resolutions") == resolutions, row["staff_id"]
        assert figures(row, "visits") == visits, row["staff_id"]
        assert row["status"] == overall
        if row["staff_id"] == "E06":
            assert row["name"] == "陈静（离职）"
            assert (row["elapsed_workdays"], row["workdays_left"], row["resolutions_quota"]) == (5, 0, 11)
            continue
        assert (row["month_workdays"], row["elapsed_workdays"], row["workdays_left"], row["daily_cap"]) == (21, 15, 6, 3)
        assert (row["resolutions_quota"], row["resolutions_pace"]) == (45, 32.1)
        assert (row["visits_quota"], row["visits_pace"]) == (15, 10.7)


def staff(**extra: Any) -> Any:
    return table("staff", [{"staff_id": "E01", "name": "张伟", "role": "服务工程师", **extra}])


def solved(day: dt.date, n: int, **extra: Any) -> list[dict[str, Any]]:
    return [{"service_date": day, "staff": "E01", "customer_id": f"C{i:03d}", "result": "已解决", **extra}
            for i in range(n)]


def test_no_working_day_left_means_out_of_reach() -> None:
    last = dt.date(2026, 11, 30)  # Monday, the month's last working day: P is 1 December
    tables = {"staff": staff(), "feedback": table("feedback", solved(last, 44) + solved(last, 15, service_type="客户拜访"))}
    row = gaps_for(tables, Settings(), last).iloc[0]
    assert (row["workdays_left"], row["resolutions_gap"], row["resolutions_needed"]) == (0, 1, None)
    assert (row["resolutions_status"], row["visits_status"], row["status"]) == ("无法达标", "已达标", "无法达标")


def test_the_engineers_own_cap_and_the_settings_quotas_decide() -> None:
    # 22 November is a Sunday: elapsed 15, left 6 as on the 20th. Quota 40: gap 10, 2 a day; pace 28.57.
    tables = {"staff": staff(daily_cap=1), "feedback": table("feedback", solved(TODAY, 30))}
    settings = Settings(monthly_resolutions=40, monthly_visits=0)
    sunday = dt.date(2026, 11, 22)
    row = gaps_for(tables, settings, sunday).iloc[0]
    assert (row["resolutions_needed"], row["resolutions_status"], row["visits_status"]) == (2, "无法达标", "已达标")
    row = gaps_for({**tables, "staff": staff()}, settings, sunday).iloc[0]
    assert (row["resolutions_needed"], row["resolutions_status"]) == (2, "正常")


def test_a_visit_the_callback_disproved_counts_for_nothing() -> None:
    visits = solved(TODAY, 11, service_type="客户拜访")
    callbacks = table("callbacks", [{"date": TODAY, "customer_id": "C000", "kind": "当日核实", "verified": "否"}])
    tables = {"staff": staff(), "feedback": table("feedback", visits), "callbacks": callbacks}
    row = gaps_for(tables, Settings(), TODAY).iloc[0]
    assert (row["visits_done"], row["visits_status"]) == (10, "落后")


def write_outputs(folder: Path, out: Path) -> list[Path]:
    tables, settings = load(folder)
    written: list[Path] = []
    write_quotas(out, TODAY, gaps_for(tables, settings, TODAY), written)
    write_scores(out, TODAY, score_feedback(tables, settings, CALENDAR, TODAY), tables, written)
    return written


def test_quota_workbook_has_the_table_colours_and_charts(tmp_path: Path) -> None:
    written = write_outputs(november_folder(tmp_path / "in"), tmp_path / "out")
    assert written[0].name == "指标缺口_2026-11-20.xlsx"
    book = openpyxl.load_workbook(written[0])
    sheet = book["指标缺口"]
    assert "本月 21 个工作日，已过 15 个，下一工作日起剩余 6 个" in sheet["A1"].value
    headers = {c.value: c.column for c in sheet[2] if c.value}
    for header in ("工号", "姓名", "每日上限", "剩余工作日", "已解决家次", "解决指标", "解决缺口", "按进度应解决", "每日需解决",
                   "解决状态", "已拜访家次", "拜访指标", "拜访缺口", "每日需拜访", "拜访状态", "总体状态"):
        assert header in headers
    got = {sheet.cell(r, headers["姓名"]).value: (sheet.cell(r, headers["已解决家次"]).value,
                                                 sheet.cell(r, headers["已拜访家次"]).value,
                                                 sheet.cell(r, headers["总体状态"]).value) for r in range(3, 7)}
    assert got == {"张伟": (45, 15, "已达标"), "王强": (33, 11, "正常"), "李娜": (30, 10, "落后"), "刘洋": (20, 0, "无法达标")}
    rules = [rule for ranges in sheet.conditional_formatting for rule in ranges.rules]
    assert any('"无法达标"' in rule.formula[0] for rule in rules)
    with zipfile.ZipFile(written[0]) as archive:
        charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
        assert charts == ["xl/charts/chart1.xml", "xl/charts/chart2.xml"]
        xml = archive.read(charts[0]).decode()
        assert "<c:barChart>" in xml and '<c:barDir val="col"/>' in xml and "指标缺口" in xml


def test_both_workbooks_open_in_libreoffice(tmp_path: Path, to_pdf: ToPdf) -> None:
    written = write_outputs(november_folder(tmp_path / "in"), tmp_path / "out")
    for pdf in to_pdf(*written):
        assert pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")
