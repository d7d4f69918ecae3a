"""The store on SpatiaLite and PostGIS: migrations, round-trips, constraints."""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Callable
from typing import Any

import pytest
from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from gridmap.store import Store, models

SQUARE = MultiPolygon([box(117.20, 28.23, 117.21, 28.24)])
BOWTIE = Polygon([(117.20, 28.23), (117.21, 28.24), (117.21, 28.23), (117.20, 28.24)])


def wkb(geom: Any) -> Any:
    return from_shape(geom, srid=4326)


def test_upgrade_creates_every_table_on_an_empty_database(empty_store: Store) -> None:
    assert empty_store.current_revision() is None
    empty_store.upgrade()
    tables = set(inspect(empty_store.engine).get_table_names())
    expected = {m.__tablename__ for m in models.Base.__subclasses__() if hasattr(m, "__table__")}
    assert expected <= tables
    assert empty_store.current_revision() == "0010"
    empty_store.upgrade()  # idempotent
    assert empty_store.counts() == dict.fromkeys(empty_store.counts(), 0)


def _seed(store: Store) -> dict[str, int]:
    """Insert one record of every kind, linked to each other; return their ids."""
    with store.session() as s:
        county = models.AdminArea(
            code="360681",
            name="贵溪市",
            level="county",
            source="t",
            source_id="a1",
            boundary=wkb(SQUARE),
        )
        community = models.AdminArea(
            code="360681001001",
            name="炼厂社区",
            level="village",
            parent=county,
            source="t",
            source_id="a2",
            boundary=wkb(SQUARE),
        )
        cell = models.GridCell(
            code="360681001001001",
            name="第一网格",
            area=community,
            households=420,
            population=1300,
            geom=wkb(SQUARE),
            source="t",
            source_id="c1",
        )
        worker = models.Worker(name="王芳", phone="13800000000", source="t", source_id="w1")
        unit = models.Unit(
            kind="building",
            name="贵溪商务大厦",
            households=0,
            population=120,
            party_members=4,
            geom=wkb(Point(117.205, 28.235)),
            cell=cell,
            source="t",
            source_id="u1",
        )
        park = models.Unit(
            kind="park",
            name="贵溪发电有限责任公司",
            geom=wkb(box(117.201, 28.231, 117.203, 28.233)),
            cell=cell,
            source="t",
            source_id="u2",
        )
        s.add_all([county, community, cell, worker, unit, park])
        s.flush()
        org = models.PartyOrg(
            kind="joint_branch",
            name="商务大厦联合党支部",
            members=12,
            established=dt.date(2019, 7, 1),
            last_activity=dt.date(2026, 10, 1),
            geom=wkb(Point(117.205, 28.235)),
            source="t",
            source_id="o1",
        )
        instructor = models.Instructor(name="李强", source="t", source_id="i1")
        station = models.Station(
            tier="community",
            name="炼厂社区党群服务站",
            last_activity=dt.date(2026, 11, 1),
            capacity=200,
            geom=wkb(Point(117.206, 28.236)),
            source="t",
            source_id="s1",
        )
        road = models.Road(
            name="建设路",
            highway="residential",
            oneway="no",
            geom=wkb(LineString([(117.20, 28.23), (117.21, 28.24)])),
            source="t",
            source_id="r1",
        )
        s.add_all([org, instructor, station, road])
        s.flush()
        s.add_all(
            [
                models.OrgUnit(org_id=org.id, unit_id=unit.id),
                models.InstructorUnit(instructor_id=instructor.id, unit_id=park.id),
                models.WorkerCell(worker_id=worker.id, cell_id=cell.id),
                models.UnitCell(unit_id=park.id, cell_id=cell.id, share=1.0),
                models.Visit(
                    worker_id=worker.id,
                    unit_id=unit.id,
                    visited_at=dt.datetime(2026, 11, 2, 9, 30),
                    note="走访，已建联合支部",
                    status_change="joint",
                ),
                models.AuditLog(
                    action="import",
                    entity="unit",
                    entity_id=unit.id,
                    detail={"before": {"name": "旧名"}, "after": {"name": "贵溪商务大厦"}},
                ),
            ]
        )
        return {"unit": unit.id, "park": park.id, "cell": cell.id, "org": org.id}


def test_every_model_round_trips(store: Store) -> None:
    ids = _seed(store)
    with store.session() as s:
        unit = s.get(models.Unit, ids["unit"])
        assert unit is not None
        assert unit.name == "贵溪商务大厦"
        assert unit.party_members == 4
        assert to_shape(unit.geom).equals(Point(117.205, 28.235))
        assert unit.cell is not None and unit.cell.code == "360681001001001"
        assert unit.cell.area is not None and unit.cell.area.parent is not None
        assert unit.cell.area.parent.name == "贵溪市"
        park = s.get(models.Unit, ids["park"])
        assert park is not None
        assert to_shape(park.geom).equals(box(117.201, 28.231, 117.203, 28.233))
        org = s.get(models.PartyOrg, ids["org"])
        assert org is not None
        assert (org.kind, org.members, org.established) == ("joint_branch", 12, dt.date(2019, 7, 1))
        covered = s.scalars(
            select(models.OrgUnit.unit_id).where(models.OrgUnit.org_id == org.id)
        ).all()
        assert covered == [ids["unit"]]
        station = s.scalars(select(models.Station)).one()
        assert (station.tier, station.last_activity) == ("community", dt.date(2026, 11, 1))
        road = s.scalars(select(models.Road)).one()
        assert to_shape(road.geom).length == pytest.approx(
            LineString([(117.20, 28.23), (117.21, 28.24)]).length
        )
        visit = s.scalars(select(models.Visit)).one()
        assert visit.note == "走访，已建联合支部"
        log = s.scalars(select(models.AuditLog)).one()
        assert log.detail == {"before": {"name": "旧名"}, "after": {"name": "贵溪商务大厦"}}
        share = s.scalars(select(models.UnitCell.share)).one()
        assert share == 1.0
    counts = store.counts()
    assert counts["unit"] == 2 and counts["party_org"] == 1 and counts["visit"] == 1


def _rejected(store: Store, make: Callable[[], list[Any]]) -> None:
    """Assert that adding the rows fails and leaves the store unchanged."""
    before = store.counts()
    with (
        warnings.catch_warnings(),  # GeoAlchemy2 warns on empty WKT; the database must still refuse
        pytest.raises((IntegrityError, DBAPIError)),
        store.session() as s,
    ):
        warnings.simplefilter("ignore", UserWarning)
        s.add_all(make())
        s.flush()
    assert store.counts() == before


@pytest.mark.parametrize(
    ("case", "make"),
    [
        (
            "self-intersecting polygon",
            lambda: [
                models.Unit(kind="park", name="x", geom=wkb(BOWTIE), source="t", source_id="bad")
            ],
        ),
        (
            "empty geometry",
            lambda: [
                models.Station(
                    tier="point",
                    name="x",
                    geom=from_shape(Point(), srid=4326),
                    source="t",
                    source_id="bad",
                )
            ],
        ),
        (
            "unknown unit kind",
            lambda: [
                models.Unit(
                    kind="bogus",
                    name="x",
                    geom=wkb(Point(117.2, 28.2)),
                    source="t",
                    source_id="bad",
                )
            ],
        ),
        (
            "unknown station tier",
            lambda: [
                models.Station(
                    tier="palace",
                    name="x",
                    geom=wkb(Point(117.2, 28.2)),
                    source="t",
                    source_id="bad",
                )
            ],
        ),
        (
            "negative members",
            lambda: [
                models.PartyOrg(kind="branch", name="x", members=-1, source="t", source_id="bad")
            ],
        ),
        ("missing cell geometry", lambda: [models.GridCell(code="1", source="t", source_id="bad")]),
        (
            "dangling foreign key",
            lambda: [
                models.Unit(
                    kind="firm",
                    name="x",
                    cell_id=999,
                    geom=wkb(Point(117.2, 28.2)),
                    source="t",
                    source_id="bad",
                )
            ],
        ),
        (
            "duplicate source id",
            lambda: [
                models.Unit(
                    kind="firm", name="a", geom=wkb(Point(117.2, 28.2)), source="t", source_id="dup"
                ),
                models.Unit(
                    kind="firm", name="b", geom=wkb(Point(117.3, 28.2)), source="t", source_id="dup"
                ),
            ],
        ),
        (
            "duplicate cell code",
            lambda: [
                models.GridCell(code="9", geom=wkb(SQUARE), source="t", source_id="c8"),
                models.GridCell(code="9", geom=wkb(SQUARE), source="t", source_id="c9"),
            ],
        ),
    ],
)
def test_constraints_reject_bad_rows(
    store: Store, case: str, make: Callable[[], list[Any]]
) -> None:
    _seed(store)
    _rejected(store, make)


def test_same_source_id_is_allowed_in_another_source_or_table(store: Store) -> None:
    with store.session() as s:
        s.add_all(
            [
                models.Unit(
                    kind="firm",
                    name="a",
                    geom=wkb(Point(117.2, 28.2)),
                    source="osm",
                    source_id="n1",
                ),
                models.Unit(
                    kind="firm",
                    name="b",
                    geom=wkb(Point(117.2, 28.2)),
                    source="excel",
                    source_id="n1",
                ),
                models.Station(
                    tier="point",
                    name="c",
                    geom=wkb(Point(117.2, 28.2)),
                    source="osm",
                    source_id="n1",
                ),
            ]
        )
    assert store.counts()["unit"] == 2


def test_geometry_columns_have_spatial_indexes(store: Store) -> None:
    with store.engine.connect() as conn:
        if store.backend == "postgis":
            rows = conn.execute(
                text("SELECT tablename FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'")
            )
        else:
            rows = conn.execute(
                text("SELECT f_table_name FROM geometry_columns WHERE spatial_index_enabled = 1")
            )
        indexed = {r[0] for r in rows}
    assert set(models.GEOMETRY_COLUMNS) <= indexed


def test_table_of_gives_each_model_its_core_table() -> None:
    from sqlalchemy import Table

    from gridmap.store import table_of

    for model in models.Base.__subclasses__():
        if hasattr(model, "__table__"):
            table = table_of(model)
            assert isinstance(table, Table) and table.name == model.__tablename__


def test_server_set_times_are_utc_whatever_the_server_time_zone(store_url: str) -> None:
    """A run's ``created_at`` (the column's CURRENT_TIMESTAMP default) is UTC like every time
    the store keeps, also on a PostGIS server whose time zone is Asia/Shanghai."""
    if store_url.startswith("postgresql"):
        joiner = "&" if "?" in store_url else "?"
        store_url = f"{store_url}{joiner}options=-c%20timezone%3DAsia/Shanghai"
    store = Store(store_url)
    try:
        store.upgrade()
        runs = models.CoverageRun.__table__
        before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        with store.engine.begin() as conn:
            conn.execute(
                runs.insert().values(as_of=dt.date(2026, 12, 1), params={}, summary={}, areas=[])
            )
        with store.engine.connect() as conn:
            created = conn.execute(select(runs.c.created_at)).scalar_one()
        after = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        assert before - dt.timedelta(seconds=1) <= created <= after, (before, created, after)
    finally:
        store.dispose()
