"""Areas from place points: divide a boundary among its places (Voronoi cells, clipped)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.crs import metric_crs_for

__all__ = ["areas_from_points", "child_codes"]


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
    result = result[~result.geometry.is_empty & result.geometry.notna()].to_crs("EPSG:4326")
    return _repaired(result)


def _repaired(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Mend the few polygons that projecting back to degrees makes self-intersect."""
    geoms = frame.geometry.to_numpy()
    bad = np.flatnonzero(~shapely.is_valid(geoms))
    if len(bad) == 0:
        return frame
    fixed = geoms.copy()
    for i in bad:
        parts = [
            p for p in shapely.get_parts(shapely.make_valid(geoms[i])) if p.geom_type == "Polygon"
        ]
        fixed[i] = shapely.union_all(parts)
    out = frame.copy()
    out.geometry = gpd.GeoSeries(fixed, index=frame.index, crs=frame.crs)
    return out


def child_codes(
    parent_code: str,
    children: gpd.GeoDataFrame,
    *,
    width: int = 3,
    first: int = 1,
    used: frozenset[str] = frozenset(),
) -> list[str]:
    """Sequence codes for ``children`` of one parent: north to south, then west to east.

    Village / community committees get ``parent_code`` + a ``width``-digit
    sequence, the layout of the statistical codes (GB/T 10114: 9 + 3 digits).
    Numbers start at ``first``; codes in ``used`` are skipped.

    Raises
    ------
    ValueError
        When the sequence runs past ``width`` digits.
    """
    points = shapely.point_on_surface(children.geometry.values)
    order = np.lexsort((shapely.get_x(points), -shapely.get_y(points)))
    codes = [""] * len(children)
    seq = first
    for i in order:
        while f"{parent_code}{seq:0{width}d}" in used:
            seq += 1
        if seq >= 10**width:
            msg = f"more than {10**width - first} children of {parent_code} to number"
            raise ValueError(msg)
        codes[i] = f"{parent_code}{seq:0{width}d}"
        seq += 1
    return codes
