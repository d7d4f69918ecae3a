"""Shortest paths: exact mid-edge snapping, and equality with networkx on real roads."""

from __future__ import annotations

import dataclasses
import itertools
import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import osmium
import pytest
from pyproj import Transformer
from shapely.geometry import LineString

from gridmap.crs import metric_crs_for
from gridmap.network import (
    RoadGraph,
    distances_to_points,
    multi_source_distances,
    snap_points,
)
from gridmap.network._speeds import speed_table

# The real data beside the checkout (../shared/data), as in conftest.SHARED_DATA.
DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
SHENZHEN = DATA / "shenzhen_futian_roads.graphml"
LIECHTENSTEIN = DATA / "liechtenstein-2013-08-03.osm.pbf"
METRIC = "EPSG:32650"
WALK_KMH = 5.0  # the walking speed these tests compute with (a test input, not a default)
RTOL = 1e-6


def _road(*coords: tuple[float, float], oneway: str = "no") -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"highway": ["residential"], "oneway": [oneway]}, geometry=[LineString(coords)], crs=METRIC
    )


# --- hand-made graphs, exact numbers -------------------------------------------------------


def test_source_snapped_mid_edge_reaches_both_ends_proportionally() -> None:
    graph = RoadGraph.from_lines(_road((0, 0), (1000, 0)), profile="walk", walk_kmh=WALK_KMH)
    station = snap_points(graph, [250.0], [10.0], max_snap_m=50)
    assert station.offset_m[0] == pytest.approx(250.0)
    assert station.distance_m[0] == pytest.approx(10.0)
    dist, source = multi_source_distances(graph, station, weight="length")
    by_x = dict(zip(graph.node_xy[:, 0].tolist(), dist.tolist(), strict=True))
    assert by_x == {0.0: pytest.approx(250.0), 1000.0: pytest.approx(750.0)}
    assert source.tolist() == [0, 0]
    seconds, _ = multi_source_distances(graph, station, weight="time")
    assert sorted(seconds.tolist()) == pytest.approx([250 / (5 / 3.6), 750 / (5 / 3.6)])


def test_mid_edge_source_on_one_way_only_reaches_downstream() -> None:
    graph = RoadGraph.from_lines(_road((0, 0), (1000, 0), oneway="yes"), profile="drive")
    station = snap_points(graph, [250.0], [0.0], max_snap_m=None)
    dist, source = multi_source_distances(graph, station, weight="length")
    start, end = (int(np.flatnonzero(graph.node_xy[:, 0] == x)[0]) for x in (0.0, 1000.0))
    assert math.isinf(dist[start]) and source[start] == -1
    assert dist[end] == pytest.approx(750.0)


def test_target_offset_and_snap_distance_are_added() -> None:
    graph = RoadGraph.from_lines(
        _road((0, 0), (400, 0), (400, 600)), profile="walk", walk_kmh=WALK_KMH
    )
    station = snap_points(graph, [0.0], [-5.0], max_snap_m=50)
    targets = snap_points(graph, [300.0, 380.0, 410.0], [20.0, 5.0, 100.0], max_snap_m=50)
    reach = distances_to_points(graph, station, targets, weight="length")
    # along the road 300, 380, 500 m; plus 20, 5, 10 m off-road
    assert reach.network.tolist() == pytest.approx([300.0, 380.0, 500.0])
    assert reach.snap_distance_m.tolist() == pytest.approx([20.0, 5.0, 10.0])
    assert reach.distance.tolist() == pytest.approx([320.0, 385.0, 510.0])
    assert reach.source.tolist() == [0, 0, 0]


def test_same_link_source_and_target_travel_along_the_link() -> None:
    graph = RoadGraph.from_lines(_road((0, 0), (1000, 0)), profile="walk", walk_kmh=WALK_KMH)
    stations = snap_points(graph, [600.0, 100.0], [0.0, 0.0], max_snap_m=1)
    targets = snap_points(graph, [500.0, 50.0], [0.0, 0.0], max_snap_m=1)
    reach = distances_to_points(graph, stations, targets, weight="length")
    assert reach.distance.tolist() == pytest.approx([100.0, 50.0])
    assert reach.source.tolist() == [0, 1]


def test_same_link_respects_one_way() -> None:
    graph = RoadGraph.from_lines(_road((0, 0), (1000, 0), oneway="yes"), profile="drive")
    stations = snap_points(graph, [600.0], [0.0], max_snap_m=1)
    targets = snap_points(graph, [500.0, 700.0], [0.0, 0.0], max_snap_m=1)
    reach = distances_to_points(graph, stations, targets, weight="length")
    assert math.isinf(reach.distance[0]) and reach.source[0] == -1
    assert reach.distance[1] == pytest.approx(100.0)


def test_time_weight_counts_the_off_road_leg_at_access_speed() -> None:
    graph = RoadGraph.from_lines(_road((0, 0), (1000, 0)), profile="drive")
    reach = distances_to_points(
        graph,
        [0],
        snap_points(graph, [500.0], [50.0], max_snap_m=None),
        weight="time",
        access_speed_kmh=3.6,
    )
    assert reach.network[0] == pytest.approx(500 / (30 / 3.6))
    assert reach.access[0] == pytest.approx(50.0)


def test_too_far_points_are_flagged_not_counted() -> None:
    graph = RoadGraph.from_lines(_road((0, 0), (1000, 0)), profile="walk", walk_kmh=WALK_KMH)
    targets = snap_points(graph, [100.0, 100.0], [10.0, 900.0], max_snap_m=500)
    assert targets.too_far.tolist() == [False, True]
    reach = distances_to_points(graph, [0], targets, weight="length")
    assert reach.distance[0] == pytest.approx(110.0)
    assert math.isinf(reach.distance[1]) and reach.source[1] == -1
    assert reach.snap_distance_m[1] == pytest.approx(900.0)
    far_station = snap_points(graph, [0.0], [2000.0], max_snap_m=500)
    dist, source = multi_source_distances(graph, far_station, weight="length")
    assert np.isinf(dist).all() and (source == -1).all()


def test_cutoff_drops_farther_targets() -> None:
    graph = RoadGraph.from_lines(
        _road((0, 0), (1000, 0), (2000, 0)), profile="walk", walk_kmh=WALK_KMH
    )
    targets = snap_points(graph, [300.0, 900.0], [0.0, 0.0], max_snap_m=1)
    reach = distances_to_points(graph, [0], targets, weight="length", cutoff=500)
    assert reach.distance[0] == pytest.approx(300.0)
    assert math.isinf(reach.distance[1])


def test_snapped_source_equals_splitting_the_road_at_it() -> None:
    road = [(0, 0), (300, 0), (300, 400), (700, 400)]
    lines = gpd.GeoDataFrame(
        {"highway": ["residential"] * 2},
        geometry=[LineString(road), LineString([(300, 0), (900, 0)])],
        crs=METRIC,
    )
    graph = RoadGraph.from_lines(lines, profile="walk", walk_kmh=WALK_KMH)
    station = snap_points(graph, [310.0], [123.0], max_snap_m=20)
    snapped = (float(station.x[0]), float(station.y[0]))
    split = gpd.GeoDataFrame(
        {"highway": ["residential"] * 3},
        geometry=[
            LineString([*road[:2], snapped]),
            LineString([snapped, *road[2:]]),
            LineString([(300, 0), (900, 0)]),
        ],
        crs=METRIC,
    )
    reference = RoadGraph.from_lines(split, profile="walk", walk_kmh=WALK_KMH)
    at = int(np.flatnonzero((reference.node_xy == snapped).all(axis=1))[0])
    expected, _ = multi_source_distances(reference, [at], weight="length")
    got, _ = multi_source_distances(graph, station, weight="length")
    for xy, d in zip(graph.node_xy, got, strict=True):
        i = int(np.flatnonzero((reference.node_xy == xy).all(axis=1))[0])
        assert d == pytest.approx(expected[i], rel=1e-12)


# --- real graphs, against networkx ----------------------------------------------------------


def _assert_same(got: np.ndarray, expected: dict[int, float]) -> None:
    reached = np.flatnonzero(np.isfinite(got))
    assert set(reached.tolist()) == set(expected)
    want = np.array([expected[i] for i in reached.tolist()])
    np.testing.assert_allclose(got[reached], want, rtol=RTOL, atol=0)


@pytest.fixture(scope="module")
def shenzhen() -> tuple[nx.MultiDiGraph, RoadGraph]:
    raw = nx.read_graphml(SHENZHEN)
    to_metric = Transformer.from_crs(4326, metric_crs_for(114.05, 22.54), always_xy=True)
    for _, data in raw.nodes(data=True):
        data["x"], data["y"] = to_metric.transform(float(data["x"]), float(data["y"]))
    for *_, data in raw.edges(data=True):
        data["length"] = float(data["length"])
    return raw, RoadGraph.from_networkx(raw, weight="length", crs=to_metric.target_crs)


def test_shenzhen_graph_loads_every_node(shenzhen: tuple[nx.MultiDiGraph, RoadGraph]) -> None:
    raw, graph = shenzhen
    assert graph.n_nodes == raw.number_of_nodes() == 1751
    assert graph.n_edges == len({(u, v) for u, v in raw.edges() if u != v})


@pytest.mark.parametrize("cutoff", [None, 800.0])
def test_shenzhen_distances_equal_networkx(
    shenzhen: tuple[nx.MultiDiGraph, RoadGraph], cutoff: float | None
) -> None:
    raw, graph = shenzhen
    sources = np.random.default_rng(7).choice(graph.n_nodes, 15, replace=False)
    dist, source = multi_source_distances(graph, sources, weight="length", cutoff=cutoff)
    expected = nx.multi_source_dijkstra_path_length(
        raw, {graph.node_ids[s] for s in sources}, cutoff=cutoff, weight="length"
    )
    index = {node: i for i, node in enumerate(graph.node_ids)}
    _assert_same(dist, {index[n]: d for n, d in expected.items()})
    for i in np.flatnonzero(np.isfinite(dist))[:200]:
        one = nx.dijkstra_path_length(
            raw, graph.node_ids[sources[source[i]]], graph.node_ids[i], weight="length"
        )
        assert one == pytest.approx(dist[i], rel=RTOL)


def test_shenzhen_snapped_sources_equal_networkx_with_virtual_nodes(
    shenzhen: tuple[nx.MultiDiGraph, RoadGraph],
) -> None:
    raw, graph = shenzhen
    rng = np.random.default_rng(3)
    lo, hi = graph.node_xy.min(axis=0), graph.node_xy.max(axis=0)
    stations = snap_points(
        graph, rng.uniform(lo[0], hi[0], 10), rng.uniform(lo[1], hi[1], 10), max_snap_m=None
    )
    reference = nx.DiGraph()
    for u, v, data in raw.edges(data=True):
        old = reference.get_edge_data(u, v, {"length": math.inf})["length"]
        reference.add_edge(u, v, length=min(old, data["length"]))
    for k in range(len(stations)):
        u, v = graph.node_ids[stations.u[k]], graph.node_ids[stations.v[k]]
        f = stations.fraction[k]
        if reference.has_edge(v, u):
            reference.add_edge(("s", k), u, length=f * reference[v][u]["length"])
        if reference.has_edge(u, v):
            reference.add_edge(("s", k), v, length=(1 - f) * reference[u][v]["length"])
    expected = nx.multi_source_dijkstra_path_length(
        reference, {("s", k) for k in range(len(stations))}, weight="length"
    )
    got, _ = multi_source_distances(graph, stations, weight="length")
    index = {node: i for i, node in enumerate(graph.node_ids)}
    _assert_same(got, {index[n]: d for n, d in expected.items() if n in index})


def _liechtenstein_ways() -> gpd.GeoDataFrame:
    """Highway ways of the Liechtenstein extract, projected to UTM 32N."""
    rows: list[dict[str, object]] = []
    processor = osmium.FileProcessor(str(LIECHTENSTEIN)).with_locations()
    for way in processor.with_filter(osmium.filter.KeyFilter("highway")):
        if not isinstance(way, osmium.osm.Way) or not all(n.location.valid() for n in way.nodes):
            continue
        tags = way.tags
        rows.append(
            {
                "highway": tags.get("highway"),
                "oneway": tags.get("oneway"),
                "maxspeed": tags.get("maxspeed"),
                "junction": tags.get("junction"),
                "geometry": LineString([(n.lon, n.lat) for n in way.nodes]),
            }
        )
    ways = gpd.GeoDataFrame(rows, geometry="geometry", crs=4326)
    return ways.to_crs(metric_crs_for(9.55, 47.15))


def _vertex_graph(ways: gpd.GeoDataFrame, profile: str) -> nx.DiGraph:
    """Reference: every vertex is a node, every segment an edge (independent of noding)."""
    allowed = speed_table(profile, None, walk_kmh=WALK_KMH)
    graph = nx.DiGraph()
    for row in ways.itertuples():
        if row.highway not in allowed:
            continue
        coords = list(row.geometry.coords)
        step = 0 if profile == "walk" else {"yes": 1, "-1": -1}.get(row.oneway, 0)
        if profile == "drive" and not isinstance(row.oneway, str) and row.junction == "roundabout":
            step = 1
        for a, b in itertools.pairwise(coords):
            if a == b:
                continue
            length = math.dist(a, b)
            for x, y in [(a, b)] if step == 1 else [(b, a)] if step == -1 else [(a, b), (b, a)]:
                old = graph.get_edge_data(x, y, {"length": math.inf})["length"]
                graph.add_edge(x, y, length=min(old, length))
    return graph


@pytest.fixture(scope="module")
def liechtenstein() -> gpd.GeoDataFrame:
    return _liechtenstein_ways()


@pytest.mark.parametrize("profile", ["walk", "drive"])
def test_liechtenstein_osm_ways_equal_networkx(
    liechtenstein: gpd.GeoDataFrame, profile: str
) -> None:
    graph = RoadGraph.from_lines(liechtenstein, profile=profile, walk_kmh=WALK_KMH)  # type: ignore[arg-type]
    reference = _vertex_graph(liechtenstein, profile)
    assert graph.n_nodes > 3000
    assert graph.n_nodes < reference.number_of_nodes()  # shape vertices are not nodes
    sources = np.random.default_rng(11).choice(graph.n_nodes, 12, replace=False)
    got, _ = multi_source_distances(graph, sources, weight="length")
    xy = [tuple(p) for p in graph.node_xy.tolist()]
    expected = nx.multi_source_dijkstra_path_length(
        reference, {xy[s] for s in sources}, weight="length"
    )
    index = {p: i for i, p in enumerate(xy)}
    _assert_same(got, {index[p]: d for p, d in expected.items() if p in index})
    via_nx = nx.multi_source_dijkstra_path_length(
        graph.to_networkx("time"), set(sources.tolist()), weight="time"
    )
    seconds, _ = multi_source_distances(graph, sources, weight="time")
    _assert_same(seconds, dict(via_nx))


def test_reach_matrix_equals_one_source_at_a_time(
    shenzhen: tuple[nx.MultiDiGraph, RoadGraph],
) -> None:
    from gridmap.network import reach_matrix

    _, graph = shenzhen
    rng = np.random.default_rng(7)
    west, south = graph.node_xy.min(axis=0)
    east, north = graph.node_xy.max(axis=0)
    sx, sy = rng.uniform(west, east, 25), rng.uniform(south, north, 25)
    tx, ty = rng.uniform(west, east, 400), rng.uniform(south, north, 400)
    sources = snap_points(graph, sx, sy, max_snap_m=300)
    targets = snap_points(graph, tx, ty, max_snap_m=300)
    matrix = reach_matrix(graph, sources, targets, weight="length", cutoff=800.0).toarray()
    assert 0 < matrix.sum() < matrix.size
    for j in range(len(sources)):
        one = dataclasses.replace(
            sources, **{f.name: getattr(sources, f.name)[[j]] for f in dataclasses.fields(sources)}
        )
        expected = distances_to_points(graph, one, targets, weight="length", source_access=True)
        np.testing.assert_array_equal(matrix[:, j], expected.distance <= 800.0)
