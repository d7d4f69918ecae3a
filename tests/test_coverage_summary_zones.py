"""The roll-up (areas.csv, the workbook's 汇总) and the blind zones, on hand-checked fixtures.

Small frames whose every number is worked out in the comments: the rates a department
reports upward and the zone ranking planners act on.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.coverage.summary import cell_summary, rates, rollup
from gridmap.coverage.zones import MEMBER_WEIGHT, MUST_HAVE_WEIGHT, UNIT_WEIGHT, blind_zones

METRIC = "EPSG:32650"  # UTM 50N, metres


@pytest.fixture
def areas() -> pd.DataFrame:
    # county 1 > township 2 > villages 3 (V1) and 4 (V2)
    return pd.DataFrame(
        {
            "code": ["360681", "360681002", "360681002001", "360681002002"],
            "name": ["县", "镇", "一村", "二村"],
            "level": ["county", "township", "village", "village"],
            "parent_id": [None, 1, 2, 2],
        },
        index=pd.Index([1, 2, 3, 4], name="id"),
    )


@pytest.fixture
def cells() -> pd.DataFrame:
    # cell 10 in V1, 11 in V2, 12 in no area, 13 in V2 with no unit
    return pd.DataFrame(
        {"code": ["C10", "C11", "C12", "C13"], "name": [None] * 4, "area_id": [3, 4, None, 4]},
        index=pd.Index([10, 11, 12, 13], name="id"),
    )


@pytest.fixture
def units() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "kind": ["community", "firm", "village", "firm", "park"],
            "cell_id": [10, 10, 11, 12, None],
            "org_status": ["own", "instructor", "joint", "none", "hosted"],
            "service_covered": [True, False, True, False, True],
            "population": [100, 50, 30, 20, np.nan],
            "must_have_branch": [False, True, False, False, False],
        },
        index=pd.Index([1, 2, 3, 4, 5], name="id"),
    )


def _row(frame: pd.DataFrame, code: str) -> pd.Series:
    return frame.set_index("code").loc[code]


def test_total_row_counts_every_unit_even_outside_cells(units, cells, areas) -> None:
    table = rollup(units, cells, areas, idle_org_units=[2, 5])
    total = _row(table, "*")
    assert total["units"] == 5
    assert total["org_covered"] == 3 and total["org_rate"] == pytest.approx(0.6)  # own+joint+hosted
    assert total["own_rate"] == total["joint_rate"] == total["hosted_rate"] == pytest.approx(0.2)
    assert total["work_rate"] == pytest.approx(0.2)  # the instructor only
    assert total["combined_rate"] == pytest.approx(0.8)
    assert total["service_rate"] == pytest.approx(0.6)
    assert total["population"] == 200 and total["population_covered"] == 130  # NaN counts 0
    assert total["service_population_rate"] == pytest.approx(0.65)
    assert total["must_have_branch"] == 1
    assert total["idle_orgs"] == 2


def test_areas_roll_up_through_every_level(units, cells, areas) -> None:
    table = rollup(units, cells, areas, idle_org_units=[2, 5])
    assert list(table["code"]) == ["360681", "360681002", "360681002001", "360681002002", "*"]
    v1, v2 = _row(table, "360681002001"), _row(table, "360681002002")
    assert (v1["units"], v1["org_rate"], v1["work_rate"], v1["service_rate"]) == (2, 0.5, 0.5, 0.5)
    assert v1["service_population_rate"] == pytest.approx(100 / 150)
    assert (v1["must_have_branch"], v1["idle_orgs"]) == (1, 1)  # unit 2's idle organisation
    assert (v2["units"], v2["org_rate"], v2["service_rate"], v2["idle_orgs"]) == (1, 1.0, 1.0, 0)
    # the township and the county hold V1 + V2; unit 4 (cell of no area) and unit 5 (no cell)
    # count only in the total
    for code in ("360681002", "360681"):
        row = _row(table, code)
        assert row["units"] == 3
        assert row["org_rate"] == pytest.approx(2 / 3)
        assert (row["population"], row["population_covered"]) == (180, 130)
        assert row["idle_orgs"] == 1


def test_a_rate_over_nothing_is_none_not_zero() -> None:
    empty = pd.DataFrame(
        {
            "org_status": pd.Series([], dtype=str),
            "service_covered": pd.Series([], dtype=bool),
            "population": pd.Series([], dtype=float),
            "must_have_branch": pd.Series([], dtype=bool),
        }
    )
    counted = rates(empty)
    assert counted["units"] == 0
    assert counted["org_rate"] is None and counted["service_population_rate"] is None


def test_cell_status_and_counts(units, cells) -> None:
    summary = cell_summary(cells, units).set_index("code")
    assert dict(summary["status"]) == {
        "C10": "partial",  # 1 of 2 covered
        "C11": "covered",
        "C12": "blind",
        "C13": "empty",
    }
    assert list(summary.loc["C10", ["units_total", "units_covered"]]) == [2, 1]
    assert list(summary.loc["C10", ["population_total", "population_covered"]]) == [150, 100]
    assert summary.loc["C10", "must_have_branch"] == 1
    assert (summary.loc["C10", "units_community"], summary.loc["C10", "units_firm"]) == (1, 1)


def _units(rows: list[tuple[float, float, bool, int, int, int, bool, str]]) -> gpd.GeoDataFrame:
    x, y, covered, households, population, members, must, cell = zip(*rows, strict=True)
    return gpd.GeoDataFrame(
        {
            "service_covered": covered,
            "households": households,
            "population": population,
            "party_members": members,
            "must_have_branch": must,
            "cell_code": cell,
        },
        geometry=gpd.points_from_xy(x, y),
        index=pd.Index(range(1, len(rows) + 1), name="id"),
        crs=METRIC,
    )


@pytest.fixture
def town() -> gpd.GeoDataFrame:
    # unit 1: few people but 应建未建 with a party member; unit 2: more people; unit 3 covered
    return _units(
        [
            (100, 100, False, 3, 10, 1, True, "A"),
            (800, 800, False, 20, 50, 0, False, "A"),
            (500, 500, True, 9, 90, 2, False, "A"),
        ]
    )


@pytest.fixture
def cell() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"code": ["A"]}, geometry=[shapely.box(0, 0, 1000, 1000)], crs=METRIC)


DISC_M2 = 0.5 * 64 * 100**2 * math.sin(2 * math.pi / 64)  # a 100 m disc, 16 segments a quarter


def test_zones_rank_must_have_and_members_above_head_count(town, cell) -> None:
    zones = blind_zones(town, gpd.GeoSeries([], crs=METRIC), cell)
    assert len(zones) == 2  # the covered unit makes no zone
    first, second = zones.iloc[0], zones.iloc[1]
    # 10 people + 10 x 1 member + 200 x 1 应建未建 + 1 unit = 221 beats 50 + 1 = 51
    assert first["priority"] == 10 + MEMBER_WEIGHT * 1 + MUST_HAVE_WEIGHT * 1 + UNIT_WEIGHT
    assert second["priority"] == 50 + UNIT_WEIGHT
    assert list(zones["rank"]) == [1, 2]
    assert (first["unit_ids"], second["unit_ids"]) == ("1", "2")
    assert (first["households"], first["population"], first["party_members"]) == (3, 10, 1)
    assert first["cell_codes"] == "A"
    assert first["area_m2"] == pytest.approx(DISC_M2, rel=1e-6)


def test_zones_are_clipped_to_the_cells(cell) -> None:
    edge = _units([(0, 500, False, 1, 5, 0, False, "A")])  # half its disc lies outside the grid
    zones = blind_zones(edge, gpd.GeoSeries([], crs=METRIC), cell)
    assert zones.iloc[0]["area_m2"] == pytest.approx(DISC_M2 / 2, rel=1e-3)
    unclipped = blind_zones(edge, gpd.GeoSeries([], crs=METRIC), None)
    assert unclipped.iloc[0]["area_m2"] == pytest.approx(DISC_M2, rel=1e-6)


def test_a_service_area_removes_its_part_and_its_units_join_the_nearest_zone(town, cell) -> None:
    reach = gpd.GeoSeries([shapely.box(650, 650, 1000, 1000)], crs=METRIC)  # all of unit 2's disc
    zones = blind_zones(town, reach, cell)
    assert len(zones) == 1
    zone = zones.iloc[0]
    assert zone["area_m2"] == pytest.approx(DISC_M2, rel=1e-6)  # only unit 1's disc is left
    assert zone["unit_ids"] == "1,2"  # unit 2 is still uncovered: it joins the nearest zone
    assert (zone["units"], zone["population"]) == (2, 60)


def test_no_zone_when_everyone_is_covered(town, cell) -> None:
    covered = town.assign(service_covered=True)
    zones = blind_zones(covered, gpd.GeoSeries([], crs=METRIC), cell)
    assert zones.empty and "priority" in zones.columns


def _global_blind_area(units: gpd.GeoDataFrame, reach: gpd.GeoSeries, cells: gpd.GeoDataFrame):
    """The blind area as one global overlay: union of the discs, cut to the union of the
    cells, minus the union of the service areas (what blind_zones computed before it
    worked tile by tile)."""
    uncovered = units[~units["service_covered"]]
    discs = shapely.union_all(shapely.buffer(uncovered.geometry.values, 100.0, quad_segs=16))
    area = shapely.intersection(discs, shapely.union_all(cells.geometry.values))
    return shapely.difference(area, shapely.union_all(reach.values))


def test_zones_across_cells_and_tiles_equal_one_global_overlay() -> None:
    # 3 x 3 cells of 1 km; 400 uncovered units in bands that run across every cell
    # border (and across the 32 x 32 tiles blind_zones works in), two service areas
    # cutting through them, and lone discs that only touch a cell border
    rng = np.random.default_rng(7)
    cells = gpd.GeoDataFrame(
        {"code": [f"C{i}" for i in range(9)]},
        geometry=[
            shapely.box(x, y, x + 1000, y + 1000) for y in (0, 1000, 2000) for x in (0, 1000, 2000)
        ],
        crs=METRIC,
    )
    x = np.r_[rng.uniform(0, 3000, 200), rng.normal(1000, 30, 200), [1000.0, 2000.0]]
    y = np.r_[rng.normal(1500, 40, 200), rng.uniform(0, 3000, 200), [2900.0, 100.0]]
    n = len(x)
    units = _units([(x[i], y[i], False, 1, 3, int(i % 2), False, "C0") for i in range(n)])
    reach = gpd.GeoSeries(
        [shapely.Point(1500, 1500).buffer(350), shapely.Point(1000, 600).buffer(250)], crs=METRIC
    )
    zones = blind_zones(units, reach, cells)
    expected = [g for g in shapely.get_parts(_global_blind_area(units, reach, cells)) if g.area > 0]
    assert len(zones) == len(expected) >= 4
    assert sorted(zones["area_m2"]) == pytest.approx(sorted(g.area for g in expected), rel=1e-9)
    whole = shapely.union_all(zones.geometry.values)
    assert shapely.symmetric_difference(whole, shapely.union_all(expected)).area < 1e-6
    # every zone is one piece, never a zone split where it crosses a cell or a tile border
    assert all(shapely.get_num_geometries(zones.geometry.values) == 1)
    assert zones["units"].sum() == n


def test_equal_zones_rank_west_to_east(cell) -> None:
    # two lone units alike in every way: the western one ranks first, on every run
    twins = _units([(700, 300, False, 1, 5, 0, False, "A"), (200, 300, False, 1, 5, 0, False, "A")])
    zones = blind_zones(twins, gpd.GeoSeries([], crs=METRIC), cell)
    assert list(zones["unit_ids"]) == ["2", "1"]
