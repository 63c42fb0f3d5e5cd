"""run.json: what went in (with hashes and row counts), what came out, and the key figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path
from typing import Any

from kis_batch import __version__
from kis_batch.ingest import Inbox
from kis_batch.ingest.files import sha256_of
from kis_batch.outputs import MANIFEST
from kis_batch.problems import Severity, count
from kis_batch.render.saving import replace_file, temporary_path
from kis_batch.settings import shown_setting


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def earlier_outputs(out_dir: Path) -> dict[str, str]:
    """The files the earlier run of this day says it wrote (name -> sha256); none when there was no
    earlier run or its run.json cannot be read, so nothing is ever taken for the tool's own by guess."""
    try:
        manifest = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
        return {str(o["path"]): str(o["sha256"]) for o in manifest["outputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_manifest(out_dir: Path, inbox: Inbox, outputs: list[Path], figures: dict[str, Any],
                   generated_at: dt.datetime, removed: list[str] | None = None) -> Path:
    """Everything a reader needs to trust or reproduce the run, with English keys."""
    changed = {f.name: shown_setting(f.name, _plain(getattr(inbox.settings, f.name)))
               for f in dataclasses.fields(inbox.settings)
               if getattr(inbox.settings, f.name) != getattr(type(inbox.settings)(), f.name)}
    manifest = {
        "tool": "kis-batch",
        "version": __version__,
        "generated_at": generated_at.isoformat(timespec="seconds"),
        "today": inbox.today.isoformat(),
        "folder": str(inbox.folder.resolve()),
        "inputs": [dataclasses.asdict(f) for f in inbox.files],
        "outputs": [{"path": p.name, "sha256": sha256_of(p)} for p in outputs],
        "removed_outputs": removed or [],
        "problems": {"errors": count(inbox.problems, Severity.ERROR),
                     "warnings": count(inbox.problems, Severity.WARNING)},
        "settings_changed": changed,
        "figures": figures,
    }
    target = out_dir / MANIFEST
    temporary = temporary_path(target)
    temporary.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=_plain), encoding="utf-8")
    return replace_file(temporary, target)
