"""Tasks (派单): a department sends a blind zone, an 应建未建 unit or an idle organisation to
the worker of its cell; the worker completes it with a visit; scoped like everything else."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel, Field

from gridmap.accounts import Account
from gridmap.crs import to_wgs84
from gridmap.query import NewVisit
from gridmap.query.tasks import (
    NewTask,
    cancel_task,
    complete_task,
    create_task,
    task_in_scope,
    tasks_in_scope,
)
from gridmap.web.deps import ActorDep, ScopeDep, StoreDep, require
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import LimitQuery, LongText, OffsetQuery, ShortText, UtcDatetime
from gridmap.web.routes.visits import ChangeIn, Lat, Lon

router = APIRouter(prefix="/api/tasks", tags=["tasks"], responses=ERROR_RESPONSES)

TaskKind = Literal["blind_zone", "must_build", "idle_org", "idle_station"]
TaskStatus = Literal["open", "done", "cancelled"]
Dispatcher = Annotated[Account, Depends(require("admin", "department"))]
Worker = Annotated[Account, Depends(require("worker"))]
IdempotencyKey = Annotated[
    str | None,
    Header(max_length=100, pattern=r"^[\x21-\x7e]+$", description="a repeat returns the first"),
]


class TaskIn(BaseModel):
    """A new task: where it comes from (``ref``: a cell code for blind_zone, else the id of
    the unit, party organisation or station), a due date and a note for the worker."""

    kind: TaskKind
    ref: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z_.-]+$")]
    due: dt.date | None = None
    note: LongText | None = None


class TaskOut(BaseModel):
    """A task and where it stands."""

    id: int
    kind: TaskKind
    cell_code: str
    unit_id: int | None
    org_id: int | None
    station_id: int | None
    title: str | None
    assignee_id: int | None
    due: dt.date | None
    note: str | None
    status: TaskStatus
    created_by: int | None
    visit_id: int | None
    created_at: UtcDatetime
    updated_at: UtcDatetime
    closed_at: UtcDatetime | None


class TaskPage(BaseModel):
    """A page of tasks: open first, then by due date."""

    items: list[TaskOut]
    total: int


class CompleteIn(BaseModel):
    """The visit that completes a task: the unit (default: the task's own), a note, when,
    where (WGS-84 by default, or gcj02 / bd09), and the change it found, if any."""

    unit_id: int | None = Field(None, ge=1, le=2**31 - 1)
    note: LongText
    visited_at: dt.datetime | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    change: ChangeIn | None = None


class CancelIn(BaseModel):
    """Why the task is cancelled (kept in the audit log)."""

    reason: ShortText | None = None


def _out(task: dict[str, Any]) -> TaskOut:
    return TaskOut.model_validate(task)


def _wgs84(lon: float | None, lat: float | None, crs: str) -> tuple[float | None, float | None]:
    if lon is None or lat is None or crs == "wgs84":
        return lon, lat
    x, y = to_wgs84([lon], [lat], crs)
    return round(float(x[0]), 7), round(float(y[0]), 7)


def _visit(body: CompleteIn, key: str | None) -> NewVisit:
    """The visit as ``POST /api/visits`` stores it: WGS-84, UTC, the change's payload."""
    lon, lat = _wgs84(body.lon, body.lat, body.crs)
    at = body.visited_at
    if at is not None and at.tzinfo is not None:
        at = at.astimezone(dt.UTC).replace(tzinfo=None)
    change = None
    if body.change is not None:
        change = body.change.model_dump(exclude_none=True, exclude={"kind"})
        if body.change.kind == "unit_moved":
            change["lon"], change["lat"] = _wgs84(body.change.lon, body.change.lat, body.crs)
    return NewVisit(
        unit_id=body.unit_id or 0,
        note=body.note,
        visited_at=at,
        lon=lon,
        lat=lat,
        key=key,
        change_kind=body.change.kind if body.change else None,
        change=change,
    )


@router.get("", response_model=TaskPage)
def tasks(
    store: StoreDep,
    scope: ScopeDep,
    status: Annotated[TaskStatus | None, Query(description="only this status")] = None,
    cell: Annotated[str | None, Query(max_length=32, description="a cell code")] = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> TaskPage:
    """Tasks of the cells the caller may see (a worker: their own), open first."""
    page = tasks_in_scope(store, scope, status=status, cell=cell, limit=limit, offset=offset)
    return TaskPage(items=[_out(t) for t in page.items], total=page.total)


@router.post("", response_model=TaskOut, status_code=201)
def add_task(body: TaskIn, store: StoreDep, actor: ActorDep, _: Dispatcher) -> TaskOut:
    """Send a task to the worker of the cell it comes from (404 outside the caller's area)."""
    new = NewTask(kind=body.kind, ref=body.ref, due=body.due, note=body.note)
    return _out(create_task(store, actor, new))


@router.get("/{task_id}", response_model=TaskOut)
def task(task_id: int, store: StoreDep, scope: ScopeDep) -> TaskOut:
    """One task of a cell the caller may see."""
    return _out(task_in_scope(store, scope, task_id))


@router.post("/{task_id}/complete", response_model=TaskOut)
def complete(
    task_id: int,
    body: CompleteIn,
    store: StoreDep,
    actor: ActorDep,
    _: Worker,
    idempotency_key: IdempotencyKey = None,
) -> TaskOut:
    """Complete a task of one of the worker's cells with a visit; a change it reports waits
    for a department's confirmation (``/api/changes``)."""
    return _out(complete_task(store, actor, task_id, _visit(body, idempotency_key)))


@router.post("/{task_id}/cancel", response_model=TaskOut)
def cancel(
    task_id: int, store: StoreDep, actor: ActorDep, _: Dispatcher, body: CancelIn | None = None
) -> TaskOut:
    """Cancel an open task (departments and admins, in their area)."""
    return _out(cancel_task(store, actor, task_id, body.reason if body else None))
