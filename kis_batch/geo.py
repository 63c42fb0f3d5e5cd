"""Distance between customers and engineers, and the order of a day's visits.

docs/rules.md § Inputs (区域距离): great-circle km where both sides have coordinates, else the 区域距离 table
(symmetric), else 0 within the same area and 1 unit otherwise. Dispatch needs whole matrices
(tickets × engineers), so everything here works on arrays of places at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import numpy as np
import pandas as pd

# Mean Earth radius (IUGG), the usual constant for great-circle distances.
EARTH_RADIUS_KM = 6371.0088
# docs/rules.md § Inputs: else 0 for the same area and 1 unit otherwise.
SAME_AREA_UNITS = 0.0
OTHER_AREA_UNITS = 1.0


class Basis(IntEnum):
    """Where a distance came from, so a reason can say how sure it is."""

    COORDINATES = 0
    TABLE = 1
    SAME_AREA = 2
    OTHER_AREA = 3


@dataclass(frozen=True)
class Places:
    """Points as parallel arrays: coordinates (NaN where not given) and area (None where not given)."""

    lat: np.ndarray
    lon: np.ndarray
    area: tuple[str | None, ...]

    @classmethod
    def of(cls, lat: Sequence[Any], lon: Sequence[Any], area: Sequence[Any]) -> Places:
        """Places from columns as ingest types them (float or None); a point needs both coordinates."""
        lat_a = np.array([np.nan if v is None else float(v) for v in lat], dtype=float)
        lon_a = np.array([np.nan if v is None else float(v) for v in lon], dtype=float)
        missing = np.isnan(lat_a) | np.isnan(lon_a)
        lat_a[missing] = lon_a[missing] = np.nan
        return cls(lat_a, lon_a, tuple(a if isinstance(a, str) and a else None for a in area))

    def __len__(self) -> int:
        return len(self.area)

    def take(self, index: Sequence[int] | np.ndarray) -> Places:
        index = np.asarray(index, dtype=int)
        return Places(self.lat[index], self.lon[index], tuple(self.area[i] for i in index))


def haversine_km(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    """Great-circle distance in km; broadcasts like any numpy expression."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2) - np.radians(lon1)
    h = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))


class DistanceModel:
    """The distance rule (docs/rules.md § Inputs), with the 区域距离 table loaded once."""

    def __init__(self, area_distance: pd.DataFrame | None = None) -> None:
        self._table: dict[tuple[str, str], float] = {}
        self._codes: dict[str | None, int] = {}
        self._grid_km = np.zeros((0, 0))
        self._grid_basis = np.zeros((0, 0), dtype=np.int8)
        if area_distance is not None:
            for a, b, km in zip(area_distance["area_a"], area_distance["area_b"], area_distance["km"], strict=True):
                if a is None or b is None or km is None:
                    continue
                # The table is symmetric; where both directions are given differently, the shorter is the road.
                for pair in ((a, b), (b, a)):
                    self._table[pair] = min(float(km), self._table.get(pair, float("inf")))

    def _area_codes(self, areas: tuple[str | None, ...]) -> np.ndarray:
        """Each area's row in the area grid, extending the grid when new areas appear (it is kept
        between calls: dispatch asks for hundreds of small matrices over the same few areas)."""
        fresh = [a for a in dict.fromkeys(areas) if a not in self._codes]
        if fresh:
            for area in fresh:
                self._codes[area] = len(self._codes)
            self._grid_km, self._grid_basis = self._area_grid(list(self._codes))
        return np.array([self._codes[a] for a in areas], dtype=int)

    def _area_grid(self, areas: list[str | None]) -> tuple[np.ndarray, np.ndarray]:
        """km and basis between every pair of the given distinct areas; None is an unknown area."""
        n = len(areas)
        km = np.full((n, n), OTHER_AREA_UNITS)
        basis = np.full((n, n), Basis.OTHER_AREA, dtype=np.int8)
        for i, a in enumerate(areas):
            for j, b in enumerate(areas):
                if a is None or b is None:
                    continue
                if (a, b) in self._table:
                    km[i, j], basis[i, j] = self._table[(a, b)], Basis.TABLE
                elif a == b:
                    km[i, j], basis[i, j] = SAME_AREA_UNITS, Basis.SAME_AREA
        return km, basis

    def _between(self, a: Places, b: Places, ia: np.ndarray, ib: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Distances between a[ia] and b[ib] for broadcastable index arrays."""
        ca, cb = self._area_codes(a.area)[ia], self._area_codes(b.area)[ib]
        km, basis = self._grid_km[ca, cb], self._grid_basis[ca, cb]
        great = haversine_km(a.lat[ia], a.lon[ia], b.lat[ib], b.lon[ib])
        known = ~np.isnan(great)
        return np.where(known, great, km), np.where(known, np.int8(Basis.COORDINATES), basis)

    def matrix(self, a: Places, b: Places) -> tuple[np.ndarray, np.ndarray]:
        """len(a) × len(b) distances and their basis."""
        if len(a) == 0 or len(b) == 0:
            return np.zeros((len(a), len(b))), np.zeros((len(a), len(b)), dtype=np.int8)
        return self._between(a, b, np.arange(len(a))[:, None], np.arange(len(b))[None, :])


def describe(km: float, basis: Basis | int, area: str | None) -> str:
    """The distance as a reason says it, honest about estimates."""
    basis = Basis(int(basis))
    if basis is Basis.COORDINATES:
        return f"距离{km:.1f}公里"
    if basis is Basis.TABLE:
        return f"距离约{km:.1f}公里（区域距离表）"
    if basis is Basis.SAME_AREA:
        return f"同在{area}"
    return "不同区域（无坐标、区域距离表也未列出，按1个单位估算）"


def shown_km(km: float, basis: Basis | int) -> float | None:
    """The distance for a 距离公里 cell: km where measured or tabled, blank where only estimated."""
    return round(float(km), 1) if Basis(int(basis)) in (Basis.COORDINATES, Basis.TABLE) else None


def route_order(model: DistanceModel, base: Places, stops: Places) -> list[int]:
    """Stops in visiting order from the base, always the nearest next (greedy nearest neighbour);
    equal distances keep the given order, so callers pass stops by priority."""
    n = len(stops)
    if n == 0:
        return []
    from_base, _ = model.matrix(base, stops)
    between, _ = model.matrix(stops, stops)
    left = np.ones(n, dtype=bool)
    current = from_base[0]
    order: list[int] = []
    for _ in range(n):
        nxt = int(np.argmin(np.where(left, current, np.inf)))
        order.append(nxt)
        left[nxt] = False
        current = between[nxt]
    return order
