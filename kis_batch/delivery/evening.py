"""One evening's delivery of OUT/D (docs/rules.md § Mail): the email plan to the outbox or over SMTP,
and, when sending, the plan for P to each group robot the run's 规则设置 names. Each channel is
delivered on its own: one that cannot be set up or reached is reported and the others still go."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from kis_batch.delivery.channel import Channel, SendReport, send
from kis_batch.delivery.email import EmailChannel, write_outbox
from kis_batch.delivery.plan import DeliveryError, DeliveryPlan, load_digest, load_roster, plan_messages, read_run
from kis_batch.delivery.robots import GROUP_NAMES, group_plan, robot_channels
from kis_batch.ingest import load_folder
from kis_batch.outputs import MAIL_ROSTER, MANIFEST
from kis_batch.render.mail_roster import read_robots
from kis_batch.settings import Settings

# How the terminal names the email channel.
EMAIL_LABEL = "邮件"


@dataclass
class ChannelRun:
    """What one channel did tonight, or why it could not start."""

    label: str
    report: SendReport = field(default_factory=SendReport)
    error: str = ""


@dataclass
class Evening:
    """The email plan (with the outbox files, when only written) and every channel's result."""

    plan: DeliveryPlan
    outbox: list[Path] = field(default_factory=list)
    channels: list[ChannelRun] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        """Someone skipped, a message refused, or a channel that did not start: exit 1 at least."""
        return bool(self.plan.skipped) or any(c.error or c.report.failed for c in self.channels)

    @property
    def stopped(self) -> str:
        """Why email could not be delivered at all (set-up, connection, TLS, login): exit 2."""
        email = next((c for c in self.channels if c.label == EMAIL_LABEL), None)
        return (email.error or email.report.aborted) if email is not None else ""


def run_robot_settings(out_dir: Path) -> Settings | None:
    """The robots' webhooks, read from the 规则设置 of the folder the run read (mail.json keeps them
    only masked); None when the run had no robot. DeliveryError when that folder is gone."""
    try:
        had = read_robots((out_dir / MAIL_ROSTER).read_text(encoding="utf-8"))
    except (OSError, ValueError, TypeError):
        return None
    if not had:
        return None
    manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    folder = Path(manifest.get("folder", ""))
    if not folder.is_dir():
        raise DeliveryError(f"群机器人的 Webhook 只保存在收件夹的规则设置里，但收件夹 {folder} 已不在；"
                            "请用 kis-batch run 收件夹 --send 在运行后直接发送")
    return load_folder(folder, read_run(out_dir).today).settings


def _deliver(label: str, plan: DeliveryPlan, channel: Channel) -> ChannelRun:
    try:
        return ChannelRun(label, send(plan, channel))
    except DeliveryError as error:
        return ChannelRun(label, error=str(error))


def deliver_evening(out_dir: Path, deliver: bool, robots: Settings | None = None) -> Evening:
    """The outbox (deliver False), or email and every robot (deliver True). robots: the settings
    holding the webhooks (the run's own, in memory); None reads them from the run's 规则设置.
    Raises DeliveryError when OUT/D is not a run's output."""
    staff, settings = load_roster(out_dir)
    digest = load_digest(out_dir)
    plan = plan_messages(out_dir, staff, settings, digest)
    evening = Evening(plan)
    if not deliver:
        evening.outbox = write_outbox(plan)
        return evening
    try:
        email = EmailChannel.from_settings(settings, plan.sender)
    except DeliveryError as error:
        evening.channels.append(ChannelRun(EMAIL_LABEL, error=str(error)))
    else:
        evening.channels.append(_deliver(EMAIL_LABEL, plan, email))
    try:
        robot_settings = robots if robots is not None else run_robot_settings(out_dir)
    except DeliveryError as error:
        evening.channels.append(ChannelRun("群机器人", error=str(error)))
        return evening
    run = read_run(out_dir)
    for robot in robot_channels(robot_settings) if robot_settings is not None else []:
        label = f"{GROUP_NAMES[robot.name]}机器人 {robot.shown}"
        evening.channels.append(_deliver(label, group_plan(out_dir, run, staff, digest, robot.name), robot))
    return evening
