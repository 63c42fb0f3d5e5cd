"""Mailing the evening's workbooks (docs/rules.md § Mail): one message per person on the staff roster,
written as .eml files to OUT/D/outbox/ by default, or delivered over SMTP with TLS on request.

A sent log in OUT/D (sent.json) records every delivered message by its identity (recipient plus
each attachment's name and sha256), so a rerun delivers only what has not gone yet, and a rerun of
the batch that changed a workbook sends the new version.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import smtplib
import ssl
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from email import policy
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd

from kis_batch import outputs
from kis_batch.calendar import day_label
from kis_batch.lock import run_lock
from kis_batch.outputs import MAIL_ROSTER, MANIFEST, OUTBOX, SENT_LOG
from kis_batch.render.mail_roster import read_mail_roster
from kis_batch.render.style import replace_file, temporary_path
from kis_batch.schema import ENGINEER, HOTLINE, IMPLEMENTER, MANAGER_ROLES
from kis_batch.settings import Settings

MAIL_ROLES = (ENGINEER, IMPLEMENTER, HOTLINE, *MANAGER_ROLES)
SMTP_TIMEOUT_S = 30.0
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# 7bit: bodies go base64 so any server takes them; refold_source none: the attachment headers built
# by hand below are written as built (one RFC 2231 line, no continuations some clients misread).
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def manager_files(today: dt.date, plan: dt.date) -> dict[str, str]:
    """The workbooks the manager's message carries, the day's report first, each with what it is."""
    return {
        outputs.MANAGER_OUTPUT.file_name(today): "一页汇总和图表，请先看这个",
        outputs.DISPATCH_OUTPUT.file_name(plan): "全部派工、改派原因和未派工单",
        outputs.CALLBACKS_OUTPUT.file_name(plan): "回访清单：当日核实、月度抽查、满意度回访",
        outputs.SCORES_OUTPUT.file_name(today): "当天反馈的逐项评分和本月累计",
        outputs.QUOTAS_OUTPUT.file_name(today): "本月问题解决和拜访指标的完成情况与缺口",
        outputs.FEES_OUTPUT.file_name(today): "到期、逾期的年费和次日催收清单",
        outputs.QUALITY_OUTPUT.file_name(today): "投诉、满意度、回访覆盖和违规",
        outputs.CUSTOMERS_OUTPUT.file_name(today): "重点客户、大客户、集团客户、异地客户的联系和服务跟踪",
        outputs.PROJECTS_OUTPUT.file_name(today): "实施项目的阶段和逾期；待验收项目的验收单，填好后交回收件夹",
        outputs.COMPLAINTS_OUTPUT.file_name(today): "投诉案件跟踪：未结案（超期的上报总经理）、本月已结案、按责任",
        outputs.REPORT_OUTPUT.file_name(today): "输入表格里的问题；错误要改正后重新放入收件夹",
    }


class MailError(Exception):
    """Nothing can be mailed: OUT/D or SMTP is not set up, or the server could not be reached safely."""


@dataclass(frozen=True)
class RunInfo:
    """What mailing needs from run.json: D and P."""

    today: dt.date
    plan_date: dt.date
    closed_month: str | None = None  # the month this run closed: its 月度考核 goes to the manager


@dataclass(frozen=True)
class Attachment:
    name: str
    data: bytes = field(repr=False)
    sha256: str

    @classmethod
    def read(cls, path: Path) -> Attachment:
        data = path.read_bytes()
        return cls(path.name, data, hashlib.sha256(data).hexdigest())

    @property
    def encoded_size(self) -> int:
        """Bytes on the wire: base64 in lines of 76 characters plus CRLF."""
        encoded = 4 * -(-len(self.data) // 3)
        return encoded + 2 * -(-encoded // 76)


@dataclass(frozen=True)
class Mail:
    """One message to one person, ready to write or send."""

    staff_id: str
    name: str
    role: str
    address: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...]

    @property
    def identity(self) -> str:
        """The same recipient with the same files is the same message, however often it is prepared."""
        key = [self.address.lower(), [[a.name, a.sha256] for a in self.attachments]]
        return hashlib.sha256(json.dumps(key, ensure_ascii=False).encode("utf-8")).hexdigest()

    @property
    def summary(self) -> str:
        """Who gets what, for the terminal."""
        return f"{self.name} <{self.address}>：{'、'.join(a.name for a in self.attachments) or '无附件'}"


@dataclass(frozen=True)
class Skipped:
    """A person who gets no message, or an attachment left out of one, and why."""

    person: str
    reason: str
    kind: str = "未发"  # 未发: no message; 未附: the message went without these files


@dataclass
class MailPlan:
    """Everything one OUT/D would mail, and everyone it would not, before anything is written or sent."""

    out_dir: Path
    today: dt.date
    plan_date: dt.date
    sender: str
    mails: list[Mail] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass
class SendReport:
    """What one --send did: delivered now, delivered by an earlier run, refused."""

    sent: list[Mail] = field(default_factory=list)
    already_sent: list[Mail] = field(default_factory=list)
    failed: list[tuple[Mail, str]] = field(default_factory=list)
    # Why the session stopped partway (the connection dropped); the rest are in failed.
    aborted: str = ""


def clean_text(value: Any) -> str:
    """A cell's text with control characters removed, so nothing from a sheet can shape a header."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    # A line break inside a cell (Alt+Enter) separates words; other control characters just go.
    return " ".join(_CONTROL.sub(lambda m: " " if m.group().isspace() else "", text).split())


def parse_address(text: str) -> Address | None:
    """A plain ASCII address such as zhangwei@example.com, or None."""
    if not text or not text.isascii():
        return None
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        return None
    return address if "." in address.domain and address.addr_spec == text else None


def _iso(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def read_run(out_dir: Path) -> RunInfo:
    """The dates of the run that wrote OUT/D, from run.json (P falls back to the file names)."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MailError(f"{out_dir} 里没有 {MANIFEST}：请指向 kis-batch run 写出的日期文件夹，如 output/2026-11-27") from None
    except (OSError, ValueError) as error:
        raise MailError(f"{out_dir / MANIFEST} 读不出来（{error}）；请重新运行 kis-batch run") from None
    today = _iso(manifest.get("today")) or _iso(out_dir.name)
    plan_date = _iso((manifest.get("figures") or {}).get("plan_date"))
    if plan_date is None:
        dated = (outputs.plan_date_of(p.name) for p in sorted(out_dir.glob("*.xlsx")))
        plan_date = next((day for day in dated if day), None)
    if today is None or plan_date is None:
        raise MailError(f"{out_dir / MANIFEST} 缺少日期；请重新运行 kis-batch run")
    return RunInfo(today, plan_date, (manifest.get("figures") or {}).get("closed_month"))


def load_roster(out_dir: Path) -> tuple[pd.DataFrame, Settings]:
    """The staff roster and mail settings (SMTP included) as the run that wrote OUT/D read them,
    from its mail.json: the inbox may have moved on or away since."""
    read_run(out_dir)
    path = out_dir / MAIL_ROSTER
    try:
        return read_mail_roster(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise MailError(f"{out_dir} 里没有 {MAIL_ROSTER}（可能是旧版 kis-batch 写出的结果）：请用当前版本对同一日期"
                        "重新运行 kis-batch run，再发邮件") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MailError(f"{path} 读不出来（{error}）；请重新运行 kis-batch run 后再发邮件") from None


@dataclass
class _Draft:
    """A person's message before the size check: who, the workbooks wanted, the words around them."""

    subject: str
    intro: str
    instructions: str
    files: dict[str, str]  # file name -> what it is, as listed in the body
    missing: list[str] = field(default_factory=list)


def _draft(role: str, name: str, out_dir: Path, run: RunInfo, settings: Settings) -> _Draft | str:
    """The message a role gets, or the reason it gets none."""
    plan_label, today_label = day_label(run.plan_date), day_label(run.today)
    if role in (ENGINEER, IMPLEMENTER):
        own = outputs.PERSON_DISPATCH_OUTPUT.file_name(run.plan_date, name)
        if (out_dir / own).is_file():
            exempt = "、".join(settings.visit_time_exempt_types)
            return _Draft(
                f"派工单 {plan_label} {clean_text(name)}",
                f"附件是您 {plan_label} 的派工单，已按路线排好顺序。",
                "请按派工单上门：出发前先电话与客户确认到达时间，重点客户优先；"
                f"每家工作时间不超过 {settings.max_visit_minutes} 分钟" + (f"（{exempt}除外）" if exempt else "") + "。\n"
                "服务后在派工单上填好处理结果、到达/离开时间、客户满意度、客户签字等反馈栏，交回收件夹。",
                {own: "您的派工单，可打印带去现场"},
            )
        if (out_dir / outputs.DISPATCH_OUTPUT.file_name(run.plan_date)).is_file():
            return _Draft(f"{plan_label} 无派工 {clean_text(name)}", f"{plan_label} 没有派给您的工单，本邮件没有附件。",
                          "如果您认为有遗漏，请联系经理。", {})
        return f"没有找到 {outputs.DISPATCH_OUTPUT.file_name(run.plan_date)}（本次运行没有生成派工单）"
    if role == HOTLINE:
        callbacks = outputs.CALLBACKS_OUTPUT.file_name(run.plan_date)
        if not (out_dir / callbacks).is_file():
            return f"没有找到 {callbacks}（本次运行没有生成回访清单）"
        tracked = outputs.CUSTOMERS_OUTPUT.file_name(run.today)
        files = {callbacks: "回访清单，填好后交回收件夹"}
        if (out_dir / tracked).is_file():
            files[tracked] = "重点、大客户、集团、异地客户的跟踪，久未联系的标红"
        # The hotline follows complaint cases too (docs/rules.md § Mail): 投诉跟踪 where the run wrote it.
        complaints = outputs.COMPLAINTS_OUTPUT.file_name(run.today)
        if (out_dir / complaints).is_file():
            files[complaints] = "投诉案件跟踪，填好处理措施、结案日期等黄色列后交回收件夹"
        return _Draft(
            f"回访清单 {plan_label}",
            f"附件是 {plan_label} 的回访清单" + ("和投诉跟踪表。" if len(files) > 1 else "。"),
            f"当日核实：{settings.verification_call_time:%H:%M} 前后给当天上门的客户逐一打电话核实；"
            "月度抽查和满意度回访按清单拨打。\n请填好接通、上门属实、客户满意度、投诉等栏，交回收件夹。"
            + ("\n客户跟踪表里标红的久未联系客户，请安排回访。" if tracked in files else ""),
            files,
        )
    # 服务部经理 and 经理助理: the day's report first, then every other workbook.
    described = manager_files(run.today, run.plan_date)
    if run.closed_month:  # the month closed tonight: its 考核, from OUT/YYYY-MM beside OUT/D
        described[f"../{run.closed_month}/{outputs.EVALUATION_OUTPUT.file_name(run.closed_month)}"] = "上月月度考核（今晚结算）"
        described[f"../{run.closed_month}/{outputs.MONTHLY_SUMMARY_OUTPUT.file_name(run.closed_month)}"] = "上月月度总结（今晚结算）"
    wanted = list(described)
    present = [f for f in wanted if (out_dir / f).is_file()]
    if not present:
        return "输出文件夹里没有任何要发给经理的工作簿"
    return _Draft(
        f"经理日报 {today_label}，派工日 {plan_label}",
        f"附件是 {today_label} 的批处理结果，派工日为 {plan_label}。",
        "请先看经理日报；校验报告里的错误请让相关员工改正后重新放入收件夹。",
        {f: described[f] for f in present},
        [f for f in wanted if f not in present],
    )


def _with_projects(draft: _Draft, name: str, out_dir: Path, run: RunInfo) -> _Draft:
    """An implementation specialist's message also carries their own projects' rows (实施_D_姓名.xlsx)."""
    own = outputs.PERSON_PROJECTS_OUTPUT.file_name(run.today, name)
    if not (out_dir / own).is_file():
        return draft
    if not draft.files:
        draft.intro = f"{day_label(run.plan_date)} 没有派给您的工单；附件是您负责的实施项目。"
    draft.files[own] = "您负责的实施项目：阶段、上线/验收/交接是否逾期"
    return draft


def _body(name: str, draft: _Draft, attached: list[Attachment], left_out: list[tuple[str, str]], today: dt.date) -> str:
    lines = [f"{name}，您好：", "", draft.intro]
    if attached:
        lines += ["", "附件："]
        by_name = {Path(file).name: words for file, words in draft.files.items()}
        lines += [f"  · {a.name}：{by_name[a.name]}" for a in attached]
    if left_out:
        lines += ["", "未附（请到批处理输出文件夹取用）："]
        lines += [f"  · {file}：{reason}" for file, reason in left_out]
    lines += ["", draft.instructions, "", f"—— kis-batch 根据 {today.isoformat()} 的表格自动生成"]
    return "\n".join(lines) + "\n"


def prepare_messages(out_dir: Path, staff: pd.DataFrame, settings: Settings) -> MailPlan:
    """One message per active person on the roster, with the workbooks their role gets (docs/rules.md § Mail).

    Engineers and implementation specialists without work get a short "无派工" note, so silence never
    means a lost message. A person without a usable address, and an attachment that would take a
    message over settings.attachment_limit_mb, is reported in plan.skipped; the rest still go.
    """
    run = read_run(out_dir)
    plan = MailPlan(out_dir, run.today, run.plan_date, clean_text(settings.smtp_sender))
    limit = int(settings.attachment_limit_mb * 2**20)
    for person in staff.to_dict("records"):
        role = person.get("role")
        if person.get("active") is False or role not in MAIL_ROLES:
            continue
        name, staff_id = clean_text(person["name"]), clean_text(person["staff_id"])
        who = f"{name}（{staff_id}，{role}）"
        draft = _draft(role, person["name"], out_dir, run, settings)
        if role == IMPLEMENTER and not isinstance(draft, str):
            draft = _with_projects(draft, person["name"], out_dir, run)
        if isinstance(draft, str):
            plan.skipped.append(Skipped(who, draft))
            continue
        address = clean_text(person.get("email"))
        if not address:
            plan.skipped.append(Skipped(who, "员工名单里没有邮箱"))
            continue
        if parse_address(address) is None:
            plan.skipped.append(Skipped(who, f"邮箱“{address}”不是有效地址；只填地址本身，如 zhangwei@example.com"))
            continue
        attached: list[Attachment] = []
        left_out = [(f, "本次运行没有生成") for f in draft.missing]
        for file in draft.files:
            attachment = Attachment.read(out_dir / file)
            if sum(a.encoded_size for a in attached) + attachment.encoded_size > limit:
                size = attachment.encoded_size / 2**20
                left_out.append((file, f"编码后 {size:.1f} MB，一封邮件超过上限 {settings.attachment_limit_mb:g} MB"))
            else:
                attached.append(attachment)
        by_reason: dict[str, list[str]] = {}
        for file, reason in left_out:
            by_reason.setdefault(reason, []).append(file)
        plan.skipped += [Skipped(who, f"{'、'.join(files)}：{reason}", "未附") for reason, files in by_reason.items()]
        if draft.files and not attached:
            plan.skipped.append(Skipped(who, "没有可附的工作簿，未发邮件"))
            continue
        plan.mails.append(Mail(staff_id, name, role, address, draft.subject,
                               _body(name, draft, attached, left_out, run.today), tuple(attached)))
    return plan


def _attachment_part(attachment: Attachment) -> MIMEPart:
    """An .xlsx part whose Chinese name survives common clients: RFC 2231 filename* for standard
    readers, and an RFC 2047 name= (plain ASCII on the wire) for the clients that only read that."""
    part = MIMEPart(policy=MAIL_POLICY)
    part.set_content(attachment.data, *XLSX_TYPE)
    encoded = base64.b64encode(attachment.name.encode("utf-8")).decode("ascii")
    del part["Content-Type"]
    part.set_raw("Content-Type", f'{"/".join(XLSX_TYPE)};\n name="=?utf-8?b?{encoded}?="')
    part.set_raw("Content-Disposition", f"attachment;\n filename*=utf-8''{quote(attachment.name, safe='')}")
    return part


def build_message(mail: Mail, sender: str, now: dt.datetime, *, draft: bool = False) -> EmailMessage:
    """The standard message for one mail; draft marks an outbox file that Outlook opens ready to send."""
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = mail.subject
    from_address = parse_address(sender)
    if from_address is not None:
        message["From"] = from_address
    message["To"] = Address(display_name=mail.name, addr_spec=mail.address)
    message["Date"] = format_datetime(now)
    # Stable per identity: should a delivery be repeated after a crash, clients see the same message.
    domain = from_address.domain if from_address is not None else "kis-batch.invalid"
    message["Message-ID"] = f"<{mail.identity[:32]}@{domain}>"
    if draft:
        message["X-Unsent"] = "1"
    message.set_content(mail.body)
    if mail.attachments:
        message.make_mixed()
        for attachment in mail.attachments:
            message.attach(_attachment_part(attachment))
    return message


def eml_name(mail: Mail) -> str:
    return outputs.outbox_file(mail.staff_id, mail.name)


def write_outbox(plan: MailPlan) -> list[Path]:
    """Every message as a standard .eml file in OUT/D/outbox/; nothing is sent. Files of people no
    longer in the plan are removed, so the outbox holds this plan's messages and nothing else."""
    outbox = plan.out_dir / OUTBOX
    now = dt.datetime.now().astimezone()
    written: list[Path] = []
    with run_lock(plan.out_dir):
        outbox.mkdir(exist_ok=True)
        for mail in plan.mails:
            target = outbox / eml_name(mail)
            temporary = temporary_path(target)
            temporary.write_bytes(build_message(mail, plan.sender, now, draft=True).as_bytes())
            written.append(replace_file(temporary, target))
        for stale in outbox.glob("*.eml"):
            if stale not in written:
                stale.unlink()
    return written


def _read_log(out_dir: Path) -> dict[str, Any]:
    path = out_dir / SENT_LOG
    if not path.exists():
        return {}
    try:
        return dict(json.loads(path.read_text(encoding="utf-8"))["sent"])
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise MailError(f"发送记录 {path} 损坏（{error}）；为免重复发送，请检查后修复或删除它再发") from None


def _write_log(out_dir: Path, log: dict[str, Any]) -> None:
    target = out_dir / SENT_LOG
    temporary = temporary_path(target)
    temporary.write_text(json.dumps({"sent": log}, ensure_ascii=False, indent=2), encoding="utf-8")
    replace_file(temporary, target)


def _connect(settings: Settings, context: ssl.SSLContext, user: str, password: str, timeout: float) -> smtplib.SMTP:
    """A logged-in session over TLS, certificate and host name checked; never plaintext: without
    STARTTLS nothing is sent, the password least of all."""
    host, port = clean_text(settings.smtp_host), settings.smtp_port
    security = clean_text(settings.smtp_security).lower()
    smtp: smtplib.SMTP | None = None
    try:
        if security == "ssl":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=context)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            smtp.ehlo()
            if not smtp.has_extn("starttls"):
                raise MailError(f"邮件服务器 {host}:{port} 不支持 STARTTLS 加密；为保护密码，没有登录也没有发送任何邮件。"
                                "请在规则设置里改用 ssl（通常端口 465），或换用支持加密的服务器")
            smtp.starttls(context=context)
            smtp.ehlo()
        smtp.login(user, password)
        return smtp
    except BaseException as error:
        if smtp is not None:
            smtp.close()
        if isinstance(error, ssl.SSLCertVerificationError):
            raise MailError(f"邮件服务器 {host}:{port} 的证书校验失败（{error.verify_message}）；没有发送任何邮件") from None
        if isinstance(error, UnicodeEncodeError):  # smtplib's AUTH takes ASCII only
            raise MailError("邮件账号或密码里有中文等非ASCII字符，SMTP 无法登录；请改用英文字母、数字和符号") from None
        if isinstance(error, smtplib.SMTPAuthenticationError):
            raise MailError(f"邮件服务器拒绝登录（{error.smtp_code}）：请检查邮件账号和密码") from None
        if isinstance(error, OSError):
            raise MailError(f"连接邮件服务器 {host}:{port}（{security}）失败：{error}") from None
        raise


def _check_config(settings: Settings, sender: str, password_env: Mapping[str, str]) -> tuple[str, str]:
    """The login (user, password), or MailError saying what to fill in before anything is tried."""
    if not clean_text(settings.smtp_host):
        raise MailError("规则设置里没有填“邮件服务器”；请填好邮件服务器、邮件端口、邮件加密和发件人（kis-batch init 的规则设置里有说明）")
    if clean_text(settings.smtp_security).lower() not in ("ssl", "starttls"):
        raise MailError(f"“邮件加密”应为 ssl 或 starttls，不是“{settings.smtp_security}”；不支持明文发送")
    if parse_address(sender) is None:
        raise MailError(f"“发件人”应为一个邮箱地址，现在是“{sender}”")
    password = password_env.get(settings.smtp_password_env, "")
    if not password:
        raise MailError(f"环境变量 {settings.smtp_password_env} 没有设置：请把邮件密码放在这个环境变量里（密码不写在表格里）")
    return clean_text(settings.smtp_user) or sender, password


def send(plan: MailPlan, settings: Settings, password_env: Mapping[str, str] = os.environ,
         context: ssl.SSLContext | None = None, timeout: float = SMTP_TIMEOUT_S) -> SendReport:
    """Deliver what the sent log does not hold yet, logging each delivery as soon as the server took it.

    context: the TLS context (default: ssl.create_default_context(), system CAs, host name checked);
    pass one that trusts a private CA rather than weakening the checks.
    Raises MailError when SMTP is not configured or the connection, TLS or login fails.
    """
    user, password = _check_config(settings, plan.sender, password_env)
    report = SendReport()
    with run_lock(plan.out_dir):
        log = _read_log(plan.out_dir)
        pending = []
        for mail in plan.mails:
            (report.already_sent if mail.identity in log else pending).append(mail)
        if not pending:
            return report
        with _connect(settings, context or ssl.create_default_context(), user, password, timeout) as smtp:
            for index, mail in enumerate(pending):
                now = dt.datetime.now().astimezone()
                message = build_message(mail, plan.sender, now)
                try:
                    smtp.sendmail(plan.sender, [mail.address], message.as_bytes())
                except smtplib.SMTPRecipientsRefused as error:
                    code, reply = error.recipients[mail.address]
                    report.failed.append((mail, f"服务器拒收此地址（{code} {reply.decode(errors='replace')}）"))
                    continue
                except smtplib.SMTPResponseException as error:
                    report.failed.append((mail, f"服务器拒收（{error.smtp_code} {error.smtp_error.decode(errors='replace')}）"))
                    continue
                except (smtplib.SMTPException, OSError) as error:
                    report.aborted = f"与邮件服务器的连接中断：{error}"
                    report.failed += [(m, "连接中断，未发送") for m in pending[index:]]
                    break
                log[mail.identity] = {
                    "staff_id": mail.staff_id, "name": mail.name, "to": mail.address, "subject": mail.subject,
                    "attachments": [{"name": a.name, "sha256": a.sha256} for a in mail.attachments],
                    "message_id": message["Message-ID"], "sent_at": now.isoformat(timespec="seconds"),
                }
                _write_log(plan.out_dir, log)
                report.sent.append(mail)
    return report
