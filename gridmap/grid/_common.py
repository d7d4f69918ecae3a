"""Helpers shared by the grid modules: errors, metric projection, reading order."""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from gridmap.crs import metric_crs_for
from gridmap.errors import GridmapError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
GeomArray = npt.NDArray[np.object_]

WGS84 = CRS.from_epsg(4326)


class GridError(GridmapError, ValueError):
    """A grid cannot be built, coded or indexed from the input given."""


class CodeOverflowError(GridError):
    """More cells in one community than the code's sequence width can number."""


class InvalidCodeError(GridError):
    """A cell code does not follow its coding scheme."""


def metric_crs_of(geometry: BaseGeometry) -> CRS:
    """Return the metric CRS for a WGS-84 geometry, chosen at its bounding-box centre.

    The bounding-box centre (not the centroid) is used because it is cheap and
    stable for multipart boundaries with many islands.
    """
    minx, miny, maxx, maxy = geometry.bounds
    return metric_crs_for((minx + maxx) / 2.0, (miny + maxy) / 2.0)


def project(geoms: Any, src: CRS, dst: CRS) -> GeomArray:
    """Project an array (or single geometry) of shapely geometries from ``src`` to ``dst``."""
    arr = np.asarray(geoms, dtype=object)
    if src == dst:
        return arr
    transformer = Transformer.from_crs(src, dst, always_xy=True)

    def _transform(coords: FloatArray) -> FloatArray:
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack([x, y])

    return np.asarray(shapely.transform(arr, _transform), dtype=object)


def frame_to_metric(frame: gpd.GeoDataFrame | gpd.GeoSeries, crs: CRS) -> GeomArray:
    """Return the geometries of ``frame`` in ``crs``; a frame without a CRS is taken as WGS-84."""
    src = frame.crs if frame.crs is not None else WGS84
    geoms = frame.geometry.to_numpy() if isinstance(frame, gpd.GeoDataFrame) else frame.to_numpy()
    return project(geoms, CRS.from_user_input(src), crs)


def frame_in_metric(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> tuple[GeomArray, CRS]:
    """Project ``frame`` to the metric CRS chosen at the centre of its WGS-84 bounds."""
    wgs84 = frame_to_metric(frame, WGS84)
    minx, miny, maxx, maxy = shapely.total_bounds(wgs84)
    metric = metric_crs_for((minx + maxx) / 2.0, (miny + maxy) / 2.0)
    return project(wgs84, WGS84, metric), metric


def reading_order(points_x: FloatArray, points_y: FloatArray, row_tolerance: float) -> IntArray:
    """Order points west to east within rows, rows north to south.

    Points are sorted by northing, descending; a new row starts when a point lies
    more than ``row_tolerance`` south of the first point of the current row.
    Within a row points are sorted by easting, then northing (descending), then
    input position, so the order is fully deterministic.

    Returns
    -------
    numpy.ndarray
        Positions of the points in reading order.
    """
    n = len(points_x)
    by_north = np.lexsort((np.arange(n), points_x, -points_y))
    rows = np.empty(n, dtype=np.int64)
    row, row_top = -1, np.inf
    for pos in by_north:
        if points_y[pos] < row_top - row_tolerance or row < 0:
            row, row_top = row + 1, points_y[pos]
        rows[pos] = row
    return np.lexsort((np.arange(n), -points_y, points_x, rows)).astype(np.int64)


def polygon_parts(geom: BaseGeometry) -> list[BaseGeometry]:
    """Return the non-empty polygons in ``geom`` (dropping lines and points of a collection)."""
    if geom.is_empty:
        return []
    parts = shapely.get_parts(geom)
    polys: list[BaseGeometry] = []
    for part in parts:
        if part.geom_type == "Polygon" and not part.is_empty:
            polys.append(part)
        elif part.geom_type in ("MultiPolygon", "GeometryCollection"):
            polys.extend(polygon_parts(part))
    return polys
