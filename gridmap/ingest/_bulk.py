"""Write many rows at once: prepared ``executemany`` on SQLite, ``COPY`` on PostGIS.

:func:`write_many` inserts a batch of rows given as one list per column; the caller
runs it in a savepoint and, when the database refuses the batch, falls back to
row-by-row inserts to find the rows at fault. Values go through the same column type
conversions SQLAlchemy applies (dates), JSON may come serialised already, and
geometries go as WKB (SQLite, ``ST_GeomFromWKB``) or hex EWKB (PostGIS ``COPY`` text).

:func:`bulk_insert_triggers` lifts SpatiaLite's per-row insert triggers for a bulk
insert (the spatial index, the insert time stamp and, for geometries checked before,
the type and validity checks), fills the index afterwards (packed anew when the insert
at least doubles the table, :mod:`gridmap.ingest._rtree`) and puts the triggers back,
inside the same transaction (SQLite DDL is transactional: a failure restores them too).
On PostGIS it rebuilds the GiST index after a COPY that at least doubles the table.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import shapely
from sqlalchemy import Connection, Table, func, select
from sqlalchemy.exc import DBAPIError

from gridmap.store import models

logger = logging.getLogger(__name__)

__all__ = [
    "bulk_insert_triggers",
    "geometry_blobs",
    "lifted_triggers",
    "point_blobs",
    "shapely_blobs",
    "write_many",
]

#: Below this many rows the per-row index trigger is cheaper than lifting it.
DEFER_INDEX_ROWS = 2000


def geometry_blobs(geoms: Sequence[Any], *, ewkb_hex: bool) -> list[Any]:
    """WKB (or hex EWKB with the store's SRID) of each geometry, None where there is none.

    A column of 2-D points only (units, stations) is written from its coordinates at once
    (:func:`point_blobs`); any other goes through shapely (:func:`shapely_blobs`).
    """
    array = np.asarray(list(geoms), dtype=object)
    fast = point_blobs(array, ewkb_hex=ewkb_hex)
    return fast if fast is not None else shapely_blobs(array, ewkb_hex=ewkb_hex)


def shapely_blobs(array: Any, *, ewkb_hex: bool) -> list[Any]:
    """:func:`geometry_blobs` through shapely, for any geometries: the reference."""
    if ewkb_hex:
        array = shapely.set_srid(array, models.SRID)
        out = shapely.to_wkb(array, hex=True, include_srid=True, output_dimension=2)
    else:
        out = shapely.to_wkb(array, output_dimension=2)
    return [None if v is None else v for v in out.tolist()]


#: A 2-D point in little-endian (E)WKB: byte order, type, [SRID,] x and y, packed.
_WKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("xy", "<f8", (2,))])
_EWKB_POINT = np.dtype([("order", "u1"), ("type", "<u4"), ("srid", "<u4"), ("xy", "<f8", (2,))])
#: The EWKB type flag saying an SRID follows the type.
_EWKB_SRID = 0x20000000
_HEX_DIGITS = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def point_blobs(array: Any, *, ewkb_hex: bool) -> list[Any] | None:
    """:func:`geometry_blobs` of a column of non-empty 2-D points, built from their
    coordinates with numpy: the bytes shapely writes (little-endian, hex in upper case).
    None for any other column (a missing, empty, 3-D or other geometry)."""
    n = len(array)
    if not n or not bool((shapely.get_type_id(array) == 0).all()):
        return None
    if bool(shapely.is_empty(array).any()) or bool(shapely.has_z(array).any()):
        return None
    coords = shapely.get_coordinates(array)
    if len(coords) != n:
        return None
    rows = np.zeros(n, dtype=_EWKB_POINT if ewkb_hex else _WKB_POINT)
    rows["order"] = 1
    rows["xy"] = coords
    if not ewkb_hex:
        rows["type"] = 1
        raw = rows.tobytes()
        size = _WKB_POINT.itemsize
        return [raw[i : i + size] for i in range(0, n * size, size)]
    rows["type"] = 1 | _EWKB_SRID
    rows["srid"] = models.SRID
    octets = rows.view(np.uint8).reshape(n, _EWKB_POINT.itemsize)
    digits = np.empty((n, 2 * _EWKB_POINT.itemsize), dtype=np.uint8)
    digits[:, 0::2] = _HEX_DIGITS[octets >> 4]
    digits[:, 1::2] = _HEX_DIGITS[octets & 0x0F]
    width = 2 * _EWKB_POINT.itemsize  # hex digits are never NUL: the fixed width is safe
    return list(digits.view(f"S{width}").reshape(n).astype(f"U{width}").tolist())


def _processors(conn: Connection, table: Table, keys: Sequence[str]) -> list[Callable[[Any], Any]]:
    found: list[Callable[[Any], Any]] = []
    for key in keys:
        kind = table.c[key].type.dialect_impl(conn.dialect)
        processor = kind.bind_processor(conn.dialect)
        found.append(processor if processor is not None else _same)
    return found


def _same(value: Any) -> Any:
    return value


def _converted(
    conn: Connection,
    table: Table,
    geometry: str | None,
    data: Mapping[str, Sequence[Any]],
    raw: Collection[str],
) -> tuple[list[str], list[Sequence[Any]]]:
    """Column names and converted value lists (geometry last, as blobs).

    Columns in ``raw`` hold what the database takes already (JSON as text).
    """
    keys = [k for k in data if k != geometry]
    values: list[Sequence[Any]] = []
    for key, process in zip(keys, _processors(conn, table, keys), strict=True):
        column = data[key]
        if process is not _same and key not in raw:
            column = [None if v is None else process(v) for v in column]
        values.append(column)
    if geometry is not None:
        keys.append(geometry)
        postgres = conn.dialect.name == "postgresql"
        values.append(geometry_blobs(data[geometry], ewkb_hex=postgres))
    return keys, values


def write_many(
    conn: Connection,
    table: Table,
    geometry: str | None,
    data: Mapping[str, Sequence[Any]],
    raw: Collection[str] = (),
) -> None:
    """Insert the rows of ``data`` (one list per column) in one statement.

    Raises ``DBAPIError`` when the database refuses any row. Columns in ``raw`` hold
    values in the database's form already (JSON as text), the others go through the
    column types' conversions.
    """
    if not data or not len(next(iter(data.values()))):
        return
    keys, values = _converted(conn, table, geometry, data, raw)
    if conn.dialect.name == "postgresql":
        _copy(conn, table, keys, values)
        return
    names = ", ".join(f'"{k}"' for k in keys)
    marks = ", ".join("?" for _ in keys)
    if geometry is not None:
        marks = marks[:-1] + f"ST_GeomFromWKB(?, {models.SRID})"
    sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    conn.exec_driver_sql(sql, list(zip(*values, strict=True)))


def _copy(conn: Connection, table: Table, keys: list[str], values: list[Sequence[Any]]) -> None:
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


def _fill_index(conn: Connection, table: str, geometry: str, last: int) -> None:
    """Index the rows with ids above ``last``: the whole index packed anew when they are
    at least as many as the rows indexed before (:func:`gridmap.ingest._rtree.pack_index`),
    else added in one statement."""
    index = f"idx_{table}_{geometry}"
    before = int(conn.exec_driver_sql(f'SELECT count(*) FROM "{index}_rowid"').scalar() or 0)
    boxes = (
        f'SELECT id, MbrMinX("{geometry}"), MbrMaxX("{geometry}"), MbrMinY("{geometry}"), '
        f'MbrMaxY("{geometry}") FROM "{table}" WHERE "{geometry}" IS NOT NULL'
    )
    new = int(
        conn.exec_driver_sql(
            f'SELECT count(*) FROM "{table}" WHERE id > ? AND "{geometry}" IS NOT NULL', (last,)
        ).scalar()
        or 0
    )
    if new < before or new < DEFER_INDEX_ROWS:
        conn.exec_driver_sql(
            f'INSERT INTO "{index}" (pkid, xmin, xmax, ymin, ymax) {boxes} AND id > ?', (last,)
        )
        return
    from gridmap.ingest._rtree import pack_index

    raw: Any = conn.connection.driver_connection  # plain tuples: 5x faster than Rows here
    found = list(zip(*raw.execute(boxes).fetchall(), strict=True)) or [()] * 5
    ids = np.asarray(found[0], dtype=np.int64)
    pack_index(conn, index, ids, *(np.asarray(c, dtype=np.float64) for c in found[1:]))


def _trigger_names(table: str, geometry: str, *, checked: bool) -> list[str]:
    """SpatiaLite's per-row insert triggers a bulk insert can do without.

    Always the spatial index (``gii_``, filled in one statement after) and the
    table's insert time stamp (``tmi_``, set once after); with ``checked`` (the caller
    checked every geometry's type, validity and emptiness, and writes the store's
    SRID) the type/SRID check (``ggi_``) and the store's validity trigger too.
    """
    names = [f"gii_{table}_{geometry}", f"tmi_{table}_{geometry}"]
    if checked:
        names += [f"ggi_{table}_{geometry}", f"{table}_{geometry}_valid_insert"]
    return names


@contextmanager
def bulk_insert_triggers(
    conn: Connection, table: Table, geometry: str | None, n_rows: int, *, checked: bool
) -> Iterator[None]:
    """On SpatiaLite, lift the per-row insert triggers of ``table`` for a bulk insert.

    The spatial index is filled for the new rows in one statement at the end of the
    block and the insert time stamp set once; the triggers are put back in the same
    transaction (SQLite DDL is transactional: a failure restores them with the rest).
    """
    if geometry is None or n_rows < DEFER_INDEX_ROWS:
        yield
        return
    if conn.dialect.name == "postgresql":
        with _rebuilt_gist(conn, table, geometry, n_rows):
            yield
        return
    if conn.dialect.name != "sqlite":
        yield
        return
    names = _trigger_names(table.name, geometry, checked=checked)
    found: dict[str, str] = dict(
        conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name IN "
            f"({', '.join('?' for _ in names)})",
            tuple(names),
        ).all()
    )
    if f"gii_{table.name}_{geometry}" not in found:
        yield
        return
    last = _next_id(conn, table)
    for name in found:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield
    _fill_index(conn, table.name, geometry, last)
    if f"tmi_{table.name}_{geometry}" in found:
        conn.exec_driver_sql(
            "UPDATE geometry_columns_time SET last_insert = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') "
            "WHERE Lower(f_table_name) = Lower(?) AND Lower(f_geometry_column) = Lower(?)",
            (table.name, geometry),
        )
    for sql in found.values():
        conn.exec_driver_sql(str(sql))
    logger.debug("indexed the new %s rows in one statement", table.name)


#: A PostGIS spatial index is built anew after a bulk insert of at least this many rows
#: and at least as many rows as the table had: a sorted build beats one insert per row.
REBUILD_GIST_ROWS = 20_000


@contextmanager
def _rebuilt_gist(conn: Connection, table: Table, geometry: str, n_rows: int) -> Iterator[None]:
    """On PostGIS, drop the GiST index of ``geometry`` for a large insert and build it after.

    Only when the insert at least doubles the table: the index is dropped inside the
    import's transaction (other sessions wait for it to commit rather than see the table
    without its index; a failure restores the index with the rest).
    """
    if n_rows < REBUILD_GIST_ROWS:
        yield
        return
    found = conn.exec_driver_sql(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.tablename = %(t)s "
        "AND i.schemaname = current_schema() AND i.indexdef LIKE %(gist)s",
        {"t": table.name, "gist": f"%USING gist ({geometry})%"},
    ).all()
    rows = int(conn.exec_driver_sql(f'SELECT count(*) FROM "{table.name}"').scalar() or 0)
    if not found or rows > n_rows:
        yield
        return
    for name, _ in found:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, definition in found:
        conn.exec_driver_sql(str(definition))
    logger.debug("built the spatial index of %s anew after the bulk insert", table.name)


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
