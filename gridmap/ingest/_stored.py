"""The stored records an import may match, read column by column.

:func:`read_existing` reads the records of a source (of every source for areas, which
also match by code) in one query: values through the column types, geometries as WKB
decoded in one :func:`shapely.from_wkb` call, and from the stored provenance (split by
the database into its header id and digests, decoded per header with whole-array
operations, :meth:`gridmap.ingest._headers.Headers.origin_digests`) the digest each
field's value had when this origin last supplied it and the origin that set it. With
those, :func:`unchanged_rows` decides for every matched row at once whether the
import would change nothing (:func:`gridmap.ingest.provenance.merge` on such a row
returns no change and the same provenance); only the other rows are merged one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from sqlalchemy import Connection, Integer, LargeBinary, Table, cast, func, select, type_coerce

from gridmap.ingest._headers import Headers, digest_ints
from gridmap.ingest.provenance import digest_matrix

__all__ = ["Existing", "read_existing", "unchanged_rows"]

Mask = npt.NDArray[np.bool_]


@dataclass
class Existing:
    """Stored records, one list per column, and where to find them by source id and code.

    The provenance itself is decoded only for the records that need it (merged one by
    one, or absent from the file): :meth:`load_provenance`. For every record there is,
    per field, the digest this origin supplied last time (``digests``, as integers, -1
    for none)
    and whether the field's value was set by anyone (``owned``) or by this origin
    (``mine``), decided by the database from the JSON.
    """

    ids: list[int]
    sources: list[str]
    source_ids: list[str]
    values: dict[str, list[Any]]
    has_provenance: Mask
    closed: list[Any]
    digests: dict[str, npt.NDArray[np.int64]] = field(default_factory=dict)
    owned: dict[str, Mask] = field(default_factory=dict)
    mine: dict[str, Mask] = field(default_factory=dict)
    by_sid: dict[str, int] = field(default_factory=dict)
    by_code: dict[str, int] = field(default_factory=dict)
    stored: list[str | None] = field(default_factory=list)
    headers: Headers | None = None
    provenances: dict[int, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def load_provenance(self, positions: Sequence[int]) -> None:
        """Decode the provenance of the records at ``positions``."""
        if self.headers is None:
            return
        for j in positions:
            record_id = self.ids[j]
            if record_id not in self.provenances:
                parsed = self.headers.decode(self.stored[j])
                self.provenances[record_id] = parsed if isinstance(parsed, dict) else None

    def provenance(self, j: int) -> dict[str, Any] | None:
        """The parsed provenance of record ``j`` (read now if :meth:`load_provenance` did not)."""
        self.load_provenance([j])
        found: dict[str, Any] | None = self.provenances.get(self.ids[j])
        return found

    def record(self, j: int) -> dict[str, Any]:
        """Stored record ``j`` as a dict (parsed provenance): for the rows merged one by one."""
        return {
            "id": self.ids[j],
            "source": self.sources[j],
            "source_id": self.source_ids[j],
            "provenance": self.provenance(j),
            "closed_at": self.closed[j],
            **{k: v[j] for k, v in self.values.items()},
        }


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
    """Stored records of ``source`` (of every source, for areas matched by code).

    Read in partitions of :data:`PARTITION` rows, each turned into compact columns
    (geometries decoded, digests as bytes, owners as flags) before the next is read.
    """
    names = [c for c in columns if c != geometry]
    fields = [*names, *([geometry] if geometry else [])]
    query = _query(conn, table, names, geometry, source, by_code=by_code)
    headers = Headers(conn)
    parts: list[Existing] = []
    result = conn.execute(query)
    while rows := result.fetchmany(PARTITION):
        parts.append(_part(rows, names, geometry, fields, origin, headers))
    found = _joined(parts, names, geometry)
    found.headers = headers
    _index(found, source, by_code=by_code)
    return found


#: Stored records read and converted at a time.
PARTITION = 50_000


def _query(
    conn: Connection,
    table: Table,
    names: Sequence[str],
    geometry: str | None,
    source: str,
    *,
    by_code: bool,
) -> Any:
    stored = table.c.provenance
    if conn.dialect.name == "postgresql":
        header = cast(func.split_part(stored, ":", 1), Integer)
    else:
        header = cast(stored, Integer)  # SQLite reads the leading digits
    selected: list[Any] = [
        table.c.id,
        table.c.source,
        table.c.source_id,
        header,
        table.c.closed_at,
        *(table.c[c] for c in names),
    ]
    if geometry:
        selected.append(type_coerce(func.ST_AsBinary(table.c[geometry]), LargeBinary))
    selected.append(stored)
    query = select(*selected)
    if not by_code:
        query = query.where(table.c.source == source)
    return query


def _part(
    rows: Sequence[Any],
    names: Sequence[str],
    geometry: str | None,
    fields: Sequence[str],
    origin: str,
    headers: Headers,
) -> Existing:
    """One partition of stored records as compact columns."""
    data = [list(c) for c in zip(*rows, strict=True)]
    header_ids = np.asarray([-1 if h is None else h for h in data[3]], dtype=np.int64)
    stored: list[str | None] = data[-1]
    headers.load(np.unique(header_ids[header_ids >= 0]).tolist())
    part = Existing(
        ids=data[0],
        sources=data[1],
        source_ids=[str(s) for s in data[2]],
        values={name: data[5 + i] for i, name in enumerate(names)},
        has_provenance=_has_provenance(headers, header_ids),
        closed=data[4],
        stored=stored,
    )
    at = 5 + len(names)
    if geometry:
        blobs = np.asarray([None if b is None else bytes(b) for b in data[at]], dtype=object)
        part.values[geometry] = list(shapely.from_wkb(blobs).tolist())
    bodies = [t.partition(":")[2] if t else "" for t in stored]
    for name in fields:
        last, owned, mine = headers.origin_digests(header_ids, bodies, origin, name)
        part.digests[name], part.owned[name], part.mine[name] = last, owned, mine
    return part


def _has_provenance(headers: Headers, header_ids: npt.NDArray[np.int64]) -> Mask:
    """Which rows have a provenance that is a JSON object (as merged and written)."""
    out = header_ids >= 0
    for header_id in np.unique(header_ids[out]).tolist():
        header = headers.header(header_id)
        if "raw" in header and not isinstance(header["raw"], dict):
            out[header_ids == header_id] = False
    return np.asarray(out, dtype=np.bool_)


def _joined(parts: list[Existing], names: Sequence[str], geometry: str | None) -> Existing:
    """The partitions as one :class:`Existing`."""
    columns = [*names, *([geometry] if geometry else [])]
    if not parts:
        return Existing([], [], [], {c: [] for c in columns}, np.zeros(0, dtype=np.bool_), [])
    if len(parts) == 1:
        return parts[0]
    first = parts[0]
    return Existing(
        ids=[i for p in parts for i in p.ids],
        sources=[s for p in parts for s in p.sources],
        source_ids=[s for p in parts for s in p.source_ids],
        values={c: [v for p in parts for v in p.values[c]] for c in columns},
        has_provenance=np.concatenate([p.has_provenance for p in parts]),
        closed=[c for p in parts for c in p.closed],
        digests={k: np.concatenate([p.digests[k] for p in parts]) for k in first.digests},
        owned={k: np.concatenate([p.owned[k] for p in parts]) for k in first.owned},
        mine={k: np.concatenate([p.mine[k] for p in parts]) for k in first.mine},
        stored=[t for p in parts for t in p.stored],
    )


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
    origin supplied last time. Rows that are not go through
    :func:`~gridmap.ingest.provenance.merge`.
    """
    del origin  # decided when the stored records were read
    n = len(matched)
    if not n or not existing.digests:
        return np.zeros(n, dtype=np.bool_)
    ok = existing.has_provenance[matched].copy()
    ok &= np.asarray(pd.isna(_objects(existing.closed)[matched]), dtype=np.bool_)
    supplied = np.zeros(n, dtype=np.bool_)
    for name, values in new.items():
        column = _objects(values)
        is_geometry = name == geometry
        empty = shapely.is_missing(column) if is_geometry else np.asarray(pd.isna(column))
        supplied |= ~empty
        old = _objects(existing.values[name])[matched]
        last = existing.digests[name][matched]
        owned, mine = existing.owned[name][matched], existing.mine[name][matched]
        had = last != -1
        old_empty = shapely.is_missing(old) if is_geometry else np.asarray(pd.isna(old))
        keep_empty = empty & ~had & (old_empty | ~mine)
        same = _same(old, column, is_geometry) & owned
        keep_value = ~empty & same & (last == digest_ints(*digest_matrix(column)))
        ok &= keep_empty | keep_value
    return np.asarray(ok & supplied, dtype=np.bool_)
