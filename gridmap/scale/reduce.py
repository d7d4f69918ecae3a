"""The roll-up as a reduction: per-partition counts, summed, then the rates.

Every figure of a roll-up row (:func:`gridmap.coverage.summary.rates`) is a count
or a ratio of two counts, so a county's worker can count its own units per admin
area (:func:`partial_rollup`) and the client only sums those small frames and
divides (:func:`combine_rollups`): an area that spans counties (a prefecture, the
province) gets the sum of its counties' counts. The result is the frame
:func:`gridmap.coverage.summary.rollup` gives for all the units at once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from gridmap.coverage.summary import area_lineage, base_areas, rates_of_sums
from gridmap.domain import OrgStatus

__all__ = ["COUNTS", "TOTAL", "combine_rollups", "partial_rollup"]

#: The counts a roll-up row is made of, summed over partitions.
COUNTS = (
    "units",
    "own_covered",
    "joint_covered",
    "hosted_covered",
    "work_covered",
    "service_covered",
    "population",
    "population_covered",
    "must_have_branch",
    "branch_idle",
    "idle_orgs",
)
#: The key of the total row in a partial roll-up (units outside every area count there).
TOTAL = -1
_KINDS = {
    "own_covered": OrgStatus.OWN.value,
    "joint_covered": OrgStatus.JOINT.value,
    "hosted_covered": OrgStatus.HOSTED.value,
    "work_covered": OrgStatus.INSTRUCTOR.value,
}
_LEVELS = {"province": 0, "prefecture": 1, "county": 2, "township": 3, "village": 4, "total": 5}


def _unit_areas(
    units: pd.DataFrame, cells: pd.DataFrame, lineage: dict[int, list[int]]
) -> pd.DataFrame:
    """Pairs (unit id, area id) for every area a unit lies in through its cell."""
    base = base_areas(units, cells).dropna().astype("int64")
    pairs = pd.DataFrame({"unit_id": base.index, "area_id": base.map(lineage).to_numpy()})
    pairs = pairs.explode("area_id").dropna(subset=["area_id"])
    return pairs.astype({"unit_id": "int64", "area_id": "int64"})


def _unit_counts(units: pd.DataFrame) -> pd.DataFrame:
    """Per unit, its contribution to every count (idle organisations apart)."""
    covered = units["service_covered"].astype(bool)
    population = units["population"].fillna(0).astype("int64")
    frame = pd.DataFrame(index=units.index)
    frame["units"] = 1
    for name, kind in _KINDS.items():
        frame[name] = (units["org_status"] == kind).astype("int64")
    frame["service_covered"] = covered.astype("int64")
    frame["population"] = population
    frame["population_covered"] = population.where(covered, 0)
    frame["must_have_branch"] = units["must_have_branch"].astype(bool).astype("int64")
    idle = units["branch_idle"] if "branch_idle" in units else pd.Series(False, units.index)
    frame["branch_idle"] = idle.astype(bool).astype("int64")
    return frame


def partial_rollup(
    units: pd.DataFrame,
    cells: pd.DataFrame,
    areas: pd.DataFrame,
    idle_org_units: Iterable[int] = (),
) -> pd.DataFrame:
    """The counts of ``units`` (one partition) per admin area, and a :data:`TOTAL` row.

    Arguments as :func:`~gridmap.coverage.summary.rollup`; ``idle_org_units`` are the
    units of this partition's idle organisations (one entry per organisation).
    Indexed by area id, columns :data:`COUNTS`.
    """
    per_unit = _unit_counts(units)
    idle = pd.Series(list(idle_org_units), dtype="int64")
    per_unit["idle_orgs"] = idle.value_counts().reindex(units.index, fill_value=0)
    pairs = _unit_areas(units, cells, area_lineage(areas))
    by_area = per_unit.loc[pairs["unit_id"].to_numpy()].groupby(pairs["area_id"].to_numpy()).sum()
    total = per_unit.sum().to_frame(TOTAL).T
    total["idle_orgs"] = len(idle)
    frame = pd.concat([by_area, total])[list(COUNTS)].astype("int64")
    frame.index.name = "area_id"
    return frame


#: The sums :func:`gridmap.coverage.summary.rates_of_sums` takes, from these counts.
_SUMS = {
    "own": "own_covered",
    "joint": "joint_covered",
    "hosted": "hosted_covered",
    "instructor": "work_covered",
    "covered": "service_covered",
    "population": "population",
    "population_covered": "population_covered",
    "must": "must_have_branch",
    "idle": "branch_idle",
}


def _rates(c: pd.Series) -> dict[str, float | int | None]:
    """The row :func:`gridmap.coverage.summary.rates` gives, from summed counts."""
    sums = {name: int(c[count]) for name, count in _SUMS.items()}
    return rates_of_sums(int(c["units"]), sums, int(c["idle_orgs"]))


def combine_rollups(
    parts: Sequence[pd.DataFrame], areas: pd.DataFrame, *, unplaced_idle_orgs: int = 0
) -> pd.DataFrame:
    """The roll-up of every partition together, from their :func:`partial_rollup` frames.

    ``unplaced_idle_orgs``: idle organisations whose unit is in no partition (they
    count in the total row only, as in the single-process roll-up).
    """
    summed = pd.concat(parts).groupby(level=0).sum()
    rows = []
    for area_id, counts in summed.drop(index=TOTAL, errors="ignore").iterrows():
        area = areas.loc[int(area_id)]  # type: ignore[call-overload]
        rows.append(
            {
                "area_id": area_id,
                "level": area["level"],
                "code": area["code"],
                "name": area["name"],
                **_rates(counts),
            }
        )
    total = pd.Series(0, index=list(COUNTS), dtype="int64")
    if TOTAL in summed.index:
        total += summed.loc[TOTAL, list(COUNTS)].to_numpy()
    total["idle_orgs"] += unplaced_idle_orgs
    rows.append(
        {"area_id": None, "level": "total", "code": "*", "name": "合计 / total", **_rates(total)}
    )
    frame = pd.DataFrame(rows)
    frame["area_id"] = frame["area_id"].astype("Int64")
    frame["_order"] = frame["level"].map(_LEVELS)
    return frame.sort_values(["_order", "code"]).drop(columns="_order").reset_index(drop=True)
