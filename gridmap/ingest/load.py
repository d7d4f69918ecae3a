"""Load read records into the store: one transaction, upsert by source id, history kept.

:func:`load_records` takes what a reader accepted (a :class:`ReadResult`) and
writes it in ONE transaction: an error, a crash or Ctrl-C leaves the store as
it was. Records are matched on ``(source, source_id)``: new ones are inserted,
changed ones updated with their old and new values written to the audit log,
unchanged ones left alone, so importing the same file twice changes nothing.
Rows whose references cannot be resolved (a branch covering an unknown unit, a
cell in an unknown community) are rejected with the reason, like a reader's
rejects: ``n_read == loaded + rejected`` always holds.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import shapely
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, delete, insert, select, update

from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.progress import track
from gridmap.store import Store, models

logger = logging.getLogger(__name__)

__all__ = ["LoadReport", "load_into", "load_many", "load_records"]


@dataclass(frozen=True)
class _Target:
    """Where one record kind goes: table, geometry column and plain value columns."""

    model: type[models.Base]
    geometry: str | None
    values: tuple[str, ...]
    multipolygon: bool = False


_TARGETS: dict[RecordKind, _Target] = {
    RecordKind.AREA: _Target(models.AdminArea, "boundary", ("name", "code", "level"), True),
    RecordKind.CELL: _Target(
        models.GridCell, "geom", ("code", "name", "households", "population"), True
    ),
    RecordKind.UNIT: _Target(
        models.Unit,
        "geom",
        ("kind", "name", "households", "population", "party_members", "address"),
    ),
    RecordKind.ORG: _Target(
        models.PartyOrg, "geom", ("kind", "name", "members", "established", "last_activity")
    ),
    RecordKind.INSTRUCTOR: _Target(models.Instructor, None, ("name", "phone")),
    RecordKind.STATION: _Target(
        models.Station, "geom", ("tier", "name", "last_activity", "capacity")
    ),
    RecordKind.WORKER: _Target(models.Worker, None, ("name", "phone")),
    RecordKind.ROAD: _Target(models.Road, "geom", ("name", "highway", "oneway")),
    RecordKind.SITE: _Target(models.CandidateSite, "geom", ("name", "site_kind")),
}

#: Reference columns: canonical column -> (column it fills, referenced table, key).
_REFERENCES: dict[RecordKind, dict[str, tuple[str, type[models.Base], str]]] = {
    RecordKind.CELL: {"area_code": ("area_id", models.AdminArea, "code")},
    RecordKind.ORG: {"own_unit": ("own_unit_id", models.Unit, "source_id")},
}

#: Fields every record must have a value in (the store's NOT NULL columns).
_NOT_NULL: dict[RecordKind, tuple[str, ...]] = {
    RecordKind.AREA: ("name", "level"),
    RecordKind.CELL: ("code",),
    RecordKind.UNIT: ("kind",),
    RecordKind.ORG: ("kind", "name"),
    RecordKind.INSTRUCTOR: ("name",),
    RecordKind.STATION: ("tier", "name"),
    RecordKind.WORKER: ("name",),
}

#: List columns that become link-table rows: column -> (link table, own key, other key, table).
_LINKS: dict[RecordKind, tuple[str, type[models.Base], str, str, type[models.Base], str]] = {
    RecordKind.ORG: ("covers", models.OrgUnit, "org_id", "unit_id", models.Unit, "source_id"),
    RecordKind.INSTRUCTOR: (
        "covers",
        models.InstructorUnit,
        "instructor_id",
        "unit_id",
        models.Unit,
        "source_id",
    ),
    RecordKind.WORKER: (
        "cells",
        models.WorkerCell,
        "worker_id",
        "cell_id",
        models.GridCell,
        "code",
    ),
}


@dataclass(frozen=True)
class LoadReport:
    """What one import did. ``n_read == loaded + rejected`` always holds."""

    kind: RecordKind
    source: str
    n_read: int
    inserted: int
    updated: int
    unchanged: int
    n_repaired: int
    rejects: pd.DataFrame
    notes: list[str] = field(default_factory=list)

    @property
    def loaded(self) -> int:
        """Records now in the store from this import (inserted, updated or unchanged)."""
        return self.inserted + self.updated + self.unchanged

    @property
    def rejected(self) -> int:
        """Rows rejected by the reader or the loader, each with a reason."""
        return len(self.rejects)

    def summary(self) -> str:
        """The one-line account the CLI prints."""
        return (
            f"read {self.n_read}, loaded {self.loaded}, rejected {self.rejected} "
            f"(inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}, "
            f"repaired {self.n_repaired})"
        )


def load_records(
    store: Store, kind: RecordKind, result: ReadResult, *, source: str, actor: str = "gridmap"
) -> LoadReport:
    """Write ``result.records`` into the store in one transaction.

    Parameters
    ----------
    store
        The store to write to.
    kind
        What the records are.
    result
        A reader's output; its rejects are carried into the report.
    source
        Source name the records are matched on, with each record's ``source_id``.
    actor
        Who is importing, for the audit log.
    """
    return load_many(store, [(kind, result)], source=source, actor=actor)[0]


def load_many(
    store: Store,
    batches: Sequence[tuple[RecordKind, ReadResult]],
    *,
    source: str,
    actor: str = "gridmap",
) -> list[LoadReport]:
    """Load several kinds from one source (an OSM extract) in ONE transaction, in order."""
    with store.engine.begin() as conn:
        reports = [
            load_into(conn, kind, result, source=source, actor=actor) for kind, result in batches
        ]
    for report in reports:
        logger.info("%s from %s: %s", report.kind.value, source, report.summary())
    return reports


def load_into(
    conn: Connection, kind: RecordKind, result: ReadResult, *, source: str, actor: str = "gridmap"
) -> LoadReport:
    """Load one kind on an open connection, inside the caller's transaction."""
    target = _TARGETS[kind]
    table: Table = target.model.__table__  # type: ignore[assignment]
    frame = result.records.reset_index(drop=True)
    resolved, link_ids, loader_rejects = _resolve(conn, kind, frame, source)
    rows = _rows(frame, target, resolved)
    keep = [i for i in range(len(frame)) if i not in loader_rejects]
    existing = _existing(conn, table, target, source)
    inserted, updated, unchanged = _upsert(conn, table, target, source, rows, keep, existing, actor)
    if kind in _LINKS:
        _replace_links(conn, kind, table, source, frame, keep, link_ids)
    notes = list(result.notes)
    if kind is RecordKind.AREA and "parent_code" in frame:
        notes += _link_parents(conn, frame.iloc[keep])
    _audit(
        conn,
        actor,
        "import",
        table.name,
        None,
        {
            "source": source,
            "read": result.n_read,
            "inserted": inserted,
            "updated": updated,
            "unchanged": unchanged,
            "rejected": len(result.rejects) + len(loader_rejects),
        },
    )
    report = LoadReport(
        kind=kind,
        source=source,
        n_read=result.n_read,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        n_repaired=result.n_repaired,
        rejects=_all_rejects(result, frame, loader_rejects),
        notes=notes,
    )
    assert report.n_read == report.loaded + report.rejected, report.summary()
    return report


# -- references -------------------------------------------------------------------------


def _lookup(conn: Connection, model: type[models.Base], key: str) -> dict[str, list[int]]:
    """Map each value of ``key`` (and ``source:source_id`` for source ids) to row ids."""
    table: Table = model.__table__  # type: ignore[assignment]
    index: dict[str, list[int]] = {}
    columns = [table.c.id, table.c[key]] + ([table.c.source] if key == "source_id" else [])
    for row in conn.execute(select(*columns)):
        index.setdefault(str(row[1]), []).append(row[0])
        if key == "source_id":
            index.setdefault(f"{row[2]}:{row[1]}", []).append(row[0])
    return index


def _find(index: Mapping[str, list[int]], value: str, what: str) -> tuple[int | None, str | None]:
    ids = index.get(value.strip(), [])
    if len(ids) == 1:
        return ids[0], None
    if not ids:
        return None, f"{what} {value!r} not found in the store (import it first)"
    return None, f"{what} {value!r} is ambiguous: write it as SOURCE:ID"


def _resolve(
    conn: Connection, kind: RecordKind, frame: pd.DataFrame, source: str
) -> tuple[dict[str, list[int | None]], list[list[int]], dict[int, str]]:
    """Resolve reference and link columns; return ids per row and the rows to reject."""
    rejects: dict[int, str] = {}
    for column in _NOT_NULL.get(kind, ()):
        values = frame[column] if column in frame else pd.Series([None] * len(frame))
        for i, value in enumerate(values):
            if _missing(value) or str(value).strip() == "":
                rejects[i] = _join(rejects.get(i), f"{column} is required but empty")
    resolved: dict[str, list[int | None]] = {}
    for column, (fills, model, key) in _REFERENCES.get(kind, {}).items():
        index = _lookup(conn, model, key)
        ids: list[int | None] = []
        for i, value in enumerate(frame.get(column, pd.Series([None] * len(frame)))):
            if _missing(value):
                ids.append(None)
                continue
            found, problem = _find(index, str(value), column)
            ids.append(found)
            if problem:
                rejects[i] = _join(rejects.get(i), problem)
        resolved[fills] = ids
    if kind is RecordKind.CELL and "code" in frame:
        _check_cell_codes(conn, frame, source, rejects)
    link_ids: list[list[int]] = [[] for _ in range(len(frame))]
    if kind in _LINKS:
        column, _, _, _, model, key = _LINKS[kind]
        index = _lookup(conn, model, key)
        for i, values in enumerate(frame.get(column, pd.Series([None] * len(frame)))):
            for value in values if isinstance(values, list | tuple) else []:
                found, problem = _find(index, str(value), column)
                if found is not None:
                    link_ids[i].append(found)
                if problem:
                    rejects[i] = _join(rejects.get(i), problem)
    return resolved, link_ids, rejects


def _check_cell_codes(
    conn: Connection, frame: pd.DataFrame, source: str, rejects: dict[int, str]
) -> None:
    """Reject cells whose code another source's cell already has (codes are unique)."""
    table: Table = models.GridCell.__table__  # type: ignore[assignment]
    owners = {
        str(c): (s, str(i))
        for c, s, i in conn.execute(select(table.c.code, table.c.source, table.c.source_id))
    }
    for i, (code, sid) in enumerate(zip(frame["code"], frame["source_id"], strict=True)):
        owner = owners.get(str(code))
        if owner is not None and owner != (source, str(sid)):
            rejects[i] = _join(
                rejects.get(i), f"code {code} is already used by cell {owner[1]} of {owner[0]}"
            )


def _join(first: str | None, second: str) -> str:
    return second if first is None else f"{first}; {second}"


def _missing(value: object) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    return isinstance(value, float) and math.isnan(value)


# -- rows and upsert ----------------------------------------------------------------------


def _plain(value: object) -> object:
    """Turn pandas/numpy scalars into what the database drivers take."""
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


def _rows(
    frame: pd.DataFrame, target: _Target, resolved: Mapping[str, list[int | None]]
) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    geometries: Iterable[Any] = frame.geometry if target.geometry else [None] * len(frame)
    for i, geom in enumerate(geometries):
        row: dict[str, Any] = {"source_id": str(frame["source_id"].iloc[i])}
        for column in target.values:
            row[column] = _plain(frame[column].iloc[i]) if column in frame else None
        for column, ids in resolved.items():
            row[column] = ids[i]
        if target.geometry:
            row[target.geometry] = _geometry(geom, multipolygon=target.multipolygon)
        records.append(row)
    return records


def _geometry(geom: BaseGeometry | None, *, multipolygon: bool) -> BaseGeometry | None:
    if geom is None or geom.is_empty:
        return None
    if not multipolygon:
        return geom
    if geom.geom_type == "GeometryCollection":  # e.g. a clip that left slivers of line
        parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
        geom = shapely.union_all(parts) if parts else None
        if geom is None or geom.is_empty:
            return None
    if geom.geom_type == "Polygon":
        return MultiPolygon([geom])
    return geom


def _existing(
    conn: Connection, table: Table, target: _Target, source: str
) -> dict[str, dict[str, Any]]:
    columns = ["id", "source_id", *target.values]
    if target.geometry:
        columns.append(target.geometry)
    rows = conn.execute(select(*(table.c[c] for c in columns)).where(table.c.source == source))
    found: dict[str, dict[str, Any]] = {}
    for row in rows.mappings():
        record = dict(row)
        if target.geometry and record[target.geometry] is not None:
            record[target.geometry] = to_shape(record[target.geometry])
        found[str(record["source_id"])] = record
    return found


def _same(old: object, new: object) -> bool:
    if isinstance(old, BaseGeometry) or isinstance(new, BaseGeometry):
        if old is None or new is None:
            return old is new
        return bool(shapely.equals_exact(old, new, tolerance=1e-9))
    return old == new


def _jsonable(value: object) -> object:
    if isinstance(value, BaseGeometry):
        return value.wkt
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _upsert(
    conn: Connection,
    table: Table,
    target: _Target,
    source: str,
    rows: list[dict[str, Any]],
    keep: list[int],
    existing: Mapping[str, dict[str, Any]],
    actor: str,
) -> tuple[int, int, int]:
    new_rows: list[dict[str, Any]] = []
    unchanged = updated = 0
    for i in track(keep, description=f"loading {table.name}"):
        row = rows[i]
        old = existing.get(row["source_id"])
        if old is None:
            new_rows.append(row)
            continue
        changed = {k: v for k, v in row.items() if k in old and not _same(old[k], v)}
        changed |= {k: v for k, v in row.items() if k not in old and k != "source_id"}
        if not changed:
            unchanged += 1
            continue
        conn.execute(update(table).where(table.c.id == old["id"]).values(**_bind(changed, target)))
        _audit(
            conn,
            actor,
            "update",
            table.name,
            old["id"],
            {
                "source": source,
                "source_id": row["source_id"],
                "before": {k: _jsonable(old.get(k)) for k in changed},
                "after": {k: _jsonable(v) for k, v in changed.items()},
            },
        )
        updated += 1
    if new_rows:
        conn.execute(insert(table), [_bind(r, target) | {"source": source} for r in new_rows])
    return len(new_rows), updated, unchanged


def _bind(row: Mapping[str, Any], target: _Target) -> dict[str, Any]:
    out = dict(row)
    if target.geometry and out.get(target.geometry) is not None:
        out[target.geometry] = from_shape(out[target.geometry], srid=models.SRID)
    return out


def _replace_links(
    conn: Connection,
    kind: RecordKind,
    table: Table,
    source: str,
    frame: pd.DataFrame,
    keep: list[int],
    link_ids: list[list[int]],
) -> None:
    """Replace the link rows (covered units, assigned cells) of the imported records."""
    _, link_model, own_key, other_key, _, _ = _LINKS[kind]
    link: Table = link_model.__table__  # type: ignore[assignment]
    ids = dict(
        conn.execute(select(table.c.source_id, table.c.id).where(table.c.source == source)).all()
    )
    own_ids = [ids[str(frame["source_id"].iloc[i])] for i in keep]
    if own_ids:
        conn.execute(delete(link).where(link.c[own_key].in_(own_ids)))
    pairs = {(ids[str(frame["source_id"].iloc[i])], other) for i in keep for other in link_ids[i]}
    if pairs:
        conn.execute(insert(link), [{own_key: a, other_key: b} for a, b in sorted(pairs)])


def _link_parents(conn: Connection, frame: pd.DataFrame) -> list[str]:
    """Point each area at its parent by code, now that the whole file is in.

    A parent not in the store leaves the area unlinked, with a note: import the
    parent level later and re-import this file to link them.
    """
    areas: Table = models.AdminArea.__table__  # type: ignore[assignment]
    ids = {str(k): v for k, v in conn.execute(select(areas.c.code, areas.c.id))}
    unknown: set[str] = set()
    for code, parent in zip(frame["code"], frame["parent_code"], strict=True):
        if _missing(code) or _missing(parent):
            continue
        if str(parent) not in ids:
            unknown.add(str(parent))
            continue
        conn.execute(
            update(areas).where(areas.c.code == str(code)).values(parent_id=ids[str(parent)])
        )
    if not unknown:
        return []
    listed = ", ".join(sorted(unknown))
    return [f"parent areas {listed} are not in the store: those areas stay unlinked until imported"]


def _audit(
    conn: Connection,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None,
    detail: dict[str, Any],
) -> None:
    audit: Table = models.AuditLog.__table__  # type: ignore[assignment]
    conn.execute(
        insert(audit).values(
            actor=actor, action=action, entity=entity, entity_id=entity_id, detail=detail
        )
    )


def _all_rejects(
    result: ReadResult, frame: pd.DataFrame, loader_rejects: Mapping[int, str]
) -> pd.DataFrame:
    if not loader_rejects:
        return result.rejects.reset_index(drop=True)
    positions = sorted(loader_rejects)
    extra = pd.DataFrame(frame.iloc[positions].drop(columns=frame.geometry.name, errors="ignore"))
    if frame.geometry.name in frame:
        extra["wkt"] = [g.wkt if g is not None else None for g in frame.geometry.iloc[positions]]
    extra["reason"] = [loader_rejects[i] for i in positions]
    return pd.concat([result.rejects, extra], ignore_index=True)
