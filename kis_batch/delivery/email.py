"""Email (docs/rules.md § Mail): a plan's messages as standard .eml files in OUT/D/outbox/ (the
default, nothing sent), or delivered over SMTP with TLS, certificate and host name checked."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import smtplib
import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage, MIMEPart
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from kis_batch.delivery.channel import Outcome
from kis_batch.delivery.plan import Attachment, DeliveryError, DeliveryPlan, Message, clean_text, parse_address
from kis_batch.lock import run_lock
from kis_batch.outputs import OUTBOX, outbox_file
from kis_batch.render.saving import replace_file, temporary_path
from kis_batch.settings import Settings

CHANNEL = "email"
SMTP_TIMEOUT_S = 30.0
XLSX_TYPE = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")
# 7bit: bodies go base64 so any server takes them; refold_source none: the attachment headers built
# by hand below are written as built (one RFC 2231 line, no continuations some clients misread).
MAIL_POLICY = policy.SMTP.clone(cte_type="7bit", refold_source="none")


def recipient(message: Message) -> str:
    """The address an email goes to, as the sent log keeps it."""
    return message.address.lower()


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


def build_message(message: Message, sender: str, now: dt.datetime, *, draft: bool = False) -> EmailMessage:
    """The standard email for one message; draft marks an outbox file that Outlook opens ready to send."""
    email = EmailMessage(policy=MAIL_POLICY)
    email["Subject"] = message.subject
    from_address = parse_address(sender)
    if from_address is not None:
        email["From"] = from_address
    email["To"] = Address(display_name=message.name, addr_spec=message.address)
    email["Date"] = format_datetime(now)
    # Stable per recipient and content: should a delivery be repeated after a crash, clients see the same message.
    identity = hashlib.sha256(f"{CHANNEL} {recipient(message)} {message.content}".encode()).hexdigest()
    domain = from_address.domain if from_address is not None else "kis-batch.invalid"
    email["Message-ID"] = f"<{identity[:32]}@{domain}>"
    if draft:
        email["X-Unsent"] = "1"
    email.set_content(message.body)
    if message.html:  # multipart/alternative: the plain text first, the HTML the richer choice
        email.add_alternative(message.html, subtype="html")
    if message.attachments:
        email.make_mixed()
        for attachment in message.attachments:
            email.attach(_attachment_part(attachment))
    return email


def eml_name(message: Message) -> str:
    return outbox_file(message.staff_id, message.name)


def write_outbox(plan: DeliveryPlan) -> list[Path]:
    """Every message as a standard .eml file in OUT/D/outbox/; nothing is sent. Files of people no
    longer in the plan are removed, so the outbox holds this plan's messages and nothing else."""
    outbox = plan.out_dir / OUTBOX
    now = dt.datetime.now().astimezone()
    written: list[Path] = []
    with run_lock(plan.out_dir):
        outbox.mkdir(exist_ok=True)
        for message in plan.messages:
            target = outbox / eml_name(message)
            temporary = temporary_path(target)
            temporary.write_bytes(build_message(message, plan.sender, now, draft=True).as_bytes())
            written.append(replace_file(temporary, target))
        for stale in outbox.glob("*.eml"):
            if stale not in written:
                stale.unlink()
    return written


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
                raise DeliveryError(f"邮件服务器 {host}:{port} 不支持 STARTTLS 加密；为保护密码，没有登录也没有发送任何邮件。"
                                    "请在规则设置里改用 ssl（通常端口 465），或换用支持加密的服务器")
            smtp.starttls(context=context)
            smtp.ehlo()
        smtp.login(user, password)
        return smtp
    except BaseException as error:
        if smtp is not None:
            smtp.close()
        if isinstance(error, ssl.SSLCertVerificationError):
            raise DeliveryError(f"邮件服务器 {host}:{port} 的证书校验失败（{error.verify_message}）；没有发送任何邮件") from None
        if isinstance(error, UnicodeEncodeError):  # smtplib's AUTH takes ASCII only
            raise DeliveryError("邮件账号或密码里有中文等非ASCII字符，SMTP 无法登录；请改用英文字母、数字和符号") from None
        if isinstance(error, smtplib.SMTPAuthenticationError):
            raise DeliveryError(f"邮件服务器拒绝登录（{error.smtp_code}）：请检查邮件账号和密码") from None
        if isinstance(error, OSError):
            raise DeliveryError(f"连接邮件服务器 {host}:{port}（{security}）失败：{error}") from None
        raise


@dataclass(frozen=True)
class EmailChannel:
    """SMTP delivery as the run's settings give it. context: the TLS context (default:
    ssl.create_default_context(), system CAs, host name checked); pass one that trusts a private CA
    rather than weakening the checks."""

    settings: Settings
    sender: str
    user: str
    password: str = field(repr=False)
    context: ssl.SSLContext | None = None
    timeout: float = SMTP_TIMEOUT_S
    name: str = CHANNEL

    @classmethod
    def from_settings(cls, settings: Settings, sender: str, password_env: Mapping[str, str] = os.environ,
                      context: ssl.SSLContext | None = None, timeout: float = SMTP_TIMEOUT_S) -> EmailChannel:
        """The channel, or DeliveryError saying what to fill in before anything is tried."""
        if not clean_text(settings.smtp_host):
            raise DeliveryError("规则设置里没有填“邮件服务器”；请填好邮件服务器、邮件端口、邮件加密和发件人"
                                "（kis-batch init 的规则设置里有说明）")
        if clean_text(settings.smtp_security).lower() not in ("ssl", "starttls"):
            raise DeliveryError(f"“邮件加密”应为 ssl 或 starttls，不是“{settings.smtp_security}”；不支持明文发送")
        if parse_address(sender) is None:
            raise DeliveryError(f"“发件人”应为一个邮箱地址，现在是“{sender}”")
        password = password_env.get(settings.smtp_password_env, "")
        if not password:
            raise DeliveryError(f"环境变量 {settings.smtp_password_env} 没有设置：请把邮件密码放在这个环境变量里（密码不写在表格里）")
        return cls(settings, sender, clean_text(settings.smtp_user) or sender, password, context, timeout)

    def recipient(self, message: Message) -> str:
        return recipient(message)

    def deliver(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        """One SMTP session for all; raises DeliveryError when the connection, TLS or login fails."""
        context = self.context or ssl.create_default_context()
        with _connect(self.settings, context, self.user, self.password, self.timeout) as smtp:
            for index, message in enumerate(messages):
                now = dt.datetime.now().astimezone()
                email = build_message(message, self.sender, now)
                try:
                    smtp.sendmail(self.sender, [message.address], email.as_bytes())
                except smtplib.SMTPRecipientsRefused as error:
                    code, reply = error.recipients[message.address]
                    yield Outcome(message, error=f"服务器拒收此地址（{code} {reply.decode(errors='replace')}）")
                    continue
                except smtplib.SMTPResponseException as error:
                    yield Outcome(message, error=f"服务器拒收（{error.smtp_code} {error.smtp_error.decode(errors='replace')}）")
                    continue
                except (smtplib.SMTPException, OSError) as error:
                    stopped = f"与邮件服务器的连接中断：{error}"
                    for unsent in messages[index:]:
                        yield Outcome(unsent, error="连接中断，未发送", stopped=stopped)
                    return
                yield Outcome(message, record={
                    "staff_id": message.staff_id, "name": message.name, "to": message.address, "subject": message.subject,
                    "attachments": [{"name": a.name, "sha256": a.sha256} for a in message.attachments],
                    "message_id": email["Message-ID"], "sent_at": now.isoformat(timespec="seconds"),
                })
