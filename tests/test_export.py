"""``export_records`` / ``write_records`` and ``gridmap export`` on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Point, box
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.cli._common import EXIT_ERROR
from gridmap.errors import GridmapError
from gridmap.grid.stored import assign_units
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store
from gridmap.store.export import EXPORT_KINDS, LEADING, export_records, write_records

SAMPLE = Path(__file__).resolve().parent.parent / "gridmap" / "data" / "sample"
CELL = "360681001001001"


def _seed(store: Store, tmp_path: Path) -> None:
    """Sample units (one source), a park polygon, organisations, instructors, stations, a cell."""
    for name, kind, source in (
        ("units.csv", "unit", "osm"),
        ("firms.csv", "unit", "sample_firms"),
        ("party_orgs.csv", "org", "sample_orgs"),
        ("instructors.csv", "instructor", "sample_instructors"),
        ("stations.csv", "station", "sample_stations"),
    ):
        report = ingest_layer(store, SAMPLE / name, kind, source=source)
        # O10 covers, and the hubs O01, O07, O08 host, OSM buildings that only `gridmap ingest
        # osm` brings: those four are rejected here
        assert report.rejected == (4 if kind == "org" else 0), report.rejects
    park = tmp_path / "parks.geojson"
    gpd.GeoDataFrame(
        {"source_id": ["P1"], "name": ["测试园区（样例）"], "kind": ["park"]},
        geometry=[box(117.236, 28.316, 117.242, 28.320)],
        crs="EPSG:4326",
    ).to_file(park, driver="GeoJSON")
    assert ingest_layer(store, park, "unit").loaded == 1
    cells = tmp_path / "cells.geojson"
    gpd.GeoDataFrame(
        {"code": [CELL]}, geometry=[box(117.235, 28.315, 117.245, 28.321)], crs="EPSG:4326"
    ).to_file(cells, driver="GeoJSON")
    assert ingest_layer(store, cells, "cell").loaded == 1
    workers = tmp_path / "workers.csv"
    workers.write_text(f"source_id,name,phone,cells\nW1,王芳（样例）,13800000001,{CELL}\n")
    assert ingest_layer(store, workers, "worker").loaded == 1
    assign_units(store)


def test_every_kind_exports_with_the_leading_columns(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    for kind in EXPORT_KINDS:
        frame = export_records(store, kind)
        assert tuple(frame.columns[: len(LEADING)]) == LEADING, kind
        assert frame.crs == "EPSG:4326"
    units = export_records(store, "units").set_index("source_id")
    assert units.loc["n5217402618", ["kind", "name"]].tolist() == ["community", "炼厂社区"]
    assert units.loc["n5217402618", ["lon", "lat"]].tolist() == [117.23912, 28.318058]
    assert units.loc["n5217402618", "cell_code"] == CELL
    assert pd.isna(units.loc["n5217402617", "cell_code"])  # 花园社区 lies outside the cell
    park = units.loc["P1"]
    assert park.geometry.geom_type == "Polygon"
    assert park.geometry.contains(Point(park["lon"], park["lat"]))  # point on surface
    orgs = export_records(store, "org").set_index("source_id")
    assert orgs.loc["O02", "covers"] == "osm:n5217402618"
    assert orgs.loc["O02", "members"] == 52
    assert str(orgs.loc["O02", "last_activity"]) == "2026-09-30"
    instructors = export_records(store, "instructors").set_index("source_id")
    assert instructors.loc["I01", "covers"] == "sample_firms:F04;sample_firms:F05"
    assert export_records(store, "workers")["cells"].tolist() == [CELL]
    assert export_records(store, "cells")["cell_code"].tolist() == [CELL]
    assert set(export_records(store, "stations")["tier"]) >= {"county", "township"}


def test_a_unit_kind_filters_units_in_english_or_chinese(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    firms = export_records(store, "firm")
    assert len(firms) > 0 and set(firms["kind"]) == {"firm"}
    assert export_records(store, "非公企业")["source_id"].tolist() == firms["source_id"].tolist()
    with pytest.raises(GridmapError, match="areas, cells, units"):
        export_records(store, "bogus")


@pytest.fixture
def seeded(store: Store, tmp_path: Path) -> Iterator[Store]:
    """A SpatiaLite store with the sample data, apart from the (parametrised) fresh ``store``."""
    seed = Store(f"sqlite:///{tmp_path / 'seed.sqlite'}")
    seed.upgrade()
    _seed(seed, tmp_path)
    yield seed
    seed.dispose()


def test_units_csv_round_trips_into_a_fresh_store(
    seeded: Store, store: Store, tmp_path: Path
) -> None:
    before = export_records(seeded, "units")
    before = before[before["source"] == "osm"]
    path = write_records(before, tmp_path / "units.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Chinese
    report = ingest_layer(store, path, "unit", source="osm")
    assert (report.loaded, report.rejected) == (len(before), 0)
    after = export_records(store, "units")
    columns = [c for c in before.columns if c not in ("id", "cell_code", "geometry")]
    pd.testing.assert_frame_equal(
        pd.DataFrame(before[columns]).reset_index(drop=True), pd.DataFrame(after[columns])
    )
    assert before.geometry.reset_index(drop=True).geom_equals(after.geometry).all()


def test_organisations_round_trip_with_their_covered_units(
    seeded: Store, store: Store, tmp_path: Path
) -> None:
    orgs = write_records(export_records(seeded, "orgs"), tmp_path / "orgs.xlsx")
    for source, part in export_records(seeded, "units").groupby("source"):
        path = write_records(part, tmp_path / f"{source}.csv")  # covers name SOURCE:ID
        assert ingest_layer(store, path, "unit", source=str(source)).rejected == 0
    report = ingest_layer(store, orgs, "org", source="sample_orgs")
    assert report.rejected == 0, report.rejects
    columns = ["source_id", "kind", "name", "members", "last_activity", "covers", "lon", "lat"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(export_records(seeded, "orgs")[columns]),
        pd.DataFrame(export_records(store, "orgs")[columns]),
    )


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".geojson", ".gpkg"])
def test_cli_writes_every_format(store: Store, tmp_path: Path, suffix: str) -> None:
    _seed(store, tmp_path)
    out = tmp_path / f"units{suffix}"
    env = {"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(hide_password=False)}
    result = CliRunner().invoke(app, ["export", "units", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    n = len(export_records(store, "units"))
    if suffix == ".csv":
        back = pd.read_csv(out, encoding="utf-8-sig", dtype={"source_id": str})
    elif suffix == ".xlsx":
        back = pd.read_excel(out)
    else:
        back = gpd.read_file(out)
        assert set(back.geometry.geom_type) == {"Point", "Polygon"}
    assert len(back) == n
    assert "炼厂社区" in set(back["name"])
    assert {"kind", "lon", "lat", "cell_code"} <= set(back.columns)


def test_cli_refuses_unknown_kinds_and_formats(store: Store, tmp_path: Path) -> None:
    env = {"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(hide_password=False)}
    runner = CliRunner()
    result = runner.invoke(app, ["export", "bogus", "--out", str(tmp_path / "x.csv")], env=env)
    assert result.exit_code == EXIT_ERROR
    assert "bogus" in result.output
    result = runner.invoke(app, ["export", "units", "--out", str(tmp_path / "x.txt")], env=env)
    assert result.exit_code == EXIT_ERROR
    assert ".gpkg" in result.output
    assert not (tmp_path / "x.txt").exists()


# -- records an import with --sync closed -------------------------------------------------


def _units_file(path: Path, ids: range) -> Path:
    rows = "".join(
        f"U{i},第{i}村（样例）,village,{117.20 + i / 1000:.4f},28.29,10,30,2\n" for i in ids
    )
    path.write_text(
        "source_id,name,kind,lon,lat,households,population,party_members\n" + rows,
        encoding="utf-8",
    )
    return path


def _with_closed_units(store: Store, tmp_path: Path) -> None:
    """Units U1..U5, of which a re-import with sync closed U4 and U5."""
    path = _units_file(tmp_path / "villages.csv", range(1, 6))
    ingest_layer(store, path, "unit", source="survey")
    report = ingest_layer(store, _units_file(path, range(1, 4)), "unit", source="survey", sync=True)
    assert report.closed == 2


def test_closed_records_are_left_out_unless_asked_for(store: Store, tmp_path: Path) -> None:
    _with_closed_units(store, tmp_path)
    frame = export_records(store, "units")
    assert sorted(frame["source_id"]) == ["U1", "U2", "U3"]
    assert "closed_at" not in frame.columns  # the default export still imports back unchanged
    assert sorted(export_records(store, "village")["source_id"]) == ["U1", "U2", "U3"]
    everything = export_records(store, "units", include_closed=True)
    closed = everything.set_index("source_id")["closed_at"].notna().to_dict()
    assert closed == {"U1": False, "U2": False, "U3": False, "U4": True, "U5": True}


@pytest.mark.parametrize("suffix", [".csv", ".geojson"])
def test_cli_leaves_closed_records_out_unless_include_closed(
    store: Store, tmp_path: Path, suffix: str
) -> None:
    _with_closed_units(store, tmp_path)
    env = {"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(hide_password=False)}
    runner = CliRunner()
    read = {
        ".csv": lambda p: pd.read_csv(p, encoding="utf-8-sig"),
        ".geojson": gpd.read_file,
    }[suffix]
    out = tmp_path / f"open{suffix}"
    result = runner.invoke(app, ["export", "units", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert sorted(read(out)["source_id"]) == ["U1", "U2", "U3"]
    out = tmp_path / f"all{suffix}"
    result = runner.invoke(app, ["export", "units", "--out", str(out), "--include-closed"], env=env)
    assert result.exit_code == 0, result.output
    back = read(out)
    assert sorted(back["source_id"]) == ["U1", "U2", "U3", "U4", "U5"]
    assert back.set_index("source_id")["closed_at"].notna().sum() == 2


def test_export_records_writes_out_in_the_same_call(seeded: Store, tmp_path: Path) -> None:
    out = tmp_path / "orgs.csv"
    frame = export_records(seeded, "orgs", out=out)
    written = pd.read_csv(out, encoding="utf-8-sig", dtype={"source_id": str})
    assert written["source_id"].tolist() == frame["source_id"].tolist()
    assert len(frame) > 0
