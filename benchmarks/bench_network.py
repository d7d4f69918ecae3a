"""Road-network reach: multi-source shortest paths and straight-line nearest station.

* ``multi_source_distances`` (one bucket-queue Dijkstra run) against
  ``networkx.multi_source_dijkstra_path_length`` on a synthetic drive graph: a
  perturbed square lattice (seeded) with 20 % of its streets deleted and 75 %
  of the rest one-way, 2,000 stations. Both are timed on an already built
  graph; building the gridmap graph from lines is reported separately, and so
  is ``scipy.sparse.csgraph.dijkstra(min_only=True)`` on the same matrix.
* ``nearest`` (cKDTree) against ``geopandas.sjoin_nearest`` for 1M points and
  2,000 stations in a metric CRS.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely
from scipy.sparse.csgraph import dijkstra

from benchmarks._harness import Result, measure
from gridmap.network import RoadGraph, multi_source_distances, nearest

logger = logging.getLogger(__name__)

CRS = "EPSG:32650"
SPACING_M = 100.0
SEED = 20240601
CLASSES = np.array(["residential", "tertiary", "secondary", "primary"])


def lattice_roads(side: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Streets of a ``side`` x ``side`` lattice with jittered crossings, some deleted."""
    grid = np.arange(side * side).reshape(side, side)
    ij = np.stack(np.meshgrid(np.arange(side), np.arange(side)), axis=-1).reshape(-1, 2)
    xy = (ij + rng.uniform(-0.3, 0.3, ij.shape)) * SPACING_M
    a = np.concatenate([grid[:, :-1].ravel(), grid[:-1, :].ravel()])
    b = np.concatenate([grid[:, 1:].ravel(), grid[1:, :].ravel()])
    keep = rng.random(a.size) >= 0.2
    a, b = a[keep], b[keep]
    lines = shapely.linestrings(
        np.stack([xy[a], xy[b]], axis=1).reshape(-1, 2), indices=np.repeat(np.arange(a.size), 2)
    )
    direction = rng.choice(np.array(["no", "yes", "-1"]), a.size, p=[0.25, 0.375, 0.375])
    return gpd.GeoDataFrame(
        {"highway": rng.choice(CLASSES, a.size), "oneway": direction}, geometry=lines, crs=CRS
    )


def _network_case(side: int, n_stations: int, repeat: int) -> Result:
    rng = np.random.default_rng(SEED)
    roads = lattice_roads(side, rng)
    start = time.perf_counter()
    graph = RoadGraph.from_lines(roads, profile="drive")
    build_s = time.perf_counter() - start
    stations = rng.choice(graph.n_nodes, n_stations, replace=False)
    start = time.perf_counter()
    reference = graph.to_networkx(weight="time")
    nx_build_s = time.perf_counter() - start
    multi_source_distances(graph, stations[:1], weight="time")  # load the compiled kernel
    ours = measure(lambda: multi_source_distances(graph, stations, weight="time"), repeat=10)
    theirs = measure(
        lambda: nx.multi_source_dijkstra_path_length(
            reference, set(stations.tolist()), weight="time"
        ),
        repeat=repeat,
    )
    scipy_s = measure(
        lambda: dijkstra(
            graph.matrix("time"), indices=stations, min_only=True, return_predecessors=True
        ),
        repeat=10,
    ).seconds
    identical, max_diff = _same_distances(ours.value.distance, theirs.value)
    speedup = theirs.seconds / ours.seconds
    logger.info(
        "network: %d nodes, %d edges, speedup %.1fx, identical %s",
        graph.n_nodes,
        graph.n_edges,
        speedup,
        identical,
    )
    return Result(
        benchmark="network",
        case=f"multi-source travel time, {graph.n_nodes:,} nodes / {graph.n_edges:,} edges, "
        f"{n_stations:,} stations",
        gridmap_s=ours.seconds,
        baseline="networkx.multi_source_dijkstra_path_length",
        baseline_s=theirs.seconds,
        target=">= 20x, identical distances",
        met=identical and speedup >= 20,
        gridmap_peak_mb=ours.peak_mb,
        baseline_peak_mb=theirs.peak_mb,
        extra={
            "timed": "distance computation only, on an already built graph for both "
            "(gridmap's compiled kernel loaded before timing)",
            "gridmap_build_from_lines_s": round(build_s, 3),
            "networkx_graph_build_s": round(nx_build_s, 3),
            "scipy_dijkstra_min_only_s": round(scipy_s, 4),
            "links": graph.n_links,
            "reached_nodes": int(np.isfinite(ours.value.distance).sum()),
            "max_abs_diff_s": max_diff,
            "identical": identical,
        },
    )


def _same_distances(ours: np.ndarray, theirs: dict[int, float]) -> tuple[bool, float]:
    reached = np.flatnonzero(np.isfinite(ours))
    if set(reached.tolist()) != set(theirs):
        return False, float("inf")
    expected = np.array([theirs[i] for i in reached.tolist()])
    diff = float(np.abs(ours[reached] - expected).max(initial=0.0))
    return bool(np.allclose(ours[reached], expected, rtol=1e-9, atol=0)), diff


def _nearest_case(n_points: int, n_stations: int, repeat: int) -> Result:
    rng = np.random.default_rng(SEED + 1)
    points_xy = rng.uniform(0, 50_000, (n_points, 2))
    stations_xy = rng.uniform(0, 50_000, (n_stations, 2))
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*points_xy.T), crs=CRS)
    stations = gpd.GeoDataFrame(geometry=gpd.points_from_xy(*stations_xy.T), crs=CRS)

    def ours() -> Any:
        return nearest(
            shapely.get_coordinates(points.geometry.values),
            shapely.get_coordinates(stations.geometry.values),
        )

    def theirs() -> gpd.GeoDataFrame:
        return gpd.sjoin_nearest(points, stations, distance_col="distance")

    mine, base = measure(ours, repeat=repeat), measure(theirs, repeat=repeat)
    identical = _same_nearest(mine.value, base.value, points_xy, stations_xy)
    ratio = mine.seconds / base.seconds
    return Result(
        benchmark="network",
        case=f"nearest station (straight line), {n_points:,} points / {n_stations:,} stations",
        gridmap_s=mine.seconds,
        baseline="geopandas.sjoin_nearest(distance_col=...)",
        baseline_s=base.seconds,
        target="<= 0.3x baseline time, identical nearest",
        met=identical and ratio <= 0.3,
        gridmap_peak_mb=mine.peak_mb,
        baseline_peak_mb=base.peak_mb,
        extra={
            "timed": "gridmap includes extracting coordinates from the GeoDataFrames",
            "time_ratio": round(ratio, 3),
            "identical": identical,
            "workers": 1,
        },
    )


def _same_nearest(
    mine: Any, joined: gpd.GeoDataFrame, points: np.ndarray, stations: np.ndarray
) -> bool:
    joined = joined[~joined.index.duplicated()]
    theirs = joined["index_right"].to_numpy()
    if not np.allclose(mine.distance_m, joined["distance"].to_numpy(), rtol=1e-12, atol=0):
        return False
    differ = np.flatnonzero(mine.station != theirs)
    tie = np.hypot(*(points[differ] - stations[theirs[differ]]).T)
    return bool(np.allclose(tie, mine.distance_m[differ], rtol=1e-12, atol=0))


def run(quick: bool) -> list[Result]:
    """Full: 250k-node graph and 1M points; quick: 20k nodes and 100k points."""
    if quick:
        return [_network_case(141, 200, repeat=1), _nearest_case(100_000, 2_000, repeat=1)]
    return [_network_case(500, 2_000, repeat=2), _nearest_case(1_000_000, 2_000, repeat=3)]
