"""Service reach: which units a party-mass service station reaches, per tier.

Each station reaches as far as its tier's reach (``CoverageSettings.reach_m``,
or one ``meters`` / ``minutes`` for every tier). A unit is *service covered*
when any counting station (see :mod:`gridmap.coverage.rules`) reaches it.
``nearest_station_id`` / ``_m`` is the nearest station whatever its activity;
``nearest_counting_station_m`` the nearest one that counts. Two modes:

* ``radius``: straight-line metres in the metric CRS (KD-trees);
* ``network``: along the road network built from the stored roads, for the
  ``walk`` or ``drive`` profile. Units and stations snap to the nearest point
  on a road; the off-road legs (snap distances) are added at both ends.
  A unit and a station at most ``max_snap_m`` apart in a straight line are
  also connected directly, on foot at ``walk_kmh``
  (:mod:`gridmap.coverage._offroad`); the cheaper of the two counts, and each
  station's service area includes that walking disc, so blind zones agree. A
  unit farther than ``max_snap_m`` from every road is not routed; it is
  flagged ``far_from_road`` when no station reaches it directly either.

With ``minutes``, radius mode converts minutes to metres at the walking speed
(``walk_kmh``); network mode measures travel time along the roads.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.coverage._offroad import direct_links, walk_radius_m
from gridmap.coverage.inputs import CoverageInputs, representative_points
from gridmap.coverage.rules import counts
from gridmap.errors import GridmapError
from gridmap.network import (
    RoadGraph,
    distances_to_points,
    multi_source_distances,
    nearest,
    service_areas,
    snap_points,
)
from gridmap.network.graph import Weight
from gridmap.network.snap import Snapped
from gridmap.settings import CoverageSettings

logger = logging.getLogger(__name__)

__all__ = ["ReachOptions", "ServiceReach", "service_reach"]

Mode = Literal["radius", "network"]
Profile = Literal["walk", "drive"]

#: Buffer around reached roads that makes a network service area a polygon.
ISOCHRONE_BUFFER_M = 50.0


@dataclass(frozen=True)
class ReachOptions:
    """How reach is measured in one run."""

    mode: Mode = "radius"
    profile: Profile = "walk"
    meters: float | None = None
    minutes: float | None = None

    def __post_init__(self) -> None:
        if self.meters is not None and self.minutes is not None:
            msg = "give meters or minutes (--meters / --minutes), not both"
            raise GridmapError(msg)
        if self.mode == "radius" and self.profile == "drive" and self.minutes is not None:
            msg = "radius mode has no driving time: use --mode network with --profile drive"
            raise GridmapError(msg)


@dataclass(frozen=True)
class ServiceReach:
    """Per-unit service coverage and per-station service areas (both in WGS-84)."""

    units: pd.DataFrame  # service_covered, nearest_station_id, nearest_station_m, snap_m, ...
    service_areas: gpd.GeoDataFrame  # station_id, tier, name, limit, geometry


def uniform_limit(options: ReachOptions, rules: CoverageSettings) -> float | None:
    """The one reach ``meters`` / ``minutes`` give every site, or None (per-tier reach).

    Metres, or seconds in network mode with minutes; in radius mode minutes become
    metres at the walking speed.
    """
    if options.minutes is not None:
        if options.mode == "network":
            return options.minutes * 60.0
        return options.minutes * rules.walk_kmh * 1000.0 / 60.0
    return None if options.meters is None else float(options.meters)


def _limits(
    stations: pd.DataFrame, options: ReachOptions, rules: CoverageSettings
) -> npt.NDArray[np.float64]:
    """Reach limit of every station: metres, or seconds in network mode with minutes."""
    uniform = uniform_limit(options, rules)
    if uniform is not None:
        return np.full(len(stations), uniform)
    missing = set(stations["tier"]) - {t.value for t in rules.reach_m}
    if missing:
        msg = (
            f"no reach configured for station tier(s) {sorted(missing)}: "
            "set GRIDMAP_COVERAGE__REACH_M"
        )
        raise GridmapError(msg)
    reach = {t.value: v for t, v in rules.reach_m.items()}
    limits: npt.NDArray[np.float64] = stations["tier"].map(reach).to_numpy().astype(np.float64)
    return limits


def active_stations(
    inputs: CoverageInputs, stations_activity: pd.Series, rules: CoverageSettings
) -> gpd.GeoDataFrame:
    """Stations that count: active ones, unknown ones and idle ones as the rules say."""
    state = stations_activity.reindex(inputs.stations.index, fill_value="active")
    return inputs.stations[counts(state, rules).to_numpy()]


def service_reach(
    inputs: CoverageInputs,
    stations: gpd.GeoDataFrame,
    options: ReachOptions,
    rules: CoverageSettings,
    *,
    every_station: gpd.GeoDataFrame | None = None,
) -> ServiceReach:
    """Measure the reach of ``stations`` over every unit (see the module docstring).

    ``every_station`` (default ``stations``) are the stations ``nearest_station_*``
    is measured to, whatever their activity.
    """
    everyone = stations if every_station is None else every_station
    sites = _sites(stations, everyone, inputs, _limits(stations, options, rules))
    points = representative_points(inputs.units).to_crs(inputs.metric_crs)
    if options.mode == "network":
        return _network(inputs, sites, points, options, rules)
    return _radius(inputs, sites, points)


@dataclass(frozen=True)
class _Sites:
    """The counting stations with their reach limits, and every station, in metres."""

    counting: gpd.GeoDataFrame
    everyone: gpd.GeoDataFrame
    xy: npt.NDArray[np.float64]
    every_xy: npt.NDArray[np.float64]
    limits: npt.NDArray[np.float64]


def _sites(
    counting: gpd.GeoDataFrame,
    everyone: gpd.GeoDataFrame,
    inputs: CoverageInputs,
    limits: npt.NDArray[np.float64],
) -> _Sites:
    crs = inputs.metric_crs
    return _Sites(
        counting=counting,
        everyone=everyone,
        xy=_xy(counting.geometry.to_crs(crs)),
        every_xy=_xy(everyone.geometry.to_crs(crs)),
        limits=limits,
    )


def _empty(units: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "service_covered": False,
            "nearest_station_id": pd.array([pd.NA] * len(units), dtype="Int64"),
            "nearest_station_m": np.inf,
            "nearest_counting_station_m": np.inf,
            "covering_station_id": pd.array([pd.NA] * len(units), dtype="Int64"),
            "snap_m": np.nan,
            "far_from_road": False,
        },
        index=units,
    )


def _xy(series: gpd.GeoSeries) -> npt.NDArray[np.float64]:
    return np.column_stack([series.x.to_numpy(), series.y.to_numpy()]).reshape(-1, 2)


def _radius(inputs: CoverageInputs, sites: _Sites, points: gpd.GeoSeries) -> ServiceReach:
    frame = _empty(inputs.units.index)
    unit_xy = _xy(points)
    if len(points) and len(sites.everyone):
        found = nearest(unit_xy, sites.every_xy)
        frame["nearest_station_id"] = sites.everyone.index.to_numpy()[found.station]
        frame["nearest_station_m"] = found.distance_m
    if len(points) and len(sites.counting):
        frame["nearest_counting_station_m"] = nearest(unit_xy, sites.xy).distance_m
        slack, which = _best_slack(unit_xy, sites.xy, sites.limits)
        covered = slack >= 0
        frame["service_covered"] = covered
        frame.loc[covered, "covering_station_id"] = sites.counting.index.to_numpy()[which[covered]]
    circles = shapely.buffer(shapely.points(sites.xy), sites.limits, quad_segs=16)
    areas = _areas_frame(sites.counting, sites.limits, circles, inputs)
    return ServiceReach(units=frame, service_areas=areas)


def _best_slack(
    unit_xy: npt.NDArray[np.float64],
    station_xy: npt.NDArray[np.float64],
    limits: npt.NDArray[np.float64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """For each unit, max over stations of (limit - distance), and which station gives it.

    Stations are grouped by limit (one KD-tree query per distinct reach), so the
    work stays near-linear however many stations there are.
    """
    best = np.full(len(unit_xy), -np.inf)
    which = np.full(len(unit_xy), -1, dtype=np.int64)
    for limit in np.unique(limits):
        members = np.flatnonzero(limits == limit)
        found = nearest(unit_xy, station_xy[members])
        slack = limit - found.distance_m
        better = slack > best
        best[better] = slack[better]
        which[better] = members[found.station[better]]
    return best, which


def _areas_frame(
    stations: gpd.GeoDataFrame,
    limits: npt.NDArray[np.float64],
    geoms: npt.ArrayLike,
    inputs: CoverageInputs,
) -> gpd.GeoDataFrame:
    frame = gpd.GeoDataFrame(
        {
            "station_id": stations.index.to_numpy(),
            "name": stations["name"].to_numpy(),
            "tier": stations["tier"].to_numpy(),
            "limit": limits,
        },
        geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=inputs.metric_crs).values,
        crs=inputs.metric_crs,
    )
    return frame.to_crs("EPSG:4326")


def _subset(snapped: Snapped, members: npt.NDArray[np.int64]) -> Snapped:
    """The snapped points at positions ``members``."""
    fields = {f.name: getattr(snapped, f.name)[members] for f in dataclasses.fields(snapped)}
    return dataclasses.replace(snapped, **fields)


def road_graph(inputs: CoverageInputs, profile: Profile) -> RoadGraph:
    """The road graph of the stored roads in the run's metric CRS."""
    if inputs.roads.empty:
        msg = "network mode needs roads: import an OSM extract or a line layer with --kind road"
        raise GridmapError(msg)
    lines = inputs.roads.to_crs(inputs.metric_crs)
    return RoadGraph.from_lines(lines, profile=profile)


def _snap_sites(graph: RoadGraph, xy: npt.NDArray[np.float64]) -> Snapped:
    return snap_points(graph, xy[:, 0], xy[:, 1], max_snap_m=None)


def _nearest_along(
    graph: RoadGraph,
    station_xy: npt.NDArray[np.float64],
    unit_xy: npt.NDArray[np.float64],
    targets: Snapped,
    rules: CoverageSettings,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Metres to the nearest station by road or by a direct walk, and its position."""
    sources = _snap_sites(graph, station_xy)
    by_road = distances_to_points(graph, sources, targets, weight="length", source_access=True)
    direct = direct_links(
        unit_xy, station_xy, max_m=rules.max_snap_m, weight="length", walk_kmh=rules.walk_kmh
    )
    walk, on_foot = direct.nearest()
    use_walk = walk < by_road.distance
    return np.where(use_walk, walk, by_road.distance), np.where(use_walk, on_foot, by_road.source)


def _network(
    inputs: CoverageInputs,
    sites: _Sites,
    points: gpd.GeoSeries,
    options: ReachOptions,
    rules: CoverageSettings,
) -> ServiceReach:
    graph = road_graph(inputs, options.profile)
    frame = _empty(inputs.units.index)
    unit_xy = _xy(points)
    targets = snap_points(graph, unit_xy[:, 0], unit_xy[:, 1], max_snap_m=rules.max_snap_m)
    frame["snap_m"] = targets.distance_m
    frame["far_from_road"] = targets.too_far
    if len(points) and len(sites.everyone):
        distance, which = _nearest_along(graph, sites.every_xy, unit_xy, targets, rules)
        found = which >= 0
        frame.loc[found, "nearest_station_id"] = sites.everyone.index.to_numpy()[which[found]]
        frame["nearest_station_m"] = distance
    if not len(sites.counting) or not len(points):
        empty = _areas_frame(sites.counting, sites.limits, [], inputs)
        return ServiceReach(units=frame, service_areas=empty)
    if sites.counting.index.equals(sites.everyone.index):
        frame["nearest_counting_station_m"] = frame["nearest_station_m"]
    else:
        distance, _ = _nearest_along(graph, sites.xy, unit_xy, targets, rules)
        frame["nearest_counting_station_m"] = distance
    best, which, geoms = _network_reach(graph, sites, unit_xy, targets, options, rules)
    covered = best >= 0
    frame["service_covered"] = covered
    frame["far_from_road"] = targets.too_far & ~covered
    frame.loc[covered, "covering_station_id"] = sites.counting.index.to_numpy()[which[covered]]
    logger.info("network reach: %d of %d units covered", int(covered.sum()), len(points))
    areas = _areas_frame(sites.counting, sites.limits, geoms, inputs)
    return ServiceReach(units=frame, service_areas=areas)


def _network_reach(
    graph: RoadGraph,
    sites: _Sites,
    unit_xy: npt.NDArray[np.float64],
    targets: Snapped,
    options: ReachOptions,
    rules: CoverageSettings,
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], npt.NDArray[np.object_]]:
    """Best slack per unit, the station giving it, and every station's service area.

    Stations are routed once per distinct limit; a direct walk (see the module
    docstring) counts where it is cheaper than the road, and its disc joins the
    station's service area.
    """
    weight: Weight = "time" if options.minutes is not None else "length"
    walk_speed = rules.walk_kmh
    sources = _snap_sites(graph, sites.xy)
    direct = direct_links(
        unit_xy, sites.xy, max_m=rules.max_snap_m, weight=weight, walk_kmh=walk_speed
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
