"""Tasks (派单): a department sends a blind zone, an 应建未建 unit or an idle organisation
or station to the grid worker of its cell; the worker completes it with a visit.

A task belongs to a cell; the scope filter is on that cell in SQL (a worker sees the tasks
of their cells, a department those of its area). The assignee is the worker of the cell
when the task was made. Creating, completing and cancelling are audited.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import ColumnElement, Connection, Table, case, func, select, true, update

from gridmap.accounts.audit import record, utcnow
from gridmap.errors import InvalidInputError, NotFoundError
from gridmap.query._common import Page, check_code, check_id, check_page
from gridmap.query.results import _cell_filter, _unit_filter
from gridmap.query.scope import Scope
from gridmap.query.visits import Actor, NewVisit, live_unit_filter, record_visit
from gridmap.store import Store, models, table_of

__all__ = [
    "TASK_KINDS",
    "TASK_STATUSES",
    "NewTask",
    "cancel_task",
    "complete_task",
    "create_task",
    "task_in_scope",
    "task_sources",
    "tasks_in_scope",
]

#: What a task comes from: a blind zone (a cell), an 应建未建 unit, an idle org or station.
TASK_KINDS: tuple[str, ...] = ("blind_zone", "must_build", "idle_org", "idle_station")
TASK_STATUSES: tuple[str, ...] = ("open", "done", "cancelled")


def _tasks() -> Table:
    return table_of(models.Task)


@dataclass(frozen=True)
class NewTask:
    """A task as a department makes it: ``ref`` is a cell code (blind_zone) or the id of
    the unit (must_build), party organisation (idle_org) or station (idle_station)."""

    kind: str
    ref: str
    due: dt.date | None = None
    note: str | None = None


@dataclass(frozen=True)
class _Source:
    cell_id: int
    title: str | None
    unit_id: int | None = None
    org_id: int | None = None
    station_id: int | None = None


def _scoped(scope: Scope) -> ColumnElement[bool]:
    if scope.kind == "all":
        return true()
    return _tasks().c.cell_id.in_(scope.cell_ids())


def _cell_in_scope(conn: Connection, scope: Scope, cell_id: int | None, what: str) -> int:
    cells = table_of(models.GridCell)
    where = cells.c.id == cell_id
    if scope.kind != "all":
        where = where & cells.c.id.in_(scope.cell_ids())
    if cell_id is None or conn.execute(select(cells.c.id).where(where)).first() is None:
        msg = f"no {what}"
        raise NotFoundError(msg)
    return cell_id


def _ref_id(ref: str, what: str) -> int:
    if not ref.isdigit() or len(ref) > 10:
        msg = f"no {what} {ref[:40]!r}: give its number"
        raise NotFoundError(msg)
    return check_id(int(ref), what)


def _newest_run(conn: Connection) -> int:
    runs = table_of(models.CoverageRun)
    found = conn.execute(select(func.max(runs.c.id))).scalar()
    if found is None:
        msg = "no coverage run stored yet: tasks come from a run's results (gridmap coverage run)"
        raise InvalidInputError(msg)
    return int(found)


def _blind_zone(conn: Connection, scope: Scope, ref: str) -> _Source:
    cells, results = table_of(models.GridCell), table_of(models.CoverageCell)
    row = conn.execute(
        select(cells.c.id, cells.c.name).where(cells.c.code == check_code(ref, "grid cell"))
    ).first()
    cell_id = _cell_in_scope(conn, scope, None if row is None else row.id, f"grid cell {ref!r}")
    run = _newest_run(conn)
    status = conn.execute(
        select(results.c.status).where((results.c.run_id == run) & (results.c.code == ref))
    ).scalar()
    if status not in ("blind", "partial"):
        msg = (
            f"cell {ref} is {status or 'not in'} run {run}: "
            "a blind-zone task needs a blind or partial cell"
        )
        raise InvalidInputError(msg)
    return _Source(cell_id=cell_id, title=row.name if row is not None else None)


def _must_build(conn: Connection, scope: Scope, ref: str) -> _Source:
    units, results = table_of(models.Unit), table_of(models.CoverageUnit)
    unit_id = _ref_id(ref, "unit")
    row = conn.execute(
        select(units.c.id, units.c.name, units.c.cell_id).where(
            (units.c.id == unit_id) & live_unit_filter(scope, units.c.id)
        )
    ).first()
    cell_id = _cell_in_scope(conn, scope, None if row is None else row.cell_id, f"unit {ref}")
    run = _newest_run(conn)
    must = conn.execute(
        select(results.c.must_have_branch).where(
            (results.c.run_id == run) & (results.c.unit_id == unit_id)
        )
    ).scalar()
    if not must:
        msg = f"unit {unit_id} is not 应建未建 in run {run}: a must_build task needs such a unit"
        raise InvalidInputError(msg)
    return _Source(cell_id=cell_id, title=row.name if row is not None else None, unit_id=unit_id)


def _cell_of_point(conn: Connection, geom: Any) -> int | None:
    cells = table_of(models.GridCell)
    found = conn.execute(
        select(cells.c.id)
        .where(cells.c.closed_at.is_(None) & func.ST_Intersects(cells.c.geom, geom))
        .order_by(cells.c.id)
        .limit(1)
    ).scalar()
    return None if found is None else int(found)


def _cell_of_org(conn: Connection, org: Any) -> int | None:
    units, links = table_of(models.Unit), table_of(models.OrgUnit)
    if org.own_unit_id is not None:
        own = conn.execute(select(units.c.cell_id).where(units.c.id == org.own_unit_id)).scalar()
        if own is not None:
            return int(own)
    member = conn.execute(
        select(func.min(units.c.cell_id))
        .join(links, links.c.unit_id == units.c.id)
        .where(links.c.org_id == org.id)
    ).scalar()
    if member is not None:
        return int(member)
    return None if org.geom is None else _cell_of_point(conn, org.geom)


#: a run's word for a site without activity for too long (gridmap.coverage.rules.IDLE)
_IDLE = "idle"


def _must_be_idle(conn: Connection, role: str, site_id: int, what: str) -> None:
    """The newest run judged this organisation or station idle (runs stored before their
    judged sites were kept cannot tell, and are believed)."""
    sites, runs = table_of(models.CoverageSite), table_of(models.CoverageRun)
    run = _newest_run(conn)
    if conn.execute(select(runs.c.outputs).where(runs.c.id == run)).scalar() is None:
        return
    activity = conn.execute(
        select(sites.c.activity).where(
            (sites.c.run_id == run) & (sites.c.role == role) & (sites.c.site_id == site_id)
        )
    ).scalar()
    if activity is None:
        msg = f"{what} {site_id} is not in run {run}: run coverage again to judge it first"
        raise InvalidInputError(msg)
    if activity != _IDLE:
        msg = f"{what} {site_id} is {activity} in run {run}: an idle task needs an idle one"
        raise InvalidInputError(msg)


def _idle_org(conn: Connection, scope: Scope, ref: str) -> _Source:
    orgs = table_of(models.PartyOrg)
    org_id = _ref_id(ref, "party organisation")
    org = conn.execute(select(orgs).where(orgs.c.id == org_id)).first()
    cell = None if org is None else _cell_of_org(conn, org)
    cell_id = _cell_in_scope(conn, scope, cell, f"party organisation {ref} in a cell")
    _must_be_idle(conn, "org", org_id, "party organisation")
    own = org.own_unit_id if org is not None else None
    return _Source(cell_id=cell_id, title=org.name if org else None, unit_id=own, org_id=org_id)


def _idle_station(conn: Connection, scope: Scope, ref: str) -> _Source:
    stations = table_of(models.Station)
    station_id = _ref_id(ref, "station")
    row = conn.execute(select(stations).where(stations.c.id == station_id)).first()
    cell = None if row is None else _cell_of_point(conn, row.geom)
    cell_id = _cell_in_scope(conn, scope, cell, f"station {ref} in a cell")
    _must_be_idle(conn, "station", station_id, "station")
    return _Source(cell_id=cell_id, title=row.name if row else None, station_id=station_id)


_SOURCES = {
    "blind_zone": _blind_zone,
    "must_build": _must_build,
    "idle_org": _idle_org,
    "idle_station": _idle_station,
}


def _assignee(conn: Connection, cell_id: int, code: str) -> int:
    assigned = table_of(models.WorkerCell)
    worker = conn.execute(
        select(func.min(assigned.c.worker_id)).where(assigned.c.cell_id == cell_id)
    ).scalar()
    if worker is None:
        msg = f"no grid worker is assigned to cell {code}: assign one first (/admin/assignments)"
        raise InvalidInputError(msg)
    return int(worker)


def _plain(task: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v.isoformat() if isinstance(v, dt.date | dt.datetime) else v for k, v in task.items()
    }


def _open_duplicate(conn: Connection, kind: str, source: _Source) -> int | None:
    tasks = _tasks()
    where = (
        (tasks.c.kind == kind) & (tasks.c.status == "open") & (tasks.c.cell_id == source.cell_id)
    )
    for column, value in (
        (tasks.c.unit_id, source.unit_id),
        (tasks.c.org_id, source.org_id),
        (tasks.c.station_id, source.station_id),
    ):
        where = where & (column.is_(None) if value is None else column == value)
    found = conn.execute(select(tasks.c.id).where(where)).scalar()
    return None if found is None else int(found)


def create_task(store: Store, actor: Actor, new: NewTask) -> dict[str, Any]:
    """Make a task for the worker of the cell ``new`` points at (in the actor's scope)."""
    if new.kind not in _SOURCES:
        msg = f"task kind must be one of {', '.join(TASK_KINDS)}, got {new.kind!r}"
        raise InvalidInputError(msg)
    cells = table_of(models.GridCell)
    with store.engine.begin() as conn:
        source = _SOURCES[new.kind](conn, actor.scope, new.ref)
        code = str(conn.execute(select(cells.c.code).where(cells.c.id == source.cell_id)).scalar())
        if (same := _open_duplicate(conn, new.kind, source)) is not None:
            msg = f"task {same} for this is open already: complete or cancel it first"
            raise InvalidInputError(msg)
        now = utcnow()
        values = {
            "kind": new.kind,
            "cell_id": source.cell_id,
            "cell_code": code,
            "unit_id": source.unit_id,
            "org_id": source.org_id,
            "station_id": source.station_id,
            "title": source.title,
            "assignee_id": _assignee(conn, source.cell_id, code),
            "due": new.due,
            "note": new.note or None,
            "status": "open",
            "created_by": actor.user_id,
            "created_at": now,
            "updated_at": now,
        }
        task_id = conn.execute(
            _tasks().insert().values(**values).returning(_tasks().c.id)
        ).scalar_one()
        task = _one(conn, int(task_id))
        record(conn, actor=actor.username, action="task.create", entity="task",
               entity_id=int(task_id), after=_plain(task))  # fmt: skip
    return task


def _one(
    conn: Connection, task_id: int, where: ColumnElement[bool] | None = None
) -> dict[str, Any]:
    tasks = _tasks()
    query = select(tasks).where(tasks.c.id == task_id)
    if where is not None:
        query = query.where(where)
    row = conn.execute(query).first()
    if row is None:
        msg = f"no task {task_id}"
        raise NotFoundError(msg)
    return dict(row._mapping)


def task_in_scope(store: Store, scope: Scope, task_id: int) -> dict[str, Any]:
    """One task whose cell is in ``scope`` (404 otherwise)."""
    with store.engine.connect() as conn:
        return _one(conn, check_id(task_id, "task"), _scoped(scope))


def tasks_in_scope(
    store: Store,
    scope: Scope,
    *,
    status: str | None = None,
    cell: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Tasks of cells in ``scope``: open first, then by due date (none last), newest."""
    tasks = _tasks()
    limit, offset = check_page(limit, offset)
    where = _scoped(scope)
    if status is not None:
        where = where & (tasks.c.status == status)
    if cell is not None:
        where = where & (tasks.c.cell_code == check_code(cell, "grid cell"))
    order = (
        case((tasks.c.status == "open", 0), else_=1),
        case((tasks.c.due.is_(None), 1), else_=0),
        tasks.c.due,
        tasks.c.id.desc(),
    )
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(tasks).where(where)).scalar()
        rows = conn.execute(
            select(tasks).where(where).order_by(*order).limit(limit).offset(offset)
        ).all()
    return Page(items=[dict(r._mapping) for r in rows], total=int(total or 0))


def _replayed(store: Store, actor: Actor, task: dict[str, Any], key: str | None) -> bool:
    """Whether a done task was completed by this very request before (same visit key)."""
    if key is None or task["status"] != "done" or task["visit_id"] is None:
        return False
    visits = table_of(models.Visit)
    with store.engine.connect() as conn:
        first = conn.execute(
            select(visits.c.id).where(
                (visits.c.user_id == actor.user_id) & (visits.c.idempotency_key == key)
            )
        ).scalar()
    return bool(first == task["visit_id"])


def _visit_unit(store: Store, task: dict[str, Any], unit_id: int) -> int:
    if not unit_id:
        if task["unit_id"] is None:
            msg = (
                f"task {task['id']} names no unit: say which unit of cell "
                f"{task['cell_code']} you visited (unit_id)"
            )
            raise InvalidInputError(msg)
        return int(task["unit_id"])
    units = table_of(models.Unit)
    with store.engine.connect() as conn:
        cell = conn.execute(
            select(units.c.cell_id).where(units.c.id == check_id(unit_id, "unit"))
        ).scalar()
    if cell != task["cell_id"]:
        msg = f"unit {unit_id} is not in cell {task['cell_code']} of task {task['id']}"
        raise InvalidInputError(msg)
    return unit_id


def complete_task(store: Store, actor: Actor, task_id: int, visit: NewVisit) -> dict[str, Any]:
    """Complete an open task with a visit (``visit.unit_id`` 0: the task's own unit).

    The visit (and any change it reports, pending a department's confirmation) is stored
    as :func:`record_visit` stores it; a repeat with the same idempotency key answers the
    completed task again.
    """
    task = task_in_scope(store, actor.scope, task_id)
    if _replayed(store, actor, task, visit.key):
        return task
    if task["status"] != "open":
        msg = f"task {task_id} is {task['status']} already"
        raise InvalidInputError(msg)
    visit = replace(visit, unit_id=_visit_unit(store, task, visit.unit_id))
    stored, _ = record_visit(store, actor, visit)
    now = utcnow()
    with store.engine.begin() as conn:
        done = conn.execute(
            update(_tasks())
            .where((_tasks().c.id == task_id) & (_tasks().c.status == "open"))
            .values(status="done", visit_id=stored["id"], updated_at=now, closed_at=now)
        )
        if done.rowcount != 1:
            msg = f"task {task_id} was closed meanwhile; the visit {stored['id']} is kept"
            raise InvalidInputError(msg)
        after = _one(conn, task_id)
        record(conn, actor=actor.username, action="task.complete", entity="task",
               entity_id=task_id, before={"status": "open"},
               after={"status": "done", "visit_id": stored["id"]})  # fmt: skip
    return after


def cancel_task(
    store: Store, actor: Actor, task_id: int, reason: str | None = None
) -> dict[str, Any]:
    """Cancel an open task in the actor's scope; audited with the reason."""
    task = task_in_scope(store, actor.scope, task_id)
    if task["status"] != "open":
        msg = f"task {task_id} is {task['status']} already"
        raise InvalidInputError(msg)
    now = utcnow()
    with store.engine.begin() as conn:
        conn.execute(
            update(_tasks())
            .where((_tasks().c.id == task_id) & (_tasks().c.status == "open"))
            .values(status="cancelled", updated_at=now, closed_at=now)
        )
        after = _one(conn, task_id)
        record(conn, actor=actor.username, action="task.cancel", entity="task",
               entity_id=task_id, before={"status": "open"},
               after={"status": "cancelled"}, reason=reason)  # fmt: skip
    return after


def task_sources(store: Store, scope: Scope, *, limit: int = 50) -> dict[str, list[dict[str, Any]]]:
    """What a task can come from in the newest run, inside ``scope``: blind and partial cells
    (most 应建未建 first) and 应建未建 units (most party members first), ``limit`` of each."""
    cells, units = table_of(models.CoverageCell), table_of(models.CoverageUnit)
    limit, _ = check_page(limit, 0)
    with store.engine.connect() as conn:
        run = _newest_run(conn)
        zone_rows = conn.execute(
            select(cells)
            .where(_cell_filter(scope, run) & cells.c.status.in_(("blind", "partial")))
            .order_by(cells.c.must_have_branch.desc(), cells.c.code)
            .limit(limit)
        ).all()
        unit_rows = conn.execute(
            select(units)
            .where(_unit_filter(scope, run) & units.c.must_have_branch.is_(True))
            .order_by(units.c.party_members.desc(), units.c.unit_id)
            .limit(limit)
        ).all()
    return {
        "zones": [dict(r._mapping) for r in zone_rows],
        "units": [dict(r._mapping) for r in unit_rows],
    }
