"""Field-level provenance: which file set each field of a record, when, and what it supplied.

Several files describe the same records: the OSM extract names a community and
places it, ``units.csv`` adds its households and party members, a derived step
gives a sub-district its code. Each record keeps, in its ``provenance`` JSON::

    {"fields": {"households": {"by": "sample/units.csv", "at": "2026-12-01T09:00:00"}},
     "seen": {"osm/guixi.osm.pbf": {"name": "1f0c3a9e", "geom": "77ab01cd"},
              "sample/units.csv": {"households": "5e2d8c10"}}}

``fields`` says which origin set each field's current value and when; ``seen``
holds a digest of the value each origin last supplied. :func:`merge` applies
the rules an import follows, field by field:

* an empty value (NULL, or a column the file lacks) never clears a value another
  origin set; it clears the field only when the same origin set it;
* a value equal to what the same origin supplied last time changes nothing,
  even when another origin has changed the field since (the file did not change);
* otherwise a different value replaces the stored one: the later import wins,
  and the caller writes both values to the audit log.

An *origin* names a file's family (:func:`origin_of`): its folder and its name
with every run of digits read as ``#``, so ``企业名单_2026年12月.csv`` and
``企业名单_2027年01月.csv`` in one folder are the same list, while
``townA/firms.csv`` and ``townB/firms.csv`` are not.

Stored form
-----------
A record stores its provenance compactly (:func:`encoded`, :func:`decoded`): what
many records share (field names, origins, time stamps: the *header*) is kept once in
the ``provenance_header`` table, and the record keeps ``"<header id>:<digests>"``,
the 6-byte digests its origins supplied in the header's order, in base64 (8
characters each). The header of the record above is::

    {"fields": {"households": ["sample/units.csv", "2026-12-01T09:00:00"]},
     "seen": {"osm/guixi.osm.pbf": ["name", "geom"], "sample/units.csv": ["households"]}}

A provenance of any other shape (hand-written JSON) is kept whole in its header
(``{"raw": ...}``). :func:`decoded` gives back exactly the structure above.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = [
    "DIGEST_BYTES",
    "Merge",
    "decoded",
    "digest",
    "digest_column",
    "digest_matrix",
    "encoded",
    "first",
    "first_header",
    "first_many",
    "first_stored",
    "header_text",
    "merge",
    "now",
    "origin_of",
    "origins_of",
    "parse_stored",
    "present_patterns",
    "same_value",
    "stored_text",
]

_DIGITS = re.compile(r"\d+")


def origin_of(path: Path | str) -> str:
    """The family a file belongs to: ``folder/name`` with digit runs in the name as ``#``.

    >>> origin_of("/data/月报/企业名单_2026年12月.csv")
    '月报/企业名单_#年#月.csv'
    >>> origin_of("townA/firms.csv")
    'townA/firms.csv'
    """
    file = Path(path).resolve()
    return f"{file.parent.name}/{_DIGITS.sub('#', file.name)}"


def now() -> str:
    """The time stamp provenance records (UTC, to the second)."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0, tzinfo=None).isoformat()


def digest(value: object) -> str:
    """A short digest of a value as supplied (geometries by their exact WKB)."""
    if isinstance(value, BaseGeometry):
        data = shapely.to_wkb(value, hex=False, output_dimension=2)
    else:
        data = repr(value.isoformat() if isinstance(value, dt.date) else value).encode()
    return hashlib.blake2b(data, digest_size=6).hexdigest()


def same_value(old: object, new: object) -> bool:
    """Whether a stored value equals a new one (geometries within 1e-9 degrees)."""
    if isinstance(old, BaseGeometry) or isinstance(new, BaseGeometry):
        if old is None or new is None:
            return old is new
        return bool(shapely.equals_exact(old, new, tolerance=1e-9))
    return old == new


def origins_of(provenance: Mapping[str, Any] | None) -> set[str]:
    """Every origin that has supplied the record."""
    return set((provenance or {}).get("seen", {}))


@dataclass
class Merge:
    """What an import does to one stored record."""

    changed: dict[str, Any] = field(default_factory=dict)
    before_by: dict[str, str | None] = field(default_factory=dict)
    provenance: dict[str, Any] = field(default_factory=dict)
    provenance_changed: bool = False


def merge(
    old: Mapping[str, Any],
    provenance: Mapping[str, Any] | None,
    new: Mapping[str, Any],
    *,
    origin: str,
    at: str,
) -> Merge:
    """Apply the import rules (module docstring) to one record.

    Parameters
    ----------
    old
        The stored values, by field.
    provenance
        The stored provenance (None for records written before provenance was kept).
    new
        The values this import supplies, by field; None where the file has no value.
    origin
        The file family importing (:func:`origin_of`).
    at
        The import's time stamp.
    """
    fields = {k: dict(v) for k, v in (provenance or {}).get("fields", {}).items()}
    seen = {k: dict(v) for k, v in (provenance or {}).get("seen", {}).items()}
    mine = seen.setdefault(origin, {})
    result = Merge(before_by={})
    for name, value in new.items():
        current = old.get(name)
        owner = fields.get(name, {}).get("by")
        if value is None:
            mine.pop(name, None)
            if current is not None and owner == origin:
                _set(result, fields, name, None, owner, origin, at)
            continue
        supplied = digest(value)
        last = mine.get(name)
        mine[name] = supplied
        if same_value(current, value):
            if owner is None:
                fields[name] = {"by": origin, "at": at}
            continue
        if last == supplied:
            continue  # the file did not change: a later value from elsewhere stands
        _set(result, fields, name, value, owner, origin, at)
    if not mine:
        seen.pop(origin)
    result.provenance = {"fields": fields, "seen": seen}
    result.provenance_changed = result.provenance != _normal(provenance)
    return result


def first(new: Mapping[str, Any], *, origin: str, at: str) -> dict[str, Any]:
    """The provenance of a record this import creates."""
    present = {k: v for k, v in new.items() if v is not None}
    return {
        "fields": {k: {"by": origin, "at": at} for k in present},
        "seen": {origin: {k: digest(v) for k, v in present.items()}} if present else {},
    }


def first_many(
    records: Sequence[Mapping[str, Any]], *, origin: str, at: str
) -> list[dict[str, Any]]:
    """:func:`first` of many records at once, column by column.

    Records with the same fields present share one ``fields`` dict: serialise the
    results, do not change them in place.
    """
    keys = _keys(records)
    columns = {key: [r.get(key) for r in records] for key in keys}
    digests = {key: _digests(values) for key, values in columns.items()}
    present = np.zeros(len(records), dtype=np.int64)
    for bit, key in enumerate(keys):
        present |= np.asarray([v is not None for v in columns[key]], dtype=np.int64) << bit
    out: list[dict[str, Any]] = [{} for _ in records]
    stamp = {"by": origin, "at": at}
    for pattern in np.unique(present).tolist():
        names = [k for bit, k in enumerate(keys) if pattern >> bit & 1]
        where = np.flatnonzero(present == pattern).tolist()
        fields = dict.fromkeys(names, stamp)
        if not names:
            for i in where:
                out[i] = {"fields": {}, "seen": {}}
            continue
        picked = [[digests[k][i] for i in where] for k in names]
        for i, values in zip(where, zip(*picked, strict=True), strict=True):
            out[i] = {"fields": fields, "seen": {origin: dict(zip(names, values, strict=True))}}
    return out


def _keys(records: Sequence[Mapping[str, Any]]) -> list[str]:
    return list(dict.fromkeys(k for r in records for k in r))


def _digests(values: list[Any]) -> list[str | None]:
    """:func:`digest` of each value (None for None), geometries' WKB made in one call."""
    spatial = [i for i, v in enumerate(values) if isinstance(v, BaseGeometry)]
    out: list[str | None] = [None if v is None else "" for v in values]
    if spatial:
        blobs = shapely.to_wkb(
            np.asarray([values[i] for i in spatial], dtype=object), output_dimension=2
        )
        for i, blob in zip(spatial, blobs.tolist(), strict=True):
            out[i] = hashlib.blake2b(blob, digest_size=6).hexdigest()
    known: dict[tuple[type, object], str] = {}  # counts and kinds repeat: digest each once
    for i, value in enumerate(values):
        if out[i] != "":
            continue
        try:
            key = (type(value), value)
            found = known.get(key)
        except TypeError:  # unhashable (a list of covered units)
            out[i] = digest(value)
            continue
        if found is None:
            found = known[key] = digest(value)
        out[i] = found
    return out


def digest_column(values: Sequence[Any] | np.ndarray[Any, Any]) -> list[str | None]:
    """:func:`digest` of each value of one column (None for None), without a call per row.

    Geometries are written to WKB in one call; columns of plain text or whole numbers
    digest each distinct value once (:func:`pandas.factorize`); anything else goes
    through :func:`_digests`. Every digest equals :func:`digest` of the same value.
    """
    if not len(values):
        return []
    array = _objects(values)
    kind = pd.api.types.infer_dtype(array, skipna=True)
    if kind not in ("string", "integer"):
        return _digests(list(values))
    codes, uniques = pd.factorize(array, use_na_sentinel=True)
    digested = np.asarray([*_plain_digests(uniques.tolist()), None], dtype=object)
    return list(digested[codes].tolist())


def _plain_digests(values: list[Any]) -> list[str]:
    """:func:`digest` of each text or whole number, without a call per value (names are
    mostly distinct: a million of them are a million digests)."""
    blake2b = hashlib.blake2b
    return [blake2b(text.encode(), digest_size=6).hexdigest() for text in map(repr, values)]


def _objects(values: Sequence[Any] | np.ndarray[Any, Any]) -> np.ndarray[Any, np.dtype[np.object_]]:
    """``values`` as a 1-D object array (lists stay elements, not rows)."""
    if isinstance(values, np.ndarray) and values.dtype == object and values.ndim == 1:
        return values
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def _set(
    result: Merge,
    fields: dict[str, dict[str, Any]],
    name: str,
    value: object,
    owner: str | None,
    origin: str,
    at: str,
) -> None:
    result.changed[name] = value
    result.before_by[name] = owner
    fields[name] = {"by": origin, "at": at}


def _normal(provenance: Mapping[str, Any] | None) -> dict[str, Any]:
    if not provenance:
        return {"fields": {}, "seen": {}}
    return {"fields": provenance.get("fields", {}), "seen": provenance.get("seen", {})}


# -- stored form ----------------------------------------------------------------------------

#: Bytes of each digest (:func:`digest`: 12 hex characters).
DIGEST_BYTES = 6
_HEX_DIGEST = re.compile(r"[0-9a-f]{12}")


def header_text(header: Mapping[str, Any]) -> str:
    """The one text of a header (its key in the ``provenance_header`` table)."""
    return json.dumps(header, ensure_ascii=False, separators=(",", ":"))


def encoded(provenance: Any) -> tuple[str, bytes]:
    """The header text and the digests (raw bytes) of one record's provenance.

    The inverse of :func:`decoded`: ``decoded(json.loads(h), d) == provenance`` for
    ``h, d = encoded(provenance)``, for any JSON value.
    """
    compact = _compact(provenance)
    if compact is None:
        return header_text({"raw": provenance}), b""
    return compact


def _compact(provenance: Any) -> tuple[str, bytes] | None:
    """:func:`encoded` of a provenance of the shape :func:`merge` writes, else None."""
    if not isinstance(provenance, dict) or set(provenance) != {"fields", "seen"}:
        return None
    fields, seen = provenance["fields"], provenance["seen"]
    if not isinstance(fields, dict) or not isinstance(seen, dict):
        return None
    stamps: dict[str, Any] = {}
    for name, stamp in fields.items():
        if not isinstance(stamp, dict) or list(stamp) != ["by", "at"]:
            return None
        stamps[name] = [stamp["by"], stamp["at"]]
    names: dict[str, list[str]] = {}
    digests: list[str] = []
    for origin, supplied in seen.items():
        if not isinstance(supplied, dict):
            return None
        for value in supplied.values():
            if not isinstance(value, str) or not _HEX_DIGEST.fullmatch(value):
                return None
        names[origin] = list(supplied)
        digests += supplied.values()
    return header_text({"fields": stamps, "seen": names}), bytes.fromhex("".join(digests))


def decoded(header: Mapping[str, Any], digests: bytes) -> Any:
    """The provenance a record stores as ``header`` (parsed) and ``digests`` (raw bytes).

    The one decoder of the stored form: every reader of provenance goes through it.
    """
    if "raw" in header:
        return header["raw"]
    text = digests.hex()
    size = 2 * DIGEST_BYTES
    if len(text) != size * sum(len(names) for names in header["seen"].values()):
        msg = f"provenance digests do not match their header ({len(digests)} bytes)"
        raise ValueError(msg)
    seen: dict[str, dict[str, str]] = {}
    at = 0
    for origin, names in header["seen"].items():
        seen[origin] = {}
        for name in names:
            seen[origin][name] = text[at : at + size]
            at += size
    fields = {name: {"by": by, "at": at_} for name, (by, at_) in header["fields"].items()}
    return {"fields": fields, "seen": seen}


def stored_text(header_id: int, digests: bytes) -> str:
    """The text a record stores: ``"<header id>:<digests in base64>"``."""
    return f"{header_id}:{base64.b64encode(digests).decode()}"


def parse_stored(text: str) -> tuple[int, bytes]:
    """The header id and raw digests of a stored text (:func:`stored_text`)."""
    head, sep, body = text.partition(":")
    try:
        if not sep:
            raise ValueError
        return int(head), base64.b64decode(body, validate=True)
    except (ValueError, binascii.Error) as exc:
        msg = f"not a stored provenance: {text[:40]!r}"
        raise ValueError(msg) from exc


def first_header(names: Sequence[str], *, origin: str, at: str) -> str:
    """The header text of records an import creates with the fields ``names`` present."""
    if not names:
        return header_text({"fields": {}, "seen": {}})
    stamps = {name: [origin, at] for name in names}
    return header_text({"fields": stamps, "seen": {origin: list(names)}})


def digest_matrix(
    values: Sequence[Any] | np.ndarray[Any, Any],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.bool_]]:
    """:func:`digest` of each value of a column as raw bytes, one row of
    :data:`DIGEST_BYTES` each (zeros where there is no value), and which rows have one."""
    n = len(values)
    array = _objects(values) if n else np.empty(0, dtype=object)
    kind = pd.api.types.infer_dtype(array, skipna=True) if n else "empty"
    blake2b = hashlib.blake2b
    if kind == "empty":  # no value at all (a column the file lacks)
        return np.zeros((n, DIGEST_BYTES), dtype=np.uint8), np.zeros(n, dtype=np.bool_)
    if kind in ("string", "integer"):  # each distinct value digested once (as digest_column)
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
        texts = map(repr, uniques.tolist())
        raw = b"".join(blake2b(t.encode(), digest_size=DIGEST_BYTES).digest() for t in texts)
        table = np.frombuffer(raw + bytes(DIGEST_BYTES), dtype=np.uint8).reshape(-1, DIGEST_BYTES)
        return table[codes], np.asarray(codes >= 0, dtype=np.bool_)
    if n and bool(shapely.is_valid_input(array).all()) and not shapely.is_missing(array).all():
        present = ~shapely.is_missing(array)
        blobs = shapely.to_wkb(array, output_dimension=2).tolist()
        zero = bytes(DIGEST_BYTES)
        raw = b"".join(
            zero if b is None else blake2b(b, digest_size=DIGEST_BYTES).digest() for b in blobs
        )
        matrix = np.frombuffer(raw, dtype=np.uint8).reshape(n, DIGEST_BYTES)
        return matrix, np.asarray(present, dtype=np.bool_)
    hexes = digest_column(values)
    present = np.asarray([h is not None for h in hexes], dtype=np.bool_)
    zero_hex = "0" * (2 * DIGEST_BYTES)
    raw = bytes.fromhex("".join(zero_hex if h is None else h for h in hexes))
    matrix = np.frombuffer(raw, dtype=np.uint8).reshape(len(hexes), DIGEST_BYTES)
    return matrix, present


def first_stored(
    columns: Mapping[str, Sequence[Any]],
    *,
    origin: str,
    at: str,
    header_ids: Mapping[str, int],
) -> list[str]:
    """The stored provenance (:func:`stored_text`) of :func:`first` for every row of
    ``columns``, column by column; ``header_ids`` gives the id of each header
    (:func:`first_header`) the rows need (:func:`present_patterns`)."""
    keys = list(columns)
    n = len(next(iter(columns.values()))) if keys else 0
    if not n:
        return []
    matrices = {k: digest_matrix(columns[k]) for k in keys}
    present = np.zeros(n, dtype=np.int64)
    for bit, key in enumerate(keys):
        present |= matrices[key][1].astype(np.int64) << bit
    out = np.empty(n, dtype=object)
    for pattern in np.unique(present).tolist():
        names = [k for bit, k in enumerate(keys) if pattern >> bit & 1]
        where = np.flatnonzero(present == pattern)
        prefix = f"{header_ids[first_header(names, origin=origin, at=at)]}:"
        if not names:
            out[where] = prefix
            continue
        joined = np.concatenate([matrices[k][0][where] for k in names], axis=1)
        width = 4 * len(names) * DIGEST_BYTES // 3
        text = base64.b64encode(np.ascontiguousarray(joined).tobytes())
        bodies = np.frombuffer(text, dtype=f"S{width}").astype(f"U{width}").tolist()
        out[where] = [prefix + body for body in bodies]
    return list(out.tolist())


def present_patterns(
    columns: Mapping[str, Sequence[Any]], positions: Sequence[int], *, origin: str, at: str
) -> list[str]:
    """The headers (:func:`first_header`) the rows ``positions`` of ``columns`` need."""
    keys = list(columns)
    if not len(positions) or not keys:
        return []
    picked = np.asarray(positions, dtype=np.int64)
    present = np.zeros(len(picked), dtype=np.int64)
    for bit, key in enumerate(keys):
        column = _objects(columns[key])[picked]
        present |= (column != None).astype(np.int64) << bit  # noqa: E711 - elementwise
    return [
        first_header([k for bit, k in enumerate(keys) if pattern >> bit & 1], origin=origin, at=at)
        for pattern in np.unique(present).tolist()
    ]
