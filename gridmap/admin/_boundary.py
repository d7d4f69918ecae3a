"""A boundary to grid or divide, from a polygon file or a lon/lat box."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.errors import GridmapError

__all__ = ["BoundaryError", "bbox_boundary", "read_boundary"]

BBOX_FORMAT = "minlon,minlat,maxlon,maxlat (WGS-84 degrees, e.g. 117.20,28.28,117.26,28.32)"


class BoundaryError(GridmapError, ValueError):
    """A boundary file or box cannot be used."""


def read_boundary(path: Path, *, flag: str = "boundary") -> BaseGeometry:
    """The union of the polygons in a GeoJSON, GeoPackage, Shapefile or KML file, in WGS-84.

    ``flag`` names the input in error messages (``--boundary`` under the CLI).
    A file without a CRS is taken as WGS-84.
    """
    if not path.exists():
        msg = f"{flag} {path}: no such file; give a polygon file (GeoJSON, GPKG, Shapefile, KML)"
        raise BoundaryError(msg)
    try:
        frame = gpd.read_file(path)
    except Exception as exc:  # pyogrio raises several types for unreadable files
        msg = f"{flag} {path}: cannot be read as a polygon file ({exc})"
        raise BoundaryError(msg) from exc
    if frame.crs is not None:
        frame = frame.to_crs(4326)
    geoms = frame.geometry[frame.geometry.notna() & ~frame.geometry.is_empty]
    polygons = geoms[geoms.geom_type.isin(["Polygon", "MultiPolygon"])]
    if polygons.empty:
        kinds = sorted(set(geoms.geom_type)) or ["no geometry"]
        msg = f"{flag} {path}: no polygon in the file (found {', '.join(kinds)}); draw the area"
        raise BoundaryError(msg)
    invalid = polygons[~polygons.is_valid]
    if len(invalid):
        reason = shapely.is_valid_reason(invalid.iloc[0])
        msg = (
            f"{flag} {path}: {len(invalid)} of {len(polygons)} polygons are invalid "
            f"({reason}); repair them (QGIS: Fix geometries) and try again"
        )
        raise BoundaryError(msg)
    boundary: BaseGeometry = shapely.union_all(polygons.to_numpy())
    _check_degrees(boundary, f"{flag} {path}")
    return boundary


def bbox_boundary(text: str, *, flag: str = "bbox") -> BaseGeometry:
    """The polygon of a ``minlon,minlat,maxlon,maxlat`` box; ``flag`` names it in errors."""
    parts = [p.strip() for p in text.split(",")]
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        msg = f"{flag} takes {BBOX_FORMAT}, got {text!r}"
        raise BoundaryError(msg)
    minx, miny, maxx, maxy = values
    if not (-180 <= minx < maxx <= 180 and -90 <= miny < maxy <= 90):
        msg = (
            f"{flag} {text}: expected minlon < maxlon within -180..180 and minlat < maxlat "
            f"within -90..90 ({BBOX_FORMAT}); are lon and lat swapped?"
        )
        raise BoundaryError(msg)
    return shapely.box(minx, miny, maxx, maxy)


def _check_degrees(boundary: BaseGeometry, what: str) -> None:
    minx, miny, maxx, maxy = boundary.bounds
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        msg = (
            f"{what}: coordinates are not lon/lat degrees (bounds {boundary.bounds}) and the "
            "file has no CRS: save it with its coordinate system, or as WGS-84"
        )
        raise BoundaryError(msg)
