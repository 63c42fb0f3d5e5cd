"""mail.json in OUT/D: who mailing writes to (the staff roster as the run read it), the settings it
needs, and what the message bodies and group posts show (each person's route, the manager's figures
and what needs him), so `kis-batch mail` works from the run's own output even after the inbox has
moved on. The group robots' webhooks are secrets and are not kept here (docs/rules.md § Mail)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kis_batch.outputs import MAIL_ROSTER
from kis_batch.render.dispatch import DispatchSheets
from kis_batch.render.saving import replace_file, temporary_path
from kis_batch.rules.complaints import ComplaintCases
from kis_batch.rules.dispatch import DispatchResult
from kis_batch.rules.summary import ManagerSummary
from kis_batch.settings import Settings, mask_secret
from kis_batch.tables import rows_of

# The roster columns mailing reads: who, which role decides the files, where to (邮箱, and 手机 for
# a group robot's mention), and whether 在岗.
ROSTER_COLUMNS = ("staff_id", "name", "role", "email", "mobile", "active")
# The settings a message is built and delivered with (docs/rules.md § Mail).
MAIL_SETTINGS = ("max_visit_minutes", "visit_time_exempt_types", "verification_call_time", "phone_ahead_required",
                 "attachment_limit_mb", "smtp_host", "smtp_port", "smtp_security", "smtp_sender", "smtp_user", "smtp_password_env")

# The settings that name a group robot's webhook.
ROBOT_WEBHOOKS = ("wecom_webhook", "dingtalk_webhook")


def _plain(value: Any) -> Any:
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def _text(value: Any) -> str:
    plain = _plain(value)
    return "" if plain is None else str(plain)


@dataclass(frozen=True)
class Stop:
    """One visit of a person's route, as their message shows it."""

    order: int | None
    kind: str  # 派工, or 建议拜访 (optional)
    ticket: str
    customer: str
    contact: str
    phone: str
    address: str
    problem: str
    key_customer: bool
    # Both with defaults: a mail.json written before they were kept still reads.
    leg_km: float | None = None  # from the stop before, the first from the base (the 总览's 上站距离)
    open_case: str = ""  # the customer's open complaint case: a re-visit (docs/rules.md § Dispatch)


@dataclass(frozen=True)
class Waiting:
    """A ticket left 未派, and why."""

    ticket: str
    customer: str
    reason: str


@dataclass(frozen=True)
class OverdueCase:
    """A complaint case open past its limit: to report to the general manager."""

    case: str
    customer: str
    staff: str
    workdays: int
    status: str


@dataclass(frozen=True)
class QuotaStatus:
    """One engineer's or specialist's month so far, as the manager's page shows it."""

    name: str
    role: str
    tomorrow: int
    status: str


@dataclass(frozen=True)
class RunDigest:
    """What the bodies and the group posts show, from the run's own results; routes keyed by 工号."""

    routes: dict[str, tuple[Stop, ...]] = field(default_factory=dict)
    backlog: tuple[Waiting, ...] = ()
    overdue: tuple[OverdueCase, ...] = ()
    headline: tuple[tuple[str, str, str], ...] = ()  # item, value, note: the manager's page, line by line
    quotas: tuple[QuotaStatus, ...] = ()


def run_digest(sheets: DispatchSheets, dispatch: DispatchResult, complaints: ComplaintCases,
               summary: ManagerSummary) -> RunDigest:
    """The digest of one run: each person's rows of their 派工单 in route order, 未派, overdue cases,
    the manager's page."""
    routes = {}
    open_cases = complaints.open_by_customer() if len(complaints.open) else {}
    for staff_id, rows in sheets.frame.groupby("assignee", sort=False):
        routes[str(staff_id)] = tuple(
            # A suggested visit has no route number (nor a 工单号) of its own.
            Stop(None if pd.isna(r.get("route")) else int(r["route"]), _text(r["kind"]), _text(r.get("ticket_id")),
                 _text(r["customer_name"]) or _text(r["customer_id"]), _text(r["contact"]), _text(r["phone"]),
                 _text(r["address"]), _text(r["problem"]), r["key_customer"] is True,
                 None if _plain(r.get("leg_km")) is None else float(r["leg_km"]),
                 open_cases.get(r["customer_id"], ""))
            for r in rows_of(rows))
    backlog = tuple(Waiting(_text(r["ticket_id"]), _text(r["customer_name"]) or _text(r["customer_id"]),
                            _text(r["reason"])) for r in rows_of(dispatch.backlog))
    cases = complaints.open
    overdue = tuple(OverdueCase(_text(r["complaint_id"]), _text(r["customer_name"]) or _text(r["customer_id"]),
                                _text(r["staff_name"]), int(r["workdays"]), _text(r["status"]))
                    for r in rows_of(cases) if r["overdue"]) if len(cases) else ()
    headline = tuple((_text(r["item"]), _text(r["value"]), _text(r["note"])) for r in rows_of(summary.headline))
    quotas = tuple(QuotaStatus(_text(r["name"]), _text(r["role"]), int(r["tomorrow"]), _text(r["status"]))
                   for r in rows_of(summary.people))
    return RunDigest(routes, backlog, overdue, headline, quotas)


def write_mail_roster(out_dir: Path, staff: pd.DataFrame, settings: Settings, digest: RunDigest) -> Path:
    """mail.json beside the workbooks; not listed in run.json, which describes the workbooks."""
    roster = {
        "staff": [{key: _plain(person.get(key)) for key in ROSTER_COLUMNS} for person in staff.to_dict("records")],
        "settings": {name: _plain(getattr(settings, name)) for name in MAIL_SETTINGS},
        "digest": dataclasses.asdict(digest),
        # Which group robots the run had, masked: mail then reads the webhooks from the run's own
        # 规则设置, so the secret is never copied out of it.
        "robots": {name: mask_secret(getattr(settings, name)) for name in ROBOT_WEBHOOKS if getattr(settings, name)},
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
    # A setting mail.json does not hold (written before it was kept) stays at its default.
    for name in (name for name in MAIL_SETTINGS if name in roster["settings"]):
        value, default = roster["settings"][name], getattr(defaults, name)
        if isinstance(default, dt.time):
            value = dt.time.fromisoformat(value)
        elif isinstance(default, tuple):
            value = tuple(value)
        changes[name] = value
    return staff, defaults.replace(**changes)


def read_run_digest(text: str) -> RunDigest:
    """The digest mail.json holds; empty for one written before digests were kept (bodies then say
    only what is attached). Raises ValueError/KeyError/TypeError if it is damaged."""
    digest = json.loads(text).get("digest")
    if digest is None:
        return RunDigest()
    return RunDigest(
        {staff_id: tuple(Stop(**stop) for stop in stops) for staff_id, stops in digest["routes"].items()},
        tuple(Waiting(**w) for w in digest["backlog"]),
        tuple(OverdueCase(**c) for c in digest["overdue"]),
        tuple((item, value, note) for item, value, note in digest["headline"]),
        tuple(QuotaStatus(**q) for q in digest["quotas"]),
    )


def read_robots(text: str) -> dict[str, str]:
    """The robots the run had set up (setting name -> masked webhook), from mail.json."""
    return dict(json.loads(text).get("robots") or {})
