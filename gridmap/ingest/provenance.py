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
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

__all__ = [
    "Merge",
    "digest",
    "digest_column",
    "first",
    "first_many",
    "first_texts",
    "merge",
    "now",
    "origin_of",
    "origins_of",
    "same_value",
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


def first_texts(columns: Mapping[str, Sequence[Any]], *, origin: str, at: str) -> list[str]:
    """:func:`first` of every row of ``columns``, serialised as :func:`json.dumps` does.

    Built column by column: rows with the same fields present share a prefix, and the
    digests are joined in with whole-array string additions, so the text is the same as
    ``json.dumps(first(row))`` for every row without a dict per row.
    """
    keys = list(columns)
    n = len(next(iter(columns.values()))) if keys else 0
    if not n:
        return []
    digests = {k: _objects(digest_column(columns[k])) for k in keys}
    present = np.zeros(n, dtype=np.int64)
    for bit, key in enumerate(keys):
        present |= (digests[key] != None).astype(np.int64) << bit  # noqa: E711 - elementwise
    out = np.empty(n, dtype=object)
    stamp = f'{{"by": {json.dumps(origin)}, "at": {json.dumps(at)}}}'
    for pattern in np.unique(present).tolist():
        names = [k for bit, k in enumerate(keys) if pattern >> bit & 1]
        where = np.flatnonzero(present == pattern)
        if not names:
            out[where] = '{"fields": {}, "seen": {}}'
            continue
        fields = _escaped(", ".join(f"{json.dumps(k)}: {stamp}" for k in names))
        seen = ", ".join(f'{_escaped(json.dumps(k))}: "%s"' for k in names)
        key = _escaped(json.dumps(origin))
        template = f'{{"fields": {{{fields}}}, "seen": {{{key}: {{{seen}}}}}}}'
        picked = [digests[name][where].tolist() for name in names]
        out[where] = [template % values for values in zip(*picked, strict=True)]
    return list(out.tolist())


def _escaped(text: str) -> str:
    """``text`` as literal text of a ``%`` template."""
    return text.replace("%", "%%")


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
