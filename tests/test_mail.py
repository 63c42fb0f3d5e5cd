"""Mailing OUT/D against a real SMTP server on 127.0.0.1 (aiosmtpd, started here) with a real,
self-signed certificate: the right people get the right files under their Chinese names, nothing is
delivered twice, and no password ever goes over a connection that is not encrypted."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import ssl
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword
from click.testing import CliRunner

from kis_batch.cli import main
from kis_batch.delivery.channel import Outcome, SendReport, send
from kis_batch.delivery.email import EmailChannel, build_message, eml_name
from kis_batch.delivery.plan import (
    Attachment,
    DeliveryError,
    DeliveryPlan,
    Message,
    load_digest,
    load_roster,
    plan_messages,
    read_run,
)
from kis_batch.ingest import load_folder
from kis_batch.outputs import KEPT_FIRST, MANAGER_OUTPUT, OUTPUTS, REPORT_OUTPUT, SENT_LOG
from kis_batch.pipeline import RunResult
from kis_batch.render.mail_roster import RunDigest, write_mail_roster
from kis_batch.settings import Settings
from tests.builders import CUSTOMER_HEADERS, STAFF_HEADERS, header_row, table, write_records, write_workbook
from tests.test_robots import robot_server

TODAY, PLAN = "2026-11-27", "2026-11-30"
SENDER, PASSWORD = "kis@example.com", "s3cret-pw"
HOSTILE_NAME = "<script>alert(1)</script>甲公司"
MANAGER_FILES = [f"经理日报_{TODAY}.xlsx", f"派工单_{PLAN}.xlsx", f"回访_{PLAN}.xlsx", f"评分_{TODAY}.xlsx",
                 f"指标缺口_{TODAY}.xlsx", f"年费_{TODAY}.xlsx", f"质量_{TODAY}.xlsx", f"客户跟踪_{TODAY}.xlsx",
                 f"实施_{TODAY}.xlsx", f"投诉跟踪_{TODAY}.xlsx",
                 f"校验报告_{TODAY}.xlsx"]
EXPECTED = {
    "e01@example.com": [f"派工单_{PLAN}_张伟.xlsx"],
    "e02@example.com": [],  # an engineer without work gets the 无派工 note
    "e03@example.com": [f"派工单_{PLAN}_赵敏.xlsx", f"实施_{TODAY}_赵敏.xlsx"],  # a specialist: their projects too
    "h01@example.com": [f"回访_{PLAN}.xlsx", f"客户跟踪_{TODAY}.xlsx", f"投诉跟踪_{TODAY}.xlsx"],
    "m01@example.com": MANAGER_FILES,
    "m02@example.com": MANAGER_FILES,
}
STAFF = [
    ("E01", "张伟", "服务工程师", "西湖区", None, None, "e01@example.com", None, "是"),
    ("E02", "王强", "服务工程师", "滨江区", None, None, "e02@example.com", None, "是"),
    ("E03", "赵敏", "实施专员", "西湖区", None, None, "e03@example.com", None, "是"),
    ("E04", "孙丽", "服务工程师", "西湖区", None, None, None, None, "是"),
    ("E05", "钱进", "服务工程师", "西湖区", None, None, "e05@example.com", None, "否"),
    ("H01", "陈静", "服务监督热线", "西湖区", None, None, "h01@example.com", None, "是"),
    ("M01", "刘洋", "服务部经理", "西湖区", None, None, "m01@example.com", None, "是"),
    ("M02", "周芳", "经理助理", "西湖区", None, None, "m02@example.com", None, "是"),
]


# --- a real SMTP server on loopback ---

@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, made with the openssl command."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1"], check=True, capture_output=True)
    return cert, key


@dataclass
class Recorder:
    """What the server saw: every AUTH command, every login, every message."""

    auth_commands: list[str] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)
    messages: list[tuple[list[str], EmailMessage]] = field(default_factory=list)

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:
        parsed = BytesParser(policy=policy.default).parsebytes(envelope.original_content)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def authenticate(self, server: SMTP, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=(data.login, data.password) == (SENDER.encode(), PASSWORD.encode()))

    def by_recipient(self) -> dict[str, EmailMessage]:
        return {rcpt: message for rcpts, message in self.messages for rcpt in rcpts}


class RecordingSMTP(SMTP):
    async def smtp_AUTH(self, arg: str) -> None:
        self.event_handler.auth_commands.append(arg)
        await super().smtp_AUTH(arg)


class RecordingController(Controller):
    def factory(self) -> SMTP:
        return RecordingSMTP(self.handler, **self.SMTP_kwargs)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(mode: str, certificate: tuple[Path, Path] | None = None) -> Iterator[tuple[int, Recorder]]:
    """mode: ssl (TLS from the start), starttls (STARTTLS required before anything), plain (no TLS
    at all, but AUTH offered, so a client that would send its password there is caught)."""
    recorder = Recorder()
    kwargs: dict[str, Any] = {"authenticator": recorder.authenticate}
    if mode == "plain":
        kwargs["auth_require_tls"] = False
    else:
        assert certificate is not None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*certificate)
        if mode == "ssl":
            # aiosmtpd counts only STARTTLS as TLS when offering AUTH; this connection is TLS from the start.
            kwargs.update(ssl_context=context, auth_require_tls=False)
        else:
            kwargs.update(tls_context=context, require_starttls=True, auth_required=True)
    port = _free_port()
    controller = RecordingController(recorder, hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    try:
        yield port, recorder
    finally:
        controller.stop()


# --- an input folder and the OUT/D a run wrote from it ---

def inbox_folder(tmp_path: Path, port: int = 25, security: str = "starttls", settings: bool = True,
                 robot: str = "") -> Path:
    """A department's inbox: the roster, one customer (named to test escaping), a call for tomorrow."""
    folder = tmp_path / "收件夹"
    sheets: dict[str, Any] = {
        "员工名单": (STAFF_HEADERS, STAFF),
        "客户档案": (CUSTOMER_HEADERS, [("C001", HOSTILE_NAME, "李会计", "057188001234", "文三路1号", "西湖区", "E01", "是")]),
    }
    if settings:
        sheets["规则设置"] = (("参数", "值", "说明"), [
            ("邮件服务器", "127.0.0.1", ""), ("邮件端口", port, ""), ("邮件加密", security, ""), ("发件人", SENDER, ""),
            *([("企业微信机器人", robot, "")] if robot else []),
        ])
    write_workbook(folder / "员工名单.xlsx", sheets)
    write_records(folder / "热线记录.xlsx", {"热线记录": [
        {"来电时间": dt.datetime(2026, 11, 27, 9, 5), "客户编号": "C001", "来电人": "李会计", "问题类别": "软件故障",
         "问题描述": "**紧急** 凭证过账报错", "处理方式": "需上门"}]})
    return folder


def department(tmp_path: Path, port: int = 25, security: str = "starttls", settings: bool = True) -> Path:
    folder = inbox_folder(tmp_path, port, security, settings)
    out_dir = tmp_path / "output" / TODAY
    for name in {*MANAGER_FILES, f"派工单_{PLAN}_张伟.xlsx", f"派工单_{PLAN}_赵敏.xlsx", f"实施_{TODAY}_赵敏.xlsx"}:
        write_workbook(out_dir / name, {"表": (("文件",), [(name,)])})
    (out_dir / "run.json").write_text(json.dumps({"today": TODAY, "folder": str(folder),
                                                  "figures": {"plan_date": PLAN}}), encoding="utf-8")
    # The roster as a run records it: read from the folder by the real reader, written by the real writer.
    inbox = load_folder(folder, dt.date.fromisoformat(TODAY))
    write_mail_roster(out_dir, inbox.tables["staff"], inbox.settings, RunDigest())
    return out_dir


def attachment_names(message: EmailMessage) -> list[str]:
    return [part.get_filename() for part in message.iter_attachments()]


def invoke(out_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["mail", str(out_dir), *args])


@pytest.fixture
def smtp_env(monkeypatch: pytest.MonkeyPatch, certificate: tuple[Path, Path]) -> None:
    """The password where the command looks for it, and the system trust store replaced by the
    test certificate (so the command's own default TLS checks are what is exercised)."""
    monkeypatch.setenv("KIS_SMTP_PASSWORD", PASSWORD)
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate[0]))


def _send(plan: DeliveryPlan, settings: Settings, password_env: Mapping[str, str] = os.environ,
          trust: ssl.SSLContext | None = None) -> SendReport:
    """Email the plan the way the mail command does, with the password and trust given here."""
    return send(plan, EmailChannel.from_settings(settings, plan.sender, password_env, trust))


# --- the outbox ---

def test_outbox_holds_one_standard_message_per_person_and_sends_nothing(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    result = invoke(out_dir)
    assert result.exit_code == 1, result.output  # 孙丽 has no address
    assert "孙丽（E04，服务工程师）：员工名单里没有邮箱" in result.output
    assert "钱进" not in result.output  # not 在岗: not a recipient at all
    parsed = {}
    for path in (out_dir / "outbox").glob("*.eml"):
        message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        parsed[message["To"].addresses[0].addr_spec] = message
        assert message["X-Unsent"] == "1"
        assert message["From"].addresses[0].addr_spec == SENDER
    assert {to: attachment_names(m) for to, m in parsed.items()} == EXPECTED
    assert str(parsed["e01@example.com"]["To"]) == "张伟 <e01@example.com>"
    assert not (out_dir / SENT_LOG).exists()


def test_chinese_attachment_names_survive_both_ways_clients_read_them(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    invoke(out_dir)
    raw = (out_dir / "outbox" / "E01_张伟.eml").read_bytes()
    part = next(BytesParser(policy=policy.default).parsebytes(raw).iter_attachments())
    assert part.get_filename() == f"派工单_{PLAN}_张伟.xlsx"  # RFC 2231 filename*
    assert str(make_header(decode_header(part.get_param("name")))) == f"派工单_{PLAN}_张伟.xlsx"  # RFC 2047 name=
    assert raw.isascii()
    assert part.get_content() == (out_dir / f"派工单_{PLAN}_张伟.xlsx").read_bytes()


def test_subject_and_body_say_the_date_what_is_attached_and_what_to_do(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    staff, settings = load_roster(out_dir)
    plan = plan_messages(out_dir, staff, settings)
    by_address = {m.address: m for m in plan.messages}
    engineer, idle, hotline = by_address["e01@example.com"], by_address["e02@example.com"], by_address["h01@example.com"]
    assert engineer.subject == f"派工单 {PLAN}（星期一） 张伟"
    assert f"派工单_{PLAN}_张伟.xlsx" in engineer.body and "交回收件夹" in engineer.body and "电话" in engineer.body
    assert "无派工" in idle.subject and "没有派给您的工单" in idle.body
    assert f"回访_{PLAN}.xlsx" in hotline.body and "17:00" in hotline.body
    assert by_address["m01@example.com"].subject == f"经理日报 {TODAY}（星期五），派工日 {PLAN}（星期一）"


# --- SMTP ---

def test_send_over_starttls_delivers_each_person_their_files_once(tmp_path: Path, certificate: tuple[Path, Path],
                                                                   smtp_env: None) -> None:
    with smtp_server("starttls", certificate) as (port, server):
        out_dir = department(tmp_path, port, "starttls")
        first = invoke(out_dir, "--send")
        assert first.exit_code == 1, first.output  # 孙丽 is reported; everyone else got theirs
        assert "孙丽（E04，服务工程师）：员工名单里没有邮箱" in first.output
        assert server.logins == [(SENDER.encode(), PASSWORD.encode())]
        received = server.by_recipient()
        assert {to: attachment_names(m) for to, m in received.items()} == EXPECTED
        assert str(received["e01@example.com"]["Subject"]).startswith(f"派工单 {PLAN}")
        assert next(received["e01@example.com"].iter_attachments()).get_content() == \
            (out_dir / f"派工单_{PLAN}_张伟.xlsx").read_bytes()

        second = invoke(out_dir, "--send")
        assert second.exit_code == 1
        assert len(server.messages) == len(EXPECTED)  # nothing new
        assert "共发送 0 封，此前已发送 6 封" in second.output
        assert len(server.logins) == 1  # nothing to send: no connection at all
    assert PASSWORD not in first.output + second.output
    logged = json.loads((out_dir / SENT_LOG).read_text(encoding="utf-8"))["sent"]
    assert sorted(entry["to"] for entry in logged.values()) == sorted(EXPECTED)


def test_send_over_ssl_with_a_given_trust_context_resends_only_a_changed_workbook(
        tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    with smtp_server("ssl", certificate) as (port, server):
        out_dir = department(tmp_path, port, "ssl")
        staff, settings = load_roster(out_dir)
        report = _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": PASSWORD}, trust)
        assert len(report.sent) == len(EXPECTED) and not report.failed

        write_workbook(out_dir / f"派工单_{PLAN}_张伟.xlsx", {"表": (("文件",), [("改派后的新版本",)])})
        again = _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": PASSWORD}, trust)
    assert [m.address for m in again.sent] == ["e01@example.com"]
    assert len(again.already_sent) == len(EXPECTED) - 1
    assert [rcpts for rcpts, _ in server.messages].count(["e01@example.com"]) == 2


def _old_sent_log(plan: DeliveryPlan) -> dict[str, Any]:
    """sent.json as kis-batch wrote it before delivery had channels: keyed by a digest of the address and
    the files, each entry naming the address and the files."""
    log = {}
    for message in plan.messages:
        files = [[a.name, a.sha256] for a in message.attachments]
        key = hashlib.sha256(json.dumps([message.address.lower(), files], ensure_ascii=False).encode("utf-8")).hexdigest()
        log[key] = {"staff_id": message.staff_id, "name": message.name, "to": message.address, "subject": message.subject,
                    "attachments": [{"name": name, "sha256": sha} for name, sha in files],
                    "message_id": f"<{key[:32]}@example.com>", "sent_at": "2026-11-27T20:00:00+08:00"}
    return {"sent": log}


def test_a_sent_log_from_before_the_upgrade_is_honoured(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    with smtp_server("ssl", certificate) as (port, server):
        out_dir = department(tmp_path, port, "ssl")
        staff, settings = load_roster(out_dir)
        (out_dir / SENT_LOG).write_text(json.dumps(_old_sent_log(plan_messages(out_dir, staff, settings))), encoding="utf-8")
        rerun = _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": PASSWORD}, trust)
        assert rerun.sent == [] and len(rerun.already_sent) == len(EXPECTED)
        assert server.logins == []  # nothing to send: no connection at all

        write_workbook(out_dir / f"回访_{PLAN}.xlsx", {"表": (("文件",), [("补充后的新版本",)])})
        changed = _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": PASSWORD}, trust)
    # 回访 goes to the hotline and both managers; the log keeps the old deliveries beside the new.
    assert sorted(m.address for m in changed.sent) == ["h01@example.com", "m01@example.com", "m02@example.com"]
    logged = json.loads((out_dir / SENT_LOG).read_text(encoding="utf-8"))["sent"].values()
    assert len(logged) == len(EXPECTED) + 3 and {entry["channel"] for entry in logged} == {"email"}


@dataclass
class GroupRobot:
    """A second channel as a group robot would be one: it posts each message's subject to a group."""

    posts: list[str] = field(default_factory=list)
    name: str = "robot"

    def recipient(self, message: Message) -> str:
        return f"group-{message.role}"

    def deliver(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        for message in messages:
            self.posts.append(message.subject)
            yield Outcome(message, record={"subject": message.subject})


def test_channels_share_one_sent_log_and_each_delivers_once(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    robot = GroupRobot()
    with smtp_server("ssl", certificate) as (port, server):
        out_dir = department(tmp_path, port, "ssl")
        staff, settings = load_roster(out_dir)
        emailed = _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": PASSWORD}, trust)
        posted = send(plan_messages(out_dir, staff, settings), robot)
        again = send(plan_messages(out_dir, staff, settings), robot)
        emailed_again = _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": PASSWORD}, trust)
    assert len(emailed.sent) == len(posted.sent) == len(EXPECTED)  # email's log entries do not stop the robot
    assert again.sent == [] and emailed_again.sent == [] and len(robot.posts) == len(EXPECTED)
    assert len(server.messages) == len(EXPECTED)
    logged = json.loads((out_dir / SENT_LOG).read_text(encoding="utf-8"))["sent"].values()
    assert sorted(entry["channel"] for entry in logged) == ["email"] * len(EXPECTED) + ["robot"] * len(EXPECTED)


def test_server_without_starttls_gets_no_password_and_no_mail(tmp_path: Path, smtp_env: None) -> None:
    with smtp_server("plain") as (port, server):
        out_dir = department(tmp_path, port, "starttls")
        result = invoke(out_dir, "--send")
    assert result.exit_code == 2
    assert "不支持 STARTTLS" in result.output and "没有登录也没有发送任何邮件" in result.output
    assert server.auth_commands == [] and server.logins == [] and server.messages == []
    assert PASSWORD not in result.output
    assert not (out_dir / SENT_LOG).exists()


def test_certificate_not_trusted_fails_before_login(tmp_path: Path, certificate: tuple[Path, Path],
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIS_SMTP_PASSWORD", PASSWORD)
    with smtp_server("ssl", certificate) as (port, server):
        out_dir = department(tmp_path, port, "ssl")
        staff, settings = load_roster(out_dir)
        with pytest.raises(DeliveryError, match="证书校验失败"):
            _send(plan_messages(out_dir, staff, settings), settings)  # the system CAs only
    assert server.logins == [] and server.messages == []


def test_a_password_smtp_cannot_carry_is_a_clear_error(tmp_path: Path, certificate: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(certificate[0]))
    with smtp_server("starttls", certificate) as (port, server):
        out_dir = department(tmp_path, port, "starttls")
        staff, settings = load_roster(out_dir)
        with pytest.raises(DeliveryError, match="非ASCII") as raised:
            _send(plan_messages(out_dir, staff, settings), settings, {"KIS_SMTP_PASSWORD": "甲乙丙丁"}, trust)
    assert "甲乙丙丁" not in str(raised.value) and server.messages == []


def test_smtp_not_configured_exits_2_naming_what_to_fill_in(tmp_path: Path, smtp_env: None) -> None:
    result = invoke(department(tmp_path, settings=False), "--send")
    assert result.exit_code == 2
    assert "邮件服务器" in result.output


def test_missing_password_variable_exits_2_before_connecting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KIS_SMTP_PASSWORD", raising=False)
    with smtp_server("plain") as (port, server):
        result = invoke(department(tmp_path, port), "--send")
    assert result.exit_code == 2
    assert "KIS_SMTP_PASSWORD" in result.output
    assert server.messages == [] and server.auth_commands == []


# --- the plan itself ---

def test_cells_cannot_shape_headers_and_bad_addresses_are_reported(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    staff = table("staff", [
        {"staff_id": "E01", "name": "张伟", "role": "服务工程师", "email": "e01@example.com\r\nBcc: evil@example.com"},
        {"staff_id": "E02", "name": "王强\r\nBcc: evil@example.com\x07", "role": "服务工程师", "email": " e02@example.com\x00"},
        {"staff_id": "E03", "name": "赵敏", "role": "实施专员", "email": "赵敏 <e03@example.com>"},
    ])
    plan = plan_messages(out_dir, staff, Settings())
    assert [m.address for m in plan.messages] == ["e02@example.com"]
    assert {s.person.split("（")[0]: "不是有效地址" in s.reason for s in plan.skipped} == {"张伟": True, "赵敏": True}
    message = build_message(plan.messages[0], SENDER, dt.datetime(2026, 11, 27, 20, 0))
    parsed = BytesParser(policy=policy.default).parsebytes(message.as_bytes())
    assert parsed["Bcc"] is None
    assert [a.addr_spec for a in parsed["To"].addresses] == ["e02@example.com"]
    assert parsed["To"].addresses[0].display_name == "王强 Bcc: evil@example.com"


def test_attachments_over_the_size_limit_are_left_out_and_reported(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    staff, settings = load_roster(out_dir)
    report = Attachment.read(out_dir / MANAGER_FILES[0])
    limit_mb = (report.encoded_size + 10) / 2**20  # room for the manager's report and nothing else
    plan = plan_messages(out_dir, staff, settings.replace(attachment_limit_mb=limit_mb))
    by_address = {m.address: m for m in plan.messages}
    assert [a.name for a in by_address["m01@example.com"].attachments] == [MANAGER_FILES[0]]
    assert "未附" in by_address["m01@example.com"].body and MANAGER_FILES[1] in by_address["m01@example.com"].body
    left_out = [s for s in plan.skipped if s.kind == "未附" and s.person.startswith("刘洋")]
    assert len(left_out) == 1 and all(name in left_out[0].reason for name in MANAGER_FILES[1:])
    assert "超过一封邮件的上限" in left_out[0].reason

    tiny = plan_messages(out_dir, staff, settings.replace(attachment_limit_mb=0.001))
    assert [m.address for m in tiny.messages] == ["e02@example.com"]  # only the note without attachments
    assert any(s.person.startswith("张伟") and s.kind == "未发" for s in tiny.skipped)


def test_a_small_attachment_left_out_is_told_in_kb_with_the_messages_total_against_the_limit(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    staff, settings = load_roster(out_dir)
    sizes = {name: Attachment.read(out_dir / name).encoded_size for name in MANAGER_FILES}
    limit = sum(sizes.values()) - 1
    plan = plan_messages(out_dir, staff, settings.replace(attachment_limit_mb=limit / 2**20))
    body = next(m for m in plan.messages if m.address == "m01@example.com").body
    report = MANAGER_FILES[-1]
    line = next(line for line in body.splitlines() if report in line)
    assert f"本文件编码后 {round(sizes[report] / 1024)} KB" in line
    assert f"全部附件编码后共 {round(sum(sizes.values()) / 1024)} KB，超过一封邮件的上限 {round(limit / 1024)} KB" in line
    assert " MB" not in body


def test_a_message_too_large_drops_the_validation_report_first_then_the_days_other_figures(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    staff, settings = load_roster(out_dir)
    sizes = {name: Attachment.read(out_dir / name).encoded_size for name in MANAGER_FILES}
    report, scores = f"校验报告_{TODAY}.xlsx", f"评分_{TODAY}.xlsx"

    def attached(room: int) -> list[str]:
        plan = plan_messages(out_dir, staff, settings.replace(attachment_limit_mb=room / 2**20))
        return [a.name for a in next(m for m in plan.messages if m.address == "m01@example.com").attachments]

    whole = sum(sizes.values())
    assert attached(whole) == MANAGER_FILES
    assert attached(whole - sizes[report]) == [f for f in MANAGER_FILES if f != report]
    assert attached(whole - sizes[report] - 1) == [f for f in MANAGER_FILES if f not in (report, scores)]
    # The manager's page and tomorrow's dispatch are the last to go.
    first = MANAGER_FILES[:2]
    assert attached(sum(sizes[f] for f in first)) == first


def test_every_mailed_output_has_its_place_in_the_order_a_message_keeps_them() -> None:
    mailed = [o for o in OUTPUTS if o.mail]
    assert sorted(map(id, KEPT_FIRST)) == sorted(map(id, mailed))
    assert KEPT_FIRST[0] is MANAGER_OUTPUT and KEPT_FIRST[-1] is REPORT_OUTPUT


def test_engineers_are_reported_when_the_run_wrote_no_dispatch(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    (out_dir / f"派工单_{PLAN}.xlsx").unlink()
    for name in ("张伟", "赵敏"):
        (out_dir / f"派工单_{PLAN}_{name}.xlsx").unlink()
    staff, settings = load_roster(out_dir)
    plan = plan_messages(out_dir, staff, settings)
    assert {"e01@example.com", "e02@example.com", "e03@example.com"}.isdisjoint(m.address for m in plan.messages)
    reported = {s.person.split("（")[0] for s in plan.skipped if f"没有找到 派工单_{PLAN}.xlsx" in s.reason}
    assert reported == {"张伟", "王强", "赵敏", "孙丽"}


def test_plan_date_falls_back_to_the_file_names(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    (out_dir / "run.json").write_text(json.dumps({"today": TODAY, "folder": "x"}), encoding="utf-8")
    assert read_run(out_dir).plan_date.isoformat() == PLAN


def test_a_folder_that_is_not_a_run_output_exits_2(tmp_path: Path) -> None:
    result = invoke(tmp_path)
    assert result.exit_code == 2
    assert "run.json" in result.output


# --- mail from the run's own output ---

EXAMPLE = Path(__file__).resolve().parent.parent / "input_templates" / "example"


def test_mail_works_from_the_run_output_after_the_inbox_has_moved_away(tmp_path: Path) -> None:
    inbox = tmp_path / "收件夹"
    shutil.copytree(EXAMPLE, inbox)
    ran = CliRunner().invoke(main, ["run", str(inbox), "--date", TODAY, "--out", str(tmp_path / "output")])
    assert ran.exit_code == 0, ran.output
    out_dir = tmp_path / "output" / TODAY
    listed = {o["path"] for o in json.loads((out_dir / "run.json").read_text(encoding="utf-8"))["outputs"]}
    assert (out_dir / "mail.json").is_file() and "mail.json" not in listed  # run.json lists the workbooks only
    before = plan_messages(out_dir, *load_roster(out_dir))
    shutil.move(inbox, tmp_path / "已归档")  # the inbox is cleared or archived after the evening run

    result = invoke(out_dir)
    assert result.exit_code == (1 if before.skipped else 0), result.output
    written = sorted(p.name for p in (out_dir / "outbox").glob("*.eml"))
    assert written and written == sorted(eml_name(m) for m in before.messages)
    first = next(m for m in before.messages if m.role == "服务工程师" and m.attachments)
    message = BytesParser(policy=policy.default).parsebytes((out_dir / "outbox" / eml_name(first)).read_bytes())
    assert attachment_names(message) == [a.name for a in first.attachments]


def test_an_output_without_the_roster_a_run_records_exits_2_saying_to_rerun(tmp_path: Path) -> None:
    out_dir = department(tmp_path)
    (out_dir / "mail.json").unlink()
    result = invoke(out_dir)
    assert result.exit_code == 2
    assert "mail.json" in result.output and "重新运行 kis-batch run" in result.output
    assert not (out_dir / "outbox").exists()


# --- the whole evening: run --send ---

def _html_of(message: EmailMessage) -> str:
    """The HTML alternative, checking the shape: multipart/alternative (text, then HTML) before the attachments."""
    first = next(message.iter_parts()) if message.is_multipart() and message.get_content_type() == "multipart/mixed" \
        else message
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    return first.get_body(("html",)).get_content()


def test_run_send_mails_everyone_posts_the_plan_once_and_a_rerun_delivers_nothing_again(
        tmp_path: Path, certificate: tuple[Path, Path], smtp_env: None) -> None:
    with smtp_server("starttls", certificate) as (port, server), robot_server() as (base, robot):
        webhook = f"{base}/cgi-bin/webhook/send?key=evening-group-key"
        folder = inbox_folder(tmp_path, port, robot=webhook)
        args = ["run", str(folder), "--date", TODAY, "--out", str(tmp_path / "output"), "--send"]
        first = CliRunner().invoke(main, args)
        again = CliRunner().invoke(main, args)
    assert first.exit_code == again.exit_code == 1, first.output  # 孙丽 has no address
    assert "孙丽（E04，服务工程师）：员工名单里没有邮箱" in first.output
    assert len(server.messages) == 6 and len(robot.requests) == 1  # nothing twice
    assert "共发送 0 封，此前已发送 6 封" in again.output and "此前已发送 1 条" in again.output
    assert "evening-group-key" not in first.output + again.output
    assert "key=even***" in first.output

    html = _html_of(server.by_recipient()["e01@example.com"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;甲公司" in html and "<script>" not in html
    assert "**紧急** 凭证过账报错" in html and "<strong>" not in html
    assert '<a href="tel:057188001234"' in html and "文三路1号" in html
    assert "早上出发前，逐一电话与客户确认到达时间" in html
    manager = _html_of(server.by_recipient()["m01@example.com"])
    assert "需要您处理" in manager and "今日数字" in manager and "明日派工" in manager and "本月指标" in manager
    [(_, _, post)] = robot.requests
    assert r"\<script\>alert(1)\</script\>甲公司" in post["markdown"]["content"]
    assert r"\*\*紧急\*\*" in post["markdown"]["content"]


def test_run_mail_writes_the_outbox_and_sends_nothing(tmp_path: Path) -> None:
    folder = inbox_folder(tmp_path)
    result = CliRunner().invoke(main, ["run", str(folder), "--date", TODAY, "--out", str(tmp_path / "output"), "--mail"])
    assert result.exit_code == 1, result.output  # 孙丽 has no address
    outbox = tmp_path / "output" / TODAY / "outbox"
    assert len(list(outbox.glob("*.eml"))) == 6 and "没有发送" in result.output


def test_a_route_on_the_phone_shows_each_leg_and_a_complaint_re_visit_as_the_overview_does(
        example_run: RunResult) -> None:
    out_dir = example_run.out_dir
    sheet = openpyxl.load_workbook(out_dir / f"派工单_{PLAN}.xlsx", read_only=True)["总览"]
    top, col = header_row(sheet, "上站距离")
    rows = [r for r in sheet.iter_rows(min_row=top + 1, values_only=True) if r[col["派给"] - 1]]
    revisits = [r for r in rows if "投诉回访优先" in (r[col["改派原因"] - 1] or "")]
    assert revisits  # the example month has a customer with an open case among tomorrow's tickets
    plan = plan_messages(out_dir, *load_roster(out_dir), load_digest(out_dir))
    bodies = {m.name: m.html for m in plan.messages}  # 何雪梅 has no address, so no message

    def card(name: str, stop: int) -> str:
        return bodies[name].split(f">{stop}</td>")[1].split("</tr>")[0]

    for row in revisits:
        name, stop, leg = row[col["派给"] - 1], row[col["路线顺序"] - 1], row[col["上站距离"] - 1]
        case = row[col["改派原因"] - 1].split("未结投诉")[1].split("）")[0]
        assert f"投诉回访：未结投诉 {case}" in card(name, stop)
        assert f"{'离出发地' if stop == 1 else '离上一站'} {leg:g} 公里" in card(name, stop)
    legs = [(r[col["派给"] - 1], r[col["路线顺序"] - 1], r[col["上站距离"] - 1]) for r in rows if r[col["派给"] - 1] in bodies]
    assert 0 < sum(1 for _, _, leg in legs if leg is not None) < len(legs)
    for name, stop, leg in legs:  # a leg the plan could not estimate is left out, as on the sheet
        assert ("公里</div>" in card(name, stop)) == (leg is not None)
        assert ("投诉回访" in card(name, stop)) == any(r in revisits for r in rows
                                                     if (r[col["派给"] - 1], r[col["路线顺序"] - 1]) == (name, stop))
