"""Stored coverage results (cells and units of a run), filtered by a :class:`Scope` in SQL."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Table, func, select

from gridmap.errors import NotFoundError
from gridmap.query._common import Page, check_code, check_id, check_page, resolve_run
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["cell_in_scope", "cells_in_scope", "unit_in_scope", "units_of_cell"]


def _cells() -> Table:
    return table_of(models.CoverageCell)


def _units() -> Table:
    return table_of(models.CoverageUnit)


def _cell_filter(scope: Scope, run_id: int) -> ColumnElement[bool]:
    cells = _cells()
    where = cells.c.run_id == run_id
    if scope.kind == "area":
        return where & scope.area_filter(cells.c.area_code)
    if scope.kind == "worker":
        return where & cells.c.code.in_(scope.cell_codes())
    return where


def _unit_filter(scope: Scope, run_id: int) -> ColumnElement[bool]:
    """Units of the run whose stored cell is in scope (a correlated key lookup per unit)."""
    units, cells = _units(), _cells()
    where = units.c.run_id == run_id
    if scope.kind == "all":
        return where
    own_cell = select(cells.c.code).where(
        _cell_filter(scope, run_id) & (cells.c.code == units.c.cell_code)
    )
    return where & own_cell.exists()


def _clean(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out.pop("run_id", None)
    return out


def cells_in_scope(
    store: Store,
    scope: Scope,
    run_id: int | None = None,
    *,
    limit: int = 100,
    offset: int = 0,
    status: str | None = None,
) -> Page:
    """A page of a run's cells in ``scope`` (the newest run by default), by code."""
    run = resolve_run(store, run_id)
    limit, offset = check_page(limit, offset)
    where = _cell_filter(scope, run)
    if status is not None:
        where = where & (_cells().c.status == status)
    query = select(_cells()).where(where).order_by(_cells().c.code).limit(limit).offset(offset)
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(_cells()).where(where)).scalar()
        rows = conn.execute(query).all()
    return Page(items=[_clean(r) | {"run": run} for r in rows], total=int(total or 0))


def cell_in_scope(
    store: Store, scope: Scope, code: str, run_id: int | None = None
) -> dict[str, Any]:
    """One cell of a run, or :class:`NotFoundError` when absent or outside ``scope``."""
    check_code(code, "grid cell")
    run = resolve_run(store, run_id)
    query = select(_cells()).where(_cell_filter(scope, run) & (_cells().c.code == code))
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    if row is None:
        msg = f"no grid cell {code!r} in run {run}"
        raise NotFoundError(msg)
    return _clean(row) | {"run": run}


def units_of_cell(
    store: Store,
    scope: Scope,
    code: str,
    run_id: int | None = None,
    *,
    uncovered_only: bool = False,
) -> list[dict[str, Any]]:
    """A cell's units in a run; none when the cell is outside ``scope`` (the filter is SQL)."""
    units = _units()
    where = _unit_filter(scope, resolve_run(store, run_id)) & (units.c.cell_code == code)
    if uncovered_only:
        where = where & (units.c.service_covered.is_(False) | (units.c.org_status == "none"))
    with store.engine.connect() as conn:
        # sorted here: an ORDER BY unit_id would lead SQLite to scan the run's primary key
        rows = conn.execute(select(units).where(where)).all()
    return sorted((_clean(r) for r in rows), key=lambda u: int(u["unit_id"]))


def unit_in_scope(
    store: Store, scope: Scope, unit_id: int, run_id: int | None = None
) -> dict[str, Any]:
    """One unit's stored result, or :class:`NotFoundError` when absent or outside ``scope``."""
    run = resolve_run(store, run_id)
    units = _units()
    where = _unit_filter(scope, run) & (units.c.unit_id == check_id(unit_id, "unit"))
    with store.engine.connect() as conn:
        row = conn.execute(select(units).where(where)).first()
    if row is None:
        msg = f"no unit {unit_id} in run {run}"
        raise NotFoundError(msg)
    return _clean(row) | {"run": run}
