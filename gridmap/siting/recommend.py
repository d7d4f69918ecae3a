"""Recommend new station sites from the store: what ``gridmap site recommend`` runs.

Demand is every unit (its representative point), weighted by population,
households, party members, or 1 per unit. Existing active stations stay fixed:
what they already reach (the coverage engine's ``service_covered``) counts as
covered. Candidates are grid-cell representative points, the public buildings
imported from OSM (``candidate_site``) and any user layer; exclusion polygons
remove candidates. Reach is a radius or a distance / time along the road
network, computed with the coverage engine's network code; in network mode the
candidates are snapped to the roads like the stations are.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree
from sqlalchemy import insert, select

from gridmap.coverage import ReachOptions, read_inputs, representative_points
from gridmap.coverage.inputs import CoverageInputs
from gridmap.coverage.reach import (
    active_stations,
    road_graph,
    service_covered,
    uniform_limit,
    unit_points,
)
from gridmap.coverage.rules import activity
from gridmap.domain import StationTier
from gridmap.errors import GridmapError
from gridmap.network import RoadGraph, reach_matrix, snap_points
from gridmap.network.graph import Weight as NetworkWeight
from gridmap.progress import stage
from gridmap.settings import CoverageSettings
from gridmap.siting import (
    SitingProblem,
    SitingResult,
    cell_points,
    combine_candidates,
    exclude,
    solve_lscp,
    solve_mclp,
)
from gridmap.siting.stored import latest_recommendation
from gridmap.store import Store, models, table_of

logger = logging.getLogger(__name__)

__all__ = ["Recommendation", "latest_recommendation", "recommend_sites"]

Weight = Literal["population", "households", "members", "units"]
_WEIGHT_COLUMNS = {
    "population": "population",
    "households": "households",
    "members": "party_members",
}


@dataclass(frozen=True)
class Recommendation:
    """Recommended sites in order, with the coverage before and after."""

    result: SitingResult
    sites: (
        gpd.GeoDataFrame
    )  # rank, name, source, marginal_gain, covered_after, coverage_rate, lon, lat
    uncoverable: pd.DataFrame  # units no existing station or candidate reaches
    weight: Weight
    reach_m: float | None
    reach_min: float | None
    mode: str
    run_id: int | None = None

    def summary(self) -> dict[str, Any]:
        """The headline numbers."""
        r = self.result
        return {
            "model": r.model,
            "method": r.method,
            "status": r.status,
            "sites": r.n_sites,
            "weight": self.weight,
            "covered_before": r.covered_before,
            "covered_after": r.covered_after,
            "total_demand": r.total_demand,
            "coverage_before": r.coverage_before,
            "coverage_after": r.coverage_after,
            "gap": r.gap,
            "lp_bound": r.lp_bound,
            "solve_seconds": r.solve_seconds,
            "uncoverable_units": len(self.uncoverable),
        }

    def __str__(self) -> str:
        """One line: how many sites, and the coverage of the weight before and after."""
        r = self.result
        return (
            f"{r.n_sites} new sites ({r.model}, {r.method}): {self.weight} covered "
            f"{100 * r.coverage_before:.1f}% -> {100 * r.coverage_after:.1f}%, "
            f"{len(self.uncoverable)} units out of every candidate's reach"
        )


def _user_candidates(candidates: gpd.GeoDataFrame | Path | str) -> gpd.GeoDataFrame:
    """A user's candidate layer: a frame (points with an optional ``name``) or a file."""
    if isinstance(candidates, gpd.GeoDataFrame):
        user = _wgs84(candidates, "candidates")
        if "name" not in user.columns:
            user = user.assign(name=None)
    else:
        from gridmap.ingest.readers import read_layer
        from gridmap.ingest.records import RecordKind

        user = read_layer(Path(candidates), RecordKind.SITE).records
    return user.assign(source="user")[["name", "source", "geometry"]]


def _wgs84(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    if frame.crs is None:
        msg = f"{name}= has no CRS: expected a GeoDataFrame with one; use set_crs() first"
        raise GridmapError(msg)
    return frame.to_crs("EPSG:4326")


def _exclusion_zones(exclude_: gpd.GeoDataFrame | Path | str) -> gpd.GeoDataFrame:
    if isinstance(exclude_, gpd.GeoDataFrame):
        return _wgs84(exclude_, "exclude")
    return gpd.read_file(exclude_).to_crs("EPSG:4326")


def _candidates(
    store: Store,
    inputs: CoverageInputs,
    user: gpd.GeoDataFrame | Path | str | None,
    exclusions: gpd.GeoDataFrame | Path | str | None,
) -> gpd.GeoDataFrame:
    frames = []
    if len(inputs.cells):
        cells = cell_points(inputs.cells[["code", "geometry"]])
        cells["name"] = "网格 " + cells["code"].astype(str)
        cells["source"] = "cell_centroid"
        frames.append(cells[["name", "source", "geometry"]])
    with store.engine.connect() as conn:
        table = table_of(models.CandidateSite)
        rows = conn.execute(select(table.c.name, table.c.site_kind, table.c.geom)).all()
    if rows:
        from geoalchemy2.shape import to_shape

        public = gpd.GeoDataFrame(
            {"name": [r[0] for r in rows], "source": "osm_public_building"},
            geometry=[to_shape(r[2]) for r in rows],
            crs="EPSG:4326",
        )
        frames.append(public)
    if user is not None:
        frames.append(_user_candidates(user))
    if not frames:
        msg = (
            "no candidate sites: generate a grid, import OSM public buildings or pass --candidates"
        )
        raise GridmapError(msg)
    candidates = combine_candidates(*frames)
    if exclusions is not None:
        report = exclude(candidates, _exclusion_zones(exclusions))
        logger.info("excluded %d candidates inside exclusion areas", report.n_removed)
        candidates = report.kept
    return candidates.reset_index(drop=True)


def _coverage_matrix(
    inputs: CoverageInputs,
    projected: gpd.GeoSeries,
    candidates: gpd.GeoDataFrame,
    options: ReachOptions,
    limit: float,
    rules: CoverageSettings,
    graph: RoadGraph | None,
) -> Any:
    """Demand x candidate reach; ``projected``: the demand points in the metric CRS."""
    crs = inputs.metric_crs
    dxy = np.column_stack([projected.x, projected.y])
    cand = candidates.geometry.to_crs(crs)
    cxy = np.column_stack([cand.x, cand.y])
    if options.mode == "radius":
        return _within(dxy, cxy, limit)
    if graph is None:
        graph = road_graph(inputs, options.profile, walk_kmh=rules.walk_kmh)
    weight: NetworkWeight = "time" if options.minutes is not None else "length"
    targets = snap_points(graph, dxy[:, 0], dxy[:, 1], max_snap_m=rules.max_snap_m)
    sources = snap_points(graph, cxy[:, 0], cxy[:, 1], max_snap_m=rules.max_snap_m)
    return reach_matrix(
        graph, sources, targets, weight=weight, cutoff=limit, access_speed_kmh=rules.walk_kmh
    )


def _within(demand: np.ndarray, candidates: np.ndarray, limit: float) -> Any:
    """Demand x candidate matrix, True where a candidate lies within ``limit`` metres.

    One ball query per candidate over a tree of the demand points (a county has about
    100 times more units than candidates, so this is that many fewer queries).
    """
    shape = (len(demand), len(candidates))
    if not len(demand) or not len(candidates):
        return sparse.csr_array(shape, dtype=bool)
    hits = cKDTree(demand).query_ball_point(candidates, r=limit)
    counts = np.fromiter((len(h) for h in hits), dtype=np.int64, count=len(hits))
    rows = np.concatenate([np.asarray(h, dtype=np.int64) for h in hits])
    cols = np.repeat(np.arange(len(candidates)), counts)
    matrix = sparse.csr_array((np.ones(len(rows), dtype=bool), (rows, cols)), shape=shape)
    matrix.sort_indices()
    return matrix


def recommend_sites(  # noqa: PLR0913 - keyword options of `site recommend` (issue 13.2)
    store: Store,
    rules: CoverageSettings,
    options: ReachOptions,
    *,
    k: int | None = None,
    cover_all: bool = False,
    weight: Weight = "population",
    candidates: gpd.GeoDataFrame | Path | str | None = None,
    exclude: gpd.GeoDataFrame | Path | str | None = None,
    method: Literal["exact", "greedy"] = "exact",
    time_limit_s: float | None = None,
    as_of: dt.date | None = None,
    capacity: float | None = None,
    save: bool = True,
) -> Recommendation:
    """Recommend ``k`` new sites (maximal covering) or the fewest that cover all (set covering).

    The reach of a new site is ``options.meters`` / ``options.minutes``, or the
    community-station reach from the settings when neither is given. ``capacity``
    caps the demand weight one new site can serve (demand may then be split between
    sites; see :mod:`gridmap.siting`).
    ``candidates`` adds a user's candidate points and ``exclude`` removes candidates
    inside its polygons; each is a GeoDataFrame (with a CRS) or a file path.
    """
    if (k is None) == (not cover_all):
        msg = "give either k (--k N: maximal covering) or cover_all (--cover-all: set covering)"
        raise GridmapError(msg)
    stage("inputs", 0.0)
    inputs = read_inputs(store, as_of=as_of, roads=options.mode == "network")
    if inputs.units.empty:
        raise GridmapError("no units in the store: import some before siting")
    # Existing stations keep their own per-tier reach; the options' reach is the new sites'.
    existing_reach = ReachOptions(mode=options.mode, profile=options.profile)
    # one road graph for both: what existing stations reach, and what candidates would
    graph = None
    if options.mode == "network":
        graph = road_graph(inputs, options.profile, walk_kmh=rules.walk_kmh)
    stage("reach", 0.15)
    demand = representative_points(inputs.units)
    metric_demand = unit_points(inputs, demand)  # projected once, for both reaches
    existing = _covered_now(inputs, demand, metric_demand, rules, existing_reach, graph)
    limit = _limit(options, rules)
    weights = _weights(inputs.units, weight)
    stage("candidates", 0.35)
    pool = _candidates(store, inputs, candidates, exclude)
    coverage = _coverage_matrix(inputs, metric_demand, pool, options, limit, rules, graph)
    problem = SitingProblem.from_coverage(
        coverage,
        weights,
        already_covered=existing["service_covered"].to_numpy(bool),
        capacities=_capacities(pool, capacity),
        candidate_ids=pool["candidate_id"].to_numpy(),
    )
    stage("solving", 0.6)
    result = (
        solve_lscp(problem, method=method, time_limit_s=time_limit_s)
        if cover_all
        else solve_mclp(problem, int(k or 0), method=method, time_limit_s=time_limit_s)
    )
    if k is not None and result.n_sites < k:
        logger.warning(
            "only %d of the %d sites asked for add any %s: the others would cover nothing new",
            result.n_sites,
            k,
            weight,
        )
    recommendation = Recommendation(
        result=result,
        sites=_sites(result, pool),
        weight=weight,
        uncoverable=_uncoverable(result, existing),
        reach_m=None if options.minutes is not None else limit,
        reach_min=options.minutes,
        mode=options.mode,
    )
    if save:
        stage("saving", 0.9)
        run_id = _save(store, recommendation, options, k=k, cover_all=cover_all, capacity=capacity)
        recommendation = Recommendation(**{**recommendation.__dict__, "run_id": run_id})
    return recommendation


def _covered_now(
    inputs: CoverageInputs,
    points: gpd.GeoSeries,
    projected: gpd.GeoSeries,
    rules: CoverageSettings,
    options: ReachOptions,
    graph: RoadGraph | None,
) -> pd.DataFrame:
    """Each unit (at its representative point in ``points``, ``projected`` in the
    metric CRS) and whether the counting stations already reach it.

    Only the ``service_covered`` a coverage run would measure (the same stations
    count, by their activity; :func:`gridmap.coverage.reach.service_covered`): no
    nearest stations, service areas, organisational rules, cells, roll-up or blind
    zones.
    """
    units = inputs.units
    state = activity(inputs.stations["last_activity"], inputs.as_of, rules.idle_days)
    stations = active_stations(inputs, state, rules)
    covered = service_covered(inputs, stations, options, rules, graph=graph, points=projected)
    return pd.DataFrame(
        {
            "unit_id": units.index.to_numpy(),
            "source_id": units["source_id"],
            "kind": units["kind"],
            "name": units["name"],
            "cell_code": units["cell_id"].map(inputs.cells["code"].to_dict()),
            "lon": points.x.round(7),
            "lat": points.y.round(7),
            "service_covered": covered,
        },
        index=units.index,
    )


def _capacities(candidates: gpd.GeoDataFrame, capacity: float | None) -> np.ndarray | None:
    """The same capacity for every candidate, or None for uncapacitated siting."""
    return None if capacity is None else np.full(len(candidates), float(capacity))


def _limit(options: ReachOptions, rules: CoverageSettings) -> float:
    """A new site reaches as far as asked, else as far as a community station."""
    uniform = uniform_limit(options, rules)
    return float(rules.reach_m[StationTier.COMMUNITY]) if uniform is None else uniform


def _weights(units: pd.DataFrame, weight: Weight) -> np.ndarray:
    if weight == "units":
        return np.ones(len(units))
    column = _WEIGHT_COLUMNS[weight]
    return units[column].fillna(0).to_numpy(dtype=float)


def _sites(result: SitingResult, candidates: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    frame = result.to_frame()
    chosen = candidates.iloc[frame["candidate"].to_numpy()]
    return gpd.GeoDataFrame(
        {
            "rank": frame["rank"].to_numpy(),
            "name": chosen["name"].to_numpy(),
            "source": chosen["source"].to_numpy(),
            "candidate_id": chosen["candidate_id"].to_numpy(),
            "marginal_gain": frame["marginal_gain"].to_numpy(),
            "covered_after": frame["covered_after"].to_numpy(),
            "coverage_rate": frame["coverage_rate"].to_numpy(),
            "lon": chosen.geometry.x.round(7).to_numpy(),
            "lat": chosen.geometry.y.round(7).to_numpy(),
        },
        geometry=chosen.geometry.to_numpy(),
        crs="EPSG:4326",
    )


def _uncoverable(result: SitingResult, units: pd.DataFrame) -> pd.DataFrame:
    rows = units.iloc[result.uncoverable]
    return pd.DataFrame(rows[["unit_id", "source_id", "kind", "name", "cell_code", "lon", "lat"]])


def _save(
    store: Store,
    rec: Recommendation,
    options: ReachOptions,
    *,
    k: int | None,
    cover_all: bool,
    capacity: float | None,
) -> int:
    table = table_of(models.SitingRun)
    params = {
        "capacity": capacity,
        "k": k,
        "cover_all": cover_all,
        "weight": rec.weight,
        "mode": options.mode,
        "profile": options.profile,
        "meters": options.meters,
        "minutes": options.minutes,
    }
    sites = json.loads(rec.sites.to_json(drop_id=True))
    with store.engine.begin() as conn:
        run_id = conn.execute(
            insert(table)
            .values(params=params, summary=rec.summary(), sites=sites)
            .returning(table.c.id)
        ).scalar_one()
    return int(run_id)
