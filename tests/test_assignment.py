"""The least-cost transport solver against every possible placement, on small random problems
full of ties and zero rooms (the shapes dispatch gives it)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kis_batch.assignment import least_cost_transport
from kis_batch.rules.dispatch import optimal_assignment


@st.composite
def problems(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    rows = draw(st.integers(1, 5))
    columns = draw(st.integers(1, 4))
    room = np.array([draw(st.integers(0, 3)) for _ in range(columns)])
    if room.sum() < rows:
        room[draw(st.integers(0, columns - 1))] += rows - room.sum()
    top = draw(st.sampled_from((1, 3, 50)))  # small ranges make many equal totals
    cost = np.array([[draw(st.integers(0, top)) for _ in range(columns)] for _ in range(rows)], dtype=float)
    return cost, room


def _placements(rows: int, room: np.ndarray) -> list[tuple[int, ...]]:
    return [choice for choice in itertools.product(range(len(room)), repeat=rows)
            if all(choice.count(c) <= room[c] for c in range(len(room)))]


@settings(max_examples=300, deadline=None)
@given(problems())
def test_property_the_placement_is_within_room_and_no_other_costs_less(problem: tuple[np.ndarray, np.ndarray]) -> None:
    cost, room = problem
    chosen = least_cost_transport(cost, room)
    rows = np.arange(len(cost))
    assert (np.bincount(chosen, minlength=len(room)) <= room).all()
    best = min(cost[rows, list(choice)].sum() for choice in _placements(len(cost), room))
    assert cost[rows, chosen].sum() == best


@settings(max_examples=200, deadline=None)
@given(problems())
def test_property_dispatch_prefers_earlier_receivers_among_equal_distances(problem: tuple[np.ndarray, np.ndarray]) -> None:
    km, room = problem
    chosen = optimal_assignment(km, room)
    rows = np.arange(len(km))
    best = min((km[rows, list(choice)].sum(), sum(choice)) for choice in _placements(len(km), room))
    assert (km[rows, chosen].sum(), chosen.sum()) == best


def test_a_chain_of_moves_frees_the_cheapest_place() -> None:
    # Row 0 takes column 0 first; row 1 can only go cheaply to column 0, so row 0 moves on to 1.
    assert least_cost_transport(np.array([[1.0, 2.0], [1.0, 9.0]]), np.array([1, 1])).tolist() == [1, 0]
    # A column with no room is passed over even when it is nearest.
    assert least_cost_transport(np.array([[0.0, 5.0, 7.0]]), np.array([0, 0, 1])).tolist() == [2]


def test_impossible_problems_are_refused() -> None:
    with pytest.raises(ValueError, match="cannot hold"):
        least_cost_transport(np.zeros((3, 2)), np.array([1, 1]))
    with pytest.raises(ValueError, match="finite"):
        least_cost_transport(np.array([[np.inf, 1.0]]), np.array([1, 1]))
    with pytest.raises(ValueError, match="one non-negative"):
        least_cost_transport(np.zeros((1, 2)), np.array([1]))
