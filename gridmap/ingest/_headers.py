"""The provenance headers of a store: interned once, read back by id.

Records keep their provenance as ``"<header id>:<digests>"``
(:mod:`gridmap.ingest.provenance`, *Stored form*); :class:`Headers` finds or adds the
header of a provenance in the ``provenance_header`` table (within the caller's
transaction: a failed import leaves no header behind) and decodes stored texts.
Headers are added only outside the savepoints of bulk writes (:meth:`Headers.prepare`
before them), so that a refused chunk rolled back never takes an interned header
with it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Table, select
from sqlalchemy.dialects import postgresql, sqlite

from gridmap.ingest.provenance import DIGEST_BYTES, decoded, encoded, parse_stored, stored_text
from gridmap.store import models, table_of

__all__ = ["Headers", "read_provenance"]


def header_key(text: str) -> str:
    """The unique key of a header text (texts may be longer than an index entry allows)."""
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class Headers:
    """The headers of one connection's transaction: a cache in front of the table."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.table: Table = table_of(models.ProvenanceHeader)
        self._ids: dict[str, int] = {}
        self._parsed: dict[int, dict[str, Any]] = {}

    def prepare(self, texts: Iterable[str]) -> dict[str, int]:
        """The id of each header text, adding the headers the table does not have."""
        wanted = list(dict.fromkeys(texts))
        missing = [t for t in wanted if t not in self._ids]
        if missing:
            keys = {header_key(t): t for t in missing}
            rows = [{"key": k, "header": t} for k, t in keys.items()]
            dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
            statement = dialect.insert(self.table).on_conflict_do_nothing(index_elements=["key"])
            self.conn.execute(statement, rows)
            for start in range(0, len(rows), 900):
                chunk = list(keys)[start : start + 900]
                query = select(self.table.c.key, self.table.c.id).where(self.table.c.key.in_(chunk))
                for key, header_id in self.conn.execute(query):
                    self._ids[keys[key]] = int(header_id)
                    self._parsed.setdefault(int(header_id), json.loads(keys[key]))
        return {t: self._ids[t] for t in wanted}

    def encode(self, provenance: Any) -> str | None:
        """The stored text of a provenance (None stays None)."""
        if provenance is None:
            return None
        text, digests = encoded(provenance)
        return stored_text(self.prepare([text])[text], digests)

    def encode_many(self, provenances: Sequence[Any]) -> list[str | None]:
        """:meth:`encode` of each, the headers added in one go."""
        parts = [None if p is None else encoded(p) for p in provenances]
        ids = self.prepare(p[0] for p in parts if p is not None)
        return [None if p is None else stored_text(ids[p[0]], p[1]) for p in parts]

    def header(self, header_id: int) -> dict[str, Any]:
        """The parsed header ``header_id`` (read from the table the first time)."""
        self.load([header_id])
        return self._parsed[header_id]

    def load(self, ids: Iterable[int]) -> None:
        """Read the headers ``ids`` not read yet, in a few queries."""
        wanted = [i for i in dict.fromkeys(ids) if i not in self._parsed]
        for start in range(0, len(wanted), 900):
            chunk = wanted[start : start + 900]
            query = select(self.table.c.id, self.table.c.header).where(self.table.c.id.in_(chunk))
            for header_id, text in self.conn.execute(query):
                self._parsed[int(header_id)] = json.loads(text)
                self._ids[str(text)] = int(header_id)
        unknown = [i for i in wanted if i not in self._parsed]
        if unknown:
            msg = f"stored provenance refers to unknown headers {unknown[:5]}"
            raise ValueError(msg)

    def decode(self, text: str | None) -> Any:
        """The provenance a record stores as ``text`` (None stays None)."""
        if text is None:
            return None
        header_id, digests = parse_stored(text)
        return decoded(self.header(header_id), digests)

    def origin_digests(
        self, header_ids: npt.NDArray[np.int64], bodies: Sequence[str], origin: str, name: str
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """Per row: the digest ``origin`` supplied for ``name`` last (an integer, -1 for
        none), whether anyone set ``name`` and whether ``origin`` did.

        ``header_ids`` (-1: no provenance) and ``bodies`` (the base64 digests) are the
        stored texts split; rows are decoded per header, with whole-array operations.
        """
        n = len(header_ids)
        last = np.full(n, -1, dtype=np.int64)
        owned = np.zeros(n, dtype=np.bool_)
        mine = np.zeros(n, dtype=np.bool_)
        for header_id in np.unique(header_ids).tolist():
            if header_id < 0:
                continue
            where = np.flatnonzero(header_ids == header_id)
            header = self.header(header_id)
            if "raw" in header:
                _raw_digests(header["raw"], where, origin, name, last, owned, mine)
                continue
            stamp = header["fields"].get(name)
            owned[where] = stamp is not None
            mine[where] = stamp is not None and stamp[0] == origin
            names = header["seen"].get(origin, [])
            if name not in names:
                continue
            order = list(header["seen"])
            offset = sum(len(header["seen"][k]) for k in order[: order.index(origin)])
            last[where] = _digest_at(bodies, where, offset + names.index(name), header)
        return last, owned, mine


def _digest_at(
    bodies: Sequence[str], where: npt.NDArray[np.int64], slot: int, header: Mapping[str, Any]
) -> npt.NDArray[np.int64]:
    """The digest in position ``slot`` of the rows ``where``, as integers."""
    count = sum(len(v) for v in header["seen"].values())
    width = 4 * count * DIGEST_BYTES // 3
    text = "".join(bodies[i] for i in where.tolist())
    if len(text) != width * len(where):
        msg = "stored provenance digests do not match their header"
        raise ValueError(msg)
    raw = np.frombuffer(base64.b64decode(text), dtype=np.uint8).reshape(len(where), -1)
    padded = np.zeros((len(where), 8), dtype=np.uint8)
    padded[:, :DIGEST_BYTES] = raw[:, slot * DIGEST_BYTES : (slot + 1) * DIGEST_BYTES]
    return padded.view("<i8").ravel().astype(np.int64)


def _raw_digests(
    provenance: Any,
    where: npt.NDArray[np.int64],
    origin: str,
    name: str,
    last: npt.NDArray[np.int64],
    owned: npt.NDArray[np.bool_],
    mine: npt.NDArray[np.bool_],
) -> None:
    """:meth:`Headers.origin_digests` of rows whose header holds their whole provenance."""
    if not isinstance(provenance, dict):
        return
    fields = provenance.get("fields") if isinstance(provenance.get("fields"), dict) else {}
    stamp = fields.get(name) if isinstance(fields, dict) else None
    by = stamp.get("by") if isinstance(stamp, dict) else None
    owned[where] = by is not None
    mine[where] = by == origin
    seen = provenance.get("seen")
    supplied = seen.get(origin) if isinstance(seen, dict) else None
    value = supplied.get(name) if isinstance(supplied, dict) else None
    if value is not None:
        last[where] = digest_int(value) if isinstance(value, str) else -2


def digest_int(hex_digest: str) -> int:
    """A digest (:func:`gridmap.ingest.provenance.digest`) as the integer rows compare."""
    try:
        raw = bytes.fromhex(hex_digest)
    except ValueError:
        return -2
    return int.from_bytes(raw, "little") if len(raw) == DIGEST_BYTES else -2


def digest_ints(
    matrix: npt.NDArray[np.uint8], present: npt.NDArray[np.bool_]
) -> npt.NDArray[np.int64]:
    """Raw digests (:func:`gridmap.ingest.provenance.digest_matrix`) as integers, -1 for none."""
    padded = np.zeros((len(matrix), 8), dtype=np.uint8)
    padded[:, :DIGEST_BYTES] = matrix
    out = padded.view("<i8").ravel().astype(np.int64)
    out[~present] = -1
    return out


def read_provenance(
    conn: Connection, table: Table, ids: Sequence[int] | None = None
) -> dict[int, Any]:
    """The decoded provenance of the records ``ids`` of ``table`` (every record: None)."""
    headers = Headers(conn)
    query = select(table.c.id, table.c.provenance)
    out: dict[int, Any] = {}
    if ids is None:
        rows: list[Any] = list(conn.execute(query))
    else:
        rows = []
        for start in range(0, len(ids), 900):
            rows += conn.execute(query.where(table.c.id.in_(list(ids[start : start + 900]))))
    for record_id, text in rows:
        out[int(record_id)] = headers.decode(text)
    return out
