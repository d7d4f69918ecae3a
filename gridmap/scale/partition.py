"""Which partition every record goes to: by county, or by tile where there is none.

A unit's county is the 6-digit GB/T 2260 prefix of the admin code of its cell's
area (the cell belongs to one community or village, which belongs to one county).
A unit without a cell, or whose cell's area has no such code, goes to a square
tile of :data:`TILE_M` metres instead. ``split`` cuts every county into that many
strips west to east (for more, smaller partitions). A station goes to the
partition of the nearest unit of its own county (the county of the cell it stands
in), a road to the partition of its nearest unit: a worker owns the service areas
of its stations, and finds everything else by the boxes in the manifest.
"""

from __future__ import annotations

import logging
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from scipy.spatial import cKDTree

from gridmap.coverage.inputs import CoverageInputs, representative_points
from gridmap.grid import CellIndex
from gridmap.scale.exchange import Box, Manifest, write_partition

logger = logging.getLogger(__name__)

__all__ = ["TILE_M", "county_keys", "export_inputs", "nearest_keys", "split_keys", "station_keys"]

#: Side of the square tiles units without a county are partitioned by.
TILE_M = 20_000.0
COUNTY_DIGITS = 6


def _xy(points: gpd.GeoSeries) -> npt.NDArray[np.float64]:
    return np.column_stack([points.x.to_numpy(), points.y.to_numpy()]).reshape(-1, 2)


def _cell_counties(inputs: CoverageInputs) -> pd.Series:
    """The county code of every cell (by its area's code), NaN where there is none."""
    codes = inputs.areas["code"] if "code" in inputs.areas else pd.Series(dtype=object)
    county = codes.where(codes.str.len() >= COUNTY_DIGITS).str[:COUNTY_DIGITS]
    cells = inputs.cells
    cell_area = cells["area_id"] if "area_id" in cells else pd.Series(dtype=object)
    return cell_area.map(county)


def county_keys(inputs: CoverageInputs) -> pd.Series:
    """The partition of every unit: its county code, or ``tile-X-Y`` (see the module)."""
    units = inputs.units
    keys = units["cell_id"].map(_cell_counties(inputs))
    missing = keys.isna().to_numpy()
    if missing.any():
        xy = _xy(representative_points(units[missing]).to_crs(inputs.metric_crs))
        tiles = np.floor(xy / TILE_M).astype(np.int64)
        keys[missing] = [f"tile-{x}-{y}" for x, y in tiles]
    result: pd.Series = keys.astype(str)
    return result


def split_keys(keys: pd.Series, points: gpd.GeoSeries, split: int) -> pd.Series:
    """Each partition of ``keys`` cut into ``split`` strips of as many units, west to east."""
    if split <= 1:
        return keys
    x = pd.Series(points.x.to_numpy(), index=keys.index)
    rank = x.groupby(keys).rank(method="first", pct=True)
    strip = np.minimum((rank.to_numpy() * split).astype(np.int64), split - 1)
    return keys + "." + pd.Series(strip, index=keys.index).astype(str)


def nearest_keys(
    unit_xy: npt.NDArray[np.float64], keys: pd.Series, xy: npt.NDArray[np.float64]
) -> pd.Series:
    """The partition of the nearest unit to each of ``xy``."""
    if not len(xy):
        return pd.Series([], dtype=str)
    _, found = cKDTree(unit_xy).query(xy)
    return pd.Series(keys.to_numpy()[found])


def station_keys(
    inputs: CoverageInputs, keys: pd.Series, unit_xy: npt.NDArray[np.float64]
) -> pd.Series:
    """The partition of every station: its nearest unit's among the units of its county.

    A station's county is the county of the cell it stands in; one outside every
    cell with a county goes to the partition of its nearest unit anywhere.
    """
    crs = inputs.metric_crs
    station_xy = _xy(inputs.stations.geometry.to_crs(crs))
    found = nearest_keys(unit_xy, keys, station_xy)
    if inputs.cells.empty or not len(station_xy):
        return found
    cells = inputs.cells.to_crs(crs)
    at = CellIndex(cells).locate(station_xy[:, 0], station_xy[:, 1])
    counties = _cell_counties(inputs).reindex(cells.index).to_numpy()
    county = np.asarray(counties[np.maximum(at, 0)], dtype=object)
    county[at < 0] = None
    unit_county = keys.str.split(".").str[0].to_numpy()
    for code in {c for c in county if isinstance(c, str)}:
        mine = unit_county == code
        if mine.any():
            here = county == code
            found[here] = nearest_keys(unit_xy[mine], keys[mine], station_xy[here]).to_numpy()
    return found


def _line_points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    middle = shapely.line_interpolate_point(frame.geometry.values, 0.5, normalized=True)
    return gpd.GeoSeries(middle, index=frame.index, crs=frame.crs)


def export_inputs(
    inputs: CoverageInputs,
    counting: gpd.GeoDataFrame,
    folder: Path,
    *,
    split: int = 1,
    unit_boxes: dict[str, Box] | None = None,
) -> Manifest:
    """Write the units, stations (``counting`` flagged) and roads of a run per partition.

    ``unit_boxes``: the units are in ``folder`` already, written by the workers
    (:func:`gridmap.scale.store_read.export_store_units`, ``split`` 1); these are
    their partitions' boxes, and only the stations and roads are written here.
    """
    crs = inputs.metric_crs
    manifest = Manifest(metric_crs=crs.to_string())
    units = inputs.units
    if units.empty:
        manifest.write(folder)
        return manifest
    points = representative_points(units).to_crs(crs)
    keys = split_keys(county_keys(inputs), points, split)
    unit_xy = _xy(points)
    stations = inputs.stations.assign(counting=inputs.stations.index.isin(counting.index))
    where_stations = station_keys(inputs, keys, unit_xy)
    roads = inputs.roads[inputs.roads.geometry.notna()]
    road_keys = nearest_keys(unit_xy, keys, _xy(_line_points(roads.to_crs(crs))))
    layers = {
        "units": (units[["cell_id", "geometry"]].assign(partition=keys), keys.to_numpy()),
        "stations": (stations[["tier", "name", "counting", "geometry"]], where_stations.to_numpy()),
        "roads": (_road_columns(roads), road_keys.to_numpy()),
    }
    if unit_boxes is not None:
        del layers["units"]
        manifest.boxes["units"] = dict(unit_boxes)
    for layer, (frame, where) in layers.items():
        for key in sorted(set(where)):
            box = write_partition(folder, layer, key, frame[where == key], crs)
            if box is not None:
                manifest.boxes[layer][key] = box
    manifest.write(folder)
    logger.info("exported %d units in %d partitions", len(units), len(manifest.partitions))
    return manifest


def _road_columns(roads: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    wanted = [c for c in ("highway", "oneway", "maxspeed", "junction") if c in roads]
    return gpd.GeoDataFrame(roads[[*wanted, "geometry"]], crs=roads.crs)
