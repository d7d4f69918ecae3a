"""Arithmetic point location in square grids (see :class:`RegularGrid`)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer

from gridmap.grid._cellindex import CellIndex
from gridmap.grid._common import WGS84, GeomArray, GridError, IntArray, frame_to_metric

#: Lookup value of a lattice square that is not one whole cell (clipped, split, merged).
_PARTIAL = -2
_AREA_RTOL = 1e-9
_EDGE_TOL_M = 1e-6


@dataclass(frozen=True, eq=False)
class RegularGrid:
    """Locate points in a square grid by ``floor((x - x0) / size)``.

    A lattice square that is exactly one cell is answered by arithmetic and one
    array lookup. Squares whose cells were clipped to the boundary, split
    between communities or merged with a sliver, and points on the lattice's
    outer edge, go to an exact :class:`CellIndex` over the same cells, whose
    boundary rule agrees with ``floor`` (east of a vertical edge, north of a
    horizontal one), so the result equals ``CellIndex.locate`` everywhere.
    Cells read back from WGS-84 carry ~1e-9 m of rounding; a point that close
    to a lattice line may differ.

    Build it with :meth:`from_cells`; query metric coordinates with
    :meth:`locate` or WGS-84 with :meth:`locate_lonlat`.
    """

    origin_x: float
    origin_y: float
    size_m: float
    n_cols: int
    n_rows: int
    crs: CRS
    lookup: IntArray = field(repr=False)
    fallback: CellIndex = field(repr=False)

    @classmethod
    def from_cells(
        cls,
        cells: gpd.GeoDataFrame,
        *,
        size_m: float | None = None,
        origin: tuple[float, float] | None = None,
        crs: CRS | str | None = None,
    ) -> RegularGrid:
        """Index square cells made by :func:`~gridmap.grid.compute_grid`.

        Size, origin and CRS are read from ``cells.attrs["gridmap.grid"]``;
        give them to override, or for cells from elsewhere (the origin then
        defaults to the cells' south-west corner snapped down to a multiple of
        ``size_m``, as :func:`compute_grid` does).
        """
        meta: dict[str, Any] = dict(cells.attrs.get("gridmap.grid") or {})
        size = size_m if size_m is not None else meta.get("size_m")
        if meta.get("shape", "square") != "square" or size is None:
            raise GridError(
                "RegularGrid needs square cells and their size: generate them with "
                f"shape='square' or pass size_m=; got attrs {meta or 'none'}"
            )
        metric = CRS.from_user_input(crs if crs is not None else meta["crs"])
        geoms = frame_to_metric(cells, metric)
        return cls.from_geometries(geoms, float(size), metric, origin or _origin(meta, geoms, size))

    @classmethod
    def from_geometries(
        cls, geoms: GeomArray, size_m: float, crs: CRS, origin: tuple[float, float]
    ) -> RegularGrid:
        """Index metric cell geometries laid on the lattice at ``origin`` with ``size_m``."""
        x0, y0 = origin
        _, _, maxx, maxy = shapely.total_bounds(geoms)
        n_cols = max(1, math.ceil((maxx - x0) / size_m))
        n_rows = max(1, math.ceil((maxy - y0) / size_m))
        lookup = _lattice_lookup(geoms, x0, y0, size_m, n_cols, n_rows)
        fallback = CellIndex(geoms, pixels_per_cell=None)
        return cls(x0, y0, size_m, n_cols, n_rows, crs, lookup, fallback)

    def locate(self, x: npt.ArrayLike, y: npt.ArrayLike) -> IntArray:
        """Cell position of each metric point, -1 outside every cell (and for NaN)."""
        xs = np.asarray(x, dtype=np.float64).ravel()
        ys = np.asarray(y, dtype=np.float64).ravel()
        with np.errstate(invalid="ignore"):
            col = np.floor((xs - self.origin_x) / self.size_m).astype(np.int64)
            row = np.floor((ys - self.origin_y) / self.size_m).astype(np.int64)
        inside = (col >= 0) & (col < self.n_cols) & (row >= 0) & (row < self.n_rows)
        out = np.full(len(xs), -1, dtype=np.int64)
        out[inside] = self.lookup[row[inside] * self.n_cols + col[inside]]
        on_edge = ((col == self.n_cols) & (row >= 0) & (row <= self.n_rows)) | (
            (row == self.n_rows) & (col >= 0) & (col <= self.n_cols)
        )
        exact = np.flatnonzero((out == _PARTIAL) | on_edge)
        out[exact] = self.fallback.locate_exact(xs[exact], ys[exact])
        return out

    @cached_property
    def _from_wgs84(self) -> Transformer:
        return Transformer.from_crs(WGS84, self.crs, always_xy=True)

    def locate_lonlat(self, lon: npt.ArrayLike, lat: npt.ArrayLike) -> IntArray:
        """Project WGS-84 lon/lat to the grid's CRS (the costly part), then :meth:`locate`."""
        x, y = self._from_wgs84.transform(np.asarray(lon, np.float64), np.asarray(lat, np.float64))
        return self.locate(x, y)


def _origin(meta: dict[str, Any], geoms: GeomArray, size: float) -> tuple[float, float]:
    if "origin_x" in meta and not math.isnan(meta["origin_x"]):
        return float(meta["origin_x"]), float(meta["origin_y"])
    minx, miny, _, _ = shapely.total_bounds(geoms)
    return math.floor(minx / size) * size, math.floor(miny / size) * size


def _lattice_lookup(
    geoms: GeomArray, x0: float, y0: float, size: float, n_cols: int, n_rows: int
) -> IntArray:
    """Lattice square -> cell position when the square is exactly one cell, else -1/-2."""
    bounds = shapely.bounds(geoms)
    c0 = np.floor((bounds[:, 0] + _EDGE_TOL_M - x0) / size).astype(np.int64)
    r0 = np.floor((bounds[:, 1] + _EDGE_TOL_M - y0) / size).astype(np.int64)
    c1 = np.floor((bounds[:, 2] - _EDGE_TOL_M - x0) / size).astype(np.int64)
    r1 = np.floor((bounds[:, 3] - _EDGE_TOL_M - y0) / size).astype(np.int64)
    whole = (c0 == c1) & (r0 == r1)
    whole &= np.abs(shapely.area(geoms) - size * size) <= _AREA_RTOL * size * size
    whole &= (c0 >= 0) & (c0 < n_cols) & (r0 >= 0) & (r0 < n_rows)
    lookup = np.full((n_rows, n_cols), -1, dtype=np.int64)
    for i in np.flatnonzero(~whole):
        lookup[max(r0[i], 0) : r1[i] + 1, max(c0[i], 0) : c1[i] + 1] = _PARTIAL
    cells = np.flatnonzero(whole)
    squares = r0[cells] * n_cols + c0[cells]
    flat = lookup.ravel()
    claimed = np.bincount(squares, minlength=flat.size)[squares]
    free = (flat[squares] == -1) & (claimed == 1)
    flat[squares[free]] = cells[free]
    flat[squares[~free]] = _PARTIAL
    return flat
