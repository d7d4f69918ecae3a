"""Re-imports merge field by field: what another file set is kept, history keeps both values.

The headline case is the demo store: importing the OSM extract again after the
sample files enriched its records must change nothing (issue 12.1).
"""

from __future__ import annotations

import getpass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from sqlalchemy import func, select

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.demo import DEMO_AS_OF, run_demo
from gridmap.ingest._headers import read_provenance
from gridmap.ingest.load import OverwriteRefused, load_records
from gridmap.ingest.pipeline import ingest_layer, ingest_osm
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

ROOT = Path(__file__).resolve().parents[1]
EXTRACT = ROOT / "gridmap" / "data" / "osm" / "jiangxi_guixi.osm.pbf"


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _areas(store: Store) -> dict[str, tuple[str | None, bool]]:
    with store.session() as s:
        rows = s.execute(
            select(
                models.AdminArea.name,
                models.AdminArea.code,
                models.AdminArea.boundary.is_not(None),
            ).where(models.AdminArea.level == "township")
        )
        return {str(name): (code, bool(has)) for name, code, has in rows}


def _party_members(store: Store) -> int | None:
    with store.session() as s:
        return s.scalar(select(func.sum(models.Unit.party_members)))


@pytest.mark.slow
def test_osm_reimport_after_the_demo_changes_nothing(store: Store) -> None:
    demo = run_demo(store)
    before_members = _party_members(store)
    before_areas = _areas(store)
    assert before_members == 754
    assert all(code and has for code, has in before_areas.values()), before_areas

    reports = ingest_osm(store, EXTRACT)

    changes = {r.kind.value: (r.inserted, r.updated) for r in reports}
    assert changes == {"area": (0, 0), "unit": (0, 0), "road": (0, 0), "site": (0, 0)}
    assert _party_members(store) == 754
    assert _areas(store) == before_areas
    again = run_coverage(
        store,
        CoverageSettings(),
        ReachOptions(mode="network", profile="walk"),
        as_of=DEMO_AS_OF,
        label="after re-import",
    )
    assert again.summary()["population"] == demo.coverage.summary()["population"] == 72785
    assert again.summary()["population_covered"] == demo.coverage.summary()["population_covered"]


def test_empty_values_never_clear_what_another_file_set(store: Store, tmp_path: Path) -> None:
    places = _write(
        tmp_path / "osm" / "places.csv",
        "source_id,name,kind,lon,lat,households\n"
        "n1,炼厂社区,community,117.23912,28.318058,\n"
        "n2,花园社区,community,117.24001,28.290485,\n",
    )
    survey = _write(
        tmp_path / "survey" / "units.csv",
        "source_id,name,kind,lon,lat,households,party_members\n"
        "n1,炼厂社区,community,117.23912,28.318058,1380,52\n",
    )
    ingest_layer(store, places, "unit", source="places")
    ingest_layer(store, survey, "unit", source="places", confirm=lambda _: True)
    again = ingest_layer(store, places, "unit", source="places")

    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)
    with store.session() as s:
        unit = s.scalars(select(models.Unit).where(models.Unit.source_id == "n1")).one()
        assert (unit.households, unit.party_members) == (1380, 52)
        provenance = read_provenance(s.connection(), table_of(models.Unit), [unit.id])[unit.id]
        assert provenance["fields"]["households"]["by"] == "survey/units.csv"
        assert provenance["fields"]["name"]["by"] == "osm/places.csv"


def test_the_later_import_wins_and_the_audit_log_keeps_both(store: Store, tmp_path: Path) -> None:
    first = tmp_path / "a" / "stations.csv"
    header = "source_id,name,tier,lon,lat\n"
    _write(first, header + "S1,炼厂社区党群服务站,community,117.23912,28.318058\n")
    second = _write(
        tmp_path / "b" / "stations.csv",
        header + "S1,炼厂社区党群服务中心,community,117.23912,28.318058\n",
    )
    ingest_layer(store, first, "station")
    ingest_layer(store, second, "station", confirm=lambda _: True)
    unchanged = ingest_layer(store, first, "station")  # file a did not change: b stands
    _write(first, header + "S1,炼厂党群服务站,community,117.23912,28.318058\n")
    changed = ingest_layer(store, first, "station", confirm=lambda _: True)

    assert (unchanged.updated, unchanged.unchanged, changed.updated) == (0, 1, 1)
    with store.session() as s:
        assert s.scalars(select(models.Station.name)).one() == "炼厂党群服务站"
        updates = [
            log.detail
            for log in s.scalars(
                select(models.AuditLog)
                .where(models.AuditLog.action == "update")
                .order_by(models.AuditLog.id)
            )
        ]
    assert [(u["before"]["name"], u["after"]["name"], u["before_by"]["name"]) for u in updates] == [
        ("炼厂社区党群服务站", "炼厂社区党群服务中心", "a/stations.csv"),
        ("炼厂社区党群服务中心", "炼厂党群服务站", "b/stations.csv"),
    ]


def test_an_area_reimported_by_code_is_updated_not_duplicated(store: Store, tmp_path: Path) -> None:
    first = _write(
        tmp_path / "mca" / "towns.geojson",
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"code": "360681002", "name": "雄石街道", "level": "township"}, "geometry": '
        '{"type": "Polygon", "coordinates": [[[117.19, 28.27], [117.22, 28.27], [117.22, 28.30], '
        "[117.19, 28.30], [117.19, 28.27]]]}}]}",
    )
    # An OSM place node: the same town by code, a newer name, no boundary.
    place = gpd.GeoDataFrame(
        {"source_id": ["n4459981610"], "code": ["360681002"], "name": ["雄石街道办事处"]}
        | {"level": ["township"]},
        geometry=[None],
        crs="EPSG:4326",
    )
    ingest_layer(store, first, "area")
    report = load_records(
        store,
        RecordKind.AREA,
        ReadResult(records=place, rejects=pd.DataFrame(), n_read=1),
        source="osm",
        origin="osm/extract.osm.pbf",
    )

    assert (report.inserted, report.updated, report.rejected) == (0, 1, 0)
    with store.session() as s:
        areas = s.execute(
            select(models.AdminArea.name, models.AdminArea.boundary.is_not(None))
        ).all()
    assert [(name, bool(has)) for name, has in areas] == [("雄石街道办事处", True)]


def test_the_audit_actor_is_the_os_user_or_the_one_given(store: Store, tmp_path: Path) -> None:
    stations = _write(
        tmp_path / "stations.csv", "source_id,name,tier,lon,lat\nS1,站,community,117.2,28.3\n"
    )
    ingest_layer(store, stations, "station")
    ingest_layer(store, stations, "station", source="web", actor="alice")
    with store.session() as s:
        actors = s.scalars(
            select(models.AuditLog.actor)
            .where(models.AuditLog.action == "import")
            .order_by(models.AuditLog.id)
        ).all()
    assert actors == [getpass.getuser(), "alice"]


def test_a_refused_overwrite_leaves_the_store_unchanged(store: Store, tmp_path: Path) -> None:
    header = "source_id,name,kind,lon,lat\n"
    town_a = _write(tmp_path / "townA" / "firms.csv", header + "1,甲公司,firm,117.20,28.29\n")
    town_b = _write(tmp_path / "townB" / "firms.csv", header + "1,乙公司,firm,117.21,28.28\n")
    ingest_layer(store, town_a, "unit", unit_kind="firm")
    with pytest.raises(OverwriteRefused, match="--source"):
        ingest_layer(store, town_b, "unit", unit_kind="firm")
    with store.session() as s:
        assert s.scalars(select(models.Unit.name)).all() == ["甲公司"]
