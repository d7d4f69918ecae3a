"""Assign units (points and polygons) to grid cells.

* :class:`RegularGrid`: square grids by arithmetic, tens of millions of
  points a second; projecting lon/lat to the metric CRS costs more than the
  lookup itself (see ``benchmarks/bench_assign.py``).
* :class:`CellIndex`: cells of any shape, an STRtree with a raster prefilter,
  and one documented rule for points on shared boundaries.
* :func:`assign_polygons`: parks, compounds and buildings to the cell holding
  most of their area, with every cell's share.

Units outside every cell get -1; reporting them is the caller's business.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.grid._cellindex import CellIndex
from gridmap.grid._common import (
    FloatArray,
    GeomArray,
    IntArray,
    frame_in_metric,
    frame_to_metric,
)
from gridmap.grid._regular import RegularGrid

__all__ = ["AssignReport", "CellIndex", "PolygonShare", "RegularGrid", "assign_polygons"]

logger = logging.getLogger(__name__)

#: (polygon position, cell position, share of the polygon's area in that cell)
PolygonShare = tuple[int, int, float]


def assign_polygons(
    polys: gpd.GeoDataFrame | gpd.GeoSeries, cells: gpd.GeoDataFrame | gpd.GeoSeries
) -> tuple[IntArray, list[PolygonShare]]:
    """Assign each polygon to the cell holding the largest part of its area.

    Areas are measured in the metric CRS picked at the centre of the cells.

    Parameters
    ----------
    polys
        Unit polygons (any CRS; none means WGS-84).
    cells
        Grid cells (any CRS; none means WGS-84).

    Returns
    -------
    main : numpy.ndarray
        Per polygon, the position of the cell with the largest overlap (ties:
        the lowest position), -1 when it overlaps no cell or has no area.
    shares : list of (poly_idx, cell_idx, share)
        Every cell a polygon overlaps with a positive area, with the share of
        the polygon's area in it, ordered by polygon then cell.
    """
    cell_geoms, metric = frame_in_metric(cells)
    poly_geoms = frame_to_metric(polys, metric)
    poly_idx, cell_idx = shapely.STRtree(cell_geoms).query(poly_geoms, predicate="intersects")
    poly_area = shapely.area(poly_geoms)
    overlap = _overlap_areas(poly_geoms[poly_idx], cell_geoms[cell_idx])
    keep = (overlap > 0.0) & (poly_area[poly_idx] > 0.0)
    poly_idx, cell_idx, overlap = poly_idx[keep], cell_idx[keep], overlap[keep]
    main = np.full(len(poly_geoms), -1, dtype=np.int64)
    best = np.lexsort((cell_idx, -overlap, poly_idx))
    ranked_poly, ranked_cell = poly_idx[best], cell_idx[best]
    first = np.ones(len(best), dtype=bool)
    first[1:] = ranked_poly[1:] != ranked_poly[:-1]
    main[ranked_poly[first]] = ranked_cell[first]
    order = np.lexsort((cell_idx, poly_idx))
    shares = [
        (int(p), int(c), float(a / poly_area[p]))
        for p, c, a in zip(poly_idx[order], cell_idx[order], overlap[order], strict=True)
    ]
    logger.debug("%d of %d polygons outside every cell", int((main < 0).sum()), len(main))
    return main, shares


def _overlap_areas(polys: GeomArray, cells: GeomArray) -> FloatArray:
    """Area of each polygon-cell intersection; a polygon inside its cell needs no overlay."""
    areas = np.asarray(shapely.area(polys), dtype=np.float64)
    inside = shapely.covers(cells, polys)
    cut = ~inside
    areas[cut] = shapely.area(shapely.intersection(polys[cut], cells[cut]))
    return areas


@dataclass(frozen=True)
class AssignReport:
    """How units were put into cells."""

    units: int
    assigned: int
    outside: pd.DataFrame  # units in no cell: id, source_id, kind, name, lon, lat
    multi_cell: int  # polygon units touching more than one cell
    cells: int = 0  # open cells units were put into

    def summary(self) -> dict[str, int]:
        """The counts of :meth:`__str__`."""
        return {
            "units": self.units,
            "assigned": self.assigned,
            "outside": len(self.outside),
            "multi_cell": self.multi_cell,
            "cells": self.cells,
        }

    def __str__(self) -> str:
        """One line for the CLI."""
        return (
            f"{self.assigned} of {self.units} units in a cell, {len(self.outside)} outside "
            f"every cell, {self.multi_cell} polygons across several cells"
        )
