"""Write records with their geometries as WKB; a geometry the store refuses is a reject.

Geometries go to the database as WKB (``ST_GeomFromWKB(blob, 4326)`` on both
backends): text forms give up on large shapes (SpatiaLite's ``GeomFromEWKT``
returns NULL near 500,000 points). Rows are inserted in chunks, each in a
savepoint; a chunk the database refuses is retried row by row so that only the
rows it cannot take are rejected, with the database's reason. Geometry types
are checked before writing: SpatiaLite's own type triggers roll back the whole
transaction instead of the statement.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, LargeBinary, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from gridmap.ingest._bulk import bulk_insert_triggers, write_many
from gridmap.progress import track
from gridmap.store import models
from gridmap.store._engine import raise_if_interrupted

logger = logging.getLogger(__name__)

#: Makes serialised JSON columns from a chunk's values (column -> one text per row).
Derived = Callable[[Mapping[str, Sequence[Any]]], Mapping[str, Sequence[str]]]

CHUNK = 1000
#: Rows per bulk statement (executemany / COPY) when every row has the same columns.
BULK_CHUNK = 50_000
_WKB = "_wkb"

#: Geometry types each column takes (None: any).
_COLUMN_TYPES: dict[str, frozenset[str] | None] = {
    "POINT": frozenset({"Point"}),
    "LINESTRING": frozenset({"LineString"}),
    "MULTIPOLYGON": frozenset({"MultiPolygon"}),
    "GEOMETRY": None,
}


def type_problem(table: Table, column: str, geom: BaseGeometry | None) -> str | None:
    """Why the column cannot take ``geom``'s type, or None when it can."""
    if geom is None:
        return None
    wanted = str(getattr(table.c[column].type, "geometry_type", "GEOMETRY")).upper()
    allowed = _COLUMN_TYPES.get(wanted)
    if allowed is None or geom.geom_type in allowed:
        return None
    return f"a {geom.geom_type} cannot be stored as {table.name}.{column} ({wanted.lower()} only)"


def _params(row: Mapping[str, Any], column: str | None) -> dict[str, Any]:
    out = dict(row)
    if column is not None:
        geom = out.pop(column, None)
        out[_WKB] = None if geom is None else shapely.to_wkb(geom, output_dimension=2)
    return out


def _geometry_value(column: str | None) -> dict[str, Any]:
    if column is None:
        return {}
    blob = bindparam(_WKB, type_=LargeBinary)
    return {column: func.ST_GeomFromWKB(blob, models.SRID)}


def _reason(exc: DBAPIError) -> str:
    first = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    return f"the store cannot take this record: {first[:200]}"


def invalid_geometries(table: Table, column: str, geoms: Sequence[Any]) -> dict[int, str]:
    """Positions of geometries the store's validity rule refuses (invalid or empty), why.

    The same rule as the store's own triggers and checks, for a whole column at once, so
    that a bulk insert can go without the per-row trigger.
    """
    array = np.asarray(list(geoms), dtype=object)
    if not len(array):
        return {}
    present = ~shapely.is_missing(array)
    bad = np.zeros(len(array), dtype=np.bool_)
    bad[present] = ~shapely.is_valid(array[present]) | shapely.is_empty(array[present])
    reason = f"the store cannot take this record: {table.name}.{column}: invalid or empty geometry"
    return dict.fromkeys(np.flatnonzero(bad).tolist(), reason)


def insert_columns(
    conn: Connection,
    table: Table,
    column: str | None,
    data: Mapping[str, Sequence[Any]],
    positions: Sequence[int],
    fixed: Mapping[str, Any],
    derived: Derived,
) -> dict[int, str]:
    """Insert rows ``positions`` of ``data``; return the positions the store refused, why.

    ``fixed`` values go into every row (the source); ``derived`` makes, from a chunk's
    values, text columns in their stored form (the provenance), so that they exist for one
    chunk at a time. Rows go in chunks of one statement each
    (:func:`gridmap.ingest._bulk.write_many`, in a savepoint); a chunk the store refuses
    is retried in small chunks, and a small chunk row by row, to find the rows at fault.
    """
    if not positions:
        return {}
    picked = np.asarray(positions, dtype=np.int64)
    refused: dict[int, str] = {}
    if column is not None:
        bad = invalid_geometries(table, column, [data[column][i] for i in picked.tolist()])
        refused = {int(picked[k]): reason for k, reason in bad.items()}
    kept = [i for i in picked.tolist() if i not in refused] if refused else picked.tolist()
    with bulk_insert_triggers(conn, table, column, len(kept), checked=True):
        starts = range(0, len(kept), BULK_CHUNK)
        chunks = (kept[start : start + BULK_CHUNK] for start in starts)
        tracked = track(chunks, description=f"loading {table.name}", total=len(starts))
        prepared = (_prepared(data, rows, fixed, derived) for rows in tracked)
        for chunk, failed in _written(conn, table, column, prepared):
            if failed is None:
                continue
            logger.info(
                "the store refused %d %s rows: retrying in chunks", len(chunk.rows), table.name
            )
            batch = chunk.batch
            pairs = [(i, {k: v[n] for k, v in batch.items()}) for n, i in enumerate(chunk.rows)]
            refused |= _insert_chunks(conn, table, column, pairs)
    return refused


@dataclass(frozen=True)
class _Chunk:
    """The rows of one bulk statement: positions, values by column, serialised JSON columns."""

    rows: list[int]
    batch: dict[str, Sequence[Any]]
    texts: Mapping[str, Sequence[str]]


def _prepared(
    data: Mapping[str, Sequence[Any]],
    rows: list[int],
    fixed: Mapping[str, Any],
    derived: Derived,
) -> _Chunk:
    batch = _pick(data, rows)
    texts = derived(batch)
    batch |= {k: [v] * len(rows) for k, v in fixed.items()}
    batch |= texts
    return _Chunk(rows, batch, texts)


def _write_chunk(
    conn: Connection, table: Table, column: str | None, chunk: _Chunk
) -> DBAPIError | None:
    """Write one chunk in a savepoint; the database's refusal is returned, not raised."""
    try:
        with conn.begin_nested():
            write_many(conn, table, column, chunk.batch, raw=set(chunk.texts))
    except DBAPIError as exc:
        raise_if_interrupted(exc)
        return exc
    return None


def _written(
    conn: Connection, table: Table, column: str | None, prepared: Iterator[_Chunk]
) -> Iterator[tuple[_Chunk, DBAPIError | None]]:
    """Write each chunk; yield it with the database's refusal (None when it took it).

    On PostGIS the next chunk is prepared (provenance, values) while the server takes
    the last one's ``COPY`` in a writer thread: the two processes work at the same
    time. Only one thread uses the connection at a time: a chunk is yielded once its
    write is over, so the caller's retries run alone, before the next write starts.
    """
    if conn.dialect.name != "postgresql":
        for chunk in prepared:
            yield chunk, _write_chunk(conn, table, column, chunk)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="gridmap-copy") as pool:
        pending: tuple[_Chunk, Future[DBAPIError | None]] | None = None
        for chunk in prepared:
            if pending is not None:
                yield pending[0], pending[1].result()
            pending = (chunk, pool.submit(_write_chunk, conn, table, column, chunk))
        if pending is not None:
            yield pending[0], pending[1].result()


def _pick(data: Mapping[str, Sequence[Any]], rows: list[int]) -> dict[str, Sequence[Any]]:
    """The values of ``rows`` in each column; a slice when the rows follow each other."""
    if rows and rows[-1] - rows[0] == len(rows) - 1:
        return {k: v[rows[0] : rows[-1] + 1] for k, v in data.items()}
    return {k: [v[i] for i in rows] for k, v in data.items()}


def _insert_chunks(
    conn: Connection, table: Table, column: str | None, rows: Sequence[tuple[int, dict[str, Any]]]
) -> dict[int, str]:
    statement = insert(table).values(_geometry_value(column))
    refused: dict[int, str] = {}
    for start in range(0, len(rows), CHUNK):
        chunk = rows[start : start + CHUNK]
        try:
            with conn.begin_nested():
                conn.execute(statement, [_params(r, column) for _, r in chunk])
            continue
        except DBAPIError as exc:
            raise_if_interrupted(exc)
            logger.info("the store refused a chunk of %s rows: retrying one by one", table.name)
        for position, row in chunk:
            try:
                with conn.begin_nested():
                    conn.execute(statement, [_params(row, column)])
            except DBAPIError as exc:
                raise_if_interrupted(exc)
                refused[position] = _reason(exc)
    return refused


def update_row(
    conn: Connection, table: Table, column: str | None, record_id: int, values: dict[str, Any]
) -> str | None:
    """Update one record; return why the store refused it (the record is then unchanged)."""
    geometry = column if column is not None and column in values else None
    statement = update(table).where(table.c.id == record_id).values(_geometry_value(geometry))
    try:
        with conn.begin_nested():
            conn.execute(statement, _params(values, geometry))
            if (
                geometry
                and values[geometry] is not None
                and _is_null(conn, table, geometry, record_id)
            ):
                raise _Dropped
    except DBAPIError as exc:
        raise_if_interrupted(exc)
        return _reason(exc)
    except _Dropped:
        return dropped_reason(values[geometry] if geometry else None)
    return None


class _Dropped(Exception):
    """The database stored NULL for a geometry it was given."""


def _is_null(conn: Connection, table: Table, column: str, record_id: int) -> bool:
    found = conn.execute(select(table.c[column].is_(None)).where(table.c.id == record_id))
    return bool(found.scalar())


def dropped_reason(geom: BaseGeometry | None) -> str:
    """The reason for a geometry the database silently stored as NULL."""
    points = 0 if geom is None else int(shapely.get_num_coordinates(geom))
    return f"the store kept no geometry for this record ({points} points): simplify it and retry"


def stored(conn: Connection, table: Table, column: str | None, source: str) -> dict[str, Any]:
    """``source_id -> (id, geometry is null)`` of every record of ``source``."""
    has_null = table.c[column].is_(None) if column else None
    columns = [table.c.source_id, table.c.id] + ([has_null] if has_null is not None else [])
    rows = conn.execute(select(*columns).where(table.c.source == source))
    return {str(r[0]): (int(r[1]), bool(r[2]) if column else False) for r in rows}


def count_new_geometries(conn: Connection, table: Table, column: str, last: int) -> int:
    """Number of records with an id above ``last`` (inserted since) whose geometry is stored."""
    query = select(func.count()).where(table.c.id > last, table.c[column].is_not(None))
    return int(conn.execute(query.select_from(table)).scalar() or 0)


def count_geometries(conn: Connection, table: Table, column: str, ids: Sequence[int]) -> int:
    """Number of the records ``ids`` whose geometry is stored (a count query, not assumed)."""
    total = 0
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        query = select(func.count()).where(table.c.id.in_(chunk), table.c[column].is_not(None))
        total += int(conn.execute(query.select_from(table)).scalar() or 0)
    return total
