"""Distances per docs/rules.md § Inputs (coordinates, else 区域距离, else same area 0 / 1 unit) and route order."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kis_batch.geo import EARTH_RADIUS_KM, Basis, DistanceModel, Places, describe, haversine_km, route_order, shown_km
from tests.builders import table

ONE_DEGREE_KM = EARTH_RADIUS_KM * math.pi / 180  # 111.195 km along a meridian or the equator


def on_equator(*lons: float) -> Places:
    return Places.of([0.0] * len(lons), list(lons), ["赤道"] * len(lons))


def test_haversine_one_degree_and_a_known_city_pair() -> None:
    assert haversine_km(np.array(0.0), np.array(0.0), np.array(1.0), np.array(0.0)) == pytest.approx(111.195, abs=1e-3)
    # Beijing to Shanghai, great circle: about 1068 km.
    assert haversine_km(np.array(39.9042), np.array(116.4074), np.array(31.2304), np.array(121.4737)) == pytest.approx(
        1067.3, abs=1.0)


def test_coordinates_win_over_the_area_table() -> None:
    model = DistanceModel(table("area_distance", [{"area_a": "西湖区", "area_b": "滨江区", "km": 12.5}]))
    a = Places.of([30.0], [120.0], ["西湖区"])
    b = Places.of([30.0], [121.0], ["滨江区"])
    km, basis = model.matrix(a, b)
    assert basis[0, 0] == Basis.COORDINATES
    assert km[0, 0] == pytest.approx(ONE_DEGREE_KM * math.cos(math.radians(30.0)), rel=1e-3)


def test_area_table_is_symmetric_then_same_area_zero_then_one_unit() -> None:
    model = DistanceModel(table("area_distance", [{"area_a": "西湖区", "area_b": "滨江区", "km": 12.5}]))
    customers = Places.of([None, None, None, None], [None, None, None, None], ["滨江区", "西湖区", "西湖区", None])
    engineers = Places.of([30.0, None], [120.0, None], ["西湖区", "上城区"])  # first has coordinates, customers none
    km, basis = model.matrix(customers, engineers)
    assert km.tolist() == [[12.5, 1.0], [0.0, 1.0], [0.0, 1.0], [1.0, 1.0]]
    assert basis.tolist() == [[Basis.TABLE, Basis.OTHER_AREA], [Basis.SAME_AREA, Basis.OTHER_AREA],
                              [Basis.SAME_AREA, Basis.OTHER_AREA], [Basis.OTHER_AREA, Basis.OTHER_AREA]]


def test_only_one_coordinate_is_no_coordinate() -> None:
    places = Places.of([30.0, 30.0], [None, 120.0], ["西湖区", "西湖区"])
    km, basis = DistanceModel().matrix(places, places.take([1]))
    assert basis[0, 0] == Basis.SAME_AREA and km[0, 0] == 0.0
    assert basis[1, 0] == Basis.COORDINATES and km[1, 0] == 0.0


def test_a_table_row_for_the_same_area_is_its_in_area_distance() -> None:
    model = DistanceModel(table("area_distance", [{"area_a": "萧山区", "area_b": "萧山区", "km": 8.0}]))
    km, basis = model.matrix(Places.of([None], [None], ["萧山区"]), Places.of([None], [None], ["萧山区"]))
    assert (km[0, 0], basis[0, 0]) == (8.0, Basis.TABLE)


def test_describe_and_shown_km_are_honest_about_estimates() -> None:
    assert describe(2.84, Basis.COORDINATES, "西湖区") == "距离2.8公里"
    assert describe(12.5, Basis.TABLE, "西湖区") == "距离约12.5公里（区域距离表）"
    assert describe(0.0, Basis.SAME_AREA, "西湖区") == "同在西湖区"
    assert "估算" in describe(1.0, Basis.OTHER_AREA, "西湖区")
    assert shown_km(2.84, Basis.COORDINATES) == 2.8
    assert shown_km(1.0, Basis.OTHER_AREA) is None


def test_route_is_nearest_next_not_nearest_to_base() -> None:
    # Base at 0°, stops at 2°, -3°, 5° on the equator. Nearest next: 2 (2°), then 5 (3° away) before -3 (5° away);
    # sorting by distance from the base would give 2, -3, 5.
    stops = on_equator(-3.0, 5.0, 2.0)
    assert route_order(DistanceModel(), on_equator(0.0), stops) == [2, 1, 0]


def test_route_keeps_the_given_order_on_ties_and_handles_nothing() -> None:
    stops = Places.of([None] * 3, [None] * 3, ["西湖区"] * 3)
    assert route_order(DistanceModel(), Places.of([None], [None], ["西湖区"]), stops) == [0, 1, 2]
    assert route_order(DistanceModel(), on_equator(0.0), on_equator()) == []
