"""Off-road access in network mode (issue 11, point 1), on both stores.

One straight east-west road; units and stations placed at known distances
north of it. A unit and a station at most ``max_snap_m`` apart in a straight
line are connected directly on foot; a unit no station reaches that way and
that is too far from every road is ``far_from_road``.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import shapely
from geoalchemy2.shape import from_shape
from pyproj import Geod
from shapely.geometry import LineString, Point

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.coverage.result import CoverageResult
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models

AS_OF = dt.date(2026, 11, 1)
RECENT = AS_OF - dt.timedelta(days=10)
LAT = 28.30
GEOD = Geod(ellps="WGS84")


def at(east_m: float, north_m: float) -> Point:
    """A point ``east_m`` east of (117.2, 28.3) along the road, then ``north_m`` north of it."""
    lon, lat, _ = GEOD.fwd(117.2, LAT, 90.0, east_m) if east_m else (117.2, LAT, 0.0)
    lon, lat, _ = GEOD.fwd(lon, lat, 0.0, north_m) if north_m else (lon, lat, 0.0)
    return Point(lon, lat)


@pytest.fixture
def offroad(store: Store) -> Store:
    """A 3 km road; a far village with its own station, a lonely farm, a community."""
    with store.session() as s:
        s.add(
            models.Road(
                highway="residential",
                geom=from_shape(LineString([at(x, 0) for x in range(0, 3001, 250)]), srid=4326),
                source="t",
                source_id="R1",
            )
        )
        units = {
            "far_village": ("village", at(1000, 878)),  # 878 m from the road
            "lonely": ("village", at(2600, 900)),  # far from the road and from every station
            "community": ("community", at(200, 279)),  # 279 m from the road
        }
        for name, (kind, point) in units.items():
            s.add(
                models.Unit(
                    kind=kind,
                    name=name,
                    party_members=1,
                    population=500,
                    geom=from_shape(point, srid=4326),
                    source="t",
                    source_id=name,
                )
            )
        stations = {
            "village station": ("village", at(1040, 878)),  # 40 m from far_village
            "community station": ("community", at(200, 279)),  # at the community's own point
        }
        for name, (tier, point) in stations.items():
            s.add(
                models.Station(
                    tier=tier,
                    name=name,
                    last_activity=RECENT,
                    geom=from_shape(point, srid=4326),
                    source="t",
                    source_id=name,
                )
            )
    return store


def _units(result: CoverageResult) -> pd.DataFrame:
    return pd.DataFrame(result.units).set_index("name")


def _network(store: Store, **options: object) -> CoverageResult:
    reach = ReachOptions(mode="network", **options)  # type: ignore[arg-type]
    return run_coverage(store, CoverageSettings(), reach, as_of=AS_OF, save=False)


def test_a_far_village_with_its_own_station_close_by_is_covered(offroad: Store) -> None:
    units = _units(_network(offroad))
    village = units.loc["far_village"]
    assert village["snap_m"] == pytest.approx(878, abs=1)
    assert bool(village["service_covered"])
    assert not village["far_from_road"]
    assert village["nearest_station_m"] == pytest.approx(40, abs=0.5)
    # the farm no station reaches either way stays flagged and uncovered
    assert bool(units.loc["lonely", "far_from_road"])
    assert not units.loc["lonely", "service_covered"]


def test_the_walk_to_the_road_is_not_added_at_both_ends(offroad: Store) -> None:
    units = _units(_network(offroad))
    community = units.loc["community"]
    assert community["snap_m"] == pytest.approx(279, abs=1)
    assert community["nearest_station_m"] == pytest.approx(0, abs=0.01)  # not 2 x 279 m
    assert bool(community["service_covered"])  # a community station reaches 300 m


def test_service_areas_and_blind_zones_agree(offroad: Store) -> None:
    result = _network(offroad)
    units = _units(result)
    zone_units = {int(u) for ids in result.blind_zones["unit_ids"] for u in str(ids).split(",")}
    assert zone_units == {int(units.loc["lonely", "unit_id"])}
    areas = result.service_areas.set_index("name").geometry
    for station, unit in (("village station", "far_village"), ("community station", "community")):
        point = shapely.Point(units.loc[unit, "lon"], units.loc[unit, "lat"])
        assert areas[station].contains(point), station


def test_a_shorter_drive_along_the_road_still_wins(offroad: Store) -> None:
    with offroad.session() as s:
        s.add_all(
            [
                models.Unit(
                    kind="firm",
                    name="shop",
                    geom=from_shape(at(1800, 100), srid=4326),
                    source="t",
                    source_id="shop",
                ),
                models.Station(
                    tier="community",
                    name="drive station",
                    last_activity=RECENT,
                    geom=from_shape(at(2200, 100), srid=4326),
                    source="t",
                    source_id="drive",
                ),
            ]
        )
    # 400 m apart: on foot 300 s; by car 100 m walk + 400 m at 30 km/h + 100 m walk, ~198 s
    drive = _units(_network(offroad, profile="drive", minutes=4))
    assert bool(drive.loc["shop", "service_covered"])
    walk = _units(_network(offroad, profile="walk", minutes=4))
    assert not walk.loc["shop", "service_covered"]
    assert bool(
        _units(_network(offroad, profile="walk", minutes=5.5)).loc["shop", "service_covered"]
    )
