"""A coverage run: rules, reach, cells, blind zones and roll-up in one result.

:func:`compute_coverage` is pure (inputs in, result out);
:func:`run_coverage` reads the store, optionally applies a what-if change to
the stations, computes, and saves the run for later comparison.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import asdict, replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.coverage.inputs import CoverageInputs, read_inputs, representative_points
from gridmap.coverage.reach import (
    ReachOptions,
    ServiceReach,
    active_stations,
    service_reach,
    unit_points,
)
from gridmap.coverage.result import CoverageResult
from gridmap.coverage.rules import ACTIVE, IDLE, UNKNOWN, org_coverage
from gridmap.coverage.summary import cell_summary, rates, rollup
from gridmap.coverage.zones import blind_zones, zones_frame_to_wgs84
from gridmap.network import RoadGraph
from gridmap.progress import stage
from gridmap.settings import CoverageSettings
from gridmap.store import Store

logger = logging.getLogger(__name__)

#: Measures service reach of the counting stations (second argument) over ``inputs``:
#: the distributed engine (:mod:`gridmap.scale`) passes one that runs partitioned.
Measure = Callable[[CoverageInputs, gpd.GeoDataFrame], ServiceReach]

__all__ = [
    "CoverageResult",
    "compute_coverage",
    "reproduce_run",
    "run_coverage",
    "run_warnings",
]


def _unit_frame(
    inputs: CoverageInputs, org: pd.DataFrame, reach: pd.DataFrame, points: gpd.GeoSeries
) -> gpd.GeoDataFrame:
    """Every unit with its rules and reach results; ``points``: its representative points."""
    units = inputs.units
    cell_codes = inputs.cells["code"].to_dict()
    frame = gpd.GeoDataFrame(
        {
            "unit_id": units.index.to_numpy(),
            "source": units["source"],
            "source_id": units["source_id"],
            "kind": units["kind"],
            "name": units["name"],
            "cell_id": units["cell_id"].astype("Int64"),
            "cell_code": units["cell_id"].map(cell_codes),
            "lon": points.x.round(7),
            "lat": points.y.round(7),
            "households": units["households"].astype("Int64"),
            "population": units["population"].astype("Int64"),
            "party_members": units["party_members"].astype("Int64"),
        },
        geometry=units.geometry,
        crs=units.crs,
    )
    return gpd.GeoDataFrame(frame.join(org).join(reach), crs=units.crs)


def _org_units(inputs: CoverageInputs, which: pd.Series) -> list[int]:
    """The unit each chosen organisation belongs to (its own, or the first it names)."""
    chosen = inputs.orgs[which.reindex(inputs.orgs.index, fill_value=False)]
    first_cover = inputs.org_units.drop_duplicates("org_id").set_index("org_id")["unit_id"]
    owners = chosen["own_unit_id"].fillna(pd.Series(first_cover)).dropna()
    return [int(u) for u in owners]


def compute_coverage(
    inputs: CoverageInputs,
    rules: CoverageSettings,
    options: ReachOptions,
    *,
    graph: RoadGraph | None = None,
    measure: Measure | None = None,
) -> CoverageResult:
    """Apply the rules and measure reach on ``inputs``; touches no store.

    ``graph``: in network mode, the road graph of ``inputs`` for ``options.profile``
    when the caller built it already (:func:`gridmap.coverage.reach.road_graph`), so
    it is not built twice; by default it is built here. ``measure``: how service
    reach is measured (default :func:`gridmap.coverage.reach.service_reach` here).
    """
    stage("rules", 0.1)
    org = org_coverage(inputs, rules)
    stations = active_stations(inputs, org.stations_activity, rules)
    stage("reach", 0.2)
    # once per run: reach measures from them, the unit rows write their lon/lat
    points = representative_points(inputs.units)
    if measure is not None:
        reach = measure(inputs, stations)
    else:
        reach = service_reach(
            inputs,
            stations,
            options,
            rules,
            every_station=inputs.stations,
            graph=graph,
            points=unit_points(inputs, points),
        )
    stage("cells", 0.6)
    units = _unit_frame(inputs, org.units, reach.units, points)
    cells = gpd.GeoDataFrame(
        cell_summary(inputs.cells, units), geometry=inputs.cells.geometry, crs=inputs.cells.crs
    )
    areas = rollup(units, inputs.cells, inputs.areas, _org_units(inputs, org.orgs_idle))
    metric = inputs.metric_crs
    stage("zones", 0.7)
    zones = blind_zones(
        _zone_units(units).to_crs(metric),
        reach.service_areas.geometry.to_crs(metric),
        inputs.cells.to_crs(metric) if len(inputs.cells) else None,
    )
    orgs = _with_activity(inputs.orgs, org.orgs_activity)
    station_frame = _with_activity(inputs.stations, org.stations_activity)
    summary: dict[str, Any] = dict(rates(units, int(orgs["idle"].sum())))
    summary |= {
        "unknown_orgs": int((orgs["activity"] == UNKNOWN).sum()),
        "stations": len(station_frame),
        "counting_stations": len(stations),
        "idle_stations": int(station_frame["idle"].sum()),
        "unknown_stations": int((station_frame["activity"] == UNKNOWN).sum()),
        "cells": {s: int(n) for s, n in cells["status"].value_counts().items()},
        "blind_zones": len(zones),
        "far_from_road": int(units["far_from_road"].sum()),
        "as_of": inputs.as_of.isoformat(),
        "options": asdict(options),
        "rules": rules.model_dump(mode="json"),
    }
    return CoverageResult(
        as_of=inputs.as_of,
        options=options,
        units=units,
        cells=cells,
        areas=areas,
        blind_zones=zones_frame_to_wgs84(zones),
        service_areas=reach.service_areas,
        orgs=orgs,
        stations=station_frame,
        totals=summary,
        inputs=inputs,
    )


#: What :func:`blind_zones` reads of each unit.
_ZONE_COLUMNS = [
    "service_covered",
    "households",
    "population",
    "party_members",
    "must_have_branch",
    "cell_code",
]


def _zone_units(units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The uncovered units with what blind zones read: only they are projected (a
    copy of every unit with every column cost 1 GB at 1M units)."""
    uncovered = ~units["service_covered"].astype(bool).to_numpy()
    return units.loc[uncovered, [*_ZONE_COLUMNS, units.geometry.name]]


def _with_activity(frame: gpd.GeoDataFrame, state: pd.Series) -> gpd.GeoDataFrame:
    """``frame`` with its ``activity`` (active / idle / unknown) and ``idle`` flag."""
    activity = state.reindex(frame.index, fill_value=ACTIVE)
    return frame.assign(activity=activity, idle=activity == IDLE)


def run_warnings(summary: dict[str, Any]) -> list[str]:
    """What a user must know before trusting a run's rates (logged by :func:`run_coverage`)."""
    messages = []
    orgs, stations = summary.get("unknown_orgs", 0), summary.get("unknown_stations", 0)
    if orgs or stations:
        if summary.get("rules", {}).get("unknown_counts", True):
            effect = (
                "they count as covering; import their last activity dates, or set "
                "GRIDMAP_COVERAGE__UNKNOWN_COUNTS=false to leave them out"
            )
        else:
            effect = "they do not count (GRIDMAP_COVERAGE__UNKNOWN_COUNTS=false)"
        messages.append(
            f"{stations} station(s) and {orgs} organisation(s) have no activity date "
            f"(activity unknown): {effect}"
        )
    if summary.get("units") and not summary.get("counting_stations"):
        messages.append(
            f"no station counts as active ({summary.get('stations', 0)} stored, "
            f"{summary.get('idle_stations', 0)} idle, {stations} unknown): service coverage "
            "is 0 %; import stations with their activity dates, or check "
            "GRIDMAP_COVERAGE__IDLE_DAYS"
        )
    return messages


def _what_if(
    inputs: CoverageInputs,
    add: gpd.GeoDataFrame | None,
    remove: Sequence[str] | None,
) -> CoverageInputs:
    """The inputs with stations added and removed, stored data untouched."""
    stations = inputs.stations
    if remove:
        wanted = {str(r) for r in remove}
        keys = stations.index.astype(str).to_series(index=stations.index)
        drop = keys.isin(wanted) | stations["source_id"].astype(str).isin(wanted)
        missing = wanted - set(keys[drop]) - set(stations.loc[drop, "source_id"].astype(str))
        if missing:
            from gridmap.errors import NotFoundError

            msg = f"stations to remove not found (by id or source id): {sorted(missing)}"
            raise NotFoundError(msg)
        stations = stations[~drop]
    if add is not None and len(add):
        start = int(stations.index.max()) + 1 if len(stations) else 1
        extra = add.copy()
        # A planned station is active from the day the run evaluates.
        extra["last_activity"] = extra.get("last_activity", pd.Series(index=extra.index)).fillna(
            inputs.as_of
        )
        extra.index = np.arange(start, start + len(extra))
        extra["id"] = extra.index
        stations = pd.concat([stations, extra[[c for c in extra.columns if c in stations.columns]]])
        stations = gpd.GeoDataFrame(stations, geometry="geometry", crs=inputs.stations.crs)
    return inputs.with_stations(stations)


def run_coverage(  # noqa: PLR0913 (keyword-only options, the CLI's)
    store: Store,
    rules: CoverageSettings,
    options: ReachOptions,
    *,
    as_of: dt.date | None = None,
    add_stations: gpd.GeoDataFrame | None = None,
    remove_stations: Sequence[str] | None = None,
    save: bool = True,
    label: str | None = None,
    measure: Measure | None = None,
) -> CoverageResult:
    """Run coverage on the store's records and (by default) save the run.

    ``add_stations`` (WGS-84 points with ``name`` and ``tier``) and
    ``remove_stations`` (ids or source ids) make a what-if run: the stored
    stations are not changed. ``measure``: see :func:`compute_coverage`.
    """
    from gridmap.coverage.runs import save_run

    stage("inputs", 0.0)
    inputs = read_inputs(store, as_of=as_of, roads=options.mode == "network")
    if add_stations is not None or remove_stations:
        inputs = _what_if(inputs, add_stations, remove_stations)
    result = compute_coverage(inputs, rules, options, measure=measure)
    for message in run_warnings(result.totals):
        logger.warning("%s", message)
    if not save:
        return result
    stage("saving", 0.9)
    run_id = save_run(store, result, label=label)
    return replace(result, run_id=run_id)


def reproduce_run(
    store: Store, rules: CoverageSettings, run_id: int | None = None, *, warn: bool = True
) -> CoverageResult:
    """Recompute a stored run (the latest when ``run_id`` is None) with its parameters.

    Maps and reports need every geometry of a run; the store keeps a run's
    parameters, summary and per-unit results, so the frames are recomputed with
    the same options and as-of date. They match the stored run while the
    records have not changed; when they no longer do, a warning names the
    measures that differ (``warn=False`` for callers that want current records
    anyway). With no stored run, a default radius run is computed.
    """
    from gridmap.coverage.runs import latest_run_id, run_record

    chosen = run_id if run_id is not None else latest_run_id(store)
    options, as_of = ReachOptions(), None
    record: dict[str, Any] | None = None
    if chosen is not None:
        record = run_record(store, chosen)
        options = ReachOptions(**record["params"])
        as_of = record["as_of"]
        stored_rules = record["summary"].get("rules")
        if stored_rules:
            rules = CoverageSettings.model_validate(stored_rules)
    inputs = read_inputs(store, as_of=as_of, roads=options.mode == "network")
    result = compute_coverage(inputs, rules, options)
    if record is not None and warn:
        changed = summary_drift(record["summary"], result.totals)
        if changed:
            logger.warning(
                "run %d: records changed since it was stored; maps and reports show them as "
                "they are now (%s)",
                chosen,
                ", ".join(f"{key} {was} -> {now}" for key, (was, now) in changed.items()),
            )
    return replace(result, run_id=chosen)


def summary_drift(stored: dict[str, Any], current: dict[str, Any]) -> dict[str, tuple[Any, Any]]:
    """Headline measures that differ between a stored run's summary and a recomputed one."""
    from gridmap.coverage.runs import COUNT_KEYS, RATE_KEYS

    changed: dict[str, tuple[Any, Any]] = {}
    for key in (*COUNT_KEYS, *RATE_KEYS):
        was, now = stored.get(key), current.get(key)
        if was is None or now is None:
            continue
        if key in RATE_KEYS:
            # as the tables print them; a rate that moves less hides behind its counts
            was_pct, now_pct = f"{100 * float(was):.1f}%", f"{100 * float(now):.1f}%"
            if was_pct != now_pct:
                changed[key] = (was_pct, now_pct)
        elif int(was) != int(now):
            changed[key] = (int(was), int(now))
    return changed
