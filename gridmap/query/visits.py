"""Visits from the field (走访记录), idempotent, scoped to the units a user may see."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Table, func, select
from sqlalchemy.exc import IntegrityError

from gridmap.accounts.audit import record, utcnow
from gridmap.errors import NotFoundError
from gridmap.query._common import Page, check_code, check_id, check_page
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["Actor", "NewVisit", "live_unit_filter", "record_visit", "visits_in_scope"]


def _visits() -> Table:
    return table_of(models.Visit)


def _units() -> Table:
    return table_of(models.Unit)


@dataclass(frozen=True)
class Actor:
    """Who does something: the signed-in user, their worker record and scope."""

    user_id: int
    username: str
    scope: Scope
    worker_id: int | None = None


@dataclass(frozen=True)
class NewVisit:
    """A visit as a worker records it; ``lon``/``lat`` already in WGS-84, ``location_crs``
    the system the phone gave them in, ``accuracy_m`` the accuracy it reported."""

    unit_id: int
    note: str
    visited_at: dt.datetime | None = None
    lon: float | None = None
    lat: float | None = None
    key: str | None = None
    change_kind: str | None = None
    change: dict[str, Any] | None = None
    location_crs: str | None = None
    accuracy_m: float | None = None


def live_unit_filter(scope: Scope, unit_id: Any) -> Any:
    """SQL: ``unit_id`` names a unit whose cell is in ``scope`` (current records)."""
    units = _units()
    inside = select(units.c.id).where(units.c.cell_id.in_(scope.cell_ids()))
    if scope.kind == "all":
        inside = select(units.c.id)
    return unit_id.in_(inside)


def _visit_out(row: Any) -> dict[str, Any]:
    out = dict(row._mapping)
    out.pop("idempotency_key", None)
    return out


def _existing(conn: Connection, user_id: int, key: str) -> dict[str, Any] | None:
    visits = _visits()
    row = conn.execute(
        select(visits).where((visits.c.user_id == user_id) & (visits.c.idempotency_key == key))
    ).first()
    return None if row is None else _visit_out(row)


def _insert(conn: Connection, actor: Actor, visit: NewVisit) -> dict[str, Any]:
    visits = _visits()
    values = {
        "worker_id": actor.worker_id,
        "unit_id": visit.unit_id,
        "user_id": actor.user_id,
        "visited_at": visit.visited_at or utcnow(),
        "note": visit.note,
        "status_change": visit.change_kind,
        "lon": visit.lon,
        "lat": visit.lat,
        "location_crs": visit.location_crs if visit.lon is not None else None,
        "accuracy_m": visit.accuracy_m if visit.lon is not None else None,
        "idempotency_key": visit.key,
        "created_at": utcnow(),
    }
    visit_id = conn.execute(visits.insert().values(**values).returning(visits.c.id)).scalar_one()
    if visit.change_kind is not None:
        changes = table_of(models.PendingChange)
        conn.execute(
            changes.insert().values(
                visit_id=visit_id,
                unit_id=visit.unit_id,
                kind=visit.change_kind,
                payload=visit.change or {},
                status="pending",
                reported_by=actor.user_id,
                reported_at=utcnow(),
            )
        )
    row = conn.execute(select(visits).where(visits.c.id == visit_id)).one()
    out = _visit_out(row)
    record(
        conn,
        actor=actor.username,
        action="visit.create",
        entity="visit",
        entity_id=int(visit_id),
        after={k: str(v) if isinstance(v, dt.datetime) else v for k, v in out.items()},
        change=visit.change,
    )
    return out


def record_visit(store: Store, actor: Actor, visit: NewVisit) -> tuple[dict[str, Any], bool]:
    """Store a visit to a unit in the actor's scope; ``(visit, created)``.

    A repeat with the same idempotency key returns the first visit (``created`` False).
    """
    check_id(visit.unit_id, "unit")
    if actor.worker_id is None:
        msg = "only a grid worker's account records visits"
        raise NotFoundError(msg)
    with store.engine.connect() as conn:
        inside = conn.execute(
            select(_units().c.id).where(
                (_units().c.id == visit.unit_id) & live_unit_filter(actor.scope, _units().c.id)
            )
        ).first()
        if inside is None:
            msg = f"no unit {visit.unit_id}"
            raise NotFoundError(msg)
        if visit.key is not None and (first := _existing(conn, actor.user_id, visit.key)):
            return first, False
    try:
        with store.engine.begin() as conn:
            return _insert(conn, actor, visit), True
    except IntegrityError:  # the same key raced in: answer with the first one
        with store.engine.connect() as conn:
            first = _existing(conn, actor.user_id, visit.key) if visit.key else None
        if first is None:
            raise
        return first, False


def visits_in_scope(
    store: Store,
    scope: Scope,
    *,
    cell: str | None = None,
    unit: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Visits to units in ``scope``, newest first, optionally of one cell or unit."""
    visits = _visits()
    limit, offset = check_page(limit, offset)
    where = live_unit_filter(scope, visits.c.unit_id)
    if unit is not None:
        where = where & (visits.c.unit_id == check_id(unit, "unit"))
    if cell is not None:
        cells = table_of(models.GridCell)
        in_cell = (
            select(_units().c.id)
            .join(cells, _units().c.cell_id == cells.c.id)
            .where(cells.c.code == check_code(cell, "grid cell"))
        )
        where = where & visits.c.unit_id.in_(in_cell)
    query = select(visits).where(where).order_by(visits.c.visited_at.desc(), visits.c.id.desc())
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(visits).where(where)).scalar()
        rows = conn.execute(query.limit(limit).offset(offset)).all()
    return Page(items=[_visit_out(r) for r in rows], total=int(total or 0))
