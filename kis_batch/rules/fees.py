"""Annual fees (docs/rules.md § Fees): what each contract still owes and when it runs out, whom each owner
phones on the plan date P, and how much of what fell due has come in; plus the renewal risk of
customers who complained or were unhappy lately.

The fee is paid in advance: it falls due on 服务开始, or on 应收日期 where that is filled.
Decided here, where the rules are silent (docs/rules.md § Decisions):
- a contract without 年费金额 has status 金额未填 and no balance, so it is never overdue and stays
  out of the collection rate; its renewal is still tracked (服务到期 is required);
- a contract without 服务开始 and without 应收日期 has no due date, so it is never overdue and
  stays out of the collection rate; its renewal is still tracked. The 说明 column says which;
- a customer's "later contract" is another of their contracts that runs out later (服务到期);
- 续费风险 covers 已过期未续 as well as 待续费: a lapsed customer who complained is the riskiest
  renewal of all;
- a contract without a 负责人 (its customer unknown) is grouped under 未指定;
- a chase the manager reassigned (催收负责人 on a returned 催收清单) is on that person's list for P
  whatever its place, and their own chases fill the rest of the 每人每日催收条数.

Pure functions on the ingested tables; nothing here reads or writes a file.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from kis_batch.coerce import day_of
from kis_batch.problems import Code, Problem, Severity
from kis_batch.rules.common import (
    CALLS_SOURCE,
    complaint_records,
    leave_on,
    month_start,
    on_duty,
    pin_problem,
    staff_labels,
    staff_order,
    stated_pins,
)
from kis_batch.schema import PIN_CHASE, SATISFACTION
from kis_batch.settings import Settings
from kis_batch.tables import rows_of, table_of, table_rows

PAID, PARTIAL, UNPAID, NO_AMOUNT = "已收清", "部分收款", "未收", "金额未填"
DUE_RENEWAL, LAPSED = "待续费", "已过期未续"
OVERDUE = "逾期欠款"
UNASSIGNED = "未指定"
TOTAL = "合计"
# The scale runs 非常满意 > 满意 > 一般 > 不满意; the bottom two count as unhappy.
UNHAPPY = SATISFACTION[2:]
# A reason cell names the most recent events; more would not fit a printed row.
REASON_EVENTS = 3

CONTRACT_COLUMNS = (
    "contract_id", "customer_id", "customer_name", "contact", "phone", "start", "end", "due_date", "amount", "paid",
    "balance", "paid_date", "status", "overdue_days", "days_to_expiry", "renewal", "approved", "unapproved",
    "owner", "owner_name", "risk", "risk_reason", "note",
)
CHASE_COLUMNS = (
    "owner", "owner_name", "rank", "chase_kind", "contract_id", "customer_id", "customer_name", "contact", "phone",
    "due_date", "end", "amount", "paid", "balance", "overdue_days", "days_to_expiry", "unapproved", "risk",
    "risk_reason", "action", "planned_name",
)
# docs/rules.md § Fees: how a reassigned chase row says so.
REASSIGNED = "经理改派"
COLLECTION_COLUMNS = (
    "owner", "owner_name",
    "month_contracts", "month_due", "month_paid", "month_balance", "month_rate",
    "year_contracts", "year_due", "year_paid", "year_balance", "year_rate",
)


@dataclass(frozen=True)
class FeeReport:
    """Everything 年费_D.xlsx shows, with the rule numbers it was computed under."""

    today: dt.date
    plan_date: dt.date
    window_days: int
    risk_days: int
    per_owner: int
    contracts: pd.DataFrame  # one row per contract, CONTRACT_COLUMNS
    chase: pd.DataFrame  # P's chase list, CHASE_COLUMNS, grouped by owner in rank order
    collection: pd.DataFrame  # COLLECTION_COLUMNS, one row per owner, then the 合计 row
    # Reassignments that could not hold, at their cells, for the run report.
    problems: tuple[Problem, ...] = ()
    # Who may chase on P (on duty), in staff order: the 催收负责人 dropdown.
    on_duty: tuple[str, ...] = ()

    def figures(self) -> dict[str, Any]:
        """The key figures for run.json and the manager's report."""
        c = self.contracts
        overdue = c[c["overdue_days"].notna()] if len(c) else c
        total = self.collection.iloc[-1]
        return {
            "contracts": len(c),
            "overdue": len(overdue),
            "overdue_balance": float(sum(overdue["balance"])) if len(overdue) else 0.0,
            "due_for_renewal": int((c["renewal"] == DUE_RENEWAL).sum()) if len(c) else 0,
            "lapsed": int((c["renewal"] == LAPSED).sum()) if len(c) else 0,
            "renewal_risk": int(c["risk"].sum()) if len(c) else 0,
            "unapproved": int(c["unapproved"].sum()) if len(c) else 0,
            "chase": len(self.chase),
            "collection_rate_month": total["month_rate"],
            "collection_rate_year": total["year_rate"],
        }


def payment_status(amount: float | None, paid: float) -> str:
    """docs/rules.md § Fees: 已收清 / 部分收款 / 未收 (paid ≥ amount / 0 < paid < amount / paid = 0)."""
    if amount is None:
        return NO_AMOUNT
    if paid >= amount:
        return PAID
    return PARTIAL if paid > 0 else UNPAID


def unhappy_events(tables: dict[str, pd.DataFrame], today: dt.date, days: int) -> dict[str, list[tuple[dt.date, str]]]:
    """Per customer, most recent first: complaints (call log 投诉, callback 投诉=是) and 不满意/一般
    ratings (feedback, callbacks) dated within the last `days` days up to D, each in words."""
    since = today - dt.timedelta(days=days)
    events: dict[str, set[tuple[dt.date, str]]] = defaultdict(set)

    def add(customer: str, when: dt.date | dt.datetime | None, text: str) -> None:
        if when is not None and since <= day_of(when) <= today:
            events[customer].add((day_of(when), f"{day_of(when).isoformat()} {text}"))

    for c in complaint_records(tables, today):
        if c.source == CALLS_SOURCE:
            add(c.customer_id, c.day, f"来电投诉（{c.record['problem']}）" if c.record["problem"] else "来电投诉")
        else:
            add(c.customer_id, c.day, "回访时投诉")
    for r in table_rows(tables, "callbacks"):
        if r["satisfaction"] in UNHAPPY:
            add(r["customer_id"], r["date"], f"回访满意度“{r['satisfaction']}”")
    feedback = table_of(tables, "feedback")
    for r in rows_of(feedback[feedback["satisfaction"].isin(UNHAPPY)]):
        add(r["customer_id"], r["service_date"], f"服务反馈满意度“{r['satisfaction']}”")
    return {customer: sorted(found, reverse=True) for customer, found in events.items()}


def _risk_reason(trigger: str, events: list[tuple[dt.date, str]], days: int) -> str:
    shown = "；".join(text for _, text in events[:REASON_EVENTS])
    more = f"（共{len(events)}次）" if len(events) > REASON_EVENTS else ""
    return f"{trigger}，且近{days}天内：{shown}{more}"


def _contract(r: dict[str, Any], today: dt.date, settings: Settings, customer: dict[str, Any],
              names: dict[str, str], latest_end: dict[str, dt.date],
              events: dict[str, list[tuple[dt.date, str]]]) -> dict[str, Any]:
    """One contract's status, balance, due date, overdue days, expiry, renewal state and risk."""
    amount, paid = r["amount"], r["paid"] or 0.0
    due = r["due_date"] or r["start"]
    balance = None if amount is None else max(amount - paid, 0.0)
    overdue_days = (today - due).days if balance and due is not None and due < today else None
    days_to_expiry = (r["end"] - today).days
    renewal = None
    if latest_end[r["customer_id"]] <= r["end"]:
        if days_to_expiry < 0:
            renewal = LAPSED
        elif days_to_expiry <= settings.fee_window_days:
            renewal = DUE_RENEWAL
    notes = []
    if amount is None:
        notes.append("未填年费金额：无法判断欠款，未计入收款率")
    if due is None:
        notes.append("未填服务开始和应收日期：无法判断是否逾期，未计入收款率")
    if overdue_days is not None:
        trigger = f"逾期未收{overdue_days}天"
    elif renewal == DUE_RENEWAL:
        trigger = f"服务{days_to_expiry}天后到期未续费"
    elif renewal == LAPSED:
        trigger = f"服务已到期{-days_to_expiry}天未续费"
    else:
        trigger = None
    customer_events = events.get(r["customer_id"], [])
    risk = trigger is not None and bool(customer_events)
    owner = r["owner"]
    return {
        **{k: r[k] for k in ("contract_id", "customer_id", "start", "end", "amount", "paid_date", "approved", "owner")},
        "customer_name": customer.get("customer_name"),
        "contact": customer.get("contact"),
        "phone": customer.get("phone"),
        "due_date": due,
        "paid": paid,
        "balance": balance,
        "status": payment_status(amount, paid),
        "overdue_days": overdue_days,
        "days_to_expiry": days_to_expiry,
        "renewal": renewal,
        "unapproved": r["approved"] is not True,
        "owner_name": names.get(owner, owner) if owner else UNASSIGNED,
        "risk": risk,
        "risk_reason": _risk_reason(trigger, customer_events, settings.renewal_risk_days) if risk else None,
        "note": "；".join(notes) or None,
    }


def _money(value: float) -> str:
    return f"¥{value:,.2f}"


def _action(c: dict[str, Any]) -> str:
    """What the owner does about this contract on P, in words."""
    if c["overdue_days"] is not None:
        text = f"催收欠款{_money(c['balance'])}（应收日期{c['due_date'].isoformat()}，已逾期{c['overdue_days']}天）"
        if c["renewal"] == DUE_RENEWAL:
            text += f"，服务{c['days_to_expiry']}天后到期，同时商谈续费"
        elif c["renewal"] == LAPSED:
            text += "，服务已到期未续，同时商谈续费"
    elif c["renewal"] == DUE_RENEWAL:
        text = f"联系续费：服务{c['end'].isoformat()}到期（还有{c['days_to_expiry']}天），请客户续签"
    else:
        text = f"联系续费：服务已于{c['end'].isoformat()}到期{-c['days_to_expiry']}天未续，请客户续签"
    if c["risk"]:
        text += "；客户近期有投诉或不满意，先了解并解决问题再谈收费"
    if c["unapproved"]:
        text += "；合同尚未经理核准，请先报核准"
    return text


def chase_list(contracts: Iterable[dict[str, Any]], per_owner: int,
               reassigned: dict[str, tuple[str, str]] | None = None) -> list[dict[str, Any]]:
    """docs/rules.md § Fees: per owner, overdue balances first, then renewals; larger amount first (the balance of
    an overdue contract, the fee of a renewal), then the sooner date (due date, expiry); at most
    `per_owner` rows each. A reassigned chase (合同编号 → the 工号 and 姓名 now chasing it) is on that
    person's list whatever its place; their own chases fill what is left of per_owner."""
    reassigned = reassigned or {}
    candidates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in contracts:
        if c["overdue_days"] is not None or c["renewal"] is not None:
            chaser = reassigned.get(c["contract_id"], (c["owner"], c["owner_name"]))[0]
            candidates[chaser or ""].append(c)

    def order(c: dict[str, Any]) -> tuple[Any, ...]:
        if c["overdue_days"] is not None:
            return (0, -c["balance"], c["due_date"], c["contract_id"])
        return (1, -(c["amount"] or 0.0), c["end"], c["contract_id"])

    rows: list[dict[str, Any]] = []
    for owner in sorted(candidates):
        moved = [c for c in candidates[owner] if c["contract_id"] in reassigned]
        own = sorted((c for c in candidates[owner] if c["contract_id"] not in reassigned), key=order)
        for rank, c in enumerate(sorted([*moved, *own[:max(0, per_owner - len(moved))]], key=order), 1):
            kind = OVERDUE if c["overdue_days"] is not None else c["renewal"]
            row = {**{k: c[k] for k in CHASE_COLUMNS if k in c}, "rank": rank, "chase_kind": kind,
                   "action": _action(c), "planned_name": c["owner_name"]}
            if c["contract_id"] in reassigned:
                row["owner"], row["owner_name"] = reassigned[c["contract_id"]]
                row["action"] = f"{REASSIGNED}（原负责人{c['owner_name']}）：{row['action']}"
            rows.append(row)
    return rows


def _reassigned(pins: pd.DataFrame | None, staff: list[dict[str, Any]], names: dict[str, str],
                leaves: list[dict[str, Any]], plan: dt.date) -> tuple[dict[str, tuple[str, str]], list[Problem]]:
    """The chases reassigned for P (合同编号 → 工号, 姓名 as the chase list shows it). One naming someone not on duty on P (在岗 否,
    or on leave) is an 错误 at its cell, and that chase stays with its owner."""
    chosen, problems = stated_pins(pins, PIN_CHASE, "合同", lambda pin: pin["plan_date"] == plan)
    by_id = {s["staff_id"]: s for s in staff}
    reassigned: dict[str, tuple[str, str]] = {}
    for contract, pin in chosen.items():
        member = by_id[pin["person"]]
        if on_duty(member, leaves, plan):
            reassigned[contract] = (member["staff_id"], names[member["staff_id"]])
            continue
        leave = leave_on(member["staff_id"], leaves, plan)
        why = "不在岗" if leave is None else f"请假（{leave['start']:%m-%d}至{leave['end']:%m-%d}）"
        problems.append(pin_problem(pin, Code.CONSTRAINT, Severity.ERROR,
                                    f"催收负责人“{member['name']}”{plan:%m-%d}{why}，不能去催收；请改选当天在岗的人。"
                                    "本次仍由原负责人催收", member["name"]))
    return reassigned, problems


def _rate(paid: float, due: float) -> float | None:
    return paid / due if due else None


def collection_rates(contracts: Iterable[dict[str, Any]], today: dt.date) -> list[dict[str, Any]]:
    """Collection rate = paid ÷ due, per owner and overall (the last row, owner None).

    "Due this month" is every contract whose due date falls in D's month up to D; "due this year"
    likewise from 1 January. "Paid" is those contracts' 已收金额, counted up to their 年费金额 so one
    customer's overpayment does not hide another's arrears. Contracts without 年费金额 or without a
    due date are left out. Owners with nothing due this year are not listed; the last row is the
    whole department (owner_name 合计).
    """
    periods = {"month": month_start(today), "year": today.replace(month=1, day=1)}
    per_owner: dict[str | None, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    overall: dict[str, float] = defaultdict(float)
    names: dict[str | None, str] = {}
    for c in contracts:
        if c["amount"] is None or c["due_date"] is None or c["due_date"] > today:
            continue
        names[c["owner"]] = c["owner_name"]
        for period, start in periods.items():
            if c["due_date"] < start:
                continue
            for totals in (per_owner[c["owner"]], overall):
                totals[f"{period}_contracts"] += 1
                totals[f"{period}_due"] += c["amount"]
                totals[f"{period}_paid"] += min(c["paid"], c["amount"])

    def row(owner: str | None, name: str, totals: dict[str, float]) -> dict[str, Any]:
        out: dict[str, Any] = {"owner": owner, "owner_name": name}
        for period in periods:
            due, paid = totals[f"{period}_due"], totals[f"{period}_paid"]
            out.update({f"{period}_contracts": int(totals[f"{period}_contracts"]), f"{period}_due": due,
                        f"{period}_paid": paid, f"{period}_balance": due - paid, f"{period}_rate": _rate(paid, due)})
        return out

    owners = sorted(per_owner, key=lambda owner: (owner is None, owner or ""))
    return [*(row(owner, names[owner], per_owner[owner]) for owner in owners), row(None, TOTAL, overall)]


def _frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    """Object columns, so values stay what they were (int days, bool flags, None), not NaN floats."""
    return pd.DataFrame({key: pd.Series([r[key] for r in rows], dtype=object) for key in columns})


def fee_status(tables: dict[str, pd.DataFrame], settings: Settings, today: dt.date, plan: dt.date,
               pins: pd.DataFrame | None = None) -> FeeReport:
    """Every contract's state on D, the chase lists for P and the collection rates (docs/rules.md § Fees);
    pins, the folder's reassigned chases (Inbox.pins)."""
    fees = table_rows(tables, "fees")
    customers = {r["customer_id"]: r for r in table_rows(tables, "customers", ("customer_id", "customer_name", "contact", "phone"))}
    staff = sorted(table_rows(tables, "staff"), key=lambda s: staff_order(s["staff_id"]))
    leaves = table_rows(tables, "leave")
    names = staff_labels(staff)
    reassigned, problems = _reassigned(pins, staff, names, leaves, plan)
    latest_end: dict[str, dt.date] = {}
    for r in fees:
        latest_end[r["customer_id"]] = max(r["end"], latest_end.get(r["customer_id"], r["end"]))
    events = unhappy_events(tables, today, settings.renewal_risk_days)
    contracts = sorted(
        (_contract(r, today, settings, customers.get(r["customer_id"], {}), names, latest_end, events) for r in fees),
        key=lambda c: c["contract_id"],
    )
    return FeeReport(
        today=today,
        plan_date=plan,
        window_days=settings.fee_window_days,
        risk_days=settings.renewal_risk_days,
        per_owner=settings.chase_per_owner,
        contracts=_frame(contracts, CONTRACT_COLUMNS),
        chase=_frame(chase_list(contracts, settings.chase_per_owner, reassigned), CHASE_COLUMNS),
        collection=_frame(collection_rates(contracts, today), COLLECTION_COLUMNS),
        problems=tuple(problems),
        on_duty=tuple(names[s["staff_id"]] for s in staff if on_duty(s, leaves, plan)),
    )
