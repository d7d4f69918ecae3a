"""Coordinate helpers shared by the geometry checks: extents, conversion, descriptions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.crs import SourceCRS, to_wgs84

Region = tuple[float, float, float, float]
Coords = npt.NDArray[np.float64]

WORLD: Final[Region] = (-180.0, -90.0, 180.0, 90.0)


def converter(source: SourceCRS, swap: bool) -> Callable[[Coords], Coords]:
    """A ``shapely.transform`` function to WGS-84, with x and y exchanged if ``swap``."""

    def convert(coords: Coords) -> Coords:
        x, y = (coords[:, 1], coords[:, 0]) if swap else (coords[:, 0], coords[:, 1])
        lon, lat = to_wgs84(x, y, source)
        return np.column_stack([lon, lat])

    return convert


def inside(geoms: Sequence[shapely.Geometry], region: Region) -> npt.NDArray[np.bool_]:
    """Whether each geometry lies wholly inside ``region`` (non-finite bounds: no)."""
    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    west, south, east, north = region
    finite = np.isfinite(bounds).all(axis=1)
    within = (bounds[:, 0] >= west) & (bounds[:, 2] <= east)
    within &= (bounds[:, 1] >= south) & (bounds[:, 3] <= north)
    return np.asarray(finite & within, dtype=np.bool_)


def points_inside(points: Coords, region: Region) -> npt.NDArray[np.bool_]:
    """Whether each ``(x, y)`` row of ``points`` lies inside ``region``."""
    west, south, east, north = region
    x, y = points[:, 0], points[:, 1]
    return np.asarray((x >= west) & (x <= east) & (y >= south) & (y <= north), dtype=np.bool_)


def centroids(geoms: Sequence[shapely.Geometry] | npt.NDArray[np.object_]) -> Coords:
    """The centroid of each geometry as an ``(n, 2)`` array (points: their coordinates)."""
    array = np.asarray(geoms, dtype=object)
    if len(array) and (shapely.get_type_id(array) == 0).all():
        return np.asarray(shapely.get_coordinates(array))
    return np.asarray(shapely.get_coordinates(shapely.centroid(array)))


def describe(geom: shapely.Geometry) -> str:
    """A point's coordinates or a shape's bounds, for a reject reason."""
    if geom.geom_type == "Point":
        return f"x={geom.x:.6g}, y={geom.y:.6g}"
    minx, miny, maxx, maxy = geom.bounds
    return f"x {minx:.6g}..{maxx:.6g}, y {miny:.6g}..{maxy:.6g}"
