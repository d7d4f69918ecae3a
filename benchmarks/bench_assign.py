"""Points into cells: gridmap's CellIndex and RegularGrid against ``geopandas.sjoin``.

Input (seeded): clustered points (gaussian clusters over a 20 km box in a
CGCS2000 Gauss-Kruger zone, so coordinates have realistic magnitudes) located
in irregular Voronoi cells and in square cells. Every case checks that gridmap
and ``sjoin(points, cells, predicate="within")`` agree on every point not lying
on a cell boundary, that such boundary points are counted (random floats give
none), and that the raster prefilter returns exactly what the exact method does.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS, Transformer

from benchmarks._harness import Measurement, Result, measure
from gridmap.grid import CellIndex, RegularGrid

logger = logging.getLogger(__name__)

CRS_METRIC = CRS.from_epsg(4548)  # CGCS2000 / 3-degree GK CM 117E
BOX = (490_000.0, 3_100_000.0, 510_000.0, 3_120_000.0)
SEED = 20240601


@dataclass(frozen=True)
class Inputs:
    """Points (metric and lon/lat) and the two cell sets."""

    x: np.ndarray
    y: np.ndarray
    lon: np.ndarray
    lat: np.ndarray
    voronoi: np.ndarray
    squares: np.ndarray
    square_size: float


def make_inputs(n_points: int, n_cells: int) -> Inputs:
    """Seeded clustered points, Voronoi cells and a square lattice of about ``n_cells`` each."""
    rng = np.random.default_rng(SEED)
    minx, miny, maxx, maxy = BOX
    centres = rng.uniform((minx, miny), (maxx, maxy), size=(200, 2))
    sigma = rng.uniform(200.0, 1500.0, size=200)
    which = rng.integers(0, 200, size=n_points)
    x = centres[which, 0] + rng.normal(size=n_points) * sigma[which]
    y = centres[which, 1] + rng.normal(size=n_points) * sigma[which]
    seeds = shapely.multipoints(rng.uniform((minx, miny), (maxx, maxy), size=(n_cells, 2)))
    box = shapely.box(*BOX)
    voronoi = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds)), box)
    side = round(float(np.sqrt(n_cells)))
    size = (maxx - minx) / side
    cols, rows = np.meshgrid(np.arange(side), np.arange(side))
    squares = shapely.box(
        minx + cols.ravel() * size,
        miny + rows.ravel() * size,
        minx + (cols.ravel() + 1) * size,
        miny + (rows.ravel() + 1) * size,
    )
    lon, lat = Transformer.from_crs(CRS_METRIC, 4326, always_xy=True).transform(x, y)
    return Inputs(x, y, np.asarray(lon), np.asarray(lat), voronoi, squares, size)


def sjoin_cells(points: gpd.GeoDataFrame, cells: gpd.GeoDataFrame) -> np.ndarray:
    """Cell position per point by ``sjoin(..., predicate="within")``; -1 where none."""
    joined = gpd.sjoin(points, cells, predicate="within", how="left")
    joined = joined[~joined.index.duplicated(keep="first")]
    return np.asarray(joined["index_right"].fillna(-1).to_numpy(), dtype=np.int64)


def compare(ours: np.ndarray, theirs: np.ndarray, inputs: Inputs, cells: np.ndarray) -> int:
    """Assert agreement off cell boundaries; return the number of boundary points."""
    points = shapely.points(inputs.x, inputs.y)
    boundary = shapely.STRtree(shapely.boundary(cells)).query(points, predicate="intersects")[0]
    on_boundary = np.zeros(len(points), dtype=bool)
    on_boundary[boundary] = True
    differ = np.flatnonzero(ours != theirs)
    unexplained = differ[~on_boundary[differ]]
    if len(unexplained):
        raise AssertionError(f"{len(unexplained)} points differ from sjoin off cell boundaries")
    return int(on_boundary.sum())


def run(quick: bool) -> list[Result]:
    """Run every case; ``quick`` uses 50k points and 1k cells."""
    n_points, n_cells = (50_000, 1_000) if quick else (1_000_000, 10_000)
    inputs = make_inputs(n_points, n_cells)
    points = gpd.GeoDataFrame(geometry=shapely.points(inputs.x, inputs.y), crs=CRS_METRIC)
    label = f"{n_points // 1000}k pts"
    return [
        *_irregular(inputs, points, label, n_cells),
        *_regular(inputs, points, label, n_cells),
    ]


def _irregular(inputs: Inputs, points: gpd.GeoDataFrame, label: str, n: int) -> list[Result]:
    cells = gpd.GeoDataFrame(geometry=inputs.voronoi, crs=CRS_METRIC)
    base = measure(lambda: sjoin_cells(points, cells))
    full = measure(lambda: CellIndex(cells).locate(inputs.x, inputs.y))
    index = CellIndex(cells)
    query = measure(lambda: index.locate(inputs.x, inputs.y))
    exact = measure(lambda: index.locate_exact(inputs.x, inputs.y), repeat=1)
    if not np.array_equal(query.value, exact.value):
        raise AssertionError("raster prefilter differs from the exact method")
    on_boundary = compare(full.value, base.value, inputs, inputs.voronoi)
    extra = {"points_on_boundary": on_boundary, "outside": int((full.value < 0).sum())}
    name = f"{label} -> {n // 1000}k Voronoi"
    return [
        _result(
            f"{name}, CellIndex build+locate", full, base, ">=1x sjoin (stretch 4x)", 1.0, extra
        ),
        _result(f"{name}, CellIndex locate (prebuilt)", query, base, ">=1x sjoin", 1.0, extra),
        _result(f"{name}, exact only (no raster)", exact, base, "info", 0.0, extra),
    ]


def _regular(inputs: Inputs, points: gpd.GeoDataFrame, label: str, n: int) -> list[Result]:
    cells = gpd.GeoDataFrame(geometry=inputs.squares, crs=CRS_METRIC)
    grid = RegularGrid.from_geometries(
        inputs.squares, inputs.square_size, CRS_METRIC, (BOX[0], BOX[1])
    )
    base = measure(lambda: sjoin_cells(points, cells))
    metric = measure(lambda: grid.locate(inputs.x, inputs.y), repeat=5)
    lonlat = measure(lambda: grid.locate_lonlat(inputs.lon, inputs.lat), repeat=3)
    on_boundary = compare(metric.value, base.value, inputs, inputs.squares)
    agree = int((lonlat.value == metric.value).sum())
    n_points = len(inputs.x)
    name = f"{label} -> {n // 1000}k squares"
    rate = {"points_per_s": round(n_points / metric.seconds), "points_on_boundary": on_boundary}
    proj_rate = {
        "points_per_s": round(n_points / lonlat.seconds),
        "projection_share": round(1 - metric.seconds / lonlat.seconds, 3),
        "same_cell_as_metric": agree,
    }
    return [
        _result(
            f"{name}, RegularGrid metric x/y",
            metric,
            base,
            ">=10M pts/s",
            0.0,
            rate,
            n_points / metric.seconds >= 10e6,
        ),
        _result(
            f"{name}, RegularGrid incl. lon/lat projection",
            lonlat,
            base,
            "info (projection cost)",
            0.0,
            proj_rate,
        ),
    ]


def _result(
    case: str,
    ours: Measurement,
    base: Measurement,
    target: str,
    min_speedup: float,
    extra: Mapping[str, object],
    met: bool | None = None,
) -> Result:
    speedup = base.seconds / ours.seconds
    logger.info("%s: %.3fs vs sjoin %.3fs (%.1fx)", case, ours.seconds, base.seconds, speedup)
    return Result(
        benchmark="assign",
        case=case,
        gridmap_s=ours.seconds,
        baseline="geopandas.sjoin within",
        baseline_s=base.seconds,
        target=target,
        met=met if met is not None else speedup >= min_speedup,
        gridmap_peak_mb=ours.peak_mb,
        baseline_peak_mb=base.peak_mb,
        extra=dict(extra),
    )
