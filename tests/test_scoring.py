"""Scores per the rubric of docs/rules.md § Scores, worked out by hand: four anchor cases, on time, complaints,
disproved visits, the month's scope, settings, and 评分_D.xlsx written from real workbooks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import load_folder
from kis_batch.problems import Severity
from kis_batch.render.scores import write_scores
from kis_batch.rules.scoring import CHOICE_PARTS, Scores, score_feedback
from kis_batch.schema import FEEDBACK
from kis_batch.settings import Settings
from tests.builders import basic_department, table, write_records

TODAY = dt.date(2026, 11, 20)  # a Friday
CALENDAR = WorkCalendar()
STAFF = [
    {"staff_id": "E01", "name": "张伟", "role": "服务工程师"},
    {"staff_id": "E02", "name": "王强", "role": "服务工程师"},
    {"staff_id": "E03", "name": "赵敏", "role": "实施专员"},
]


def visit(**extra: Any) -> dict[str, Any]:
    """A full-marks visit on D unless told otherwise: solved, very satisfied, phoned, one hour, on time."""
    return {"ticket_id": "T1", "service_date": TODAY, "staff": "E01", "customer_id": "C001", "service_type": "问题处理",
            "mode": "上门", "phoned_ahead": True, "arrive": dt.time(9, 0), "leave": dt.time(10, 0), "result": "已解决",
            "satisfaction": "非常满意", **extra}


def call(ticket_id: str, when: dt.datetime, customer_id: str = "C001", **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "call_time": when, "customer_id": customer_id, "category": "软件故障",
            "problem": "凭证过账报错", "handling": "需上门", **extra}


def score(feedback: list[dict[str, Any]], calls: list[dict[str, Any]] = (), callbacks: list[dict[str, Any]] = (),
          settings: Settings | None = None, today: dt.date = TODAY) -> Scores:
    calls = calls or [call("T1", dt.datetime(2026, 11, 19, 9, 0))]
    tables = {"staff": table("staff", STAFF), "feedback": table("feedback", feedback), "calls": table("calls", calls),
              "callbacks": table("callbacks", callbacks)}
    return score_feedback(tables, settings or Settings(), CALENDAR, today)


def only(scores: Scores) -> dict[str, Any]:
    assert len(scores.rows) == 1
    return scores.rows.iloc[0].to_dict()


PARTS = ("result_points", "satisfaction_points", "phoned_points", "time_points", "on_time_points", "complaint_points")


def parts(row: dict[str, Any]) -> tuple[int, ...]:
    return tuple(row[key] for key in PARTS)


def test_a_full_marks_visit_scores_100() -> None:
    row = only(score([visit()]))
    assert parts(row) == (40, 30, 10, 10, 10, 0)
    assert (row["computed"], row["final"], row["breaches"], row["breach_count"]) == (100, 100, None, 0)
    assert row["minutes"] == 60 and row["due_date"] == TODAY  # called Thursday, due the next working day


def test_a_partial_unannounced_150_minute_visit_scores_42() -> None:
    row = only(score([visit(result="部分解决", satisfaction="一般", phoned_ahead=False, leave=dt.time(11, 30))]))
    # 部分解决 20 + 一般 12 + no call 0 + 150 min 0 + on time 10
    assert parts(row) == (20, 12, 0, 0, 10, 0)
    assert row["computed"] == row["final"] == 42
    assert row["breaches"] == "未电话预约；上门150分钟，超过120分钟" and row["breach_count"] == 2


def test_an_exempt_install_of_three_and_a_half_hours_scores_94() -> None:
    row = only(score([visit(service_type="安装系统", satisfaction="满意", arrive=dt.time(9, 0), leave=dt.time(12, 30))]))
    # 已解决 40 + 满意 24 + call 10 + exempt 10 + on time 10
    assert parts(row) == (40, 24, 10, 10, 10, 0)
    assert row["minutes"] == 210 and row["computed"] == 94 and row["breaches"] is None


def test_a_manager_score_overrides_the_total_and_both_are_shown() -> None:
    row = only(score([visit(service_type="安装系统", satisfaction="满意", leave=dt.time(12, 30), manager_score=88.0)]))
    assert (row["computed"], row["manager_score"], row["final"]) == (94, 88.0, 88.0)


@pytest.mark.parametrize(("called", "served", "on_time"), [
    (dt.datetime(2026, 11, 19, 16, 0), dt.date(2026, 11, 20), True),   # Thursday → Friday
    (dt.datetime(2026, 11, 18, 9, 0), dt.date(2026, 11, 20), False),   # Wednesday → Friday: a day late
    (dt.datetime(2026, 11, 13, 17, 0), dt.date(2026, 11, 16), True),   # Friday → Monday after the weekend
    (dt.datetime(2026, 11, 14, 10, 0), dt.date(2026, 11, 16), True),   # a Saturday call → Monday
    (dt.datetime(2026, 11, 20, 8, 0), dt.date(2026, 11, 20), True),    # the same day
])
def test_on_time_means_by_the_first_working_day_after_the_call(called: dt.datetime, served: dt.date,
                                                                on_time: bool) -> None:
    row = only(score([visit(service_date=served)], [call("T1", called)]))
    assert row["on_time_points"] == (10 if on_time else 0)


def test_a_return_visit_is_on_time_counted_from_the_latest_unfinished_feedback() -> None:
    calls = [call("T1", dt.datetime(2026, 11, 16, 9, 0))]  # Monday
    rows = score([visit(service_date=dt.date(2026, 11, 17), result="部分解决"),  # Tuesday: on time
                  visit(service_date=dt.date(2026, 11, 18), result="未解决"),  # Wednesday: due Wednesday
                  visit(service_date=dt.date(2026, 11, 20))], calls).rows  # Friday: due Thursday, late
    assert list(rows["due_date"]) == [dt.date(2026, 11, 17), dt.date(2026, 11, 18), dt.date(2026, 11, 19)]
    assert list(rows["on_time_points"]) == [10, 10, 0]


def test_a_visit_without_a_ticket_or_a_known_call_is_on_time() -> None:
    rows = score([visit(ticket_id=None, service_type="客户拜访"), visit(ticket_id="OLD-7", customer_id="C002")]).rows
    assert list(rows["on_time_points"]) == [10, 10] and list(rows["due_date"]) == [None, None]


def test_remote_and_phone_services_are_not_bound_by_the_visit_rules() -> None:
    rows = score([visit(mode="远程", phoned_ahead=None, arrive=None, leave=None),
                  visit(mode="电话", ticket_id="T2", customer_id="C002", phoned_ahead=False, arrive=dt.time(9),
                        leave=dt.time(12))]).rows
    assert list(rows["phoned_points"]) == [10, 10] and list(rows["time_points"]) == [10, 10]
    assert list(rows["breach_count"]) == [0, 0] and list(rows["minutes"]) == [None, None]


def test_an_onsite_visit_without_times_or_phone_answer_loses_those_points_as_breaches() -> None:
    row = only(score([visit(phoned_ahead=None, arrive=None, leave=None)]))
    assert (row["phoned_points"], row["time_points"], row["computed"]) == (0, 0, 80)
    assert row["breaches"] == "电话预约未填；上门未填到达/离开时间"
    exempt = only(score([visit(service_type="安装系统", arrive=None, leave=None)]))
    assert exempt["time_points"] == 10 and exempt["breach_count"] == 0


def test_a_blank_satisfaction_scores_as_unsatisfied() -> None:
    assert only(score([visit(satisfaction=None)]))["satisfaction_points"] == 0


def test_a_complaint_call_after_the_visit_takes_20_off_once() -> None:
    calls = [call("T1", dt.datetime(2026, 11, 19, 9, 0)),
             call("T8", dt.datetime(2026, 11, 20, 8, 0), category="投诉"),  # before the 9:00 visit: not about it
             call("T9", dt.datetime(2026, 11, 20, 15, 0), category="投诉")]
    callbacks = [{"date": TODAY, "customer_id": "C001", "kind": "当日核实", "ticket_id": "T1", "complaint": True}]
    row = only(score([visit()], calls, callbacks))
    assert row["complaint"] == "热线投诉 11-20 T9；回访投诉 11-20"
    assert (row["complaint_points"], row["computed"]) == (20, 80)


def test_a_complaint_goes_to_the_customers_latest_service_only() -> None:
    calls = [call("T1", dt.datetime(2026, 11, 16, 9, 0)), call("T2", dt.datetime(2026, 11, 17, 9, 0)),
             call("T9", dt.datetime(2026, 11, 19, 11, 0), customer_id="C001", category="投诉")]
    rows = score([visit(service_date=dt.date(2026, 11, 17)),
                  visit(ticket_id="T2", service_date=dt.date(2026, 11, 18), staff="E02"),
                  visit(ticket_id="T3", service_date=dt.date(2026, 11, 19), customer_id="C002")], calls).rows
    assert list(rows["complaint_points"]) == [0, 20, 0]


def test_a_complaint_about_last_months_visit_does_not_fall_on_this_month() -> None:
    calls = [call("T1", dt.datetime(2026, 10, 29, 9, 0)), call("T2", dt.datetime(2026, 11, 19, 9, 0)),
             call("T9", dt.datetime(2026, 11, 2, 10, 0), category="投诉")]
    rows = score([visit(service_date=dt.date(2026, 10, 30)), visit(ticket_id="T2")], calls).rows
    assert list(rows["ticket_id"]) == ["T2"] and list(rows["complaint_points"]) == [0]


def test_a_callback_saying_the_visit_did_not_happen_makes_it_0_and_a_breach() -> None:
    callbacks = [{"date": TODAY, "customer_id": "C001", "kind": "当日核实", "staff": "E01", "verified": "否"},
                 {"date": TODAY, "customer_id": "C002", "kind": "当日核实", "verified": "是"}]
    rows = score([visit(), visit(ticket_id=None, customer_id="C002", service_type="客户拜访")],
                 callbacks=callbacks).rows
    assert list(rows["computed"]) == [0, 100] and list(rows["disproved"]) == [True, False]
    assert rows.iloc[0]["breaches"] == "上门不属实（回访核实未上门 11-20）"


def test_only_filled_rows_of_the_month_up_to_d_are_scored() -> None:
    rows = score([visit(result=None, arrive=None, leave=None),  # not done yet
                  visit(ticket_id="T2", service_date=dt.date(2026, 11, 23)),  # after D
                  visit(ticket_id="T3", service_date=dt.date(2026, 10, 30)),  # last month
                  visit(ticket_id="T4", service_date=dt.date(2026, 11, 2))]).rows
    assert list(rows["ticket_id"]) == ["T4"]


def test_every_weight_and_limit_comes_from_settings() -> None:
    settings = Settings(score_partial=25, score_neutral=15, score_on_time=5, max_visit_minutes=180,
                        visit_time_exempt_types=("培训",), complaint_deduction=30, phone_ahead_required=False)
    calls = [call("T1", dt.datetime(2026, 11, 19, 9)), call("T9", dt.datetime(2026, 11, 20, 15), category="投诉")]
    row = only(score([visit(result="部分解决", satisfaction="一般", phoned_ahead=False, leave=dt.time(11, 30))],
                     calls, settings=settings))
    assert parts(row) == (25, 15, 10, 10, 5, 30) and row["computed"] == 35 and row["breach_count"] == 0
    long_install = only(score([visit(service_type="安装系统", leave=dt.time(13, 0))], settings=settings))
    assert long_install["time_points"] == 0  # 240 min: 安装系统 is no longer exempt


@pytest.mark.parametrize("name", CHOICE_PARTS)
def test_each_choice_scores_the_setting_of_its_own_name(name: str) -> None:
    part = CHOICE_PARTS[name]
    assert set(part.settings) == set(FEEDBACK.fields[part.column].choices)  # every word the form offers
    named = {f.name: f.metadata["zh"] for f in dataclasses.fields(Settings)}
    assert {word: named[key] for word, key in part.settings.items()} == {w: f"评分_{w}" for w in part.settings}
    # Distinct points per word, so a word paired with another's setting would show.
    settings = Settings(**{key: 50 + i for i, key in enumerate(part.settings.values())})
    for word, key in part.settings.items():
        assert only(score([visit(**{part.column: word})], settings=settings))[name] == getattr(settings, key), word
    assert only(score([visit(**{part.column: None})], settings=settings))[name] == getattr(
        settings, part.settings[part.blank])


def test_month_to_date_per_engineer() -> None:
    scores = score([visit(service_date=dt.date(2026, 11, 19)),  # 100
                    visit(ticket_id="T2", customer_id="C002", phoned_ahead=False, satisfaction="满意"),  # 84, breach
                    visit(ticket_id="T3", customer_id="C003", manager_score=70.0),  # 70 over 100
                    visit(ticket_id="T4", staff="E03", service_type="实施", customer_id="C003")])
    summary = scores.by_engineer.set_index("staff")
    assert list(summary.index) == ["E01", "E02", "E03"]  # 王强 has no feedback yet but is on duty
    assert summary.loc["E01"].to_dict() == {"count": 3, "average": 84.7, "breaches": 1, "complaints": 0}
    assert summary.loc["E02", "count"] == 0 and summary.loc["E02", "average"] is None
    assert len(scores.today_rows) == 3


# ---- real workbooks in, 评分_D.xlsx out ---------------------------------------------------------------

def input_folder(folder: Path) -> Path:
    """The basic department with a call log, three feedback forms and a callback, as staff would type them."""
    basic_department(folder)
    write_records(folder / "热线.xlsx", {"热线记录": [
        {"工单号": "T1", "来电时间": "2026-11-19 09:00", "客户编号": "C001", "问题类别": "软件故障", "问题描述": "过账报错",
         "处理方式": "需上门"},
        {"工单号": "T2", "来电时间": "2026-11-19 10:00", "客户编号": "C002", "问题类别": "数据问题", "问题描述": "账套损坏",
         "处理方式": "需上门"},
        {"工单号": "T3", "来电时间": "2026-11-19 11:00", "客户编号": "C003", "问题类别": "安装", "问题描述": "重装系统",
         "处理方式": "需上门"},
        {"工单号": "T9", "来电时间": "2026-11-20 16:00", "客户编号": "C002", "问题类别": "投诉", "问题描述": "工程师态度差"},
    ]})
    write_records(folder / "反馈.xlsx", {"服务反馈单": [
        {"工单号": "T1", "服务日期": "2026-11-20", "服务代表": "张伟", "客户编号": "C001", "服务类型": "问题处理",
         "服务方式": "上门", "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00", "处理结果": "已解决", "客户满意度": 5},
        {"工单号": "T2", "服务日期": "2026-11-20", "服务代表": "王强", "客户编号": "C002", "服务类型": "问题处理",
         "服务方式": "上门", "电话预约": "否", "到达时间": "13:00", "离开时间": "15:30", "处理结果": "部分解决",
         "客户满意度": "一般"},
        {"工单号": "T3", "服务日期": "2026-11-20", "服务代表": "E01", "客户编号": "C003", "服务类型": "安装系统",
         "服务方式": "上门", "电话预约": "是", "到达时间": "13:30", "离开时间": "17:00", "处理结果": "已解决",
         "客户满意度": "满意", "经理评分": 88},
        {"工单号": None, "服务日期": "2026-11-19", "服务代表": "张伟", "客户编号": "C003", "服务类型": "客户拜访",
         "服务方式": "上门", "电话预约": "是", "到达时间": "15:00", "离开时间": "15:40", "处理结果": "已解决",
         "客户满意度": "满意"},
    ]})
    return folder


def header_cells(sheet: Any, row: int = 2) -> dict[str, int]:
    return {c.value: c.column for c in sheet[row] if c.value}


def test_scores_workbook_from_real_inputs(tmp_path: Path) -> None:
    inbox = load_folder(input_folder(tmp_path / "in"), TODAY)
    assert [p.message for p in inbox.problems if p.severity is Severity.ERROR] == []
    scores = score_feedback(inbox.tables, inbox.settings, WorkCalendar.from_settings(inbox.settings), TODAY)
    finals = dict(zip(scores.rows["ticket_id"].fillna("拜访"), scores.rows["final"], strict=True))
    # T2: 20 + 12 + 0 + 0 + 10 − 20 for the complaint the same afternoon = 22
    assert finals == {"拜访": 94, "T1": 100, "T2": 22, "T3": 88}

    written: list[Path] = []
    write_scores(tmp_path / "out", TODAY, scores, inbox.tables, written)
    assert [p.name for p in written] == ["评分_2026-11-20.xlsx"]
    book = openpyxl.load_workbook(written[0])
    assert book.sheetnames == ["当日评分", "本月汇总"]

    day = book["当日评分"]
    columns = header_cells(day)
    for header in ("工单号", "服务日期", "服务代表", "客户编号", "客户名称", "结果分", "满意度分", "预约分", "时长分", "及时分",
                   "投诉扣分", "计算得分", "经理评分", "最终得分", "违规"):
        assert header in columns
    got = {day.cell(r, columns["工单号"]).value: (day.cell(r, columns["服务代表"]).value,
                                                 day.cell(r, columns["客户名称"]).value,
                                                 day.cell(r, columns["计算得分"]).value,
                                                 day.cell(r, columns["最终得分"]).value,
                                                 day.cell(r, columns["违规"]).value) for r in range(3, 6)}
    assert got == {"T1": ("张伟", "甲公司", 100, 100, None),
                   "T2": ("王强", "乙公司", 22, 22, "未电话预约；上门150分钟，超过120分钟"),
                   "T3": ("张伟", "丙公司", 94, 88, None)}
    assert day.cell(3, columns["服务日期"]).value == dt.datetime(2026, 11, 20)
    assert day.conditional_formatting  # breaches, complaints and overrides coloured

    summary = book["本月汇总"]
    columns = header_cells(summary)
    rows = {summary.cell(r, columns["服务代表"]).value: (summary.cell(r, columns["反馈数"]).value,
                                                    summary.cell(r, columns["平均得分"]).value,
                                                    summary.cell(r, columns["违规次数"]).value)
            for r in range(3, summary.max_row + 1)}
    assert rows == {"张伟": (3, 94, 0), "王强": (1, 22, 2), "赵敏": (0, None, 0)}
    assert [day.cell(r, 1).value for r in range(3, 6)] == ["T1", "T3", "T2"]  # by engineer, then customer

    with zipfile.ZipFile(written[0]) as archive:
        assert not any("<f>" in archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets"))


def test_an_empty_day_still_writes_its_sheets(tmp_path: Path) -> None:
    basic_department(tmp_path / "in")
    inbox = load_folder(tmp_path / "in", TODAY)
    scores = score_feedback(inbox.tables, inbox.settings, CALENDAR, TODAY)
    written: list[Path] = []
    write_scores(tmp_path / "out", TODAY, scores, inbox.tables, written)
    book = openpyxl.load_workbook(written[0])
    assert "没有交回" in book["当日评分"]["A1"].value
    assert book["当日评分"]["A3"].value is None
