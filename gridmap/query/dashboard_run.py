"""What the dashboard needs of a run beyond its stored tables: blind zones, idle organisations
and stations, service areas, the workbook and the offline map, cut to a :class:`Scope`.

The store keeps each run's outputs (per-unit results, roll-up, blind zones, service areas,
the organisations and stations it judged); they are read back (:func:`load_run`, not
recomputed), once per run and store in this process (a small cache), then cut to the cells
the scope's SQL names. Every list is the run's own, like its roll-up: a confirmed change
shows in the next run.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import replace
from typing import Any

import geopandas as gpd
import pandas as pd
from sqlalchemy import select

from gridmap.coverage import CoverageInputs, CoverageResult
from gridmap.query._common import resolve_run
from gridmap.query.dashboard import LIST_LIMIT, scope_cell_codes, workers_by_cell
from gridmap.query.scope import Scope
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

__all__ = ["blind_zone_rows", "idle_rows", "recomputed", "scoped_run", "scoped_sites"]

logger = logging.getLogger(__name__)

_CACHE: OrderedDict[tuple[Any, ...], tuple[CoverageResult, CoverageInputs]] = OrderedDict()
_CACHE_SIZE = 4
_LOCK = threading.Lock()


def recomputed(
    store: Store, rules: CoverageSettings, run_id: int | None = None
) -> tuple[CoverageResult, CoverageInputs]:
    """A stored run read back with what its outputs need (cached per store and run).

    Runs stored before runs kept their outputs are recomputed (:func:`load_run` warns).
    """
    from gridmap.coverage import load_run

    run = resolve_run(store, run_id)
    runs = table_of(models.CoverageRun)
    with store.engine.connect() as conn:  # a store recreated at the same URL reuses ids
        created = conn.execute(select(runs.c.created_at).where(runs.c.id == run)).scalar()
    key = (str(store.engine.url), run, created)
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    result = load_run(store, rules, run)
    pair = (result, result.inputs)
    with _LOCK:
        _CACHE[key] = pair
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return pair


def _cell_of_points(points: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> pd.Series:
    """The code of the cell each point lies in (None outside every cell)."""
    if points.empty or cells.empty:
        return pd.Series([None] * len(points), index=points.index, dtype=object)
    joined = gpd.sjoin(
        points[[points.geometry.name]], cells[["code", cells.geometry.name]], predicate="within"
    )
    first = joined[~joined.index.duplicated()]["code"].reindex(points.index)
    out: pd.Series = first.astype(object).where(first.notna(), None)
    return out


def _org_cells(result: CoverageResult, inputs: CoverageInputs) -> pd.Series:
    """Each organisation's cell: its own unit's, else the first unit it names, else its point."""
    unit_cell = result.units.set_index("unit_id")["cell_code"]
    first = inputs.org_units.drop_duplicates("org_id").set_index("org_id")["unit_id"]
    orgs = result.orgs
    unit = orgs["own_unit_id"].fillna(first.reindex(orgs.index))
    by_unit = unit.map(lambda u: None if pd.isna(u) else unit_cell.get(int(u)))
    located = orgs[orgs.geometry.notna()]
    by_point = _cell_of_points(located, inputs.cells).reindex(orgs.index)
    out: pd.Series = by_unit.where(by_unit.notna(), by_point)
    return out


def _in(codes: set[str] | None, value: Any) -> bool:
    return codes is None or (value is not None and not pd.isna(value) and str(value) in codes)


def _codes(store: Store, scope: Scope, run: int) -> set[str] | None:
    """The scope's cell codes, or None for everything (then nothing is cut)."""
    return None if scope.kind == "all" else scope_cell_codes(store, scope, run)


def idle_rows(
    store: Store, scope: Scope, rules: CoverageSettings, run_id: int | None = None
) -> list[dict[str, Any]]:
    """Idle organisations and stations (空转) in scope, oldest activity first."""
    run = resolve_run(store, run_id)
    result, inputs = recomputed(store, rules, run)
    codes = _codes(store, scope, run)
    day = pd.Timestamp(result.as_of)
    frames = (
        ("org", result.orgs, _org_cells(result, inputs), "kind"),
        ("station", result.stations, _cell_of_points(result.stations, inputs.cells), "tier"),
    )
    rows = []
    for what, frame, cells, kind in frames:
        for index, row in frame[frame["idle"].astype(bool)].iterrows():
            cell = cells.get(index)
            if not _in(codes, cell):
                continue
            last = row["last_activity"]
            rows.append(
                {
                    "what": what,
                    "id": int(row["id"]),
                    "name": row["name"],
                    "kind": row[kind],
                    "last_activity": None if pd.isna(last) else last,
                    "idle_days": None if pd.isna(last) else int((day - pd.Timestamp(last)).days),
                    "cell_code": None if cell is None or pd.isna(cell) else str(cell),
                }
            )
    rows.sort(key=lambda r: -(r["idle_days"] or 0))
    return _with_workers(store, rows[:LIST_LIMIT])


def _with_workers(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    workers = workers_by_cell(store, (str(r["cell_code"]) for r in rows if r["cell_code"]))
    return [r | {"worker": workers.get(str(r["cell_code"]), "")} for r in rows]


def _zone_cells(value: Any) -> list[str]:
    return [c for c in str(value or "").split(",") if c]


def blind_zone_rows(
    store: Store, scope: Scope, rules: CoverageSettings, run_id: int | None = None
) -> list[dict[str, Any]]:
    """The run's blind zones that touch a cell in scope, by rank, with cells and workers."""
    run = resolve_run(store, run_id)
    result, _ = recomputed(store, rules, run)
    codes = _codes(store, scope, run)
    rows: list[dict[str, Any]] = []
    for zone in result.blind_zones.itertuples():
        cells = [c for c in _zone_cells(zone.cell_codes) if _in(codes, c)]
        if codes is not None and not cells:
            continue
        rows.append(
            {
                "rank": int(zone.rank),
                "area_m2": round(float(zone.area_m2)),
                "units": int(zone.units),
                "population": int(zone.population),
                "party_members": int(zone.party_members),
                "must_have_branch": int(zone.must_have_branch),
                "priority": float(zone.priority),
                "cell_code": ",".join(cells),
            }
        )
    workers = workers_by_cell(store, (c for r in rows for c in r["cell_code"].split(",") if c))
    for row in rows:
        names = {workers.get(c, "") for c in row["cell_code"].split(",")} - {""}
        row["worker"] = "、".join(sorted(names))
    return rows[:LIST_LIMIT]


def _cut(frame: Any, keep: Any) -> Any:
    return frame[keep.to_numpy(bool)] if len(frame) else frame


def scoped_run(
    store: Store, scope: Scope, rules: CoverageSettings, run_id: int | None = None
) -> tuple[CoverageResult, CoverageInputs]:
    """A recomputed run with only what ``scope`` may see (for the workbook and the map)."""
    run = resolve_run(store, run_id)
    result, inputs = recomputed(store, rules, run)
    codes = _codes(store, scope, run)
    if codes is None:
        return result, inputs
    units = _cut(result.units, result.units["cell_code"].map(lambda c: _in(codes, c)))
    cells = _cut(result.cells, result.cells["code"].map(lambda c: _in(codes, c)))
    area = str(scope.area_code or "")
    areas = _cut(
        result.areas,
        result.areas["code"].map(lambda c: scope.kind == "area" and str(c).startswith(area)),
    )
    zones = _cut(
        result.blind_zones,
        result.blind_zones["cell_codes"].map(lambda v: any(_in(codes, c) for c in _zone_cells(v))),
    )
    org_cells = _org_cells(result, inputs)
    orgs = _cut(result.orgs, org_cells.map(lambda c: _in(codes, c)))
    station_cells = _cell_of_points(result.stations, inputs.cells)
    stations = _cut(result.stations, station_cells.map(lambda c: _in(codes, c)))
    service = _cut(result.service_areas, result.service_areas["station_id"].isin(stations.index))
    cell_ids = set(cells.index)
    links = inputs.worker_cells[inputs.worker_cells["cell_id"].isin(cell_ids)]
    scoped_inputs = replace(
        inputs,
        units=inputs.units.loc[inputs.units.index.intersection(units.index)],
        cells=inputs.cells.loc[inputs.cells.index.intersection(cells.index)],
        areas=inputs.areas[inputs.areas["code"].map(lambda c: str(c).startswith(area))],
        worker_cells=links,
        workers=inputs.workers[inputs.workers["id"].isin(links["worker_id"])],
        orgs=inputs.orgs.loc[inputs.orgs.index.intersection(orgs.index)],
        stations=inputs.stations.loc[inputs.stations.index.intersection(stations.index)],
    )
    summary = result.summary()
    own = areas[areas["code"] == area]
    if len(own):
        summary.update({k: v for k, v in own.iloc[0].to_dict().items() if k in summary})
    scoped = replace(
        result, units=units, cells=cells, areas=areas, blind_zones=zones, orgs=orgs,
        stations=stations, service_areas=service, totals=summary, inputs=scoped_inputs,
    )  # fmt: skip
    return scoped, scoped_inputs


def scoped_sites(store: Store, scope: Scope, inputs: CoverageInputs) -> gpd.GeoDataFrame | None:
    """The newest recommended sites inside the cells of ``inputs`` (cut by :func:`scoped_run`)."""
    from gridmap.siting.stored import latest_recommendation

    sites = latest_recommendation(store)
    if sites is None or scope.kind == "all":
        return sites
    inside = gpd.sjoin(sites, inputs.cells[[inputs.cells.geometry.name]], predicate="within")
    return sites.loc[sites.index.isin(inside.index)]
