"""Point and polygon assignment: boundary rule, agreement with brute force, RegularGrid."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gridmap.grid import CellIndex, GridError, RegularGrid, assign_polygons, compute_grid
from gridmap.grid._common import WGS84, project

GK_117E = CRS.from_epsg(4548)
X0, Y0, SIZE = 500_000.0, 3_120_000.0, 100.0


@pytest.fixture(scope="module")
def guixi(shared_data: Path) -> BaseGeometry:
    frame = pyogrio.read_dataframe(
        shared_data / "china" / "district.geojson", where="name = '贵溪市'"
    )
    geom: BaseGeometry = frame.geometry.iloc[0]
    return geom


def lattice(n: int) -> np.ndarray:
    """n x n exact 100 m squares, row-major from the south-west."""
    return np.array(
        [
            shapely.box(X0 + c * SIZE, Y0 + r * SIZE, X0 + (c + 1) * SIZE, Y0 + (r + 1) * SIZE)
            for r in range(n)
            for c in range(n)
        ]
    )


@pytest.fixture(scope="module")
def voronoi() -> np.ndarray:
    rng = np.random.default_rng(7)
    seeds = shapely.multipoints(rng.uniform((X0, Y0), (X0 + 5_000, Y0 + 5_000), size=(400, 2)))
    box = shapely.box(X0, Y0, X0 + 5_000, Y0 + 5_000)
    cells = shapely.intersection(shapely.get_parts(shapely.voronoi_polygons(seeds)), box)
    return np.asarray(cells, dtype=object)


def brute_force(cells: np.ndarray, x: np.ndarray, y: np.ndarray) -> list[list[int]]:
    """Every cell that covers each point, testing each point against every cell."""
    return [
        np.flatnonzero(shapely.covers(cells, shapely.Point(px, py))).tolist()
        for px, py in zip(x, y, strict=True)
    ]


@pytest.mark.parametrize("pixels_per_cell", [None, 32.0])
def test_point_on_shared_edge_and_corner_goes_to_exactly_one_cell(
    pixels_per_cell: float | None,
) -> None:
    cells = lattice(2)  # 0 = SW, 1 = SE, 2 = NW, 3 = NE
    xs = np.array([X0 + SIZE, X0 + 50.0, X0 + SIZE, X0 + 2 * SIZE, X0])
    ys = np.array([Y0 + 50.0, Y0 + SIZE, Y0 + SIZE, Y0 + 150.0, Y0])
    # vertical edge -> east cell; horizontal edge -> north cell; centre corner -> NE cell;
    # outer east edge -> the only covering cell; outer SW corner -> the SW cell
    expected = [1, 2, 3, 3, 0]
    for run in range(3):
        order = np.random.default_rng(run).permutation(4)
        index = CellIndex(cells[order], pixels_per_cell=pixels_per_cell)
        found = index.locate(xs, ys)
        assert order[found].tolist() == expected  # same geometry whatever the row order


def test_point_on_a_diagonal_edge_is_settled_by_the_second_nudge() -> None:
    south_east = shapely.Polygon([(0, 0), (10, 0), (10, 10)])
    north_west = shapely.Polygon([(0, 0), (10, 10), (0, 10)])
    for cells in ([south_east, north_west], [north_west, south_east]):
        found = CellIndex(np.array(cells), pixels_per_cell=None).locate([5.0], [5.0])
        assert cells[found[0]] is south_east  # NE nudge stays on the edge, ENE goes south-east


def test_irregular_index_agrees_with_a_brute_force_covers_loop(voronoi: np.ndarray) -> None:
    rng = np.random.default_rng(11)
    x = rng.uniform(X0 - 200, X0 + 5_200, 2_000)
    y = rng.uniform(Y0 - 200, Y0 + 5_200, 2_000)
    found = CellIndex(voronoi).locate(x, y)
    covering = brute_force(voronoi, x, y)
    assert all(len(c) <= 1 for c in covering)  # random floats: no boundary points
    assert found.tolist() == [c[0] if c else -1 for c in covering]
    assert (found == -1).sum() > 0 and (found >= 0).sum() > 1_500


def test_raster_prefilter_is_identical_to_the_exact_method(voronoi: np.ndarray) -> None:
    rng = np.random.default_rng(3)
    vertices = shapely.get_coordinates(voronoi)  # points on shared corners and edges
    midpoints = (vertices[:-1] + vertices[1:]) / 2
    random = rng.uniform((X0, Y0), (X0 + 5_000, Y0 + 5_000), size=(20_000, 2))
    points = np.concatenate([vertices, midpoints, random, [[np.nan, Y0], [X0 - 1e6, Y0]]])
    index = CellIndex(voronoi, pixels_per_cell=16.0)
    fast = index.locate(points[:, 0], points[:, 1])
    exact = index.locate_exact(points[:, 0], points[:, 1])
    assert np.array_equal(fast, exact)
    assert fast[-2:].tolist() == [-1, -1]
    on_vertices = fast[: len(vertices)]
    assert (on_vertices >= 0).all()  # every vertex of the cells belongs to one of them


def test_regular_grid_agrees_with_cell_index_on_a_square_grid() -> None:
    cells = lattice(10)
    grid = RegularGrid.from_geometries(cells, SIZE, GK_117E, (X0, Y0))
    index = CellIndex(cells)
    rng = np.random.default_rng(5)
    nodes = np.arange(-1, 12) * SIZE / 2  # lattice lines, edge midpoints, outer edges
    gx, gy = np.meshgrid(X0 + nodes, Y0 + nodes)
    x = np.concatenate([gx.ravel(), rng.uniform(X0 - 100, X0 + 1_100, 5_000)])
    y = np.concatenate([gy.ravel(), rng.uniform(Y0 - 100, Y0 + 1_100, 5_000)])
    assert np.array_equal(grid.locate(x, y), index.locate(x, y))
    col, row = np.floor((x - X0) / SIZE), np.floor((y - Y0) / SIZE)
    inner = (col >= 0) & (col < 10) & (row >= 0) & (row < 10)
    assert np.array_equal(grid.locate(x, y)[inner], (row * 10 + col)[inner])


def test_regular_grid_on_a_generated_county_grid_matches_cell_index(guixi: BaseGeometry) -> None:
    cells = compute_grid(guixi, shape="square", size_m=2_000.0)
    grid = RegularGrid.from_cells(cells)
    index = CellIndex(cells)
    rng = np.random.default_rng(9)
    minx, miny, maxx, maxy = guixi.bounds
    lon, lat = rng.uniform(minx, maxx, 20_000), rng.uniform(miny, maxy, 20_000)
    expected = index.locate(lon, lat)
    assert np.array_equal(grid.locate_lonlat(lon, lat), expected)
    inside = shapely.contains_xy(guixi, lon, lat)
    assert (expected[inside] >= 0).all() and (expected[~inside] == -1).mean() > 0.99


def test_regular_grid_refuses_hex_cells() -> None:
    boundary = project(shapely.box(X0, Y0, X0 + 2_000, Y0 + 2_000), GK_117E, WGS84).item()
    cells = compute_grid(boundary, shape="hex", size_m=300.0)
    with pytest.raises(GridError, match="square cells"):
        RegularGrid.from_cells(cells)


def test_assign_polygons_by_largest_overlap_with_every_share() -> None:
    cells = gpd.GeoDataFrame(geometry=lattice(2), crs=GK_117E)
    polys = gpd.GeoDataFrame(
        geometry=[
            shapely.box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 20),  # inside SW
            shapely.box(X0 + 70, Y0 + 10, X0 + 170, Y0 + 20),  # 30 % SW, 70 % SE
            shapely.box(X0 + 50, Y0 + 10, X0 + 150, Y0 + 20),  # 50/50: lowest position
            shapely.box(X0 + 500, Y0, X0 + 600, Y0 + 10),  # outside
        ],
        crs=GK_117E,
    )
    main, shares = assign_polygons(polys, cells)
    assert main.tolist() == [0, 1, 0, -1]
    assert [(p, c) for p, c, _ in shares] == [(0, 0), (1, 0), (1, 1), (2, 0), (2, 1)]
    assert [s for _, _, s in shares] == pytest.approx([1.0, 0.3, 0.7, 0.5, 0.5], abs=1e-9)
    # from WGS-84 the areas are measured back in the metric CRS: same shares
    main_wgs, shares_wgs = assign_polygons(polys.iloc[:2].to_crs(WGS84), cells.to_crs(WGS84))
    assert main_wgs.tolist() == [0, 1]
    assert [s for _, _, s in shares_wgs] == pytest.approx([1.0, 0.3, 0.7], abs=1e-6)
