"""Write many rows at once: prepared ``executemany`` on SQLite, ``COPY`` on PostGIS.

:func:`write_many` inserts a batch of rows whose columns are the same for every row;
the caller runs it in a savepoint and, when the database refuses the batch, falls back
to row-by-row inserts to find the rows at fault. Values go through the same column
type conversions SQLAlchemy applies (JSON, dates), and geometries as WKB (SQLite,
``ST_GeomFromWKB``) or hex EWKB (PostGIS ``COPY`` text input).

:func:`deferred_spatial_index` lifts SpatiaLite's per-row R*Tree trigger for a bulk
insert and fills the index for the new rows in one statement afterwards, inside the
same transaction (SQLite DDL is transactional: a failure restores the trigger too).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, Table, func, select
from sqlalchemy.exc import DBAPIError

from gridmap.store import models

logger = logging.getLogger(__name__)

__all__ = ["deferred_spatial_index", "geometry_blobs", "lifted_triggers", "uniform", "write_many"]

#: Below this many rows the per-row index trigger is cheaper than lifting it.
DEFER_INDEX_ROWS = 2000


def geometry_blobs(geoms: Sequence[Any], *, ewkb_hex: bool) -> list[Any]:
    """WKB (or hex EWKB with the store's SRID) of each geometry, None where there is none."""
    array = np.asarray(list(geoms), dtype=object)
    if ewkb_hex:
        array = shapely.set_srid(array, models.SRID)
        out = shapely.to_wkb(array, hex=True, include_srid=True, output_dimension=2)
    else:
        out = shapely.to_wkb(array, output_dimension=2)
    return [None if v is None else v for v in out.tolist()]


def _processors(conn: Connection, table: Table, keys: Sequence[str]) -> list[Callable[[Any], Any]]:
    found: list[Callable[[Any], Any]] = []
    for key in keys:
        kind = table.c[key].type.dialect_impl(conn.dialect)
        processor = kind.bind_processor(conn.dialect)
        found.append(processor if processor is not None else _same)
    return found


def _same(value: Any) -> Any:
    return value


def _columns(
    conn: Connection, table: Table, geometry: str | None, rows: Sequence[dict[str, Any]]
) -> tuple[list[str], list[list[Any]]]:
    """Column names and converted value lists (geometry last, as blobs)."""
    keys = [k for k in rows[0] if k != geometry]
    values: list[list[Any]] = []
    for key, process in zip(keys, _processors(conn, table, keys), strict=True):
        column = [row[key] for row in rows]
        if process is not _same:
            column = [None if v is None else process(v) for v in column]
        values.append(column)
    if geometry is not None:
        keys.append(geometry)
        postgres = conn.dialect.name == "postgresql"
        values.append(geometry_blobs([row.get(geometry) for row in rows], ewkb_hex=postgres))
    return keys, values


def uniform(rows: Sequence[dict[str, Any]]) -> bool:
    """Whether every row has the same columns (what a bulk write needs)."""
    first = rows[0].keys()
    return all(row.keys() == first for row in rows)


def write_many(
    conn: Connection, table: Table, geometry: str | None, rows: Sequence[dict[str, Any]]
) -> None:
    """Insert ``rows`` (same keys each) in one statement; raises ``DBAPIError`` if refused."""
    if not rows:
        return
    keys, values = _columns(conn, table, geometry, rows)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, keys, values)
        return
    names = ", ".join(f'"{k}"' for k in keys)
    marks = ", ".join("?" for _ in keys)
    if geometry is not None:
        marks = marks[:-1] + f"ST_GeomFromWKB(?, {models.SRID})"
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    conn.exec_driver_sql(sql, list(zip(*values, strict=True)))


def _copy(conn: Connection, table: Table, keys: list[str], values: list[list[Any]]) -> None:
    import psycopg

    names = ", ".join(f'"{k}"' for k in keys)
    raw: Any = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor:
            statement = f'COPY "{table.name}" ({names}) FROM STDIN'
            with cursor.copy(statement) as copy:
                for row in zip(*values, strict=True):
                    copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(f"COPY {table.name}", None, exc, psycopg.Error) from exc


def _next_id(conn: Connection, table: Table) -> int:
    return int(conn.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar() or 0)


@contextmanager
def deferred_spatial_index(
    conn: Connection, table: Table, geometry: str | None, n_rows: int
) -> Iterator[None]:
    """On SpatiaLite, index the rows inserted in the block at its end instead of one by one."""
    if geometry is None or conn.dialect.name != "sqlite" or n_rows < DEFER_INDEX_ROWS:
        yield
        return
    name = f"gii_{table.name}_{geometry}"
    found = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)
    ).first()
    if found is None:
        yield
        return
    last = _next_id(conn, table)
    conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    conn.exec_driver_sql(
        f'INSERT INTO "idx_{table.name}_{geometry}" (pkid, xmin, xmax, ymin, ymax) '
        f'SELECT id, MbrMinX("{geometry}"), MbrMaxX("{geometry}"), MbrMinY("{geometry}"), '
        f'MbrMaxY("{geometry}") FROM "{table.name}" WHERE id > ? AND "{geometry}" IS NOT NULL',
        (last,),
    )
    conn.exec_driver_sql(str(found[0]))
    logger.debug("indexed the new %s rows in one statement", table.name)


@contextmanager
def lifted_triggers(conn: Connection, names: Sequence[str], n_rows: int) -> Iterator[None]:
    """On SQLite, drop the triggers ``names`` for the block and put them back after it.

    For bulk updates of columns the triggers do not guard (a unit's cell: SpatiaLite and
    the store re-check the geometry on every update of the row). The caller's
    transaction holds both changes: a failure restores the triggers with the rest.
    """
    if conn.dialect.name != "sqlite" or n_rows < DEFER_INDEX_ROWS:
        yield
        return
    found = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
        f"({', '.join('?' for _ in names)})",
        tuple(names),
    ).all()
    for name, _ in found:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    for _, sql in found:
        conn.exec_driver_sql(str(sql))
