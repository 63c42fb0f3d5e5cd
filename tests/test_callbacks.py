"""Callback lists per docs/rules.md § Callbacks: the 17:00 verification, the spot checks that reach each
engineer's 10 by the month's last working day, the satisfaction calls that bring coverage to 30 %,
a month simulated day by day (hypothesis), and the loop: the written 回访_P.xlsx, filled in and dropped
back, is read as 回访记录 and moves coverage and scores."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kis_batch.calendar import WorkCalendar
from kis_batch.ingest import load_folder
from kis_batch.outputs import CALLBACKS_OUTPUT
from kis_batch.problems import Severity
from kis_batch.render.callbacks import write_callbacks
from kis_batch.rules.callbacks import CallbackPlan, callback_figures, coverage_target, plan_callbacks
from kis_batch.rules.dispatch import ASSIGNMENT_COLUMNS, BACKLOG_COLUMNS, DispatchResult, plan_dispatch
from kis_batch.rules.scoring import score_feedback
from kis_batch.schema import BY_KEY, CALLBACK_KINDS
from kis_batch.settings import Settings
from tests.builders import CUSTOMER_HEADERS, STAFF_HEADERS, table, write_records, write_workbook
from tests.conftest import ToPdf

VERIFICATION, SPOT_CHECK, SATISFACTION = CALLBACK_KINDS
CALENDAR = WorkCalendar()
RULES = Settings()
LAST_DAY = dt.date(2026, 11, 30)  # Monday, the last working day of November 2026
BEFORE_LAST = dt.date(2026, 11, 27)  # the Friday before


def staff(count: int) -> list[dict[str, Any]]:
    return [{"staff_id": f"E{i:02d}", "name": f"工程师{i}", "role": "服务工程师", "area": "西湖区"}
            for i in range(1, count + 1)]


def customers(count: int, engineers: int, key: set[int] = frozenset()) -> list[dict[str, Any]]:
    return [{"customer_id": f"C{i:03d}", "customer_name": f"客户{i}公司", "contact": "李会计",
             "phone": f"0571{i:08d}", "area": "西湖区", "owner": f"E{i % engineers + 1:02d}", "key_customer": i in key}
            for i in range(count)]


def served(day: dt.date, customer: str, engineer: str, ticket: str | None = None) -> dict[str, Any]:
    return {"ticket_id": ticket, "service_date": day, "staff": engineer, "customer_id": customer,
            "service_type": "问题处理", "result": "已解决"}


def called(day: dt.date, customer: str, kind: str, engineer: str | None = None, reached: bool | None = True,
           **extra: Any) -> dict[str, Any]:
    return {"date": day, "customer_id": customer, "kind": kind, "staff": engineer, "reached": reached, **extra}


def dispatched(plan: dt.date, visits: list[tuple[str, str, str]]) -> DispatchResult:
    """A dispatch for P as plan_dispatch returns it: (ticket, customer, engineer) per visit."""
    rows = [{**dict.fromkeys(ASSIGNMENT_COLUMNS), "ticket_id": ticket, "customer_id": customer, "assignee": engineer,
             "assignee_name": engineer, "problem": "凭证过账报错"} for ticket, customer, engineer in visits]
    return DispatchResult(plan, pd.DataFrame(rows, columns=list(ASSIGNMENT_COLUMNS), dtype=object),
                          pd.DataFrame(columns=list(BACKLOG_COLUMNS), dtype=object))


def tables(staff_rows: list[dict[str, Any]], customer_rows: list[dict[str, Any]], feedback: list[dict[str, Any]] = (),
           callbacks: list[dict[str, Any]] = (), calls: list[dict[str, Any]] = ()) -> dict[str, pd.DataFrame]:
    return {"staff": table("staff", staff_rows), "customers": table("customers", customer_rows),
            "feedback": table("feedback", feedback), "callbacks": table("callbacks", callbacks),
            "calls": table("calls", calls)}


def quick_table(key: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """What builders.table gives (the schema's columns, object cells, defaults) without provenance, in a
    fraction of the time: the simulation below builds a thousand of them."""
    columns = BY_KEY[key].columns
    return pd.DataFrame([{**{c.key: c.default for c in columns}, **r} for r in rows], columns=[c.key for c in columns],
                        dtype=object)


def listed(frame: pd.DataFrame, engineer: str | None = None) -> set[str]:
    rows = frame if engineer is None else frame[frame["staff"] == engineer]
    return set(rows["customer_id"])


# --- the last working day of a month ---------------------------------------------------------------


LastDay = tuple[dict[str, pd.DataFrame], CallbackPlan]
Written = tuple[Path, Path, CallbackPlan]


@pytest.fixture
def last_day() -> LastDay:
    """40 customers; E01 served 12 (3 already spot-checked), E02 served 4 (1 checked); 6 reached in all."""
    early = dt.date(2026, 11, 10)
    feedback = [served(early, f"C{i:03d}", "E01") for i in range(12)]
    feedback += [served(early, f"C{i:03d}", "E02") for i in range(20, 24)]
    callbacks = [called(dt.date(2026, 11, 12), f"C{i:03d}", SPOT_CHECK, "E01") for i in range(3)]
    callbacks += [called(dt.date(2026, 11, 12), "C020", SPOT_CHECK, "E02"),
                  called(dt.date(2026, 11, 13), "C030", SATISFACTION),
                  called(dt.date(2026, 11, 13), "C031", SATISFACTION)]
    data = tables(staff(2), customers(40, 2), feedback, callbacks)
    dispatch = dispatched(LAST_DAY, [("T1", "C035", "E01"), ("T2", "C036", "E02")])
    return data, plan_callbacks(data, dispatch, RULES, CALENDAR, BEFORE_LAST)


def test_on_the_last_day_each_spot_check_list_completes_the_engineer_s_ten(last_day: LastDay) -> None:
    _, plan = last_day
    assert len(listed(plan.spot_checks, "E01")) == 7  # 10 − 3 done, out of 9 unchecked
    assert listed(plan.spot_checks, "E01") <= {f"C{i:03d}" for i in range(3, 12)}
    assert listed(plan.spot_checks, "E02") == {"C021", "C022", "C023"}  # all it has left
    assert plan.spot_checks["reason"].iloc[0] == "工程师1本月第4/10家"
    by_engineer = {s["staff_id"]: s for s in plan.figures["spot_checks"]}
    assert (by_engineer["E01"]["done"], by_engineer["E01"]["listed"], by_engineer["E01"]["served"]) == (3, 7, 12)


def test_on_the_last_day_the_lists_bring_coverage_to_the_target(last_day: LastDay) -> None:
    _, plan = last_day
    target = coverage_target(RULES, 40)
    assert target == 12 and plan.figures["coverage_target"] == 12 and plan.figures["reached"] == 6
    everyone = listed(plan.verification) | listed(plan.spot_checks) | listed(plan.satisfaction)
    already = {"C000", "C001", "C002", "C020", "C030", "C031"}
    assert not everyone & already
    # 6 reached + 2 verified + 10 spot-checked = 18 ≥ 12: no satisfaction call is needed today.
    assert len(plan.satisfaction) == 0 and plan.figures["reached_if_all_called"] == 18


def test_the_verification_list_is_every_customer_dispatched_one_row_each() -> None:
    data = tables(staff(2), customers(10, 2))
    dispatch = dispatched(LAST_DAY, [("T1", "C001", "E01"), ("T2", "C002", "E02"), ("T3", "C001", "E02")])
    plan = plan_callbacks(data, dispatch, RULES, CALENDAR, BEFORE_LAST)
    rows = plan.verification.set_index("customer_id")
    assert list(rows.index) == ["C001", "C002"]
    assert (rows.loc["C001", "ticket_id"], rows.loc["C001", "staff"]) == ("T1", "E01")
    assert rows.loc["C001", "about"] == "凭证过账报错；另T3 凭证过账报错（工程师2）"
    assert (rows["kind"] == VERIFICATION).all() and (rows["date"] == LAST_DAY).all()


def test_satisfaction_calls_go_to_served_key_and_complaining_customers_first() -> None:
    """30 customers → 9 to reach, 2 working days left, nothing else listed → 5 today."""
    data = tables(staff(1), customers(30, 1, key={5, 6}),
                  feedback=[served(dt.date(2026, 11, 20), "C005", "E01", "T5"),
                            served(dt.date(2026, 11, 24), "C010", "E01"),
                            served(dt.date(2026, 10, 20), "C011", "E01")],
                  callbacks=[called(dt.date(2026, 11, 24), "C011", SPOT_CHECK, "E01", reached=None),
                             called(dt.date(2026, 10, 5), "C012", SATISFACTION)],
                  calls=[{"ticket_id": "T9", "call_time": dt.datetime(2026, 11, 20, 9), "customer_id": "C007",
                          "category": "投诉", "problem": "上门迟到"},
                         {"ticket_id": "T5", "call_time": dt.datetime(2026, 11, 19, 9), "customer_id": "C005",
                          "problem": "凭证过账报错"}])
    no_spot_checks = RULES.replace(spot_checks_per_engineer=0)  # keep C005 and C010 off the spot-check list
    plan = plan_callbacks(data, dispatched(dt.date(2026, 11, 27), []), no_spot_checks, CALENDAR, dt.date(2026, 11, 26))
    assert plan.figures["workdays_left"] == 2 and plan.figures["coverage_target"] == 9
    # Two reasons (served + key) first; one reason each in the rule's order; then a draw among the never called
    # (C011's list was never called; C012 was called in October, so it comes after them).
    chosen = list(plan.satisfaction["customer_id"])
    assert chosen[:4] == ["C005", "C010", "C006", "C007"]
    assert chosen[4] not in ("C005", "C010", "C006", "C007", "C012")
    first = plan.satisfaction.iloc[0]
    assert first["reason"] == "本月服务过11-20、重点客户、从未回访"
    assert (first["ticket_id"], first["staff"], first["about"]) == ("T5", "E01", "11-20 问题处理·已解决：凭证过账报错")
    assert plan.satisfaction.iloc[3]["reason"] == "11-20投诉后未回访、从未回访"


def test_a_list_never_called_is_listed_again_and_a_reached_customer_never() -> None:
    data = tables(staff(1), customers(10, 1), feedback=[served(dt.date(2026, 11, 2), "C001", "E01"),
                                                        served(dt.date(2026, 11, 2), "C002", "E01")],
                  callbacks=[called(dt.date(2026, 11, 3), "C001", SPOT_CHECK, "E01", reached=None),
                             called(dt.date(2026, 11, 3), "C002", SPOT_CHECK, "E01")])
    plan = plan_callbacks(data, dispatched(LAST_DAY, []), RULES, CALENDAR, BEFORE_LAST)
    assert listed(plan.spot_checks) == {"C001"}
    assert "C002" not in listed(plan.satisfaction) and plan.figures["reached"] == 1


def test_when_p_opens_a_new_month_the_counts_start_fresh() -> None:
    """D = 30 Nov (last working day), P = 1 Dec: November's calls and visits count for nothing."""
    data = tables(staff(1), customers(10, 1), feedback=[served(dt.date(2026, 11, 20), "C001", "E01")],
                  callbacks=[called(dt.date(2026, 11, 20), f"C00{i}", SATISFACTION) for i in range(5)])
    plan = plan_callbacks(data, dispatched(dt.date(2026, 12, 1), []), RULES, CALENDAR, LAST_DAY)
    assert plan.figures["month"] == "2026-12" and plan.figures["reached"] == 0
    assert plan.figures["spot_checks"][0]["done"] == 0 and len(plan.spot_checks) == 0
    assert plan.figures["workdays_left"] == 23 and len(plan.satisfaction) == 1  # ceil(3 / 23)
    november = callback_figures(data, RULES, LAST_DAY, LAST_DAY)
    assert (november["month"], november["reached"], november["coverage"]) == ("2026-11", 5, 0.5)


def test_rule_numbers_come_from_the_settings() -> None:
    data = tables(staff(1), customers(20, 1), feedback=[served(dt.date(2026, 11, 2), f"C{i:03d}", "E01")
                                                        for i in range(8)])
    rules = RULES.replace(callback_coverage=0.5, spot_checks_per_engineer=3)
    plan = plan_callbacks(data, dispatched(LAST_DAY, []), rules, CALENDAR, BEFORE_LAST)
    assert len(plan.spot_checks) == 3 and len(plan.satisfaction) == 10 - 3
    assert plan.figures["spot_check_target"] == 3 and plan.figures["coverage_target"] == 10


# --- a month simulated day by day ------------------------------------------------------------------


@st.composite
def months(draw: st.DrawFn) -> dict[str, Any]:
    first = dt.date(draw(st.sampled_from([2025, 2026])), draw(st.integers(1, 12)), 1)
    engineers = draw(st.integers(2, 3))
    count = draw(st.integers(20, 60))
    days = CALENDAR.month_workdays(first)
    visit = st.tuples(st.integers(0, count - 1), st.integers(0, engineers - 1))
    # Visits may start late in the month, so the last days must catch up on scarce candidates.
    quiet = draw(st.integers(0, len(days) - 1))
    busy = draw(st.lists(st.lists(visit, max_size=8), min_size=len(days) - quiet, max_size=len(days) - quiet))
    return {
        "days": days,
        "engineers": engineers,
        "customers": customers(count, engineers, key=set(draw(st.lists(st.integers(0, count - 1), max_size=5)))),
        "visits": [[]] * quiet + busy,
        "complaints": draw(st.lists(st.tuples(st.integers(0, len(days) - 1), st.integers(0, count - 1)), max_size=3)),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(months())
def test_a_month_called_every_day_meets_every_rule(month: dict[str, Any]) -> None:
    days: list[dt.date] = month["days"]
    team = staff(month["engineers"])
    feedback: list[dict[str, Any]] = []
    callbacks: list[dict[str, Any]] = []
    fixed = {"staff": quick_table("staff", team), "customers": quick_table("customers", month["customers"]),
             "calls": quick_table("calls", [
                 {"ticket_id": f"K{n}", "call_time": dt.datetime.combine(days[index], dt.time(9)),
                  "customer_id": f"C{c:03d}", "category": "投诉", "problem": "服务不及时"}
                 for n, (index, c) in enumerate(month["complaints"])])}
    sampled: Counter[tuple[str, str]] = Counter()
    for index, day in enumerate(days):
        today = day - dt.timedelta(days=1)  # P = day: the list is planned the evening before
        visits = [(f"T{index}-{n}", f"C{c:03d}", f"E{e + 1:02d}") for n, (c, e) in enumerate(month["visits"][index])]
        data = {**fixed, "feedback": quick_table("feedback", feedback), "callbacks": quick_table("callbacks", callbacks)}
        plan = plan_callbacks(data, dispatched(day, visits), RULES, CALENDAR, today)

        # The same inputs, in any row order, give the same lists.
        shuffled = {key: frame.sample(frac=1, random_state=index) for key, frame in data.items()}
        again = plan_callbacks(shuffled, dispatched(day, visits), RULES, CALENDAR, today)
        for frame, same in zip((plan.verification, plan.spot_checks, plan.satisfaction),
                               (again.verification, again.spot_checks, again.satisfaction), strict=True):
            assert frame.values.tolist() == same.values.tolist()

        assert list(plan.verification["customer_id"]) == list(dict.fromkeys(c for _, c, _ in visits))
        for frame in (plan.spot_checks, plan.satisfaction):
            for kind, customer in zip(frame["kind"], frame["customer_id"], strict=True):
                sampled[(kind, customer)] += 1
        # The hotline calls every listed customer on P and everyone answers.
        for frame in (plan.verification, plan.spot_checks, plan.satisfaction):
            callbacks += [called(day, customer, kind, engineer) for customer, kind, engineer in
                          zip(frame["customer_id"], frame["kind"], frame["staff"], strict=True)]
        feedback += [served(day, customer, engineer, ticket) for ticket, customer, engineer in visits]

    assert max(sampled.values(), default=1) == 1, "a customer listed twice in a month for the same kind"
    reached = {r["customer_id"] for r in callbacks}
    assert len(reached) >= math.ceil(RULES.callback_coverage * len(month["customers"]) - 1e-9)
    checked: dict[str, set[str]] = defaultdict(set)
    for r in callbacks:
        if r["kind"] == SPOT_CHECK:
            checked[r["staff"]].add(r["customer_id"])
    everyone_checked = set().union(*checked.values())
    for member in team:
        mine = checked[member["staff_id"]]
        assert len(mine) <= RULES.spot_checks_per_engineer
        # Served before the last working day, so some list could still hold them.
        served_early = {f["customer_id"] for f in feedback if f["staff"] == member["staff_id"] and f["service_date"] < days[-1]}
        assert mine <= served_early
        if len(mine) < RULES.spot_checks_per_engineer:
            assert served_early <= everyone_checked, "an engineer short of 10 with a customer left unchecked"


# --- the loop with real workbooks ------------------------------------------------------------------

D = dt.date(2026, 11, 26)  # Thursday
P = dt.date(2026, 11, 27)  # Friday; Monday 30 Nov is the month's last working day


def department(folder: Path) -> None:
    """Two engineers, a hotline, twelve customers; two visits needed on P, one earlier service by 张伟."""
    write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("E01", "张伟", "服务工程师", "西湖区", None, None, "e01@example.com", None, "是"),
            ("E02", "王强", "服务工程师", "西湖区", None, None, "e02@example.com", None, "是"),
            ("E09", "陈静", "服务监督热线", "西湖区", None, None, "e09@example.com", None, "是"),
        ]),
        "客户档案": (CUSTOMER_HEADERS, [
            (f"C{i:03d}", f"客户{i}有限公司", "李会计", f"05718800{i:04d}", f"文三路{i}号", "西湖区",
             "张伟" if i % 2 else "王强", "是" if i == 1 else "否") for i in range(1, 13)
        ]),
    })
    write_records(folder / "热线记录.xlsx", {"热线记录": [
        {"工单号": "T1", "来电时间": "2026-11-26 09:00", "客户编号": "C001", "问题类别": "软件故障",
         "问题描述": "凭证过账报错", "处理方式": "需上门"},
        {"工单号": "T2", "来电时间": "2026-11-26 10:00", "客户编号": "C002", "问题类别": "数据问题",
         "问题描述": "账套备份失败", "处理方式": "需上门"},
        {"工单号": "T0", "来电时间": "2026-11-10 10:00", "客户编号": "C003", "问题类别": "操作咨询",
         "问题描述": "报表怎么设置", "处理方式": "需上门"},
    ]})
    write_records(folder / "服务反馈单.xlsx", {"服务反馈单": [
        {"工单号": "T0", "服务日期": "2026-11-11", "服务代表": "张伟", "客户编号": "C003", "服务类型": "问题处理",
         "处理结果": "已解决", "客户满意度": "满意", "电话预约": "是", "到达时间": "9:30", "离开时间": "10:30"},
    ]})


def plan_for(folder: Path, today: dt.date) -> tuple[CallbackPlan, list[Any]]:
    inbox = load_folder(folder, today)
    calendar = WorkCalendar.from_settings(inbox.settings)
    dispatch = plan_dispatch(inbox.tables, inbox.settings, calendar, today)
    return plan_callbacks(inbox.tables, dispatch, inbox.settings, calendar, today), inbox.problems


@pytest.fixture
def written(tmp_path: Path) -> Written:
    inbox = tmp_path / "inbox"
    department(inbox)
    plan, problems = plan_for(inbox, D)
    assert not [p for p in problems if p.severity is Severity.ERROR]
    paths: list[Path] = []
    write_callbacks(tmp_path / "out", plan, paths)
    assert paths == [tmp_path / "out" / CALLBACKS_OUTPUT.file_name(P)]
    return inbox, paths[0], plan


def headers(sheet: Any) -> list[Any]:
    return [c.value for c in sheet[2]]


def test_the_workbook_holds_the_three_lists_with_their_targets(written: Written) -> None:
    _, path, plan = written
    assert listed(plan.verification) == {"C001", "C002"} and listed(plan.spot_checks) == {"C003"}
    # 12 customers → 4 to reach; 3 on today's lists; 1 more over the 2 working days left.
    assert len(plan.satisfaction) == 1
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["当日核实", "月度抽查", "满意度回访"]
    verify = book["当日核实"]
    assert verify["A1"].value.startswith("当日核实 2026-11-27 17:00 · 2家")
    assert book["满意度回访"]["A1"].value == ("满意度回访 2026-11-27 · 1家 · 本月回访覆盖 0/4家（客户12家×30%），"
                                          "今日三张清单都接通后4家 · 本月还剩2个工作日")
    assert "张伟0/10 王强0/10" in book["月度抽查"]["A1"].value
    # Printed: who to call and the boxes to fill in; after them what is the same on every row.
    assert headers(verify) == ["客户编号", "客户名称", "联系人", "联系电话", "服务代表", "服务内容", "接通", "上门属实",
                               "客户满意度", "投诉", "回访人", "备注", "回访日期", "回访类型", "工单号"]
    assert "选取原因" in headers(book["月度抽查"])
    assert verify.print_area.endswith("!$A$1:$L$1048575")
    row = [c.value for c in verify[3]]
    assert row[:6] == ["C001", "客户1有限公司", "李会计", "057188000001", "张伟", "凭证过账报错"]
    assert row[6:12] == [None] * 6
    assert row[12:] == [dt.datetime(2026, 11, 27), "当日核实", "T1"]
    assert verify.row_dimensions[3].height >= 30  # room to write by hand
    dropdowns = {str(v.sqref): v.formula1 for v in verify.data_validations.dataValidation}
    assert dropdowns["G3:G4"] == '"是,否"' and dropdowns["H3:H4"] == '"是,否,不适用"'


def test_a_filled_list_comes_back_as_callbacks_and_moves_coverage_and_scores(written: Written) -> None:
    inbox, path, _ = written
    book = openpyxl.load_workbook(path)
    for name in book.sheetnames:
        sheet = book[name]
        columns = {h: i + 1 for i, h in enumerate(headers(sheet))}
        for row in range(3, sheet.max_row + 1):
            sheet.cell(row, columns["接通"], "是")
            sheet.cell(row, columns["上门属实"], "是" if name == "当日核实" else "不适用")
            sheet.cell(row, columns["客户满意度"], "满意")
            sheet.cell(row, columns["投诉"], "否")
            sheet.cell(row, columns["回访人"], "陈静")
    verify = book["当日核实"]
    columns = {h: i + 1 for i, h in enumerate(headers(verify))}
    verify.cell(3, columns["上门属实"], "否")  # C001: nobody came
    verify.cell(4, columns["投诉"], "是")  # C002: complains
    book.save(inbox / "回访_已填.xlsx")
    # The engineers' feedback of P, as their returned dispatch sheets would bring it.
    write_records(inbox / "反馈_P.xlsx", {"服务反馈单": [
        {"工单号": ticket, "服务日期": "2026-11-27", "服务代表": who, "客户编号": customer, "服务类型": "问题处理",
         "处理结果": "已解决", "客户满意度": "非常满意", "电话预约": "是", "到达时间": "9:30", "离开时间": "10:30"}
        for ticket, who, customer in (("T1", "张伟", "C001"), ("T2", "王强", "C002"))]})

    loaded = load_folder(inbox, P)
    assert not [p for p in loaded.problems if p.severity is Severity.ERROR]
    assert next(f for f in loaded.files if f.path == "回访_已填.xlsx").sheets == dict.fromkeys(
        ["当日核实", "月度抽查", "满意度回访"], "callbacks")
    results = loaded.tables["callbacks"].set_index("customer_id")
    assert len(results) == 4 and results["reached"].all()
    assert (results.loc["C001", "verified"], results.loc["C002", "complaint"], results.loc["C003", "staff"]) == ("否", True, "E01")

    after, _ = plan_for(inbox, P)
    assert after.figures["reached"] == 4 and after.figures["coverage"] == round(4 / 12, 4)
    assert {s["name"]: s["done"] for s in after.figures["spot_checks"]} == {"张伟": 1, "王强": 0}
    assert "C003" not in listed(after.spot_checks)
    assert not listed(after.satisfaction)  # 4 of 4 reached
    scores = score_feedback(loaded.tables, loaded.settings, WorkCalendar(), P).rows.set_index("ticket_id")
    assert bool(scores.loc["T1", "disproved"]) and scores.loc["T1", "final"] == 0
    assert scores.loc["T2", "complaint_points"] == RULES.complaint_deduction


def test_the_workbook_converts_to_pdf(written: Written, to_pdf: ToPdf) -> None:
    _, path, _ = written
    [pdf] = to_pdf(path)
    assert pdf.read_bytes().startswith(b"%PDF")
