"""The monthly evaluation worked out by hand on a small November 2026 folder of real workbooks: every
part for five people, the rounding and grade bounds, the rank tie, 月度考核_2026-11.xlsx read back, the
evening run's month to date in the history, and the first working day of December closing November
(workbook, history, mail)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from kis_batch import pipeline
from kis_batch.calendar import WorkCalendar
from kis_batch.cli import main
from kis_batch.close import evaluate_as_of
from kis_batch.delivery.plan import load_roster, plan_messages
from kis_batch.ingest import load_folder
from kis_batch.problems import Severity
from kis_batch.rules.evaluation import evaluate_month, grade_of, total_points
from kis_batch.rules.fees import fee_status
from kis_batch.rules.quality import quality_report
from kis_batch.rules.quotas import quota_gaps
from kis_batch.rules.scoring import score_feedback
from kis_batch.settings import Settings
from tests.builders import CUSTOMER_HEADERS, STAFF_HEADERS, write_records, write_workbook

TODAY = dt.date(2026, 11, 20)
NOVEMBER = dt.date(2026, 11, 1)
WORKDAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-09", "2026-11-10"]


def _service(day: str, staff: str, customer: str, kind: str = "问题处理", result: str = "已解决",
             phoned: str = "是") -> dict[str, Any]:
    return {"服务日期": day, "服务代表": staff, "客户编号": customer, "服务类型": kind, "服务方式": "上门",
            "电话预约": phoned, "到达时间": "9:00", "离开时间": "10:00", "处理结果": result, "客户满意度": "非常满意"}


def _callback(day: str, customer: str, staff: str, rating: str) -> dict[str, Any]:
    return {"回访日期": day, "客户编号": customer, "回访类型": "满意度回访", "服务代表": staff, "接通": "是",
            "客户满意度": rating, "投诉": "否"}


def november(folder: Path) -> Path:
    """E01 beyond both quotas (2 and 1), E02 with six breaches, E03 a specialist, E9 and E10 idle.

    Every on-site row takes 1 hour, no ticket (so on time); 非常满意 30, phoned 10, time 10, on time 10."""
    write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("M01", "周经理", "服务部经理", "西湖区", None, None, "m01@example.com", None, "是"),
            ("E01", "张伟", "服务工程师", "西湖区", None, None, "e01@example.com", None, "是"),
            ("E02", "王强", "服务工程师", "西湖区", None, None, None, None, "是"),
            ("E03", "赵敏", "实施专员", "西湖区", None, None, None, None, "是"),
            ("E10", "孙丽", "服务工程师", "西湖区", None, None, None, None, "是"),
            ("E9", "钱进", "服务工程师", "西湖区", None, None, None, None, "是"),
        ]),
        "客户档案": (CUSTOMER_HEADERS, [
            ("C001", "甲公司", None, None, None, "西湖区", "E01", "否"),
            ("C002", "乙公司", None, None, None, "西湖区", "E02", "否"),
            ("C003", "丙公司", None, None, None, "西湖区", "E03", "否"),
        ]),
        "规则设置": (("参数", "值", "说明"), [("每月问题解决指标", 2, None), ("每月拜访指标", 1, None)]),
    })
    feedback = [
        # E01: 3 resolutions and 2 visits, all 100 points
        *(_service(day, "E01", "C001") for day in WORKDAYS[:3]),
        *(_service(day, "E01", "C001", "客户拜访") for day in WORKDAYS[3:5]),
        # E02: not phoned six times; one 已解决 (90), five 部分解决 (70 each)
        _service(WORKDAYS[0], "E02", "C002", phoned="否"),
        *(_service(day, "E02", "C002", result="部分解决", phoned="否") for day in WORKDAYS[1:6]),
        # E03: 3 已解决 (100), 1 未解决 (60)
        *(_service(day, "E03", "C003", "实施") for day in WORKDAYS[:3]),
        _service(WORKDAYS[3], "E03", "C003", "实施", result="未解决"),
    ]
    write_records(folder / "反馈.xlsx", {"服务反馈单": feedback})
    write_records(folder / "回访.xlsx", {"回访记录": [
        _callback("2026-11-10", "C001", "E01", "满意"),
        _callback("2026-11-11", "C001", "E01", "不满意"),
        _callback("2026-11-12", "C003", "E03", "非常满意"),
    ]})
    write_records(folder / "年费.xlsx", {"年费台账": [
        {"合同编号": "F1", "客户编号": "C001", "服务开始": "2026-11-05", "服务到期": "2027-11-04", "年费金额": 1000,
         "已收金额": 500, "经理核准": "是", "负责人": "E01"},
    ]})
    return folder


CASES = pd.DataFrame([
    {"staff": "E01", "responsibility": "本部门", "filed_on": dt.date(2026, 11, 10), "complaint_id": "TS20261110-C001"},
    {"staff": "E01", "responsibility": "客户原因", "filed_on": dt.date(2026, 11, 12), "complaint_id": "TS20261112-C001"},
    {"staff": "E02", "responsibility": "本部门", "filed_on": dt.date(2026, 10, 30), "complaint_id": "TS20261030-C002"},
], dtype=object)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return november(tmp_path_factory.mktemp("evaluation") / "in")


def _evaluate(folder: Path, cases: pd.DataFrame = CASES):
    inbox = load_folder(folder, TODAY)
    assert not [p for p in inbox.problems if p.severity is Severity.ERROR], inbox.problems
    tables, settings = inbox.tables, inbox.settings
    calendar = WorkCalendar.from_settings(settings)
    scores = score_feedback(tables, settings, calendar, TODAY)
    gaps = quota_gaps(scores, tables, settings, calendar)
    quality = quality_report(tables, scores, settings, calendar, TODAY)
    fees = fee_status(tables, settings, TODAY, calendar.next_workday(TODAY))
    return evaluate_month(tables, scores, gaps, quality, fees, cases, settings)


def test_every_part_worked_out_by_hand(folder):
    evaluation = _evaluate(folder)
    people = {p.staff_id: p for p in evaluation.people}
    assert set(people) == {"E01", "E02", "E03", "E9", "E10"}  # the manager is not evaluated
    assert evaluation.department_callback_rate == pytest.approx(2 / 3)

    zhang = people["E01"]  # 3/2 resolutions and 2/1 visits: capped at exactly 30
    assert (zhang.resolutions, zhang.visits) == (3, 2)
    assert zhang.parts() == {"task": 30.0, "service": 30.0, "callbacks": 10.0, "discipline": 10.0, "fees": 5.0,
                             "complaints": 5.0}
    assert (zhang.callbacks_rated, zhang.callbacks_satisfied, zhang.fees_due, zhang.fees_paid) == (2, 1, 1000, 500)
    assert [c["responsibility"] for c in zhang.complaint_list] == ["本部门", "客户原因"]  # both shown, one deducts
    assert (zhang.complaints_counted, zhang.total, zhang.grade) == (1, 80.0, "B")

    wang = people["E02"]  # 1/2 resolutions, no visit; six breaches take 12 of 10: 0, not −2
    assert wang.task == 7.5 and wang.breach_count == 6 and wang.discipline == 0.0
    assert wang.mean_score == pytest.approx(440 / 6, abs=0.01) and wang.service == 22.0
    assert wang.callbacks_from_department and wang.callbacks == 13.33  # no callback of his: the department's 2/3
    assert wang.fees == 10.0 and wang.fee_rate is None  # nothing due
    assert wang.complaints == 0.0  # his case was filed in October
    assert (wang.total, wang.grade) == (52.8, "D")  # 7.5 + 22 + 13.33 + 0 + 10 = 52.83

    zhao = people["E03"]  # specialist: 3 已解决 of 4 rows with a result
    assert (zhao.resolved_rows, zhao.result_rows, zhao.resolutions) == (3, 4, None)
    assert zhao.parts() == {"task": 22.5, "service": 27.0, "callbacks": 20.0, "discipline": 10.0, "fees": 10.0,
                            "complaints": 0.0}
    assert (zhao.total, zhao.grade) == (89.5, "B")

    idle = [people["E9"], people["E10"]]
    assert [p.total for p in idle] == [33.3, 33.3]  # 0 + 0 + 13.33 + 10 + 10
    # Ranked by total; the tie goes to the lower staff id (E9 before E10, as people read them).
    assert [(p.staff_id, p.rank) for p in evaluation.people] == [("E03", 1), ("E01", 2), ("E02", 3), ("E9", 4),
                                                                 ("E10", 5)]


def test_rounding_and_grade_bounds():
    settings = Settings()
    assert grade_of(90.0, settings) == "A" and grade_of(89.9, settings) == "B"
    assert total_points({"task": 29.95, "service": 30.0, "complaints": 0.0}) == 60.0
    assert total_points({"task": 30.0, "service": 29.95, "callbacks": 20.0, "discipline": 10.0, "fees": 10.0,
                         "complaints": 10.0}) == 90.0  # 89.95 rounds half up: an A
    assert grade_of(total_points({"task": 29.94, "service": 60.0, "complaints": 0.0}), settings) == "B"  # 89.9
    assert total_points({"task": 5.0, "complaints": 20.0}) == 0.0  # never below 0
    assert grade_of(80.0, settings) == "B" and grade_of(60.0, settings) == "C" and grade_of(59.9, settings) == "D"


def test_report_writes_the_workbook_with_evidence_and_records_the_close(folder, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(folder), "--month", "2026-11", "--date", "2026-11-20",
                                       "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert "2026-11 月度考核（截至 2026-11-20）" in result.output and "1. 赵敏（实施专员）总分 89.5 等级 B" in result.output
    book = openpyxl.load_workbook(out / "2026-11" / "月度考核_2026-11.xlsx")
    assert book.sheetnames == ["总表", "赵敏", "张伟", "王强", "钱进", "孙丽", "说明"]
    summary = book["总表"]
    headers = [c.value for c in summary[2]]
    for header in ("姓名", "岗位", "任务", "服务评分", "回访满意", "纪律", "年费", "投诉扣分", "总分", "等级", "名次"):
        assert header in headers
    rows = [dict(zip(headers, (c.value for c in row), strict=True)) for row in summary.iter_rows(min_row=3)
            if row[0].value is not None]
    assert [(r["姓名"], r["总分"], r["等级"], r["名次"]) for r in rows] == [
        ("赵敏", 89.5, "B", 1), ("张伟", 85.0, "B", 2), ("王强", 52.8, "D", 3), ("钱进", 33.3, "D", 4),
        ("孙丽", 33.3, "D", 5)]  # no complaint in the folder: 张伟 keeps the 5 the passed-in case took
    assert summary._charts, "the bar chart of totals"
    wang = [str(c.value) for row in book["王强"].iter_rows() for c in row if c.value is not None]
    # Each breach shows on its feedback row (违规), then in the breach section as kind and reason.
    assert "违规（6 次）" in wang and wang.count("未电话预约") == 3 * 6
    # His scored rows, each as the month's scores have it, under the evidence's own heading.
    sheet = [[c.value for c in row] for row in book["王强"].iter_rows()]
    top = next(n for n, row in enumerate(sheet) if str(row[0]).startswith("评分的反馈单（6 条"))
    header = sheet[top + 1]
    shown = [dict(zip(header, row, strict=True)) for row in sheet[top + 2:top + 8]]
    inbox = load_folder(folder, dt.date(2026, 11, 20))
    calendar = WorkCalendar.from_settings(inbox.settings)
    scored = score_feedback(inbox.tables, inbox.settings, calendar, dt.date(2026, 11, 20)).rows
    his = scored[scored["staff"] == "E02"]
    assert [(r["客户编号"], r["处理结果"], r["最终得分"], r["违规"]) for r in shown] == list(zip(
        his["customer_id"], his["result"], his["final"], his["breaches"], strict=True))
    assert sheet[top + 8][0] is None  # six rows, then the next section
    con = sqlite3.connect(out / "history.sqlite")
    final = con.execute("SELECT staff_id, total, grade, rank, final, as_of FROM person_months ORDER BY rank").fetchall()
    assert final[0] == ("E03", 89.5, "B", 1, 1, "2026-11-20") and len(final) == 5


def test_the_evening_records_its_month_to_date_in_the_history(folder, tmp_path):
    run = pipeline.run(folder, TODAY, tmp_path / "run")
    assert run.closed_month is None
    con = sqlite3.connect(tmp_path / "run" / "history.sqlite")
    recorded = con.execute("SELECT staff_id, total, grade, rank, as_of, final FROM person_months "
                           "WHERE month = '2026-11' ORDER BY rank").fetchall()
    assert recorded == [("E03", 89.5, "B", 1, "2026-11-20", 0), ("E01", 85.0, "B", 2, "2026-11-20", 0),
                        ("E02", 52.8, "D", 3, "2026-11-20", 0), ("E9", 33.3, "D", 4, "2026-11-20", 0),
                        ("E10", 33.3, "D", 5, "2026-11-20", 0)]
    figures = dict(con.execute("SELECT figure, value FROM month_figures WHERE month = '2026-11'").fetchall())
    assert (figures["quota.visits"], figures["evaluation.mean_total"]) == (2.0, 58.78)


def test_the_first_working_day_closes_the_month_before_and_mails_it(folder, tmp_path):
    december = dt.date(2026, 12, 1)  # a Tuesday, December's first working day
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", str(folder), "--date", december.isoformat(), "--out", str(out)])
    assert result.exit_code in (0, 1), result.output
    assert "已结账 2026-11（截至 2026-11-30）" in result.output
    closed = out / "2026-11" / "月度考核_2026-11.xlsx"
    assert closed.is_file()
    con = sqlite3.connect(out / "history.sqlite")
    assert con.execute("SELECT DISTINCT as_of, final FROM person_months WHERE month = '2026-11'").fetchall() == [
        ("2026-11-30", 1)]
    assert con.execute("SELECT DISTINCT final FROM person_months WHERE month = '2026-12'").fetchall() == [(0,)]
    staff, settings = load_roster(out / december.isoformat())
    plan = plan_messages(out / december.isoformat(), staff, settings)
    manager = next(m for m in plan.messages if m.staff_id == "M01")
    assert "月度考核_2026-11.xlsx" in [a.name for a in manager.attachments]
    assert "月度考核_2026-11.xlsx：上月月度考核（今晚结算）" in manager.body
    assert "月度总结_2026-11.xlsx" in [a.name for a in manager.attachments]
    assert "月度总结_2026-11.xlsx：上月月度总结（今晚结算）" in manager.body
    assert (out / "2026-11" / "月度总结_2026-11.xlsx").is_file()
    engineer = next(m for m in plan.messages if m.staff_id == "E01")
    assert "月度考核_2026-11.xlsx" not in [a.name for a in engineer.attachments]
    # The close as of November's last day is what `evaluate_as_of` gives for that day.
    inbox = load_folder(folder, december)
    again = evaluate_as_of(inbox.tables, inbox.settings, WorkCalendar.from_settings(inbox.settings),
                           dt.date(2026, 11, 30))
    assert con.execute("SELECT staff_id, total FROM person_months WHERE month = '2026-11' ORDER BY rank").fetchall() \
        == [(p.staff_id, p.total) for p in again.evaluation.people]
