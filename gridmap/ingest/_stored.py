"""The stored records an import may match, read column by column.

:func:`read_existing` reads the records of a source (of every source for areas, which
also match by code) in one query: values through the column types, geometries as WKB
decoded in one :func:`shapely.from_wkb` call, and from the provenance JSON, extracted
by the database, the digest each field's value had when this origin last supplied it
and the origin that set it (``seen.<origin>.<field>``, ``fields.<field>.by``). With
those, :func:`unchanged_rows` decides for every matched row at once whether the
import would change nothing (:func:`gridmap.ingest.provenance.merge` on such a row
returns no change and the same provenance); only the other rows are merged one by one.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from sqlalchemy import Connection, LargeBinary, Table, Text, cast, func, select, true, type_coerce
from sqlalchemy.dialects.postgresql import JSONB

from gridmap.ingest.provenance import digest_column

__all__ = ["Existing", "read_existing", "unchanged_rows"]

Mask = npt.NDArray[np.bool_]


@dataclass
class Existing:
    """Stored records, one list per column, and where to find them by source id and code."""

    ids: list[int]
    sources: list[str]
    source_ids: list[str]
    values: dict[str, list[Any]]
    provenance_texts: list[str | None]
    closed: list[Any]
    digests: dict[str, list[str | None]] = field(default_factory=dict)
    owners: dict[str, list[str | None]] = field(default_factory=dict)
    by_sid: dict[str, int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def record(self, j: int) -> dict[str, Any]:
        """Stored record ``j`` as a dict (parsed provenance): for the rows merged one by one."""
        text = self.provenance_texts[j]
        return {
            "id": self.ids[j],
            "source": self.sources[j],
            "source_id": self.source_ids[j],
            "provenance": None if text is None else json.loads(text),
            "closed_at": self.closed[j],
            **{k: v[j] for k, v in self.values.items()},
        }

    def provenance(self, j: int) -> dict[str, Any] | None:
        text = self.provenance_texts[j]
        parsed = None if text is None else json.loads(text)
        return parsed if isinstance(parsed, dict) else None


def _safe_origin(origin: str) -> bool:
    """Whether ``origin`` can be a key of a JSON path on every backend."""
    return not any(c in origin for c in '"\\')


def read_existing(
    conn: Connection,
    table: Table,
    columns: Sequence[str],
    geometry: str | None,
    source: str,
    origin: str,
    *,
    by_code: bool,
) -> Existing:
    """Stored records of ``source`` (of every source, for areas matched by code)."""
    names = [c for c in columns if c != geometry]
    fields = [*names, *([geometry] if geometry else [])]
    postgres = conn.dialect.name == "postgresql"
    base: Any = table
    if postgres:  # the json column parsed once per row, not once per field
        base = (
            select(table, cast(table.c.provenance, JSONB).label("_p"))
            .where(table.c.source == source if not by_code else true())
            .subquery()
        )
    selected: list[Any] = [
        base.c.id,
        base.c.source,
        base.c.source_id,
        cast(base.c.provenance, Text),
        base.c.closed_at,
        *(base.c[c] for c in names),
    ]
    if geometry:
        selected.append(type_coerce(func.ST_AsBinary(base.c[geometry]), LargeBinary))
    paths = _safe_origin(origin)
    if paths:
        selected += _digest_columns(base, origin, fields, postgres=postgres)
    query = select(*selected)
    if not by_code and not postgres:
        query = query.where(table.c.source == source)
    rows = conn.execute(query).all()
    data: list[list[Any]] = [list(c) for c in zip(*rows, strict=True)] if rows else []
    if not data:
        data = [[] for _ in selected]
    found = Existing(
        ids=data[0],
        sources=data[1],
        source_ids=[str(s) for s in data[2]],
        values={name: data[5 + i] for i, name in enumerate(names)},
        provenance_texts=data[3],
        closed=data[4],
    )
    at = 5 + len(names)
    if geometry:
        blobs = [None if b is None else bytes(b) for b in data[at]]
        found.values[geometry] = list(shapely.from_wkb(np.asarray(blobs, dtype=object)).tolist())
        at += 1
    if paths:
        extracted = data[at:] if postgres else _split(data[at], 2 * len(fields))
        for i, name in enumerate(fields):
            found.digests[name] = extracted[2 * i]
            found.owners[name] = extracted[2 * i + 1]
    _index(found, source, by_code=by_code)
    return found


def _digest_columns(base: Any, origin: str, fields: Sequence[str], *, postgres: bool) -> list[Any]:
    """Per field: the digest ``origin`` supplied last time and the origin that set it.

    PostGIS: one text column each, from the row's provenance parsed once (jsonb);
    SQLite: one ``json_extract`` of every path, a JSON array per row.
    """
    keys = [(("seen", origin, name), ("fields", name, "by")) for name in fields]
    if postgres:
        return [base.c._p[path].as_string() for pair in keys for path in pair]
    texts = ['$."' + '"."'.join(path) + '"' for pair in keys for path in pair]
    return [func.json_extract(base.c.provenance, *texts)]


def _split(arrays: Sequence[str | None], width: int) -> list[list[Any]]:
    """JSON arrays of ``width`` values (None: a row without provenance) as columns."""
    rows = [[None] * width if a is None else json.loads(a) for a in arrays]
    return [list(c) for c in zip(*rows, strict=True)] if rows else [[] for _ in range(width)]


def _index(found: Existing, source: str, *, by_code: bool) -> None:
    """Where each record of ``source`` is by source id, and each area by code."""
    for j, (src, sid) in enumerate(zip(found.sources, found.source_ids, strict=True)):
        if src == source:
            found.by_sid[sid] = j
    if by_code and "code" in found.values:
        for j, code in enumerate(found.values["code"]):
            if code is not None:
                found.by_code[str(code)] = j


def _objects(values: Sequence[Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _same(old: np.ndarray[Any, Any], new: np.ndarray[Any, Any], geometry: bool) -> Mask:
    """:func:`gridmap.ingest.provenance.same_value` of each pair, for a whole column."""
    old_none = pd.isna(old) if not geometry else shapely.is_missing(old)
    new_none = pd.isna(new) if not geometry else shapely.is_missing(new)
    if geometry:
        both = ~old_none & ~new_none
        equal = np.zeros(len(old), dtype=np.bool_)
        equal[both] = shapely.equals_exact(old[both], new[both], tolerance=1e-9)
    else:
        equal = np.asarray(old == new, dtype=np.bool_)
    return np.asarray((old_none & new_none) | equal, dtype=np.bool_)


def unchanged_rows(
    existing: Existing,
    matched: npt.NDArray[np.int64],
    new: dict[str, Sequence[Any]],
    *,
    origin: str,
    geometry: str | None,
) -> Mask:
    """Which matched rows an import leaves exactly as stored (values and provenance).

    ``matched`` is the stored position of each row; ``new`` the rows' values by field.
    A row is unchanged when its record is open, has provenance, and for every field:
    an empty new value that this origin neither supplied last time nor set; or a value
    equal to the stored one, whose setter is known and whose digest is the one this
    origin supplied last time. Rows that are not (or cannot be told from the columns:
    an origin a JSON path cannot name) go through :func:`~gridmap.ingest.provenance.merge`.
    """
    n = len(matched)
    if not n or not existing.digests:
        return np.zeros(n, dtype=np.bool_)
    texts = _objects(existing.provenance_texts)[matched]
    ok = np.asarray(pd.notna(texts), dtype=np.bool_) & (texts != "null")
    ok &= np.asarray(pd.isna(_objects(existing.closed)[matched]), dtype=np.bool_)
    supplied = np.zeros(n, dtype=np.bool_)
    for name, values in new.items():
        column = _objects(values)
        is_geometry = name == geometry
        empty = shapely.is_missing(column) if is_geometry else np.asarray(pd.isna(column))
        supplied |= ~empty
        old = _objects(existing.values[name])[matched]
        last = _objects(existing.digests[name])[matched]
        owner = _objects(existing.owners[name])[matched]
        had = np.asarray(pd.notna(last), dtype=np.bool_)
        mine = np.asarray(owner == origin, dtype=np.bool_)
        old_empty = shapely.is_missing(old) if is_geometry else np.asarray(pd.isna(old))
        keep_empty = empty & ~had & (old_empty | ~mine)
        digests = _objects(digest_column(column))
        same = _same(old, column, is_geometry) & np.asarray(pd.notna(owner), dtype=np.bool_)
        keep_value = ~empty & same & np.asarray(last == digests, dtype=np.bool_)
        ok &= keep_empty | keep_value
    return np.asarray(ok & supplied, dtype=np.bool_)
