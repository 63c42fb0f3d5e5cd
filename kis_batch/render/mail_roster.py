"""mail.json in OUT/D: who mailing writes to (the staff roster as the run read it) and the settings it
needs, so `kis-batch mail` works from the run's own output even after the inbox has moved on."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.outputs import MAIL_ROSTER
from kis_batch.render.style import replace_file, temporary_path
from kis_batch.settings import Settings

# The roster columns mailing reads: who, which role decides the files, where to, and whether 在岗.
ROSTER_COLUMNS = ("staff_id", "name", "role", "email", "active")
# The settings a message is built and delivered with (docs/rules.md § Mail).
MAIL_SETTINGS = ("max_visit_minutes", "visit_time_exempt_types", "verification_call_time", "attachment_limit_mb",
                 "smtp_host", "smtp_port", "smtp_security", "smtp_sender", "smtp_user", "smtp_password_env")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def write_mail_roster(out_dir: Path, staff: pd.DataFrame, settings: Settings) -> Path:
    """mail.json beside the workbooks; not listed in run.json, which describes the workbooks."""
    roster = {
        "staff": [{key: _plain(person.get(key)) for key in ROSTER_COLUMNS} for person in staff.to_dict("records")],
        "settings": {name: _plain(getattr(settings, name)) for name in MAIL_SETTINGS},
    }
    target = out_dir / MAIL_ROSTER
    temporary = temporary_path(target)
    temporary.write_text(json.dumps(roster, ensure_ascii=False, indent=2), encoding="utf-8")
    return replace_file(temporary, target)


def read_mail_roster(text: str) -> tuple[pd.DataFrame, Settings]:
    """The roster and settings mail.json holds (raises ValueError/KeyError/TypeError if it is damaged)."""
    roster = json.loads(text)
    staff = pd.DataFrame([{key: person.get(key) for key in ROSTER_COLUMNS} for person in roster["staff"]],
                         columns=list(ROSTER_COLUMNS), dtype=object)
    defaults = Settings()
    changes: dict[str, Any] = {}
    for name in MAIL_SETTINGS:
        value, default = roster["settings"][name], getattr(defaults, name)
        if isinstance(default, dt.time):
            value = dt.time.fromisoformat(value)
        elif isinstance(default, tuple):
            value = tuple(value)
        changes[name] = value
    return staff, defaults.replace(**changes)
