"""What people write back into the workbooks (docs/rules.md § Returned sheets, § Bad input): mail
addresses as mail programs copy them, the 验收 form filled in as on paper."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from kis_batch import pipeline
from kis_batch.delivery.email import build_message
from kis_batch.delivery.plan import plan_messages
from kis_batch.problems import Code, Severity
from tests.builders import STAFF_HEADERS, basic_department, write_records, write_workbook

TODAY = dt.date(2026, 11, 27)


def test_an_address_with_a_name_is_read_as_the_address_and_a_bad_one_is_an_error_at_its_cell(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    write_workbook(folder / "基础.xlsx", {
        "员工名单": (STAFF_HEADERS, [
            ("E01", "张伟", "服务工程师", "西湖区", None, None, "张伟 <e01@example.com>", None, "是"),
            ("E02", "王强", "服务工程师", "滨江区", None, None, "e02@example", None, "是"),
            ("E03", "赵敏", "实施专员", "西湖区", None, None, "e03@example.com", None, "是"),
        ]),
        "客户档案": (("客户编号", "客户名称", "区域", "服务代表"), [("C001", "甲公司", "西湖区", "张伟")]),
        "规则设置": (("参数", "值", "说明"), [("发件人", "服务部 <fuwubu@example.com>", None)]),
    })
    result = pipeline.run(folder, TODAY, tmp_path / "out")
    assert [(p.sheet, p.row, p.header, p.value, p.severity, p.code) for p in result.inbox.problems] == [
        ("员工名单", 3, "邮箱", "e02@example", Severity.ERROR, Code.TYPE)]
    staff = result.inbox.tables["staff"].set_index("staff_id")
    assert staff.loc["E01", "email"] == "e01@example.com" and staff.loc["E02", "email"] is None
    assert staff.loc["E02", "name"] == "王强"  # the rest of the row is kept
    assert result.inbox.settings.smtp_sender == "fuwubu@example.com"
    plan = plan_messages(tmp_path / "out" / TODAY.isoformat(), result.inbox.tables["staff"], result.inbox.settings)
    mail = next(m for m in plan.messages if m.name == "张伟")
    message = build_message(mail, plan.sender, dt.datetime(2026, 11, 27, 18))
    assert message["To"].addresses[0].addr_spec == "e01@example.com"
    assert message["From"].addresses[0].addr_spec == "fuwubu@example.com"
    assert [("王强" in s.person, s.reason) for s in plan.skipped] == [(True, "员工名单里没有邮箱")]


def test_an_unreadable_sender_is_an_error_at_its_cell_in_the_run(tmp_path: Path) -> None:
    folder = basic_department(tmp_path / "in").parent
    write_workbook(folder / "设置.xlsx", {"规则设置": (("参数", "值", "说明"), [("发件人", "服务部 fuwubu", None)])})
    inbox = pipeline.check(folder, TODAY)
    assert [(p.sheet, p.row, p.value, p.severity) for p in inbox.problems] == [("规则设置", 2, "服务部 fuwubu", Severity.ERROR)]
    assert inbox.settings.smtp_sender == ""


FEEDBACK_HEADERS = ("工单号", "服务日期", "服务代表", "客户编号", "服务方式", "电话预约", "到达时间", "离开时间", "处理结果",
                    "客户满意度")
CALLBACK_HEADERS = ("回访日期", "客户编号", "回访类型", "工单号", "服务代表", "接通", "上门属实", "客户满意度", "投诉", "备注")


def _returned_visit(folder: Path, name: str, title_date: str, result: str, rating: str) -> Path:
    """A returned 派工单 and 回访 sheet about one visit, its D in the title rows as the tool writes it."""
    return write_workbook(folder / name, {
        "服务反馈单": (FEEDBACK_HEADERS, [("T1", dt.datetime(2026, 11, 24), "张伟", "C001", "上门", "是", dt.time(9),
                                        dt.time(10), result, rating)]),
        "回访记录": (CALLBACK_HEADERS, [(dt.datetime(2026, 11, 25), "C001", "满意度回访", "T1", "张伟", "是", "是", rating,
                                     "否", None)]),
    }, titles={"服务反馈单": f"派工单 {title_date}", "回访记录": f"回访 {title_date}"})


def test_of_two_returned_visit_sheets_the_newer_wins_and_equally_new_ones_that_disagree_are_conflicts(
        tmp_path: Path) -> None:
    folder = basic_department(tmp_path / "in").parent
    write_records(folder / "热线.xlsx", {"热线记录": [
        {"工单号": "T1", "来电时间": "2026-11-23 09:00", "客户编号": "C001", "问题类别": "软件故障", "问题描述": "过账报错",
         "处理方式": "需上门"}]})
    _returned_visit(folder, "返回_早.xlsx", "2026-11-25", "未解决", "一般")
    later = _returned_visit(folder / "1126", "返回_晚.xlsx", "2026-11-26", "已解决", "满意")
    inbox = pipeline.check(folder, TODAY)
    assert inbox.problems == []
    assert inbox.tables["feedback"]["result"].tolist() == ["已解决"]
    assert inbox.tables["callbacks"]["satisfaction"].tolist() == ["满意"]
    _returned_visit(folder / "1126", later.name, "2026-11-25", "已解决", "满意")  # the same D: neither is newer
    for path in (folder / "返回_早.xlsx", later):
        os.utime(path, (1_790_000_000, 1_790_000_000))
    tie = pipeline.check(folder, TODAY)
    assert sorted((p.file, p.sheet, p.code) for p in tie.problems) == [
        ("1126/返回_晚.xlsx", "回访记录", Code.CONFLICT), ("1126/返回_晚.xlsx", "服务反馈单", Code.CONFLICT),
        ("返回_早.xlsx", "回访记录", Code.CONFLICT), ("返回_早.xlsx", "服务反馈单", Code.CONFLICT)]
    assert tie.tables["feedback"].empty and tie.tables["callbacks"].empty
