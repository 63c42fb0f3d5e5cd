"""The manager's daily report: its figures by hand on a small folder, and one printable page with
three native charts on the example month."""

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl

from kis_batch import pipeline
from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import load_folder
from kis_batch.rules.summary import daily_calls, returned_feedback
from tests.builders import basic_department, write_workbook
from tests.conftest import pdf_pages

THURSDAY, FRIDAY = dt.date(2026, 11, 26), dt.date(2026, 11, 27)
CALLS = ("工单号", "来电时间", "客户编号", "问题类别", "问题描述", "处理方式")
FEEDBACK = ("工单号", "服务日期", "服务代表", "客户编号", "处理结果")


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    basic_department(folder)
    write_workbook(folder / "calls.xlsx", {"热线记录": (CALLS, [
        ("T1", "2026-11-26 09:00", "C001", "软件故障", "过账报错", "需上门"),
        ("T2", "2026-11-26 10:00", "C002", "数据问题", "报表不平", "需上门"),
        ("T3", "2026-11-26 11:00", "C003", "操作咨询", "怎么结账", "电话已解决"),
        ("T4", "2026-11-27 09:30", "C001", "投诉", "上次没修好", "需上门"),
    ])})
    write_workbook(folder / "反馈.xlsx", {"反馈": (FEEDBACK, [
        ("T1", "2026-11-27", "E01", "C001", "已解决"),
        ("T2", "2026-11-27", "E02", "C002", None),  # dispatched, not filled in yet
    ])})
    return folder


def test_feedback_returned_against_the_dispatch_for_today(tmp_path):
    inbox = load_folder(_folder(tmp_path), FRIDAY)
    calendar = WorkCalendar.from_settings(inbox.settings)
    assert returned_feedback(inbox.tables, inbox.settings, calendar, FRIDAY) == (2, 1)
    assert returned_feedback(inbox.tables, inbox.settings, calendar, dt.date(2026, 11, 28)) == (0, 0)  # Saturday: nothing planned


def test_daily_calls_count_each_working_day_up_to_today(tmp_path):
    inbox = load_folder(_folder(tmp_path), FRIDAY)
    calls = daily_calls(inbox.tables, WorkCalendar(), FRIDAY)
    assert len(calls) == 20  # November 2026 up to the 27th
    by_day = calls.set_index("date")
    assert (by_day.loc[THURSDAY, "calls"], by_day.loc[THURSDAY, "complaints"]) == (3, 0)
    assert (by_day.loc[FRIDAY, "calls"], by_day.loc[FRIDAY, "complaints"]) == (1, 1)
    assert by_day["calls"].sum() == 4


def test_headline_figures_on_a_small_folder(tmp_path):
    result = pipeline.run(_folder(tmp_path), FRIDAY, tmp_path / "out")
    sheet = openpyxl.load_workbook(result.out_dir / "经理日报_2026-11-27.xlsx")["日报"]
    lines = {row[0]: (row[1], row[2]) for row in sheet.iter_rows(min_row=4, max_col=3, values_only=True) if row[0]}
    assert lines["今日反馈回收"][0] == "1/2"
    assert lines["本月投诉"][0] == "1 起"
    assert lines["明日派工"][0] == f"{result.figures.dispatch.assigned} 单"
    # The small feedback sheet lacks four columns the rules use (电话预约, 到达/离开时间, 客户满意度): one 警告 each.
    assert lines["校验"][0] == "错误 0，警告 4"


def test_example_report_is_one_page_with_three_charts(example_run, to_pdf):
    report = example_run.out_dir / "经理日报_2026-11-27.xlsx"
    names = zipfile.ZipFile(report).namelist()
    assert sorted(n for n in names if n.startswith("xl/charts/chart")) == [f"xl/charts/chart{i}.xml" for i in (1, 2, 3)]
    book = openpyxl.load_workbook(report)
    assert book.sheetnames == ["日报", "数据"] and book["数据"].sheet_state == "hidden"
    people = [row[0] for row in book["日报"].iter_rows(min_row=4, min_col=5, max_col=5, values_only=True) if row[0]]
    assert len(people) == 9  # six engineers and three specialists of the example department
    [pdf] = to_pdf(report)
    assert len(pdf_pages(pdf)) == 1


def test_the_problem_count_includes_the_calendar_fallback_warning(tmp_path):
    new_year_eve = dt.date(2026, 12, 31)
    result = pipeline.run(_folder(tmp_path), new_year_eve, tmp_path / "out")
    assert result.plan_date == dt.date(2027, 1, 4)  # no 2027 arrangement: 元旦 from the holidays package, then a weekend
    sheet = openpyxl.load_workbook(result.out_dir / "经理日报_2026-12-31.xlsx")["日报"]
    lines = {row[0]: row[1] for row in sheet.iter_rows(min_row=4, max_col=3, values_only=True) if row[0]}
    assert lines["校验"] == "错误 0，警告 5"  # the four missing feedback columns, and the calendar


def test_every_output_of_the_example_month_opens_in_libreoffice(example_run, to_pdf):
    workbooks = [p for p in example_run.outputs if p.suffix == ".xlsx"]
    assert len(workbooks) >= 10
    for workbook, pdf in zip(workbooks, to_pdf(*workbooks), strict=True):
        assert pdf.read_bytes().startswith(b"%PDF"), workbook.name
