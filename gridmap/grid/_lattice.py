"""Unclipped lattices of square, hexagonal and H3 cells in a metric CRS.

Every builder computes vertex coordinates from integer lattice positions with
one formula (``origin + k * step``), so two neighbours share bit-identical
vertices and the lattice tiles the plane with no slivers of rounding error.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import h3
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gridmap.grid._common import WGS84, FloatArray, GeomArray, project

SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True)
class Lattice:
    """Raw cells covering a boundary, and where the lattice starts."""

    cells: GeomArray
    origin: tuple[float, float]


def square_lattice(bounds: tuple[float, float, float, float], size: float) -> Lattice:
    """Squares of side ``size`` covering ``bounds``, with the origin snapped to a multiple of size.

    Snapping the origin to ``floor(min / size) * size`` makes the lattice depend
    only on the CRS and the size, so a :class:`~gridmap.grid.RegularGrid` can be
    rebuilt from those two numbers alone.
    """
    minx, miny, maxx, maxy = bounds
    x0, y0 = math.floor(minx / size) * size, math.floor(miny / size) * size
    n_cols = max(1, math.ceil((maxx - x0) / size))
    n_rows = max(1, math.ceil((maxy - y0) / size))
    col_grid, row_grid = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    cols, rows = col_grid.ravel(), row_grid.ravel()
    cells = shapely.box(
        x0 + cols * size, y0 + rows * size, x0 + (cols + 1) * size, y0 + (rows + 1) * size
    )
    return Lattice(np.asarray(cells, dtype=object), (x0, y0))


# Pointy-top hexagon vertices as (dk, dm) steps from the centre, counter-clockwise,
# in units of (sqrt(3)/2 * side, side / 2).
_HEX_STEPS = np.array([(1, 1), (0, 2), (-1, 1), (-1, -1), (0, -2), (1, -1), (1, 1)])


def hex_lattice(bounds: tuple[float, float, float, float], side: float) -> Lattice:
    """Pointy-top hexagons of side length ``side`` (= circumradius) covering ``bounds``.

    Centres lie on rows ``1.5 * side`` apart; odd rows are shifted east by half
    the flat-to-flat width (``sqrt(3) * side``).
    """
    minx, miny, maxx, maxy = bounds
    kx, my = SQRT3 / 2.0 * side, side / 2.0
    x0 = math.floor(minx / (2 * kx)) * 2 * kx - 2 * kx
    y0 = math.floor(miny / (3 * my)) * 3 * my - 3 * my
    n_cols = math.ceil((maxx - x0) / (2 * kx)) + 2
    n_rows = math.ceil((maxy - y0) / (3 * my)) + 2
    cols, rows = np.meshgrid(np.arange(n_cols), np.arange(n_rows))
    centre_k = (2 * cols + (rows % 2)).ravel()
    centre_m = (3 * rows).ravel()
    k = centre_k[:, None] + _HEX_STEPS[None, :, 0]
    m = centre_m[:, None] + _HEX_STEPS[None, :, 1]
    coords = np.stack([x0 + k * kx, y0 + m * my], axis=-1)
    cells = shapely.polygons(coords)
    keep = shapely.intersects(cells, shapely.box(*bounds))
    return Lattice(np.asarray(cells[keep], dtype=object), (x0, y0))


def h3_lattice(boundary_wgs84: BaseGeometry, resolution: int, metric: CRS) -> Lattice:
    """H3 cells at ``resolution`` covering a WGS-84 boundary, projected to ``metric``.

    Cells are taken by centre from the boundary buffered by two edge lengths, so
    every cell that touches the boundary is included. Vertices come from H3's
    vertex indexes, so neighbours share identical coordinates; edges are
    straight in the metric CRS (H3's own edges are geodesic: the difference is
    centimetres at the resolutions used for grid cells).
    """
    reach_m = 2.0 * h3.average_hexagon_edge_length(resolution, unit="m")
    boundary_m = project(boundary_wgs84, WGS84, metric).item()
    buffered = project(shapely.buffer(boundary_m, reach_m), metric, WGS84).item()
    ids = sorted(h3.geo_to_cells(buffered, resolution))
    rings = [_h3_ring(cell) for cell in ids]
    cells_wgs84 = np.asarray([shapely.Polygon(ring) for ring in rings], dtype=object)
    return Lattice(project(cells_wgs84, WGS84, metric), (math.nan, math.nan))


def _h3_ring(cell: str) -> FloatArray:
    """Lon/lat ring of an H3 cell, from its shared vertex indexes when possible."""
    boundary = h3.cell_to_boundary(cell)
    vertexes = h3.cell_to_vertexes(cell)
    latlng = [h3.vertex_to_latlng(v) for v in vertexes]
    if len(latlng) != len(boundary):  # distortion vertices on icosahedron edges
        latlng = list(boundary)
    return np.array([(lng, lat) for lat, lng in latlng], dtype=np.float64)
