"""Candidate layers: combining sources, representative points, exclusion areas."""

from __future__ import annotations

import logging

import geopandas as gpd
import pytest
from shapely.geometry import Point, Polygon, box

from gridmap.siting import (
    SitingInputError,
    SitingProblem,
    cell_points,
    combine_candidates,
    exclude,
    solve_mclp,
)

CRS = "EPSG:32650"


def _cells() -> gpd.GeoDataFrame:
    # An L-shaped cell: its centroid (about 3.9, 3.9) lies outside it.
    l_shape = Polygon([(0, 0), (10, 0), (10, 2), (2, 2), (2, 10), (0, 10)])
    return gpd.GeoDataFrame(
        {"code": ["110101001001001", "110101001001002"], "households": [420, 380]},
        geometry=[l_shape, box(20, 0, 30, 10)], crs=CRS,
        index=["110101001001001", "110101001001002"],
    )  # fmt: skip


def test_cell_points_lie_inside_their_cells_and_keep_attributes() -> None:
    cells = _cells()
    assert not cells.geometry.iloc[0].contains(cells.geometry.iloc[0].centroid)
    points = cell_points(cells)
    assert (points.geom_type == "Point").all()
    assert points.within(cells.geometry).all()
    assert points["households"].tolist() == [420, 380]
    assert points.crs == cells.crs


def test_combine_candidates_labels_sources_with_stable_ids() -> None:
    cells = cell_points(_cells()).assign(source="cell_centroid")
    buildings = gpd.GeoDataFrame(
        {"name": ["东门街道办事处"], "source": ["osm_public_building"]},
        geometry=[box(40, 40, 50, 45)], crs=CRS, index=[245117893],
    )  # fmt: skip
    user = gpd.GeoDataFrame({"source": ["user"]}, geometry=[Point(5, 5)], crs=CRS)
    combined = combine_candidates(cells, buildings, user)
    assert combined.columns.tolist() == ["candidate_id", "source", "name", "geometry"]
    assert combined["candidate_id"].tolist() == [
        "cell_centroid/110101001001001", "cell_centroid/110101001001002",
        "osm_public_building/245117893", "user/0",
    ]  # fmt: skip
    assert combined["source"].tolist() == [
        "cell_centroid", "cell_centroid", "osm_public_building", "user"
    ]  # fmt: skip
    assert combined["name"].iloc[2] == "东门街道办事处"
    assert (combined.geom_type == "Point").all()  # the building became a point inside it
    assert combined.geometry.iloc[2].within(box(40, 40, 50, 45))
    assert combined.crs == CRS


def test_combined_candidates_label_siting_results() -> None:
    candidates = combine_candidates(
        gpd.GeoDataFrame({"source": ["user", "user"]}, geometry=[Point(0, 0), Point(900, 0)],
                         crs=CRS)
    )  # fmt: skip
    demand = gpd.GeoDataFrame({"pop": [5, 7]}, geometry=[Point(880, 0), Point(950, 0)], crs=CRS)
    problem = SitingProblem.from_geodataframe(
        demand, candidates, weight_col="pop", max_distance_m=200
    )
    assert solve_mclp(problem, 1).to_frame()["candidate_id"].tolist() == ["user/1"]


def test_combine_candidates_reports_every_bad_frame() -> None:
    no_source = gpd.GeoDataFrame(geometry=[Point(0, 0)], crs=CRS)
    bad_source = gpd.GeoDataFrame({"source": ["gaode_poi"]}, geometry=[Point(0, 0)], crs=CRS)
    other_crs = gpd.GeoDataFrame({"source": ["user"]}, geometry=[Point(0, 0)], crs="EPSG:4326")
    with pytest.raises(SitingInputError) as info:
        combine_candidates(no_source, bad_source, other_crs)
    message = str(info.value)
    assert "frame 0 has no 'source' column" in message
    assert "frame 1 has unknown source(s) ['gaode_poi']" in message
    assert "different CRSs" in message and "to_crs()" in message


def test_combine_candidates_refuses_duplicate_ids() -> None:
    user = gpd.GeoDataFrame({"source": ["user"]}, geometry=[Point(0, 0)], crs=CRS)
    with pytest.raises(SitingInputError, match="duplicate candidate ids"):
        combine_candidates(user, user)


def test_exclude_removes_candidates_inside_or_on_exclusion_areas(
    caplog: pytest.LogCaptureFixture,
) -> None:
    candidates = combine_candidates(
        gpd.GeoDataFrame(
            {"source": ["user"] * 4},
            geometry=[Point(1, 1), Point(10, 5), Point(50, 50), Point(25, 25)], crs=CRS,
        )
    )  # fmt: skip
    areas = gpd.GeoDataFrame(
        {"kind": ["reservoir", "military"]}, geometry=[box(0, 0, 10, 10), box(20, 20, 30, 30)],
        crs=CRS,
    )  # fmt: skip
    with caplog.at_level(logging.INFO, logger="gridmap.siting.candidates"):
        report = exclude(candidates, areas)
    assert report.n_removed == 3  # (10, 5) lies on the reservoir's edge
    assert report.kept["candidate_id"].tolist() == ["user/2"]
    assert "excluded 3 of 4 candidates" in caplog.text


def test_exclude_refuses_mixed_crs() -> None:
    candidates = combine_candidates(
        gpd.GeoDataFrame({"source": ["user"]}, geometry=[Point(0, 0)], crs=CRS)
    )
    areas = gpd.GeoSeries([box(0, 0, 1, 1)], crs="EPSG:4326")
    with pytest.raises(SitingInputError, match="to_crs"):
        exclude(candidates, areas)
