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
    """The code of ``values`` and how many characters (5-bit groups) each value took.

    One pass per group position over the values that have that many groups: most
    deltas take one to three characters, so no values x 13 table is built.
    """
    v = np.where(values < 0, ~(values << 1), values << 1)
    count = np.ones(len(v), dtype=np.int64)
    for shift in _GROUPS[1:].tolist():
        longer = v >= (1 << shift)
        if not longer.any():
            break
        count += longer
    starts = np.cumsum(count) - count
    out = np.empty(int(count.sum()), dtype=np.uint8)
    for group in range(int(count.max(initial=0))):
        at = np.flatnonzero(count > group) if group else np.arange(len(v))
        more = np.where(count[at] - 1 > group, 0x20, 0)
        out[starts[at] + group] = ((v[at] >> (5 * group)) & 0x1F) + 63 + more
    text: str = out.tobytes().decode("ascii")
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
