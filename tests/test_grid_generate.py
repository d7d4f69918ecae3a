"""compute_grid: cells tile the boundary, split by community, slivers handled."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pyogrio
import pytest
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gridmap.grid import GRID_ATTRS_KEY, GridError, compute_grid, compute_grid_check
from gridmap.grid._common import WGS84, project

GK_117E = CRS.from_epsg(4548)  # the zone metric_crs_for picks around 117°E


@pytest.fixture(scope="module")
def guixi(shared_data: Path) -> BaseGeometry:
    """The 贵溪市 county boundary (CGCS2000 geographic, within centimetres of WGS-84)."""
    frame = pyogrio.read_dataframe(
        shared_data / "china" / "district.geojson", where="name = '贵溪市'"
    )
    assert len(frame) == 1
    geom: BaseGeometry = frame.geometry.iloc[0]
    return geom


def metric_boundary(coords: list[tuple[float, float]]) -> tuple[BaseGeometry, BaseGeometry]:
    """A polygon given in GK 117°E metres, and the same polygon in WGS-84."""
    poly = shapely.Polygon(coords)
    return poly, project(poly, GK_117E, WGS84).item()


# An irregular pentagon of about 3 km x 2 km near Guixi (GK zone 117°E).
PENTAGON = [
    (499_130.0, 3_120_070.0),
    (502_310.0, 3_119_650.0),
    (502_870.0, 3_121_480.0),
    (500_950.0, 3_122_230.0),
    (499_020.0, 3_121_610.0),
]


def areas_m(cells: gpd.GeoDataFrame) -> np.ndarray:
    return np.asarray(shapely.area(project(cells.geometry.to_numpy(), WGS84, GK_117E)))


@pytest.mark.parametrize(
    ("shape", "kwargs"),
    [("square", {"size_m": 2000.0}), ("hex", {"size_m": 1200.0}), ("h3", {"resolution": 7})],
)
def test_cells_tile_the_county_without_gaps_or_overlaps(
    guixi: BaseGeometry, shape: str, kwargs: dict[str, float]
) -> None:
    cells = compute_grid(guixi, shape=shape, **kwargs)  # type: ignore[arg-type]
    cell_m = project(cells.geometry.to_numpy(), WGS84, GK_117E)
    county_m = project(guixi, WGS84, GK_117E).item()
    total = shapely.area(cell_m).sum()
    union = shapely.union_all(cell_m).area
    assert total == pytest.approx(county_m.area, rel=1e-6)  # no gap or overlap in the sum
    assert union == pytest.approx(total, rel=1e-6)  # no overlap: union equals the sum
    assert shapely.difference(county_m, shapely.union_all(cell_m)).area < 1e-6 * county_m.area
    assert cells.crs == WGS84
    assert list(cells.columns) == ["seq", "code", "area_code", "geometry"]
    assert cells["seq"].tolist() == list(range(1, len(cells) + 1))
    assert cells["code"].isna().all()
    assert shapely.is_valid(cells.geometry.to_numpy()).all()


def test_square_cells_are_lattice_squares_of_the_given_side() -> None:
    _, boundary = metric_boundary(PENTAGON)
    cells = compute_grid(boundary, shape="square", size_m=250.0)
    meta = cells.attrs[GRID_ATTRS_KEY]
    assert meta["crs"] == "EPSG:4548"
    assert meta["origin_x"] % 250.0 == 0.0 and meta["origin_y"] % 250.0 == 0.0
    areas = areas_m(cells)
    assert np.isclose(areas, 250.0**2, rtol=1e-6).sum() >= 60  # interior cells are whole
    assert areas.max() <= 250.0**2 * (1 + 1.0)  # a merged sliver adds less than a cell


def test_hex_size_is_the_side_length() -> None:
    _, boundary = metric_boundary(PENTAGON)
    side = 300.0
    cells = compute_grid(boundary, shape="hex", size_m=side)
    cell_m = project(cells.geometry.to_numpy(), WGS84, GK_117E)
    whole = np.isclose(shapely.area(cell_m), 1.5 * math.sqrt(3) * side**2, rtol=1e-6)
    assert whole.sum() >= 10
    minx, miny, maxx, maxy = shapely.bounds(cell_m[whole]).T
    assert np.allclose(maxx - minx, math.sqrt(3) * side)  # flat to flat (pointy top)
    assert np.allclose(maxy - miny, 2 * side)  # vertex to vertex


def test_cells_are_numbered_west_to_east_north_to_south() -> None:
    _, boundary = metric_boundary(PENTAGON)
    cells = compute_grid(boundary, shape="square", size_m=500.0, slivers="keep")
    reps = shapely.point_on_surface(project(cells.geometry.to_numpy(), WGS84, GK_117E))
    row = np.floor((shapely.get_y(reps) - cells.attrs[GRID_ATTRS_KEY]["origin_y"]) / 500.0)
    assert (np.diff(row) <= 0).all()  # rows from north to south
    x = shapely.get_x(reps)
    for r in np.unique(row):
        assert (np.diff(x[row == r]) > 0).all()  # west to east inside a row


def two_communities(split_x: float) -> gpd.GeoDataFrame:
    """West and east halves of the pentagon's bounding box, split at ``split_x``."""
    west = shapely.box(498_000.0, 3_119_000.0, split_x, 3_123_000.0)
    east = shapely.box(split_x, 3_119_000.0, 504_000.0, 3_123_000.0)
    return gpd.GeoDataFrame(
        {"code": ["360681100201", "360681100202"], "name": ["西村", "东村"]},
        geometry=[west, east],
        crs=GK_117E,
    )


def test_cells_crossing_communities_are_split_along_the_community_boundary() -> None:
    _, boundary = metric_boundary(PENTAGON)
    communities = two_communities(500_630.0)  # not on the 500 m lattice
    cells = compute_grid(boundary, shape="square", size_m=500.0, communities=communities)
    assert set(cells["area_code"]) == {"360681100201", "360681100202"}
    report = compute_grid_check(cells, boundary, communities=communities)
    assert report.crossings == ()
    assert report.gaps == () and report.overlaps == ()
    cell_m = project(cells.geometry.to_numpy(), WGS84, GK_117E)
    west = cells["area_code"].to_numpy() == "360681100201"
    assert shapely.bounds(cell_m[west])[:, 2].max() == pytest.approx(500_630.0, abs=1e-6)
    assert shapely.bounds(cell_m[~west])[:, 0].min() == pytest.approx(500_630.0, abs=1e-6)


def test_part_of_a_cell_outside_every_community_joins_the_largest_overlap() -> None:
    poly_m, boundary = metric_boundary(PENTAGON)
    communities = two_communities(500_630.0)
    # the east village stops at 502 700 m, inside the lattice column 502 500-503 000 m
    communities.loc[1, "geometry"] = shapely.box(500_630.0, 3_119_000.0, 502_700.0, 3_123_000.0)
    cells = compute_grid(boundary, shape="square", size_m=500.0, communities=communities)
    assert cells["area_code"].notna().all()
    assert areas_m(cells).sum() == pytest.approx(poly_m.area, rel=1e-6)
    cell_m = project(cells.geometry.to_numpy(), WGS84, GK_117E)
    east_column = shapely.bounds(cell_m)[:, 2] > 502_700.0
    assert east_column.any()
    assert set(cells.loc[east_column, "area_code"]) == {"360681100202"}


def test_cells_in_no_community_keep_no_area_code(caplog: pytest.LogCaptureFixture) -> None:
    _, boundary = metric_boundary(PENTAGON)
    communities = two_communities(500_630.0).iloc[:1]  # only the west village
    cells = compute_grid(boundary, shape="square", size_m=500.0, communities=communities)
    assert cells["area_code"].isna().any() and cells["area_code"].notna().any()
    assert "in no community" in caplog.text


def test_slivers_are_merged_dropped_or_kept() -> None:
    poly_m, boundary = metric_boundary(PENTAGON)
    merged = compute_grid(boundary, shape="square", size_m=500.0, min_area_fraction=0.2)
    dropped = compute_grid(
        boundary, shape="square", size_m=500.0, min_area_fraction=0.2, slivers="drop"
    )
    kept = compute_grid(boundary, shape="square", size_m=500.0, slivers="keep")
    assert areas_m(merged).sum() == pytest.approx(poly_m.area, rel=1e-6)
    assert areas_m(merged).min() >= 0.2 * 500.0**2
    assert areas_m(dropped).min() >= 0.2 * 500.0**2
    assert areas_m(dropped).sum() < poly_m.area * (1 - 1e-3)  # dropping leaves gaps
    assert areas_m(kept).min() < 0.2 * 500.0**2
    assert len(merged) == len(dropped) < len(kept)


def test_bad_arguments_are_reported_together() -> None:
    _, boundary = metric_boundary(PENTAGON)
    with pytest.raises(GridError) as err:
        compute_grid(boundary, shape="hex", min_area_fraction=2.0)
    assert "size_m > 0" in str(err.value) and "min_area_fraction" in str(err.value)
    with pytest.raises(GridError, match=r"resolution in 0\.\.15"):
        compute_grid(boundary, shape="h3", resolution=16)
    with pytest.raises(GridError, match="WGS-84"):
        compute_grid(shapely.Polygon(PENTAGON), shape="square", size_m=100.0)
    with pytest.raises(GridError, match="'code' and 'name'"):
        compute_grid(
            boundary,
            shape="square",
            size_m=100.0,
            communities=gpd.GeoDataFrame(geometry=[boundary], crs=WGS84),
        )


def test_rings_that_projection_collapses_lose_no_cell() -> None:
    """Needle holes left by the union of derived villages (Liechtenstein, 9.50-9.56 E).

    Some hole vertices are 1e-14 degrees apart: the polygon is valid in WGS-84 but
    has rings of three points, or crossing itself, once projected. Clipping the
    lattice to it dropped whole cells, which ``grid check`` reported as gaps.
    """
    text = (Path(__file__).parent / "data" / "liechtenstein_bbox_villages.wkt").read_text()
    boundary = shapely.from_wkt(text)
    assert boundary.is_valid
    cells = compute_grid(boundary, shape="square", size_m=250.0)
    report = compute_grid_check(cells, boundary)
    assert report.gaps == ()
    assert report.cell_area_m2 == pytest.approx(report.boundary_area_m2, rel=1e-9)
