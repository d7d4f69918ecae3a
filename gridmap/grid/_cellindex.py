"""Point-in-cell index for any polygons (see :class:`CellIndex`)."""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from gridmap.grid._common import FloatArray, GeomArray, GridError, IntArray, frame_to_metric
from gridmap.grid._raster import NEEDS_EXACT, PixelLookup

logger = logging.getLogger(__name__)

#: Nudges tried, in order, to settle a point on a shared boundary (multiples of epsilon).
_NUDGES = ((1.0, 1.0), (2.0, 1.0))
_RELATIVE_EPS = 1e-12
_MAX_PIXELS_PER_SIDE = 4096


class CellIndex:
    """Locate points in cells of any shape, built once and queried many times.

    Parameters
    ----------
    cells
        A GeoDataFrame/GeoSeries or an array of (Multi)Polygons. Query
        coordinates are in the same CRS as the cells.
    pixels_per_cell
        Resolution of the raster prefilter, in pixels along the side of an
        average cell (the raster is capped at 4096 pixels a side); ``None``
        turns the prefilter off. Results are identical either way.

    Notes
    -----
    **Boundary rule.** A point belongs to the cell that contains it after a
    tiny nudge to the north-east (by ``1e-12`` of the coordinates' magnitude;
    if that lands exactly on an edge, a nudge east-north-east is tried); when
    neither nudge lands inside a cell that covers the point (the outer edge of
    the grid), it goes to the covering cell with the lowest position. So a
    point on an edge shared by two cells, or on a corner shared by four,
    belongs to exactly one, the same one on every run: on a square lattice the
    cell east of a vertical edge and north of a horizontal one, as
    ``floor((x - x0) / size)`` gives. Where cells overlap, the lowest position
    wins.
    """

    def __init__(
        self,
        cells: gpd.GeoDataFrame | gpd.GeoSeries | GeomArray,
        *,
        pixels_per_cell: float | None = 32.0,
    ) -> None:
        if isinstance(cells, gpd.GeoDataFrame | gpd.GeoSeries):
            self.crs: CRS | None = None if cells.crs is None else CRS.from_user_input(cells.crs)
            geoms = np.asarray(cells.geometry.to_numpy(), dtype=object)
        else:
            self.crs = None
            geoms = np.asarray(cells, dtype=object)
        self.geoms: GeomArray = geoms
        shapely.prepare(geoms)
        self._tree = shapely.STRtree(geoms)
        self._raster: PixelLookup | None = None
        if pixels_per_cell is not None and len(geoms) > 0:
            side = min(_MAX_PIXELS_PER_SIDE, math.ceil(pixels_per_cell * math.sqrt(len(geoms))))
            self._raster = PixelLookup.build(geoms, max(side, 16), self.locate_exact)
            logger.debug("raster prefilter %d x %d", self._raster.n_cols, self._raster.n_rows)

    def __len__(self) -> int:
        return len(self.geoms)

    def locate(self, x: npt.ArrayLike, y: npt.ArrayLike) -> IntArray:
        """Position of the cell holding each point, -1 outside every cell (and for NaN)."""
        xs, ys = _coords(x, y)
        if self._raster is None:
            return self.locate_exact(xs, ys)
        out = self._raster.lookup(xs, ys).astype(np.int64)
        exact = np.flatnonzero(out == NEEDS_EXACT)
        out[exact] = self.locate_exact(xs[exact], ys[exact])
        return out

    def locate_points(self, points: gpd.GeoSeries | gpd.GeoDataFrame) -> IntArray:
        """Locate point geometries, reprojected to the cells' CRS when both have one."""
        if self.crs is not None and points.crs is not None:
            geoms = frame_to_metric(points, self.crs)
        else:
            geoms = np.asarray(points.geometry.to_numpy(), dtype=object)
        return self.locate(shapely.get_x(geoms), shapely.get_y(geoms))

    def locate_exact(self, x: npt.ArrayLike, y: npt.ArrayLike) -> IntArray:
        """Like :meth:`locate`, with exact tests for every point (no raster prefilter)."""
        xs, ys = _coords(x, y)
        out = np.full(len(xs), -1, dtype=np.int64)
        finite = np.flatnonzero(np.isfinite(xs) & np.isfinite(ys))
        points = shapely.points(xs[finite], ys[finite])
        point_idx, cell_idx = self._tree.query(points, predicate="intersects")
        counts = np.bincount(point_idx, minlength=len(points))
        single = counts[point_idx] == 1
        out[finite[point_idx[single]]] = cell_idx[single]
        tied = ~single
        if tied.any():
            winners = self._break_ties(xs[finite], ys[finite], point_idx[tied], cell_idx[tied])
            out[finite[winners[0]]] = winners[1]
        return out

    def _break_ties(
        self, xs: FloatArray, ys: FloatArray, point_idx: IntArray, cell_idx: IntArray
    ) -> tuple[IntArray, IntArray]:
        """Apply the boundary rule to points covered by several cells."""
        order = np.lexsort((cell_idx, point_idx))
        point_idx, cell_idx = point_idx[order], cell_idx[order]
        px, py = xs[point_idx], ys[point_idx]
        eps = _RELATIVE_EPS * np.maximum(1.0, np.maximum(np.abs(px), np.abs(py)))
        rank = np.full(len(point_idx), len(_NUDGES), dtype=np.int64)
        for level, (dx, dy) in reversed(list(enumerate(_NUDGES))):
            inside = shapely.contains_xy(self.geoms[cell_idx], px + dx * eps, py + dy * eps)
            rank[inside] = level
        # best nudge level first, then lowest cell position; take the first row per point
        best = np.lexsort((cell_idx, rank, point_idx))
        first = np.r_[True, point_idx[best][1:] != point_idx[best][:-1]]
        return point_idx[best][first], cell_idx[best][first]


def _coords(x: npt.ArrayLike, y: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    xs = np.atleast_1d(np.asarray(x, dtype=np.float64))
    ys = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if xs.shape != ys.shape:
        raise GridError(f"x and y must have the same shape, got {xs.shape} and {ys.shape}")
    return xs.ravel(), ys.ravel()
