"""Grid cells and the units in them: what a grid worker opens on a phone."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel

from gridmap.coverage import reproduce_run
from gridmap.errors import NotFoundError
from gridmap.web.deps import SettingsDep, StoreDep

router = APIRouter(prefix="/api/cells", tags=["cells"])


class UnitOut(BaseModel):
    """A unit of a cell with its coverage."""

    unit_id: int
    name: str | None
    kind: str
    org_status: str
    must_have_branch: bool
    service_covered: bool
    nearest_station_m: float | None
    lon: float
    lat: float


class CellOut(BaseModel):
    """A cell's status and its units."""

    code: str
    status: str
    units_total: int
    units_covered: int
    units: list[UnitOut]


@router.get("/{code}", response_model=CellOut)
def cell(
    code: str,
    store: StoreDep,
    settings: SettingsDep,
    uncovered_only: Annotated[bool, Query(description="only units not fully covered")] = False,
) -> CellOut:
    """A cell's coverage in the latest run, with its units."""
    result, _ = reproduce_run(store, settings.coverage, warn=False)  # current records
    cells = result.cells[result.cells["code"] == code]
    if cells.empty:
        msg = f"no grid cell {code!r}"
        raise NotFoundError(msg)
    row = cells.iloc[0]
    units = result.units[result.units["cell_code"] == code]
    if uncovered_only:
        units = units[~units["service_covered"] | (units["org_status"] == "none")]
    return CellOut(
        code=code,
        status=str(row["status"]),
        units_total=int(row["units_total"]),
        units_covered=int(row["units_covered"]),
        units=[
            UnitOut(
                unit_id=int(u.unit_id),
                name=u.name,
                kind=str(u.kind),
                org_status=str(u.org_status),
                must_have_branch=bool(u.must_have_branch),
                service_covered=bool(u.service_covered),
                nearest_station_m=None
                if u.nearest_station_m == float("inf")
                else float(u.nearest_station_m),
                lon=float(u.lon),
                lat=float(u.lat),
            )
            for u in units.itertuples()
        ],
    )
