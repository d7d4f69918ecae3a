"""compute_grid_check: planted gaps, overlaps, crossings and duplicate codes are found, measured."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pyogrio
import pytest
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gridmap.grid import (
    BEIJING_DB11_T_2157_2023,
    GridReport,
    assign_codes,
    compute_grid,
    compute_grid_check,
)
from gridmap.grid._common import WGS84, project

GK_117E = CRS.from_epsg(4548)
X0, Y0, SIZE = 500_000.0, 3_120_000.0, 100.0
WEST, EAST = "360681100201", "360681100202"


def square(row: int, col: int, *, grow_east: float = 0.0) -> BaseGeometry:
    """Lattice square at (row, col), row 0 to the north; optionally stretched east."""
    return shapely.box(
        X0 + col * SIZE, Y0 - (row + 1) * SIZE, X0 + (col + 1) * SIZE + grow_east, Y0 - row * SIZE
    )


@pytest.fixture
def grid() -> gpd.GeoDataFrame:
    """A clean, coded 3 x 3 grid of 100 m squares in GK 117°E."""
    cells = gpd.GeoDataFrame(
        {"area_code": [WEST] * 9},
        geometry=[square(r, c) for r in range(3) for c in range(3)],
        crs=GK_117E,
    )
    return assign_codes(cells, BEIJING_DB11_T_2157_2023)


@pytest.fixture
def boundary() -> BaseGeometry:
    """The 300 m square the grid covers, in WGS-84."""
    outline = shapely.box(X0, Y0 - 3 * SIZE, X0 + 3 * SIZE, Y0)
    geom: BaseGeometry = project(outline, GK_117E, WGS84).item()
    return geom


def test_clean_grid_reports_ok(grid: gpd.GeoDataFrame, boundary: BaseGeometry) -> None:
    report = compute_grid_check(grid, boundary)
    assert report.ok
    assert report.to_table() == []
    frame = report.to_geodataframe()
    assert len(frame) == 0 and list(frame.columns) == [*GridReport.TABLE_COLUMNS, "geometry"]
    assert report.cell_area_m2 == pytest.approx(90_000.0)
    assert report.boundary_area_m2 == pytest.approx(90_000.0, rel=1e-9)
    assert report.metric_crs == "EPSG:4548"


def test_planted_gap_is_found_with_its_area(grid: gpd.GeoDataFrame, boundary: BaseGeometry) -> None:
    report = compute_grid_check(grid.drop(index=4), boundary)  # the centre cell
    assert not report.ok
    assert len(report.gaps) == 1
    assert report.gaps[0].area_m2 == pytest.approx(10_000.0, rel=1e-6)
    centre = project(square(1, 1), GK_117E, WGS84).item()
    assert report.gaps[0].geometry.symmetric_difference(centre).area < 1e-6 * centre.area
    assert report.overlaps == () and report.duplicates == () and report.spills == ()
    assert [row[0] for row in report.to_table()] == ["gap"]


def test_planted_overlap_names_both_cells_and_measures_the_overlap(
    grid: gpd.GeoDataFrame, boundary: BaseGeometry
) -> None:
    grid.loc[4, "geometry"] = square(1, 1, grow_east=20.0)
    report = compute_grid_check(grid, boundary)
    assert len(report.overlaps) == 1
    overlap = report.overlaps[0]
    assert overlap.cells == (grid.loc[4, "code"], grid.loc[5, "code"])
    assert overlap.area_m2 == pytest.approx(20.0 * SIZE)
    assert report.gaps == () and report.spills == ()


def test_overlap_below_tolerance_is_ignored(grid: gpd.GeoDataFrame, boundary: BaseGeometry) -> None:
    grid.loc[4, "geometry"] = square(1, 1, grow_east=0.005)  # 0.5 m²
    assert compute_grid_check(grid, boundary).ok
    assert not compute_grid_check(grid, boundary, overlap_tolerance_m2=0.1).ok


def test_cell_outside_the_boundary_is_a_spill(
    grid: gpd.GeoDataFrame, boundary: BaseGeometry
) -> None:
    grid.loc[5, "geometry"] = square(1, 2, grow_east=50.0)
    report = compute_grid_check(grid, boundary)
    assert len(report.spills) == 1
    assert report.spills[0].area_m2 == pytest.approx(50.0 * SIZE, rel=1e-6)


def test_duplicate_code_lists_the_rows(grid: gpd.GeoDataFrame, boundary: BaseGeometry) -> None:
    grid.loc[2, "code"] = grid.loc[1, "code"]
    grid.loc[7, "code"] = None
    report = compute_grid_check(grid, boundary)
    assert [(d.code, d.rows) for d in report.duplicates] == [(grid.loc[1, "code"], (1, 2))]
    assert [(u.cell, u.problem) for u in report.unfit] == [("row 7", "uncoded")]
    problems = report.to_geodataframe()["problem"].tolist()
    assert problems == ["duplicate_code", "uncoded"]


def test_cells_crossing_two_communities_with_the_area_in_each(
    grid: gpd.GeoDataFrame, boundary: BaseGeometry
) -> None:
    split = X0 + 130.0  # through the middle column
    communities = gpd.GeoDataFrame(
        {"code": [WEST, EAST], "name": ["西村", "东村"]},
        geometry=[shapely.box(X0, Y0 - 300, split, Y0), shapely.box(split, Y0 - 300, X0 + 300, Y0)],
        crs=GK_117E,
    )
    report = compute_grid_check(grid, boundary, communities=communities)
    middle = {grid.loc[i, "code"] for i in (1, 4, 7)}
    assert {c.cell for c in report.crossings} == middle
    for crossing in report.crossings:
        (code_a, area_a), (code_b, area_b) = crossing.areas
        assert (code_a, code_b) == (WEST, EAST)
        assert area_a == pytest.approx(30.0 * SIZE) and area_b == pytest.approx(70.0 * SIZE)
    table = report.to_table()
    assert {row[0] for row in table} == {"crossing"}
    assert "360681100201: 3000.0 m²" in table[0][3]
    frame = report.to_geodataframe()
    assert frame.crs == WGS84 and len(frame) == 3


def test_generated_and_coded_county_grid_is_clean(shared_data: Path) -> None:
    county = pyogrio.read_dataframe(
        shared_data / "china" / "district.geojson", where="name = '贵溪市'"
    ).geometry.iloc[0]
    minx, miny, maxx, maxy = county.bounds
    midx, midy = (minx + maxx) / 2, (miny + maxy) / 2
    quadrants = [
        shapely.box(x0, y0, x1, y1)
        for x0, x1 in ((minx, midx), (midx, maxx))
        for y0, y1 in ((miny, midy), (midy, maxy))
    ]
    communities = gpd.GeoDataFrame(
        {"code": [f"360681100{i:03d}" for i in (201, 202, 203, 204)], "name": list("甲乙丙丁")},
        geometry=quadrants,
        crs=WGS84,
    )
    cells = compute_grid(county, shape="square", size_m=3_000.0, communities=communities)
    coded = assign_codes(cells, BEIJING_DB11_T_2157_2023)
    report = compute_grid_check(coded, county, communities=communities)
    assert report.ok, report.to_table()[:5]
    assert coded["code"].str.startswith("360681100").all()
    assert report.cell_area_m2 == pytest.approx(report.boundary_area_m2, rel=1e-6)


def test_a_millimetre_strip_along_a_long_edge_is_not_a_gap() -> None:
    """Cells clipped along a 2 km border edge leave a strip 4 mm wide (8.8 m², Ruggell)."""
    boundary_m = shapely.box(X0, Y0, X0 + 2000.0, Y0 + 500.0)
    cells_m = [shapely.box(X0, Y0, X0 + 2000.0, Y0 + 500.0 - 0.004)]
    boundary = project(boundary_m, GK_117E, WGS84).item()
    cells = gpd.GeoDataFrame({"code": ["a"]}, geometry=project(cells_m, GK_117E, WGS84), crs=4326)
    assert compute_grid_check(cells, boundary).gaps == ()
    wide = [shapely.box(X0, Y0, X0 + 2000.0, Y0 + 500.0 - 0.05)]  # 5 cm: 100 m², a real gap
    cells = gpd.GeoDataFrame({"code": ["a"]}, geometry=project(wide, GK_117E, WGS84), crs=4326)
    assert len(compute_grid_check(cells, boundary).gaps) == 1
