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

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["chains"]


def chains(lines: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """``lines`` (LineStrings of positive length) joined where their ends coincide."""
    if len(lines) < 2:
        return lines
    xy, index = shapely.get_coordinates(lines, return_index=True)
    first = np.searchsorted(index, np.arange(len(lines) + 1))
    partner = _pairs(xy, first)
    steps = int((partner >= 0).sum()) + 1  # at most once round every join
    seen = np.zeros(len(lines), dtype=bool)
    order: list[int] = []  # the pieces of each chain in turn, and the way each runs
    entries: list[int] = []
    chain_of: list[int] = []
    for start in range(len(lines)):
        if seen[start]:
            continue
        piece, entry = _chain_end(start, partner, steps)
        chain = len(chain_of) and chain_of[-1] + 1
        while True:
            seen[piece] = True
            order.append(piece)
            entries.append(entry)
            chain_of.append(chain)
            after = int(partner[2 * piece + 1 - entry])
            if after < 0 or seen[after >> 1]:
                break
            piece, entry = after >> 1, after & 1
    joined_lines: npt.NDArray[np.object_] = _joined(xy, first, order, entries, chain_of)
    return joined_lines


def _joined(
    xy: npt.NDArray[np.float64],
    first: npt.NDArray[np.intp],
    order: list[int],
    entries: list[int],
    chain_of: list[int],
) -> npt.NDArray[np.object_]:
    """The chains as LineStrings: each piece's points in its direction, the point it
    shares with the piece before it given once."""
    piece = np.asarray(order, dtype=np.intp)
    backward = np.asarray(entries, dtype=bool)
    chain = np.asarray(chain_of, dtype=np.intp)
    opens = np.r_[True, chain[1:] != chain[:-1]]
    size = first[piece + 1] - first[piece] - ~opens  # a continuing piece drops its first point
    position = np.arange(int(size.sum())) - np.repeat(np.cumsum(size) - size, size)
    skip = np.repeat((~opens).astype(np.intp), size)
    step = position + skip  # the point's place along the piece, in the piece's direction
    last = np.repeat(first[piece + 1] - 1, size)
    at = np.where(np.repeat(backward, size), last - step, np.repeat(first[piece], size) + step)
    joined: npt.NDArray[np.object_] = shapely.linestrings(xy[at], indices=np.repeat(chain, size))
    return joined


def _pairs(xy: npt.NDArray[np.float64], first: npt.NDArray[np.intp]) -> npt.NDArray[np.int64]:
    """At every point where ends meet, pair them off straightest first.

    Ends are numbered ``2 * piece + side`` (0 its first point, 1 its last); the answer
    gives each end the end it is joined to, or -1. The ends meeting at one point are
    taken in that order, and of equally straight pairs the first (as a loop over the
    pairs in order would find it), so the pairing does not depend on how it is computed.
    """
    n = len(first) - 1
    here = np.empty((2 * n, 2))
    toward = np.empty((2 * n, 2))
    here[0::2], toward[0::2] = xy[first[:-1]], xy[first[:-1] + 1]
    here[1::2], toward[1::2] = xy[first[1:] - 1], xy[first[1:] - 2]
    dx, dy = (toward - here).T
    heading = np.fromiter(map(math.atan2, dy.tolist(), dx.tolist()), dtype=np.float64, count=2 * n)
    _, meeting = np.unique(here + 0.0, axis=0, return_inverse=True)  # + 0.0: -0.0 is 0.0
    meeting = meeting.ravel()
    ends = np.argsort(meeting, kind="stable")  # per meeting point, its ends in order
    starts = np.searchsorted(meeting[ends], np.arange(int(meeting.max()) + 2))
    degree = np.diff(starts)
    partner = np.full(2 * n, -1, dtype=np.int64)
    for d in np.unique(degree[degree >= 2]):
        at = np.flatnonzero(degree == d)
        group = ends[starts[at][:, None] + np.arange(d)]
        _pair_off(group, heading[group], partner)
    return partner


def _pair_off(
    group: npt.NDArray[np.intp], heading: npt.NDArray[np.float64], partner: npt.NDArray[np.int64]
) -> None:
    """Pair the ends of meetings of one size (rows of ``group``), straightest first."""
    a, b = np.triu_indices(group.shape[1], k=1)  # every pair, in loop order
    turn = np.abs(heading[:, a] - heading[:, b]) % (2 * math.pi)
    bend = np.abs(turn - math.pi)
    alive = np.ones(group.shape, dtype=bool)
    rows = np.arange(len(group))
    for _ in range(group.shape[1] // 2):
        free = np.where(alive[:, a] & alive[:, b], bend, np.inf)
        best = np.argmin(free, axis=1)
        one, other = group[rows, a[best]], group[rows, b[best]]
        partner[one], partner[other] = other, one
        alive[rows, a[best]] = alive[rows, b[best]] = False


def _chain_end(start: int, partner: npt.NDArray[np.int64], steps: int) -> tuple[int, int]:
    """Walk back from ``start`` to the end of its chain (or once round a loop)."""
    piece, entry = start, 0
    for _ in range(steps):
        before = int(partner[2 * piece + entry])
        if before < 0 or before >> 1 == start:
            break
        piece, entry = before >> 1, 1 - (before & 1)
    return piece, entry
