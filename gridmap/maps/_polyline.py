"""Integers in the printable variable-length code of Google's "encoded polyline" format."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["polyline", "polyline_chunks"]

IntArray = npt.NDArray[np.int64]

#: Below this many values the plain loop is faster than the array code.
_SHORT = 128
#: 5-bit groups of a 64-bit value.
_GROUPS = np.arange(13, dtype=np.int64) * 5


def polyline(values: Sequence[int] | IntArray) -> str:
    """Write integers with the encoded-polyline code (5-bit groups, offset 63)."""
    if len(values) < _SHORT:
        return _polyline_loop([int(v) for v in values])
    return _polyline_codes(np.asarray(values, dtype=np.int64))[0]


def polyline_chunks(values: IntArray, bounds: IntArray) -> list[str]:
    """``polyline(values[a:b])`` for each chunk ``a, b`` of consecutive ``bounds``, coded once."""
    if len(values) == 0:
        return ["" for _ in range(len(bounds) - 1)]
    text, counts = _polyline_codes(values)
    offsets = np.concatenate([[0], np.cumsum(counts)])[bounds].tolist()
    return [text[a:b] for a, b in itertools.pairwise(offsets)]


def _polyline_codes(values: IntArray) -> tuple[str, IntArray]:
    """The code of ``values`` (at least one) and how many characters each value took."""
    v = np.where(values < 0, ~(values << 1), values << 1)
    shifts = _GROUPS[: max(1, (int(v.max()).bit_length() + 4) // 5)]
    rest = v[:, None] >> shifts
    count = np.maximum(1, np.count_nonzero(rest, axis=1))
    position = np.arange(len(shifts))
    codes = (rest & 0x1F) + 63 + np.where(position < (count - 1)[:, None], 0x20, 0)
    used = position < count[:, None]
    text: str = codes[used].astype(np.uint8).tobytes().decode("ascii")
    return text, count


def _polyline_loop(values: list[int]) -> str:
    out: list[str] = []
    for value in values:
        v = ~(value << 1) if value < 0 else value << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)
