"""Time to plan a day's dispatch: 5,000 open tickets over 300 engineers (target ≤ 5 s).

Synthetic, seeded tables: engineers and customers spread over Hangzhou, a tenth of the engineers on
leave, a share of the customers owned by ten busy engineers so many tickets must move. Shapes:
coordinates everywhere (the usual case) or areas only (the 区域距离 table: many equal distances);
the rule's cap of 3 (most tickets wait) or caps of 20 (every ticket is served); and a worst case
where half the customers belong to the ten busy owners, so thousands of tickets go through the
optimal step (kis_batch.assignment: one shortest-path search per moved ticket).

    python benchmarks/bench_dispatch.py
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import numpy as np
import pandas as pd

from kis_batch.calendar import WorkCalendar
from kis_batch.rules.dispatch import plan_dispatch
from kis_batch.schema import BY_KEY, CATEGORIES, ENGINEER, SEVERITIES, URGENCIES
from kis_batch.settings import Settings
from kis_batch.tables import FILE, ROW, SHEET, frame_of_records

TODAY = dt.date(2026, 11, 27)
ENGINEERS = 300
CUSTOMERS = 3_000
TICKETS = 5_000
AREAS = 20
ABSENT_SHARE = 0.10
BUSY_OWNERS = 10
TARGET_S = 5.0


def _frame(key: str, rows: list[dict[str, Any]]) -> pd.DataFrame:
    template = BY_KEY[key]
    defaults = {c.key: c.default for c in template.columns}
    return frame_of_records(template, [{**defaults, FILE: "bench", SHEET: key, ROW: i + 2, **r}
                                       for i, r in enumerate(rows)])


def synthetic(seed: int, coordinates: bool, cap: int | None, busy_share: float) -> dict[str, pd.DataFrame]:
    """One department's tables; `coordinates` False leaves only areas and the 区域距离 table;
    busy_share of the customers belong to a handful of owners, whose excess must all move."""
    rng = np.random.default_rng(seed)
    areas = [f"区域{i:02d}" for i in range(AREAS)]
    centre = rng.uniform([30.15, 120.05], [30.35, 120.30], size=(AREAS, 2))

    def place(area: int) -> dict[str, Any]:
        lat, lon = centre[area] + rng.normal(0, 0.02, 2)
        return {"area": areas[area], "lat": float(lat) if coordinates else None,
                "lon": float(lon) if coordinates else None}

    staff = [{"staff_id": f"E{i:03d}", "name": f"工程师{i:03d}", "role": ENGINEER, "daily_cap": cap,
              **place(int(rng.integers(AREAS)))} for i in range(ENGINEERS)]
    leave = [{"staff_id": s["staff_id"], "start": TODAY, "end": TODAY + dt.timedelta(days=7)}
             for s in staff if rng.random() < ABSENT_SHARE]
    # Most customers spread over all engineers, a share of them with a few busy owners.
    owner = np.where(rng.random(CUSTOMERS) < busy_share, rng.integers(0, BUSY_OWNERS, CUSTOMERS),
                     rng.integers(0, ENGINEERS, CUSTOMERS))
    customers = [{"customer_id": f"C{i:05d}", "customer_name": f"客户{i}", "owner": staff[int(owner[i])]["staff_id"],
                  "key_customer": bool(rng.random() < 0.1), **place(int(rng.integers(AREAS)))}
                 for i in range(CUSTOMERS)]
    calls = [{"ticket_id": f"T{i:05d}", "customer_id": f"C{int(rng.integers(CUSTOMERS)):05d}",
              "call_time": dt.datetime(2026, 11, 20, 8) + dt.timedelta(minutes=int(rng.integers(0, 7 * 24 * 60))),
              "category": str(rng.choice([c for c in CATEGORIES if c != "实施"])), "problem": "问题",
              "severity": str(rng.choice(SEVERITIES)), "urgency": str(rng.choice(URGENCIES)), "handling": "需上门"}
             for i in range(TICKETS)]
    calls = [c for c in calls if c["call_time"].date() <= TODAY]
    km = [{"area_a": a, "area_b": b, "km": float(rng.uniform(2, 40))}
          for i, a in enumerate(areas) for b in areas[i + 1:]]
    return {"staff": _frame("staff", staff), "customers": _frame("customers", customers),
            "calls": _frame("calls", calls), "feedback": _frame("feedback", []), "leave": _frame("leave", leave),
            "area_distance": _frame("area_distance", km)}


def main() -> None:
    calendar = WorkCalendar()
    cases = (("coordinates, cap 3", True, None, 0.2), ("areas only, cap 3", False, None, 0.2),
             ("all served: coordinates, cap 20", True, 20, 0.2), ("all served: areas only, cap 20", False, 20, 0.2),
             ("worst: half to 10 owners, cap 20", True, 20, 0.5))
    for label, coordinates, cap, busy_share in cases:
        tables = synthetic(7, coordinates, cap, busy_share)
        start = time.perf_counter()
        result = plan_dispatch(tables, Settings(), calendar, TODAY)
        seconds = time.perf_counter() - start
        moved = int(result.assignments["moved"].sum())
        verdict = "ok" if seconds <= TARGET_S else "over target"
        print(f"{label:34s} {len(tables['calls']):5d} open tickets, {ENGINEERS} engineers: "
              f"{len(result.assignments):5d} dispatched ({moved:4d} moved), {len(result.backlog):5d} backlog "
              f"in {seconds:5.2f} s ({verdict}, target ≤ {TARGET_S:g} s)")


if __name__ == "__main__":
    main()
