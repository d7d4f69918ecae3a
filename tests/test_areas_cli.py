"""``gridmap areas derive / list`` through the real CLI, both stores, real extracts."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import LineString, Point, Polygon, box
from sqlalchemy import func, select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.cli._common import EXIT_ERROR
from gridmap.ingest.osm import read_osm
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models
from tests.test_areas_derive import GUIXI, MCA, SUB_DISTRICTS, guixi_store, liechtenstein_store


def _run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False)}
    )
    return result.exit_code, " ".join(result.output.split())  # rich wraps long lines


def _area_count(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(models.AdminArea)) or 0)


def test_derive_a_county_by_code_with_official_township_codes(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    guixi_store(store, shared_data, tmp_path)
    out = tmp_path / "areas.geojson"
    code, output = _run(
        store, "areas", "derive", "--area", "360681", "--osm", str(shared_data / GUIXI),
        "--divisions", str(shared_data / MCA), "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    assert "3 townships (3 with official codes), 20 villages / communities (20 generated" in output
    written = gpd.read_file(out)
    towns = written[written["level"] == "township"]
    assert dict(zip(towns["code"], towns["name"], strict=True)) == SUB_DISTRICTS
    assert set(written.loc[written["level"] == "village", "code_origin"]) == {"generated"}
    listed = tmp_path / "areas.csv"
    code, output = _run(store, "areas", "list", "--level", "township", "--out", str(listed))
    assert code == 0, output
    table = pd.read_csv(listed, dtype=str)
    assert table[["code", "name", "parent_code", "code_origin"]].values.tolist() == [
        [town_code, name, "360681", "official"] for town_code, name in SUB_DISTRICTS.items()
    ]
    code, output = _run(store, "areas", "list", "--under", "360681002", "--out", str(listed))
    table = pd.read_csv(listed, dtype=str)
    assert table["code"].str.startswith("360681002").all() and len(table) == 8
    assert set(table.loc[table["level"] == "village", "code_origin"]) == {"generated"}


def test_derive_liechtenstein_by_bbox_gives_generated_codes(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    liechtenstein_store(store, shared_data, tmp_path)
    code, output = _run(store, "areas", "derive", "--bbox", "9.47,47.04,9.64,47.28")
    assert code == 0, output
    assert "under 990101: 11 townships (0 with official codes)" in output
    assert "not official" in output  # the generated codes are said to be generated
    listed = tmp_path / "villages.csv"
    code, output = _run(store, "areas", "list", "--level", "village", "--out", str(listed))
    assert code == 0, output
    table = pd.read_csv(listed, dtype=str)
    assert table["code"].is_unique and set(table["code_origin"]) == {"generated"}
    assert all(len(c) == 12 and c.startswith("990101") for c in table["code"])


def _point_file(path: Path) -> Path:
    gpd.GeoDataFrame(geometry=[Point(117.2, 28.3)], crs=4326).to_file(path, driver="GeoJSON")
    return path


def _bowtie_file(path: Path) -> Path:
    bowtie = Polygon([(117.20, 28.30), (117.22, 28.32), (117.22, 28.30), (117.20, 28.32)])
    gpd.GeoDataFrame(geometry=[bowtie], crs=4326).to_file(path, driver="GeoJSON")
    return path


def _lines_file(path: Path) -> Path:
    line = LineString([(117.2, 28.3), (117.3, 28.4)])
    gpd.GeoDataFrame(geometry=[line], crs=4326).to_file(path, driver="GeoJSON")
    return path


def _empty_file(path: Path) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": []}), encoding="utf-8")
    return path


BAD_INPUTS = {
    "none": ([], "say which area: --area CODE"),
    "two": (["--area", "360681", "--bbox", "1,2,3,4"], "not --area and --bbox"),
    "unknown-area": (["--area", "999999"], "--area 999999 is not a stored area"),
    "missing-file": (
        ["--boundary", "{tmp}/nope.geojson"],
        "--boundary {tmp}/nope.geojson: no such file",
    ),
    "points": (["--boundary", "{points}"], "no polygon in the file (found Point)"),
    "lines": (["--boundary", "{lines}"], "no polygon in the file (found LineString)"),
    "empty": (["--boundary", "{empty}"], "no polygon in the file"),
    "bowtie": (["--boundary", "{bowtie}"], "polygons are invalid (Self-intersection"),
    "bbox-3": (["--bbox", "1,2,3"], "--bbox takes minlon,minlat,maxlon,maxlat"),
    "bbox-text": (["--bbox", "a,b,c,d"], "--bbox takes minlon,minlat,maxlon,maxlat"),
    "bbox-order": (
        ["--bbox", "117.3,28.4,117.2,28.3"],
        "--bbox 117.3,28.4,117.2,28.3: expected minlon < maxlon",
    ),
    "parent-short": (
        ["--bbox", "117.2,28.3,117.3,28.4", "--parent-code", "3606"],
        "--parent-code takes a 6-digit county code",
    ),
    "parent-village": (
        ["--bbox", "117.2,28.3,117.3,28.4", "--parent-code", "360681001001"],
        "--parent-code 360681001001 is a village/community code",
    ),
    "parent-with-area": (
        ["--area", "360681", "--parent-code", "360681"],
        "--parent-code goes with --boundary or --bbox",
    ),
    "divisions": (
        ["--area", "360681", "--divisions", "{tmp}/none.json"],
        "--divisions {tmp}/none.json: no such file",
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_bad_input_names_the_flag_in_one_line(
    store: Store, shared_data: Path, tmp_path: Path, case: str
) -> None:
    county = gpd.read_file(shared_data / "china" / "district.geojson", where="gb='156360681'")
    county.assign(code="360681", level="county").to_file(tmp_path / "c.geojson")
    assert ingest_layer(store, tmp_path / "c.geojson", "area").loaded == 1
    files = {
        "tmp": str(tmp_path),
        "points": str(_point_file(tmp_path / "points.geojson")),
        "lines": str(_lines_file(tmp_path / "lines.geojson")),
        "bowtie": str(_bowtie_file(tmp_path / "bowtie.geojson")),
        "empty": str(_empty_file(tmp_path / "empty.geojson")),
    }
    args, expected = BAD_INPUTS[case]
    before = _area_count(store)
    result = CliRunner().invoke(
        app,
        ["areas", "derive", *(a.format(**files) for a in args)],
        env={"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False)},
    )
    assert result.exit_code == EXIT_ERROR, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)  # no traceback
    text = " ".join(result.output.split())
    assert expected.format(**files) in text
    assert text.startswith("error:") and text.count("error:") == 1
    for python_name in ("parent_code", "area_code", "boundary=", "bbox="):
        assert python_name not in text  # CLI flags, never Python arguments
    assert _area_count(store) == before  # nothing was stored


def test_list_shows_every_level_in_order(store: Store, shared_data: Path, tmp_path: Path) -> None:
    liechtenstein_store(store, shared_data, tmp_path)
    listed = tmp_path / "areas.csv"
    code, output = _run(store, "areas", "list", "--out", str(listed))
    assert code == 0, output
    assert "areas (13)" in output
    table = pd.read_csv(listed)
    assert table["level"].tolist() == ["county"] * 2 + ["township"] * 11  # top level first
    assert table["boundary"].all() and (table["code_origin"] == "none").all()
    code, output = _run(store, "areas", "list", "--level", "hamlet")
    assert code == EXIT_ERROR and "--level takes one of province" in output


def test_derive_under_a_new_township_code_links_it_to_its_county(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    guixi_store(store, shared_data, tmp_path)
    code, output = _run(
        store, "areas", "derive", "--bbox", "117.20,28.28,117.26,28.32",
        "--parent-code", "360681099", "--name", "演示街道",
    )  # fmt: skip
    assert code == 0, output
    listed = tmp_path / "areas.csv"
    assert _run(store, "areas", "list", "--under", "360681099", "--out", str(listed))[0] == 0
    table = pd.read_csv(listed, dtype=str)
    town = table[table["level"] == "township"]
    assert town[["code", "name", "parent_code"]].values.tolist() == [
        ["360681099", "演示街道", "360681"]
    ]
    units = read_osm(shared_data / GUIXI).units
    places = units[units["kind"].isin(["village", "community"])]
    inside = int(places.within(box(117.20, 28.28, 117.26, 28.32)).sum())
    assert inside == 18  # of the extract's 20 villages and communities
    villages = table[table["level"] == "village"]
    assert set(villages["parent_code"]) == {"360681099"}
    assert sorted(villages["code"]) == [f"360681099{i:03d}" for i in range(1, inside + 1)]
