"""Service areas: exact cut at the remaining distance, buffers, per-source partition."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import LineString

from gridmap.network import (
    RoadGraph,
    distances_to_points,
    multi_source_distances,
    reached_edges,
    service_area,
    service_areas,
    snap_points,
)

METRIC = "EPSG:32650"
# The real data beside the checkout (../shared/data), as in conftest.SHARED_DATA.


def _straight_km(oneway: str = "no") -> RoadGraph:
    lines = gpd.GeoDataFrame(
        {"highway": ["residential"], "oneway": [oneway]},
        geometry=[LineString([(0, 0), (400, 0), (1000, 0)])],
        crs=METRIC,
    )
    return RoadGraph.from_lines(lines, profile="drive")


def _node(graph: RoadGraph, x: float) -> int:
    return int(np.flatnonzero(graph.node_xy[:, 0] == x)[0])


def test_straight_road_reaches_exactly_the_limit() -> None:
    graph = _straight_km()
    dist, _ = multi_source_distances(graph, [_node(graph, 0.0)], weight="length")
    lines = service_area(graph, dist, 300.0, buffer_m=0)
    assert lines.length == pytest.approx(300.0, abs=1e-6)
    assert shapely.equals_exact(shapely.line_merge(lines), LineString([(0, 0), (300, 0)]), 1e-9)
    area = service_area(graph, dist, 300.0, buffer_m=50)
    expected = LineString([(0, 0), (300, 0)]).buffer(50)
    assert area.area == pytest.approx(expected.area, rel=1e-9)
    assert area.symmetric_difference(expected).area < 1e-6


def test_limit_in_seconds_cuts_at_the_same_place() -> None:
    graph = _straight_km()
    dist, _ = multi_source_distances(graph, [_node(graph, 0.0)], weight="time")
    lines = service_area(graph, dist, 36.0, buffer_m=0, weight="time")  # 36 s at 30 km/h
    assert lines.length == pytest.approx(300.0, abs=1e-6)


def test_snapped_source_reaches_along_its_own_link_both_ways() -> None:
    graph = _straight_km()
    station = snap_points(graph, [700.0], [30.0], max_snap_m=100)
    dist, _ = multi_source_distances(graph, station, weight="length")
    lines = service_area(graph, dist, 200.0, buffer_m=0, sources=station)
    assert lines.length == pytest.approx(400.0, abs=1e-6)
    assert lines.bounds == pytest.approx((500.0, 0.0, 900.0, 0.0))


def test_station_access_leg_is_spent_before_its_own_link() -> None:
    """A station 30 m off the road has 170 m of a 200 m budget left along its link."""
    graph = _straight_km()
    station = snap_points(graph, [700.0], [30.0], max_snap_m=100)
    dist, _ = multi_source_distances(graph, station, weight="length", source_access=True)
    lines = service_area(graph, dist, 200.0, buffer_m=0, sources=station, source_access=True)
    assert lines.bounds == pytest.approx((530.0, 0.0, 870.0, 0.0))
    # The same in seconds, walking the leg at 3.6 km/h (30 s) and driving at 30 km/h.
    seconds, _ = multi_source_distances(
        graph, station, weight="time", source_access=True, access_speed_kmh=3.6
    )
    lines = service_area(
        graph,
        seconds,
        54.0,  # 30 s walking, then 24 s = 200 m driving each way
        buffer_m=0,
        weight="time",
        sources=station,
        source_access=True,
        access_speed_kmh=3.6,
    )
    assert lines.bounds == pytest.approx((500.0, 0.0, 900.0, 0.0))
    # Every unit the distances call reached lies in the area, and no farther.
    targets = snap_points(graph, [520.0, 535.0, 865.0, 880.0], [0.0] * 4, max_snap_m=1)
    reach = distances_to_points(
        graph, station, targets, weight="length", source_access=True, cutoff=200.0
    )
    assert np.isfinite(reach.distance).tolist() == [False, True, True, False]


def test_one_way_is_reached_only_downstream() -> None:
    graph = _straight_km(oneway="yes")
    station = snap_points(graph, [700.0], [0.0], max_snap_m=1)
    dist, _ = multi_source_distances(graph, station, weight="length")
    lines = service_area(graph, dist, 200.0, buffer_m=0, sources=station)
    assert lines.bounds == pytest.approx((700.0, 0.0, 900.0, 0.0))
    dist, _ = multi_source_distances(graph, [_node(graph, 1000.0)], weight="length")
    assert service_area(graph, dist, 200.0, buffer_m=0).is_empty


def test_whole_network_when_limit_is_large() -> None:
    graph = _straight_km()
    station = snap_points(graph, [400.0], [0.0], max_snap_m=1)
    dist, _ = multi_source_distances(graph, station, weight="length")
    lines = service_area(graph, dist, 5000.0, buffer_m=0, sources=station)
    assert lines.length == pytest.approx(1000.0)


def test_two_sources_split_a_road_where_they_meet() -> None:
    graph = _straight_km()
    sources = [_node(graph, 0.0), _node(graph, 1000.0)]
    dist, nearest = multi_source_distances(graph, sources, weight="length")
    first, second = service_areas(graph, dist, nearest, 800.0, buffer_m=0)
    assert first.length == pytest.approx(500.0)
    assert second.length == pytest.approx(500.0)
    assert service_area(graph, dist, 800.0, buffer_m=0).length == pytest.approx(1000.0)


def test_source_reaching_nothing_gets_an_empty_area() -> None:
    graph = _straight_km(oneway="yes")
    dist, nearest = multi_source_distances(graph, [_node(graph, 1000.0)], weight="length")
    (area,) = service_areas(graph, dist, nearest, 100.0, buffer_m=10, n_sources=1)
    assert area.is_empty


def test_real_graph_areas_partition_the_union(shenzhen: RoadGraph) -> None:
    graph = shenzhen
    sources = np.random.default_rng(5).choice(graph.n_nodes, 6, replace=False)
    dist, nearest = multi_source_distances(graph, sources, weight="length")
    union = service_area(graph, dist, 500.0, buffer_m=0)
    parts = service_areas(graph, dist, nearest, 500.0, buffer_m=0)
    assert len(parts) == 6
    assert sum(p.length for p in parts) == pytest.approx(union.length, rel=1e-9)
    pieces = reached_edges(graph, dist, 500.0)
    whole = (pieces.start == 0) & (pieces.end == 1)
    # every wholly reached link has an end within the limit
    links = pieces.link[whole]
    assert (np.minimum(dist[graph.link_u[links]], dist[graph.link_v[links]]) <= 500.0).all()
    # a point on a road lies in the area exactly when its network distance is within the limit
    rng = np.random.default_rng(9)
    lo, hi = graph.node_xy.min(axis=0), graph.node_xy.max(axis=0)
    probes = snap_points(
        graph, rng.uniform(lo[0], hi[0], 3000), rng.uniform(lo[1], hi[1], 3000), max_snap_m=None
    )
    reach = distances_to_points(graph, sources, probes, weight="length")
    on_area = shapely.distance(union, shapely.points(probes.x, probes.y)) < 1e-6
    clear = np.abs(reach.network - 500.0) > 1e-6
    np.testing.assert_array_equal(on_area[clear], (reach.network <= 500.0)[clear])
    assert on_area.any() and not on_area.all()
    area = service_area(graph, dist, 500.0, buffer_m=25)
    assert area.contains(shapely.points(graph.node_xy[sources])).all()


def test_chains_join_pieces_straight_through_crossings() -> None:
    from gridmap.network._chains import chains

    # a crossing of four pieces, a dead-end spur and a square loop elsewhere
    plus = [((0, 0), (100, 0)), ((-100, 0), (0, 0)), ((0, 0), (0, 100)), ((0, -100), (0, 0))]
    loop = [((500, 0), (600, 0)), ((600, 0), (600, 100)), ((600, 100), (500, 100))]
    loop += [((500, 100), (500, 0))]
    lines = np.asarray([LineString(p) for p in [*plus, *loop]], dtype=object)
    joined = chains(lines)
    assert len(joined) == 3  # the two streets through the crossing, the loop
    straight = sorted(round(g.length) for g in joined if not g.is_closed)
    assert straight == [200, 200]
    assert all(len(g.coords) == 3 for g in joined if not g.is_closed)  # straight through
    (ring,) = [g for g in joined if g.is_closed]
    assert ring.length == pytest.approx(400.0)
    # the chains cover exactly the pieces: same length, same buffered area
    assert sum(g.length for g in joined) == pytest.approx(sum(g.length for g in lines))
    old = shapely.union_all(shapely.buffer(lines, 30, quad_segs=16))
    new = shapely.union_all(shapely.buffer(joined, 30, quad_segs=16))
    assert shapely.symmetric_difference(old, new).area < 1e-6 * old.area


def test_real_graph_service_areas_equal_the_union_of_piece_buffers(shenzhen: RoadGraph) -> None:
    # the service area of each source is the union of its reached pieces' buffers (which
    # is how it was computed before the pieces were joined into chains)
    graph = shenzhen
    sources = np.random.default_rng(11).choice(graph.n_nodes, 8, replace=False)
    dist, nearest = multi_source_distances(graph, sources, weight="length")
    areas = service_areas(graph, dist, nearest, 800.0, buffer_m=50)
    pieces = reached_edges(graph, dist, 800.0, nearest_source=nearest).merged()
    lines = pieces.lines(graph)
    for i, area in enumerate(areas):
        mine = lines[(pieces.source == i) & (shapely.length(lines) > 0)]
        expected = shapely.union_all(shapely.buffer(mine, 50, quad_segs=16))
        assert area.is_valid and expected.area > 0
        # the same area up to where the vertices of an arc fall: 50 m x (1 - cos(pi / 64))
        assert shapely.symmetric_difference(area, expected).area < 1e-4 * expected.area
        assert shapely.hausdorff_distance(area, expected) < 0.1
