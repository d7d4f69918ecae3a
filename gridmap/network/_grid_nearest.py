"""The nearest segment of many points, by a ring search over a uniform grid (numba).

The segments are bucketed into square cells of about ``side`` metres (each into every
cell its bounding box meets). A point looks at its own cell, then at the ring of cells
around it, and so on: a segment in no cell looked at lies outside the square looked
at, so it is at least as far as the square's nearest side. The search stops once that
bound exceeds the nearest segment found (by more than a rounding error); the answer is
*proven* when, in addition, no other segment is as near (a tie). Points outside the
grid, points whose rings reach ``max_rings`` and ties are left unproven, for the caller
to ask the STRtree (:mod:`gridmap.network.snap`). The kernel is compiled on first use
and cached on disk.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from gridmap._numba import compile_kernel

__all__ = ["SegmentGrid"]


FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Relative rounding margin: a segment nearer than ``(1 + 1e-9) d + 1e-9`` ties.
MARGIN = 1e-9


class SegmentGrid:
    """Segments ``start[i] -> end[i]`` bucketed into a grid of square cells."""

    def __init__(self, start: FloatArray, end: FloatArray, *, max_cells: int = 4_000_000) -> None:
        low = np.minimum(start, end).min(axis=0)
        high = np.maximum(start, end).max(axis=0)
        extent = np.maximum(high - low, 1.0)
        # about one segment per cell, but not more cells than max_cells
        side = float(max(np.sqrt(extent[0] * extent[1] / max(len(start), 1)), 1.0))
        side = max(side, float(np.sqrt(extent[0] * extent[1] / max_cells)))
        self.x0, self.y0, self.side = float(low[0]), float(low[1]), side
        self.nx = int(extent[0] // side) + 1
        self.ny = int(extent[1] // side) + 1
        self.start, self.end = start, end
        self.indptr, self.members = _compiled("bucket")(
            start, end, self.x0, self.y0, side, self.nx, self.ny
        )

    def nearest(self, px: FloatArray, py: FloatArray, max_rings: int) -> tuple[IntArray, BoolArray]:
        """The nearest segment of each point, and whether it is proven (see the module)."""
        segment = np.full(px.size, -1, dtype=np.int64)
        proven = np.zeros(px.size, dtype=bool)
        _compiled("search")(
            px, py, self.start, self.end, self.indptr, self.members,
            self.x0, self.y0, self.side, self.nx, self.ny, max_rings, MARGIN, segment, proven,
        )  # fmt: skip
        return segment, proven


def _bucket(
    start: Any, end: Any, x0: float, y0: float, side: float, nx: int, ny: int
) -> tuple[Any, Any]:
    """CSR of the segments in each cell (cell ``j * nx + i``), segments in order."""
    n = start.shape[0]
    span = np.empty((n, 4), np.int64)
    counts = np.zeros(nx * ny + 1, np.int64)
    for s in range(n):
        ax, ay, bx, by = start[s, 0], start[s, 1], end[s, 0], end[s, 1]
        i0 = min(max(int((min(ax, bx) - x0) // side), 0), nx - 1)
        i1 = min(max(int((max(ax, bx) - x0) // side), 0), nx - 1)
        j0 = min(max(int((min(ay, by) - y0) // side), 0), ny - 1)
        j1 = min(max(int((max(ay, by) - y0) // side), 0), ny - 1)
        span[s, 0], span[s, 1], span[s, 2], span[s, 3] = i0, i1, j0, j1
        for j in range(j0, j1 + 1):
            for i in range(i0, i1 + 1):
                counts[j * nx + i + 1] += 1
    indptr = np.cumsum(counts)
    fill = indptr[:-1].copy()
    members = np.empty(indptr[-1], np.int64)
    for s in range(n):
        for j in range(span[s, 2], span[s, 3] + 1):
            for i in range(span[s, 0], span[s, 1] + 1):
                cell = j * nx + i
                members[fill[cell]] = s
                fill[cell] += 1
    return indptr, members


def _search(  # noqa: C901, PLR0913 - a numba kernel: flat arrays, one loop
    px: Any,
    py: Any,
    start: Any,
    end: Any,
    indptr: Any,
    members: Any,
    x0: float,
    y0: float,
    side: float,
    nx: int,
    ny: int,
    max_rings: int,
    margin: float,
    segment: Any,
    proven: Any,
) -> None:
    inf = np.inf
    for p in range(px.shape[0]):
        x, y = px[p], py[p]
        fx, fy = (x - x0) / side, (y - y0) / side
        if not (fx >= 0.0 and fy >= 0.0 and fx < nx and fy < ny):
            continue  # outside the grid (or NaN): left to the tree
        ci, cj = int(fx), int(fy)
        best, second, which = inf, inf, -1
        ring = 0
        while True:
            for j in range(max(cj - ring, 0), min(cj + ring, ny - 1) + 1):
                edge_row = j == cj - ring or j == cj + ring
                step = 1 if edge_row else 2 * ring
                i = ci - ring
                while i <= ci + ring:
                    if 0 <= i < nx:
                        cell = j * nx + i
                        for k in range(indptr[cell], indptr[cell + 1]):
                            s = members[k]
                            if s == which:
                                continue
                            ax, ay = start[s, 0], start[s, 1]
                            dx, dy = end[s, 0] - ax, end[s, 1] - ay
                            t = ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)
                            t = min(max(t, 0.0), 1.0)
                            ex, ey = x - (ax + t * dx), y - (ay + t * dy)
                            d = ex * ex + ey * ey  # squared: the root once per ring
                            if d < best:
                                second, best, which = best, d, s
                            elif d < second:
                                second = d
                    i += step if step > 0 else 1
            # the distance from the point to the nearest side of the square looked at;
            # a side at the grid's edge has no segment beyond it
            left = x - (x0 + (ci - ring) * side) if ci - ring > 0 else inf
            right = (x0 + (ci + ring + 1) * side) - x if ci + ring < nx - 1 else inf
            down = y - (y0 + (cj - ring) * side) if cj - ring > 0 else inf
            up = (y0 + (cj + ring + 1) * side) - y if cj + ring < ny - 1 else inf
            outside = min(min(left, right), min(down, up))
            nearest = math.sqrt(best)
            bound = nearest + margin * (1.0 + nearest)
            if best < inf and outside > bound:
                segment[p] = which
                proven[p] = math.sqrt(second) > bound
                break
            if outside == inf:  # the whole grid looked at
                segment[p] = which
                proven[p] = best < inf and math.sqrt(second) > bound
                break
            ring += 1
            if ring > max_rings:
                break


@functools.cache
def _compiled(name: str) -> Callable[..., Any]:
    """The kernel ``name`` compiled by numba."""
    return compile_kernel(_bucket if name == "bucket" else _search)
