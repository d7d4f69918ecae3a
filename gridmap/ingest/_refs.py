"""Find the stored records a file's references name, looking up only those names.

An organisation names the units it covers (``U0000007``, or ``osm:U0000007`` when two
sources have that id); a cell names its community's area code. :func:`lookup` puts
the distinct names a file uses into a temporary table and lets the database find
their records through the unique ``(source, source_id)`` index (each plain id in each
of the table's few sources), instead of reading every stored record
(a million units for 50,000 organisations).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Column, Connection, MetaData, Table, Text, func, insert, select, tuple_

__all__ = ["lookup"]

#: The temporary table holding the names looked up; dropped again after each lookup.
_WANTED = "gridmap_wanted_refs"


#: Up to this many sources, a plain id is looked up as SOURCE:ID in each (the unique
#: ``(source, source_id)`` index); with more, by one scan of the source ids.
_PER_SOURCE = 8


def _sources(conn: Connection, table: Table) -> list[str]:
    """The distinct sources of ``table``, each found in the unique index (a skip scan)."""
    top = select(func.min(table.c.source)).scalar_subquery()
    found = select(top.label("x")).cte("found", recursive=True)
    after = select(func.min(table.c.source)).where(table.c.source > found.c.x)
    found = found.union_all(select(after.scalar_subquery()).where(found.c.x.is_not(None)))
    limit = _PER_SOURCE + 1
    rows = conn.execute(select(found.c.x).where(found.c.x.is_not(None)).limit(limit))
    return [str(r[0]) for r in rows]


def _candidates(
    values: Iterable[str], key: str, sources: list[str] | None
) -> list[dict[str, str | None]]:
    """Each name as a key (in each of ``sources`` when given) and each ``SOURCE:ID`` split."""
    rows: list[dict[str, str | None]] = []
    for value in sorted(set(values)):
        if sources is None:
            rows.append({"source": None, "key": value})
        else:
            rows += [{"source": source, "key": value} for source in sources]
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
    names = set(values)
    if not names:
        return {}
    sources = _sources(conn, table) if key == "source_id" else None
    if sources is not None and len(sources) > _PER_SOURCE:
        sources = None
    rows = _candidates(names, key, sources)
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
        return _matched(conn, table, key, wanted, plain=sources is None)
    finally:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {_WANTED}")


def _matched(
    conn: Connection, table: Table, key: str, wanted: Table, *, plain: bool
) -> dict[str, list[int]]:
    """The index of :func:`lookup`; ``plain``: names without a source are in ``wanted``."""
    columns = [table.c.id, table.c[key]] + ([table.c.source] if key == "source_id" else [])
    found: dict[int, tuple[Any, ...]] = {}
    if plain:
        names = select(wanted.c.key).where(wanted.c.source.is_(None))
        query = select(*columns).where(table.c[key].in_(names))
        found = {int(r[0]): tuple(r[1:]) for r in conn.execute(query)}
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
