"""A channel delivers a plan's messages (email now; a group robot can be another) and says, message by
message, what happened; send() keeps the shared sent log, so no channel delivers a message twice."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from kis_batch.delivery.plan import DeliveryPlan, Message
from kis_batch.delivery.sentlog import SentKey, SentLog
from kis_batch.lock import run_lock


@dataclass(frozen=True)
class Outcome:
    """What became of one message: delivered (with what the sent log keeps about it) or not, and why."""

    message: Message
    record: Mapping[str, Any] | None = None  # delivered: the details the sent log keeps
    error: str = ""  # not delivered: why
    stopped: str = ""  # the channel gave up here (the connection dropped): why


class Channel(Protocol):
    """A way to deliver messages: named in the sent log, reaching each person at an address of its own."""

    name: str

    def recipient(self, message: Message) -> str:
        """Where this channel delivers the message (the same person is the same recipient on every run)."""
        ...

    def deliver(self, messages: Sequence[Message]) -> Iterator[Outcome]:
        """Deliver the messages, one outcome each as it happens; raise DeliveryError if nothing can go."""
        ...


@dataclass
class SendReport:
    """What one delivery did: delivered now, delivered by an earlier run, refused."""

    sent: list[Message] = field(default_factory=list)
    already_sent: list[Message] = field(default_factory=list)
    failed: list[tuple[Message, str]] = field(default_factory=list)
    # Why the channel stopped partway (the connection dropped); the rest are in failed.
    aborted: str = ""


def sent_key(channel: Channel, message: Message) -> SentKey:
    return SentKey(channel.name, channel.recipient(message), message.content)


def send(plan: DeliveryPlan, channel: Channel) -> SendReport:
    """Deliver what the sent log does not hold yet, logging each delivery as soon as it is made."""
    report = SendReport()
    with run_lock(plan.out_dir):
        log = SentLog.read(plan.out_dir)
        pending = []
        for message in plan.messages:
            (report.already_sent if sent_key(channel, message) in log else pending).append(message)
        if not pending:
            return report
        for outcome in channel.deliver(pending):
            if outcome.record is not None:
                log.record(sent_key(channel, outcome.message), dict(outcome.record))
                report.sent.append(outcome.message)
            else:
                report.failed.append((outcome.message, outcome.error))
            report.aborted = report.aborted or outcome.stopped
    return report
