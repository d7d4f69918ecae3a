"""Read and write whole columns through the DBAPI cursor, not through Row objects.

:func:`fetch_columns` runs a ``select`` and returns one plain Python list per
selected column: the rows come from the driver's ``fetchall`` as tuples, are
transposed in one C call, and only the columns whose SQLAlchemy type converts
values (dates on SQLite, say) go through that conversion, column by column. A
frame built from these lists is the one SQLAlchemy's rows would give (same values,
same pandas inference), at about a third of the cost for a million rows.

:func:`insert_columns` is the way back: one prepared ``executemany`` (SQLite) or a
``COPY`` (PostGIS) of parameter tuples zipped from column lists.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pandas._libs import lib
from sqlalchemy import ColumnElement, Connection, Select, Table, func, select

__all__ = [
    "fetch_arrays",
    "fetch_columns",
    "geometries_from_wkb",
    "insert_columns",
    "paused_gc",
    "read_frame",
]

#: SQLite page cache for a bulk insert, in KiB (the default is 2 MB).
BULK_CACHE_KIB = 262_144

#: Bytes of a 2-D point in WKB: byte order, geometry type, x, y.
_POINT_WKB_BYTES = 21


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector around a bulk read or write.

    Creating a million tuples or geometries sets off full collections, and each
    walks every live container, the fetched column lists included: with the
    collector running, decoding 1M points beside the 25 columns of a stored run
    took 4.1 s instead of 0.4 s. Bulk reads make no reference cycles; whatever
    garbage there is waits for the collector to run again.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def fetch_columns(conn: Connection, query: Select[Any]) -> list[list[Any]]:
    """One list per selected column of ``query``, in row order.

    Values are what a SQLAlchemy row would hold: each column type's result
    conversion is applied (skipped where the type has none).
    """
    with paused_gc():
        return _fetch_columns(conn, query)


def _fetch_columns(conn: Connection, query: Select[Any]) -> list[list[Any]]:
    result = conn.execute(query)
    try:
        cursor = result.cursor
        description = cursor.description or ()
        rows = cursor.fetchall()
    finally:
        result.close()
    selected = list(query.selected_columns)
    if not rows:
        return [[] for _ in selected]
    # pandas' own C transpose (what DataFrame.from_records uses): 4x numpy's
    table = lib.to_object_array_tuples(rows)  # type: ignore[attr-defined]
    del rows
    out: list[list[Any]] = []
    for i, column in enumerate(selected):
        values = table[:, i].tolist()
        process = _processor(conn, column.type, description[i][1] if description else None)
        if process is not None:
            values = [None if v is None else process(v) for v in values]
        out.append(values)
    return out


def fetch_arrays(
    conn: Connection, query: Select[Any]
) -> list[np.ndarray[Any, np.dtype[np.object_]]]:
    """One ``object`` array per selected column of ``query``: the values as the driver
    returns them, in row order.

    No type's result conversion is applied (a SQLite boolean is the integer 0 or 1, a
    date its text): for callers that turn each column into a typed array at once
    (``astype``, a NULL mask), which costs a fraction of a Python list per column.
    """
    with paused_gc():
        result = conn.execute(query)
        try:
            rows = result.cursor.fetchall()
        finally:
            result.close()
        width = len(query.selected_columns)
        if not rows:
            return [np.empty(0, dtype=object) for _ in range(width)]
        table = lib.to_object_array_tuples(rows)  # type: ignore[attr-defined]
        del rows
        return [table[:, i] for i in range(width)]


def _processor(conn: Connection, kind: Any, coltype: Any) -> Callable[[Any], Any] | None:
    dialect = conn.dialect
    found: Callable[[Any], Any] | None = kind.dialect_impl(dialect).result_processor(
        dialect, coltype
    )
    return found


def geometries_from_wkb(blobs: Sequence[Any]) -> Any:
    """Decode a column of WKB (bytes, memoryview or None) into a shapely array.

    A column of plain 2-D points (every unit, organisation and station of a
    county) is read straight from the bytes: the same doubles, 40 % less time than
    ``shapely.from_wkb``, which decodes every other column.
    """
    with paused_gc():
        return _geometries(blobs)


def _geometries(blobs: Sequence[Any]) -> Any:
    array = np.asarray(blobs, dtype=object)
    if not set(map(type, array)) <= {bytes, type(None)}:  # memoryview from some drivers
        array = np.asarray([None if b is None else bytes(b) for b in blobs], dtype=object)
    points = _points(array)
    return points if points is not None else shapely.from_wkb(array)


def _points(array: np.ndarray[Any, Any]) -> Any:
    """The points of a column of 2-D point WKB, or None when it holds anything else."""
    try:
        lengths = np.fromiter(map(len, array), dtype=np.int64, count=len(array))
    except TypeError:  # a NULL
        return None
    if not len(array) or (lengths != _POINT_WKB_BYTES).any():
        return None
    raw = np.frombuffer(b"".join(array.tolist()), dtype=np.uint8).reshape(-1, _POINT_WKB_BYTES)
    order = raw[0, 0]
    if (raw[:, 0] != order).any() or order > 1:
        return None
    dtype = "<" if order == 1 else ">"
    kinds = raw[:, 1:5].copy().view(f"{dtype}u4").ravel()
    if (kinds != 1).any():  # plain 2-D points only: no SRID, Z or M flags
        return None
    xy = raw[:, 5:].copy().view(f"{dtype}f8").astype(np.float64)
    if not np.isfinite(xy).all():  # empty points are NaN: GEOS decides what they are
        return None
    return shapely.points(xy)


def read_frame(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    geometry: str | None,
    *,
    where: ColumnElement[bool] | None = None,
    order_by: Sequence[Any] = (),
) -> gpd.GeoDataFrame:
    """Columns of ``table`` as a WGS-84 frame, read in bulk.

    The rows come through the driver's cursor as tuples and are turned into one
    list per column (:func:`gridmap.store._columns.fetch_columns`, no SQLAlchemy
    rows); geometries come as WKB in the same query and are decoded over the
    whole column at once.
    """
    selected: list[Any] = [table.c[c] for c in columns]
    if geometry is not None:
        selected.append(func.ST_AsBinary(table.c[geometry]))
    query = select(*selected)
    if where is not None:
        query = query.where(where)
    if order_by:
        query = query.order_by(*order_by)
    values = fetch_columns(conn, query)
    data: dict[str, list[Any]] = dict(zip(columns, values, strict=False))
    n_rows = len(values[0]) if values else 0
    geoms: Any = [None] * n_rows
    if geometry is not None:
        geoms = geometries_from_wkb(values[-1])
    return gpd.GeoDataFrame(data, geometry=geoms, crs="EPSG:4326")


def insert_columns(conn: Connection, table: Table, columns: Mapping[str, Sequence[Any]]) -> None:
    """Insert rows given as one list of plain Python values per column.

    The values go to the driver as they are (None for NULL): SQLite through one
    prepared ``executemany``, PostGIS through ``COPY``. No geometry columns.
    """
    keys = list(columns)
    if not keys or not len(columns[keys[0]]):
        return
    rows = zip(*(columns[k] for k in keys), strict=True)
    names = ", ".join(f'"{k}"' for k in keys)
    if conn.dialect.name == "postgresql":
        _copy(conn, f'COPY "{table.name}" ({names}) FROM STDIN', rows)
        return
    marks = ", ".join("?" for _ in keys)
    statement = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
    with _page_cache(conn, BULK_CACHE_KIB):
        _executemany(conn, statement, rows)


def _executemany(conn: Connection, statement: str, rows: Iterator[tuple[Any, ...]]) -> None:
    """``executemany`` on the connection's own DBAPI cursor, in its open transaction.

    The rows stream from the iterator: a list of a million 27-value tuples (what
    SQLAlchemy's ``exec_driver_sql`` needs) is ~300 MB held for the whole insert.
    """
    import sqlite3

    from sqlalchemy.exc import DBAPIError

    raw: Any = conn.connection.driver_connection
    cursor = raw.cursor()
    try:
        cursor.executemany(statement, rows)
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, None, exc, sqlite3.Error) from exc
    finally:
        cursor.close()


@contextmanager
def _page_cache(conn: Connection, kib: int) -> Iterator[None]:
    """SQLite's page cache raised to ``kib`` for a bulk insert, then put back.

    A run's units land in random order in the ``(run_id, cell_code)`` index; with
    the default 2 MB cache every insert reads and writes index pages anew (1M units:
    8.1 s CPU; 5.9 s with 256 MB; dropping the index and building it after takes
    4.1 s here but grows with every run the table holds).
    """
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql(f"PRAGMA cache_size = {-kib}")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")


def _copy(conn: Connection, statement: str, rows: Any) -> None:
    import psycopg
    from sqlalchemy.exc import DBAPIError

    raw: Any = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
