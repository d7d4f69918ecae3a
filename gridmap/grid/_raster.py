"""Raster prefilter for point-in-cell lookups.

The cells' extent is cut into square pixels. A pixel is *marked* when any cell
edge passes within 1/8 pixel of it (conservatively: edges are walked in steps
of 0.7 pixel and the corners of each step's slightly enlarged bounding box are
marked). Unmarked pixels are grouped into 4-connected components; no edge
touches a component, so every point in it lies in the interior of the same
cells, and one exact test per component gives the owner of all its pixels. A
query point in an unmarked pixel is then assigned by lookup; only points in
marked pixels need the exact test, so the result is identical to the exact
method for every point.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy import ndimage

from gridmap.grid._common import FloatArray, GeomArray, IntArray

#: Owner value of a pixel whose points need the exact test.
NEEDS_EXACT = -2

_STEP = 0.7  # walk edges in steps of at most this many pixels (_STEP + 2 * _MARGIN < 1)
_MARGIN = 0.125  # mark pixels this close (in pixels) to an edge
_CHUNK = 1_000_000  # edge steps processed at once


@dataclass(frozen=True, eq=False)
class PixelLookup:
    """Owner of every pixel: a cell position, -1 (outside all cells) or ``NEEDS_EXACT``."""

    x0: float
    y0: float
    pixel: float
    n_cols: int
    n_rows: int
    owner: npt.NDArray[np.int32]

    @classmethod
    def build(
        cls,
        geoms: GeomArray,
        pixels_per_side: int,
        locate_exact: Callable[[npt.ArrayLike, npt.ArrayLike], IntArray],
    ) -> PixelLookup:
        """Rasterise ``geoms`` on a grid of about ``pixels_per_side`` along the longer side."""
        minx, miny, maxx, maxy = shapely.total_bounds(geoms)
        pixel = max(maxx - minx, maxy - miny, 1e-9) / pixels_per_side
        x0, y0 = minx - pixel, miny - pixel  # one free pixel all round
        n_cols = math.ceil((maxx - x0) / pixel) + 2
        n_rows = math.ceil((maxy - y0) / pixel) + 2
        marked = np.zeros((n_rows, n_cols), dtype=bool)
        _mark_edges(marked, _edge_segments(geoms, x0, y0, pixel))
        labels, n_labels = ndimage.label(~marked)
        owners = _component_owners(labels, n_labels, x0, y0, pixel, locate_exact)
        return cls(x0, y0, pixel, n_cols, n_rows, owners[labels.reshape(-1)])

    def lookup(self, x: FloatArray, y: FloatArray) -> npt.NDArray[np.int32]:
        """Owner of each point's pixel; -1 outside the raster or for non-finite coordinates."""
        with np.errstate(invalid="ignore"):
            col = np.floor((x - self.x0) / self.pixel)
            row = np.floor((y - self.y0) / self.pixel)
            inside = (col >= 0) & (col < self.n_cols) & (row >= 0) & (row < self.n_rows)
        out = np.full(len(x), -1, dtype=np.int32)
        flat = row[inside].astype(np.int64) * self.n_cols + col[inside].astype(np.int64)
        out[inside] = self.owner[flat]
        return out


def _edge_segments(geoms: GeomArray, x0: float, y0: float, pixel: float) -> FloatArray:
    """Every ring edge as (u0, v0, u1, v1) in pixel units."""
    rings = shapely.get_rings(shapely.get_parts(geoms))
    coords, ring_idx = shapely.get_coordinates(rings, return_index=True)
    u, v = (coords[:, 0] - x0) / pixel, (coords[:, 1] - y0) / pixel
    same_ring = ring_idx[:-1] == ring_idx[1:]
    segments = np.column_stack([u[:-1], v[:-1], u[1:], v[1:]])[same_ring]
    return np.asarray(segments, dtype=np.float64)


def _mark_edges(marked: npt.NDArray[np.bool_], segments: FloatArray) -> None:
    """Mark every pixel within ``_MARGIN`` of a segment, in chunks of steps."""
    du, dv = segments[:, 2] - segments[:, 0], segments[:, 3] - segments[:, 1]
    steps = np.maximum(np.ceil(np.maximum(np.abs(du), np.abs(dv)) / _STEP), 1).astype(np.int64)
    ends = np.cumsum(steps)
    start = 0
    while start < len(segments):
        stop = int(np.searchsorted(ends, ends[start] - steps[start] + _CHUNK, side="right"))
        stop = max(stop, start + 1)
        _mark_chunk(marked, segments[start:stop], du[start:stop], dv[start:stop], steps[start:stop])
        start = stop


def _mark_chunk(
    marked: npt.NDArray[np.bool_],
    segments: FloatArray,
    du: FloatArray,
    dv: FloatArray,
    steps: IntArray,
) -> None:
    """Mark the pixels at the corners of each step's bounding box, enlarged by the margin.

    A step is shorter than ``_STEP`` pixels, so its enlarged box is under one
    pixel wide and its four corner pixels are all the pixels it touches.
    """
    seg = np.repeat(np.arange(len(segments)), steps)
    k = np.arange(len(seg)) - np.repeat(np.cumsum(steps) - steps, steps)
    t0, t1 = k / steps[seg], (k + 1) / steps[seg]
    u0, u1 = segments[seg, 0] + t0 * du[seg], segments[seg, 0] + t1 * du[seg]
    v0, v1 = segments[seg, 1] + t0 * dv[seg], segments[seg, 1] + t1 * dv[seg]
    n_rows, n_cols = marked.shape
    flat = marked.reshape(-1)
    col_lo = _pixel(np.minimum(u0, u1) - _MARGIN, n_cols)
    col_hi = _pixel(np.maximum(u0, u1) + _MARGIN, n_cols)
    row_lo = _pixel(np.minimum(v0, v1) - _MARGIN, n_rows) * n_cols
    row_hi = _pixel(np.maximum(v0, v1) + _MARGIN, n_rows) * n_cols
    flat[row_lo + col_lo] = True
    flat[row_lo + col_hi] = True
    flat[row_hi + col_lo] = True
    flat[row_hi + col_hi] = True


def _pixel(coord: FloatArray, n: int) -> IntArray:
    return np.clip(np.floor(coord), 0, n - 1).astype(np.int64)


def _component_owners(
    labels: npt.NDArray[np.int32],
    n_labels: int,
    x0: float,
    y0: float,
    pixel: float,
    locate_exact: Callable[[npt.ArrayLike, npt.ArrayLike], IntArray],
) -> npt.NDArray[np.int32]:
    """Owner of each component (label 0, the marked pixels, gets ``NEEDS_EXACT``).

    Every pixel of a component has the same owner, so any one of them will do:
    the scatter below keeps one member pixel per label.
    """
    member = np.zeros(n_labels + 1, dtype=np.int64)
    flat = labels.reshape(-1)
    member[flat] = np.arange(flat.size)
    rows, cols = np.divmod(member[1:], labels.shape[1])
    owners = np.empty(n_labels + 1, dtype=np.int32)
    owners[0] = NEEDS_EXACT
    owners[1:] = locate_exact(x0 + (cols + 0.5) * pixel, y0 + (rows + 0.5) * pixel)
    return owners
