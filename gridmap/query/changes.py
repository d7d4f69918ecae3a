"""Changes a visit reported, waiting for a department's confirmation before they apply.

Kinds and payloads: ``members`` ``{"party_members": N}``; ``branch_set_up``
``{"name"?, "members"?}`` (an own branch of the unit, established on the visit day);
``station_active`` ``{"station_id"}`` (its last activity becomes the visit day);
``unit_moved`` ``{"lon", "lat"}`` (WGS-84); ``unit_closed`` ``{}`` (the unit is closed as an
import with ``--sync`` closes a record: ``closed_at`` set, left out of runs and exports, its
visits and reported changes kept as history).
The next coverage run reflects a confirmed change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import Connection, Table, func, select, update

from gridmap.accounts.audit import record, utcnow
from gridmap.errors import InvalidInputError, NotFoundError
from gridmap.query._common import Page, check_id, check_page
from gridmap.query.scope import Scope
from gridmap.query.visits import Actor, live_unit_filter
from gridmap.store import Store, models, table_of

__all__ = ["CHANGE_KINDS", "changes_in_scope", "decide_change"]


def _changes() -> Table:
    return table_of(models.PendingChange)


def _table(model: type[models.Base]) -> Table:
    return table_of(model)


def _plain(row: Any) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v
        for k, v in row._mapping.items()
        if k != "geom"
    }


def _unit(conn: Connection, unit_id: int) -> dict[str, Any]:
    return _plain(conn.execute(select(_table(models.Unit)).where(models.Unit.id == unit_id)).one())


def _members(conn: Connection, change: dict[str, Any], day: dt.date) -> Any:
    count = change["payload"].get("party_members")
    if not isinstance(count, int) or count < 0:
        msg = "a members change needs party_members, a whole number >= 0"
        raise InvalidInputError(msg)
    conn.execute(
        update(_table(models.Unit))
        .where(models.Unit.id == change["unit_id"])
        .values(party_members=count)
    )
    return _unit(conn, change["unit_id"])


def _branch(conn: Connection, change: dict[str, Any], day: dt.date) -> Any:
    unit = _unit(conn, change["unit_id"])
    payload = change["payload"]
    values = {
        "kind": "branch",
        "name": str(payload.get("name") or f"{unit['name'] or '单位'}党支部"),
        "members": payload.get("members"),
        "established": day,
        "last_activity": day,
        "own_unit_id": change["unit_id"],
        "source": "visit",
        "source_id": f"change-{change['id']}",
    }
    org_id = conn.execute(
        _table(models.PartyOrg).insert().values(**values).returning(models.PartyOrg.id)
    ).scalar_one()
    return {"party_org": int(org_id), **{k: str(v) for k, v in values.items()}}


def _station(conn: Connection, change: dict[str, Any], day: dt.date) -> Any:
    station_id = change["payload"].get("station_id")
    table = _table(models.Station)
    if not isinstance(station_id, int) or not 0 < station_id < 2**31:
        msg = "a station_active change needs station_id"
        raise InvalidInputError(msg)
    found = conn.execute(select(table).where(table.c.id == station_id)).first()
    if found is None:
        msg = f"no station {station_id}"
        raise NotFoundError(msg)
    conn.execute(update(table).where(table.c.id == station_id).values(last_activity=day))
    return {"station": station_id, "last_activity": day.isoformat()}


def _moved(conn: Connection, change: dict[str, Any], day: dt.date) -> Any:
    lon, lat = change["payload"].get("lon"), change["payload"].get("lat")
    if not all(isinstance(v, int | float) for v in (lon, lat)):
        msg = "a unit_moved change needs lon and lat (WGS-84)"
        raise InvalidInputError(msg)
    conn.execute(
        update(_table(models.Unit))
        .where(models.Unit.id == change["unit_id"])
        .values(geom=from_shape(Point(float(lon), float(lat)), srid=4326))
    )
    return {"lon": lon, "lat": lat}


def _closed(conn: Connection, change: dict[str, Any], day: dt.date) -> Any:
    units = _table(models.Unit)
    stamp = utcnow()
    conn.execute(
        update(units)
        .where((units.c.id == change["unit_id"]) & units.c.closed_at.is_(None))
        .values(closed_at=stamp)
    )
    return {"closed_at": stamp.isoformat()}


_APPLY: dict[str, Callable[[Connection, dict[str, Any], dt.date], Any]] = {
    "members": _members,
    "branch_set_up": _branch,
    "station_active": _station,
    "unit_moved": _moved,
    "unit_closed": _closed,
}
CHANGE_KINDS: tuple[str, ...] = tuple(_APPLY)


def _scoped(scope: Scope) -> Any:
    return live_unit_filter(scope, _changes().c.unit_id)


def changes_in_scope(
    store: Store, scope: Scope, *, status: str | None = None, limit: int = 100, offset: int = 0
) -> Page:
    """Reported changes to units in ``scope``, newest first."""
    limit, offset = check_page(limit, offset)
    where = _scoped(scope)
    if status is not None:
        where = where & (_changes().c.status == status)
    query = select(_changes()).where(where).order_by(_changes().c.id.desc())
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(_changes()).where(where)).scalar()
        rows = conn.execute(query.limit(limit).offset(offset)).all()
    return Page(items=[dict(r._mapping) for r in rows], total=int(total or 0))


def decide_change(store: Store, actor: Actor, change_id: int, *, confirm: bool) -> dict[str, Any]:
    """Confirm (apply to the records) or reject a pending change in the actor's scope."""
    where = (_changes().c.id == check_id(change_id, "change")) & _scoped(actor.scope)
    with store.engine.begin() as conn:
        row = conn.execute(select(_changes()).where(where)).first()
        if row is None:
            msg = f"no change {change_id}"
            raise NotFoundError(msg)
        change = dict(row._mapping)
        if change["status"] != "pending":
            msg = f"change {change_id} was {change['status']} already"
            raise InvalidInputError(msg)
        visits = _table(models.Visit)
        visited = conn.execute(
            select(visits.c.visited_at).where(visits.c.id == change["visit_id"])
        ).scalar_one()
        before = _unit(conn, change["unit_id"])
        decided = {"status": "confirmed" if confirm else "rejected", "decided_at": utcnow()}
        conn.execute(
            update(_changes())
            .where(_changes().c.id == change_id)
            .values(decided_by=actor.user_id, **decided)
        )
        after = _APPLY[change["kind"]](conn, change, visited.date()) if confirm else None
        record(
            conn,
            actor=actor.username,
            action="change.confirm" if confirm else "change.reject",
            entity="pending_change",
            entity_id=change_id,
            before=before,
            after=after,
            kind=change["kind"],
            payload=change["payload"],
        )
    return change | decided | {"decided_by": actor.user_id}
