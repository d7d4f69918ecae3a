"""Find the stored records a file's references name, looking up only those names.

An organisation names the units it covers (``U0000007``, or ``osm:U0000007`` when two
sources have that id); a cell names its community's area code. :func:`lookup` puts
the distinct names a file uses into a temporary table and lets the database find
their records in one or two joined queries, instead of reading every stored record
(a million units for 50,000 organisations).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Column, Connection, MetaData, Table, Text, insert, select, tuple_

__all__ = ["lookup"]

#: The temporary table holding the names looked up; dropped again after each lookup.
_WANTED = "gridmap_wanted_refs"


def _candidates(values: Iterable[str], key: str) -> list[dict[str, str | None]]:
    """Each name as a plain key, and for source ids each ``SOURCE:ID`` split of it."""
    rows: list[dict[str, str | None]] = []
    for value in sorted(set(values)):
        rows.append({"source": None, "key": value})
        if key != "source_id":
            continue
        at = value.find(":")
        while at >= 0:
            rows.append({"source": value[:at], "key": value[at + 1 :]})
            at = value.find(":", at + 1)
    return rows


def lookup(conn: Connection, table: Table, key: str, values: Iterable[str]) -> dict[str, list[int]]:
    """Map each of ``values`` that names stored records to their ids.

    A name matches the records whose ``key`` equals it and, for ``key == "source_id"``,
    also the records whose ``source:source_id`` equals it; several ids mean the name is
    ambiguous. Names matching nothing are absent from the result.
    """
    rows = _candidates(values, key)
    if not rows:
        return {}
    wanted = Table(
        _WANTED,
        MetaData(),
        Column("source", Text),
        Column("key", Text, nullable=False),
        prefixes=["TEMPORARY"],
    )
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_WANTED}")
    wanted.create(conn)
    try:
        conn.execute(insert(wanted), rows)
        return _matched(conn, table, key, wanted)
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_WANTED}")


def _matched(conn: Connection, table: Table, key: str, wanted: Table) -> dict[str, list[int]]:
    plain = select(wanted.c.key).where(wanted.c.source.is_(None))
    columns = [table.c.id, table.c[key]] + ([table.c.source] if key == "source_id" else [])
    found = {
        int(r[0]): tuple(r[1:])
        for r in conn.execute(select(*columns).where(table.c[key].in_(plain)))
    }
    if key == "source_id":
        split = select(wanted.c.source, wanted.c.key).where(wanted.c.source.is_not(None))
        query = select(*columns).where(tuple_(table.c.source, table.c.source_id).in_(split))
        found |= {int(r[0]): tuple(r[1:]) for r in conn.execute(query)}
    index: dict[str, list[int]] = {}
    for record_id in sorted(found):
        row = found[record_id]
        index.setdefault(str(row[0]), []).append(record_id)
        if key == "source_id":
            index.setdefault(f"{row[1]}:{row[0]}", []).append(record_id)
    return index
