"""Per-cell status and rates rolled up through every admin level.

A cell is ``covered`` when every unit in it is service-covered, ``partial``
when some are, ``blind`` when none is, and ``empty`` when it has no unit.
Rates (all as fractions in [0, 1], ``None`` where there is nothing to divide),
each with its count (``<name>_covered``):

* ``own_rate``, ``joint_rate``, ``hosted_rate`` — units with an own branch, a
  joint branch, a hub that names them (organisational coverage, apart);
* ``org_rate`` — their sum (organisational coverage);
* ``work_rate`` — units with an instructor only (work coverage);
* ``combined_rate`` — units with either;
* ``service_rate`` — units a station reaches; ``service_population_rate`` —
  the same weighted by population.

Counts beside them: ``units``, ``population``, ``population_covered``,
``must_have_branch`` (应建未建), ``branch_idle`` (空转: an own branch that is
idle) and ``idle_orgs``. The run's summary adds ``unknown_orgs``, ``stations``,
``counting_stations``, ``idle_stations``, ``unknown_stations``, ``cells``,
``blind_zones`` and ``far_from_road`` (:func:`gridmap.coverage.run.compute_coverage`).

Areas roll up along ``parent_id``: a cell's village / community, its township /
sub-district, its county, and so on; units outside every cell count only in
the total row (code ``*``). Every row of the roll-up (``areas.csv``) has every
rate and count above.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.domain import OrgStatus, UnitKind

__all__ = ["area_lineage", "base_areas", "cell_summary", "rates", "rates_of_sums", "rollup"]

_ORG = [OrgStatus.OWN.value, OrgStatus.JOINT.value, OrgStatus.HOSTED.value]


def _ratio(part: float, whole: float) -> float | None:
    return None if whole == 0 else float(part) / float(whole)


#: What :func:`rates` sums over units, per unit.
_SUMMED = (*_ORG, "instructor", "covered", "population", "population_covered", "must", "idle")


def _indicators(units: pd.DataFrame) -> pd.DataFrame:
    """Per unit, the numbers :func:`rates` adds up (one column per entry of ``_SUMMED``)."""
    status = units["org_status"]
    covered = units["service_covered"].astype(bool)
    population = units["population"].fillna(0).astype(float)
    branch_idle = units["branch_idle"] if "branch_idle" in units else pd.Series(False, units.index)
    frame = pd.DataFrame({kind: (status == kind).astype(np.int64) for kind in _ORG})
    frame["instructor"] = (status == OrgStatus.INSTRUCTOR.value).astype(np.int64)
    frame["covered"] = covered.astype(np.int64)
    frame["population"] = population
    frame["population_covered"] = population.where(covered, 0.0)
    frame["must"] = units["must_have_branch"].astype(bool).astype(np.int64)
    frame["idle"] = branch_idle.astype(bool).astype(np.int64)
    return frame


def rates(units: pd.DataFrame, idle_orgs: int = 0) -> dict[str, float | int | None]:
    """Counts and the organisational, work and service rates of a set of units."""
    sums = _indicators(units).sum()
    return rates_of_sums(len(units), {k: sums[k] for k in _SUMMED}, idle_orgs)


def rates_of_sums(n: int, sums: dict[str, Any], idle_orgs: int) -> dict[str, float | int | None]:
    """:func:`rates` from the number of units and the sums of their indicators (keys: the
    organisational statuses ``own``, ``joint``, ``hosted``, and ``instructor``, ``covered``,
    ``population``, ``population_covered``, ``must``, ``idle``): what a reduction over
    partitions (:mod:`gridmap.scale.reduce`) adds up."""
    parts = {kind: int(sums[kind]) for kind in _ORG}
    org = sum(parts.values())
    work = int(sums["instructor"])
    covered = int(sums["covered"])
    population, population_covered = float(sums["population"]), float(sums["population_covered"])
    split: dict[str, float | int | None] = {}
    for kind, count in parts.items():
        split[f"{kind}_covered"] = count
        split[f"{kind}_rate"] = _ratio(count, n)
    return {
        "units": n,
        **split,
        "org_covered": org,
        "work_covered": work,
        "combined_covered": org + work,
        "org_rate": _ratio(org, n),
        "work_rate": _ratio(work, n),
        "combined_rate": _ratio(org + work, n),
        "service_covered": covered,
        "service_rate": _ratio(covered, n),
        "population": int(population),
        "population_covered": int(population_covered),
        "service_population_rate": _ratio(population_covered, population),
        "must_have_branch": int(sums["must"]),
        "branch_idle": int(sums["idle"]),
        "idle_orgs": idle_orgs,
    }


def cell_summary(cells: pd.DataFrame, units: pd.DataFrame) -> pd.DataFrame:
    """One row per cell: status, units and population covered of the total, counts per kind."""
    in_cells = units.dropna(subset=["cell_id"])
    grouped = in_cells.groupby("cell_id")
    frame = pd.DataFrame(index=cells.index)
    frame["code"] = cells["code"]
    frame["name"] = cells["name"]
    frame["units_total"] = grouped.size().reindex(cells.index, fill_value=0)
    frame["units_covered"] = grouped["service_covered"].sum().reindex(cells.index, fill_value=0)
    population = in_cells["population"].fillna(0)
    frame["population_total"] = (
        population.groupby(in_cells["cell_id"]).sum().reindex(cells.index, fill_value=0)
    )
    covered_population = population.where(in_cells["service_covered"].astype(bool), 0)
    frame["population_covered"] = (
        covered_population.groupby(in_cells["cell_id"]).sum().reindex(cells.index, fill_value=0)
    )
    frame["org_covered"] = (
        in_cells["org_status"].isin(_ORG).groupby(in_cells["cell_id"]).sum()
    ).reindex(cells.index, fill_value=0)
    frame["must_have_branch"] = (
        in_cells["must_have_branch"].astype(bool).groupby(in_cells["cell_id"]).sum()
    ).reindex(cells.index, fill_value=0)
    for kind in UnitKind:
        counts = (in_cells["kind"] == kind.value).groupby(in_cells["cell_id"]).sum()
        frame[f"units_{kind.value}"] = counts.reindex(cells.index, fill_value=0)
    frame["status"] = np.select(
        [
            frame["units_total"] == 0,
            frame["units_covered"] == frame["units_total"],
            frame["units_covered"] == 0,
        ],
        ["empty", "covered", "blind"],
        default="partial",
    )
    return frame.astype({c: int for c in frame.columns if c.startswith(("units", "population"))})


def area_lineage(areas: pd.DataFrame) -> dict[int, list[int]]:
    """For each area id, itself and its ancestors, nearest first (cycles are cut)."""
    parents = areas["parent_id"].to_dict()
    lineage: dict[int, list[int]] = {}
    for area_id in areas.index:
        chain, current = [], area_id
        while current is not None and not pd.isna(current) and current not in chain:
            chain.append(int(current))
            current = parents.get(current)
        lineage[int(area_id)] = chain
    return lineage


def base_areas(units: pd.DataFrame, cells: pd.DataFrame) -> pd.Series:
    """Each unit's area through its cell (NaN outside every cell or area)."""
    cell_area = pd.to_numeric(cells["area_id"], errors="coerce")
    base: pd.Series = pd.to_numeric(units["cell_id"], errors="coerce").map(cell_area)
    return base


def rollup(
    units: pd.DataFrame,
    cells: pd.DataFrame,
    areas: pd.DataFrame,
    idle_org_units: Iterable[int] = (),
) -> pd.DataFrame:
    """Rates per admin area at every level, plus a total row with code ``*``.

    Parameters
    ----------
    units
        Per-unit results (``org_status``, ``must_have_branch``, ``service_covered``,
        ``population``, ``cell_id``), indexed by unit id.
    cells, areas
        Store frames indexed by id (``area_id``; ``parent_id``, ``code``, ``name``, ``level``).
    idle_org_units
        For each idle organisation, the unit it belongs to (its own unit or
        the first it covers): idle organisations are counted where that unit is.
    """
    lineage = area_lineage(areas)
    base = base_areas(units, cells)
    indicators = _indicators(units).assign(n=1)
    by_base = indicators.groupby(base.to_numpy()).sum()
    idle = pd.Series(list(idle_org_units), dtype="int64")
    idle_by_base = base.reindex(idle).value_counts()
    totals: dict[int, npt.NDArray[np.float64]] = {}
    idle_in: dict[int, int] = {}
    columns = list(by_base.columns)
    for area, row in zip(by_base.index, by_base.to_numpy(dtype=np.float64), strict=True):
        for above in lineage.get(int(area), []):
            totals[above] = row if above not in totals else totals[above] + row
            idle_in[above] = idle_in.get(above, 0) + int(idle_by_base.get(area, 0))
    rows = []
    for area_id in sorted(totals):
        sums = dict(zip(columns, totals[area_id].tolist(), strict=True))
        area = areas.loc[area_id]
        rows.append(
            {
                "area_id": area_id,
                "level": area["level"],
                "code": area["code"],
                "name": area["name"],
                **rates_of_sums(int(sums["n"]), sums, idle_in[area_id]),
            }
        )
    rows.append(
        {
            "area_id": None,
            "level": "total",
            "code": "*",
            "name": "合计 / total",
            **rates(units, len(idle)),
        }
    )
    order = {"province": 0, "prefecture": 1, "county": 2, "township": 3, "village": 4, "total": 5}
    frame = pd.DataFrame(rows)
    frame["area_id"] = frame["area_id"].astype("Int64")  # the total row has none
    frame["_order"] = frame["level"].map(order)
    return frame.sort_values(["_order", "code"]).drop(columns="_order").reset_index(drop=True)
