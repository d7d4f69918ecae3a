"""Road graph construction: noding, one-way, speeds, networkx round trips."""

from __future__ import annotations

import itertools
import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
from shapely.geometry import LineString, MultiLineString

from gridmap.network import RoadGraph, multi_source_distances

METRIC = "EPSG:32650"  # UTM 50N, metres
WALK_KMH = 5.0  # the walking speed these tests compute with (a test input, not a default)


def _lines(
    geometries: list[LineString | MultiLineString], **columns: list[object]
) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=geometries, crs=METRIC)


def _node_at(graph: RoadGraph, x: float, y: float) -> int:
    hits = np.flatnonzero((graph.node_xy[:, 0] == x) & (graph.node_xy[:, 1] == y))
    assert hits.size == 1, f"expected one node at ({x}, {y}), found {hits.size}"
    return int(hits[0])


def _distance(
    graph: RoadGraph, a: tuple[float, float], b: tuple[float, float], weight: str = "length"
) -> float:
    dist, _ = multi_source_distances(graph, [_node_at(graph, *a)], weight=weight)  # type: ignore[arg-type]
    return float(dist[_node_at(graph, *b)])


def test_shared_interior_vertex_connects_t_junction() -> None:
    main = LineString([(0, 0), (100, 0), (200, 0)])
    branch = LineString([(100, 0), (100, 80)])
    graph = RoadGraph.from_lines(_lines([main, branch]), profile="walk", walk_kmh=WALK_KMH)
    assert graph.n_nodes == 4  # both ends of main, the junction, the branch end
    assert _distance(graph, (0, 0), (100, 80)) == pytest.approx(180.0)
    assert _distance(graph, (200, 0), (100, 80)) == pytest.approx(180.0)


def test_crossing_without_shared_vertex_is_a_bridge() -> None:
    road = LineString([(0, 0), (200, 0)])
    bridge = LineString([(100, -50), (100, 50)])
    graph = RoadGraph.from_lines(_lines([road, bridge]), profile="walk", walk_kmh=WALK_KMH)
    assert graph.n_nodes == 4
    assert math.isinf(_distance(graph, (0, 0), (100, 50)))


def test_shape_vertices_are_not_nodes_and_lengths_follow_geometry() -> None:
    bent = LineString([(0, 0), (30, 40), (60, 0)])
    graph = RoadGraph.from_lines(_lines([bent]), profile="walk", walk_kmh=WALK_KMH)
    assert (graph.n_nodes, graph.n_links, graph.n_edges) == (2, 1, 2)
    assert _distance(graph, (0, 0), (60, 0)) == pytest.approx(100.0)


def test_multilinestring_parts_are_exploded() -> None:
    parts = MultiLineString([[(0, 0), (10, 0)], [(10, 0), (10, 10)]])
    graph = RoadGraph.from_lines(_lines([parts]), profile="walk", walk_kmh=WALK_KMH)
    assert _distance(graph, (0, 0), (10, 10)) == pytest.approx(20.0)


def _one_way_square() -> gpd.GeoDataFrame:
    corners = [(0, 0), (100, 0), (100, 100), (0, 100), (0, 0)]
    sides = [LineString([a, b]) for a, b in itertools.pairwise(corners)]
    return _lines(sides, highway=["residential"] * 4, oneway=["yes", True, "1", "yes"])


def test_drive_honours_one_way_loop() -> None:
    graph = RoadGraph.from_lines(_one_way_square(), profile="drive")
    assert _distance(graph, (0, 0), (100, 0)) == pytest.approx(100.0)
    assert _distance(graph, (100, 0), (0, 0)) == pytest.approx(300.0)


def test_walk_ignores_one_way() -> None:
    graph = RoadGraph.from_lines(_one_way_square(), profile="walk", walk_kmh=WALK_KMH)
    assert _distance(graph, (0, 0), (100, 0)) == pytest.approx(100.0)
    assert _distance(graph, (100, 0), (0, 0)) == pytest.approx(100.0)


def test_reverse_one_way_runs_against_digitising() -> None:
    lines = _lines([LineString([(0, 0), (100, 0)])], highway=["tertiary"], oneway=["-1"])
    graph = RoadGraph.from_lines(lines, profile="drive")
    assert math.isinf(_distance(graph, (0, 0), (100, 0)))
    assert _distance(graph, (100, 0), (0, 0)) == pytest.approx(100.0)


def test_roundabout_without_oneway_tag_is_one_way_for_driving() -> None:
    lines = _lines([LineString([(0, 0), (50, 0)])], highway=["primary"], junction=["roundabout"])
    graph = RoadGraph.from_lines(lines, profile="drive")
    assert math.isinf(_distance(graph, (50, 0), (0, 0)))


def test_travel_time_from_class_speeds_maxspeed_and_overrides() -> None:
    lines = _lines(
        [
            LineString([(0, 0), (200, 0)]),
            LineString([(200, 0), (800, 0)]),
            LineString([(800, 0), (1000, 0)]),
        ],
        highway=["residential", "primary", None],
        maxspeed=[None, "60", "20 mph"],
    )
    drive = RoadGraph.from_lines(lines, profile="drive")
    # 200 m at 30 km/h = 24 s; 600 m at maxspeed 60 km/h = 36 s; 200 m at 20 mph
    assert _distance(drive, (0, 0), (200, 0), "time") == pytest.approx(24.0, rel=1e-12)
    assert _distance(drive, (200, 0), (800, 0), "time") == pytest.approx(36.0, rel=1e-12)
    mph = 200.0 / (20 * 1.609344 / 3.6)
    assert _distance(drive, (800, 0), (1000, 0), "time") == pytest.approx(mph, rel=1e-12)
    slow = RoadGraph.from_lines(lines, profile="drive", speeds={"residential": 12.0})
    assert _distance(slow, (0, 0), (200, 0), "time") == pytest.approx(60.0, rel=1e-12)
    walk = RoadGraph.from_lines(lines, profile="walk", walk_kmh=WALK_KMH)
    assert _distance(walk, (0, 0), (1000, 0), "time") == pytest.approx(720.0, rel=1e-12)


def test_profiles_exclude_classes() -> None:
    lines = _lines(
        [LineString([(0, 0), (100, 0)]), LineString([(100, 0), (200, 0)])],
        highway=["footway", "motorway"],
    )
    assert RoadGraph.from_lines(lines, profile="drive").n_links == 1
    assert RoadGraph.from_lines(lines, profile="walk", walk_kmh=WALK_KMH).n_links == 1
    no_footways = RoadGraph.from_lines(
        lines, profile="walk", walk_kmh=WALK_KMH, speeds={"footway": 0}
    )
    assert no_footways.n_links == 0


def test_parallel_links_keep_the_minimum() -> None:
    short = LineString([(0, 0), (100, 0)])
    detour = LineString([(0, 0), (50, 50), (100, 0)])
    graph = RoadGraph.from_lines(_lines([detour, short]), profile="walk", walk_kmh=WALK_KMH)
    assert (graph.n_links, graph.n_edges) == (2, 2)
    assert graph.matrix("length")[[0], [1]][0] == pytest.approx(100.0)


def test_geographic_crs_is_refused() -> None:
    lines = gpd.GeoDataFrame(geometry=[LineString([(114.0, 22.5), (114.1, 22.5)])], crs="EPSG:4326")
    with pytest.raises(ValueError, match="metric CRS"):
        RoadGraph.from_lines(lines, profile="walk", walk_kmh=WALK_KMH)


def test_to_networkx_is_equivalent() -> None:
    graph = RoadGraph.from_lines(_one_way_square(), profile="drive")
    nxg = graph.to_networkx(weight="time")
    assert nxg.number_of_nodes() == graph.n_nodes
    assert nxg.number_of_edges() == graph.n_edges == 4
    matrix = graph.matrix("time").toarray()
    for u, v, data in nxg.edges(data=True):
        assert data["time"] == matrix[u, v]
    assert nxg.nodes[0]["x"] == graph.node_xy[0, 0]


def test_from_networkx_merges_directions_and_parallel_edges() -> None:
    multi = nx.MultiDiGraph(crs=METRIC)
    for name, (x, y) in {"a": (0, 0), "b": (100, 0), "c": (100, 100)}.items():
        multi.add_node(name, x=str(x), y=str(y))
    multi.add_edge("a", "b", length="120.5")
    multi.add_edge("a", "b", length="100.0")
    multi.add_edge("b", "a", length="101.0")
    multi.add_edge("b", "c", length="100")
    graph = RoadGraph.from_networkx(multi, weight="length")
    assert (graph.n_nodes, graph.n_links, graph.n_edges) == (3, 2, 3)
    a, b, c = (list(graph.node_ids).index(n) for n in "abc")
    dist, _ = multi_source_distances(graph, [c], weight="length")
    assert math.isinf(dist[a])
    dist, _ = multi_source_distances(graph, [b], weight="length")
    assert dist[a] == 101.0
    dist, _ = multi_source_distances(graph, [a], weight="length")
    assert dist[c] == 200.0


def test_from_networkx_undirected_is_two_way() -> None:
    plain = nx.Graph()
    plain.add_node(1, x=0.0, y=0.0)
    plain.add_node(2, x=3.0, y=4.0)
    plain.add_edge(1, 2, length=5.0)
    graph = RoadGraph.from_networkx(plain)
    assert graph.n_edges == 2
    assert graph.link_length_m.tolist() == [5.0]


def test_from_networkx_reports_missing_coordinates() -> None:
    graph = nx.DiGraph()
    graph.add_edge(1, 2, length=1.0)
    with pytest.raises(ValueError, match="'x'/'y'"):
        RoadGraph.from_networkx(graph)


def test_walk_profile_needs_the_walking_speed_from_the_caller() -> None:
    lines = _lines([LineString([(0, 0), (1000, 0)])])
    with pytest.raises(ValueError, match="walk_kmh"):
        RoadGraph.from_lines(lines, profile="walk")
    slow = RoadGraph.from_lines(lines, profile="walk", walk_kmh=3.6)
    assert _distance(slow, (0, 0), (1000, 0), "time") == pytest.approx(1000.0, rel=1e-12)
