"""Blind zones (盲区): the populated parts of cells that no service area reaches.

Construction, all in the run's metric CRS:

1. *populated parts*: every unit that is not service-covered contributes its
   footprint (polygon units) or a disc of ``populated_radius_m`` around its
   representative point (point units), clipped to the union of the grid cells
   (when there are cells);
2. minus the union of every active station's service area;
3. dissolved, then split into connected zones.

Computed tile by tile (:mod:`gridmap.coverage._blind_area`): only the cells and
service areas near uncovered units take part, and no union spans the county.

Each zone gets the uncovered units whose representative point lies in it (a
unit whose point falls outside every zone, possible when its disc was cut by a
service area it is not reached within by road, joins the nearest zone), their
households, population and party members, and a priority score:

    priority = population + MEMBER_WEIGHT * party_members
               + MUST_HAVE_WEIGHT * units flagged 应建未建 + UNIT_WEIGHT * units

so that people come first, party members (who need a branch to belong to)
next, and zones of units with no recorded population still rank by their
count. Zones are ranked by priority, largest first (rank 1); zones of equal priority
by area, then west to east.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap._threads import thread_map, threads
from gridmap.coverage._blind_area import blind_parts
from gridmap.coverage.inputs import surface_points

logger = logging.getLogger(__name__)

__all__ = [
    "MEMBER_WEIGHT",
    "MUST_HAVE_WEIGHT",
    "UNIT_WEIGHT",
    "blind_zones",
    "zones_frame_to_wgs84",
]

MEMBER_WEIGHT = 10.0
MUST_HAVE_WEIGHT = 200.0
UNIT_WEIGHT = 1.0
DEFAULT_POPULATED_RADIUS_M = 100.0

_COLUMNS = [
    "rank",
    "area_m2",
    "units",
    "households",
    "population",
    "party_members",
    "must_have_branch",
    "priority",
    "unit_ids",
    "cell_codes",
]


def _footprints(units: gpd.GeoDataFrame, radius_m: float) -> npt.NDArray[np.object_]:
    """Each unit's footprint (polygon units) or its disc of ``radius_m`` (point units).

    The discs of points are drawn in numpy (:func:`_discs`), any other disc by GEOS in
    a few chunks on a thread per core: the same discs as ``shapely.buffer``."""
    geoms = np.asarray(units.geometry.array, dtype=object)
    polygonal = shapely.get_type_id(geoms) >= 3  # polygons and multipolygons
    parts = geoms.copy()
    drawn, discs = _discs(geoms, ~polygonal, radius_m)
    parts[drawn] = discs
    points = np.flatnonzero(~polygonal & ~drawn)
    chunks = np.array_split(points, max(1, min(threads(), points.size // 10_000)))
    for chunk, discs in zip(
        chunks,
        thread_map(lambda c: shapely.buffer(geoms[c], radius_m, quad_segs=16), chunks),
        strict=True,
    ):
        parts[chunk] = discs
    return parts


#: Vertices of a disc (16 a quarter circle, as ``quad_segs=16`` draws them).
_DISC_VERTICES = 64
#: Points drawn at once (bounds the memory of the coordinates).
_DISC_BATCH = 100_000


def _discs(
    geoms: npt.NDArray[np.object_], candidates: npt.NDArray[np.bool_], radius_m: float
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.object_]]:
    """``shapely.buffer(point, radius_m, quad_segs=16)`` of the finite points among
    ``candidates``, drawn in numpy; returns which geometries were drawn, and their discs.

    GEOS draws a point's buffer as the 64-gon of vertices ``x + r cos(-i 2pi/64)``,
    ``y + r sin(-i 2pi/64)``, ``i = 0..63``, from angle 0 clockwise and closed; the same
    sums in numpy give the same coordinates bit for bit, without a GEOS buffer per
    point. The first disc is checked against GEOS: where it differs (another GEOS),
    nothing is drawn and every disc is left to ``shapely.buffer``.
    """
    none = np.zeros(len(geoms), dtype=bool), np.empty(0, dtype=object)
    chosen = candidates & (shapely.get_type_id(geoms) == 0) & ~shapely.is_empty(geoms)
    if not chosen.any() or not radius_m > 0:
        return none
    xy = shapely.get_coordinates(geoms[chosen])
    finite = np.isfinite(xy).all(axis=1)
    chosen[np.flatnonzero(chosen)[~finite]] = False
    xy = xy[finite]
    if not len(xy):
        return none
    angles = [-i * 2 * math.pi / _DISC_VERTICES for i in range(_DISC_VERTICES)]
    cos = np.array([*(math.cos(a) for a in angles), 1.0]) * radius_m  # closed: back to 0
    sin = np.array([*(math.sin(a) for a in angles), 0.0]) * radius_m
    first = shapely.buffer(shapely.points(xy[0]), radius_m, quad_segs=16)
    discs = np.empty(len(xy), dtype=object)
    for at in range(0, len(xy), _DISC_BATCH):
        batch = xy[at : at + _DISC_BATCH]
        ring = np.empty((len(batch), _DISC_VERTICES + 1, 2))
        ring[:, :, 0] = batch[:, :1] + cos
        ring[:, :, 1] = batch[:, 1:] + sin
        discs[at : at + len(batch)] = shapely.polygons(ring)
        if at == 0 and shapely.to_wkb(discs[0]) != shapely.to_wkb(first):
            logger.debug("GEOS draws discs differently: buffering every point")
            return none
    return chosen, discs


def blind_zones(
    units: gpd.GeoDataFrame,
    service_areas: gpd.GeoSeries,
    cells: gpd.GeoDataFrame | None,
    *,
    populated_radius_m: float = DEFAULT_POPULATED_RADIUS_M,
) -> gpd.GeoDataFrame:
    """Dissolved, ranked blind zones (see the module docstring).

    Parameters
    ----------
    units
        Per-unit results in a metric CRS with ``service_covered``, ``households``,
        ``population``, ``party_members``, ``must_have_branch``, ``cell_code``.
    service_areas
        Service area polygons in the same CRS.
    cells
        Grid cells in the same CRS, or None to not clip.
    """
    crs = units.crs
    uncovered = units[~units["service_covered"].astype(bool)]
    if uncovered.empty:
        return gpd.GeoDataFrame(columns=_COLUMNS, geometry=[], crs=crs)
    grid = None if cells is None or not len(cells) else np.asarray(cells.geometry.array)
    parts = blind_parts(
        _footprints(uncovered, populated_radius_m),
        grid,
        np.asarray(service_areas.array, dtype=object),
    )
    if not len(parts):
        return gpd.GeoDataFrame(columns=_COLUMNS, geometry=[], crs=crs)
    zones = gpd.GeoDataFrame(geometry=parts, crs=crs)
    return _describe(zones, uncovered)


def _describe(zones: gpd.GeoDataFrame, uncovered: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    points = gpd.GeoDataFrame(
        uncovered.drop(columns=uncovered.geometry.name),
        geometry=surface_points(np.asarray(uncovered.geometry.values, dtype=object)),
        crs=uncovered.crs,
    )
    points["unit_id"] = points.index
    joined = points.assign(index_right=_zone_of(points.geometry.values, zones.geometry.values))
    group = joined.groupby("index_right")
    zones["area_m2"] = zones.geometry.area
    zones["units"] = group.size().reindex(zones.index, fill_value=0)
    for column in ("households", "population", "party_members"):
        zones[column] = group[column].sum(min_count=1).reindex(zones.index).fillna(0).astype(int)
    zones["must_have_branch"] = (
        group["must_have_branch"].sum().reindex(zones.index, fill_value=0).astype(int)
    )
    zones["unit_ids"] = _joined(joined, "unit_id", zones.index)
    zones["cell_codes"] = _joined(joined, "cell_code", zones.index)
    zones["priority"] = (
        zones["population"]
        + MEMBER_WEIGHT * zones["party_members"]
        + MUST_HAVE_WEIGHT * zones["must_have_branch"]
        + UNIT_WEIGHT * zones["units"]
    )
    # Equal zones (two lone discs) rank west to east, the order blind_parts gives; areas
    # are compared to 1e-4 m² so that rounding in the overlays cannot reorder them.
    key = zones.assign(area_key=zones["area_m2"].round(4))
    order = key.sort_values(["priority", "area_key"], ascending=False, kind="stable").index
    zones = zones.loc[order].reset_index(drop=True)
    zones["rank"] = np.arange(1, len(zones) + 1)
    return gpd.GeoDataFrame(zones[[*_COLUMNS, zones.geometry.name]], crs=zones.crs)


def _zone_of(points: Any, zones: Any) -> npt.NDArray[np.int64]:
    """The zone of each point: the one holding it (the first, on a shared edge), else
    the nearest one (a unit whose disc a service area cut away from its point).

    One point-in-polygon query, then nearest only for the few points left outside: the
    same answer as a nearest join of every point, without measuring distances to large
    zones for the points inside them. The index is over the points and each zone is
    queried with it, so that each zone is prepared once (an indexed point-in-polygon
    test) instead of every point being tested against an unprepared zone.
    """
    which = np.full(len(points), -1, dtype=np.int64)
    zone_at, point_at = shapely.STRtree(points).query(zones, predicate="intersects")
    order = np.lexsort((zone_at, point_at))  # per point, its lowest zone first
    point_at, zone_at = point_at[order], zone_at[order]
    first = np.r_[True, point_at[1:] != point_at[:-1]] if len(point_at) else point_at.astype(bool)
    which[point_at[first]] = zone_at[first]
    outside = np.flatnonzero(which < 0)
    if len(outside):
        got_point, got_zone = shapely.STRtree(zones).query_nearest(
            points[outside], all_matches=True
        )
        order = np.lexsort((got_zone, got_point))
        got_point, got_zone = got_point[order], got_zone[order]
        first = np.r_[True, got_point[1:] != got_point[:-1]]
        which[outside[got_point[first]]] = got_zone[first]
    return which


def _joined(joined: pd.DataFrame, column: str, index: pd.Index) -> pd.Series:
    """Comma-separated distinct values of ``column`` per zone ('' for none), sorted as text."""
    pairs = joined[["index_right", column]].dropna(subset=[column])
    pairs = pd.DataFrame({"zone": pairs["index_right"], "value": pairs[column].astype(str)})
    pairs = pairs.drop_duplicates().sort_values(["zone", "value"], kind="stable")
    text: pd.Series = pairs.groupby("zone")["value"].agg(",".join)
    return text.reindex(index).fillna("")


def zones_frame_to_wgs84(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The zones in WGS-84, for files and maps."""
    return (
        zones.to_crs("EPSG:4326") if len(zones) else zones.set_crs("EPSG:4326", allow_override=True)
    )
