"""Stored runs and their comparison: the trend departments report upward."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import Connection, insert, select

from gridmap.coverage.outputs import OUTPUTS_VERSION, plain_records, save_outputs, unit_rows
from gridmap.errors import NotFoundError
from gridmap.store import Store, models, table_of
from gridmap.store._columns import fetch_columns, insert_columns, paused_gc

if TYPE_CHECKING:
    from gridmap.coverage.result import CoverageResult

__all__ = [
    "RunComparison",
    "compare_runs",
    "latest_run_id",
    "list_runs",
    "run_record",
    "save_run",
]

RATE_KEYS = (
    "own_rate",
    "joint_rate",
    "hosted_rate",
    "org_rate",
    "work_rate",
    "combined_rate",
    "service_rate",
    "service_population_rate",
)
#: What a comparison of two runs reports per unit, in this order.
_CHANGE_FIELDS = ("org_status", "must_have_branch", "service_covered")
_CHANGE_COLUMNS = ["source", "source_id", "name", "change", "before", "after"]
COUNT_KEYS = (
    "units",
    "must_have_branch",
    "branch_idle",
    "idle_orgs",
    "unknown_orgs",
    "unknown_stations",
    "service_covered",
    "population_covered",
)


def _clean(value: Any) -> Any:
    """JSON-safe: NaN/inf become None, numpy scalars become Python ones."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if hasattr(value, "item"):
        value = value.item()
    if value is pd.NA:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def save_run(store: Store, result: CoverageResult, *, label: str | None = None) -> int:
    """Store a run with what its maps and reports read back; return its id.

    Per unit and per cell its results, and its blind zones, service areas,
    organisations and stations (:mod:`gridmap.coverage.outputs`).
    """
    runs = table_of(models.CoverageRun)
    unit_table = table_of(models.CoverageUnit)
    areas = plain_records(result.areas)  # floats exact: the report shows the run's rates
    with paused_gc(), store.engine.begin() as conn:
        run_id = conn.execute(
            insert(runs)
            .values(
                as_of=result.as_of,
                label=label,
                params=_clean(result.totals["options"]),
                summary=_clean(result.summary()),
                areas=_clean(areas),
                outputs=OUTPUTS_VERSION,
            )
            .returning(runs.c.id)
        ).scalar_one()
        insert_columns(conn, unit_table, unit_rows(run_id, result.units))
        _save_cells(conn, run_id, result)
        save_outputs(conn, run_id, result)
    return int(run_id)


def _optional_int(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _optional_str(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else str(value)


def _cell_area_codes(conn: Connection) -> dict[str, str | None]:
    """Each grid cell's admin area code (what area scopes are matched on)."""
    cells = table_of(models.GridCell)
    areas = table_of(models.AdminArea)
    query = select(cells.c.code, areas.c.code.label("area_code")).select_from(
        cells.outerjoin(areas, cells.c.area_id == areas.c.id)
    )
    return {str(r.code): r.area_code for r in conn.execute(query)}


def _save_cells(conn: Connection, run_id: int, result: CoverageResult) -> None:
    """One row per cell of the run: status, counts, population, admin area code."""
    table = table_of(models.CoverageCell)
    area_codes = _cell_area_codes(conn)
    rows = [
        {
            "run_id": run_id,
            "code": str(c.code),
            "cell_id": _optional_int(c.Index),
            "name": _optional_str(c.name),
            "area_code": area_codes.get(str(c.code)),
            "status": str(c.status),
            **{
                key: int(getattr(c, key))
                for key in (
                    "units_total",
                    "units_covered",
                    "org_covered",
                    "must_have_branch",
                    "population_total",
                    "population_covered",
                )
            },
        }
        for c in result.cells.itertuples()
    ]
    if rows:
        conn.execute(insert(table), rows)


def list_runs(store: Store) -> pd.DataFrame:
    """Every stored run, newest first, with its headline rates."""
    runs = table_of(models.CoverageRun)
    with store.engine.connect() as conn:
        rows = conn.execute(select(runs).order_by(runs.c.id.desc())).mappings().all()
    return pd.DataFrame(
        [
            {
                "run": r["id"],
                "created_at": r["created_at"],
                "as_of": r["as_of"],
                "label": r["label"],
                "mode": r["params"].get("mode"),
                **{k: _clean(r["summary"].get(k)) for k in RATE_KEYS},
            }
            for r in rows
        ]
    )


@dataclass(frozen=True)
class RunComparison:
    """What changed between two runs."""

    run_a: int
    run_b: int
    rates: pd.DataFrame  # key, a, b, delta
    areas: pd.DataFrame  # code, name, level, <rate>_a, <rate>_b, <rate>_delta
    changed_units: pd.DataFrame  # unit, what changed from -> to


def latest_run_id(store: Store) -> int | None:
    """The id of the newest stored run, or None."""
    runs = table_of(models.CoverageRun)
    with store.engine.connect() as conn:
        value = conn.execute(select(runs.c.id).order_by(runs.c.id.desc()).limit(1)).scalar()
    return None if value is None else int(value)


def run_record(store: Store, run_id: int) -> dict[str, Any]:
    """A stored run's row: ``as_of``, ``params``, ``summary``, ``areas``, ``label``."""
    return _run(store, run_id)


def _run(store: Store, run_id: int) -> dict[str, Any]:
    runs = table_of(models.CoverageRun)
    with store.engine.connect() as conn:
        row = conn.execute(select(runs).where(runs.c.id == run_id)).mappings().first()
    if row is None:
        msg = f"no coverage run {run_id}: 'gridmap coverage runs' lists the stored runs"
        raise NotFoundError(msg)
    return dict(row)


def _units(store: Store, run_id: int) -> pd.DataFrame:
    """A run's units keyed by ``(source, source_id)``: what :func:`_changed_units` compares."""
    table = table_of(models.CoverageUnit)
    names = ["source", "source_id", "name", *_CHANGE_FIELDS]
    query = select(*(table.c[name] for name in names)).where(table.c.run_id == run_id)
    with store.engine.connect() as conn:
        values = fetch_columns(conn, query)
    return pd.DataFrame(dict(zip(names, values, strict=True)), columns=names).set_index(
        ["source", "source_id"]
    )


def _delta(a: Any, b: Any) -> float | None:
    return None if a is None or b is None else b - a


def compare_runs(store: Store, run_a: int, run_b: int) -> RunComparison:
    """Rate deltas overall and per area, and every unit whose status changed."""
    a, b = _run(store, run_a), _run(store, run_b)
    keys = RATE_KEYS + COUNT_KEYS
    rates = pd.DataFrame(
        [
            {
                "key": k,
                "a": a["summary"].get(k),
                "b": b["summary"].get(k),
                "delta": _delta(a["summary"].get(k), b["summary"].get(k)),
            }
            for k in keys
        ]
    )
    areas_a = pd.DataFrame(a["areas"]).set_index("code")
    areas_b = pd.DataFrame(b["areas"]).set_index("code")
    joined = areas_a[["name", "level"]].combine_first(areas_b[["name", "level"]])
    for key in RATE_KEYS:  # runs stored before a rate existed have none: NaN
        joined[f"{key}_a"] = areas_a.get(key, pd.Series(dtype=float))
        joined[f"{key}_b"] = areas_b.get(key, pd.Series(dtype=float))
        joined[f"{key}_delta"] = joined[f"{key}_b"] - joined[f"{key}_a"]
    return RunComparison(
        run_a=run_a,
        run_b=run_b,
        rates=rates,
        areas=joined.reset_index(),
        changed_units=_changed_units(_units(store, run_a), _units(store, run_b)),
    )


def _changed_units(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame:
    """Units added, removed, or whose status fields differ between runs ``a`` and ``b``.

    Rows follow the sorted union of the two runs' ``(source, source_id)`` keys and,
    within a unit, the order of :data:`_CHANGE_FIELDS`; each field is compared as a
    whole column (a million units: one comparison per field, not per unit).
    """
    keys = a.index.union(b.index)
    in_a, in_b = keys.isin(a.index), keys.isin(b.index)
    names = np.where(in_b, _aligned(b, "name", keys), _aligned(a, "name", keys))
    found: list[tuple[int, int, str, Any, Any]] = []
    for position in np.flatnonzero(~(in_a & in_b)).tolist():
        found.append((position, -1, "added" if in_b[position] else "removed", None, None))
    both = np.flatnonzero(in_a & in_b)
    shared = keys[both]
    for order, field in enumerate(_CHANGE_FIELDS):
        before, after = _aligned(a, field, shared), _aligned(b, field, shared)
        differs = np.flatnonzero(before != after)
        found.extend(
            (int(both[i]), order, field, x, y)
            for i, x, y in zip(
                differs.tolist(), list(before[differs]), list(after[differs]), strict=True
            )
        )
    found.sort(key=lambda row: (row[0], row[1]))
    rows = [
        {
            "source": keys[position][0],
            "source_id": keys[position][1],
            "name": names[position],
            "change": change,
            "before": before_value,
            "after": after_value,
        }
        for position, _, change, before_value, after_value in found
    ]
    return pd.DataFrame(rows, columns=_CHANGE_COLUMNS)


def _aligned(frame: pd.DataFrame, column: str, keys: pd.Index) -> np.ndarray[Any, Any]:
    """``frame[column]`` at ``keys`` (keys absent from ``frame``: NaN, masked by callers)."""
    return frame[column].reindex(keys).to_numpy()
