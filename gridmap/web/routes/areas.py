"""Admin areas: the roll-up rates a department reports, per run and across runs."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter
from pydantic import BaseModel

from gridmap.query import area_in_scope, area_trend
from gridmap.web.deps import ScopeDep, StoreDep
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import RunQuery, UtcDatetime

router = APIRouter(prefix="/api/areas", tags=["areas"], responses=ERROR_RESPONSES)


class AreaOut(BaseModel):
    """An area's rates in a run: organisational, work, combined, service (units, people)."""

    code: str
    name: str | None
    level: str
    run: int
    units: int
    org_covered: int
    work_covered: int
    combined_covered: int
    org_rate: float | None
    work_rate: float | None
    combined_rate: float | None
    service_covered: int
    service_rate: float | None
    population: int
    population_covered: int
    service_population_rate: float | None
    must_have_branch: int
    idle_orgs: int


class TrendPoint(AreaOut):
    """An area's rates in one run of the trend."""

    as_of: dt.date
    created_at: UtcDatetime


class TrendOut(BaseModel):
    """An area's rates in every stored run that has it, oldest first."""

    code: str
    items: list[TrendPoint]


@router.get("/{code}", response_model=AreaOut)
def area(code: str, store: StoreDep, scope: ScopeDep, run: RunQuery = None) -> AreaOut:
    """An area's roll-up in a run (404 outside the caller's area)."""
    return AreaOut.model_validate(area_in_scope(store, scope, code, run))


@router.get("/{code}/trend", response_model=TrendOut)
def trend(code: str, store: StoreDep, scope: ScopeDep) -> TrendOut:
    """An area's roll-up across every stored run."""
    points = area_trend(store, scope, code)
    return TrendOut(code=code, items=[TrendPoint.model_validate(p) for p in points])
