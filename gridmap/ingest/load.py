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
import getpass
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Table, delete, func, insert, select, update

from gridmap.errors import StoreError
from gridmap.ingest._headers import Headers
from gridmap.ingest._plan import (
    Columns,
    ConfirmOverwrite,
    Options,
    Overwrite,
    OverwriteRefused,
    Plan,
    absent_note,
    audit,
    close_absent,
    missing,
    overwrites_in,
    plan_load,
    rejected_ids,
)
from gridmap.ingest._refs import lookup
from gridmap.ingest._stored import read_existing
from gridmap.ingest._update import update_records, write_provenance
from gridmap.ingest._write import (
    count_geometries,
    count_new_geometries,
    dropped_reason,
    insert_columns,
    type_problem,
)
from gridmap.ingest.provenance import first_stored, now, present_patterns
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.store import Store, models, table_of

if TYPE_CHECKING:
    from gridmap.grid.assign import AssignReport

logger = logging.getLogger(__name__)

__all__ = [
    "ConfirmOverwrite",
    "LoadReport",
    "Overwrite",
    "OverwriteRefused",
    "default_actor",
    "load_into",
    "load_many",
    "load_records",
    "load_with",
]


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
    absent: int = 0
    closed: int = 0
    reject_file: Path | None = None  # where the rejected rows were written, if any
    #: units put in cells in the import's transaction (imports of units or cells), if any
    assignment: AssignReport | None = None

    @property
    def loaded(self) -> int:
        """Records now in the store from this import (inserted, updated or unchanged)."""
        return self.inserted + self.updated + self.unchanged

    @property
    def rejected(self) -> int:
        """Rows rejected by the reader or the loader, each with a reason."""
        return len(self.rejects)

    def summary(self) -> dict[str, Any]:
        """The counts of :meth:`__str__`, for tables and JSON."""
        return {
            "kind": self.kind.value,
            "source": self.source,
            "read": self.n_read,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "inserted": self.inserted,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "repaired": self.n_repaired,
            "absent": self.absent,
            "closed": self.closed,
            "reject_file": None if self.reject_file is None else str(self.reject_file),
        }

    def __str__(self) -> str:
        """The one-line account the CLI prints."""
        line = (
            f"read {self.n_read}, loaded {self.loaded}, rejected {self.rejected} "
            f"(inserted {self.inserted}, updated {self.updated}, unchanged {self.unchanged}, "
            f"repaired {self.n_repaired})"
        )
        if self.absent:
            line += f"; absent from this file: {self.absent}"
            line += f" (closed {self.closed})" if self.closed else " (--sync closes them)"
        return line


def default_actor() -> str:
    """Who is importing: the operating-system user, or ``gridmap`` when it has no name."""
    try:
        return getpass.getuser() or "gridmap"
    except (OSError, KeyError, ImportError):
        return "gridmap"


def load_records(
    store: Store,
    kind: RecordKind,
    result: ReadResult,
    *,
    source: str,
    origin: str | None = None,
    actor: str | None = None,
    sync: bool = False,
    confirm: ConfirmOverwrite | None = None,
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
    origin
        The file family the records come from (:func:`gridmap.ingest.provenance.origin_of`);
        defaults to ``source``. Field provenance is kept per origin.
    actor
        Who is importing, for the audit log (default: the operating-system user).
    sync
        Close the records this origin supplied before that are absent from ``result``.
    confirm
        Asked before overwriting values another file supplied (default: go on).
    """
    return load_many(
        store,
        [(kind, result)],
        source=source,
        origin=origin,
        actor=actor,
        sync=sync,
        confirm=confirm,
    )[0]


def load_many(
    store: Store,
    batches: Sequence[tuple[RecordKind, ReadResult]],
    *,
    source: str,
    origin: str | None = None,
    actor: str | None = None,
    sync: bool = False,
    confirm: ConfirmOverwrite | None = None,
    then: Callable[[Connection], None] | None = None,
) -> list[LoadReport]:
    """Load several kinds from one source (an OSM extract) in ONE transaction, in order.

    ``then`` runs on the same connection after the batches (e.g. putting units in cells),
    so it commits or rolls back with them.
    """
    options = Options(
        source=source,
        origin=origin or source,
        actor=actor or default_actor(),
        at=now(),
        sync=sync,
        confirm=confirm,
    )
    with store.engine.begin() as conn:
        reports = [load_with(conn, kind, result, options) for kind, result in batches]
        if then is not None:
            then(conn)
    for report in reports:
        logger.info("%s from %s: %s", report.kind.value, source, report)
    return reports


def load_into(
    conn: Connection,
    kind: RecordKind,
    result: ReadResult,
    *,
    source: str,
    origin: str | None = None,
    actor: str | None = None,
) -> LoadReport:
    """Load one kind on an open connection, inside the caller's transaction."""
    options = Options(source, origin or source, actor or default_actor(), now())
    return load_with(conn, kind, result, options)


def load_with(
    conn: Connection, kind: RecordKind, result: ReadResult, options: Options
) -> LoadReport:
    """Load one kind on an open connection with the given options."""
    target = _TARGETS[kind]
    table = table_of(target.model)
    frame = result.records.reset_index(drop=True)
    resolved, link_ids, rejects = _resolve(conn, kind, frame, options.source)
    columns = _columns(frame, target, resolved)
    if kind is RecordKind.ORG:
        _locate_orgs(conn, columns)
    if target.geometry:
        _check_types(table, target.geometry, columns[target.geometry], rejects)
    keep = [i for i in range(len(frame)) if i not in rejects]
    compared = [*target.values, *sorted(c for c in _FILL_COLUMNS if c in table.c)]
    existing = read_existing(
        conn,
        table,
        compared,
        target.geometry,
        options.source,
        options.origin,
        by_code=kind is RecordKind.AREA,
    )
    plan = plan_load(columns, keep, existing, options, target.geometry)
    overwrites = overwrites_in(plan, existing, table.name, options.origin)
    if overwrites and options.confirm is not None and not options.confirm(overwrites):
        raise OverwriteRefused(overwrites)
    written = _write(conn, table, target, columns, plan, options, rejects)
    in_file = set(columns["source_id"]) | rejected_ids(result)
    absent, closed = close_absent(
        conn,
        table,
        existing,
        in_file,
        options,
        has_rejects=bool(rejects) or result.n_read > len(frame),
    )
    kept = [i for i in keep if i not in rejects]
    if kind in _LINKS:
        _replace_links(conn, kind, table, options.source, frame, kept, link_ids)
    notes = list(result.notes)
    if kind is RecordKind.AREA and "parent_code" in frame:
        notes += _link_parents(conn, frame.iloc[kept])
    if absent:
        notes.append(absent_note(table.name, absent, closed, options.sync))
    inserted, updated, unchanged = written
    audit(
        conn,
        options.actor,
        "import",
        table.name,
        None,
        {
            "source": options.source,
            "origin": options.origin,
            "read": result.n_read,
            "inserted": inserted,
            "updated": updated,
            "unchanged": unchanged,
            "rejected": len(result.rejects) + len(rejects),
            "absent": len(absent),
            "closed": closed,
        },
    )
    report = LoadReport(
        kind=kind,
        source=options.source,
        n_read=result.n_read,
        inserted=inserted,
        updated=updated,
        unchanged=unchanged,
        n_repaired=result.n_repaired,
        rejects=_all_rejects(result, frame, rejects),
        notes=notes,
        absent=len(absent),
        closed=closed,
    )
    assert report.n_read == report.loaded + report.rejected, str(report)
    return report


# -- references -------------------------------------------------------------------------


#: The stored records each named one: (model, key) -> name -> ids.
_Indexes = dict[tuple[type[models.Base], str], dict[str, list[int]]]


def _named(values: Iterable[object]) -> set[str]:
    return {str(v).strip() for v in values if not missing(v)}


def _indexes(conn: Connection, kind: RecordKind, frame: pd.DataFrame) -> _Indexes:
    """Look up every name the reference and link columns use, once per referenced table.

    Only the names the file uses are looked up (:func:`gridmap.ingest._refs.lookup`).
    """
    wanted: dict[tuple[type[models.Base], str], set[str]] = {}
    for column, (_, model, key) in _REFERENCES.get(kind, {}).items():
        wanted.setdefault((model, key), set()).update(_named(_column(frame, column)))
    if kind in _LINKS:
        column, _, _, _, model, key = _LINKS[kind]
        lists = [v for v in _column(frame, column) if isinstance(v, list | tuple)]
        wanted.setdefault((model, key), set()).update(_named(v for vs in lists for v in vs))
    return {(m, k): lookup(conn, table_of(m), k, names) for (m, k), names in wanted.items()}


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
    _reject_empty_required(kind, frame, rejects)
    indexes = _indexes(conn, kind, frame)
    resolved = _resolve_references(kind, frame, rejects, indexes)
    if kind is RecordKind.CELL and "code" in frame:
        _check_cell_codes(conn, frame, source, rejects)
    return resolved, _resolve_links(kind, frame, rejects, indexes), rejects


def _column(frame: pd.DataFrame, column: str) -> pd.Series:
    """``frame[column]``, or all None where the column is absent."""
    return frame[column] if column in frame else pd.Series([None] * len(frame))


def _reject_empty_required(kind: RecordKind, frame: pd.DataFrame, rejects: dict[int, str]) -> None:
    for column in _NOT_NULL.get(kind, ()):
        for i in _empty_positions(_column(frame, column).tolist()):
            rejects[i] = _join(rejects.get(i), f"{column} is required but empty")


def _empty(value: object) -> bool:
    return missing(value) or str(value).strip() == ""


def _empty_positions(values: list[object]) -> list[int]:
    """The positions of the missing or blank values: each distinct value asked once.

    A missing value and every value :func:`pandas.factorize` cannot tell apart by
    equality (unhashable lists) are asked one by one, as the reference
    :func:`_empty_one_by_one` asks every value.
    """
    array = np.empty(len(values), dtype=object)
    array[:] = values
    try:
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
    except TypeError:  # unhashable values
        return _empty_one_by_one(values)
    blank = np.asarray([_empty(u) for u in uniques.tolist()] + [False], dtype=np.bool_)
    found = blank[codes]
    unknown = np.flatnonzero(codes < 0)
    found[unknown] = [_empty(values[i]) for i in unknown.tolist()]
    return np.flatnonzero(found).tolist()


def _empty_one_by_one(values: list[object]) -> list[int]:
    """:func:`_empty_positions`, value by value: the reference."""
    return [i for i, value in enumerate(values) if _empty(value)]


def _resolve_references(
    kind: RecordKind, frame: pd.DataFrame, rejects: dict[int, str], indexes: _Indexes
) -> dict[str, list[int | None]]:
    resolved: dict[str, list[int | None]] = {}
    for column, (fills, model, key) in _REFERENCES.get(kind, {}).items():
        values = _column(frame, column)
        index = indexes[model, key]
        ids: list[int | None] = []
        for i, value in enumerate(values):
            if missing(value):
                ids.append(None)
                continue
            found, problem = _find(index, str(value), column)
            ids.append(found)
            if problem:
                rejects[i] = _join(rejects.get(i), problem)
        resolved[fills] = ids
    return resolved


def _resolve_links(
    kind: RecordKind, frame: pd.DataFrame, rejects: dict[int, str], indexes: _Indexes
) -> list[list[int]]:
    if kind not in _LINKS:
        return []
    link_ids: list[list[int]] = [[] for _ in range(len(frame))]
    column, _, _, _, model, key = _LINKS[kind]
    index = indexes[model, key]
    for i, values in enumerate(_column(frame, column)):
        for value in values if isinstance(values, list | tuple) else []:
            found, problem = _find(index, str(value), column)
            if found is not None:
                link_ids[i].append(found)
            if problem:
                rejects[i] = _join(rejects.get(i), problem)
    return link_ids


def _check_cell_codes(
    conn: Connection, frame: pd.DataFrame, source: str, rejects: dict[int, str]
) -> None:
    """Reject cells whose code another source's cell already has (codes are unique)."""
    table = table_of(models.GridCell)
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


# -- rows and upsert ----------------------------------------------------------------------


def _plain(value: object) -> object:
    """Turn pandas/numpy scalars into what the database drivers take."""
    if missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, dt.datetime):
        return value.date()
    if hasattr(value, "item"):
        return value.item()
    return value


def _plain_column(series: pd.Series) -> list[Any]:
    """:func:`_plain` over a whole column, without a Python call per value where possible."""
    if pd.api.types.is_integer_dtype(series.dtype) or pd.api.types.is_bool_dtype(series.dtype):
        values = series.astype(object)
        return values.where(series.notna(), None).tolist()
    if pd.api.types.infer_dtype(series, skipna=True) in ("string", "empty"):
        return series.astype(object).where(series.notna(), None).tolist()
    return [_plain(v) for v in series.tolist()]


def _columns(
    frame: pd.DataFrame, target: _Target, resolved: Mapping[str, list[int | None]]
) -> Columns:
    """The rows to load, one list per column (source id, values, references, geometry)."""
    n = len(frame)
    columns: Columns = {"source_id": frame["source_id"].astype(str).tolist()}
    for column in target.values:
        columns[column] = _plain_column(frame[column]) if column in frame else [None] * n
    columns.update(resolved)
    if target.geometry:
        columns[target.geometry] = _geometries(frame.geometry.values, target.multipolygon)
    return columns


def _geometries(geoms: Any, multipolygon: bool) -> list[BaseGeometry | None]:
    """The geometries to store: empty ones as None, polygons as multipolygons where wanted."""
    array = np.asarray(geoms, dtype=object).copy()
    array[shapely.is_missing(array) | shapely.is_empty(array)] = None
    if multipolygon:
        single = np.flatnonzero(shapely.get_type_id(array) == _POLYGON)
        if len(single):
            array[single] = shapely.multipolygons(array[single][:, None])
        other = np.flatnonzero(~np.isin(shapely.get_type_id(array), [-1, _MULTIPOLYGON]))
        for i in other.tolist():
            array[i] = _geometry(array[i], multipolygon=True)
    return list(array.tolist())


#: GEOS type ids of the polygonal types.
_POLYGON, _MULTIPOLYGON = 3, 6


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


#: Columns filled from references (``area_code`` -> ``area_id``), compared like values.
_FILL_COLUMNS = frozenset(fills for refs in _REFERENCES.values() for fills, _, _ in refs.values())


def _write(
    conn: Connection,
    table: Table,
    target: _Target,
    columns: Columns,
    plan: Plan,
    options: Options,
    rejects: dict[int, str],
) -> tuple[int, int, int]:
    """Write the plan; rows the store refuses join ``rejects``. Returns the counts."""
    column = target.geometry
    last = _max_id(conn, table)
    fields = [k for k in columns if k != "source_id"]

    headers = Headers(conn)
    header_ids = headers.prepare(  # before the chunks' savepoints and the writer thread
        present_patterns(
            {k: columns[k] for k in fields}, plan.inserts, origin=options.origin, at=options.at
        )
    )

    def provenance(batch: Mapping[str, Sequence[Any]]) -> dict[str, list[str]]:
        values = {k: batch[k] for k in fields}
        texts = first_stored(values, origin=options.origin, at=options.at, header_ids=header_ids)
        return {"provenance": texts}

    fixed = {"source": options.source}
    rejects |= insert_columns(conn, table, column, columns, plan.inserts, fixed, provenance)
    if column is not None and plan.inserts:
        _drop_lost_geometries(conn, table, column, columns, plan, last, rejects)
    updated = update_records(conn, table, column, plan.updates, options, rejects, headers)
    write_provenance(conn, table, [(r["id"], r["provenance"]) for _, r in plan.silent], headers)
    if column is not None:
        _check_geometries(conn, table, column, columns, plan, last, rejects)
    inserted = sum(1 for i in plan.inserts if i not in rejects)
    return inserted, updated, len(plan.silent) + len(plan.unchanged)


def _max_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar() or 0)


def _drop_lost_geometries(
    conn: Connection,
    table: Table,
    column: str,
    columns: Columns,
    plan: Plan,
    last: int,
    rejects: dict[int, str],
) -> None:
    """Inserted records whose geometry the database stored as NULL are removed and rejected."""
    lost = dict(
        conn.execute(
            select(table.c.source_id, table.c.id).where(
                table.c.id > last, table.c[column].is_(None)
            )
        ).all()
    )
    if not lost:
        return
    for i in plan.inserts:
        geom = columns[column][i]
        if i in rejects or geom is None or columns["source_id"][i] not in lost:
            continue
        conn.execute(delete(table).where(table.c.id == lost[columns["source_id"][i]]))
        rejects[i] = dropped_reason(geom)


def _check_geometries(
    conn: Connection,
    table: Table,
    column: str,
    columns: Columns,
    plan: Plan,
    last: int,
    rejects: dict[int, str],
) -> None:
    """Every loaded record whose file gave a geometry has one stored: counted, not assumed."""
    geoms = columns[column]
    new = sum(1 for i in plan.inserts if i not in rejects and geoms[i] is not None)
    found = count_new_geometries(conn, table, column, last)
    expected: list[int] = []
    for i, record, change in plan.updates:
        if i not in rejects and (change.changed.get(column) or record.get(column)) is not None:
            expected.append(int(record["id"]))
    for _, record in plan.silent:
        if record.get(column) is not None:
            expected.append(int(record["id"]))
    expected += [
        i for i, has in zip(plan.unchanged_ids, plan.unchanged_geometry, strict=True) if has
    ]
    found += count_geometries(conn, table, column, expected)
    if found != new + len(expected):
        msg = (
            f"{table.name}: {new + len(expected)} geometries were loaded but {found} are "
            "stored; nothing was changed"
        )
        raise StoreError(msg)


def _check_types(
    table: Table, column: str, geoms: Sequence[BaseGeometry | None], rejects: dict[int, str]
) -> None:
    """Reject rows whose geometry type the column cannot take (decided per distinct type)."""
    array = np.asarray(list(geoms), dtype=object)
    type_ids = shapely.get_type_id(array)
    for type_id in np.unique(type_ids).tolist():
        if type_id < 0:
            continue
        where = np.flatnonzero(type_ids == type_id)
        problem = type_problem(table, column, array[where[0]])
        if problem is None:
            continue
        for i in where.tolist():
            rejects[i] = _join(rejects.get(i), problem)


def _locate_orgs(conn: Connection, columns: Columns) -> None:
    """An organisation without coordinates takes its own unit's location."""
    geoms = columns["geom"]
    owners = columns.get("own_unit_id", [None] * len(geoms))
    wanted = {u for g, u in zip(geoms, owners, strict=True) if g is None and u}
    if not wanted:
        return
    units = table_of(models.Unit)
    found = conn.execute(select(units.c.id, units.c.geom).where(units.c.id.in_(sorted(wanted))))
    places = {int(i): shapely.point_on_surface(to_shape(g)) for i, g in found if g is not None}
    for i, (geom, owner) in enumerate(zip(geoms, owners, strict=True)):
        if geom is None and owner in places:
            geoms[i] = places[owner]


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
    link = table_of(link_model)
    ids = dict(
        conn.execute(select(table.c.source_id, table.c.id).where(table.c.source == source)).all()
    )
    sids = frame["source_id"].astype(str).tolist()
    own_ids = [ids[sids[i]] for i in keep]
    for start in range(0, len(own_ids), 10_000):
        chunk = own_ids[start : start + 10_000]
        conn.execute(delete(link).where(link.c[own_key].in_(chunk)))
    pairs = {(ids[sids[i]], other) for i in keep for other in link_ids[i]}
    if pairs:
        conn.execute(insert(link), [{own_key: a, other_key: b} for a, b in sorted(pairs)])


def _link_parents(conn: Connection, frame: pd.DataFrame) -> list[str]:
    """Point each area at its parent by code, now that the whole file is in.

    A parent not in the store leaves the area unlinked, with a note: import the
    parent level later and re-import this file to link them.
    """
    areas = table_of(models.AdminArea)
    ids = {str(k): v for k, v in conn.execute(select(areas.c.code, areas.c.id))}
    unknown: set[str] = set()
    for code, parent in zip(frame["code"], frame["parent_code"], strict=True):
        if missing(code) or missing(parent):
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
