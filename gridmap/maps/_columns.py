"""Property columns encoded whole and cut into chunks: :func:`encode_chunks`.

The encodings are those of :mod:`gridmap.maps._encode` (numbers as a list, digit
codes as deltas, repeated strings as a dictionary, other strings front-coded),
chosen per chunk exactly as :func:`gridmap.maps._encode.encode_column` chooses them
for that chunk alone. Here every decision and every encoded value is computed once
over the whole column with numpy; a chunk is then a few slices. A million units in
eight thousand cells take a second instead of twenty. Columns this module does not
recognise (numbers mixed with text, dates, ``pandas.NA``) go through
:func:`encode_values` (the reference, value by value) chunk by chunk.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["encode_chunks", "encode_values"]

IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]

_DIGITS: Final = re.compile(r"\d{1,15}")
#: A chunk with at most this share of distinct texts is written as a dictionary.
_DICT_RATIO: Final = 0.5
_NUMBERS: Final = (int, float, np.integer, np.floating, np.bool_)
_MISSING: Final = {type(None), float, np.float64}
#: Rows compared at once when front-coding (bounds the ``rows x longest text`` arrays).
_CELLS_PER_BLOCK: Final = 1 << 22


def encode_chunks(
    values: Sequence[object] | npt.NDArray[Any],
    bounds: Sequence[int] | IntArray,
    *,
    decimals: int = 1,
) -> list[Any]:
    """``encode_values(values[a:b])`` for each chunk ``a, b`` of consecutive ``bounds``.

    ``bounds`` runs from 0 to ``len(values)``, non-decreasing; ``decimals`` rounds numbers.
    """
    column = np.empty(len(values), dtype=object)
    column[:] = values if isinstance(values, np.ndarray) else list(values)
    edges = np.asarray(bounds, dtype=np.int64)
    missing = np.asarray(pd.isna(column), dtype=bool)
    kinds = set(map(type, column[~missing]))
    if set(map(type, column[missing])) <= _MISSING:  # what encode_values takes for missing
        if kinds <= {str}:
            return _Texts(column, missing, edges).chunks()
        if all(issubclass(k, _NUMBERS) for k in kinds):
            numbers = _numbers(column, missing, decimals)
            if numbers is not None:
                return _number_chunks(numbers, missing, edges)
    chunks = itertools.pairwise(edges.tolist())
    return [encode_values(list(column[a:b]), decimals=decimals) for a, b in chunks]


def encode_values(values: Sequence[object], *, decimals: int = 1) -> Any:
    """Encode one property column value by value (the reference :func:`encode_chunks` follows)."""
    present = [v for v in values if v is not None and not (isinstance(v, float) and math.isnan(v))]
    if present and all(_is_number(v) or isinstance(v, bool | np.bool_) for v in present):
        return [_number(v, decimals) for v in values]
    texts = [
        "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in values
    ]
    codes = _digit_codes(texts)
    if codes is not None:
        return codes
    unique = list(dict.fromkeys(texts))
    if len(unique) <= max(1, int(len(texts) * _DICT_RATIO)):
        index = {text: i for i, text in enumerate(unique)}
        return {"d": unique, "i": [index[t] for t in texts]}
    return _front_coded(texts)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | np.integer | np.floating) and not isinstance(value, bool)


def _number(value: object, decimals: int) -> float | int | None:
    if value is None or (isinstance(value, float | np.floating) and math.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return int(value)
    number = float(value)  # type: ignore[arg-type]
    rounded = round(number, decimals)
    return int(rounded) if rounded.is_integer() else rounded


def _is_digits(text: str) -> bool:
    return _DIGITS.fullmatch(text) is not None


def _digit_codes(texts: list[str]) -> dict[str, Any] | None:
    if not texts or not all(_is_digits(t) for t in texts):
        return None
    width = len(texts[0])
    if any(len(t) != width for t in texts):
        return None
    values = np.array([int(t) for t in texts], dtype=np.int64)
    return {"n": width, "v": np.diff(values, prepend=0).tolist()}


def _front_coded(texts: list[str]) -> dict[str, Any]:
    heads, tails = _affixes_by_loop(texts)
    flat: list[Any] = []
    for text, head, tail in zip(texts, heads.tolist(), tails.tolist(), strict=True):
        flat += [head, tail, text[head : len(text) - tail]]
    return {"f": flat}


def _numbers(column: ObjectArray, missing: npt.NDArray[np.bool_], decimals: int) -> Any:
    """Each value as ``round(float(v), decimals)``, an int when whole, None when missing."""
    given = column.copy()
    given[missing] = np.nan
    x = given.astype(np.float64)
    rounded = np.round(x, decimals)
    # np.round scales by 10**decimals first; a product that lands next to .5 may round the
    # other way than Python's correctly rounded round(): those few are redone by Python.
    scaled = x * 10.0**decimals
    fraction = np.abs(scaled - np.trunc(scaled))
    close = np.abs(fraction - 0.5) <= 4 * np.spacing(np.abs(scaled))
    for i in np.flatnonzero(close & ~missing).tolist():
        rounded[i] = round(float(x[i]), decimals)
    whole = np.isfinite(rounded) & (rounded == np.floor(rounded))
    if np.any(np.abs(rounded[whole]) >= 2.0**62):
        return None  # beyond int64: the per-value encoder converts exactly
    out: ObjectArray = rounded.astype(object)
    out[whole] = rounded[whole].astype(np.int64).astype(object)
    out[missing] = None
    return out


def _empty_chunk(n: int) -> dict[str, Any]:
    """A chunk with nothing in it: every value the empty text."""
    return {"d": [""] if n else [], "i": [0] * n}


def _number_chunks(
    numbers: ObjectArray, missing: npt.NDArray[np.bool_], edges: IntArray
) -> list[Any]:
    present = np.concatenate([[0], np.cumsum(~missing)])
    out: list[Any] = []
    for a, b in itertools.pairwise(edges.tolist()):
        out.append(numbers[a:b].tolist() if present[b] > present[a] else _empty_chunk(b - a))
    return out


class _Texts:
    """A text column (missing values as ``""``) with its chunks' encodings."""

    def __init__(
        self,
        column: ObjectArray,
        missing: npt.NDArray[np.bool_],
        edges: IntArray,
    ) -> None:
        texts = column.copy()
        texts[missing] = ""
        self.texts = texts
        self.edges = edges
        self.codes, uniques = pd.factorize(texts)
        self.uniques: list[str] = list(uniques)
        self.lengths = np.diff(edges)
        self.chunk_of = np.repeat(np.arange(len(self.lengths)), self.lengths)
        # str.isdigit holds for every \d (and a few more, such as "²"): a cheap first sieve
        self.digits = np.array(list(map(str.isdigit, self.uniques)), dtype=bool)
        for i in np.flatnonzero(self.digits).tolist():
            self.digits[i] = _is_digits(self.uniques[i])
        self.widths = np.array(list(map(len, self.uniques)), dtype=np.int64)

    def chunks(self) -> list[Any]:
        digit = self._digit_chunks()
        distinct, local, group_texts, group_start = self._dictionary()
        out: list[Any] = []
        front: list[int] = []  # chunks front-coded: filled in below, all at once
        for c, (a, b) in enumerate(itertools.pairwise(self.edges.tolist())):
            if digit[c] is not None:
                out.append(digit[c])
            elif distinct[c] <= max(1, int((b - a) * _DICT_RATIO)):
                start = group_start[c]
                names = group_texts[start : start + distinct[c]].tolist()
                out.append({"d": names, "i": local[a:b].tolist()})
            else:
                out.append(None)
                front.append(c)
        for c, flat in zip(front, self._front_coded(np.array(front, dtype=np.int64)), strict=True):
            out[c] = {"f": flat}
        return out

    def _digit_chunks(self) -> list[dict[str, Any] | None]:
        """``{"n": width, "v": deltas}`` for chunks of digit codes of one width, else None."""
        out: list[dict[str, Any] | None] = [None] * len(self.lengths)
        if not self.digits.any():
            return out
        is_digit = self.digits[self.codes]
        width = self.widths[self.codes]
        full = self.lengths > 0
        starts = self.edges[:-1][full]
        all_digits = np.add.reduceat(is_digit.astype(np.int64), starts) == self.lengths[full]
        one_width = np.minimum.reduceat(width, starts) == np.maximum.reduceat(width, starts)
        numbers = np.array(
            [int(u) if d else 0 for u, d in zip(self.uniques, self.digits, strict=True)]
        )
        values = numbers.astype(np.int64)[self.codes]
        deltas = values.copy()
        deltas[1:] -= values[:-1]
        deltas[starts] = values[starts]
        for c, ok in zip(
            np.flatnonzero(full).tolist(), (all_digits & one_width).tolist(), strict=True
        ):
            if ok:
                a, b = int(self.edges[c]), int(self.edges[c + 1])
                out[c] = {"n": int(width[a]), "v": deltas[a:b].tolist()}
        return out

    def _dictionary(self) -> tuple[IntArray, IntArray, ObjectArray, IntArray]:
        """Distinct texts per chunk, each value's index among them, in first-seen order."""
        key = self.chunk_of * max(1, len(self.uniques)) + self.codes
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        first = np.ones(len(ordered), dtype=bool)
        first[1:] = ordered[1:] != ordered[:-1]
        group = np.empty(len(key), dtype=np.int64)
        group[order] = np.cumsum(first) - 1
        first_at = order[first]  # stable: each group's first position in the column
        by_first = np.argsort(first_at, kind="stable")
        rank = np.empty(len(first_at), dtype=np.int64)
        rank[by_first] = np.arange(len(first_at))
        distinct = np.bincount(self.chunk_of[first_at], minlength=len(self.lengths))
        group_start = np.concatenate([[0], np.cumsum(distinct)[:-1]]).astype(np.int64)
        local = rank[group] - group_start[self.chunk_of]
        names = np.array(self.uniques, dtype=object)
        group_texts: ObjectArray = names[self.codes[first_at[by_first]]]
        return distinct, local, group_texts, group_start

    def _front_coded(self, chunks: IntArray) -> list[list[Any]]:
        """``head, tail, middle`` of each value of ``chunks`` against the one before it."""
        if len(chunks) == 0:
            return []
        sizes = self.lengths[chunks]
        edges = np.concatenate([[0], np.cumsum(sizes)])
        at = np.repeat(self.edges[chunks] - edges[:-1], sizes) + np.arange(edges[-1])
        codes = self.codes[at]
        texts: list[str] = np.array(self.uniques, dtype=object)[codes].tolist()
        if any("\x00" in u for u in self.uniques):  # numpy's fixed-width text drops NULs
            heads, tails = _affixes_by_loop(texts)
        else:
            backwards = np.array([u[::-1] for u in self.uniques], dtype=object)
            heads = _common_prefix(texts)
            tails = _common_prefix(backwards[codes].tolist())
        lengths = self.widths[codes]
        limit = np.zeros(len(texts), dtype=np.int64)
        limit[1:] = np.minimum(lengths[1:], lengths[:-1])
        limit[edges[:-1]] = 0  # a chunk starts against ""
        heads = np.minimum(heads, limit)
        tails = np.minimum(tails, limit - heads)
        flat = np.empty(3 * len(texts), dtype=object)
        flat[0::3] = heads.astype(object)
        flat[1::3] = tails.astype(object)
        ends = (lengths - tails).tolist()
        flat[2::3] = [t[h:e] for t, h, e in zip(texts, heads.tolist(), ends, strict=True)]
        return [flat[3 * a : 3 * b].tolist() for a, b in itertools.pairwise(edges.tolist())]


def _common_prefix(texts: list[str]) -> IntArray:
    """Characters each text shares at its start with the text before it (0 for the first)."""
    out = np.zeros(len(texts), dtype=np.int64)
    if len(texts) < 2:
        return out
    width = max(1, max(map(len, texts)))
    block = max(2, _CELLS_PER_BLOCK // width)
    for a in range(0, len(texts) - 1, block - 1):
        rows = np.array(texts[a : a + block], dtype=f"<U{width}").view(np.uint32)
        rows = rows.reshape(-1, width)
        same = rows[1:] == rows[:-1]
        shared = np.where(same.all(axis=1), width, same.argmin(axis=1))
        out[a + 1 : a + len(rows)] = shared
    return out


def _affixes_by_loop(texts: list[str]) -> tuple[IntArray, IntArray]:
    heads = np.zeros(len(texts), dtype=np.int64)
    tails = np.zeros(len(texts), dtype=np.int64)
    for i in range(1, len(texts)):
        text, previous = texts[i], texts[i - 1]
        limit = min(len(text), len(previous))
        head = 0
        while head < limit and text[head] == previous[head]:
            head += 1
        tail = 0
        while tail < limit - head and text[-1 - tail] == previous[-1 - tail]:
            tail += 1
        heads[i], tails[i] = head, tail
    return heads, tails
