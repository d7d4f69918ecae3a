"""Grid cells in the store: generate for an area, load, check, and put every unit in one.

The geometry work is in :mod:`gridmap.grid`; this module reads its inputs from
the store and writes its results back, each step in one transaction.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, delete, insert, select

from gridmap.errors import GridmapError, NotFoundError
from gridmap.grid import (
    BEIJING_DB11_T_2157_2023,
    CellIndex,
    CellShape,
    CodeScheme,
    GridReport,
    assign_codes,
    assign_polygons,
    compute_grid,
    compute_grid_check,
)
from gridmap.grid._common import WGS84, frame_to_metric, metric_crs_of, polygon_parts, project
from gridmap.grid._stored_units import read_outside, read_unit_points
from gridmap.grid.assign import AssignReport
from gridmap.ingest._bulk import lifted_triggers
from gridmap.ingest.load import LoadReport, load_into
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.store import Store, models, table_of
from gridmap.store._columns import read_frame

logger = logging.getLogger(__name__)

#: SpatiaLite / store triggers that re-check a unit's geometry on any update of the row.
_CELL_UPDATE_TRIGGERS = ("unit_geom_valid_update", "tmu_unit_geom")

#: A community sharing less than this (m²) with an area to grid only touches it.
_SHARED_M2 = 1.0

__all__ = [
    "AssignReport",
    "area_boundary",
    "assign_units",
    "assign_units_on",
    "check_area_grid",
    "communities_intersecting",
    "communities_within",
    "generate_grid_in",
    "generate_grid_over",
    "has_grid",
    "save_cells",
]


def _areas(store: Store) -> gpd.GeoDataFrame:
    table = table_of(models.AdminArea)
    with store.engine.connect() as conn:
        frame = read_frame(conn, table, ("id", "code", "name", "level", "parent_id"), "boundary")
    return frame.set_index("id", drop=False)


def area_boundary(store: Store, code: str) -> Any:
    """The boundary of the area with ``code``; raises when it has none."""
    areas = _areas(store)
    match = areas[areas["code"] == code]
    if match.empty or match.geometry.iloc[0] is None:
        known = ", ".join(
            sorted(str(c) for c in areas.loc[areas.geometry.notna(), "code"].dropna())
        )
        msg = f"no area {code!r} with a boundary; areas with boundaries: {known or 'none'}"
        raise NotFoundError(msg)
    return match.geometry.iloc[0]


def _descendants(areas: gpd.GeoDataFrame, code: str) -> set[int]:
    """Ids of the area with ``code`` and of every area below it."""
    top = areas.index[areas["code"] == code]
    if top.empty:
        msg = f"no area with code {code!r}"
        raise NotFoundError(msg)
    parents = areas["parent_id"].to_dict()

    def below(area_id: int) -> bool:
        seen: set[int] = set()
        current: Any = area_id
        while current is not None and not pd.isna(current) and current not in seen:
            if current == top[0]:
                return True
            seen.add(current)
            current = parents.get(current)
        return False

    return {int(i) for i in areas.index if below(int(i))}


def communities_within(store: Store, code: str) -> gpd.GeoDataFrame:
    """Village / community areas (with boundaries) below the area with ``code``."""
    areas = _areas(store)
    ids = _descendants(areas, code)
    villages = areas[(areas["level"] == "village") & areas.geometry.notna()]
    return villages[villages.index.isin(ids)][["code", "name", "geometry"]]


def generate_grid_over(
    store: Store,
    area_code: str,
    *,
    shape: CellShape,
    size_m: float | None = None,
    resolution: int | None = None,
    scheme: CodeScheme = BEIJING_DB11_T_2157_2023,
) -> gpd.GeoDataFrame:
    """Cells over the area with ``area_code``, split by and assigned to its communities, coded.

    Not saved: :func:`gridmap.grid.stored_generate.generate_grid` checks, saves and assigns.
    """
    boundary = area_boundary(store, area_code)
    communities = communities_within(store, area_code)
    cells = compute_grid(
        boundary, shape=shape, size_m=size_m, resolution=resolution, communities=communities
    )
    if communities.empty:
        msg = (
            f"area {area_code} has no village/community areas with a boundary below it: a "
            "cell belongs to a village or community, never directly to a township; import "
            "or derive the community areas first"
        )
        raise GridmapError(msg)
    cells = assign_codes(cells, scheme)
    logger.info("generated %d cells over %s", len(cells), area_code)
    return cells


def communities_intersecting(store: Store, boundary: Any) -> gpd.GeoDataFrame:
    """Village / community areas sharing more than 1 m² with ``boundary`` (WGS-84)."""
    areas = _areas(store)
    villages = areas[(areas["level"] == "village") & areas.geometry.notna()]
    if villages.empty:
        return villages[["code", "name", "geometry"]]
    metric = metric_crs_of(boundary)
    shared = shapely.area(
        shapely.intersection(
            frame_to_metric(villages, metric), project(boundary, WGS84, metric).item()
        )
    )
    return villages[shared > _SHARED_M2][["code", "name", "geometry"]]


def generate_grid_in(
    store: Store,
    boundary: Any,
    *,
    shape: CellShape,
    size_m: float | None = None,
    resolution: int | None = None,
    scheme: CodeScheme = BEIJING_DB11_T_2157_2023,
) -> gpd.GeoDataFrame:
    """Cells inside a WGS-84 polygon, split by and assigned to the communities it overlaps.

    Only the part of ``boundary`` inside those communities is gridded (a cell
    belongs to a village or community, never to none); the rest is logged.
    """
    communities = communities_intersecting(store, boundary)
    if communities.empty:
        msg = (
            "no village/community area with a boundary overlaps the area to grid: a cell "
            "belongs to a village or community; derive them first (`gridmap areas derive`)"
        )
        raise GridmapError(msg)
    covered = shapely.intersection(boundary, shapely.union_all(communities.geometry.values))
    covered = shapely.union_all(polygon_parts(shapely.make_valid(covered)))
    left = shapely.area(boundary) - shapely.area(covered)
    if left > 1e-3 * shapely.area(boundary):
        logger.warning(
            "%.1f %% of the area lies in no village/community and gets no cells",
            100 * left / shapely.area(boundary),
        )
    cells = compute_grid(
        covered, shape=shape, size_m=size_m, resolution=resolution, communities=communities
    )
    cells = assign_codes(cells, scheme)
    logger.info("generated %d cells over %d communities", len(cells), len(communities))
    return cells


def save_cells(
    store: Store, cells: gpd.GeoDataFrame, *, source: str, replace_area: str | None = None
) -> LoadReport:
    """Upsert cells (``code``, optional ``name``, ``area_code``, counts) in one transaction.

    With ``replace_area``, the stored cells of that area (and of the areas below it) are
    deleted first, in the same transaction: a new grid replaces the old one instead of
    overlapping it. Grid workers keep their assignments to cells whose code the new grid
    has too; units are put into the new cells in the same transaction (the report's
    ``assignment``).
    """
    frame = cells.copy()
    invalid = ~frame.geometry.is_valid
    if invalid.any():
        # Reprojection to WGS-84 can leave a near-duplicate vertex that makes a ring touch
        # itself; such a cell is the same area, mended.
        logger.info("repairing %d cell geometries made invalid by reprojection", int(invalid.sum()))
        frame.loc[invalid, "geometry"] = shapely.make_valid(frame.geometry[invalid].values)
    frame["source_id"] = frame["code"].astype(str)
    if "name" not in frame or frame["name"].isna().all():
        frame["name"] = [f"第{i}网格" for i in range(1, len(frame) + 1)]
    result = ReadResult(records=frame, rejects=pd.DataFrame(), n_read=len(frame))
    ids = _descendants(_areas(store), replace_area) if replace_area else set()
    with store.engine.begin() as conn:
        kept: list[tuple[int, str]] = []
        if ids:
            kept = _remove_cells(conn, sorted(ids), replace_area or "")
        report = load_into(conn, RecordKind.CELL, result, source=source, origin="grid generate")
        if kept:
            _restore_workers(conn, kept)
        return replace(report, assignment=assign_units_on(conn))


def _remove_cells(conn: Connection, area_ids: list[int], area: str) -> list[tuple[int, str]]:
    """Delete the cells of the areas; return their (worker, cell code) assignments."""
    table = table_of(models.GridCell)
    links = table_of(models.WorkerCell)
    kept = [
        (int(worker), str(code))
        for worker, code in conn.execute(
            select(links.c.worker_id, table.c.code)
            .join(table, table.c.id == links.c.cell_id)
            .where(table.c.area_id.in_(area_ids))
        )
    ]
    removed = conn.execute(delete(table).where(table.c.area_id.in_(area_ids)))
    logger.info("replaced %d stored cells of %s", removed.rowcount, area)
    return kept


def _restore_workers(conn: Connection, kept: list[tuple[int, str]]) -> None:
    """Give workers back the cells whose code survived the replacement."""
    table = table_of(models.GridCell)
    links = table_of(models.WorkerCell)
    codes = {str(c): int(i) for i, c in conn.execute(select(table.c.id, table.c.code))}
    pairs = sorted({(w, codes[c]) for w, c in kept if c in codes})
    if pairs:
        conn.execute(insert(links), [{"worker_id": w, "cell_id": c} for w, c in pairs])
    lost = len({(w, c) for w, c in kept}) - len(pairs)
    logger.info("kept %d worker assignments; %d named cells the new grid lacks", len(pairs), lost)


def assign_units(store: Store) -> AssignReport:
    """Give every unit its cell: points by containment, polygons by largest overlap.

    Every cell a polygon touches is kept in ``unit_cell`` with its share of
    the polygon's area. Units outside every cell get no cell and are reported.
    Imports of units and of cells run this themselves (:func:`assign_units_on`).
    """
    with store.engine.begin() as conn:
        return assign_units_on(conn)


def _frame(
    conn: Connection, model: type[models.Base], columns: tuple[str, ...]
) -> gpd.GeoDataFrame:
    table = table_of(model)
    where = table.c.closed_at.is_(None) if model is models.GridCell else None
    frame = read_frame(conn, table, columns, "geom", where=where)
    return frame.set_index(pd.Index(frame["id"].to_numpy(), dtype="int64"), drop=False)


def has_grid(conn: Connection) -> bool:
    """Whether there are open cells, or units still in a cell: assignment has work to do."""
    cells = table_of(models.GridCell)
    unit = table_of(models.Unit)
    for query in (
        select(cells.c.id).where(cells.c.closed_at.is_(None)),
        select(unit.c.id).where(unit.c.cell_id.is_not(None)),
    ):
        if conn.execute(query.limit(1)).first() is not None:
            return True
    return False


def assign_units_on(conn: Connection) -> AssignReport:
    """:func:`assign_units` on an open connection, inside the caller's transaction."""
    cells = _frame(conn, models.GridCell, ("id", "code"))
    units = read_unit_points(conn)
    cell_ids = np.full(len(units.ids), -1, dtype=np.int64)
    shares: list[tuple[int, int, float]] = []
    multi = 0
    if len(cells) and len(units.ids):
        ids = cells.index.to_numpy()
        points = units.points
        located = CellIndex(cells).locate(units.x[points], units.y[points])
        cell_ids[points] = np.where(located >= 0, ids[located], -1)
        polygonal = units.polygonal
        if polygonal.any():
            main, touched = assign_polygons(units.polygons, cells)
            cell_ids[polygonal] = np.where(main >= 0, ids[main], -1)
            unit_ids = units.ids[polygonal]
            for polygon, cell, share in touched:
                shares.append((int(unit_ids[polygon]), int(ids[cell]), float(share)))
            counts = pd.Series([s[0] for s in shares]).value_counts()
            multi = int((counts > 1).sum())
    _write_assignment(conn, units.ids, cell_ids, shares, stored=units.cells)
    outside = read_outside(conn, units.ids[cell_ids < 0])
    return AssignReport(len(units.ids), int((cell_ids >= 0).sum()), outside, multi, len(cells))


def _write_assignment(
    conn: Connection,
    unit_ids: Any,
    cell_ids: Any,
    shares: list[tuple[int, int, float]],
    *,
    stored: Any = None,
) -> None:
    """Store each unit's cell and the shares, writing only what changed.

    ``stored`` is each unit's stored cell id (-1 for none), read with the units; without
    it the stored cells are read here. They are compared as arrays and only the units
    whose cell changed are written (:func:`_move_units`).
    """
    share_table = table_of(models.UnitCell)
    units = np.asarray(unit_ids, dtype=np.int64)
    before = _stored_cells(conn, units) if stored is None else np.asarray(stored, np.int64)
    moved, to = _moves(units, np.asarray(cell_ids, np.int64), before)
    if len(moved):
        _move_units(conn, moved, to)
        logger.info("moved %d units to another cell", len(moved))
    rows = [{"unit_id": u, "cell_id": c, "share": min(max(s, 0.0), 1.0)} for u, c, s in shares]
    old = {
        (int(u), int(c)): float(s)
        for u, c, s in conn.execute(
            select(share_table.c.unit_id, share_table.c.cell_id, share_table.c.share)
        )
    }
    if old != {(r["unit_id"], r["cell_id"]): r["share"] for r in rows}:
        conn.execute(delete(share_table))
        if rows:
            conn.execute(insert(share_table), rows)


def _move_units(conn: Connection, units: Any, cells: Any) -> None:
    """Set the cell of each of ``units`` (-1: none) in one statement run over them all.

    SQLite takes a prepared ``UPDATE`` run over plain tuples (``executemany``), with the
    per-row geometry triggers lifted (only the cell changes); PostGIS a temporary table
    filled by ``COPY`` and one ``UPDATE ... FROM``.
    """
    pairs = list(
        zip(
            [None if c < 0 else c for c in cells.tolist()],
            units.tolist(),
            strict=True,
        )
    )
    if conn.dialect.name == "postgresql":
        _move_by_copy(conn, pairs)
        return
    unit = table_of(models.Unit).name
    with lifted_triggers(conn, _CELL_UPDATE_TRIGGERS, len(pairs)):
        conn.exec_driver_sql(f'UPDATE "{unit}" SET cell_id = ? WHERE id = ?', pairs)


#: The temporary table a PostGIS assignment copies its moves into.
_MOVES = "gridmap_unit_moves"


def _move_by_copy(conn: Connection, pairs: list[tuple[int | None, int]]) -> None:
    unit = table_of(models.Unit).name
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_MOVES}")
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {_MOVES} (cell_id bigint, unit_id bigint)")
    raw: Any = conn.connection.driver_connection
    with (
        raw.cursor() as cursor,
        cursor.copy(f"COPY {_MOVES} (cell_id, unit_id) FROM STDIN") as copy,
    ):
        for pair in pairs:
            copy.write_row(pair)
    conn.exec_driver_sql(
        f'UPDATE "{unit}" AS u SET cell_id = m.cell_id FROM {_MOVES} AS m WHERE u.id = m.unit_id'
    )
    conn.exec_driver_sql(f"DROP TABLE {_MOVES}")


def _stored_cells(conn: Connection, unit_ids: Any) -> Any:
    """The stored cell id of each unit (-1 for none, -2 for a unit not stored)."""
    unit_table = table_of(models.Unit)
    stored = conn.execute(select(unit_table.c.id, unit_table.c.cell_id)).all()
    now = pd.Series(
        np.asarray([-1 if r[1] is None else int(r[1]) for r in stored], dtype=np.int64),
        index=pd.Index([int(r[0]) for r in stored], dtype="int64"),
    )
    return now.reindex(unit_ids, fill_value=-2).to_numpy()


def _moves(unit_ids: Any, cell_ids: Any, before: Any) -> tuple[Any, Any]:
    """The units whose stored cell ``before`` differs, and their new cells (-1: none).

    In the order of their ids: the rows are written in the order the table keeps them.
    """
    wanted = np.where(cell_ids >= 0, cell_ids, -1)
    changed = before != wanted
    order = np.argsort(unit_ids[changed], kind="stable")
    return unit_ids[changed][order], wanted[changed][order]


def check_area_grid(
    store: Store, area_code: str, *, overlap_tolerance_m2: float = 1.0
) -> GridReport:
    """Check the stored cells against the boundary of ``area_code`` and its communities."""
    from gridmap.coverage.inputs import read_inputs

    boundary = area_boundary(store, area_code)
    cells = read_inputs(store).cells
    # The area's cells are those of its communities (or of itself); cells of no area that
    # overlap the boundary are checked too. Neighbours' cells touching the border are not.
    ids = _descendants(_areas(store), area_code)
    orphans = cells["area_id"].isna() & cells.intersects(boundary) & ~cells.touches(boundary)
    inside = cells[cells["area_id"].isin(ids) | orphans]
    communities = communities_within(store, area_code)
    return compute_grid_check(
        inside[["code", "geometry"]],
        boundary,
        communities=communities if len(communities) else None,
        overlap_tolerance_m2=overlap_tolerance_m2,
    )
