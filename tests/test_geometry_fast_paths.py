"""The fast geometry paths of a coverage run against their plain references.

Each optimised step (zone of a point, snapping to the nearest road, ...) is compared with
the plain computation it replaced, on real roads (Shenzhen Futian, OSM) and on the tie and
edge cases where a faster path could pick another answer.
"""

from __future__ import annotations

import dataclasses
import math

import geopandas as gpd
import numpy as np
import pytest
import shapely

from gridmap._threads import threads
from gridmap.coverage._blind_area import blind_parts
from gridmap.coverage.zones import _discs, _footprints, _zone_of
from gridmap.network import RoadGraph, multi_source_distances, snap_points
from gridmap.network import snap as snap
from gridmap.network._chains import chains
from gridmap.network.isochrone import reached_edges, service_areas
from gridmap.network.snap import Snapped

METRIC = "EPSG:32650"


def _zone_of_reference(points: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """The lowest zone holding each point, else the lowest of the nearest zones: pair by pair."""
    which = np.full(len(points), -1)
    for i, point in enumerate(points):
        holding = np.flatnonzero(shapely.intersects(zones, point))
        if holding.size:
            which[i] = holding[0]
            continue
        distance = shapely.distance(zones, point)
        which[i] = np.flatnonzero(distance == distance.min())[0]
    return which


def test_zone_of_equals_the_pairwise_reference_on_real_roads(shenzhen: RoadGraph) -> None:
    # zones: discs round the road nodes, cut by corridors along some roads (as service
    # areas cut blind zones), so that many nodes end up outside every zone
    rng = np.random.default_rng(11)
    nodes = shapely.points(shenzhen.node_xy)
    discs = shapely.buffer(nodes, 60.0, quad_segs=16)
    roads = shenzhen.link_geometry[rng.choice(shenzhen.n_links, 300, replace=False)]
    cut = shapely.difference(shapely.union_all(discs), shapely.union_all(shapely.buffer(roads, 20)))
    zones = shapely.get_parts(cut)
    zones = zones[rng.permutation(len(zones))]  # an order that is not the tree's
    points = np.concatenate([nodes, shapely.points(shapely.get_coordinates(zones)[::7])])
    got = _zone_of(points, zones)
    expected = _zone_of_reference(points, zones)
    inside = shapely.intersects(zones[expected], points)
    assert inside.any() and not inside.all()  # both paths (inside, nearest) are exercised
    np.testing.assert_array_equal(got, expected)


def test_zone_of_ties_go_to_the_first_zone() -> None:
    # two squares sharing an edge, a third overlapping the second
    zones = np.array(
        [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(0.5, 0, 1.5, 1)]
    )
    points = shapely.points(
        [
            (1.0, 0.5),  # on the shared edge of 0 and 1, inside 2: zone 0
            (0.2, 0.5),  # inside 1 only
            (0.7, 0.5),  # inside 1 and 2: zone 1
            (1.0, 3.0),  # outside, as near to 0 as to 1 and 2: zone 0
            (-1.0, 0.5),  # outside, nearest 1
            (1.0, 1.0),  # a shared corner of all three
        ]
    )
    np.testing.assert_array_equal(_zone_of(points, zones), [0, 1, 1, 0, 1, 0])


def _probes(graph: RoadGraph, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Random points over the graph, plus points on its vertices, on its segments and on
    the perpendicular bisector of two links' ends (ties between segments)."""
    rng = np.random.default_rng(21)
    lo, hi = graph.node_xy.min(axis=0) - 200, graph.node_xy.max(axis=0) + 200
    coords = shapely.get_coordinates(graph.link_geometry)
    on_vertex = coords[rng.choice(len(coords), n // 10)]
    on_line = shapely.get_coordinates(
        shapely.line_interpolate_point(
            graph.link_geometry[rng.choice(graph.n_links, n // 10)],
            rng.uniform(0, 1, n // 10),
            normalized=True,
        )
    )
    near_vertex = on_vertex + rng.normal(0, 5, on_vertex.shape)
    xy = np.concatenate([rng.uniform(lo, hi, (n, 2)), on_vertex, on_line, near_vertex])
    return xy[:, 0], xy[:, 1]


def _snapped_fields(snapped: Snapped) -> dict[str, np.ndarray]:
    return {f.name: getattr(snapped, f.name) for f in dataclasses.fields(snapped)}


def test_snap_candidates_equal_the_strtree_on_real_roads(
    shenzhen: RoadGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    x, y = _probes(shenzhen, 40_000)
    assert x.size >= snap.MIN_POINTS
    fast = snap_points(shenzhen, x, y, max_snap_m=50.0)
    monkeypatch.setattr(snap, "MIN_POINTS", 10**12)  # every point through the STRtree
    plain = snap_points(shenzhen, x, y, max_snap_m=50.0)
    for name, expected in _snapped_fields(plain).items():
        np.testing.assert_array_equal(_snapped_fields(fast)[name], expected, err_msg=name)
    _, segment = shenzhen.segment_index.tree.query_nearest(shapely.points(x, y), all_matches=False)
    np.testing.assert_array_equal(fast.link, shenzhen.segment_index.link[segment])


def test_snap_candidates_leave_ties_and_far_points_to_the_strtree(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a street grid: each crossing vertex is shared by four segments (ties), and points
    # far off the grid see no piece that proves their nearest segment
    lines = [shapely.LineString([(0, y), (2000, y)]) for y in range(0, 2001, 100)]
    lines += [shapely.LineString([(x, 0), (x, 2000)]) for x in range(0, 2001, 100)]
    graph = RoadGraph.from_lines(
        gpd.GeoDataFrame(geometry=lines, crs=METRIC), profile="walk", walk_kmh=4.5
    )
    rng = np.random.default_rng(5)
    grid = rng.integers(0, 21, (20_000, 2)) * 100.0
    xy = np.concatenate([grid, rng.uniform(-3000, 5000, (20_000, 2))])
    monkeypatch.setattr(snap, "MAX_RINGS", 3)  # far points leave the grid unproven
    fast = snap_points(graph, xy[:, 0], xy[:, 1], max_snap_m=None)
    monkeypatch.setattr(snap, "MIN_POINTS", 10**12)
    plain = snap_points(graph, xy[:, 0], xy[:, 1], max_snap_m=None)
    for name, expected in _snapped_fields(plain).items():
        np.testing.assert_array_equal(_snapped_fields(fast)[name], expected, err_msg=name)


def _chains_reference(lines: np.ndarray) -> np.ndarray:  # noqa: C901 - the old code, as it was
    """The pairing and joining of :func:`chains` as it was written first, end by end in
    dictionaries (the reference the vectorised version must equal)."""
    if len(lines) < 2:
        return lines
    xy, index = shapely.get_coordinates(lines, return_index=True)
    coords = np.split(xy, np.flatnonzero(np.diff(index)) + 1)
    at: dict[tuple[float, float], list[tuple[int, int, float]]] = {}
    for i, c in enumerate(coords):
        for side, (here, toward) in ((0, (c[0], c[1])), (1, (c[-1], c[-2]))):
            heading = math.atan2(toward[1] - here[1], toward[0] - here[0])
            at.setdefault((float(here[0]), float(here[1])), []).append((i, side, heading))
    joined: dict[tuple[int, int], tuple[int, int]] = {}
    for meeting in at.values():
        while len(meeting) >= 2:
            best, pair = math.inf, (0, 1)
            for a in range(len(meeting)):
                for b in range(a + 1, len(meeting)):
                    bend = abs(abs(meeting[a][2] - meeting[b][2]) % (2 * math.pi) - math.pi)
                    if bend < best:
                        best, pair = bend, (a, b)
            first, second = meeting[pair[0]], meeting[pair[1]]
            joined[first[:2]] = second[:2]
            joined[second[:2]] = first[:2]
            meeting = [m for k, m in enumerate(meeting) if k not in pair]
    seen = np.zeros(len(coords), dtype=bool)
    out = []
    for start in range(len(coords)):
        if seen[start]:
            continue
        piece, entry = start, 0
        for _ in range(len(joined) + 1):
            before = joined.get((piece, entry))
            if before is None or before[0] == start:
                break
            piece, entry = before[0], 1 - before[1]
        points: list[np.ndarray] = []
        while True:
            seen[piece] = True
            c = coords[piece] if entry == 0 else coords[piece][::-1]
            points.append(c if not points else c[1:])
            after = joined.get((piece, 1 - entry))
            if after is None or seen[after[0]]:
                break
            piece, entry = after
        out.append(shapely.LineString(np.concatenate(points)))
    return np.asarray(out, dtype=object)


def _assert_same_lines(got: np.ndarray, expected: np.ndarray) -> None:
    assert len(got) == len(expected)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(shapely.get_coordinates(g), shapely.get_coordinates(e))


def test_chains_equal_the_reference_on_real_service_areas(shenzhen: RoadGraph) -> None:
    sources = np.random.default_rng(17).choice(shenzhen.n_nodes, 12, replace=False)
    dist, nearest = multi_source_distances(shenzhen, sources, weight="length")
    pieces = reached_edges(shenzhen, dist, 900.0, nearest_source=nearest).merged()
    lines = pieces.lines(shenzhen)
    lines = lines[shapely.length(lines) > 0]
    assert len(lines) > 500
    _assert_same_lines(chains(lines), _chains_reference(lines))
    for i in range(len(sources)):  # per source, as service_areas joins them
        mine = lines[pieces.source[shapely.length(pieces.lines(shenzhen)) > 0] == i]
        _assert_same_lines(chains(mine), _chains_reference(mine))


def test_chains_equal_the_reference_at_crossings_loops_and_ties() -> None:
    # a street grid cut into pieces (4, 3 and 2 ends meeting, equally straight pairs at
    # each crossing), pieces reversed at random, a closed loop, -0.0 beside 0.0, a piece
    # returning to where it began, and bent pieces of several vertices
    rng = np.random.default_rng(3)
    pieces = []
    for k in range(6):
        for j in range(5):
            pieces.append([(100.0 * j, 100.0 * k), (100.0 * (j + 1), 100.0 * k)])
            pieces.append([(100.0 * k, 100.0 * j), (100.0 * k, 100.0 * (j + 1))])
    pieces = [p[::-1] if rng.random() < 0.5 else p for p in pieces]
    pieces += [[(1000.0, 0.0), (1100.0, 0.0), (1100.0, 100.0)], [(1100.0, 100.0), (1000.0, 0.0)]]
    pieces += [[(-0.0, 0.0), (-50.0, -50.0)], [(0.0, -0.0), (20.0, -70.0), (0.0, -100.0)]]
    pieces += [[(300.0, 300.0), (350.0, 340.0), (300.0, 300.0)]]
    order = rng.permutation(len(pieces))
    lines = np.asarray([shapely.LineString(pieces[i]) for i in order], dtype=object)
    _assert_same_lines(chains(lines), _chains_reference(lines))
    for _ in range(20):  # random subsets: dead ends and odd meetings
        subset = lines[rng.random(len(lines)) < 0.6]
        _assert_same_lines(chains(subset), _chains_reference(subset))


def test_service_areas_and_blind_parts_on_threads_equal_one_thread(
    shenzhen: RoadGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    sources = np.random.default_rng(23).choice(shenzhen.n_nodes, 16, replace=False)
    dist, nearest = multi_source_distances(shenzhen, sources, weight="length")
    discs = shapely.buffer(shapely.points(shenzhen.node_xy), 100.0, quad_segs=16)

    def compute() -> tuple[list, np.ndarray]:
        areas = service_areas(shenzhen, dist, nearest, 700.0, buffer_m=50, n_sources=16)
        return areas, blind_parts(discs, None, np.asarray(areas, dtype=object))

    monkeypatch.setenv("GRIDMAP_THREADS", "4")
    assert threads() == 4
    areas, parts = compute()
    monkeypatch.setenv("GRIDMAP_THREADS", "1")
    alone_areas, alone_parts = compute()
    assert len(parts) == len(alone_parts) > 10
    assert all(shapely.equals_exact(areas, alone_areas, 0))
    assert all(shapely.equals_exact(parts, alone_parts, 0))


def test_footprints_on_threads_equal_plain_buffers(
    shenzhen: RoadGraph, monkeypatch: pytest.MonkeyPatch
) -> None:
    # units at the road nodes and along the roads, a few of them polygons (kept as they are)
    on_roads = shapely.line_interpolate_point(shenzhen.link_geometry, 0.3, normalized=True)
    geoms = np.concatenate([shapely.points(shenzhen.node_xy), on_roads] * 8)
    geoms[::500] = shapely.buffer(geoms[::500], 30.0)
    geoms[7::900] = shapely.Point()  # empty points: buffered by GEOS (an empty disc)
    geoms[9::900] = shapely.LineString([(0, 0), (10, 5)])  # not a point: buffered by GEOS
    units = gpd.GeoDataFrame(geometry=geoms, crs=METRIC)
    monkeypatch.setenv("GRIDMAP_THREADS", "3")
    got = _footprints(units, 100.0)
    polygonal = shapely.get_type_id(geoms) >= 3
    expected = np.where(polygonal, geoms, shapely.buffer(geoms, 100.0, quad_segs=16))
    assert len(geoms) > 30_000 and polygonal.any()
    drawn, _ = _discs(geoms, ~polygonal, 100.0)  # most discs drawn in numpy, not by GEOS
    assert drawn.sum() > 0.9 * len(geoms)
    # the discs drawn in numpy are GEOS's, byte for byte
    assert list(shapely.to_wkb(got)) == list(shapely.to_wkb(expected))
