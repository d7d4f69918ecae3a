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

import numpy as np
import pandas as pd

from gridmap.domain import OrgStatus, UnitKind

__all__ = ["area_lineage", "cell_summary", "rates", "rollup"]

_ORG = [OrgStatus.OWN.value, OrgStatus.JOINT.value, OrgStatus.HOSTED.value]


def _ratio(part: float, whole: float) -> float | None:
    return None if whole == 0 else float(part) / float(whole)


def rates(units: pd.DataFrame, idle_orgs: int = 0) -> dict[str, float | int | None]:
    """Counts and the organisational, work and service rates of a set of units."""
    n = len(units)
    status = units["org_status"]
    parts = {kind: int((status == kind).sum()) for kind in _ORG}
    org = sum(parts.values())
    work = int((status == OrgStatus.INSTRUCTOR.value).sum())
    covered = units["service_covered"].astype(bool)
    population = units["population"].fillna(0).astype(float)
    branch_idle = units["branch_idle"] if "branch_idle" in units else pd.Series(False, units.index)
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
        "service_covered": int(covered.sum()),
        "service_rate": _ratio(int(covered.sum()), n),
        "population": int(population.sum()),
        "population_covered": int(population[covered].sum()),
        "service_population_rate": _ratio(population[covered].sum(), population.sum()),
        "must_have_branch": int(units["must_have_branch"].astype(bool).sum()),
        "branch_idle": int(branch_idle.astype(bool).sum()),
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


def _unit_areas(
    units: pd.DataFrame, cells: pd.DataFrame, lineage: dict[int, list[int]]
) -> pd.DataFrame:
    """Pairs (unit id, area id) for every area a unit lies in through its cell."""
    cell_area = cells["area_id"].to_dict()
    pairs: list[tuple[int, int]] = []
    for unit_id, cell_id in zip(units.index, units["cell_id"], strict=True):
        if pd.isna(cell_id):
            continue
        area = cell_area.get(int(cell_id))
        if area is None or pd.isna(area):
            continue
        pairs += [(int(unit_id), a) for a in lineage.get(int(area), [])]
    return pd.DataFrame(pairs, columns=["unit_id", "area_id"])


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
    pairs = _unit_areas(units, cells, lineage)
    idle = pd.Series(list(idle_org_units), dtype="int64")
    rows = []
    for area_id, group in pairs.groupby("area_id"):
        members = units.loc[group["unit_id"].to_numpy()]
        idle_here = int(idle.isin(group["unit_id"]).sum())
        area = areas.loc[area_id]
        rows.append(
            {
                "area_id": area_id,
                "level": area["level"],
                "code": area["code"],
                "name": area["name"],
                **rates(members, idle_here),
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
