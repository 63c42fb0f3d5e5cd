"""People are their 工号 (docs/rules.md § Inputs (员工名单)): two of one 姓名 each get their own files and mail,
and a rerun of a day replaces its outputs (docs/rules.md § Outputs). Several runs into one OUT, on
real workbooks read back with the real readers.

D is Friday 2026-11-27; the plan date P is Monday 2026-11-30.
"""

from __future__ import annotations

import datetime as dt
import json
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import openpyxl
from click.testing import CliRunner

from kis_batch import history, pipeline
from kis_batch.cli import main
from kis_batch.outputs import (
    CALLBACKS_OUTPUT,
    DISPATCH_OUTPUT,
    HISTORY,
    MANAGER_OUTPUT,
    PERSON_DISPATCH_OUTPUT,
    QUALITY_OUTPUT,
    REPORT_OUTPUT,
)
from kis_batch.problems import Severity
from tests.builders import header_row, write_records

D = dt.date(2026, 11, 27)
P = dt.date(2026, 11, 30)

ZHANG = {"工号": "E01", "姓名": "张伟", "岗位": "服务工程师", "区域": "西湖区", "邮箱": "e01@example.com"}
LI_A = {"工号": "E02", "姓名": "李明", "岗位": "服务工程师", "区域": "西湖区", "邮箱": "e02@example.com"}
LI_B = {"工号": "E04", "姓名": "李明", "岗位": "服务工程师", "区域": "滨江区", "邮箱": "e04@example.com"}
MANAGER = {"工号": "M01", "姓名": "周经理", "岗位": "服务部经理", "区域": "西湖区", "邮箱": "m01@example.com"}


def customer(cid: str, owner: str) -> dict[str, Any]:
    return {"客户编号": cid, "客户名称": f"{cid}有限公司", "联系人": "李会计", "联系电话": "057188001234",
            "地址": "文三路1号", "区域": "西湖区", "服务代表": owner}


def call(ticket: str, cid: str) -> dict[str, Any]:
    return {"工单号": ticket, "来电时间": "2026-11-27 09:00", "客户编号": cid, "问题类别": "软件故障",
            "问题描述": f"{ticket}的问题", "处理方式": "需上门"}


def department(folder: Path, staff: list[dict[str, Any]], customers: list[dict[str, Any]],
               calls: list[dict[str, Any]]) -> Path:
    write_records(folder / "基础资料.xlsx", {"员工名单": staff, "客户档案": customers})
    write_records(folder / "热线记录.xlsx", {"热线记录": calls})
    return folder


def tickets_in(path: Path) -> list[str]:
    sheet = openpyxl.load_workbook(path).worksheets[0]
    top, columns = header_row(sheet, "工单号")
    return [sheet.cell(r, columns["工单号"]).value for r in range(top + 1, sheet.max_row + 1)
            if sheet.cell(r, columns["工单号"]).value]


def outbox(out_dir: Path) -> dict[str, list[str]]:
    """Each message's recipient address -> the names of its attachments, from the .eml files."""
    found = {}
    for path in (out_dir / "outbox").glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        found[message["To"].addresses[0].addr_spec] = sorted(p.get_filename() for p in message.iter_attachments())
    return found


def errors(result: pipeline.RunResult) -> list[str]:
    return [p.message for p in result.inbox.problems if p.severity is Severity.ERROR]


# --- two people of one 姓名 -------------------------------------------------------------------------

def test_two_of_one_name_get_their_own_files_and_their_own_mail(tmp_path: Path) -> None:
    folder = department(tmp_path / "in", [ZHANG, LI_A, LI_B, MANAGER],
                        [customer("C001", "E02"), customer("C002", "E04"), customer("C003", "张伟")],
                        [call("T1", "C001"), call("T2", "C002"), call("T3", "C003")])
    result = pipeline.run(folder, D, tmp_path / "out")
    assert errors(result) == []
    out = result.out_dir
    assert tickets_in(out / PERSON_DISPATCH_OUTPUT.file_name(P, "李明_E02")) == ["T1"]
    assert tickets_in(out / PERSON_DISPATCH_OUTPUT.file_name(P, "李明_E04")) == ["T2"]
    assert tickets_in(out / PERSON_DISPATCH_OUTPUT.file_name(P, "张伟")) == ["T3"]  # a name no one shares stays plain
    assert not (out / PERSON_DISPATCH_OUTPUT.file_name(P, "李明")).exists()
    assert {"李明_E02", "李明_E04"} <= set(openpyxl.load_workbook(out / DISPATCH_OUTPUT.file_name(P)).sheetnames)

    mailed = CliRunner().invoke(main, ["mail", str(out)])
    assert mailed.exit_code == 0, mailed.output
    sent = outbox(out)
    assert sent["e02@example.com"] == [PERSON_DISPATCH_OUTPUT.file_name(P, "李明_E02")]
    assert sent["e04@example.com"] == [PERSON_DISPATCH_OUTPUT.file_name(P, "李明_E04")]
    assert sent["e01@example.com"] == [PERSON_DISPATCH_OUTPUT.file_name(P, "张伟")]


def fill(source: Path, target: Path, sheet: str, marker: str, key: str, values: dict[str, Any]) -> dict[Any, Any]:
    """A returned sheet: source's rows under marker filled with values, saved as target; each row's key
    -> what its 派给 / 服务代表 column printed."""
    book = openpyxl.load_workbook(source)
    top, headers = header_row(book[sheet], marker)
    printed = {}
    for row in range(top + 1, book[sheet].max_row + 1):
        found = book[sheet].cell(row, headers[key]).value
        if found is None:
            continue
        printed[found] = book[sheet].cell(row, headers.get("派给") or headers["服务代表"]).value
        for header, value in values.items():
            book[sheet].cell(row, headers[header], value)
    book.save(target)
    return printed


def test_two_of_one_name_return_their_sheets_and_each_is_read_as_their_own(tmp_path: Path) -> None:
    hotline = {"工号": "H01", "姓名": "陈静", "岗位": "服务监督热线", "区域": "西湖区", "邮箱": "h01@example.com"}
    folder = department(tmp_path / "in", [ZHANG, LI_A, LI_B, MANAGER, hotline],
                        [customer("C001", "E02"), customer("C002", "E04")], [call("T1", "C001"), call("T2", "C002")])
    out = pipeline.run(folder, D, tmp_path / "out").out_dir
    visited = {"服务方式": "上门", "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00", "处理结果": "已解决",
               "客户满意度": "满意", "客户签字": "是"}
    # Each 李明 fills in his own 派工单; the manager drops the 总览 back unchanged.
    for person in ("李明_E02", "李明_E04"):
        sheet = PERSON_DISPATCH_OUTPUT.file_name(P, person)
        assert fill(out / sheet, folder / sheet, person, "工单号", "工单号", visited) == {
            "T1" if person.endswith("E02") else "T2": person}
    overview = fill(out / DISPATCH_OUTPUT.file_name(P), folder / DISPATCH_OUTPUT.file_name(P), "总览", "工单号", "工单号", {})
    assert overview == {"T1": "李明_E02", "T2": "李明_E04"}
    # The hotline calls both customers the 李明 visited and returns the list.
    called = fill(out / CALLBACKS_OUTPUT.file_name(P), folder / CALLBACKS_OUTPUT.file_name(P), "当日核实", "客户编号",
                  "客户编号", {"接通": "是", "上门属实": "是", "客户满意度": "满意", "投诉": "否", "回访人": "陈静"})
    assert called == {"C001": "李明_E02", "C002": "李明_E04"}

    again = pipeline.run(folder, P, tmp_path / "out")
    assert errors(again) == []
    feedback = again.inbox.tables["feedback"]
    served = feedback[feedback["result"].notna()].set_index("ticket_id")["staff"].to_dict()
    assert served == {"T1": "E02", "T2": "E04"}
    assert again.inbox.tables["callbacks"].set_index("customer_id")["staff"].to_dict() == {"C001": "E02", "C002": "E04"}
    assert len(again.inbox.pins) == 0  # 派给 as planned: no manager's pin


def test_a_reference_by_a_shared_name_is_an_error_naming_both(tmp_path: Path) -> None:
    folder = department(tmp_path / "in", [ZHANG, LI_A, LI_B],
                        [customer("C001", "李明"), customer("C002", "E04")], [call("T2", "C002")])
    write_records(folder / "年费.xlsx", {"年费台账": [
        {"合同编号": "F1", "客户编号": "C002", "服务开始": "2026-01-01", "服务到期": "2026-12-31", "年费金额": 3000,
         "负责人": "李明"}]})
    result = pipeline.run(folder, D, tmp_path / "out")
    shared = [p for p in result.inbox.problems if p.severity is Severity.ERROR]
    assert [(p.sheet, p.header) for p in shared] == [("客户档案", "服务代表"), ("年费台账", "负责人")]
    assert all("E02、E04" in p.message for p in shared)


# --- a rerun replaces its outputs ----------------------------------------------------------------

def test_a_rerun_removes_what_the_earlier_run_wrote_and_this_one_did_not(tmp_path: Path) -> None:
    folder = department(tmp_path / "in", [ZHANG, LI_A],
                        [customer("C001", "E02"), customer("C003", "张伟")], [call("T1", "C001"), call("T3", "C003")])
    first = pipeline.run(folder, D, tmp_path / "out")
    out = first.out_dir
    assert (out / PERSON_DISPATCH_OUTPUT.file_name(P, "李明")).is_file()
    mine = out / "我的笔记.xlsx"  # a file the tool did not write, beside its outputs
    write_records(mine, {"笔记": [{"事项": "明天带U盘"}]})

    # 李明 leaves before the rerun; his customer goes to 张伟.
    department(folder, [ZHANG, {**LI_A, "在岗": "否"}],
               [customer("C001", "张伟"), customer("C003", "张伟")], [call("T1", "C001"), call("T3", "C003")])
    again = pipeline.run(folder, D, tmp_path / "out")
    assert not (out / PERSON_DISPATCH_OUTPUT.file_name(P, "李明")).exists()
    assert again.removed_outputs == [PERSON_DISPATCH_OUTPUT.file_name(P, "李明")]
    manifest = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert manifest["removed_outputs"] == [PERSON_DISPATCH_OUTPUT.file_name(P, "李明")]
    assert mine.is_file()
    assert sorted(tickets_in(out / PERSON_DISPATCH_OUTPUT.file_name(P, "张伟"))) == ["T1", "T3"]

    third = pipeline.run(folder, D, tmp_path / "out")  # nothing left over: nothing removed
    assert third.removed_outputs == []


def test_a_stale_output_edited_since_is_kept_with_a_warning(tmp_path: Path) -> None:
    folder = department(tmp_path / "in", [ZHANG, LI_A],
                        [customer("C001", "E02"), customer("C003", "张伟")], [call("T1", "C001"), call("T3", "C003")])
    out = pipeline.run(folder, D, tmp_path / "out").out_dir
    edited = out / PERSON_DISPATCH_OUTPUT.file_name(P, "李明")
    book = openpyxl.load_workbook(edited)
    book.worksheets[0]["A1"] = "已改"
    book.save(edited)
    department(folder, [ZHANG, {**LI_A, "在岗": "否"}],
               [customer("C001", "张伟"), customer("C003", "张伟")], [call("T1", "C001"), call("T3", "C003")])
    again = pipeline.run(folder, D, tmp_path / "out")
    assert edited.is_file() and again.removed_outputs == []
    assert any(p.file == edited.name and "被改过" in p.message for p in again.inbox.problems)
    # Found after the workbooks were written, the warning is in the validation report all the same.
    report = openpyxl.load_workbook(out / REPORT_OUTPUT.file_name(D), read_only=True)["问题"]
    assert any("被改过" in str(cell) for row in report.iter_rows(values_only=True) for cell in row)


# --- a rename keeps the 工号 ------------------------------------------------------------------------

def test_after_a_rename_the_old_name_resolves_with_one_warning_per_file(tmp_path: Path) -> None:
    out_root = tmp_path / "out"
    folder = department(tmp_path / "in", [ZHANG, LI_A],
                        [customer("C001", "李明"), customer("C002", "李明"), customer("C003", "张伟")],
                        [call("T1", "C001"), call("T2", "C002")])
    first = pipeline.run(folder, D, out_root)
    assert errors(first) == []
    # 李明 becomes 李明远 on the roster the next working day; the customer list still says 李明.
    write_records(folder / "基础资料.xlsx", {
        "员工名单": [ZHANG, {**LI_A, "姓名": "李明远"}],
        "客户档案": [customer("C001", "李明"), customer("C002", "李明"), customer("C003", "张伟")]})
    again = pipeline.run(folder, P, out_root)
    assert errors(again) == []
    told = [p for p in again.inbox.problems if "以前的姓名" in p.message]
    assert [(p.severity, p.file) for p in told] == [(Severity.WARNING, "基础资料.xlsx")]
    assert "“李明”是工号 E02 以前的姓名，现名“李明远”" in told[0].message
    customers = again.inbox.tables["customers"].set_index("customer_id")["owner"].to_dict()
    assert customers == {"C001": "E02", "C002": "E02", "C003": "E01"}
    assert history.read_table(out_root / HISTORY, "staff_names")[["staff_id", "name"]].values.tolist() == [
        ["E01", "张伟"], ["E02", "李明"], ["E02", "李明远"]]


def test_an_old_name_someone_else_now_has_is_theirs(tmp_path: Path) -> None:
    out_root = tmp_path / "out"
    folder = department(tmp_path / "in", [ZHANG, LI_A], [customer("C001", "李明")], [])
    pipeline.run(folder, D, out_root)
    # E02 is renamed and a new 李明 (E04) joins: "李明" now means E04, without a word about E02.
    write_records(folder / "基础资料.xlsx", {"员工名单": [ZHANG, {**LI_A, "姓名": "李明远"}, LI_B],
                                          "客户档案": [customer("C001", "李明")]})
    again = pipeline.run(folder, P, out_root)
    assert again.inbox.tables["customers"]["owner"].tolist() == ["E04"]
    assert not [p for p in again.inbox.problems if "以前的姓名" in p.message]


# --- a leaver -------------------------------------------------------------------------------------

def served(staff: str, day: str, cid: str) -> dict[str, Any]:
    return {"服务日期": day, "服务代表": staff, "客户编号": cid, "服务类型": "问题处理", "服务方式": "上门",
            "电话预约": "是", "到达时间": "9:00", "离开时间": "10:00", "处理结果": "已解决", "客户满意度": "满意"}


def cells_of(path: Path) -> list[Any]:
    return [c for sheet in openpyxl.load_workbook(path).worksheets for row in sheet.iter_rows(values_only=True)
            for c in row if c is not None]


def test_a_leaver_before_the_close_stays_in_the_month_and_their_work_is_to_be_reassigned(tmp_path: Path) -> None:
    out_root = tmp_path / "out"
    customers = [customer("C001", "E02"), customer("C002", "E02"), customer("C003", "张伟")]
    folder = department(tmp_path / "in", [ZHANG, LI_A], customers, [])
    write_records(folder / "反馈.xlsx", {"服务反馈单": [served("E02", "2026-11-02", "C001"), served("E02", "2026-11-03", "C002"),
                                                   served("E01", "2026-11-03", "C003")]})
    write_records(folder / "年费.xlsx", {"年费台账": [
        {"合同编号": "F1", "客户编号": "C001", "服务开始": "2026-01-01", "服务到期": "2026-12-31", "年费金额": 3000,
         "已收金额": 0}]})
    pipeline.run(folder, D, out_root)
    # 李明 leaves; the first working day of December closes November.
    department(folder, [ZHANG, {**LI_A, "在岗": "离职"}], customers, [call("T1", "C001")])
    december = dt.date(2026, 12, 1)
    result = pipeline.run(folder, december, out_root)
    assert result.closed_month == "2026-11"

    evaluation = openpyxl.load_workbook(out_root / "2026-11" / "月度考核_2026-11.xlsx")
    assert "李明（离职）" in cells_of(out_root / "2026-11" / "月度考核_2026-11.xlsx"), evaluation.sheetnames
    assert "李明（离职）" in [row["name"] for row in history.read_table(out_root / HISTORY, "person_months")
                          .query("month == '2026-11'").to_dict("records")]

    reassign = [p for p in result.inbox.problems if "已离职" in p.message]
    assert [(p.severity, p.sheet, p.row, p.header) for p in reassign] == [
        (Severity.WARNING, "客户档案", 2, "服务代表"), (Severity.WARNING, "客户档案", 3, "服务代表"),
        (Severity.WARNING, "年费台账", 2, "负责人")]
    assert "离职人员待改派：李明 客户2家、合同1份" in "：".join(
        str(c) for c in cells_of(result.out_dir / "经理日报_2026-12-01.xlsx"))
    assert not any("李明" in p.name for p in result.outputs)  # never dispatched to


def column_of(path: Path, sheet: str, header: str) -> list[Any]:
    """The values under a header, in the first of the sheet's top rows that holds it."""
    book = openpyxl.load_workbook(path)[sheet]
    for row in book.iter_rows(min_row=1, max_row=5):
        found = next((c.column for c in row if c.value == header), None)
        if found is not None:
            return [book.cell(r, found).value for r in range(row[0].row + 1, book.max_row + 1)
                    if book.cell(r, found).value is not None]
    raise AssertionError(f"no {header} in {sheet}")


def test_a_leaver_who_served_this_month_is_in_its_per_person_lists_marked(tmp_path: Path) -> None:
    wang = {"工号": "E03", "姓名": "王强", "岗位": "服务工程师", "区域": "西湖区", "在岗": "否"}  # left, served no one
    folder = department(tmp_path / "in", [ZHANG, {**LI_A, "在岗": "否"}, wang, MANAGER],
                        [customer("C001", "E01"), customer("C002", "E01")], [])
    write_records(folder / "反馈.xlsx", {"服务反馈单": [served("E02", "2026-11-02", "C001"),
                                                   served("E01", "2026-11-03", "C002")]})
    result = pipeline.run(folder, D, tmp_path / "out")
    assert errors(result) == []

    quality = result.out_dir / QUALITY_OUTPUT.file_name(D)
    for sheet in ("投诉统计", "满意度", "违规统计"):
        listed = column_of(quality, sheet, "服务代表")
        assert listed[:listed.index("合计")] == ["张伟", "李明（离职）"], sheet
    page = column_of(result.out_dir / MANAGER_OUTPUT.file_name(D), "日报", "人员一览")
    assert page[:3] == ["姓名", "张伟", "李明（离职）"] and "王强" not in "".join(map(str, page))
