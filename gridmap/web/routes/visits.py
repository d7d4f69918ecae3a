"""Visits from the field (走访记录): a worker records them for units in their cells."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Query, Response
from pydantic import BaseModel, Field, model_validator

from gridmap.accounts import Account
from gridmap.crs import to_wgs84
from gridmap.query import NewVisit, record_visit, visits_in_scope
from gridmap.web.deps import ActorDep, ScopeDep, StoreDep, require
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import LimitQuery, LongText, OffsetQuery, ShortText, UtcDatetime

router = APIRouter(prefix="/api/visits", tags=["visits"], responses=ERROR_RESPONSES)

Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False)]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False)]


class ChangeIn(BaseModel):
    """A change the visit found; it waits for a department's confirmation."""

    kind: Literal["members", "branch_set_up", "station_active", "unit_moved", "unit_closed"]
    party_members: int | None = Field(None, ge=0, le=1_000_000)
    members: int | None = Field(None, ge=0, le=1_000_000)
    name: ShortText | None = None
    station_id: int | None = Field(None, ge=1, le=2**31 - 1)
    lon: Lon | None = None
    lat: Lat | None = None

    @model_validator(mode="after")
    def _needs(self) -> ChangeIn:
        needed = {
            "members": ("party_members",),
            "station_active": ("station_id",),
            "unit_moved": ("lon", "lat"),
        }.get(self.kind, ())
        missing = [f for f in needed if getattr(self, f) is None]
        if missing:
            msg = f"a {self.kind} change needs {', '.join(missing)}"
            raise ValueError(msg)
        return self


class VisitIn(BaseModel):
    """A visit: the unit, a note, when and where (WGS-84 by default, or gcj02 / bd09)."""

    unit_id: int = Field(ge=1, le=2**31 - 1)
    note: LongText
    visited_at: dt.datetime | None = None
    lon: Lon | None = None
    lat: Lat | None = None
    crs: Literal["wgs84", "gcj02", "bd09"] = "wgs84"
    accuracy_m: float | None = Field(
        None, ge=0, le=100_000, allow_inf_nan=False, description="the phone's accuracy (m)"
    )
    change: ChangeIn | None = None


class VisitOut(BaseModel):
    """A stored visit."""

    id: int
    unit_id: int
    worker_id: int
    user_id: int | None
    visited_at: UtcDatetime
    note: str | None
    status_change: str | None
    lon: float | None
    lat: float | None
    location_crs: str | None = Field(
        None, description="the system the phone gave the location in (lon/lat are WGS-84)"
    )
    accuracy_m: float | None = None
    created_at: UtcDatetime | None


class VisitPage(BaseModel):
    """A page of visits, newest first."""

    items: list[VisitOut]
    total: int


def _wgs84(lon: float | None, lat: float | None, crs: str) -> tuple[float | None, float | None]:
    if lon is None or lat is None or crs == "wgs84":
        return lon, lat
    x, y = to_wgs84([lon], [lat], crs)
    return round(float(x[0]), 7), round(float(y[0]), 7)


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _change(body: VisitIn) -> dict[str, Any] | None:
    if body.change is None:
        return None
    change = body.change.model_dump(exclude_none=True, exclude={"kind"})
    if body.change.kind == "unit_moved":
        change["lon"], change["lat"] = _wgs84(body.change.lon, body.change.lat, body.crs)
    return change


@router.post("", response_model=VisitOut, status_code=201)
def add_visit(
    body: VisitIn,
    response: Response,
    store: StoreDep,
    actor: ActorDep,
    _: Account = Depends(require("worker")),  # noqa: B008
    idempotency_key: Annotated[
        str | None,
        Header(max_length=100, pattern=r"^[\x21-\x7e]+$", description="a repeat returns the first"),
    ] = None,
) -> VisitOut:
    """Record a visit to a unit in one of the worker's cells (404 for any other unit)."""
    lon, lat = _wgs84(body.lon, body.lat, body.crs)
    visit = NewVisit(
        unit_id=body.unit_id,
        note=body.note,
        visited_at=_utc(body.visited_at),
        lon=lon,
        lat=lat,
        key=idempotency_key,
        change_kind=body.change.kind if body.change else None,
        change=_change(body),
        location_crs=body.crs,
        accuracy_m=body.accuracy_m,
    )
    stored, created = record_visit(store, actor, visit)
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return VisitOut(**stored)


@router.get("", response_model=VisitPage)
def visits(
    store: StoreDep,
    scope: ScopeDep,
    cell: Annotated[str | None, Query(max_length=32, description="a cell code")] = None,
    unit: Annotated[int | None, Query(description="a unit id")] = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> VisitPage:
    """Visits to units the caller may see, newest first."""
    page = visits_in_scope(store, scope, cell=cell, unit=unit, limit=limit, offset=offset)
    return VisitPage(items=[VisitOut(**v) for v in page.items], total=page.total)
