"""Nearest station in a straight line, against brute force and geopandas."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest

from gridmap.network import nearest


def _random(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0, 20_000, size=(n, 2))


def test_agrees_with_brute_force() -> None:
    points, stations = _random(3000, 1), _random(60, 2)
    station, distance = nearest(points, stations)
    all_pairs = np.hypot(*(points[:, None, :] - stations[None, :, :]).transpose(2, 0, 1))
    np.testing.assert_allclose(distance, all_pairs.min(axis=1), rtol=1e-12)
    np.testing.assert_array_equal(station, all_pairs.argmin(axis=1))


def test_agrees_with_sjoin_nearest() -> None:
    points, stations = _random(2000, 3), _random(40, 4)
    crs = "EPSG:32650"
    left = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*points.T), crs=crs)
    right = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*stations.T), crs=crs)
    joined = gpd.sjoin_nearest(left, right, distance_col="d")
    joined = joined[~joined.index.duplicated()]
    station, distance = nearest(points, stations)
    np.testing.assert_array_equal(station, joined["index_right"].to_numpy())
    np.testing.assert_allclose(distance, joined["d"].to_numpy(), rtol=1e-12)


def test_max_distance_marks_points_out_of_reach() -> None:
    result = nearest([[0.0, 0.0], [100.0, 0.0]], [[0.0, 30.0]], max_distance_m=50)
    assert result.station.tolist() == [0, -1]
    assert result.distance_m[0] == pytest.approx(30.0)
    assert np.isinf(result.distance_m[1])


def test_no_stations_reaches_nothing() -> None:
    result = nearest([[0.0, 0.0]], np.empty((0, 2)))
    assert result.station.tolist() == [-1]


def test_bad_shape_is_explained() -> None:
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        nearest([1.0, 2.0, 3.0], [[0.0, 0.0]])
