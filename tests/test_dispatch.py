"""Dispatch per docs/rules.md § Dispatch: open tickets, pools, owners keep up to the cap, the optimal rest, reasons, routes,
the written workbooks and the loop (a filled dispatch sheet comes back as feedback)."""

from __future__ import annotations

import datetime as dt
import itertools
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import openpyxl
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook

from kis_batch.calendar import WorkCalendar
from kis_batch.geo import DistanceModel, Places
from kis_batch.ingest import load_folder
from kis_batch.outputs import DISPATCH_OUTPUT, PERSON_DISPATCH_OUTPUT
from kis_batch.problems import Severity
from kis_batch.rules.dispatch import DispatchResult, optimal_assignment, plan_dispatch
from kis_batch.rules.tickets import open_tickets
from kis_batch.settings import Settings
from tests.builders import header_row, table, write_dispatch_books, write_records

TODAY = dt.date(2026, 11, 27)  # a Friday
PLAN = dt.date(2026, 11, 30)  # the Monday after
CALENDAR = WorkCalendar()
MORNING = dt.datetime(2026, 11, 27, 9, 0)

# Hand-made distances between areas (km), so every expectation below can be added up by hand.
AREA_KM = [
    {"area_a": "西湖区", "area_b": "滨江区", "km": 12.5},
    {"area_a": "西湖区", "area_b": "上城区", "km": 6.0},
]


def engineer(staff_id: str, name: str, area: str, **extra: Any) -> dict[str, Any]:
    return {"staff_id": staff_id, "name": name, "role": "服务工程师", "area": area, **extra}


def specialist(staff_id: str, name: str, area: str, **extra: Any) -> dict[str, Any]:
    return {"staff_id": staff_id, "name": name, "role": "实施专员", "area": area, **extra}


def customer(customer_id: str, owner: str, area: str = "西湖区", **extra: Any) -> dict[str, Any]:
    return {"customer_id": customer_id, "customer_name": f"{customer_id}公司", "area": area, "owner": owner, **extra}


def call(ticket_id: str, customer_id: str, *, when: dt.datetime = MORNING, **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "call_time": when, "customer_id": customer_id, "category": "软件故障",
            "problem": "凭证过账报错", "handling": "需上门", **extra}


def tables(staff: list[dict[str, Any]], customers: list[dict[str, Any]], calls: list[dict[str, Any]],
           feedback: list[dict[str, Any]] = (), leave: list[dict[str, Any]] = (),
           area_distance: list[dict[str, Any]] = AREA_KM) -> dict[str, pd.DataFrame]:
    return {"staff": table("staff", staff), "customers": table("customers", customers), "calls": table("calls", calls),
            "feedback": table("feedback", feedback), "leave": table("leave", leave),
            "area_distance": table("area_distance", area_distance)}


def plan(data: dict[str, pd.DataFrame], rules: Settings | None = None, today: dt.date = TODAY) -> DispatchResult:
    return plan_dispatch(data, rules or Settings(), CALENDAR, today)


def by_ticket(result: DispatchResult) -> dict[str, dict[str, Any]]:
    return {r["ticket_id"]: r for r in result.assignments.to_dict("records")}


# --- owners, caps, absence ------------------------------------------------------------------------


def test_owner_keeps_the_top_three_of_five_and_the_excess_goes_to_the_nearest() -> None:
    data = tables(
        [engineer("E01", "张伟", "西湖区"), engineer("E02", "王强", "滨江区"), engineer("E03", "李娜", "上城区")],
        [customer(f"C{i}", "E01") for i in range(1, 6)],
        [call("T1", "C1", severity="低"), call("T2", "C2", severity="高"), call("T3", "C3"),
         call("T4", "C4", severity="高", urgency="紧急"), call("T5", "C5", urgency="不急")],
    )
    result = plan(data)
    assert result.plan_date == PLAN
    rows = by_ticket(result)
    # Priority: T4 (高紧急), T2 (高一般), T3 (中一般), T5 (中不急), T1 (低一般).
    assert [rows[t]["priority"] for t in ("T4", "T2", "T3", "T5", "T1")] == [1, 2, 3, 4, 5]
    assert {t for t, r in rows.items() if r["assignee"] == "E01"} == {"T4", "T2", "T3"}
    assert not any(rows[t]["moved"] for t in ("T4", "T2", "T3"))
    # 上城区 is 6 km from 西湖区, 滨江区 12.5 km: both excess tickets go to 李娜.
    for ticket in ("T5", "T1"):
        assert rows[ticket]["assignee"] == "E03"
        assert rows[ticket]["reason"] == "张伟当日已满3家（上限3），按就近原则改派李娜，距离约6.0公里（区域距离表）"
        assert rows[ticket]["distance"] == 6.0
    assert result.backlog.empty


def test_the_cap_is_the_staff_row_else_the_setting() -> None:
    data = tables([engineer("E01", "张伟", "西湖区", daily_cap=1), engineer("E02", "王强", "滨江区")],
                  [customer("C1", "E01"), customer("C2", "E01"), customer("C3", "E02", "滨江区")],
                  [call("T1", "C1"), call("T2", "C2"), call("T3", "C3")])
    rows = by_ticket(plan(data, Settings(daily_cap=2)))
    assert [rows[t]["assignee"] for t in ("T1", "T2", "T3")] == ["E01", "E02", "E02"]
    assert rows["T2"]["reason"].startswith("张伟当日已满1家（上限1）")


def test_absent_engineers_get_nothing_and_their_tickets_move() -> None:
    data = tables(
        [engineer("E01", "张伟", "西湖区"), engineer("E02", "王强", "滨江区", active=False),
         engineer("E03", "李娜", "上城区")],
        [customer("C1", "E01"), customer("C2", "E01"), customer("C6", "E02", "滨江区")],
        [call("T1", "C1"), call("T2", "C2"), call("T6", "C6")],
        leave=[{"staff_id": "E01", "start": PLAN, "end": dt.date(2026, 12, 1), "reason": "年假"}],
    )
    rows = by_ticket(plan(data))
    assert {r["assignee"] for r in rows.values()} == {"E03"}
    assert rows["T1"]["reason"] == "张伟请假（11-30至12-01），按就近原则改派李娜，距离约6.0公里（区域距离表）"
    assert rows["T6"]["reason"].startswith("王强不在岗，按就近原则改派李娜，不同区域")
    assert rows["T6"]["distance_km"] is None  # an estimate is not shown as kilometres
    assert rows["T6"]["leg_km"] is None


def test_leave_ending_before_the_plan_date_does_not_count() -> None:
    data = tables([engineer("E01", "张伟", "西湖区"), engineer("E02", "王强", "滨江区")], [customer("C1", "E01")],
                  [call("T1", "C1")], leave=[{"staff_id": "E01", "start": TODAY, "end": TODAY}])
    assert by_ticket(plan(data))["T1"]["assignee"] == "E01"


def test_the_optimum_beats_ticket_by_ticket_greed() -> None:
    # Owner 赵六 is away; 张伟 (西湖区) and 王强 (滨江区) have one place each. T1 (高) is at 上城区, T2 (低) at 拱墅区.
    #   西湖区–上城区 1, 滨江区–上城区 2, 西湖区–拱墅区 2, 滨江区–拱墅区 10.
    # Greed: T1 takes its nearest, 张伟 (1), leaving T2 to 王强 (10): 11 km. The optimum: T1→王强 2 + T2→张伟 2 = 4 km.
    km = [{"area_a": "西湖区", "area_b": "上城区", "km": 1}, {"area_a": "滨江区", "area_b": "上城区", "km": 2},
          {"area_a": "西湖区", "area_b": "拱墅区", "km": 2}, {"area_a": "滨江区", "area_b": "拱墅区", "km": 10}]
    data = tables(
        [engineer("E01", "张伟", "西湖区", daily_cap=1), engineer("E02", "王强", "滨江区", daily_cap=1),
         engineer("E09", "赵六", "上城区")],
        [customer("C1", "E09", "上城区"), customer("C2", "E09", "拱墅区")],
        [call("T1", "C1", severity="高"), call("T2", "C2", severity="低")],
        leave=[{"staff_id": "E09", "start": PLAN, "end": PLAN}], area_distance=km,
    )
    rows = by_ticket(plan(data))
    assert (rows["T1"]["assignee"], rows["T2"]["assignee"]) == ("E02", "E01")
    assert rows["T1"]["distance"] + rows["T2"]["distance"] == 4.0
    assert rows["T1"]["reason"] == "赵六请假（11-30至11-30），按就近原则改派王强，距离约2.0公里（区域距离表）"


def test_equal_distances_go_to_the_lower_staff_id_in_reading_order() -> None:
    data = tables([engineer("E10", "王强", "西湖区"), engineer("E2", "李娜", "西湖区"), engineer("E1", "张伟", "上城区")],
                  [customer("C1", "E1")], [call("T1", "C1")],
                  leave=[{"staff_id": "E1", "start": PLAN, "end": PLAN}])
    assert by_ticket(plan(data))["T1"]["assignee"] == "E2"  # E2 before E10


def test_the_backlog_is_the_lowest_priority_and_says_why() -> None:
    data = tables([engineer("E01", "张伟", "西湖区"), engineer("E02", "王强", "滨江区")],
                  [customer(f"C{i}", "E01") for i in range(1, 4)],
                  [call("T1", "C1", severity="高"), call("T2", "C2", severity="低"), call("T3", "C3")])
    result = plan(data, Settings(daily_cap=1))
    assert result.backlog["ticket_id"].tolist() == ["T2"]
    assert result.backlog["reason"].iloc[0] == "当日全组已满（服务工程师共2家容量，本单优先顺序第3），顺延"
    rows = by_ticket(result)
    assert (rows["T1"]["assignee"], rows["T3"]["assignee"]) == ("E01", "E02")


# --- pools ----------------------------------------------------------------------------------------


def test_implementation_goes_to_specialists_only() -> None:
    data = tables(
        [engineer("E01", "张伟", "西湖区", daily_cap=1), specialist("S01", "钱七", "西湖区")],
        [customer("C1", "E01"), customer("C2", "E01"), customer("C3", "E01")],
        [call("T1", "C1", category="实施", severity="低"), call("T2", "C2", severity="高"), call("T3", "C3")],
    )
    result = plan(data)
    rows = by_ticket(result)
    assert rows["T1"]["assignee"] == "S01"
    assert rows["T1"]["service_type"] == "实施"
    assert rows["T1"]["reason"] == "原服务代表张伟是服务工程师，实施类工单由实施专员上门，按就近原则改派钱七，同在西湖区"
    # The specialist has room left, but an engineer's ticket never goes to a specialist: T3 waits.
    assert rows["T2"]["assignee"] == "E01"
    assert result.backlog["ticket_id"].tolist() == ["T3"]


def test_implementation_waits_when_no_specialist_is_present() -> None:
    data = tables([engineer("E01", "张伟", "西湖区"), specialist("S01", "钱七", "西湖区")], [customer("C1", "E01")],
                  [call("T1", "C1", category="实施")], leave=[{"staff_id": "S01", "start": TODAY, "end": PLAN}])
    result = plan(data)
    assert result.assignments.empty
    assert result.backlog["reason"].tolist() == ["当日没有可派的实施专员（钱七请假（11-27至11-30）），顺延"]


# --- open tickets ---------------------------------------------------------------------------------


def feedback(ticket_id: str, customer_id: str, result: str | None, day: dt.date = TODAY,
             **extra: Any) -> dict[str, Any]:
    return {"ticket_id": ticket_id, "service_date": day, "staff": "E01", "customer_id": customer_id, "result": result,
            **extra}


def test_phone_solved_forwarded_and_solved_tickets_are_not_dispatched() -> None:
    data = tables(
        [engineer("E01", "张伟", "西湖区")], [customer("C1", "E01")],
        [call("T1", "C1", handling="电话已解决"), call("T2", "C1", handling="转总部"), call("T3", "C1"),
         call("T4", "C1", handling="远程处理"), call("T5", "C1", handling="远程处理")],
        feedback=[feedback("T3", "C1", "已解决"), feedback("T5", "C1", "已解决", mode="远程")],
    )
    assert plan(data).assignments["ticket_id"].tolist() == ["T4"]


def test_an_unfinished_feedback_brings_its_ticket_back() -> None:
    yesterday = dt.date(2026, 11, 26)
    data = tables(
        [engineer("E01", "张伟", "西湖区"), specialist("S01", "钱七", "西湖区")], [customer("C1", "E01")],
        [call("T1", "C1", when=dt.datetime(2026, 11, 25, 10, 0)), call("T2", "C1", handling="电话已解决"),
         call("T3", "C1"), call("T4", "C1")],
        feedback=[feedback("T1", "C1", "未解决", yesterday),
                  feedback("T2", "C1", "部分解决"),  # phone-solved, then a visit that did not finish it
                  feedback("T3", "C1", "未解决", yesterday), feedback("T3", "C1", "已解决"),  # finished after all
                  feedback("T4", "C1", None),  # a blank row: not done yet, still open
                  feedback("T-OLD", "C1", "部分解决", yesterday, service_type="实施", notes="期初数据未导完")],
    )
    rows = by_ticket(plan(data))
    assert set(rows) == {"T1", "T2", "T4", "T-OLD"}
    assert rows["T1"]["last_result"] == "未解决"
    assert rows["T1"]["days_waiting"] == 2  # called Wednesday: Thursday and Friday
    # A ticket whose call is not in the folder: customer, category and problem from its feedback.
    assert rows["T-OLD"]["assignee"] == "S01"
    assert rows["T-OLD"]["problem"] == "期初数据未导完"
    assert rows["T-OLD"]["days_waiting"] == 1


def test_what_happened_after_today_is_not_counted() -> None:
    data = tables([engineer("E01", "张伟", "西湖区")], [customer("C1", "E01")],
                  [call("T1", "C1"), call("T2", "C1", when=dt.datetime(2026, 11, 30, 9))],
                  feedback=[feedback("T1", "C1", "已解决", PLAN)])
    assert plan(data).assignments["ticket_id"].tolist() == ["T1"]


def test_open_tickets_alone() -> None:
    frame = open_tickets(table("calls", [call("T1", "C1")]), table("feedback", []), CALENDAR, TODAY)
    assert frame[["ticket_id", "days_waiting", "severity", "urgency"]].to_dict("records") == [
        {"ticket_id": "T1", "days_waiting": 0, "severity": "中", "urgency": "一般"}]


def test_a_ticket_solved_then_unfinished_again_is_open() -> None:
    feedback_rows = [feedback("T1", "C1", "已解决", dt.date(2026, 11, 26)), feedback("T1", "C1", "未解决")]
    frame = open_tickets(table("calls", [call("T1", "C1"), call("T2", "C1")]),
                         table("feedback", [*feedback_rows, feedback("T2", "C1", "已解决")]), CALENDAR, TODAY)
    assert frame[["ticket_id", "last_result"]].to_dict("records") == [{"ticket_id": "T1", "last_result": "未解决"}]


# --- priority -------------------------------------------------------------------------------------


def priority_case() -> dict[str, pd.DataFrame]:
    return tables(
        [engineer("E01", "张伟", "西湖区")], [customer("C1", "E01"), customer("CK", "E01", key_customer=True)],
        [call("T-F", "C1"), call("T-E", "C1"), call("T-D", "C1", when=dt.datetime(2026, 11, 27, 8)),
         call("T-C", "C1", when=dt.datetime(2026, 11, 25, 16)), call("T-B", "C1", urgency="紧急"),
         call("T-A", "C1", severity="高"), call("T-K", "CK", severity="低")],
    )


def test_priority_key_customer_severity_urgency_waiting_call_time_ticket_id() -> None:
    result = plan(priority_case(), Settings(daily_cap=10))
    order = result.assignments.sort_values("priority")["ticket_id"].tolist()
    assert order == ["T-K", "T-A", "T-B", "T-C", "T-D", "T-E", "T-F"]
    order = plan(priority_case(), Settings(daily_cap=10, key_customers_first=False)).assignments.sort_values(
        "priority")["ticket_id"].tolist()
    assert order == ["T-A", "T-B", "T-C", "T-D", "T-E", "T-F", "T-K"]


def test_a_priority_matrix_replaces_severity_then_urgency() -> None:
    rules = Settings(daily_cap=10, priority_matrix="中紧急=1，高-一般=2, 乱写")
    result = plan(priority_case(), rules)
    order = result.assignments.sort_values("priority")["ticket_id"].tolist()
    # Key customer first still; then the matrix ranks; the unlisted combinations last, by waiting and time.
    assert order == ["T-K", "T-B", "T-A", "T-C", "T-D", "T-E", "T-F"]
    assert result.warnings == ["优先级矩阵中的“乱写”看不懂，已忽略；应写成 高紧急=1 这样的形式"]


# --- routes ---------------------------------------------------------------------------------------


def test_each_list_is_a_route_from_the_base_nearest_next() -> None:
    data = tables([engineer("E01", "张伟", "西湖区", lat=0.0, lon=0.0, daily_cap=5)],
                  [customer("C1", "E01", lat=0.0, lon=-3.0), customer("C2", "E01", lat=0.0, lon=5.0),
                   customer("C3", "E01", lat=0.0, lon=2.0)],
                  [call("T1", "C1"), call("T2", "C2"), call("T3", "C3")])
    result = plan(data)
    assert result.assignments["ticket_id"].tolist() == ["T3", "T2", "T1"]
    assert result.assignments["route"].tolist() == [1, 2, 3]
    assert result.assignments["distance_km"].tolist() == [222.4, 556.0, 333.6]
    # Read down the route, each leg runs from the stop before (the first from the base).
    assert result.assignments["leg_km"].tolist() == [222.4, 333.6, 889.6]


# --- the optimal step alone, and the property -----------------------------------------------------


def test_optimal_assignment_respects_room_and_prefers_earlier_columns_on_ties() -> None:
    # Both rows are 1 from columns 0 and 1: with room for both, column 0 takes both.
    assert optimal_assignment(np.array([[1.0, 1.0], [1.0, 1.0]]), np.array([2, 2])).tolist() == [0, 0]
    # Row 0 ties between columns 0 and 1 and takes 0; row 1 is nearest to column 2.
    assert optimal_assignment(np.array([[1.0, 1.0, 5.0], [9.0, 9.0, 0.0]]), np.array([1, 1, 1])).tolist() == [0, 2]
    # The greedy trap in numbers: row 0 would take column 0 (1) and leave row 1 to column 1 (10).
    assert optimal_assignment(np.array([[1.0, 2.0], [2.0, 10.0]]), np.array([1, 1])).tolist() == [1, 0]
    with pytest.raises(ValueError):
        optimal_assignment(np.array([[1.0], [2.0]]), np.array([1]))


AREAS = ("西湖区", "滨江区", "上城区")


def places_of(frame: pd.DataFrame) -> Places:
    return Places.of(list(frame["lat"]), list(frame["lon"]), list(frame["area"]))


@st.composite
def instances(draw: st.DrawFn) -> dict[str, pd.DataFrame]:
    people = draw(st.integers(1, 4))
    staff = [engineer(f"E{i}", f"工程师{i}", draw(st.sampled_from(AREAS)), daily_cap=draw(st.integers(0, 2)),
                      active=draw(st.booleans()) or draw(st.booleans()))
             for i in range(people)]
    staff.append(specialist("S0", "实施0", draw(st.sampled_from(AREAS))))
    owners = [s["staff_id"] for s in staff]
    count = draw(st.integers(0, 7))
    customers = [customer(f"C{i}", draw(st.sampled_from(owners)), draw(st.sampled_from(AREAS)),
                          key_customer=draw(st.booleans())) for i in range(count)]
    calls = [call(f"T{i}", f"C{i}", severity=draw(st.sampled_from(("高", "中", "低"))),
                  urgency=draw(st.sampled_from(("紧急", "一般", "不急"))),
                  category=draw(st.sampled_from(("软件故障", "软件故障", "实施"))),
                  when=MORNING - dt.timedelta(days=draw(st.integers(0, 4)), hours=draw(st.integers(0, 3))))
             for i in range(count)]
    km = [{"area_a": a, "area_b": b, "km": draw(st.integers(0, 9))} for a, b in itertools.combinations(AREAS, 2)]
    return tables(staff, customers, calls, area_distance=km)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(instances())
def test_property_the_moved_tickets_travel_the_least_total_and_the_backlog_ranks_below(
        data: dict[str, pd.DataFrame]) -> None:
    result = plan(data)
    staff = data["staff"].set_index("staff_id")
    model = DistanceModel(data["area_distance"])
    customers = data["customers"].set_index("customer_id")
    for role in ("服务工程师", "实施专员"):
        done = result.assignments[result.assignments["pool"] == role]
        waiting = result.backlog[result.backlog["pool"] == role]
        if len(done) and len(waiting):
            assert done["priority"].max() < waiting["priority"].min()
        present = [s for s, row in staff.iterrows() if row["role"] == role and row["active"] is not False]
        caps = {s: Settings().daily_cap if staff.loc[s, "daily_cap"] is None else staff.loc[s, "daily_cap"]
                for s in present}
        kept = done[~done["moved"].astype(bool)]
        assert all(kept["assignee"] == kept["owner"])
        room = {s: caps[s] - int((kept["assignee"] == s).sum()) for s in present}
        assert all(v >= 0 for v in room.values())
        moved = done[done["moved"].astype(bool)]
        if moved.empty:
            continue
        distance, _ = model.matrix(places_of(customers.loc[moved["customer_id"]]), places_of(staff.loc[present]))
        best = min(
            sum(distance[i, present.index(s)] for i, s in enumerate(choice))
            for choice in itertools.product(present, repeat=len(moved))
            if all(choice.count(s) <= room[s] for s in present)
        )
        assert sum(moved["distance"]) == pytest.approx(best)
        assert all(sum(done["assignee"] == s) <= caps[s] for s in present)


# --- the written workbooks and the loop -----------------------------------------------------------

STAFF_ROWS = [
    {"工号": "E01", "姓名": "张伟", "岗位": "服务工程师", "区域": "西湖区", "邮箱": "e01@example.com"},
    {"工号": "E02", "姓名": "王强", "岗位": "服务工程师", "区域": "滨江区", "每日上限": 2},
    {"工号": "S01", "姓名": "钱七", "岗位": "实施专员", "区域": "西湖区"},
]
CUSTOMER_ROWS = [
    {"客户编号": f"C00{i}", "客户名称": f"客户{i}有限公司", "联系人": "李会计", "联系电话": f"05718800123{i}",
     "地址": f"文三路{i}号", "区域": "西湖区", "服务代表": "张伟", "重点客户": "是" if i == 1 else "否"}
    for i in range(1, 6)
]
CALL_ROWS = [
    {"工单号": f"T{i}", "来电时间": f"2026-11-27 09:0{i}", "客户编号": f"C00{i}", "问题类别": "软件故障",
     "问题描述": f"问题{i}", "严重性": "中", "紧急性": "一般", "处理方式": "需上门"}
    for i in range(1, 5)
] + [{"工单号": "T5", "来电时间": "2026-11-27 10:00", "客户编号": "C005", "问题类别": "实施", "问题描述": "初始化",
      "处理方式": "需上门"}]


def input_folder(folder: Path) -> Path:
    write_records(folder / "基础资料.xlsx", {"员工名单": STAFF_ROWS, "客户档案": CUSTOMER_ROWS})
    write_records(folder / "热线记录1127.xlsx", {"热线": CALL_ROWS})
    return folder


def errors(inbox: Any) -> list[Any]:
    return [p for p in inbox.problems if p.severity is Severity.ERROR]


def run_dispatch(folder: Path, today: dt.date, out: Path) -> tuple[DispatchResult, list[Path]]:
    inbox = load_folder(folder, today)
    assert errors(inbox) == []
    result = plan_dispatch(inbox.tables, inbox.settings, WorkCalendar.from_settings(inbox.settings), today)
    written: list[Path] = []
    write_dispatch_books(out, result, inbox.tables, written)
    return result, written


def test_the_written_workbooks_have_the_sheets_headers_and_dropdowns(tmp_path: Path) -> None:
    result, written = run_dispatch(input_folder(tmp_path / "in"), TODAY, tmp_path / "out")
    names = sorted(p.name for p in written)
    assert names == ["派工单_2026-11-30.xlsx", "派工单_2026-11-30_张伟.xlsx", "派工单_2026-11-30_王强.xlsx",
                     "派工单_2026-11-30_钱七.xlsx"]
    overview = CalamineWorkbook.from_path(str(tmp_path / "out" / "派工单_2026-11-30.xlsx"))
    assert overview.sheet_names == ["总览", "张伟", "王强", "钱七", "未派"]
    rows = overview.get_sheet_by_name("总览").to_python()
    headers = rows[1]
    for header in ("派给", "工单号", "客户编号", "客户名称", "联系人", "联系电话", "地址", "报修问题", "优先顺序",
                   "原服务代表", "改派原因", "服务日期", "服务类型", "处理结果", "客户满意度", "电话预约"):
        assert header in headers
    for header in ("来电时间", "问题描述", "服务代表", "回访日期", "回访类型"):
        assert header not in headers
    assert len(rows) == 2 + 5
    backlog = overview.get_sheet_by_name("未派").to_python()
    assert "原因" in backlog[1] and len(backlog) == 2  # caps 3 + 2 hold every engineer ticket

    book = openpyxl.load_workbook(tmp_path / "out" / "派工单_2026-11-30_张伟.xlsx")
    sheet = book["张伟"]
    top, columns = header_row(sheet, "工单号")
    assert sheet.print_title_rows == f"${top}:${top}"
    assert sheet.page_setup.paperSize == 9  # A4
    assert sheet.sheet_properties.pageSetUpPr.fitToPage and sheet.page_setup.fitToHeight == 0  # one page wide
    # Paper holds the route and the boxes to fill in; what the sheet needs to come back stands after them.
    notes = openpyxl.utils.get_column_letter(columns["备注"])
    assert sheet.page_setup.orientation == "landscape" and f":${notes}$" in sheet.print_area
    assert min(columns[h] for h in ("工单号", "服务日期", "派给")) > columns["备注"]
    lists = {str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation}
    result_letter = openpyxl.utils.get_column_letter(columns["处理结果"])
    assert any(ref.startswith(result_letter) and "已解决" in formula for ref, formula in lists.items())
    assert sheet.cell(top + 1, columns["派给"]).value == "张伟"
    assert sheet.cell(top + 1, columns["服务日期"]).value == dt.datetime(2026, 11, 30)
    assert sheet.cell(top + 1, columns["联系电话"]).value.startswith("0571")
    specialist_sheet = openpyxl.load_workbook(tmp_path / "out" / "派工单_2026-11-30_钱七.xlsx")["钱七"]
    top, columns = header_row(specialist_sheet, "工单号")
    assert specialist_sheet.cell(top + 1, columns["服务类型"]).value == "实施"
    assert result.assignments.groupby("assignee").size().to_dict() == {"E01": 3, "E02": 1, "S01": 1}


def test_the_loop_a_filled_sheet_comes_back_as_feedback(tmp_path: Path) -> None:
    folder, out = input_folder(tmp_path / "in"), tmp_path / "out"
    first, _ = run_dispatch(folder, TODAY, out / "d1")
    rows = by_ticket(first)
    assert {t: r["days_waiting"] for t, r in rows.items()} == {"T1": 0, "T2": 0, "T3": 0, "T4": 0, "T5": 0}
    mine = sorted(t for t, r in rows.items() if r["assignee"] == "E01")
    assert mine == ["T1", "T2", "T3"]

    # 张伟 fills his sheet: T1 solved, T2 not solved, T3 left blank; he drops it into the folder.
    book = openpyxl.load_workbook(out / "d1" / PERSON_DISPATCH_OUTPUT.file_name(dt.date(2026, 11, 30), "张伟"))
    sheet = book.active
    top, columns = header_row(sheet, "工单号")
    outcome = {"T1": "已解决", "T2": "未解决"}
    for row in range(top + 1, sheet.max_row + 1):
        ticket = sheet.cell(row, columns["工单号"]).value
        if ticket in outcome:
            sheet.cell(row, columns["处理结果"]).value = outcome[ticket]
            sheet.cell(row, columns["到达时间"]).value = "9:30"
            sheet.cell(row, columns["离开时间"]).value = "10:45"
            sheet.cell(row, columns["电话预约"]).value = "是"
    book.save(folder / "张伟反馈1130.xlsx")
    # The manager also keeps the whole dispatch workbook in the folder: read, never an error.
    shutil.copy(out / "d1" / DISPATCH_OUTPUT.file_name(dt.date(2026, 11, 30)), folder)

    inbox = load_folder(folder, PLAN)
    assert errors(inbox) == []
    returned = inbox.tables["feedback"]
    assert set(returned["ticket_id"]) == {"T1", "T2", "T3", "T4", "T5"}
    filled = returned[returned["result"].notna()].set_index("ticket_id")
    assert filled["result"].to_dict() == {"T1": "已解决", "T2": "未解决"}
    assert set(filled["staff"]) == {"E01"} and set(filled["service_date"]) == {PLAN}
    assert filled.loc["T1", "arrive"] == dt.time(9, 30)

    second, _ = run_dispatch(folder, PLAN, out / "d2")
    assert second.plan_date == dt.date(2026, 12, 1)
    rows = by_ticket(second)
    assert "T1" not in rows and "T1" not in set(second.backlog["ticket_id"])
    assert rows["T2"]["days_waiting"] == 1 and rows["T2"]["last_result"] == "未解决"
    assert rows["T3"]["days_waiting"] == 1 and rows["T3"]["last_result"] is None
    assert set(rows) == {"T2", "T3", "T4", "T5"}
