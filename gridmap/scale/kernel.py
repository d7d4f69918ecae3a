"""What one worker does with one partition: the single-process kernels on its slice.

:func:`measure_partition` reads the partition's units, the stations within the
halo of their box and the roads within twice the halo (:mod:`.halo`), builds
the same :class:`~gridmap.coverage.inputs.CoverageInputs` the single-process
run builds, and calls the same :func:`~gridmap.coverage.reach.service_reach`.

Coverage is exact with that halo. The nearest station is not bounded by any
reach, so it is *certified*: a nearest station found at most the halo away is
the true one (anything nearer would be inside the halo too). Units whose
nearest station is farther are measured again with a halo four times as wide,
until every unit is certified or the halo holds the whole folder.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.coverage.inputs import CoverageInputs
from gridmap.coverage.reach import ReachOptions, service_reach
from gridmap.grid import CellIndex
from gridmap.scale.exchange import Box, Manifest, covers, grow, read_near, read_partition, union
from gridmap.scale.halo import halo_m
from gridmap.settings import CoverageSettings

logger = logging.getLogger(__name__)

__all__ = [
    "PartitionReach",
    "assign_partition",
    "measure_partition",
    "measure_to_parquet",
    "measure_whole",
]

WGS84 = "EPSG:4326"
#: How much wider the halo grows for units whose nearest station it did not certify.
GROWTH = 4.0


@dataclass(frozen=True)
class PartitionReach:
    """One partition's per-unit reach and the service areas of the stations it owns."""

    partition: str
    units: pd.DataFrame
    service_areas: gpd.GeoDataFrame
    passes: int


def _empty(columns: list[str] | None = None) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in columns or []}, geometry=[], crs=WGS84)


def _inputs(
    units: gpd.GeoDataFrame,
    stations: gpd.GeoDataFrame,
    roads: gpd.GeoDataFrame,
    manifest: Manifest,
    as_of: dt.date,
) -> CoverageInputs:
    """The inputs of a partition: its units, the stations and roads around them."""
    return CoverageInputs(
        units=units,
        orgs=_empty(),
        org_units=pd.DataFrame({"org_id": [], "unit_id": []}),
        instructor_units=pd.DataFrame({"instructor_id": [], "unit_id": []}),
        stations=stations,
        cells=_empty(["code"]),
        areas=_empty(),
        roads=roads,
        workers=pd.DataFrame(),
        worker_cells=pd.DataFrame(),
        metric_crs=manifest.crs,
        as_of=as_of,
    )


@dataclass(frozen=True)
class _Pass:
    reach: pd.DataFrame
    areas: gpd.GeoDataFrame
    certified: np.ndarray


def _measure(
    folder: Path,
    manifest: Manifest,
    units: gpd.GeoDataFrame,
    box: Box,
    halo: float,
    own: str | None,
    options: ReachOptions,
    rules: CoverageSettings,
) -> _Pass:
    """One pass over ``units`` with stations within ``halo`` of ``box``, roads within 2x."""
    also = [own] if own is not None else []
    stations = read_near(folder, manifest, "stations", grow(box, halo), also=also)
    roads = gpd.GeoDataFrame()
    if options.mode == "network":
        roads = read_near(folder, manifest, "roads", grow(box, 2 * halo))
    extent = manifest.extent()
    everything = extent is None or covers(grow(box, halo), extent)
    if options.mode == "network" and roads.empty and not everything:
        none = np.zeros(len(units), dtype=bool)  # no road yet: look farther
        return _Pass(pd.DataFrame(index=units.index), _empty(), none)
    inputs = _inputs(units, stations, roads, manifest, dt.date.today())
    counting = stations[stations["counting"].astype(bool)] if len(stations) else stations
    reach = service_reach(inputs, counting, options, rules, every_station=stations)
    nearest = reach.units[["nearest_station_m", "nearest_counting_station_m"]].to_numpy()
    certified = everything | (nearest <= halo).all(axis=1)
    areas = reach.service_areas
    if own is not None:
        owned = read_partition(folder, "stations", own).index if _has(manifest, own) else []
        areas = areas[areas["station_id"].isin(owned)]
    return _Pass(reach.units, areas, np.asarray(certified, dtype=bool))


def _has(manifest: Manifest, partition: str) -> bool:
    return partition in manifest.boxes["stations"]


def _box(manifest: Manifest, partition: str) -> Box:
    boxes = [manifest.boxes["units"][partition]]
    if _has(manifest, partition):
        boxes.append(manifest.boxes["stations"][partition])
    found = union(boxes)
    assert found is not None
    return found


def measure_partition(
    folder: Path,
    partition: str,
    options: ReachOptions,
    rules: CoverageSettings,
    *,
    halo: float | None = None,
    units: gpd.GeoDataFrame | None = None,
) -> PartitionReach:
    """Service reach of every unit of ``partition``, exact (see the module docstring).

    ``halo``: metres, default :func:`gridmap.scale.halo.halo_m`. Given explicitly it is
    used as it is, in one pass, nearest stations uncertified (``halo=0`` reads nothing
    beyond the partition: the broken engine the tests compare against). ``units``: the
    partition's units when the caller read them already.
    """
    manifest = Manifest.read(folder)
    units = read_partition(folder, "units", partition) if units is None else units
    width = halo_m(options, rules) if halo is None else halo
    box = _box(manifest, partition)
    first = _measure(folder, manifest, units, box, width, partition, options, rules)
    if halo is not None:
        return PartitionReach(partition, first.reach, first.areas, 1)
    parts = [first.reach[first.certified]]
    pending = units[~first.certified]
    passes = 1
    while len(pending):
        width = max(width * GROWTH, 1.0)
        passes += 1
        west, south, east, north = pending.to_crs(manifest.crs).total_bounds
        box = (float(west), float(south), float(east), float(north))
        again = _measure(folder, manifest, pending, box, width, None, options, rules)
        parts.append(again.reach[again.certified])
        pending = pending[~again.certified]
    logger.info("partition %s: %d units, %d passes", partition, len(units), passes)
    reach = pd.concat([p for p in parts if len(p)]) if len(units) else first.reach
    return PartitionReach(partition, reach.reindex(units.index), first.areas, passes)


def assign_partition(
    folder: Path, partition: str, units: gpd.GeoDataFrame | None = None
) -> pd.Series:
    """The cell id of every unit of ``partition`` (-1: in none), the cells around it read only.

    The same :class:`~gridmap.grid.CellIndex` the single-process assignment uses, on
    the cells that meet the partition's box (a unit can only lie in one of those).
    """
    manifest = Manifest.read(folder)
    units = read_partition(folder, "units", partition) if units is None else units
    cells = read_near(folder, manifest, "cells", manifest.boxes["units"][partition])
    if cells.empty:
        return pd.Series(-1, index=units.index, dtype="int64")
    crs = manifest.crs
    index = CellIndex(cells.to_crs(crs))
    found = index.locate_points(units.geometry.to_crs(crs))
    ids = np.where(found >= 0, cells.index.to_numpy()[np.maximum(found, 0)], -1)
    return pd.Series(ids, index=units.index, dtype="int64")


def measure_to_parquet(
    folder: Path,
    partition: str,
    options: ReachOptions,
    rules: CoverageSettings,
    out: Path,
) -> dict[str, float]:
    """Assign the cells and measure the reach of one partition; write them to ``out``.

    For runs too large to bring back to one process: the results stay beside the
    inputs, one GeoParquet-free Parquet file per partition (``unit`` index, ``cell_id``,
    ``population`` and the reach columns). Returns the partition's counts, its wall and
    CPU seconds, and the worker's peak resident memory so far.
    """
    import resource
    import time

    start, cpu = time.perf_counter(), time.process_time()
    units = read_partition(folder, "units", partition)
    frame = measure_partition(folder, partition, options, rules, units=units).units
    frame.insert(0, "cell_id", assign_partition(folder, partition, units))
    frame.insert(1, "population", units["population"].to_numpy())
    out.mkdir(parents=True, exist_ok=True)
    frame.index.name = "unit"
    frame.to_parquet(out / f"{partition}.parquet")
    return {
        "units": float(len(frame)),
        "covered": float(frame["service_covered"].sum()),
        "seconds": time.perf_counter() - start,
        "cpu_s": time.process_time() - cpu,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }


def measure_whole(
    folder: Path,
    options: ReachOptions,
    rules: CoverageSettings,
    *,
    partitions: list[str] | None = None,
) -> pd.DataFrame:
    """The single-process reference: the units of ``partitions`` (default all) in one go.

    Every station, road and cell of the folder is read; the same kernels run once
    over all the units. Columns as :func:`measure_to_parquet` writes them.
    """
    manifest = Manifest.read(folder)
    extent = manifest.extent()
    assert extent is not None
    chosen = manifest.partitions if partitions is None else partitions
    units = pd.concat([read_partition(folder, "units", k) for k in chosen]).sort_index()
    units = gpd.GeoDataFrame(units, crs=WGS84)
    stations = read_near(folder, manifest, "stations", extent)
    roads = gpd.GeoDataFrame()
    if options.mode == "network":
        roads = read_near(folder, manifest, "roads", extent)
    inputs = _inputs(units, stations, roads, manifest, dt.date.today())
    counting = stations[stations["counting"].astype(bool)]
    frame = service_reach(inputs, counting, options, rules, every_station=stations).units
    cells = read_near(folder, manifest, "cells", extent).to_crs(manifest.crs)
    found = CellIndex(cells).locate_points(units.geometry.to_crs(manifest.crs))
    ids = np.where(found >= 0, cells.index.to_numpy()[np.maximum(found, 0)], -1)
    frame.insert(0, "cell_id", pd.Series(ids, index=units.index, dtype="int64"))
    frame.insert(1, "population", units["population"].to_numpy())
    frame.index.name = "unit"
    return frame
