"""The manager adjusts the plan and complaint re-visits come first (docs/rules.md § Dispatch, § Fees), on
the example month's real workbooks: the run's own 派工单_P.xlsx and 年费_D.xlsx are opened with
openpyxl, changed as the manager would, saved into a copy of the inbox, and the same D is run again."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from kis_batch import pipeline
from kis_batch.calendar import WorkCalendar
from kis_batch.outputs import DISPATCH_OUTPUT, FEES_OUTPUT
from kis_batch.problems import Code, Problem, Severity
from kis_batch.rules.complaints import complaint_cases
from kis_batch.rules.dispatch import COMPLAINT_FIRST, plan_dispatch
from kis_batch.rules.scoring import link_events
from kis_batch.schema import HOLD
from tests.builders import header_row
from tests.conftest import EXAMPLE, EXAMPLE_TODAY

TODAY = EXAMPLE_TODAY
PLAN = dt.date(2026, 11, 30)
DISPATCH = DISPATCH_OUTPUT.file_name(PLAN)
FEES = FEES_OUTPUT.file_name(TODAY)
ON_LEAVE = "汪洋"  # 请假 11-30 to 12-01 in the example month


def rows_of(path: Path, sheet: str, marker: str) -> list[dict[str, Any]]:
    """A written sheet's data rows by header, each with its Excel row number under "_row"."""
    book = openpyxl.load_workbook(path)
    top, headers = header_row(book[sheet], marker)
    return [{**{h: row[c - 1].value for h, c in headers.items()}, "_row": row[0].row}
            for row in book[sheet].iter_rows(min_row=top + 1) if any(cell.value for cell in row)]


def edit(source: Path, target: Path, sheet: str, marker: str, changes: dict[int, dict[str, Any]]) -> Path:
    """Save source as target with the given cells changed: {Excel row: {header: value}}."""
    book = openpyxl.load_workbook(source)
    _, headers = header_row(book[sheet], marker)
    for row, values in changes.items():
        for header, value in values.items():
            book[sheet].cell(row, headers[header], value)
    book.save(target)
    return target


def designate(inbox: Path, ticket: str, person: str) -> None:
    """The hotline writes 指定工程师 beside a call in the call-log workbook that holds it."""
    for path in sorted(inbox.glob("热线记录*.xlsx")):
        book = openpyxl.load_workbook(path)
        for sheet in book.worksheets:
            top, headers = header_row(sheet, "工单号")
            column = headers.get("指定工程师") or sheet.max_column + 1
            for row in sheet.iter_rows(min_row=top + 1):
                if row[headers["工单号"] - 1].value == ticket:
                    sheet.cell(top, column, "指定工程师")
                    sheet.cell(row[0].row, column, person)
                    book.save(path)
                    return
    raise AssertionError(f"no call {ticket}")


@pytest.fixture(scope="module")
def planned(example_run: pipeline.RunResult) -> list[dict[str, Any]]:
    """The example month run's 总览 rows of dispatched tickets."""
    return [r for r in rows_of(example_run.out_dir / DISPATCH, "总览", "工单号") if r["类别"] == "派工"]


@pytest.fixture(scope="module")
def adjusted(example_run: pipeline.RunResult, planned: list[dict[str, Any]],
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The manager pins four tickets to one engineer (cap 3), holds one, and picks an engineer on leave
    for another; the hotline designates a backlog ticket, and one the manager pins elsewhere; the
    manager hands one chase to someone else. Then the same D is run twice."""
    inbox = tmp_path_factory.mktemp("inbox")
    shutil.copytree(EXAMPLE, inbox, dirs_exist_ok=True)
    engineers = [r for r in planned if r["派给"] != ON_LEAVE and r["报修问题"] and r["优先顺序"]]
    target = "苏一鸣"
    others = [r for r in engineers if r["派给"] not in (target,) and r["派给"] in
              {"余欣怡", "范一鸣", "郭伟", "何雪梅"}]
    pinned, held, to_leave = others[:4], others[4], others[5]
    changes = {r["_row"]: {"派给": target} for r in pinned}
    changes[held["_row"]] = {"派给": HOLD}
    changes[to_leave["_row"]] = {"派给": ON_LEAVE}
    overview = edit(example_run.out_dir / DISPATCH, inbox / DISPATCH, "总览", "工单号", changes)

    backlog = rows_of(example_run.out_dir / DISPATCH, "未派", "工单号")
    by_hotline = next(r for r in backlog if r["上次结果"] is None and "服务工程师" in r["原因"])
    designate(inbox, by_hotline["工单号"], "何雪梅")
    designate(inbox, pinned[0]["工单号"], "范一鸣")  # the manager's 总览 wins

    chases = rows_of(example_run.out_dir / FEES, "催收清单", "合同编号")
    chase = next(r for r in chases if r["催收负责人"] != "何雪梅")
    edit(example_run.out_dir / FEES, inbox / FEES, "催收清单", "合同编号",
         {chase["_row"]: {"催收负责人": "何雪梅"}})

    again = pipeline.run(inbox, TODAY, tmp_path_factory.mktemp("again"))
    rerun = pipeline.run(inbox, TODAY, tmp_path_factory.mktemp("rerun"))
    return {"inbox": inbox, "overview": overview, "pinned": pinned, "held": held, "to_leave": to_leave,
            "by_hotline": by_hotline, "chase": chase, "target": target, "again": again, "rerun": rerun}


def assigned(result: pipeline.RunResult) -> dict[str, dict[str, Any]]:
    return {r["工单号"]: r for r in rows_of(result.out_dir / DISPATCH, "总览", "工单号") if r["工单号"]}


def waiting(result: pipeline.RunResult) -> dict[str, dict[str, Any]]:
    return {r["工单号"]: r for r in rows_of(result.out_dir / DISPATCH, "未派", "工单号")}


def test_the_example_month_is_clean_and_its_overview_offers_the_people_on_duty(example_run: pipeline.RunResult) -> None:
    assert example_run.inbox.problems == []
    sheet = openpyxl.load_workbook(example_run.out_dir / DISPATCH)["总览"]
    _, headers = header_row(sheet, "工单号")
    assignee = openpyxl.utils.get_column_letter(headers["派给"])
    [dropdown] = [v for v in sheet.data_validations.dataValidation if str(v.sqref).startswith(f"{assignee}3")]
    people = dropdown.formula1.strip('"').split(",")
    assert people[-1] == HOLD and ON_LEAVE not in people and {"苏一鸣", "何雪梅", "陆文斌"} <= set(people)
    assert "计划派给" in headers


def test_pinned_tickets_go_to_the_managers_choice_with_the_reason_and_an_over_cap_warning(
        adjusted: dict[str, Any]) -> None:
    rows = assigned(adjusted["again"])
    for r in adjusted["pinned"]:
        got = rows[r["工单号"]]
        assert got["派给"] == adjusted["target"] and "经理指定" in got["改派原因"]
        assert got["计划派给"] == r["派给"]  # the plan it was pinned against, shown again
    assert sum(r["派给"] == adjusted["target"] for r in rows.values()) == 4
    problems = adjusted["again"].inbox.problems
    [over] = [p for p in problems if p.severity is Severity.WARNING]
    assert over.file == DISPATCH and over.sheet == "总览"
    assert "苏一鸣" in over.message and "超过每日上限3家1家" in over.message


def test_a_held_ticket_waits_as_the_managers_hold(adjusted: dict[str, Any]) -> None:
    held = adjusted["held"]["工单号"]
    assert held not in assigned(adjusted["again"])
    assert waiting(adjusted["again"])[held]["原因"].startswith("经理暂缓")


def test_a_pin_to_an_engineer_on_leave_is_an_error_at_its_cell_and_the_ticket_is_planned_as_usual(
        adjusted: dict[str, Any]) -> None:
    to_leave = adjusted["to_leave"]
    [error] = [p for p in adjusted["again"].inbox.problems if p.severity is Severity.ERROR]
    assert error == Problem(Code.CONSTRAINT, Severity.ERROR, error.message, file=DISPATCH, sheet="总览",
                            row=to_leave["_row"], column="A", header="派给", value=ON_LEAVE)
    assert "请假" in error.message and "本单照常派工" in error.message
    got = assigned(adjusted["again"]).get(to_leave["工单号"]) or waiting(adjusted["again"])[to_leave["工单号"]]
    assert got.get("派给") != ON_LEAVE and "经理指定" not in (got.get("改派原因") or got.get("原因") or "")


def test_the_hotlines_designation_places_a_waiting_ticket_and_the_manager_wins_over_it(
        adjusted: dict[str, Any]) -> None:
    rows = assigned(adjusted["again"])
    by_hotline = rows[adjusted["by_hotline"]["工单号"]]
    assert by_hotline["派给"] == "何雪梅" and "热线指定工程师" in by_hotline["改派原因"]
    assert rows[adjusted["pinned"][0]["工单号"]]["派给"] == adjusted["target"]


def test_a_rerun_keeps_the_pins_and_so_does_returning_the_reruns_overview(
        adjusted: dict[str, Any], tmp_path: Path) -> None:
    again, rerun = adjusted["again"], adjusted["rerun"]
    assert assigned(rerun) == assigned(again) and waiting(rerun) == waiting(again)
    # The manager drops the rerun's 总览 in place of the first: the changed rows still say what was planned.
    inbox = tmp_path / "inbox"
    shutil.copytree(adjusted["inbox"], inbox)
    shutil.copy(rerun.out_dir / DISPATCH, inbox / DISPATCH)
    third = pipeline.run(inbox, TODAY, tmp_path / "out")
    rows = assigned(third)
    assert all(rows[r["工单号"]]["派给"] == adjusted["target"] for r in adjusted["pinned"])


def test_a_returned_chase_list_hands_the_chase_to_the_new_person(adjusted: dict[str, Any]) -> None:
    chase = adjusted["chase"]
    rows = rows_of(adjusted["again"].out_dir / FEES, "催收清单", "合同编号")
    [moved] = [r for r in rows if r["合同编号"] == chase["合同编号"]]
    assert moved["催收负责人"] == "何雪梅" and moved["计划负责人"] == chase["催收负责人"]
    assert moved["催收事项"].startswith(f"经理改派（原负责人{chase['催收负责人']}）")
    assert moved["催收日期"] == dt.datetime(2026, 11, 30)
    # The returned 年费_D is read for its chase list only: no warning about its other sheets.
    record = next(f for f in adjusted["again"].inbox.files if f.path == FEES)
    assert record.status == "read" and record.sheets == {"催收清单": "fee_chase"}


def test_a_complaint_revisit_goes_out_before_routine_work(example_run: pipeline.RunResult) -> None:
    inbox = example_run.inbox
    calendar = WorkCalendar.from_settings(inbox.settings)
    cases = complaint_cases(inbox.tables, link_events(inbox.tables, TODAY), inbox.settings, calendar, TODAY)
    with_cases = plan_dispatch(inbox.tables, inbox.settings, calendar, TODAY, cases.open_by_customer())
    without = plan_dispatch(inbox.tables, inbox.settings, calendar, TODAY)
    open_customers = set(cases.open["customer_id"])
    # Without the rule a complaint customer's ticket waits while routine tickets go out …
    routine_out = without.assignments[~without.assignments["key_customer"].astype(bool)
                                      & ~without.assignments["customer_id"].isin(open_customers)]
    waits = without.backlog[without.backlog["customer_id"].isin(open_customers)]
    assert len(routine_out) and len(waits)
    # … with it, that ticket goes out, saying why, and no complaint ticket waits while routine work goes.
    out = with_cases.assignments.set_index("ticket_id")
    for ticket in waits["ticket_id"]:
        assert out.loc[ticket, "reason"].startswith(COMPLAINT_FIRST)
    engineers = with_cases.backlog[with_cases.backlog["pool"] == "服务工程师"]
    assert not engineers["customer_id"].isin(open_customers).any()
    # The run itself plans with the cases: its 总览 is that plan.
    rows = assigned(example_run)
    assert all(rows[ticket]["改派原因"].startswith(COMPLAINT_FIRST) for ticket in waits["ticket_id"])


def test_of_two_returned_overviews_the_newer_counts_and_equally_new_ones_that_disagree_are_a_conflict(
        adjusted: dict[str, Any], tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(adjusted["inbox"], inbox)
    ticket = adjusted["pinned"][0]
    (inbox / "1128").mkdir()
    # The manager puts the first pinned ticket back to its plan in a copy saved later, in a subfolder.
    undone = edit(inbox / DISPATCH, inbox / "1128" / DISPATCH, "总览", "工单号", {ticket["_row"]: {"派给": ticket["派给"]}})
    os.utime(inbox / DISPATCH, (1_790_000_000, 1_790_000_000))
    os.utime(undone, (1_790_000_100, 1_790_000_100))
    newer = pipeline.run(inbox, TODAY, tmp_path / "newer")
    rows = assigned(newer)
    assert "经理指定" not in (rows[ticket["工单号"]]["改派原因"] or "")
    assert all(rows[r["工单号"]]["派给"] == adjusted["target"] for r in adjusted["pinned"][1:])
    assert not [p for p in newer.inbox.problems if p.code is Code.CONFLICT]
    os.utime(inbox / DISPATCH, (1_790_000_100, 1_790_000_100))  # saved the same moment: neither is newer
    tie = pipeline.run(inbox, TODAY, tmp_path / "tie")
    conflicts = [(p.file, p.row, p.header) for p in tie.inbox.problems if p.code is Code.CONFLICT]
    assert sorted(conflicts) == sorted([(DISPATCH, ticket["_row"], "派给"), (f"1128/{DISPATCH}", ticket["_row"], "派给")])
    assert "经理指定" not in (assigned(tie).get(ticket["工单号"], {}).get("改派原因") or "")


def test_of_two_returned_chase_lists_the_newer_hands_the_chase_over(adjusted: dict[str, Any], tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    shutil.copytree(adjusted["inbox"], inbox)
    chase = adjusted["chase"]
    (inbox / "1128").mkdir()
    later = edit(inbox / FEES, inbox / "1128" / FEES, "催收清单", "合同编号", {chase["_row"]: {"催收负责人": "苏一鸣"}})
    os.utime(inbox / FEES, (1_790_000_000, 1_790_000_000))
    os.utime(later, (1_790_000_100, 1_790_000_100))
    result = pipeline.run(inbox, TODAY, tmp_path / "out")
    assert not [p for p in result.inbox.problems if p.code is Code.CONFLICT]
    [moved] = [r for r in rows_of(result.out_dir / FEES, "催收清单", "合同编号") if r["合同编号"] == chase["合同编号"]]
    assert moved["催收负责人"] == "苏一鸣"
