"""The fee ledger (年费台账): one-year contracts, some expiring soon, some expired unrenewed, some
customers with an old contract and its renewal, payments in every state."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from kis_batch.demo.parameters import (
    ADVANCE_PAYMENT_SHARE,
    APPROVED_SHARE,
    EARLY_RENEWAL_SHARE,
    EXPIRED_SHARE,
    EXPIRED_WITHIN,
    FEE_RANGES,
    OLD_PAYMENT_MIX,
    ONE_DAY,
    PARTIAL_SHARES,
    PAYMENT_DELAY,
    PREVIOUS_CONTRACT_SHARE,
    RECENT_DAYS,
    RECENT_PAYMENT_MIX,
    RULES,
)
from kis_batch.demo.people import Customer, Person


def _years_later(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _contract_starts(rng: random.Random, today: dt.date) -> list[dt.date]:
    """The start of the customer's current contract, with the one before it or the renewal already
    signed where the customer has them."""
    if rng.random() < EXPIRED_SHARE:
        end = today - dt.timedelta(days=rng.randint(1, EXPIRED_WITHIN))
    else:
        end = today + dt.timedelta(days=rng.randint(0, 364))
    start = _years_later(end + ONE_DAY, -1)
    starts = [start]
    if rng.random() < PREVIOUS_CONTRACT_SHARE:
        starts.insert(0, _years_later(start, -1))
    if 0 <= (end - today).days <= RULES.fee_window_days and rng.random() < EARLY_RENEWAL_SHARE:
        starts.append(end + ONE_DAY)
    return starts


def fee_rows(rng: random.Random, customers: list[Customer], today: dt.date, assistant: Person,
             contract_share: float) -> list[dict[str, Any]]:
    """The ledger's rows: contracts for contract_share of the customers; the assistant keeps the
    集团客户's."""
    rows: list[dict[str, Any]] = []
    width = max(4, len(str(len(customers) * 2)))
    for customer in customers:
        if rng.random() >= contract_share:
            continue
        low, high = FEE_RANGES[customer.product.split()[0]]
        amount = float(round(rng.uniform(low, high), -2))
        for begin in _contract_starts(rng, today):
            paid, paid_date = _payment(rng, amount, begin, today)
            rows.append({
                "contract_id": f"NF{begin.year}-{len(rows) + 1:0{width}d}", "customer_id": customer.customer_id,
                "start": begin, "end": _years_later(begin, 1) - ONE_DAY, "amount": amount, "paid": paid,
                "paid_date": paid_date, "approved": "是" if rng.random() < APPROVED_SHARE else None,
                "owner": assistant.name if customer.segment == "集团客户" else None,
            })
    return rows


def _payment(rng: random.Random, amount: float, due: dt.date, today: dt.date) -> tuple[float, dt.date | None]:
    """What has been paid on a contract due on `due`, and when (never after today)."""
    age = (today - due).days
    if age < 0:
        state = "paid" if rng.random() < ADVANCE_PAYMENT_SHARE else "unpaid"
    else:
        state = (RECENT_PAYMENT_MIX if age <= RECENT_DAYS else OLD_PAYMENT_MIX).pick(rng)
    if state == "unpaid":
        return 0.0, None
    paid = amount if state == "paid" else float(round(amount * rng.choice(PARTIAL_SHARES), -2))
    when = min(today, due + dt.timedelta(days=rng.randint(*PAYMENT_DELAY)))
    return paid, when
