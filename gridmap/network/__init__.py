"""Reach along the road network: graphs, snapping, shortest paths, service areas.

Typical use, with ``roads``, ``stations`` and ``villages`` projected to a
metric CRS (:func:`gridmap.crs.metric_crs_for`)::

    walk_kmh = Settings().coverage.walk_kmh
    graph = RoadGraph.from_lines(roads, profile="walk", walk_kmh=walk_kmh)
    at = snap_points(graph, stations.x, stations.y, max_snap_m=200)
    to = snap_points(graph, villages.x, villages.y, max_snap_m=500)
    reach = distances_to_points(graph, at, to, weight="length")
    uncovered = (reach.distance > 1000) | to.too_far

and :func:`service_area` / :func:`service_areas` to draw what is reached.
Straight-line reach is :func:`nearest`.
"""

from __future__ import annotations

from gridmap.network.graph import RoadGraph, Weight
from gridmap.network.isochrone import ReachedEdges, reached_edges, service_area, service_areas
from gridmap.network.nearest import Nearest, nearest
from gridmap.network.paths import (
    NodeDistances,
    PointDistances,
    distances_to_points,
    multi_source_distances,
    reach_matrix,
)
from gridmap.network.snap import Snapped, snap_points

__all__ = [
    "Nearest",
    "NodeDistances",
    "PointDistances",
    "ReachedEdges",
    "RoadGraph",
    "Snapped",
    "Weight",
    "distances_to_points",
    "multi_source_distances",
    "nearest",
    "reach_matrix",
    "reached_edges",
    "service_area",
    "service_areas",
    "snap_points",
]
