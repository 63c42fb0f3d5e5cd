"""Group robots (docs/rules.md § Mail): the plan for P posted to a WeCom or DingTalk group as markdown,
each engineer with their stops and called on by 手机, then 未派 and the overdue complaint cases.

A post goes in parts of at most POST_BYTES (UTF-8), split at line boundaries; each part is a message
of the plan, known in the shared sent log by the whole post's hash and its place in it, so an
unchanged rerun posts nothing and a changed plan is posted whole again. A webhook is a secret: it is
shown only masked (settings.mask_secret), and the log keeps a fingerprint of it, never the URL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus

import pandas as pd

from kis_batch.calendar import day_label
from kis_batch.delivery.channel import Outcome
from kis_batch.delivery.plan import DeliveryPlan, Message, RunInfo, clean_text
from kis_batch.render.mail_roster import RunDigest
from kis_batch.settings import Settings, mask_secret

# Both robots take a markdown message of up to 4096 bytes.
POST_BYTES = 4096
ROBOT_TIMEOUT_S = 15.0
WECOM, DINGTALK = "wecom", "dingtalk"
GROUP_NAMES = {WECOM: "企业微信群", DINGTALK: "钉钉群"}
# Markdown's inline markup (emphasis, code, links, HTML, strike-through, tables, entities): escaped
# with a backslash wherever a value from a sheet is placed, so it shows as typed.
_MARKUP = re.compile(r"([\\`*_\[\]<>~|&#!])")
_MOBILE = re.compile(r"\+?\d{6,15}")


def md_text(value: object) -> str:
    """A value from a sheet as markdown text: its markup characters escaped, its line breaks spaces
    (a value never starts a line of its own, so it cannot become a heading or a list)."""
    return _MARKUP.sub(r"\\\1", " ".join(str(value).split()))


def mobile_of(value: object) -> str:
    """A 手机 cell as the robots take it (digits, maybe a leading +), or "" if it is not a number."""
    text = clean_text(value).replace(" ", "").replace("-", "")
    return text if _MOBILE.fullmatch(text) else ""


@dataclass(frozen=True)
class Line:
    """One line of a post, and the 手机 it calls on (DingTalk needs them beside the part holding them)."""

    text: str
    mentions: tuple[str, ...] = ()


def post_lines(run: RunInfo, staff: pd.DataFrame, digest: RunDigest, kind: str) -> list[Line]:
    """The plan for P as markdown lines: each person with stops (in the roster's order), 未派, overdue cases."""
    lines = [Line(f"### 派工计划 {day_label(run.plan_date)}")]
    for person in staff.to_dict("records"):
        stops = digest.routes.get(clean_text(person["staff_id"]), ())
        if not stops or person.get("active") is False:
            continue
        mobile = mobile_of(person.get("mobile"))
        mention = f" @{mobile}" if mobile and kind == DINGTALK else ""
        dispatched = sum(1 for s in stops if s.kind == "派工")
        lines.append(Line(f"**{md_text(clean_text(person['name']))}**{mention}　{dispatched} 家",
                          (mobile,) if mobile else ()))
        for stop in stops:
            where = f" · {md_text(stop.address)}" if stop.address else ""
            optional = f"（{md_text(stop.kind)}，可选）" if stop.kind != "派工" else ""
            key = "（重点）" if stop.key_customer else ""
            case = f"（投诉回访 {md_text(stop.open_case)}）" if stop.open_case else ""
            order = f"{stop.order}. " if stop.order is not None else "- "
            lines.append(Line(f"{order}{md_text(stop.customer)}{key}{case}{optional}{where} · {md_text(stop.problem)}"))
        lines.append(Line(""))
    if digest.backlog:
        lines.append(Line(f"#### 未派 {len(digest.backlog)} 单（顺延）"))
        lines += [Line(f"- {md_text(w.ticket)} {md_text(w.customer)}：{md_text(w.reason)}") for w in digest.backlog]
        lines.append(Line(""))
    if digest.overdue:
        lines.append(Line(f"#### 超期投诉 {len(digest.overdue)} 起"))
        lines += [Line(f"- {md_text(c.case)} {md_text(c.customer)}（被投诉人 {md_text(c.staff or '—')}，"
                       f"已过 {c.workdays} 个工作日，{md_text(c.status)}）") for c in digest.overdue]
    while lines and not lines[-1].text:
        lines.pop()
    return lines


def _fit(text: str, limit: int) -> list[str]:
    """A single line longer than the limit, cut at character boundaries."""
    pieces, piece = [], ""
    for char in text:
        if len((piece + char).encode("utf-8")) > limit:
            pieces.append(piece)
            piece = ""
        piece += char
    return [*pieces, piece]


def split_post(lines: Sequence[Line], limit: int) -> list[list[Line]]:
    """Consecutive lines in parts of at most limit bytes once joined with newlines."""
    parts: list[list[Line]] = [[]]
    size = 0
    for line in lines:
        for index, text in enumerate(_fit(line.text, limit)):
            grown = size + (1 if parts[-1] else 0) + len(text.encode("utf-8"))
            if parts[-1] and grown > limit:
                parts.append([])
                grown = len(text.encode("utf-8"))
            parts[-1].append(Line(text, line.mentions if index == 0 else ()))
            size = grown
    return [part for part in parts if part]


def group_plan(out_dir: Path, run: RunInfo, staff: pd.DataFrame, digest: RunDigest, kind: str) -> DeliveryPlan:
    """The post for one group robot, as messages of the plan, one per part."""
    plan = DeliveryPlan(out_dir, run.today, run.plan_date, "")
    lines = post_lines(run, staff, digest, kind)
    title = f"派工计划 {run.plan_date.isoformat()}"
    # Room for the part's own heading when the post takes more than one.
    heading = f"### {title}（99/99）\n"
    whole = "\n".join(line.text for line in lines)
    limit = POST_BYTES if len(whole.encode("utf-8")) <= POST_BYTES else POST_BYTES - len(heading.encode("utf-8"))
    parts = split_post(lines, limit)
    post = hashlib.sha256(whole.encode("utf-8")).hexdigest()
    group = GROUP_NAMES[kind]
    for number, part in enumerate(parts, start=1):
        text = "\n".join(line.text for line in part)
        label = f"（{number}/{len(parts)}）" if len(parts) > 1 else ""
        if label and number > 1:
            text = f"### {title}{label}\n{text}"
        mentions = tuple(dict.fromkeys(m for line in part for m in line.mentions))
        plan.messages.append(Message("", f"{group}{label}", "", "", f"{title}{label}", text, (),
                                     mentions=mentions, identity=f"{post}:{number}/{len(parts)}"))
    if kind == WECOM:
        # WeCom's markdown cannot call on a 手机; a short text message after the post does.
        mentions = tuple(dict.fromkeys(m for line in lines for m in line.mentions))
        if mentions:
            plan.messages.append(Message("", f"{group}（提醒）", "", "", f"{title} 提醒", f"{title} 已发到群里，请查看自己的路线",
                                         (), mentions=mentions, identity=f"{post}:mentions"))
    return plan


class RobotError(Exception):
    """A post the robot did not take: its errcode and errmsg, or why the request failed."""


def _reply(request: urllib.request.Request, timeout: float) -> dict[str, object]:
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            reply = json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        raise RobotError(f"HTTP {error.code}") from None
    except ValueError:
        raise RobotError("回复不是 JSON") from None
    if not isinstance(reply, dict):
        raise RobotError("回复不是 JSON 对象")
    return reply


@dataclass(frozen=True)
class RobotChannel:
    """A group robot's webhook as a channel: each message of a group plan is one POST of JSON."""

    name: str
    webhook: str = field(repr=False)
    secret: str = field(default="", repr=False)
    timeout: float = ROBOT_TIMEOUT_S
    clock: Callable[[], float] = time.time

    @property
    def shown(self) -> str:
        return mask_secret(self.webhook)

    def recipient(self, message: Message) -> str:
        """The group, by a fingerprint of its webhook: another webhook is another group."""
        return "webhook-" + hashlib.sha256(self.webhook.encode("utf-8")).hexdigest()[:16]

    def payload(self, message: Message) -> dict[str, object]:
        """The JSON body of one post, in the robot's own shape."""
        if self.name == WECOM and not message.identity.endswith(":mentions"):
            return {"msgtype": "markdown", "markdown": {"content": message.body}}
        if self.name == WECOM:
            return {"msgtype": "text", "text": {"content": message.body, "mentioned_mobile_list": list(message.mentions)}}
        return {"msgtype": "markdown", "markdown": {"title": message.subject, "text": message.body},
                "at": {"atMobiles": list(message.mentions), "isAtAll": False}}

    def url(self) -> str:
        """The webhook; DingTalk's signed with timestamp (ms) and sign = base64 HMAC-SHA256 of
        "timestamp\\nsecret" keyed by the secret, urlencoded."""
        if self.name != DINGTALK or not self.secret:
            return self.webhook
        timestamp = str(round(self.clock() * 1000))
        digest = hmac.new(self.secret.encode("utf-8"), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256).digest()
        sign = quote_plus(base64.b64encode(digest).decode("ascii"))
        return f"{self.webhook}{'&' if '?' in self.webhook else '?'}timestamp={timestamp}&sign={sign}"

    def post(self, message: Message) -> None:
        body = json.dumps(self.payload(message), ensure_ascii=False).encode("utf-8")
        request = urllib.request.Request(self.url(), data=body, method="POST",
                                         headers={"Content-Type": "application/json; charset=utf-8"})
        reply = _reply(request, self.timeout)
        if reply.get("errcode") != 0:
            raise RobotError(f"errcode {reply.get('errcode')}：{reply.get('errmsg', '')}")

    def deliver(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        """Each part in order; a refused part is reported and the rest still go; a connection that
        fails stops the post (the parts left are reported, and go on the next send)."""
        for index, message in enumerate(messages):
            try:
                self.post(message)
            except RobotError as error:
                yield Outcome(message, error=f"{GROUP_NAMES[self.name]}机器人拒收（{error}）")
                continue
            except OSError as error:
                stopped = f"连接{GROUP_NAMES[self.name]}机器人 {self.shown} 失败：{getattr(error, 'reason', error)}"
                for unsent in messages[index:]:
                    yield Outcome(unsent, error="连接失败，未发送", stopped=stopped)
                return
            yield Outcome(message, record={"to": self.shown, "subject": message.subject,
                                           "posted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})


def robot_channels(settings: Settings) -> list[RobotChannel]:
    """The robots the settings set up (none, one or both)."""
    channels = []
    if clean_text(settings.wecom_webhook):
        channels.append(RobotChannel(WECOM, clean_text(settings.wecom_webhook)))
    if clean_text(settings.dingtalk_webhook):
        channels.append(RobotChannel(DINGTALK, clean_text(settings.dingtalk_webhook), clean_text(settings.dingtalk_secret)))
    return channels
