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

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.coverage._network_reach import network_reach, road_graph
from gridmap.coverage._options import ReachOptions
from gridmap.coverage._sites import ServiceReach, Sites, areas_frame, empty_frame, make_sites, xy
from gridmap.coverage.inputs import CoverageInputs, representative_points
from gridmap.coverage.rules import counts
from gridmap.errors import GridmapError
from gridmap.network import RoadGraph, nearest
from gridmap.network.graph import Weight
from gridmap.settings import CoverageSettings

__all__ = [
    "ReachOptions",
    "ServiceReach",
    "active_stations",
    "road_graph",
    "service_covered",
    "service_reach",
    "unit_points",
]


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
    graph: RoadGraph | None = None,
    points: gpd.GeoSeries | None = None,
) -> ServiceReach:
    """Measure the reach of ``stations`` over every unit (see the module docstring).

    ``every_station`` (default ``stations``) are the stations ``nearest_station_*``
    is measured to, whatever their activity. ``graph``: in network mode, the road graph
    of ``inputs`` for ``options.profile`` if the caller built it already
    (:func:`road_graph`); by default it is built here. ``points``: the units'
    representative points in the metric CRS (:func:`unit_points`) when the caller
    has them already; by default they are computed here.
    """
    everyone = stations if every_station is None else every_station
    sites = make_sites(stations, everyone, inputs, _limits(stations, options, rules))
    if points is None:
        points = unit_points(inputs)
    if options.mode == "network":
        weight: Weight = "time" if options.minutes is not None else "length"
        return network_reach(
            inputs, sites, points, rules, profile=options.profile, weight=weight, graph=graph
        )
    return _radius(inputs, sites, points)


def unit_points(inputs: CoverageInputs, points: gpd.GeoSeries | None = None) -> gpd.GeoSeries:
    """The units' representative points in the run's metric CRS, where reach is measured.

    ``points``: the WGS-84 representative points when the caller has them already.
    """
    wgs84 = representative_points(inputs.units) if points is None else points
    return wgs84.to_crs(inputs.metric_crs)


def service_covered(
    inputs: CoverageInputs,
    stations: gpd.GeoDataFrame,
    options: ReachOptions,
    rules: CoverageSettings,
    *,
    graph: RoadGraph | None = None,
    points: gpd.GeoSeries | None = None,
) -> npt.NDArray[np.bool_]:
    """Only :func:`service_reach`'s ``service_covered``: whether ``stations`` reach each unit.

    In radius mode this is the best slack alone (no nearest station, no service
    areas); in network mode the full reach of ``stations`` is measured.
    """
    if options.mode == "network":
        reach = service_reach(inputs, stations, options, rules, graph=graph, points=points)
        covered: npt.NDArray[np.bool_] = reach.units["service_covered"].to_numpy(bool)
        return covered
    none = np.zeros(len(inputs.units), dtype=bool)
    if not len(inputs.units) or not len(stations):
        return none
    sites = make_sites(stations, stations, inputs, _limits(stations, options, rules))
    unit_xy = xy(unit_points(inputs) if points is None else points)
    slack, _ = _best_slack(unit_xy, sites.xy, sites.limits)
    reached: npt.NDArray[np.bool_] = slack >= 0
    return reached


def _radius(inputs: CoverageInputs, sites: Sites, points: gpd.GeoSeries) -> ServiceReach:
    frame = empty_frame(inputs.units.index)
    unit_xy = xy(points)
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
    areas = areas_frame(sites.counting, sites.limits, circles, inputs)
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
