"""Deciding what an import does before it writes: matches, merges, overwrites, absences.

:func:`plan_load` matches each accepted row with a stored record (by source id, and
areas by code too) and merges it field by field (:mod:`gridmap.ingest.provenance`);
:func:`overwrites_in` lists what would replace values other files supplied, for the
caller to confirm; :func:`close_absent` finds the records a file no longer has.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, insert, select, update

from gridmap.ingest.provenance import Merge, first_many, merge, origins_of
from gridmap.ingest.records import IngestError, ReadResult
from gridmap.progress import track
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


@dataclass
class Existing:
    """Stored records an import may match: by source id (same source), by code (areas)."""

    by_sid: dict[str, dict[str, Any]]
    by_code: dict[str, dict[str, Any]]


META = ("id", "source", "source_id", "provenance", "closed_at")


def read_existing(
    conn: Connection,
    table: Table,
    columns: list[str],
    geometry: str | None,
    source: str,
    *,
    by_code: bool,
) -> Existing:
    """Stored records of ``source`` (of every source, for areas matched by code)."""
    columns = [*META, *columns]
    if geometry:
        columns.append(geometry)
    query = select(*(table.c[c] for c in columns))
    if not by_code:
        query = query.where(table.c.source == source)
    found = Existing({}, {})
    for row in conn.execute(query).mappings():
        record = dict(row)
        if geometry and record[geometry] is not None:
            record[geometry] = to_shape(record[geometry])
        if record["source"] == source:
            found.by_sid[str(record["source_id"])] = record
        if by_code and record.get("code") is not None:
            found.by_code[str(record["code"])] = record
    return found


def stored_values(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k not in META}


@dataclass
class Plan:
    """What an import will do, decided before anything is written."""

    inserts: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[int, dict[str, Any], Merge]] = field(default_factory=list)
    silent: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    unchanged: list[tuple[int, dict[str, Any]]] = field(default_factory=list)


def plan_load(
    rows: list[dict[str, Any]],
    keep: list[int],
    existing: Existing,
    options: Options,
    description: str,
) -> Plan:
    plan = Plan()
    for i in track(keep, description=description):
        row = rows[i]
        record = existing.by_sid.get(row["source_id"])
        if record is None and existing.by_code and row.get("code") is not None:
            record = existing.by_code.get(str(row["code"]))
        if record is None:
            plan.inserts.append((i, row | {"source": options.source}))
            continue
        values = {k: v for k, v in row.items() if k != "source_id"}
        change = merge(
            stored_values(record),
            record["provenance"],
            values,
            origin=options.origin,
            at=options.at,
        )
        if record["closed_at"] is not None:
            change.changed["closed_at"] = None
            change.before_by["closed_at"] = None
        if change.changed:
            plan.updates.append((i, record, change))
        elif change.provenance_changed:
            plan.silent.append((i, record | {"provenance": change.provenance}))
        else:
            plan.unchanged.append((i, record))
    new = [
        {k: v for k, v in row.items() if k not in ("source_id", "source")}
        for _, row in plan.inserts
    ]
    for (_, row), provenance in zip(
        plan.inserts, first_many(new, origin=options.origin, at=options.at), strict=True
    ):
        row["provenance"] = provenance
    return plan


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
    gone = [
        record
        for sid, record in existing.by_sid.items()
        if sid not in in_file
        and record["closed_at"] is None
        and (record["provenance"] is None or options.origin in origins_of(record["provenance"]))
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
