"""The fast paths of a coverage run against their references."""

from __future__ import annotations

import numpy as np
import shapely

from gridmap.coverage._offroad import direct_links
from gridmap.coverage.inputs import surface_points


def test_surface_points_of_points_are_the_points_on_their_surface() -> None:
    rng = np.random.default_rng(3)
    points = shapely.points(rng.uniform(0, 1000, (500, 2)))
    geoms = np.concatenate([points, np.array([None, shapely.Point()], dtype=object)])
    fast = surface_points(geoms)
    reference = shapely.point_on_surface(geoms)
    assert shapely.equals_exact(fast[:500], reference[:500], 0).all()
    assert fast[500] is None and fast[501].is_empty
    mixed = np.concatenate([geoms, shapely.buffer(points[:3], 10.0)])
    assert shapely.equals_exact(
        surface_points(mixed)[-3:], shapely.point_on_surface(mixed)[-3:], 0
    ).all()


def _nearest_reference(unit, station, cost, n_units, members):  # type: ignore[no-untyped-def]
    keep = np.ones(unit.size, bool) if members is None else np.isin(station, members)
    unit, station, cost = unit[keep], station[keep], cost[keep]
    order = np.lexsort((cost, unit))
    unit, station, cost = unit[order], station[order], cost[order]
    first = np.r_[True, unit[1:] != unit[:-1]] if unit.size else unit.astype(bool)
    best, which = np.full(n_units, np.inf), np.full(n_units, -1)
    best[unit[first]], which[unit[first]] = cost[first], station[first]
    return best, which


def test_direct_links_nearest_equals_a_sort_per_subset() -> None:
    rng = np.random.default_rng(5)
    units = np.round(rng.uniform(0, 3000, (4000, 2)))
    stations = np.round(rng.uniform(0, 3000, (60, 2)))
    stations[30:] = stations[:30]  # ties: the same distances to two stations
    links = direct_links(units, stations, max_m=400.0, weight="length", walk_kmh=4.0)
    raw = [links.unit, links.station, links.cost]
    shuffled = rng.permutation(links.unit.size)
    unit, station, cost = (a[shuffled] for a in raw)
    for members in (None, np.arange(0, 60, 2), np.arange(25, 45)):
        best, which = links.nearest(members)
        ref_best, ref_which = _nearest_reference(
            links.unit, links.station, links.cost, len(units), members
        )
        assert np.array_equal(best, ref_best)
        assert np.array_equal(which, ref_which)
        # any pair order gives the same costs
        shuffled_best, _ = _nearest_reference(unit, station, cost, len(units), members)
        assert np.array_equal(best, shuffled_best)
