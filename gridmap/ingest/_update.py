"""Write the updates an import decided: grouped statements, their history in the audit log.

Updates with the same changed fields go in one ``executemany`` each, in a savepoint;
when the store refuses the group (or keeps no geometry it was given) the group is
written record by record (:func:`gridmap.ingest._write.update_row`) so that only the
records at fault are rejected. Every updated record gets its audit entry with the old
and new values, written in one statement.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, LargeBinary, Table, bindparam, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from gridmap.ingest._write import update_row
from gridmap.store import models, table_of
from gridmap.store._engine import raise_if_interrupted

if TYPE_CHECKING:
    from gridmap.ingest._headers import Headers
    from gridmap.ingest._plan import Options
    from gridmap.ingest.provenance import Merge

logger = logging.getLogger(__name__)

__all__ = ["update_records", "write_provenance"]

Update = tuple[int, dict[str, Any], "Merge"]
_ID, _WKB = "_record_id", "_wkb"


def update_records(
    conn: Connection,
    table: Table,
    column: str | None,
    updates: Sequence[Update],
    options: Options,
    rejects: dict[int, str],
    headers: Headers,
) -> int:
    """Write ``updates``; refused ones join ``rejects``. Returns how many were written.

    Provenance headers are added (``headers``) before the savepoints of the writes.
    """
    headers.encode_many([u[2].provenance for u in updates])
    stamp = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    groups: dict[tuple[str, ...], list[Update]] = {}
    for update_ in updates:
        groups.setdefault(tuple(sorted(update_[2].changed)), []).append(update_)
    done: list[Update] = []
    for keys, group in groups.items():
        if not _write_group(conn, table, column, keys, group, stamp, headers):
            group = _one_by_one(conn, table, column, group, stamp, rejects, headers)
        done += group
    _audit(conn, table.name, done, options)
    return len(done)


def _values(change: Merge, stamp: dt.datetime, headers: Headers) -> dict[str, Any]:
    return change.changed | {"provenance": headers.encode(change.provenance), "updated_at": stamp}


def _write_group(
    conn: Connection,
    table: Table,
    column: str | None,
    keys: tuple[str, ...],
    group: list[Update],
    stamp: dt.datetime,
    headers: Headers,
) -> bool:
    """One statement for a group of updates of the same fields; False if it must be split."""
    import shapely

    geometry = column if column is not None and column in keys else None
    names = [k for k in (*keys, "provenance", "updated_at") if k != geometry]
    values: dict[str, Any] = {k: bindparam(f"_v_{k}", type_=table.c[k].type) for k in names}
    if geometry is not None:
        values[geometry] = func.ST_GeomFromWKB(bindparam(_WKB, type_=LargeBinary), models.SRID)
    statement = update(table).where(table.c.id == bindparam(_ID)).values(values)
    params = []
    for _, record, change in group:
        new = _values(change, stamp, headers)
        row = {f"_v_{k}": new[k] for k in names} | {_ID: int(record["id"])}
        if geometry is not None:
            geom = new[geometry]
            row[_WKB] = None if geom is None else shapely.to_wkb(geom, output_dimension=2)
        params.append(row)
    try:
        with conn.begin_nested():
            conn.execute(statement, params)
            if geometry is not None and _lost(conn, table, geometry, group):
                raise _Lost
    except DBAPIError as exc:
        raise_if_interrupted(exc)
        logger.info("the store refused %d %s updates: one by one", len(group), table.name)
        return False
    except _Lost:
        return False
    return True


class _Lost(Exception):
    """The database stored NULL for a geometry it was given."""


def _lost(conn: Connection, table: Table, column: str, group: list[Update]) -> bool:
    ids = [int(r["id"]) for _, r, c in group if c.changed.get(column) is not None]
    for start in range(0, len(ids), 900):
        query = select(func.count()).where(
            table.c.id.in_(ids[start : start + 900]), table.c[column].is_(None)
        )
        if conn.execute(query.select_from(table)).scalar():
            return True
    return False


def _one_by_one(
    conn: Connection,
    table: Table,
    column: str | None,
    group: list[Update],
    stamp: dt.datetime,
    rejects: dict[int, str],
    headers: Headers,
) -> list[Update]:
    done: list[Update] = []
    for i, record, change in group:
        problem = update_row(conn, table, column, record["id"], _values(change, stamp, headers))
        if problem is None:
            done.append((i, record, change))
        else:
            rejects[i] = problem
    return done


def _audit(conn: Connection, table: str, done: Sequence[Update], options: Options) -> None:
    from gridmap.ingest._plan import jsonable

    entries = []
    for _, record, change in done:
        detail: dict[str, Any] = {
            "source": options.source,
            "source_id": str(record["source_id"]),
            "origin": options.origin,
            "before": {k: jsonable(record.get(k)) for k in change.changed},
            "after": {k: jsonable(v) for k, v in change.changed.items()},
        }
        by = {k: v for k, v in change.before_by.items() if v is not None}
        if by:
            detail["before_by"] = by
        entries.append(
            {
                "actor": options.actor,
                "action": "update",
                "entity": table,
                "entity_id": int(record["id"]),
                "detail": detail,
            }
        )
    if entries:
        conn.execute(insert(table_of(models.AuditLog)), entries)


def write_provenance(
    conn: Connection, table: Table, rows: Sequence[tuple[int, Any]], headers: Headers
) -> None:
    """Set the provenance of records ``(id, provenance)`` whose values stay as they are."""
    if not rows:
        return
    texts = headers.encode_many([p for _, p in rows])
    statement = (
        update(table)
        .where(table.c.id == bindparam(_ID))
        .values(provenance=bindparam("_provenance", type_=table.c.provenance.type))
    )
    params = [{_ID: int(i), "_provenance": t} for (i, _), t in zip(rows, texts, strict=True)]
    conn.execute(statement, params)
