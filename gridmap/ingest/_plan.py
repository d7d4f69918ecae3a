"""Deciding what an import does before it writes: matches, merges, overwrites, absences.

:func:`plan_load` matches each accepted row with a stored record (by source id, and
areas by code too) and merges it field by field (:mod:`gridmap.ingest.provenance`);
:func:`overwrites_in` lists what would replace values other files supplied, for the
caller to confirm; :func:`close_absent` finds the records a file no longer has.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, insert, update

from gridmap.ingest._stored import Existing, unchanged_rows
from gridmap.ingest.provenance import Merge, merge, origins_of
from gridmap.ingest.records import IngestError, ReadResult
from gridmap.store import models, table_of


@dataclass(frozen=True)
class Overwrite:
    """A stored record another file supplied whose values an import would replace."""

    table: str
    source_id: str
    name: str | None
    origins: tuple[str, ...]
    fields: dict[str, tuple[str, str]]  # field -> (stored value, new value), shortened


class OverwriteRefused(IngestError):
    """An import stopped before overwriting what another file supplied; nothing was written."""

    def __init__(self, overwrites: list[Overwrite]) -> None:
        self.overwrites = overwrites
        origins = ", ".join(sorted({o for w in overwrites for o in w.origins}))
        ids = ", ".join(w.source_id for w in overwrites[:3])
        more = ", ..." if len(overwrites) > 3 else ""
        super().__init__(
            f"{len(overwrites)} {overwrites[0].table} ids ({ids}{more}) belong to {origins}; "
            "nothing changed: --source NAME keeps both lists, --yes overwrites"
        )


#: Called with what an import would change in records another file supplied; it returns
#: True to go on, False to stop (the transaction is then rolled back).
ConfirmOverwrite = Callable[[list[Overwrite]], bool]


@dataclass(frozen=True)
class Options:
    """How one import writes: who, from which file family, when, and what to do at conflicts."""

    source: str
    origin: str
    actor: str
    at: str
    sync: bool = False
    confirm: ConfirmOverwrite | None = None


META = ("id", "source", "source_id", "provenance", "closed_at")

Columns = dict[str, list[Any]]
"""Rows to load, one list per column (``source_id``, values, references, geometry)."""


def row_at(columns: Mapping[str, Sequence[Any]], i: int) -> dict[str, Any]:
    """Row ``i`` of ``columns`` as a dict: for the few rows handled one by one."""
    return {k: v[i] for k, v in columns.items()}


@dataclass
class Plan:
    """What an import will do, decided before anything is written.

    ``inserts`` are positions of new rows (their provenance is built as they are
    written, :func:`~gridmap.ingest.provenance.first_texts`); ``unchanged`` positions of
    rows that change nothing, with the stored id of each and whether it has a geometry
    (``unchanged_ids``, ``unchanged_geometry``). Only updates and provenance-only
    changes (``silent``) carry a stored record each.
    """

    inserts: list[int] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any], Merge]] = field(default_factory=list)
    silent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    unchanged: list[int] = field(default_factory=list)
    unchanged_ids: list[int] = field(default_factory=list)
    unchanged_geometry: list[bool] = field(default_factory=list)


def _matches(columns: Columns, keep: list[int], existing: Existing) -> npt.NDArray[np.int64]:
    """The stored position each kept row matches (-1: new): by source id, areas by code."""
    matched = np.full(len(keep), -1, dtype=np.int64)
    if existing.by_sid and keep:
        sids = pd.Index(list(existing.by_sid), dtype=object)
        at = np.asarray(list(existing.by_sid.values()), dtype=np.int64)
        wanted = np.asarray(columns["source_id"], dtype=object)[keep]
        found = sids.get_indexer(pd.Index(wanted, dtype=object))
        matched = np.where(found >= 0, at[np.maximum(found, 0)], -1)
    if existing.by_code and "code" in columns:
        codes = columns["code"]
        for row, i in enumerate(keep):
            if matched[row] < 0 and codes[i] is not None:
                matched[row] = existing.by_code.get(str(codes[i]), -1)
    return np.asarray(matched, dtype=np.int64)


def plan_load(
    columns: Columns,
    keep: list[int],
    existing: Existing,
    options: Options,
    geometry: str | None,
) -> Plan:
    """Match the kept rows with stored records and decide, column by column, what to write.

    Matched rows that change nothing are found for all rows at once
    (:func:`~gridmap.ingest._stored.unchanged_rows`); only the remaining matched rows
    are merged one by one (:func:`~gridmap.ingest.provenance.merge`).
    """
    plan = Plan()
    matched = _matches(columns, keep, existing)
    kept = np.asarray(keep, dtype=np.int64)
    fields = [k for k in columns if k not in ("source_id", "source")]
    plan.inserts = kept[matched < 0].tolist()
    old_rows, stored_at = kept[matched >= 0], matched[matched >= 0]
    same = unchanged_rows(
        existing,
        stored_at,
        {k: _take(columns[k], old_rows) for k in fields},
        origin=options.origin,
        geometry=geometry,
    )
    plan.unchanged = old_rows[same].tolist()
    plan.unchanged_ids = [existing.ids[j] for j in stored_at[same].tolist()]
    if geometry is not None:
        stored_geometries = np.asarray(existing.values[geometry], dtype=object)
        has = ~shapely.is_missing(stored_geometries[stored_at[same]])
        plan.unchanged_geometry = has.tolist()
    existing.load_provenance(stored_at[~same].tolist())
    for i, j in zip(old_rows[~same].tolist(), stored_at[~same].tolist(), strict=True):
        _merge_one(plan, i, existing.record(j), {k: columns[k][i] for k in fields}, options)
    return plan


def stored_values(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in META}


def _take(values: Sequence[Any], positions: npt.NDArray[np.int64]) -> list[Any]:
    return [values[i] for i in positions.tolist()]


def _merge_one(
    plan: Plan, i: int, record: dict[str, Any], values: dict[str, Any], options: Options
) -> None:
    change = merge(
        stored_values(record), record["provenance"], values, origin=options.origin, at=options.at
    )
    if record["closed_at"] is not None:
        change.changed["closed_at"] = None
        change.before_by["closed_at"] = None
    if change.changed:
        plan.updates.append((i, record, change))
    elif change.provenance_changed:
        plan.silent.append((i, record | {"provenance": change.provenance}))
    else:
        plan.unchanged.append(i)
        plan.unchanged_ids.append(int(record["id"]))
        plan.unchanged_geometry.append(any(isinstance(v, BaseGeometry) for v in record.values()))


def brief(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, shapely.Point):
        return f"{value.x:.6f},{value.y:.6f}"
    if isinstance(value, BaseGeometry):
        return f"{value.geom_type} ({shapely.get_num_coordinates(value)} points)"
    text = str(jsonable(value))
    return text if len(text) <= 40 else text[:39] + "…"


#: Geometries that differ by less than this (degrees, about 1 m) are the same place refined.
_SAME_PLACE_DEG = 1e-5


def nearby(old: object, new: object) -> bool:
    """Whether a new geometry only refines the stored one (rounded coordinates)."""
    if not isinstance(old, BaseGeometry) or not isinstance(new, BaseGeometry):
        return False
    return bool(shapely.equals_exact(old, new, tolerance=_SAME_PLACE_DEG))


def overwrites_in(plan: Plan, existing: Existing, table: str, origin: str) -> list[Overwrite]:
    """Updates that replace non-empty values supplied by other files only."""
    found: list[Overwrite] = []
    for _, record, change in plan.updates:
        origins = origins_of(record["provenance"])
        if not origins or origin in origins:
            continue
        fields = {
            k: (brief(record.get(k)), brief(v))
            for k, v in change.changed.items()
            if k != "closed_at" and record.get(k) is not None and not nearby(record.get(k), v)
        }
        if fields:
            name = record.get("name")
            found.append(
                Overwrite(
                    table,
                    str(record["source_id"]),
                    None if name is None else str(name),
                    tuple(sorted(origins)),
                    fields,
                )
            )
    return found


def jsonable(value: object) -> object:
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def close_absent(
    conn: Connection,
    table: Table,
    existing: Existing,
    in_file: set[str],
    options: Options,
    *,
    has_rejects: bool = False,
) -> tuple[list[dict[str, Any]], int]:
    """Open records this origin supplied before that the file no longer has; close with sync."""
    sids = pd.Index(list(existing.by_sid), dtype=object)
    at = np.asarray(list(existing.by_sid.values()), dtype=np.int64)
    absent = at[~sids.isin(list(in_file))] if len(sids) else at
    open_absent = [j for j in absent.tolist() if existing.closed[j] is None]
    existing.load_provenance(open_absent)
    records = (existing.record(j) for j in open_absent)
    gone = [
        record
        for record in records
        if record["provenance"] is None or options.origin in origins_of(record["provenance"])
    ]
    if not options.sync or has_rejects:
        return gone, 0
    only_here = [r for r in gone if origins_of(r["provenance"]) <= {options.origin}]
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for record in only_here:
        conn.execute(update(table).where(table.c.id == record["id"]).values(closed_at=stamp))
        audit(
            conn,
            options.actor,
            "close",
            table.name,
            int(record["id"]),
            {
                "source": options.source,
                "source_id": str(record["source_id"]),
                "origin": options.origin,
            },
        )
    return gone, len(only_here)


def rejected_ids(result: ReadResult) -> set[str]:
    """Source ids of rows the reader rejected: still in the file, so not absent."""
    if "source_id" not in result.rejects:
        return set()
    return {str(v) for v in result.rejects["source_id"] if not missing(v)}


def absent_note(table: str, absent: list[dict[str, Any]], closed: int, sync: bool) -> str:
    listed = ", ".join(sorted(str(r["source_id"]) for r in absent)[:10])
    more = "" if len(absent) <= 10 else f" and {len(absent) - 10} more"
    note = f"absent from this file: {len(absent)} {table} records it had before ({listed}{more})"
    if not sync:
        return note + "; import with --sync to close them (kept as history, left out of runs)"
    kept = len(absent) - closed
    note += f"; closed {closed}"
    if kept:
        note += f"; {kept} also come from other files or the import has rejects: left open"
    return note


def audit(
    conn: Connection,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any],
) -> None:
    audit = table_of(models.AuditLog)
    conn.execute(
        insert(audit).values(
            actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail
        )
    )


def missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)
