"""The dashboard's map data as GeoJSON, cut to a :class:`Scope`: cells simplified by zoom and
clipped to the view (so a county of 10k+ cells stays light; over the limit,
blind and partial cells come first), and the run's other layers.

Cell outlines are read from the store once per store and cell version (count and newest
``updated_at``) into an STR-tree; each request asks SQL for the scope's cells of the run
(with their status), then keeps those in the view, at most ``limit`` of them, simplified
to about a pixel at the zoom asked for.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from gridmap.query._common import resolve_run
from gridmap.query.dashboard_run import scoped_run, scoped_sites
from gridmap.query.scope import Scope
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

__all__ = ["MAX_FEATURES", "cells_geojson", "layers_geojson", "parse_bbox"]

#: Most cells one answer carries; the answer says when more are in the view.
MAX_FEATURES = 2500
_WORLD = (-180.0, -90.0, 180.0, 90.0)
_FIRST = {"blind": 0, "partial": 1, "covered": 2, "empty": 3}


@dataclass(frozen=True)
class _Outlines:
    version: tuple[Any, ...]
    codes: np.ndarray
    geoms: np.ndarray
    tree: shapely.STRtree


_OUTLINES: dict[str, _Outlines] = {}
_LOCK = threading.Lock()


def parse_bbox(value: str | None) -> tuple[float, float, float, float]:
    """``west,south,east,north`` in degrees; the whole world when absent or malformed."""
    if not value:
        return _WORLD
    try:
        west, south, east, north = (float(v) for v in value.split(",", 3))
    except ValueError:
        return _WORLD
    box = (west, south, east, north)
    if not all(math.isfinite(v) for v in box) or west > east or south > north:
        return _WORLD
    return box


def _outlines(store: Store) -> _Outlines:
    cells = table_of(models.GridCell)
    live = cells.c.closed_at.is_(None)
    with store.engine.connect() as conn:
        version = tuple(
            conn.execute(select(func.count(), func.max(cells.c.updated_at)).where(live)).one()
        )
        key = str(store.engine.url)
        with _LOCK:
            held = _OUTLINES.get(key)
        if held is not None and held.version == version:
            return held
        rows = conn.execute(select(cells.c.code, cells.c.geom).where(live)).all()
    codes = np.array([str(r.code) for r in rows], dtype=object)
    geoms = np.array([to_shape(r.geom) for r in rows], dtype=object)
    outlines = _Outlines(version, codes, geoms, shapely.STRtree(geoms))
    with _LOCK:
        _OUTLINES[key] = outlines
    return outlines


def _status_of_cells(store: Store, scope: Scope, run: int) -> dict[str, tuple[Any, ...]]:
    cells = table_of(models.CoverageCell)
    where = cells.c.run_id == run
    if scope.kind == "area":
        where = where & scope.area_filter(cells.c.area_code)
    elif scope.kind == "worker":
        where = where & cells.c.code.in_(scope.cell_codes())
    query = select(
        cells.c.code, cells.c.name, cells.c.status, cells.c.units_total, cells.c.units_covered
    ).where(where)
    with store.engine.connect() as conn:
        return {str(r[0]): tuple(r[1:]) for r in conn.execute(query)}


def _pixel_degrees(zoom: int) -> float:
    return 360.0 / (256.0 * 2.0 ** max(0, min(zoom, 22)))


def cells_geojson(
    store: Store,
    scope: Scope,
    run_id: int | None = None,
    *,
    bbox: tuple[float, float, float, float] = _WORLD,
    zoom: int = 12,
    limit: int = MAX_FEATURES,
) -> str:
    """The run's cells in scope inside ``bbox`` as a FeatureCollection (a JSON string)."""
    run = resolve_run(store, run_id)
    status = _status_of_cells(store, scope, run)
    outlines = _outlines(store)
    hits = outlines.tree.query(shapely.box(*bbox), predicate="intersects")
    codes: list[str] = outlines.codes.tolist()
    mine = sorted(
        (int(i) for i in hits if codes[i] in status),
        key=lambda i: (_FIRST.get(status[codes[i]][1], 4), codes[i]),
    )  # over the limit, the cells that need work first
    truncated = len(mine) > limit
    chosen = mine[: max(1, min(limit, MAX_FEATURES))]
    pixel = _pixel_degrees(zoom)
    digits = max(4, min(7, math.ceil(-math.log10(pixel)) + 1))
    geoms = shapely.simplify(outlines.geoms[chosen], pixel * 0.7, preserve_topology=True)
    geoms = shapely.transform(geoms, lambda xy: np.round(xy, digits))
    features = []
    for index, geom in zip(chosen, geoms, strict=True):
        code = codes[index]
        name, state, total, covered = status[code]
        props = {"code": code, "name": name, "status": state, "units": total, "covered": covered}
        features.append(
            f'{{"type":"Feature","properties":{json.dumps(props, ensure_ascii=False)},'
            f'"geometry":{shapely.to_geojson(geom)}}}'
        )
    head = json.dumps({"run": run, "zoom": zoom, "total": len(mine), "truncated": truncated})
    return f'{head[:-1]},"type":"FeatureCollection","features":[{",".join(features)}]}}'


def _collection(frame: gpd.GeoDataFrame, columns: list[str]) -> dict[str, Any]:
    if frame is None or len(frame) == 0:
        return {"type": "FeatureCollection", "features": []}
    keep = [c for c in columns if c in frame.columns]
    out = gpd.GeoDataFrame(frame[keep], geometry=frame.geometry, crs=frame.crs)
    out = out.set_geometry(shapely.set_precision(shapely.simplify(out.geometry.values, 2e-5), 1e-6))
    data: dict[str, Any] = json.loads(out.to_json(drop_id=True, default=str))
    return data


def layers_geojson(
    store: Store, scope: Scope, rules: CoverageSettings, run_id: int | None = None
) -> dict[str, Any]:
    """Blind zones, stations, service areas and the latest recommended sites, in scope."""
    result, inputs = scoped_run(store, scope, rules, run_id)
    sites = scoped_sites(store, scope, inputs)
    bounds = result.cells.total_bounds if len(result.cells) else None
    return {
        "run": result.run_id,
        "bounds": None if bounds is None else [float(v) for v in bounds],
        "blind_zones": _collection(result.blind_zones, ["rank", "units", "population", "priority"]),
        "stations": _collection(result.stations, ["name", "tier", "idle"]),
        "service_areas": _collection(result.service_areas, ["name", "tier"]),
        "sites": _collection(sites, ["rank", "name", "marginal_gain"])
        if sites is not None
        else {"type": "FeatureCollection", "features": []},
    }
