"""Administrative codes and areas: official codes by name, areas from place points.

Two things users need before they can grid an area:

* **Codes.** :func:`load_divisions` reads the Ministry of Civil Affairs code list
  (GB/T 2260 counties + 9-digit township codes) and :func:`township_codes`
  finds the official code of each township / sub-district of a county by name.
* **Areas.** Community and village boundaries are rarely published; OSM often
  has only a point per place. :func:`areas_from_points` divides a boundary
  among its places: each gets the part of the boundary nearer to it than to any
  other place (Voronoi cells, clipped). These are approximations, and are
  marked ``derived`` wherever gridmap stores them.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.crs import metric_crs_for

__all__ = ["Division", "areas_from_points", "child_codes", "load_divisions", "township_codes"]

Division = tuple[int, str, str, str]  # level, code, parent code, name


def load_divisions(path: Path) -> list[Division]:
    """Read the MCA code list (``{"divisions": [[level, code, parent, name], ...]}``)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [(int(d[0]), str(d[1]), str(d[2]), str(d[3])) for d in data["divisions"]]


def township_codes(divisions: list[Division], county_code: str) -> dict[str, str]:
    """Official 9-digit codes of the townships / sub-districts of a county, by name."""
    return {
        name: code
        for level, code, parent, name in divisions
        if level == 4 and parent == county_code
    }


def areas_from_points(points: gpd.GeoDataFrame, boundary: BaseGeometry) -> gpd.GeoDataFrame:
    """Divide ``boundary`` among ``points``: each gets the part nearest to it.

    Parameters
    ----------
    points
        Place points in WGS-84, any columns (kept).
    boundary
        The WGS-84 polygon to divide.

    Returns
    -------
    The points' rows with polygon geometry, in WGS-84. Points outside the
    boundary still get the part nearest to them, which may be empty (dropped).
    """
    if points.empty:
        return points.iloc[0:0]
    lon, lat = boundary.centroid.x, boundary.centroid.y
    crs = metric_crs_for(lon, lat)
    projected = points.to_crs(crs)
    area = gpd.GeoSeries([boundary], crs="EPSG:4326").to_crs(crs).iloc[0]
    if len(projected) == 1:
        cells = [area]
    else:
        extent = area.envelope.buffer(area.length)
        regions = shapely.get_parts(
            shapely.voronoi_polygons(
                shapely.multipoints(projected.geometry.values), extend_to=extent
            )
        )
        tree = shapely.STRtree(regions)
        order = tree.query(projected.geometry.values, predicate="within")
        cells = [None] * len(projected)
        for point_i, region_i in zip(*order, strict=True):
            cells[point_i] = shapely.intersection(regions[region_i], area)
    result = projected.copy()
    result.geometry = gpd.GeoSeries(np.asarray(cells, dtype=object), index=projected.index, crs=crs)
    result = result[~result.geometry.is_empty & result.geometry.notna()]
    return result.to_crs("EPSG:4326")


def child_codes(parent_code: str, children: gpd.GeoDataFrame, *, width: int = 3) -> list[str]:
    """Sequence codes for ``children`` of one parent: north to south, then west to east.

    Village / community committees get ``parent_code`` + a ``width``-digit
    sequence, the layout of the statistical codes (GB/T 10114: 9 + 3 digits).
    """
    points = shapely.point_on_surface(children.geometry.values)
    order = np.lexsort((shapely.get_x(points), -shapely.get_y(points)))
    codes = [""] * len(children)
    for seq, i in enumerate(order, start=1):
        codes[i] = f"{parent_code}{seq:0{width}d}"
    return codes
