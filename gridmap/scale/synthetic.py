"""A synthetic province written county by county straight to GeoParquet.

Counties are squares of ``county_km`` side laid out on a grid. Each county is
generated from its own seed by one task, so the province never sits in one
process: units clustered around settlements, square cells, stations near
settlements (a tenth of them idle), and a road lattice whose lines end on the
county's edge at the same vertex as the neighbour's (the network crosses
counties). ``split`` writes every county as that many strips of units (more,
smaller partitions) without changing a single unit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from gridmap.crs import metric_crs_for
from gridmap.scale.exchange import Box, Manifest, write_partition
from gridmap.scale.partition import split_keys

__all__ = ["Province", "write_county", "write_manifest"]

#: Centre of the synthetic province (WGS-84); its metric CRS is the one of the run.
CENTRE = (117.0, 28.5)


@dataclass(frozen=True)
class Province:
    """The size of a synthetic province."""

    counties: int = 4
    units: int = 200_000
    cells: int = 4_000
    stations: int = 2_000
    county_km: float = 30.0
    road_km: float = 1.0
    settlements: int = 60
    seed: int = 16

    @property
    def columns(self) -> int:
        """Counties per row of the layout."""
        return math.ceil(math.sqrt(self.counties))

    def crs(self) -> CRS:
        """The metric CRS the province is laid out in."""
        return metric_crs_for(*CENTRE)

    def origin(self, county: int) -> tuple[float, float]:
        """South-west corner of ``county`` in metres."""
        side = self.county_km * 1000.0
        west0, south0 = _centre_xy(self.crs())
        rows = math.ceil(self.counties / self.columns)
        west0 -= self.columns * side / 2
        south0 -= rows * side / 2
        return west0 + (county % self.columns) * side, south0 + (county // self.columns) * side

    def code(self, county: int) -> str:
        """GB/T 2260-like 6-digit code of ``county``."""
        return f"3607{county + 1:02d}"


def _centre_xy(crs: CRS) -> tuple[float, float]:
    from pyproj import Transformer

    x, y = Transformer.from_crs(4326, crs, always_xy=True).transform(*CENTRE)
    return float(x), float(y)


def _share(total: int, county: int, counties: int) -> int:
    return total // counties + (1 if county < total % counties else 0)


def _units(p: Province, county: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    side = p.county_km * 1000.0
    west, south = p.origin(county)
    n = _share(p.units, county, p.counties)
    centres = rng.uniform(0.02 * side, 0.98 * side, size=(p.settlements, 2))
    which = rng.integers(0, p.settlements, size=n)
    xy = centres[which] + rng.normal(0.0, side / 40, size=(n, 2))
    xy = np.clip(xy, 1.0, side - 1.0) + np.array([west, south])
    start = county * 10**8 + 1
    return gpd.GeoDataFrame(
        {
            "population": rng.integers(1, 400, size=n),
            "cell_id": pd.array([pd.NA] * n, dtype="Int64"),
        },
        geometry=shapely.points(xy),
        index=pd.RangeIndex(start, start + n),
        crs=p.crs(),
    )


def _cells(p: Province, county: int) -> gpd.GeoDataFrame:
    side = p.county_km * 1000.0
    west, south = p.origin(county)
    k = max(1, round(math.sqrt(_share(p.cells, county, p.counties))))
    step = side / k
    i, j = np.meshgrid(np.arange(k), np.arange(k), indexing="ij")
    x0, y0 = west + i.ravel() * step, south + j.ravel() * step
    start = county * 10**6 + 1
    return gpd.GeoDataFrame(
        {"code": [f"{p.code(county)}{n:06d}" for n in range(k * k)]},
        geometry=shapely.box(x0, y0, x0 + step, y0 + step),
        index=pd.RangeIndex(start, start + k * k),
        crs=p.crs(),
    )


def _stations(p: Province, county: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    side = p.county_km * 1000.0
    west, south = p.origin(county)
    n = _share(p.stations, county, p.counties)
    xy = rng.uniform(0.0, side, size=(n, 2)) + np.array([west, south])
    tiers = rng.choice(["community", "village", "township"], size=n, p=[0.6, 0.3, 0.1])
    start = county * 10**6 + 1
    return gpd.GeoDataFrame(
        {
            "tier": tiers,
            "name": [f"站点 {county}-{i}" for i in range(n)],
            "counting": rng.random(n) >= 0.1,
        },
        geometry=shapely.points(xy),
        index=pd.RangeIndex(start, start + n),
        crs=p.crs(),
    )


def _roads(p: Province, county: int) -> gpd.GeoDataFrame:
    side = p.county_km * 1000.0
    west, south = p.origin(county)
    ticks = np.linspace(0.0, side, max(2, round(p.county_km / p.road_km) + 1))
    lines = []
    for t in ticks[:-1]:  # the last line is the neighbour's first
        along = np.column_stack([ticks, np.full_like(ticks, t)])
        lines.append(shapely.linestrings(along + np.array([west, south])))
        lines.append(shapely.linestrings(along[:, ::-1] + np.array([west, south])))
    start = county * 10**6 + 1
    return gpd.GeoDataFrame(
        {"highway": "residential", "oneway": "no"},
        geometry=lines,
        index=pd.RangeIndex(start, start + len(lines)),
        crs=p.crs(),
    )


def write_county(
    folder: Path, p: Province, county: int, *, split: int = 1
) -> dict[str, dict[str, Box]]:
    """Write one county's layers; return their boxes per layer and partition."""
    rng = np.random.default_rng([p.seed, county])
    crs = p.crs()
    units = _units(p, county, rng)
    keys = split_keys(pd.Series(p.code(county), index=units.index), units.geometry, split)
    units["partition"] = keys
    boxes: dict[str, dict[str, Box]] = {"units": {}, "stations": {}, "roads": {}, "cells": {}}
    for key in sorted(set(keys)):
        box = write_partition(folder, "units", key, units[keys == key], crs)
        if box is not None:
            boxes["units"][key] = box
    first = sorted(set(keys))[0]
    layers = {
        "stations": _stations(p, county, rng),
        "roads": _roads(p, county),
        "cells": _cells(p, county),
    }
    for layer, frame in layers.items():
        box = write_partition(folder, layer, first, frame, crs)
        if box is not None:
            boxes[layer][first] = box
    return boxes


def write_manifest(folder: Path, p: Province, parts: list[dict[str, dict[str, Box]]]) -> Manifest:
    """The manifest of a province written county by county."""
    manifest = Manifest(metric_crs=p.crs().to_string())
    for part in parts:
        for layer, boxes in part.items():
            manifest.boxes[layer].update(boxes)
    manifest.write(folder)
    return manifest
