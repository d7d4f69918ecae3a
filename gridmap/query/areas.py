"""Area roll-ups and runs as a scoped user sees them (from each run's stored roll-up)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table, select

from gridmap.errors import NotFoundError
from gridmap.query._common import check_code, resolve_run
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["area_in_scope", "area_trend", "run_in_scope", "runs_in_scope"]

_RUN_FIELDS = ("id", "created_at", "as_of", "label", "params")


def _runs() -> Table:
    return table_of(models.CoverageRun)


def _area_row(areas: list[dict[str, Any]], code: str) -> dict[str, Any] | None:
    return next((a for a in areas if str(a.get("code")) == code), None)


def _check_area(scope: Scope, code: str) -> None:
    check_code(code, "admin area")
    if not scope.covers_area(code):
        msg = f"no admin area {code!r}"
        raise NotFoundError(msg)


def area_in_scope(
    store: Store, scope: Scope, code: str, run_id: int | None = None
) -> dict[str, Any]:
    """An area's rates in a run (the newest by default); 404 outside ``scope``."""
    _check_area(scope, code)
    run = resolve_run(store, run_id)
    with store.engine.connect() as conn:
        areas = conn.execute(select(_runs().c.areas).where(_runs().c.id == run)).scalar_one()
    row = _area_row(areas, code)
    if row is None:
        msg = f"no admin area {code!r} in run {run}"
        raise NotFoundError(msg)
    return row | {"run": run}


def area_trend(store: Store, scope: Scope, code: str) -> list[dict[str, Any]]:
    """An area's rates in every run that has it, oldest first."""
    _check_area(scope, code)
    query = select(_runs().c.id, _runs().c.as_of, _runs().c.created_at, _runs().c.areas)
    with store.engine.connect() as conn:
        rows = conn.execute(query.order_by(_runs().c.id)).all()
    trend = []
    for r in rows:
        row = _area_row(r.areas, code)
        if row is not None:
            trend.append(row | {"run": r.id, "as_of": r.as_of, "created_at": r.created_at})
    if not trend:
        msg = f"no admin area {code!r} in any stored run"
        raise NotFoundError(msg)
    return trend


def _scope_rates(scope: Scope, summary: dict[str, Any], areas: list[dict[str, Any]]) -> Any:
    """The headline rates a scope may see: the total, its own area's, or none (workers)."""
    if scope.kind == "all":
        return _area_row(areas, "*") or summary
    if scope.kind == "area":
        return _area_row(areas, str(scope.area_code))
    return None


def _run_out(scope: Scope, row: Any) -> dict[str, Any]:
    out = {key: getattr(row, key) for key in _RUN_FIELDS}
    out["mode"] = (row.params or {}).get("mode")
    out["rates"] = _scope_rates(scope, row.summary or {}, row.areas or [])
    return out


def runs_in_scope(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """Every stored run, newest first, with the rates of the caller's scope."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(_runs()).order_by(_runs().c.id.desc())).all()
    return [_run_out(scope, r) for r in rows]


def run_in_scope(store: Store, scope: Scope, run_id: int) -> dict[str, Any]:
    """One stored run with the rates of the caller's scope."""
    run = resolve_run(store, run_id)
    with store.engine.connect() as conn:
        row = conn.execute(select(_runs()).where(_runs().c.id == run)).one()
    return _run_out(scope, row)
