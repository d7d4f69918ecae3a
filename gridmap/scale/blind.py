"""Blind zones as a reduction over partitions of the grid cells.

:func:`gridmap.coverage.zones.blind_zones` unions, over the whole run, the
populated discs of the uncovered units, clips them to the cells and takes the
service areas away. Intersection distributes over a union, so with the cells
split into partitions (a county's cells) the run's blind area is the union of
every partition's *pieces*: the discs of the uncovered units near its cells
(:func:`zone_pieces`, on a worker), clipped to its own cells, minus the service
areas there. Pieces of neighbouring partitions that share an edge are one zone:
:func:`merge_pieces` joins them (only pieces meeting another partition's are
unioned again). Each partition then counts its own uncovered units per zone
(:func:`count_zone_units`), and :func:`combine_zones` sums the counts and ranks
the zones with the single-process priority.

The zones, their units, counts and ranks are those of the single-process run;
geometries are the same areas up to the rounding of a different union order.
"""

from __future__ import annotations

from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from gridmap.coverage.zones import (
    _COLUMNS,
    DEFAULT_POPULATED_RADIUS_M,
    MEMBER_WEIGHT,
    MUST_HAVE_WEIGHT,
    UNIT_WEIGHT,
    _zone_of,
)

__all__ = ["combine_zones", "count_zone_units", "merge_pieces", "zone_pieces"]

_SUMMED = ("households", "population", "party_members")


def zone_pieces(
    uncovered: gpd.GeoDataFrame,
    service_areas: gpd.GeoSeries,
    cells: gpd.GeoDataFrame,
    *,
    populated_radius_m: float = DEFAULT_POPULATED_RADIUS_M,
) -> gpd.GeoSeries:
    """One partition's part of the blind area, as polygons (metric CRS).

    ``uncovered``: the uncovered units whose populated disc may reach ``cells`` (the
    partition's own cells), from any partition; ``service_areas``: those that may
    meet them.
    """
    crs = cells.crs
    if uncovered.empty or cells.empty:
        return gpd.GeoSeries([], crs=crs)
    geoms = uncovered.geometry.values
    polygonal = shapely.get_type_id(geoms) >= 3
    discs = np.where(polygonal, geoms, shapely.buffer(geoms, populated_radius_m, quad_segs=16))
    area = shapely.intersection(shapely.union_all(discs), shapely.union_all(cells.geometry.values))
    if len(service_areas):
        area = shapely.difference(area, shapely.union_all(service_areas.values))
    parts = [g for g in shapely.get_parts(area) if g.area > 0]
    return gpd.GeoSeries(parts, crs=crs)


def merge_pieces(pieces: Sequence[gpd.GeoSeries]) -> gpd.GeoSeries:
    """The zones: pieces of different partitions that share an edge become one."""
    crs = next((p.crs for p in pieces if p.crs is not None), None)
    owner = np.concatenate([np.full(len(p), i) for i, p in enumerate(pieces)]).astype(int)
    geoms = np.concatenate([p.values for p in pieces]) if pieces else np.array([])
    if not len(geoms):
        return gpd.GeoSeries([], crs=crs)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    across = (owner[left] != owner[right]) & (left < right)
    left, right = left[across], right[across]
    shared = shapely.get_dimensions(shapely.intersection(geoms[left], geoms[right])) >= 1
    left, right = left[shared], right[shared]
    n = len(geoms)
    graph = coo_matrix((np.ones(len(left)), (left, right)), shape=(n, n))
    _, component = connected_components(graph, directed=False)
    zones = []
    for label in np.unique(component):
        members = geoms[component == label]
        merged = members[0] if len(members) == 1 else shapely.union_all(members)
        zones += [g for g in shapely.get_parts(merged) if g.area > 0]
    return gpd.GeoSeries(zones, crs=crs)


def count_zone_units(zones: gpd.GeoSeries, uncovered: gpd.GeoDataFrame) -> pd.DataFrame:
    """Per zone (by position), what one partition's own uncovered units add to it.

    Columns ``units``, the sums of ``households``, ``population``, ``party_members``
    and ``must_have_branch``, and the lists of ``unit_ids`` and ``cell_codes``.
    """
    points = shapely.point_on_surface(uncovered.geometry.values)
    zone = _zone_of(points, zones.values) if len(zones) else np.full(len(points), -1)
    frame = pd.DataFrame(uncovered.drop(columns=uncovered.geometry.name))
    frame["zone"] = zone
    frame["unit_id"] = uncovered.index
    group = frame[frame["zone"] >= 0].groupby("zone")
    counts = pd.DataFrame({"units": group.size()})
    for column in _SUMMED:
        counts[column] = group[column].sum(min_count=1).fillna(0)
    counts["must_have_branch"] = group["must_have_branch"].sum()
    counts["unit_ids"] = group["unit_id"].agg(list)
    counts["cell_codes"] = group["cell_code"].agg(lambda v: [x for x in v if pd.notna(x)])
    return counts


def _joined(values: pd.Series) -> pd.Series:
    """Distinct values per zone, sorted as text, comma-separated."""
    return values.map(lambda v: ",".join(sorted({str(x) for x in v})))


def combine_zones(zones: gpd.GeoSeries, counts: Sequence[pd.DataFrame]) -> gpd.GeoDataFrame:
    """The ranked zones of the run, from every partition's :func:`count_zone_units`."""
    crs = zones.crs
    if not len(zones):
        return gpd.GeoDataFrame(columns=_COLUMNS, geometry=[], crs=crs)
    both = pd.concat(counts)
    by_zone = both.groupby(level=0)
    frame = gpd.GeoDataFrame(geometry=zones.reset_index(drop=True), crs=crs)
    frame["area_m2"] = frame.geometry.area
    frame["units"] = by_zone["units"].sum().reindex(frame.index, fill_value=0)
    for column in (*_SUMMED, "must_have_branch"):
        frame[column] = by_zone[column].sum().reindex(frame.index).fillna(0).astype(int)
    for column in ("unit_ids", "cell_codes"):
        lists = by_zone[column].agg(lambda parts: [x for part in parts for x in part])
        frame[column] = _joined(lists).reindex(frame.index).fillna("")
    frame["priority"] = (
        frame["population"]
        + MEMBER_WEIGHT * frame["party_members"]
        + MUST_HAVE_WEIGHT * frame["must_have_branch"]
        + UNIT_WEIGHT * frame["units"]
    )
    frame = frame.sort_values(["priority", "area_m2"], ascending=False).reset_index(drop=True)
    frame["rank"] = np.arange(1, len(frame) + 1)
    return gpd.GeoDataFrame(frame[[*_COLUMNS, frame.geometry.name]], crs=crs)
