"""Coverage on a real OSM extract (Liechtenstein), checked against independent computations."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridmap.coverage import ReachOptions, read_inputs, run_coverage
from gridmap.coverage.zones import DEFAULT_POPULATED_RADIUS_M
from gridmap.ingest.load import load_many
from gridmap.ingest.osm import read_osm
from gridmap.ingest.pipeline import ingest_osm
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.settings import CoverageSettings
from gridmap.store import Store

REACH_M = 800.0


@pytest.fixture
def liechtenstein(store: Store, shared_data: Path, tmp_path: Path) -> Store:
    """The Liechtenstein extract, with a (sample) station at each town hall and post office."""
    path = shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf"
    ingest_osm(store, path, reject_file=tmp_path / "osm.rejects.csv")
    sites = read_osm(path).sites
    stations = sites[sites["site_kind"].isin(["townhall", "post_office"])].copy()
    if len(stations) < 3:  # the tag mapping may not keep post offices: fall back to schools
        stations = pd.concat([stations, sites[sites["site_kind"] == "school"]])
    stations = gpd.GeoDataFrame(
        stations, geometry=shapely.point_on_surface(stations.geometry.values), crs=4326
    )
    stations["name"] = stations["name"].fillna("站点 " + stations["source_id"])
    stations["tier"] = "community"
    stations["last_activity"] = pd.Timestamp("2026-10-01").date()
    result = ReadResult(
        records=stations.reset_index(drop=True), rejects=pd.DataFrame(), n_read=len(stations)
    )
    load_many(store, [(RecordKind.STATION, result)], source="sample")
    return store


def _brute_force_nearest(
    units: gpd.GeoDataFrame, stations: gpd.GeoDataFrame, crs: object
) -> np.ndarray:
    """Straight-line distance to the nearest station, pair by pair with shapely."""
    u = units.to_crs(crs).geometry.values
    s = stations.to_crs(crs).geometry.values
    return np.array([min(point.distance(station) for station in s) for point in u])


def test_radius_coverage_agrees_with_brute_force(liechtenstein: Store) -> None:
    rules = CoverageSettings()
    result = run_coverage(liechtenstein, rules, ReachOptions(meters=REACH_M), save=False)
    inputs = read_inputs(liechtenstein)
    points = result.units.set_geometry(
        gpd.points_from_xy(result.units["lon"], result.units["lat"]), crs=4326
    )
    sample = points.sample(400, random_state=1)
    expected = _brute_force_nearest(sample, inputs.stations, inputs.metric_crs)
    # lon/lat are written to 7 decimals (about 1 cm), hence the tolerance
    assert np.allclose(sample["nearest_station_m"].to_numpy(float), expected, atol=0.02)
    assert (sample["service_covered"].to_numpy() == (expected <= REACH_M)).all()
    assert 0 < result.summary()["service_covered"] < result.summary()["units"]


def test_network_distances_are_never_shorter_than_straight_lines(liechtenstein: Store) -> None:
    rules = CoverageSettings()
    radius = run_coverage(liechtenstein, rules, ReachOptions(meters=REACH_M), save=False).units
    network = run_coverage(
        liechtenstein, rules, ReachOptions(mode="network", meters=REACH_M), save=False
    ).units
    reached = np.isfinite(network["nearest_station_m"].astype(float))
    assert reached.mean() > 0.5
    straight = radius["nearest_station_m"].astype(float)[reached]
    along = network["nearest_station_m"].astype(float)[reached]
    assert (along >= straight - 1e-6).all()
    # network coverage implies the network distance to some station is within reach
    covered = network["service_covered"].astype(bool)
    assert not (covered & network["far_from_road"]).any()
    assert covered.sum() <= radius["service_covered"].sum()


def test_blind_zone_areas_match_an_independent_shapely_computation(liechtenstein: Store) -> None:
    rules = CoverageSettings()
    result = run_coverage(liechtenstein, rules, ReachOptions(meters=REACH_M), save=False)
    inputs = read_inputs(liechtenstein)
    crs = inputs.metric_crs
    uncovered = result.units[~result.units["service_covered"].astype(bool)].to_crs(crs)
    discs = [
        g
        if g.geom_type in ("Polygon", "MultiPolygon")
        else g.buffer(DEFAULT_POPULATED_RADIUS_M, 16)
        for g in uncovered.geometry
    ]
    stations = inputs.stations.to_crs(crs).geometry
    circles = [p.buffer(REACH_M, 16) for p in stations]
    expected = shapely.union_all(discs).difference(shapely.union_all(circles))
    zones = result.blind_zones.to_crs(crs)
    assert zones["area_m2"].sum() == pytest.approx(expected.area, rel=1e-6)
    assert zones.geometry.area.sum() == pytest.approx(expected.area, rel=1e-4)
    assert list(zones["rank"]) == list(range(1, len(zones) + 1))
    assert zones["priority"].is_monotonic_decreasing
    assert zones["units"].sum() == len(uncovered)
