"""Service reach: which units a party-mass service station reaches, per tier.

Each station reaches as far as its tier's reach (``CoverageSettings.reach_m``,
or one ``meters`` / ``minutes`` for every tier). A unit is *service covered*
when any active station reaches it. Two modes:

* ``radius``: straight-line metres in the metric CRS (KD-trees);
* ``network``: along the road network built from the stored roads, for the
  ``walk`` or ``drive`` profile. Units and stations snap to the nearest point
  on a road; a unit's off-road leg (its snap distance) is added to its
  distance and reported; a unit farther than ``max_snap_m`` from every road is
  flagged ``far_from_road`` and never counted as covered.

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

from gridmap.coverage.inputs import CoverageInputs, representative_points
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
    inputs: CoverageInputs, stations_idle: pd.Series, rules: CoverageSettings
) -> gpd.GeoDataFrame:
    """Stations that count: not idle, unless idle ones are configured to count."""
    if rules.idle_counts:
        return inputs.stations
    return inputs.stations[~stations_idle.reindex(inputs.stations.index, fill_value=False)]


def service_reach(
    inputs: CoverageInputs,
    stations: gpd.GeoDataFrame,
    options: ReachOptions,
    rules: CoverageSettings,
) -> ServiceReach:
    """Measure the reach of ``stations`` over every unit (see the module docstring)."""
    points = representative_points(inputs.units).to_crs(inputs.metric_crs)
    station_pts = stations.geometry.to_crs(inputs.metric_crs)
    limits = _limits(stations, options, rules)
    if options.mode == "network":
        return _network(inputs, stations, points, station_pts, limits, options, rules)
    return _radius(inputs, stations, points, station_pts, limits)


def _empty(units: pd.Index) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "service_covered": False,
            "nearest_station_id": pd.array([pd.NA] * len(units), dtype="Int64"),
            "nearest_station_m": np.inf,
            "covering_station_id": pd.array([pd.NA] * len(units), dtype="Int64"),
            "snap_m": np.nan,
            "far_from_road": False,
        },
        index=units,
    )


def _xy(series: gpd.GeoSeries) -> npt.NDArray[np.float64]:
    return np.column_stack([series.x.to_numpy(), series.y.to_numpy()])


def _radius(
    inputs: CoverageInputs,
    stations: gpd.GeoDataFrame,
    points: gpd.GeoSeries,
    station_pts: gpd.GeoSeries,
    limits: npt.NDArray[np.float64],
) -> ServiceReach:
    frame = _empty(inputs.units.index)
    if len(stations) and len(points):
        unit_xy, station_xy = _xy(points), _xy(station_pts)
        found = nearest(unit_xy, station_xy)
        frame["nearest_station_id"] = stations.index.to_numpy()[found.station]
        frame["nearest_station_m"] = found.distance_m
        slack = _best_slack(unit_xy, station_xy, limits)
        covered = slack[0] >= 0
        frame["service_covered"] = covered
        frame.loc[covered, "covering_station_id"] = stations.index.to_numpy()[slack[1][covered]]
    circles = shapely.buffer(station_pts.values, limits, quad_segs=16)
    areas = _areas_frame(stations, limits, circles, inputs)
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


def _network(
    inputs: CoverageInputs,
    stations: gpd.GeoDataFrame,
    points: gpd.GeoSeries,
    station_pts: gpd.GeoSeries,
    limits: npt.NDArray[np.float64],
    options: ReachOptions,
    rules: CoverageSettings,
) -> ServiceReach:
    graph = road_graph(inputs, options.profile)
    weight: Weight = "time" if options.minutes is not None else "length"
    frame = _empty(inputs.units.index)
    targets = snap_points(
        graph, points.x.to_numpy(), points.y.to_numpy(), max_snap_m=rules.max_snap_m
    )
    frame["snap_m"] = targets.distance_m
    frame["far_from_road"] = targets.too_far
    if not len(stations) or not len(points):
        return ServiceReach(units=frame, service_areas=_areas_frame(stations, limits, [], inputs))
    sources = snap_points(
        graph, station_pts.x.to_numpy(), station_pts.y.to_numpy(), max_snap_m=None
    )
    overall = distances_to_points(graph, sources, targets, weight="length", source_access=True)
    reached = np.isfinite(overall.distance)
    ids = stations.index.to_numpy()
    frame.loc[reached, "nearest_station_id"] = ids[overall.source[reached]]
    frame["nearest_station_m"] = overall.distance
    best = np.full(len(points), -np.inf)
    which = np.full(len(points), -1, dtype=np.int64)
    geoms = np.empty(len(stations), dtype=object)
    walk_speed = rules.walk_kmh
    for limit in np.unique(limits):
        members = np.flatnonzero(limits == limit)
        group = _subset(sources, members)
        nodes = multi_source_distances(
            graph,
            group,
            weight=weight,
            cutoff=limit,
            source_access=True,
            access_speed_kmh=walk_speed,
        )
        result = distances_to_points(
            graph,
            group,
            targets,
            weight=weight,
            cutoff=limit,
            access_speed_kmh=walk_speed,
            source_access=True,
            nodes=nodes,
        )
        slack = limit - result.distance
        better = slack > best
        best[better] = slack[better]
        which[better] = members[result.source[better]]
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
        geoms[members] = polys
    covered = (best >= 0) & ~targets.too_far
    frame["service_covered"] = covered
    frame.loc[covered, "covering_station_id"] = ids[which[covered]]
    logger.info("network reach: %d of %d units covered", int(covered.sum()), len(points))
    return ServiceReach(units=frame, service_areas=_areas_frame(stations, limits, geoms, inputs))
