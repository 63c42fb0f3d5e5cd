"""What people write back into the workbooks (docs/rules.md § Returned sheets, § Bad input): mail
addresses as mail programs copy them, the 验收 form filled in as on paper."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kis_batch import pipeline
from kis_batch.delivery.email import build_message
from kis_batch.delivery.plan import plan_messages
from kis_batch.problems import Code, Severity
from tests.builders import STAFF_HEADERS, basic_department, write_workbook

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
