"""The least-cost placement of rows (tickets) on columns (receivers) that each take a limited
number: the "optimal assignment" step of dispatch, a small transportation problem.

Our own successive-shortest-path solver on numpy vectors (the method behind scipy's
linear_sum_assignment, Crouse 2016, run on receivers instead of one column per free place):
importing scipy.optimize alone costs a large share of a department run, and a receiver taking
twenty tickets is one node here instead of twenty identical columns.
"""

from __future__ import annotations

import numpy as np


def least_cost_transport(cost: np.ndarray, room: np.ndarray) -> np.ndarray:
    """For each row, the column it goes to: no column takes more rows than its room and the total
    cost is the least possible. Among equal candidates a search prefers the earlier column.
    Costs must be finite and the rooms must hold every row."""
    rows, columns = cost.shape
    cost = np.asarray(cost, dtype=float)
    room = np.asarray(room, dtype=int)
    if room.shape != (columns,) or room.min(initial=0) < 0:
        raise ValueError("room needs one non-negative number per column")
    if room.sum() < rows:
        raise ValueError("the rooms cannot hold every row")
    if not np.isfinite(cost).all():
        raise ValueError("costs must be finite")
    row_dual = np.zeros(rows)
    column_dual = np.zeros(columns)
    column_of_row = np.full(rows, -1)
    members: list[list[int]] = [[] for _ in range(columns)]
    for start in range(rows):
        sink, via, shortest, reached_at, closed = _shortest_path(cost, row_dual, column_dual, members, room, start)
        reach = shortest[sink]
        # Keep the duals feasible: reduced costs stay ≥ 0 and are 0 on every placement.
        for row, distance in reached_at.items():
            row_dual[row] += reach - distance
        column_dual[closed] -= reach - shortest[closed]
        column = sink
        while True:  # each row on the path moves to the column it reached; the start row is placed
            row = int(via[column])
            previous = int(column_of_row[row])
            members[column].append(row)
            column_of_row[row] = column
            if row == start:
                break
            members[previous].remove(row)
            column = previous
    return column_of_row


def _shortest_path(cost: np.ndarray, row_dual: np.ndarray, column_dual: np.ndarray, members: list[list[int]],
                   room: np.ndarray, start: int) -> tuple[int, np.ndarray, np.ndarray, dict[int, float], np.ndarray]:
    """Dijkstra over reduced costs from the start row to the nearest column with room: through a
    full column the search goes on from every row placed there."""
    columns = cost.shape[1]
    shortest = np.full(columns, np.inf)
    via = np.full(columns, -1)
    closed = np.zeros(columns, dtype=bool)
    has_room = np.array([len(m) for m in members]) < room
    reached_at = {start: 0.0}
    frontier = [start]
    reach = 0.0
    while True:
        if frontier:  # a full column with no rows placed (room 0) leads nowhere
            reduced = reach + cost[frontier] - row_dual[frontier, None] - column_dual
            best = reduced.argmin(axis=0)
            candidate = reduced[best, np.arange(columns)]
            better = ~closed & (candidate < shortest)
            shortest[better] = candidate[better]
            via[better] = np.asarray(frontier)[best[better]]
        open_distance = np.where(closed, np.inf, shortest)
        reach = float(open_distance.min())
        nearest = np.flatnonzero(open_distance == reach)
        with_room = nearest[has_room[nearest]]
        column = int(with_room[0] if with_room.size else nearest[0])
        closed[column] = True
        if has_room[column]:
            return column, via, shortest, reached_at, closed
        frontier = members[column]
        reached_at.update(dict.fromkeys(frontier, reach))
