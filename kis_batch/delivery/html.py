"""The HTML body beside each message's plain text (docs/rules.md § Mail): read on a phone without
opening the attachment. One column at 390 px, inline styles only, nothing fetched from elsewhere;
every value from a sheet is escaped, so a customer's name never becomes markup."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from html import escape

from kis_batch.render.mail_roster import OverdueCase, QuotaStatus, Stop, Waiting

# Inline styles: mail clients drop <style> blocks and never fetch a stylesheet.
PAGE = ("margin:0;padding:12px;font-family:-apple-system,'PingFang SC','Microsoft YaHei',sans-serif;"
        "font-size:15px;line-height:1.5;color:#222;max-width:640px")
TABLE = "border-collapse:collapse;width:100%;margin:8px 0"
CELL = "border-top:1px solid #ddd;padding:8px 4px;vertical-align:top;text-align:left"
ORDER = CELL + ";width:28px;font-size:20px;font-weight:bold;color:#1a5fb4"
HEADING = "font-size:17px;margin:16px 0 4px"
NOTE = "color:#666;font-size:13px"
KEY = "color:#c01c28;font-weight:bold"
LIST = "margin:4px 0;padding-left:20px"
ALERT = "background:#fdecea;border-left:4px solid #c01c28;padding:8px;margin:8px 0"
LINK = "color:#1a5fb4;text-decoration:none;font-weight:bold"
# Quota statuses that ask for the manager's attention (the manager's page colours them alike).
BEHIND = ("落后", "无法达标")
# What a phone number may keep in a tel: link.
_DIALLED = re.compile(r"[^0-9+]")


def text(value: object) -> str:
    """A value from a sheet as HTML text: every <, >, & and quote escaped; line breaks kept."""
    return escape(str(value), quote=True).replace("\n", "<br>")


def tel_link(phone: str) -> str:
    """The number as a link the phone dials, or plain text when nothing dialable is left."""
    dialled = _DIALLED.sub("", phone)
    if not dialled:
        return text(phone)
    return f'<a href="tel:{escape(dialled, quote=True)}" style="{LINK}">{text(phone)}</a>'


def _paragraphs(lines: Iterable[str]) -> str:
    return "".join(f"<p style=\"margin:8px 0\">{text(line)}</p>" for line in lines if line)


def _route(stops: Sequence[Stop], confirm: str) -> str:
    """The day's stops in route order: one row each, its details stacked, so nothing scrolls sideways."""
    rows = []
    for stop in stops:
        details = [f"<div style=\"font-weight:bold\">{text(stop.customer)}"
                   + (f' <span style="{KEY}">重点</span>' if stop.key_customer else "")
                   + (f' <span style="{NOTE}">（{text(stop.kind)}，可选）</span>' if stop.kind != "派工" else "")
                   + "</div>"]
        if stop.open_case:
            details.append(f'<div style="{KEY}">投诉回访：未结投诉 {text(stop.open_case)}</div>')
        if stop.contact or stop.phone:
            details.append(f"<div>{text(stop.contact)} {tel_link(stop.phone) if stop.phone else ''}</div>")
        if stop.address:
            details.append(f"<div>{text(stop.address)}</div>")
        if stop.problem:
            details.append(f'<div style="{NOTE}">{text(stop.problem)}'
                           + (f" · {text(stop.ticket)}" if stop.ticket else "") + "</div>")
        if stop.leg_km is not None:
            details.append(f'<div style="{NOTE}">{"离出发地" if stop.order == 1 else "离上一站"} {stop.leg_km:g} 公里</div>')
        order = "" if stop.order is None else str(stop.order)
        rows.append(f'<tr><td style="{ORDER}">{order}</td><td style="{CELL}">{"".join(details)}</td></tr>')
    return (f'<p style="{ALERT}">{text(confirm)}</p>'
            f'<table role="presentation" style="{TABLE}">{"".join(rows)}</table>')


def _figures(headline: Sequence[tuple[str, str, str]]) -> str:
    rows = "".join(f'<tr><td style="{CELL};width:38%">{text(item)}</td><td style="{CELL}">'
                   f'<b>{text(value)}</b><div style="{NOTE}">{text(note)}</div></td></tr>'
                   for item, value, note in headline)
    return f'<table role="presentation" style="{TABLE}">{rows}</table>'


def _needs_manager(overdue: Sequence[OverdueCase], backlog: Sequence[Waiting], quotas: Sequence[QuotaStatus]) -> str:
    parts = [f'<h2 style="{HEADING}">需要您处理</h2>']
    if overdue:
        items = "".join(f"<li>{text(c.case)} {text(c.customer)}（被投诉人 {text(c.staff or '—')}，"
                        f"已过 {c.workdays} 个工作日，{text(c.status)}）</li>" for c in overdue)
        parts.append(f'<div style="{ALERT}"><b>超期投诉 {len(overdue)} 起，请上报总经理</b>'
                     f'<ul style="{LIST}">{items}</ul></div>')
    else:
        parts.append("<p>没有超期未结案的投诉。</p>")
    if backlog:
        items = _noted_items((f"{w.ticket} {w.customer}", w.reason) for w in backlog)
        parts.append(f"<p><b>未派 {len(backlog)} 单</b>（顺延到下一工作日）</p>"
                     f'<ul style="{LIST}">{items}</ul>')
    else:
        parts.append("<p>没有未派的工单。</p>")
    if quotas:
        rows = "".join(f'<tr><td style="{CELL}">{text(q.name)}<div style="{NOTE}">{text(q.role)}</div></td>'
                       f'<td style="{CELL}">明日 {q.tomorrow} 家</td>'
                       f'<td style="{CELL};{KEY if q.status in BEHIND else ""}">{text(q.status or "—")}</td></tr>'
                       for q in quotas)
        parts.append(f'<h2 style="{HEADING}">本月指标</h2><table role="presentation" style="{TABLE}">{rows}</table>')
    return "".join(parts)


def _noted_items(pairs: Iterable[tuple[str, str]]) -> str:
    """List items of a line and a grey note under it, both escaped."""
    return "".join(f'<li>{text(line)}<div style="{NOTE}">{text(note)}</div></li>' for line, note in pairs)


def _attachments(listed: Sequence[tuple[str, str]], left_out: Sequence[tuple[str, str]]) -> str:
    parts = []
    if listed:
        items = _noted_items(listed)
        parts.append(f'<h2 style="{HEADING}">附件</h2><ul style="{LIST}">{items}</ul>')
    if left_out:
        items = _noted_items(left_out)
        parts.append(f'<h2 style="{HEADING}">未附（请到批处理输出文件夹取用）</h2>'
                     f'<ul style="{LIST}">{items}</ul>')
    return "".join(parts)


def _page(title: str, content: str) -> str:
    return ("<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
            f"<title>{text(title)}</title></head><body style=\"{PAGE}\">{content}</body></html>\n")


def html_body(title: str, greeting: str, intro: str, instructions: str, footer: str,
              listed: Sequence[tuple[str, str]], left_out: Sequence[tuple[str, str]], *,
              stops: Sequence[Stop] = (), confirm: str = "",
              headline: Sequence[tuple[str, str, str]] = (), overdue: Sequence[OverdueCase] = (),
              backlog: Sequence[Waiting] = (), quotas: Sequence[QuotaStatus] = (), manager: bool = False) -> str:
    """One message's HTML: greeting and intro, then the route (an engineer) or the day's figures and
    what needs the manager (manager and assistant), the attachments, the instructions."""
    content = [_paragraphs((greeting, intro))]
    if stops:
        content.append(f'<h2 style="{HEADING}">路线（按顺序上门）</h2>' + _route(stops, confirm))
    if manager:
        content.append(_needs_manager(overdue, backlog, quotas))
        if headline:
            content.append(f'<h2 style="{HEADING}">今日数字</h2>' + _figures(headline))
    content.append(_attachments(listed, left_out))
    content.append(_paragraphs(instructions.split("\n")))
    content.append(f'<p style="{NOTE}">{text(footer)}</p>')
    return _page(title, "".join(content))
