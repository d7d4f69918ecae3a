"""The units of a summed map as typed columns in one gzip blob (:func:`pack_units`).

A summed map (:mod:`gridmap.maps._by_cell`) carries every unit for the page to draw
cell by cell when zoomed in. At a million units JSON chunks of delta-coded texts were
13 MB compressed; binary columns that deflate well are half of that. The units are
sorted by cell code (one chunk per cell) and written as:

* **Coordinates** quantised to ``10**-precision`` degrees, each unit's offset from
  its chunk's minimum (``x - bx[chunk]``: offsets within a cell are smaller than
  deltas between neighbours), the chunk minima from the smallest of all.
* **Columns** as dictionaries: the distinct values (text, numbers rounded as
  :func:`gridmap.maps._columns.encode_values` rounds them, ``null`` for missing)
  in a table, each unit's code (0 for missing, else table index + 1). Columns of
  few distinct values (kind, status, yes/no) share one byte in mixed radix.
* **Names** with many distinct values split as ``head number tail``: the last run
  of ASCII digits (no leading zero, at most 9 digits) is a number delta-coded from
  the unit before (``十里村12号楼`` then ``十里村15号楼``: head ``十里村``, +3, tail
  ``号楼``); heads and tails are dictionaries. A name without such a number is all head.
* A column equal to another by a rule the page knows (``_alert`` is 1 exactly where
  ``must_have_branch`` is true) is written as that rule.

Every integer array is unsigned little-endian of the smallest width (1, 2 or 4 bytes)
and stored byte plane by byte plane (all low bytes, then the next...): deflate
then sees runs of small high bytes. The blob is ``uint32 header length``, the header
(UTF-8 JSON: counts, tables, where each array is) and the arrays; the page inflates
it with the browser's ``DecompressionStream`` (``assets/gridmap/gridmap.js``,
``unpackUnits``).
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.maps._by_cell import _keys
from gridmap.maps._columns import _number, _numbers

__all__ = ["pack_units", "unpack_units"]

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]

#: A text column with more distinct values than this is split into head, number, tail.
_NAME_DISTINCT: Final = 4096
#: Columns with at most this many codes (distinct values + missing) share bytes.
_SMALL: Final = 16
_NAME: Final = re.compile(r"(.*?)([1-9][0-9]{0,8}|0)([^0-9]*)", re.DOTALL)
_NUMBERS: Final = (int, float, np.integer, np.floating, np.bool_)
#: Longest number of a name (so that number + 1 stays below 2**31 for the page).
_MAX_DIGITS: Final = 9
#: Code points split at once (bounds the ``texts x longest text`` matrices).
_CELLS_PER_BLOCK: Final = 1 << 22


class _Blob:
    """The arrays of a blob, each an entry ``[offset, width, count]`` of its header."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def add(self, values: npt.NDArray[Any]) -> list[int]:
        """Append unsigned ``values`` byte plane by byte plane; their header entry."""
        v = np.asarray(values, dtype=np.int64)
        if len(v) and int(v.min()) < 0:
            msg = "blob arrays hold unsigned integers"
            raise ValueError(msg)
        top = int(v.max()) if len(v) else 0
        if top >= 2**32:
            msg = f"blob arrays hold 32-bit integers, got {top}"
            raise ValueError(msg)
        width = 1 if top < 2**8 else 2 if top < 2**16 else 4
        data = v.astype(f"<u{width}").view(np.uint8).reshape(-1, width).T.tobytes()
        entry = [self.size, width, len(v)]
        self.parts.append(data)
        self.size += len(data)
        return entry


def _dictionary(column: Sequence[object] | ObjectArray) -> tuple[IntArray, list[Any], bool]:
    """Each value's code (0: missing, else 1 + its index in the table), the table (the
    distinct values the page shows, in first-seen order) and whether they are all texts.

    Numbers are rounded as the JSON columns round them (:func:`encode_values`), other
    values shown as ``str``, missing ones (None, NaN) as None. The column is factorised
    first, so conversions run once per distinct value, not once per unit.
    """
    values = np.empty(len(column), dtype=object)
    values[:] = column if isinstance(column, np.ndarray) else list(column)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)  # None, NaN: -1
    distinct = np.asarray(uniques, dtype=object)
    kinds = set(map(type, distinct))
    if kinds <= {str}:
        out: IntArray = np.asarray(codes, dtype=np.int64) + 1
        return out, distinct.tolist(), True
    numbers = all(issubclass(k, _NUMBERS) for k in kinds)
    if not numbers:  # texts and numbers: 1 and True were one key, "1" and "True" are two
        present = codes >= 0
        values[present] = [str(v) for v in values[present].tolist()]
        return _dictionary(values)
    shown = _plain_numbers(distinct)
    again, table = pd.factorize(shown, use_na_sentinel=True)  # rounding may merge values
    lookup = np.concatenate([[0], np.asarray(again, dtype=np.int64) + 1])
    out = lookup[np.asarray(codes, dtype=np.int64) + 1]
    return out, [_json_scalar(v) for v in table.tolist()], False


def _plain_numbers(uniques: ObjectArray) -> ObjectArray:
    """Distinct numbers as the page shows them (rounded to one decimal, whole ones as int)."""
    rounded = _numbers(uniques, np.zeros(len(uniques), dtype=bool), 1)
    if rounded is None:  # beyond int64: converted exactly, one by one
        rounded = np.array([_number(v, 1) for v in uniques.tolist()], dtype=object)
    return rounded  # type: ignore[no-any-return]


def _json_scalar(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


class _Streams:
    """Code arrays of the columns; small ones packed together into bytes (mixed radix)."""

    def __init__(self) -> None:
        self.codes: list[IntArray] = []
        self.radix: list[int] = []

    def add(self, codes: IntArray, radix: int) -> int:
        self.codes.append(codes)
        self.radix.append(max(1, radix))
        return len(self.codes) - 1

    def write(self, blob: _Blob) -> list[list[Any]]:
        """``[array, divisor, radix]`` of each stream: ``code = floor(v / divisor) % radix``."""
        out: list[list[Any]] = [[]] * len(self.codes)
        small = sorted(
            (i for i, r in enumerate(self.radix) if r <= _SMALL), key=lambda i: self.radix[i]
        )
        groups: list[list[int]] = []
        for i in small:
            if groups and _product(self.radix[j] for j in groups[-1]) * self.radix[i] <= 256:
                groups[-1].append(i)
            else:
                groups.append([i])
        for group in groups:
            packed = np.zeros(len(self.codes[group[0]]), dtype=np.int64)
            divisor = 1
            divisors = []
            for i in group:
                packed += self.codes[i] * divisor
                divisors.append(divisor)
                divisor *= self.radix[i]
            entry = blob.add(packed)
            for i, d in zip(group, divisors, strict=True):
                out[i] = [entry, d, self.radix[i]]
        for i, r in enumerate(self.radix):
            if r > _SMALL:
                out[i] = [blob.add(self.codes[i]), 1, r]
        return out


def _product(values: Any) -> int:
    result = 1
    for v in values:
        result *= v
    return result


def _zigzag(values: IntArray) -> IntArray:
    zigzag: IntArray = (values << 1) ^ (values >> 63)
    return zigzag


def _name_parts(texts: list[str]) -> tuple[list[str], IntArray, list[str]]:
    """Head, number + 1 (0: none) and tail of each text, as :data:`_NAME` splits it.

    Vectorised on the texts' code points (rows of a ``uint32`` matrix, in blocks): the
    number is the last run of ASCII digits from its first non-zero digit among its last
    nine (else its last digit, a ``0``). Texts holding a NUL, which numpy's fixed-width
    strings would drop, are split by the regular expression.
    """
    n = len(texts)
    heads: list[str] = [""] * n
    tails: list[str] = [""] * n
    numbers = np.zeros(n, dtype=np.int64)
    odd: list[int] = []
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=n)
    width = max(1, int(lengths.max())) if n else 1
    block = max(1, _CELLS_PER_BLOCK // width)
    for a in range(0, n, block):
        part = np.array(texts[a : a + block], dtype=f"<U{width}")
        chars = part.view(np.uint32).reshape(len(part), width)
        h, k, t = _split_block(chars, width)
        heads[a : a + len(part)], tails[a : a + len(part)] = h, t
        numbers[a : a + len(part)] = k
        within = np.arange(width)[None, :] < lengths[a : a + len(part), None]
        odd += (a + np.flatnonzero(np.any((chars == 0) & within, axis=1))).tolist()
    for i in odd:
        m = _NAME.fullmatch(texts[i])
        if m is None:
            heads[i], tails[i], numbers[i] = texts[i], "", 0
        else:
            heads[i], tails[i] = m.group(1), m.group(3)
            numbers[i] = int(m.group(2)) + 1
    return heads, numbers, tails


def _split_block(
    chars: npt.NDArray[np.uint32], width: int
) -> tuple[list[str], IntArray, list[str]]:
    """:func:`_name_parts` of one block of texts as code points (0-padded rows)."""
    rows = len(chars)
    at = np.arange(width, dtype=np.int32)[None, :]
    digit = (chars >= ord("0")) & (chars <= ord("9"))
    has = np.asarray(np.any(digit, axis=1), dtype=bool)
    end = np.where(has, width - np.argmax(digit[:, ::-1], axis=1), 0).astype(np.int32)
    before = ~digit & (at < end[:, None])
    start = np.where(before.any(axis=1), width - np.argmax(before[:, ::-1], axis=1), 0)
    lowest = np.maximum(start, end - _MAX_DIGITS).astype(np.int32)[:, None]
    lead = (at >= lowest) & (at < end[:, None]) & (chars != ord("0"))
    first = np.where(lead.any(axis=1), np.argmax(lead, axis=1), end - 1)
    first = np.where(has, first, width).astype(np.int32)  # no digit: all head
    # the number: its (at most nine) digits, read from a window ending at the run's end
    window = end[:, None] - _MAX_DIGITS + np.arange(_MAX_DIGITS, dtype=np.int32)[None, :]
    picked = np.take_along_axis(chars, np.clip(window, 0, width - 1), axis=1)
    digits = np.where(window >= first[:, None], picked.astype(np.int64) - ord("0"), 0)
    value = digits @ (10 ** np.arange(_MAX_DIGITS - 1, -1, -1, dtype=np.int64))
    numbers: IntArray = np.where(has, value + 1, 0)
    zero = np.uint32(0)
    head = np.where(at < first[:, None], chars, zero)
    shifted = at + end[:, None]
    tail = np.take_along_axis(chars, np.minimum(shifted, width - 1), axis=1)
    tail = np.where((shifted < width) & has[:, None], tail, zero)
    as_text = f"<U{width}"
    heads: list[str] = np.ascontiguousarray(head).view(as_text).reshape(rows).tolist()
    tails: list[str] = np.ascontiguousarray(tail).view(as_text).reshape(rows).tolist()
    return heads, numbers, tails


def _column_spec(
    name: str,
    coded: tuple[IntArray, list[Any], bool],
    streams: _Streams,
    blob: _Blob,
    columns: Mapping[str, tuple[IntArray, list[Any], bool]],
) -> dict[str, Any]:
    codes, table, texts = coded
    if name == "_alert" and "must_have_branch" in columns:
        must_codes, must_table, _ = columns["must_have_branch"]
        rule = np.array([0] + [1 if v == 1 else 0 for v in must_table], dtype=object)[must_codes]
        shown = np.array([None, *table], dtype=object)[codes]
        if bool(np.all(shown == rule)):
            return {"t": "flag", "of": "must_have_branch"}
    if texts and len(table) + 1 > _NAME_DISTINCT:
        heads, numbers, tails = _name_parts(table)
        head_of, head_table, _ = _dictionary(heads)
        tail_of, tail_table, _ = _dictionary(tails)
        per_unit = codes - 1
        present = codes > 0
        unit_numbers = np.where(present, numbers[per_unit], 0)
        deltas = np.diff(unit_numbers, prepend=0)
        return {
            "t": "name",
            "h": streams.add(np.where(present, head_of[per_unit], 0), len(head_table) + 1),
            "hd": head_table,
            "k": blob.add(_zigzag(deltas)),
            "tl": streams.add(np.where(present, tail_of[per_unit], 0), len(tail_table) + 1),
            "td": tail_table,
        }
    return {"t": "dict", "s": streams.add(codes, len(table) + 1), "d": table}


def pack_units(
    codes: Sequence[object] | ObjectArray,
    columns: Mapping[str, Sequence[object] | ObjectArray],
    lon: FloatArray,
    lat: FloatArray,
    precision: int,
) -> str:
    """The units as a gzip blob in base64 (see the module docstring).

    ``codes`` (cell codes), ``columns``, ``lon`` and ``lat`` are per unit, already
    sorted by code; a missing code is the chunk ``""`` (units in no cell).
    """
    keys = _keys(codes)
    n = len(keys)
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1 if n else np.zeros(0, dtype=np.int64)
    bounds = np.concatenate([[0], change, [n]]).astype(np.int64) if n else np.zeros(1, np.int64)
    sizes = np.diff(bounds)
    chunk = np.repeat(np.arange(len(sizes)), sizes)
    scale = 10.0**precision
    blob = _Blob()
    header: dict[str, Any] = {"n": n, "p": precision, "codes": keys[bounds[:-1]].tolist()}
    header["sizes"] = blob.add(sizes)
    for axis, values in (("x", lon), ("y", lat)):
        q = np.rint(np.asarray(values, dtype=np.float64) * scale).astype(np.int64)
        base = np.minimum.reduceat(q, bounds[:-1]) if n else np.zeros(0, np.int64)
        origin = int(base.min()) if n else 0
        header[f"{axis}0"] = origin
        header[f"b{axis}"] = blob.add(base - origin)
        header[axis] = blob.add(q - base[chunk])
    streams = _Streams()
    coded = {k: _dictionary(v) for k, v in columns.items()}
    header["cols"] = {k: _column_spec(k, v, streams, blob, coded) for k, v in coded.items()}
    header["streams"] = streams.write(blob)
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    head_bytes = head.encode("utf-8")
    raw = b"".join([struct.pack("<I", len(head_bytes)), head_bytes, *blob.parts])
    return base64.b64encode(gzip.compress(raw, compresslevel=6, mtime=0)).decode("ascii")


def unpack_units(packed: str) -> dict[str, Any]:
    """Decode :func:`pack_units` in Python (the page's decoder, for tests and tools).

    Returns ``codes`` (one per chunk), ``sizes``, ``x``/``y`` (quantised integers per
    unit) and ``columns`` (the values per unit, missing as None).
    """
    raw = gzip.decompress(base64.b64decode(packed))
    (length,) = struct.unpack_from("<I", raw)
    header = json.loads(raw[4 : 4 + length].decode("utf-8"))
    body = memoryview(raw)[4 + length :]

    def array(entry: list[int]) -> IntArray:
        offset, width, count = entry
        planes = np.frombuffer(body[offset : offset + width * count], dtype=np.uint8)
        joined = np.ascontiguousarray(planes.reshape(width, count).T)
        return joined.view(f"<u{width}").reshape(count).astype(np.int64)

    sizes = array(header["sizes"])
    chunk = np.repeat(np.arange(len(sizes)), sizes)
    xy = {
        axis: array(header[axis]) + (array(header[f"b{axis}"]) + header[f"{axis}0"])[chunk]
        for axis in ("x", "y")
    }

    def stream(index: int) -> IntArray:
        entry, divisor, radix = header["streams"][index]
        return (array(entry) // divisor) % radix  # type: ignore[no-any-return]

    def lookup(codes: IntArray, table: list[Any]) -> list[Any]:
        full = [None, *table]
        return [full[c] for c in codes.tolist()]

    out: dict[str, list[Any]] = {}
    for name, spec in header["cols"].items():
        if spec["t"] == "dict":
            out[name] = lookup(stream(spec["s"]), spec["d"])
        elif spec["t"] == "name":
            heads = lookup(stream(spec["h"]), spec["hd"])
            tails = lookup(stream(spec["tl"]), spec["td"])
            z = array(spec["k"])
            numbers = np.cumsum((z >> 1) ^ -(z & 1))
            out[name] = [
                None if h is None else h + (str(k - 1) if k else "") + (t or "")
                for h, k, t in zip(heads, numbers.tolist(), tails, strict=True)
            ]
    for name, spec in header["cols"].items():
        if spec["t"] == "flag":
            out[name] = [1 if v == 1 else 0 for v in out[spec["of"]]]
    return {"codes": header["codes"], "sizes": sizes, **xy, "columns": out}
