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
from collections.abc import Mapping, Sequence
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, LargeBinary, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from gridmap.ingest._bulk import deferred_spatial_index, uniform, write_many
from gridmap.store import models
from gridmap.store._engine import raise_if_interrupted

logger = logging.getLogger(__name__)

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


def insert_rows(
    conn: Connection, table: Table, column: str | None, rows: Sequence[tuple[int, dict[str, Any]]]
) -> dict[int, str]:
    """Insert ``(position, row)`` pairs; return the positions the store refused, with reasons.

    Rows with the same columns go in chunks of one statement each
    (:func:`gridmap.ingest._bulk.write_many`, in a savepoint); a chunk the store refuses
    is retried in small chunks, and a small chunk refused row by row, to find the rows
    at fault.
    """
    if not rows or not uniform([r for _, r in rows]):
        return _insert_chunks(conn, table, column, rows)
    refused: dict[int, str] = {}
    with deferred_spatial_index(conn, table, column, len(rows)):
        for start in range(0, len(rows), BULK_CHUNK):
            chunk = rows[start : start + BULK_CHUNK]
            try:
                with conn.begin_nested():
                    write_many(conn, table, column, [r for _, r in chunk])
                continue
            except DBAPIError as exc:
                raise_if_interrupted(exc)
                logger.info(
                    "the store refused %d %s rows: retrying in chunks", len(chunk), table.name
                )
            refused |= _insert_chunks(conn, table, column, chunk)
    return refused


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


def count_geometries(conn: Connection, table: Table, column: str, ids: Sequence[int]) -> int:
    """Number of the records ``ids`` whose geometry is stored (a count query, not assumed)."""
    total = 0
    for start in range(0, len(ids), 900):
        chunk = list(ids[start : start + 900])
        query = select(func.count()).where(table.c.id.in_(chunk), table.c[column].is_not(None))
        total += int(conn.execute(query.select_from(table)).scalar() or 0)
    return total
