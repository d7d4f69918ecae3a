"""Read the areas and place units a derivation starts from, and list areas for users."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from gridmap.admin._codes import code_origin
from gridmap.store import Store, models, table_of

__all__ = ["LEVEL_ORDER", "list_areas", "place_units", "stored_areas"]

WGS84 = "EPSG:4326"
#: Levels from the top down, the order ``gridmap areas list`` shows them in.
LEVEL_ORDER = ("province", "prefecture", "county", "township", "village")
#: Unit kinds that stand for a village / community committee (a place point or area).
PLACE_KINDS = ("village", "community")


def _geometries(rows: Any, column: str) -> list[Any]:
    return [None if r[column] is None else to_shape(r[column]) for r in rows]


def stored_areas(store: Store) -> gpd.GeoDataFrame:
    """Every stored area: ``id, code, name, level, parent_id, parent_code, source, source_id``."""
    table = table_of(models.AdminArea)
    with store.engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    columns = ("id", "code", "name", "level", "parent_id", "source", "source_id")
    data: dict[str, list[Any]] = {c: [r[c] for r in rows] for c in columns}
    frame = gpd.GeoDataFrame(data, geometry=_geometries(rows, "boundary"), crs=WGS84)
    codes = dict(zip(frame["id"], frame["code"], strict=True))
    frame["parent_code"] = [codes.get(p) for p in frame["parent_id"]]
    return frame


def place_units(store: Store) -> gpd.GeoDataFrame:
    """Village and community units (OSM place nodes, or imported): ``source, source_id, name``."""
    table = table_of(models.Unit)
    query = select(table.c.source, table.c.source_id, table.c.name, table.c.kind, table.c.geom)
    with store.engine.connect() as conn:
        rows = conn.execute(query.where(table.c.kind.in_(PLACE_KINDS))).mappings().all()
    data = {c: [r[c] for r in rows] for c in ("source", "source_id", "name", "kind")}
    return gpd.GeoDataFrame(data, geometry=_geometries(rows, "geom"), crs=WGS84)


def list_areas(store: Store) -> gpd.GeoDataFrame:
    """The stored areas from the top level down, with where each code comes from.

    Columns: ``level, code, name, parent_code, code_origin`` (``official``,
    ``generated`` or ``none``), ``source``, ``boundary`` (whether it has one),
    ``cells`` (grid cells in it and in the areas below it) and the WGS-84 boundary
    as ``geometry``.
    """
    areas = stored_areas(store)
    cell = models.GridCell
    with store.session() as session:
        rows = session.execute(select(cell.area_id, func.count()).group_by(cell.area_id))
        counts = {area_id: int(n) for area_id, n in rows}
    frame = gpd.GeoDataFrame(
        {
            "level": areas["level"],
            "code": areas["code"],
            "name": areas["name"],
            "parent_code": areas["parent_code"],
            "code_origin": [
                code_origin(c, s) for c, s in zip(areas["code"], areas["source"], strict=True)
            ],
            "source": areas["source"],
            "boundary": areas.geometry.notna().to_numpy(),
            "cells": _with_descendants(counts, areas),
        },
        geometry=areas.geometry.to_numpy(),
        crs=WGS84,
    )
    rank = frame["level"].map({level: i for i, level in enumerate(LEVEL_ORDER)})
    frame = frame.assign(_rank=rank.fillna(len(LEVEL_ORDER)), _code=frame["code"].fillna(""))
    ordered = frame.sort_values(["_rank", "_code", "name"], kind="stable")
    for column in ("code", "parent_code"):
        values = ordered[column].astype(object)
        ordered[column] = values.where(values.notna(), None)
    return ordered.drop(columns=["_rank", "_code"]).reset_index(drop=True)


def _with_descendants(counts: dict[Any, int], areas: gpd.GeoDataFrame) -> list[int]:
    """Cells of each area plus those of every area below it."""
    parents = dict(zip(areas["id"], areas["parent_id"], strict=True))
    totals = dict.fromkeys(parents, 0)
    for area_id, n in counts.items():
        seen: set[Any] = set()
        current = area_id
        while current in totals and current not in seen:
            totals[current] += n
            seen.add(current)
            current = parents[current]
    return [totals[i] for i in areas["id"]]
