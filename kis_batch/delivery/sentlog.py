"""The sent log in OUT/D (sent.json), one for every channel: each delivery is kept under its channel,
its recipient and its content's identity, so a rerun delivers only what has not gone yet, and a
rerun of the batch that changed a workbook delivers the new version.

A log written before channels existed (email only, keyed by a digest of address and files) is read
as email deliveries; the next write stores it in this form."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from kis_batch.delivery.plan import DeliveryError, content_identity
from kis_batch.outputs import SENT_LOG
from kis_batch.render.saving import replace_file, temporary_path

# The channel of every entry in a log written before channels existed.
_FIRST_CHANNEL = "email"


class SentKey(NamedTuple):
    """What makes two deliveries the same one."""

    channel: str
    recipient: str
    content: str


def _key_of(entry: dict[str, Any]) -> SentKey:
    if "channel" in entry:
        return SentKey(entry["channel"], entry["recipient"], entry["content"])
    files = ((a["name"], a["sha256"]) for a in entry["attachments"])
    return SentKey(_FIRST_CHANNEL, str(entry["to"]).lower(), content_identity(files))


def _keyed(key: SentKey, details: dict[str, Any]) -> dict[str, Any]:
    """An entry as the log stores it: what its channel keeps, and the parts of its key."""
    return {**details, "channel": key.channel, "recipient": key.recipient, "content": key.content}


@dataclass
class SentLog:
    path: Path
    entries: dict[SentKey, dict[str, Any]]

    @classmethod
    def read(cls, out_dir: Path) -> SentLog:
        """OUT/D's log (empty if nothing was delivered yet); a damaged log stops delivery rather than
        risk sending everything twice."""
        path = out_dir / SENT_LOG
        if not path.exists():
            return cls(path, {})
        try:
            keyed = ((_key_of(entry), entry) for entry in json.loads(path.read_text(encoding="utf-8"))["sent"].values())
            return cls(path, {key: _keyed(key, entry) for key, entry in keyed})
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as error:
            raise DeliveryError(f"发送记录 {path} 损坏（{error}）；为免重复发送，请检查后修复或删除它再发") from None

    def __contains__(self, key: SentKey) -> bool:
        return key in self.entries

    def record(self, key: SentKey, details: dict[str, Any]) -> None:
        """Keep one delivery, written to disk at once: a crash right after loses nothing that went."""
        self.entries[key] = _keyed(key, details)
        log = {" ".join(k): entry for k, entry in self.entries.items()}
        temporary = temporary_path(self.path)
        temporary.write_text(json.dumps({"sent": log}, ensure_ascii=False, indent=2), encoding="utf-8")
        replace_file(temporary, self.path)
