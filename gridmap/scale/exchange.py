"""GeoParquet as the exchange format between the store (or a generator) and the workers.

A folder holds one GeoParquet file per partition and layer, in WGS-84 like the
store, and a ``manifest.json``::

    manifest.json              metric CRS, extent, per layer and partition its box
    units/<partition>.parquet  id, cell_id, population, partition, geometry
    stations/<partition>.parquet   id, tier, name, counting, geometry
    roads/<partition>.parquet  id, highway, oneway, geometry
    cells/<partition>.parquet  id, code, geometry

A partition written in chunks (:mod:`.store_read`) is a directory of that name
holding ``part-N.parquet`` files; it reads as one.

Boxes are in the metric CRS of the run. A worker reads its own partition and,
from the other partitions, only the files whose box meets its halo, and in them
only the rows inside (GeoParquet's bounding-box column, ``bbox=``).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS, Transformer

__all__ = ["LAYERS", "Box", "Manifest", "read_near", "write_chunk", "write_partition"]

WGS84 = "EPSG:4326"
LAYERS = ("units", "stations", "roads", "cells")
MANIFEST = "manifest.json"
_SAFE = re.compile(r"[^0-9A-Za-z_.-]")

#: (min x, min y, max x, max y) in metres
Box = tuple[float, float, float, float]


def _file_name(partition: str) -> str:
    return _SAFE.sub("_", partition) + ".parquet"


def grow(box: Box, metres: float) -> Box:
    """``box`` grown by ``metres`` on every side."""
    return (box[0] - metres, box[1] - metres, box[2] + metres, box[3] + metres)


def meets(a: Box, b: Box) -> bool:
    """Whether two boxes share any point."""
    return a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]


def covers(outer: Box, inner: Box) -> bool:
    """Whether ``outer`` contains ``inner``."""
    return (
        outer[0] <= inner[0]
        and outer[1] <= inner[1]
        and outer[2] >= inner[2]
        and outer[3] >= inner[3]
    )


def union(boxes: Iterable[Box]) -> Box | None:
    """The box around ``boxes`` (None for none)."""
    found = list(boxes)
    if not found:
        return None
    array = np.asarray(found, dtype=np.float64)
    return (
        float(array[:, 0].min()),
        float(array[:, 1].min()),
        float(array[:, 2].max()),
        float(array[:, 3].max()),
    )


@dataclass
class Manifest:
    """What a folder holds: the metric CRS and every partition file's box."""

    metric_crs: str
    boxes: dict[str, dict[str, Box]] = field(default_factory=lambda: {k: {} for k in LAYERS})

    @property
    def crs(self) -> CRS:
        """The metric CRS every distance is measured in."""
        return _crs(self.metric_crs)

    @property
    def partitions(self) -> list[str]:
        """The unit partitions, in order."""
        return sorted(self.boxes["units"])

    def extent(self) -> Box | None:
        """The box around every file of every layer."""
        return union(b for layer in self.boxes.values() for b in layer.values())

    def write(self, folder: Path) -> None:
        """Write ``manifest.json`` into ``folder``."""
        data = {"metric_crs": self.metric_crs, "boxes": self.boxes}
        (folder / MANIFEST).write_text(json.dumps(data, indent=1))

    @classmethod
    def read(cls, folder: Path) -> Manifest:
        """The manifest of ``folder``."""
        data = json.loads((folder / MANIFEST).read_text())
        boxes = {
            layer: {k: tuple(v) for k, v in data["boxes"].get(layer, {}).items()}
            for layer in LAYERS
        }
        return cls(metric_crs=data["metric_crs"], boxes=boxes)


def metric_box(frame: gpd.GeoDataFrame, crs: CRS) -> Box:
    """The box of ``frame`` (WGS-84) in ``crs``."""
    west, south, east, north = frame.to_crs(crs).total_bounds
    return (float(west), float(south), float(east), float(north))


def write_partition(
    folder: Path, layer: str, partition: str, frame: gpd.GeoDataFrame, crs: CRS
) -> Box | None:
    """Write one layer's partition (WGS-84) as GeoParquet; return its metric box (None: empty)."""
    if frame.empty:
        return None
    target = folder / layer
    target.mkdir(parents=True, exist_ok=True)
    out = frame.to_crs(WGS84) if frame.crs is not None else frame.set_crs(WGS84)
    out.to_parquet(target / _file_name(partition), index=True, write_covering_bbox=True)
    return metric_box(out, crs)


def write_chunk(
    folder: Path, layer: str, partition: str, number: int, frame: gpd.GeoDataFrame, crs: CRS
) -> Box | None:
    """Write chunk ``number`` of a partition written in pieces; return its metric box.

    The partition is then a directory of files, ``<layer>/<partition>.parquet/part-N``,
    which every reader here reads as one partition.
    """
    if frame.empty:
        return None
    target = folder / layer / _file_name(partition)
    target.mkdir(parents=True, exist_ok=True)
    out = frame.to_crs(WGS84) if frame.crs is not None else frame.set_crs(WGS84)
    path = target / f"part-{number:06d}.parquet"
    out.to_parquet(path, index=True, write_covering_bbox=True)
    return metric_box(out, crs)


@functools.lru_cache(maxsize=8)
def _crs(text: str) -> CRS:
    return CRS.from_user_input(text)  # building one costs tens of milliseconds: once


@functools.lru_cache(maxsize=8)
def _to_wgs84(crs: CRS) -> Transformer:
    return Transformer.from_crs(crs, WGS84, always_xy=True)


def _wgs84_bounds(box: Box, crs: CRS) -> Box:
    to_wgs84 = _to_wgs84(crs)
    west, south, east, north = to_wgs84.transform_bounds(*box, densify_pts=21)
    return (float(west), float(south), float(east), float(north))


def read_partition(folder: Path, layer: str, partition: str) -> gpd.GeoDataFrame:
    """One layer's partition as written."""
    frame = gpd.read_parquet(folder / layer / _file_name(partition))
    return frame.drop(columns="bbox", errors="ignore")


def read_near(
    folder: Path, manifest: Manifest, layer: str, box: Box, *, also: Iterable[str] = ()
) -> gpd.GeoDataFrame:
    """Rows of ``layer`` that meet ``box`` (metres), plus every row of partitions ``also``.

    Sorted by index (store id), like the single-process run reads them.
    """
    crs = manifest.crs
    bounds = _wgs84_bounds(box, crs)
    frames: list[gpd.GeoDataFrame] = []
    extra = set(also)
    for partition, file_box in sorted(manifest.boxes[layer].items()):
        path = folder / layer / _file_name(partition)
        if partition in extra:
            frames.append(gpd.read_parquet(path))
        elif meets(file_box, box):
            found = gpd.read_parquet(path, bbox=bounds)
            frames.append(found[_inside(found, box, crs)])
    if not frames:
        return _no_rows(folder, manifest, layer)
    joined = pd.concat(frames)
    joined = joined[~joined.index.duplicated()].sort_index()
    return gpd.GeoDataFrame(joined.drop(columns="bbox", errors="ignore"), crs=WGS84)


def _no_rows(folder: Path, manifest: Manifest, layer: str) -> gpd.GeoDataFrame:
    """An empty frame with the columns of ``layer``."""
    written = sorted(manifest.boxes[layer])
    if not written:
        return gpd.GeoDataFrame({"geometry": []}, geometry="geometry", crs=WGS84)
    path = folder / layer / _file_name(written[0])
    nowhere = (1000.0, 1000.0, 1000.1, 1000.1)  # outside any longitude and latitude
    empty = gpd.read_parquet(path, bbox=nowhere)
    return gpd.GeoDataFrame(empty.drop(columns="bbox", errors="ignore"), crs=WGS84)


def _inside(frame: gpd.GeoDataFrame, box: Box, crs: CRS) -> npt.NDArray[np.bool_]:
    if frame.empty:
        return np.zeros(0, dtype=bool)
    metric = frame.geometry.to_crs(crs).values
    return np.asarray(shapely.intersects(metric, shapely.box(*box)), dtype=bool)
