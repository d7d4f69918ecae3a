"""Grid cells and their units, read from the stored results of a run (never recomputed)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gridmap.query import cell_in_scope, cells_in_scope, unit_in_scope, units_of_cell
from gridmap.web.deps import ScopeDep, StoreDep
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import LimitQuery, OffsetQuery, RunQuery

router = APIRouter(tags=["cells"], responses=ERROR_RESPONSES)

CellStatus = Literal["covered", "partial", "blind", "empty"]


class UnitOut(BaseModel):
    """A unit's result in a run."""

    unit_id: int
    name: str | None
    kind: str | None
    cell_code: str | None
    org_status: str
    must_have_branch: bool
    service_covered: bool
    nearest_station_id: int | None
    nearest_station_m: float | None
    lon: float | None
    lat: float | None
    population: int | None
    party_members: int | None
    source: str
    source_id: str


class UnitDetailOut(UnitOut):
    """A unit with the run it comes from."""

    run: int


class CellSummaryOut(BaseModel):
    """A cell's status and counts in a run."""

    code: str
    name: str | None
    area_code: str | None
    status: str
    units_total: int
    units_covered: int
    org_covered: int
    must_have_branch: int
    population_total: int
    population_covered: int
    run: int


class CellPage(BaseModel):
    """A page of cells."""

    items: list[CellSummaryOut]
    total: int


class CellOut(CellSummaryOut):
    """A cell's status and its units."""

    units: list[UnitOut]


@router.get("/api/cells", response_model=CellPage)
def cells(
    store: StoreDep,
    scope: ScopeDep,
    run: RunQuery = None,
    status: Annotated[CellStatus | None, Query(description="only cells of this status")] = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> CellPage:
    """The cells the caller may see in a run (the newest by default), by code."""
    page = cells_in_scope(store, scope, run, limit=limit, offset=offset, status=status)
    return CellPage(items=[CellSummaryOut(**c) for c in page.items], total=page.total)


@router.get("/api/cells/{code}", response_model=CellOut)
def cell(
    code: str,
    store: StoreDep,
    scope: ScopeDep,
    run: RunQuery = None,
    uncovered_only: Annotated[bool, Query(description="only units not fully covered")] = False,
) -> CellOut:
    """A cell's coverage in a run, with its units (404 outside the caller's scope)."""
    found = cell_in_scope(store, scope, code, run)
    units = units_of_cell(store, scope, code, found["run"], uncovered_only=uncovered_only)
    return CellOut(**found, units=[UnitOut(**u) for u in units])


@router.get("/api/units/{unit_id}", response_model=UnitDetailOut)
def unit(unit_id: int, store: StoreDep, scope: ScopeDep, run: RunQuery = None) -> UnitDetailOut:
    """One unit's result in a run (404 outside the caller's scope)."""
    return UnitDetailOut(**unit_in_scope(store, scope, unit_id, run))
