"""Network reach: along the roads, plus direct off-road walks (see :mod:`.reach`)."""

from __future__ import annotations

import dataclasses
import logging

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from gridmap.coverage._offroad import DirectLinks, direct_links, walk_radius_m
from gridmap.coverage._sites import ServiceReach, Sites, areas_frame, empty_frame, xy
from gridmap.coverage.inputs import CoverageInputs
from gridmap.errors import GridmapError, InvalidValueError
from gridmap.network import (
    RoadGraph,
    distances_to_points,
    multi_source_distances,
    service_areas,
    snap_points,
)
from gridmap.network._speeds import Profile
from gridmap.network.graph import Weight
from gridmap.network.snap import Snapped
from gridmap.settings import CoverageSettings

logger = logging.getLogger(__name__)

__all__ = ["ISOCHRONE_BUFFER_M", "network_reach", "road_graph"]

#: Buffer around reached roads that makes a network service area a polygon.
ISOCHRONE_BUFFER_M = 50.0


def _subset(snapped: Snapped, members: npt.NDArray[np.int64]) -> Snapped:
    """The snapped points at positions ``members``."""
    fields = {f.name: getattr(snapped, f.name)[members] for f in dataclasses.fields(snapped)}
    return dataclasses.replace(snapped, **fields)


def road_graph(inputs: CoverageInputs, profile: Profile, *, walk_kmh: float) -> RoadGraph:
    """The road graph of the stored roads in the run's metric CRS."""
    if inputs.roads.empty:
        msg = "network mode needs roads: import an OSM extract or a line layer with --kind road"
        raise GridmapError(msg)
    lines = inputs.roads.to_crs(inputs.metric_crs)
    return RoadGraph.from_lines(lines, profile=profile, walk_kmh=walk_kmh)


def _checked(graph: RoadGraph, profile: Profile) -> RoadGraph:
    """``graph``, refused when it was built for another profile than the run's."""
    if graph.profile is not None and graph.profile != profile:
        msg = f"the road graph was built for {graph.profile!r}, the run measures {profile!r}"
        raise InvalidValueError(msg, parameter="graph")
    return graph


def _snap_sites(graph: RoadGraph, xy: npt.NDArray[np.float64]) -> Snapped:
    return snap_points(graph, xy[:, 0], xy[:, 1], max_snap_m=None)


@dataclasses.dataclass(frozen=True, eq=False)
class _Stations:
    """Stations snapped to the roads, and their direct walks to the units (in metres)."""

    sources: Snapped
    direct: DirectLinks


def _stations(
    graph: RoadGraph,
    station_xy: npt.NDArray[np.float64],
    unit_xy: npt.NDArray[np.float64],
    rules: CoverageSettings,
) -> _Stations:
    direct = direct_links(
        unit_xy, station_xy, max_m=rules.max_snap_m, weight="length", walk_kmh=rules.walk_kmh
    )
    return _Stations(_snap_sites(graph, station_xy), direct)


def _nearest_along(
    graph: RoadGraph, stations: _Stations, targets: Snapped
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Metres to the nearest station by road or by a direct walk, and its position."""
    by_road = distances_to_points(
        graph, stations.sources, targets, weight="length", source_access=True
    )
    walk, on_foot = stations.direct.nearest()
    use_walk = walk < by_road.distance
    return np.where(use_walk, walk, by_road.distance), np.where(use_walk, on_foot, by_road.source)


def network_reach(
    inputs: CoverageInputs,
    sites: Sites,
    points: gpd.GeoSeries,
    rules: CoverageSettings,
    *,
    profile: Profile,
    weight: Weight,
    graph: RoadGraph | None = None,
) -> ServiceReach:
    """Network reach of the counting stations over every unit, in metres or seconds.

    ``graph`` is the road graph of ``inputs`` for ``profile`` when the caller built it
    already (:func:`road_graph`); by default it is built here.
    """
    graph = (
        road_graph(inputs, profile, walk_kmh=rules.walk_kmh)
        if graph is None
        else _checked(graph, profile)
    )
    frame = empty_frame(inputs.units.index)
    unit_xy = xy(points)
    targets = snap_points(graph, unit_xy[:, 0], unit_xy[:, 1], max_snap_m=rules.max_snap_m)
    frame["snap_m"] = targets.distance_m
    frame["far_from_road"] = targets.too_far
    everyone = None
    if len(points) and len(sites.everyone):
        everyone = _stations(graph, sites.every_xy, unit_xy, rules)
        distance, which = _nearest_along(graph, everyone, targets)
        found = which >= 0
        frame.loc[found, "nearest_station_id"] = sites.everyone.index.to_numpy()[which[found]]
        frame["nearest_station_m"] = distance
    if not len(sites.counting) or not len(points):
        empty = areas_frame(sites.counting, sites.limits, [], inputs)
        return ServiceReach(units=frame, service_areas=empty)
    # every station counts (the usual case): the same stations, snapped and linked once
    same = sites.counting.index.equals(sites.everyone.index) and np.array_equal(
        sites.xy, sites.every_xy
    )
    counting = everyone if same and everyone is not None else None
    if counting is None:
        counting = _stations(graph, sites.xy, unit_xy, rules)
    if same:
        frame["nearest_counting_station_m"] = frame["nearest_station_m"]
    else:
        distance, _ = _nearest_along(graph, counting, targets)
        frame["nearest_counting_station_m"] = distance
    best, which, geoms = _network_reach(graph, sites, counting, unit_xy, targets, weight, rules)
    covered = best >= 0
    frame["service_covered"] = covered
    frame["far_from_road"] = targets.too_far & ~covered
    frame.loc[covered, "covering_station_id"] = sites.counting.index.to_numpy()[which[covered]]
    logger.info("network reach: %d of %d units covered", int(covered.sum()), len(points))
    areas = areas_frame(sites.counting, sites.limits, geoms, inputs)
    return ServiceReach(units=frame, service_areas=areas)


def _network_reach(
    graph: RoadGraph,
    sites: Sites,
    stations: _Stations,
    unit_xy: npt.NDArray[np.float64],
    targets: Snapped,
    weight: Weight,
    rules: CoverageSettings,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Best slack per unit, the station giving it, and every station's service area.

    Stations are routed once per distinct limit; a direct walk (see the module
    docstring) counts where it is cheaper than the road, and its disc joins the
    station's service area. ``stations``: the counting stations snapped, with their
    direct walks in metres (in seconds they are measured again here).
    """
    walk_speed = rules.walk_kmh
    sources = stations.sources
    direct = (
        stations.direct
        if weight == "length"
        else direct_links(
            unit_xy, sites.xy, max_m=rules.max_snap_m, weight=weight, walk_kmh=walk_speed
        )
    )
    best = np.full(len(unit_xy), -np.inf)
    which = np.full(len(unit_xy), -1, dtype=np.int64)
    geoms = np.empty(len(sites.counting), dtype=object)
    for limit in np.unique(sites.limits):
        members = np.flatnonzero(sites.limits == limit)
        group = _subset(sources, members)
        nodes = multi_source_distances(
            graph,
            group,
            weight=weight,
            cutoff=limit,
            source_access=True,
            access_speed_kmh=walk_speed,
        )
        by_road = distances_to_points(
            graph,
            group,
            targets,
            weight=weight,
            cutoff=limit,
            nodes=nodes,
            source_access=True,
            access_speed_kmh=walk_speed,
        )
        walk, on_foot = direct.nearest(members)
        road_station = np.where(by_road.source >= 0, members[by_road.source], -1)
        use_walk = walk < by_road.distance
        slack = limit - np.where(use_walk, walk, by_road.distance)
        better = slack > best
        best[better] = slack[better]
        which[better] = np.where(use_walk, on_foot, road_station)[better]
        polys = service_areas(
            graph,
            nodes.distance,
            nodes.source,
            limit,
            buffer_m=ISOCHRONE_BUFFER_M,
            weight=weight,
            sources=group,
            n_sources=len(members),
            source_access=True,
            access_speed_kmh=walk_speed,
        )
        radius = walk_radius_m(limit, max_m=rules.max_snap_m, weight=weight, walk_kmh=walk_speed)
        discs = shapely.buffer(shapely.points(sites.xy[members]), radius, quad_segs=16)
        geoms[members] = shapely.union(np.asarray(polys, dtype=object), discs)
    return best, which, geoms
