"""Who gets what (docs/rules.md § Mail): one message per active person on the roster the run recorded
(mail.json), with the outputs declared for their role (kis_batch/outputs.py), dated by the run
(run.json); nothing here knows how a message travels."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.calendar import day_label
from kis_batch.delivery.html import html_body
from kis_batch.outputs import (
    CALLBACKS_OUTPUT,
    CLOSE_OUTPUTS,
    CUSTOMERS_OUTPUT,
    DAY_OUTPUTS,
    DISPATCH_OUTPUT,
    KEPT_FIRST,
    MAIL_ROSTER,
    MANIFEST,
    PERSON_DISPATCH_OUTPUT,
    PERSON_PROJECTS_OUTPUT,
    Dated,
    Output,
    person_labels,
    plan_date_of,
)
from kis_batch.render.mail_roster import RunDigest, read_mail_roster, read_run_digest
from kis_batch.schema import ENGINEER, HOTLINE, IMPLEMENTER, MANAGER_ROLES
from kis_batch.settings import Settings

MAIL_ROLES = (ENGINEER, IMPLEMENTER, HOTLINE, *MANAGER_ROLES)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_DATED_ORDER = list(Dated)


class DeliveryError(Exception):
    """Nothing can be delivered: OUT/D is not a run's output, or a channel is not set up or could
    not be reached safely."""


@dataclass(frozen=True)
class RunInfo:
    """What delivery needs from run.json: D, P, and the month this run closed (its 月度考核 goes
    to the manager)."""

    today: dt.date
    plan_date: dt.date
    closed_month: str | None = None


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


def content_identity(files: Iterable[tuple[str, str]]) -> str:
    """The same files (name, sha256) are the same content, however often a message is prepared;
    a rerun of the batch that changed a workbook makes new content."""
    return hashlib.sha256(json.dumps([list(f) for f in files], ensure_ascii=False).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Message:
    """One person's message, ready for any channel."""

    staff_id: str
    name: str
    role: str
    address: str
    subject: str
    body: str
    attachments: tuple[Attachment, ...]
    html: str = ""  # the same message for a phone, beside the plain text
    mentions: tuple[str, ...] = ()  # a group post: the 手机 of the people it calls on
    # What the message is, where its attachments do not say (a group post's text); see content.
    identity: str = ""

    @property
    def content(self) -> str:
        """Two messages with the same content are the same delivery: the same attachments (however
        the words around them change), or the same identity."""
        return self.identity or content_identity((a.name, a.sha256) for a in self.attachments)

    @property
    def summary(self) -> str:
        """Who gets what, for the terminal."""
        if self.identity:
            return f"{self.name}：{self.subject}"
        return f"{self.name} <{self.address}>：{'、'.join(a.name for a in self.attachments) or '无附件'}"


@dataclass(frozen=True)
class Skipped:
    """A person who gets no message, or an attachment left out of one, and why."""

    person: str
    reason: str
    kind: str = "未发"  # 未发: no message; 未附: the message went without these files


@dataclass
class DeliveryPlan:
    """Everything one OUT/D would deliver, and everyone it would not, before anything is written or sent."""

    out_dir: Path
    today: dt.date
    plan_date: dt.date
    sender: str
    messages: list[Message] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


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
        raise DeliveryError(f"{out_dir} 里没有 {MANIFEST}：请指向 kis-batch run 写出的日期文件夹，如 output/2026-11-27") from None
    except (OSError, ValueError) as error:
        raise DeliveryError(f"{out_dir / MANIFEST} 读不出来（{error}）；请重新运行 kis-batch run") from None
    today = _iso(manifest.get("today")) or _iso(out_dir.name)
    plan_date = _iso((manifest.get("figures") or {}).get("plan_date"))
    if plan_date is None:
        dated = (plan_date_of(p.name) for p in sorted(out_dir.glob("*.xlsx")))
        plan_date = next((day for day in dated if day), None)
    if today is None or plan_date is None:
        raise DeliveryError(f"{out_dir / MANIFEST} 缺少日期；请重新运行 kis-batch run")
    return RunInfo(today, plan_date, (manifest.get("figures") or {}).get("closed_month"))


def load_roster(out_dir: Path) -> tuple[pd.DataFrame, Settings]:
    """The staff roster and mail settings (SMTP included) as the run that wrote OUT/D read them,
    from its mail.json: the inbox may have moved on or away since."""
    read_run(out_dir)
    path = out_dir / MAIL_ROSTER
    try:
        return read_mail_roster(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DeliveryError(f"{out_dir} 里没有 {MAIL_ROSTER}（可能是旧版 kis-batch 写出的结果）：请用当前版本对同一日期"
                            "重新运行 kis-batch run，再发邮件") from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DeliveryError(f"{path} 读不出来（{error}）；请重新运行 kis-batch run 后再发邮件") from None


def load_digest(out_dir: Path) -> RunDigest:
    """What the run computed for the bodies and group posts, from its mail.json (empty if it has none)."""
    path = out_dir / MAIL_ROSTER
    try:
        return read_run_digest(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return RunDigest()
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise DeliveryError(f"{path} 读不出来（{error}）；请重新运行 kis-batch run 后再发送") from None


def _where(output: Output, run: RunInfo, person: str | None) -> str | None:
    """An output's file as seen from OUT/D (a closed month's beside it, in ../YYYY-MM/), or None if
    this run has no such file to offer (no month closed tonight)."""
    if output.dated is Dated.PLAN:
        return output.file_name(run.plan_date, person)
    if output.dated is Dated.TODAY:
        return output.file_name(run.today, person)
    if output.dated is Dated.MONTH and run.closed_month:
        return f"../{run.closed_month}/{output.file_name(run.closed_month, person)}"
    return None


def _offered(role: str, person: str, run: RunInfo) -> dict[Output, str]:
    """The outputs a role is sent (for one per person, this person's own) with their files, in the
    order a message lists them: the page to read first, then tomorrow's work, today's figures, the month's."""
    declared = sorted((o for o in (*DAY_OUTPUTS, *CLOSE_OUTPUTS) if o.words_for(role) is not None),
                      key=lambda o: (not o.lead, _DATED_ORDER.index(o.dated)))
    files = {o: _where(o, run, person if o.per_person else None) for o in declared}
    return {o: file for o, file in files.items() if file is not None}


@dataclass
class _Draft:
    """A person's message before the size check: the workbooks wanted, the words around them."""

    subject: str
    intro: str
    instructions: str
    files: dict[str, str]  # file name -> what it is, as listed in the body
    missing: list[str] = field(default_factory=list)


def _draft(role: str, name: str, offered: dict[Output, str], out_dir: Path, run: RunInfo,
           settings: Settings) -> _Draft | str:
    """The message a role gets, or the reason it gets none, from the outputs it is offered (_offered)."""
    plan_label, today_label = day_label(run.plan_date), day_label(run.today)
    present = {o: file for o, file in offered.items() if (out_dir / file).is_file()}
    files = {file: o.words_for(role) or "" for o, file in present.items()}
    if role in (ENGINEER, IMPLEMENTER):
        overview = DISPATCH_OUTPUT.file_name(run.plan_date)
        if PERSON_DISPATCH_OUTPUT in present:
            exempt = "、".join(settings.visit_time_exempt_types)
            return _Draft(
                f"派工单 {plan_label} {clean_text(name)}",
                f"附件是您 {plan_label} 的派工单，已按路线排好顺序。",
                "请按派工单上门：出发前先电话与客户确认到达时间，重点客户优先；"
                f"每家工作时间不超过 {settings.max_visit_minutes} 分钟" + (f"（{exempt}除外）" if exempt else "") + "。\n"
                "服务后在派工单上填好处理结果、到达/离开时间、客户满意度、客户签字等反馈栏，交回收件夹。",
                files,
            )
        if (out_dir / overview).is_file():
            intro = (f"{plan_label} 没有派给您的工单；附件是您负责的实施项目。" if PERSON_PROJECTS_OUTPUT in present
                     else f"{plan_label} 没有派给您的工单，本邮件没有附件。")
            return _Draft(f"{plan_label} 无派工 {clean_text(name)}", intro, "如果您认为有遗漏，请联系经理。", files)
        return f"没有找到 {overview}（本次运行没有生成派工单）"
    if role == HOTLINE:
        if CALLBACKS_OUTPUT not in present:
            return f"没有找到 {offered[CALLBACKS_OUTPUT]}（本次运行没有生成回访清单）"
        return _Draft(
            f"回访清单 {plan_label}",
            f"附件是 {plan_label} 的回访清单" + ("和投诉跟踪表。" if len(files) > 1 else "。"),
            f"当日核实：{settings.verification_call_time:%H:%M} 前后给当天上门的客户逐一打电话核实；"
            "月度抽查和满意度回访按清单拨打。\n请填好接通、上门属实、客户满意度、投诉等栏，交回收件夹。"
            + ("\n客户跟踪表里标红的久未联系客户，请安排回访。" if CUSTOMERS_OUTPUT in present else ""),
            files,
        )
    # 服务部经理 and 经理助理: the day's report first, then every other workbook.
    if not present:
        return "输出文件夹里没有任何要发给经理的工作簿"
    return _Draft(
        f"经理日报 {today_label}，派工日 {plan_label}",
        f"附件是 {today_label} 的批处理结果，派工日为 {plan_label}。",
        "请先看经理日报；校验报告里的错误请让相关员工改正后重新放入收件夹。",
        files,
        [file for o, file in offered.items() if o not in present],
    )


def _bodies(name: str, staff_id: str, role: str, draft: _Draft, attached: list[Attachment],
            left_out: list[tuple[str, str]], run: RunInfo, digest: RunDigest, settings: Settings) -> tuple[str, str]:
    """The plain text and the HTML of one message: the same words; the HTML adds the person's route
    (engineers, specialists) or the day's figures and what needs the manager."""
    by_name = {Path(file).name: words for file, words in draft.files.items()}
    listed = [(a.name, by_name[a.name]) for a in attached]
    greeting, footer = f"{name}，您好：", f"—— kis-batch 根据 {run.today.isoformat()} 的表格自动生成"
    lines = [greeting, "", draft.intro]
    if listed:
        lines += ["", "附件："] + [f"  · {file}：{words}" for file, words in listed]
    if left_out:
        lines += ["", "未附（请到批处理输出文件夹取用）："]
        lines += [f"  · {file}：{reason}" for file, reason in left_out]
    lines += ["", draft.instructions, "", footer]
    stops = digest.routes.get(staff_id, ()) if role in (ENGINEER, IMPLEMENTER) else ()
    confirm = (f"{day_label(run.plan_date)} 早上出发前，逐一电话与客户确认到达时间（点电话号码即可拨打）"
               if settings.phone_ahead_required else "")
    manager = role in MANAGER_ROLES
    html = html_body(draft.subject, greeting, draft.intro, draft.instructions, footer, listed, left_out,
                     stops=stops, confirm=confirm, manager=manager, headline=digest.headline if manager else (),
                     overdue=digest.overdue, backlog=digest.backlog, quotas=digest.quotas)
    return "\n".join(lines) + "\n", html


def shown_size(size: int) -> str:
    """Bytes as a person reads them: KB below 1 MB (never 0), MB above with one decimal."""
    return f"{max(1, round(size / 2**10))} KB" if size < 2**20 else f"{size / 2**20:.1f} MB"


def _too_many(wanted: dict[str, Attachment], need: dict[str, int], limit: int) -> list[str]:
    """The files a message leaves out to stay within the limit (docs/rules.md § Mail): one larger than
    the limit by itself, then the least needed (outputs.KEPT_FIRST) until the rest fit; in the
    order the message lists them."""
    dropped = {file for file, a in wanted.items() if a.encoded_size > limit}
    size = sum(a.encoded_size for file, a in wanted.items() if file not in dropped)
    for file in sorted(wanted.keys() - dropped, key=need.__getitem__, reverse=True):
        if size <= limit:
            break
        dropped.add(file)
        size -= wanted[file].encoded_size
    return [file for file in wanted if file in dropped]


def plan_messages(out_dir: Path, staff: pd.DataFrame, settings: Settings, digest: RunDigest | None = None) -> DeliveryPlan:
    """One message per active person on the roster, with the workbooks their role gets (docs/rules.md § Mail).

    Engineers and implementation specialists without work get a short "无派工" note, so silence never
    means a lost message. A person without a usable address, and the attachments a message leaves
    out to stay within settings.attachment_limit_mb (the least needed first), are reported in
    plan.skipped; the rest still go.
    """
    run = read_run(out_dir)
    plan = DeliveryPlan(out_dir, run.today, run.plan_date, clean_text(settings.smtp_sender))
    limit = int(settings.attachment_limit_mb * 2**20)
    # Each person's own files by 工号, named as the writers named them (two of one 姓名 get 姓名_工号).
    labels = person_labels(staff["staff_id"], staff["name"])
    for person in staff.to_dict("records"):
        role = person.get("role")
        if person.get("active") is False or role not in MAIL_ROLES:
            continue
        name, staff_id = clean_text(person["name"]), clean_text(person["staff_id"])
        who = f"{name}（{staff_id}，{role}）"
        offered = _offered(role, labels[person["staff_id"]], run)
        draft = _draft(role, person["name"], offered, out_dir, run, settings)
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
        wanted = {file: Attachment.read(out_dir / file) for file in draft.files}
        need = {file: KEPT_FIRST.index(o) for o, file in offered.items()}
        dropped = _too_many(wanted, need, limit)
        attached = [a for file, a in wanted.items() if file not in dropped]
        left_out = [(f, "本次运行没有生成") for f in draft.missing]
        if draft.missing:
            plan.skipped.append(Skipped(who, f"{'、'.join(draft.missing)}：本次运行没有生成", "未附"))
        if dropped:
            over = (f"全部附件编码后共 {shown_size(sum(a.encoded_size for a in wanted.values()))}，"
                    f"超过一封邮件的上限 {shown_size(limit)}（附件上限MB）")
            left_out += [(file, f"本文件编码后 {shown_size(wanted[file].encoded_size)}；{over}") for file in dropped]
            plan.skipped.append(Skipped(who, "、".join(f"{file}（{shown_size(wanted[file].encoded_size)}）"
                                                       for file in dropped) + f"：{over}", "未附"))
        if draft.files and not attached:
            plan.skipped.append(Skipped(who, "没有可附的工作簿，未发邮件"))
            continue
        body, html = _bodies(name, staff_id, role, draft, attached, left_out, run, digest or RunDigest(), settings)
        plan.messages.append(Message(staff_id, name, role, address, draft.subject, body, tuple(attached), html))
    return plan
