"""Join reached road pieces end to end into long lines, so that buffering them is cheap.

A service area is the union of the buffers of its reached pieces. On a street grid a
station reaches hundreds of pieces, four meeting at every crossing; unioning their
round-capped buffers costs most of a network run. The buffer of a line is the union of
the buffers of its segments (round caps and joins, the same arcs up to where the
vertices of an arc fall), so joining pieces that meet into one line and buffering the
lines gives the same area with a fraction of the overlaps: at each shared end the two
pieces that continue straightest are joined, then the next two, and so on.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["chains"]

_End = tuple[int, int]  # (piece, 0 for its first point or 1 for its last)


def chains(lines: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """``lines`` (LineStrings of positive length) joined where their ends coincide."""
    if len(lines) < 2:
        return lines
    coords = _coords(lines)
    joined = _pairs(coords)
    seen = np.zeros(len(coords), dtype=bool)
    out: list[Any] = []
    for start in range(len(coords)):
        if seen[start]:
            continue
        piece, entry = _chain_end(start, joined)
        points: list[npt.NDArray[np.float64]] = []
        while True:
            seen[piece] = True
            c = coords[piece] if entry == 0 else coords[piece][::-1]
            points.append(c if not points else c[1:])
            after = joined.get((piece, 1 - entry))
            if after is None or seen[after[0]]:
                break
            piece, entry = after
        out.append(np.concatenate(points))
    sizes = [len(c) for c in out]
    joined_lines: npt.NDArray[np.object_] = shapely.linestrings(
        np.concatenate(out), indices=np.repeat(np.arange(len(out)), sizes)
    )
    return joined_lines


def _coords(lines: npt.NDArray[np.object_]) -> list[npt.NDArray[np.float64]]:
    """Each line's coordinates, from one vectorised call."""
    xy, index = shapely.get_coordinates(lines, return_index=True)
    cuts = np.flatnonzero(np.diff(index)) + 1
    return np.split(xy, cuts)


def _pairs(coords: list[npt.NDArray[np.float64]]) -> dict[_End, _End]:
    """At every point where ends meet, pair them off straightest first."""
    at: dict[tuple[float, float], list[tuple[int, int, float]]] = {}
    for i, c in enumerate(coords):
        for side, (here, toward) in ((0, (c[0], c[1])), (1, (c[-1], c[-2]))):
            heading = math.atan2(toward[1] - here[1], toward[0] - here[0])
            at.setdefault((float(here[0]), float(here[1])), []).append((i, side, heading))
    joined: dict[_End, _End] = {}
    for meeting in at.values():
        while len(meeting) >= 2:
            a, b = _straightest(meeting)
            first, second = meeting[a], meeting[b]
            joined[first[:2]] = second[:2]
            joined[second[:2]] = first[:2]
            meeting = [m for k, m in enumerate(meeting) if k not in (a, b)]
    return joined


def _straightest(meeting: list[tuple[int, int, float]]) -> tuple[int, int]:
    """The two ends whose headings are closest to opposite (a straight continuation)."""
    best, pair = math.inf, (0, 1)
    for a in range(len(meeting)):
        for b in range(a + 1, len(meeting)):
            turn = abs(meeting[a][2] - meeting[b][2]) % (2 * math.pi)
            bend = abs(turn - math.pi)
            if bend < best:
                best, pair = bend, (a, b)
    return pair


def _chain_end(start: int, joined: dict[_End, _End]) -> _End:
    """Walk back from ``start`` to the end of its chain (or once round a loop)."""
    piece, entry = start, 0
    for _ in range(len(joined) + 1):
        before = joined.get((piece, entry))
        if before is None or before[0] == start:
            break
        piece, entry = before[0], 1 - before[1]
    return piece, entry
