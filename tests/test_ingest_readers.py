"""read_layer on every fixture in tests/data: formats, encodings, coordinates, bad rows."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from pyproj import Geod

from gridmap.crs import CHINA_BBOX
from gridmap.ingest import IngestError, ReadResult, RecordKind, detect_encoding, read_layer

DATA = Path(__file__).parent / "data"


def _reasons(result: ReadResult) -> dict[int, str]:
    """Reasons of the rejected rows by row number; also checks the counting invariant."""
    assert result.n_read == len(result.records) + len(result.rejects)
    assert str(result.records.crs) == "EPSG:4326"
    return dict(zip(result.rejects["_row"], result.rejects["reason"], strict=True))


def test_gbk_shapefile_without_cpg_round_trips_chinese_names() -> None:
    path = DATA / "guixi_areas_gbk.shp"
    assert not path.with_suffix(".cpg").exists()
    assert detect_encoding(path).encoding == "gb18030"

    result = read_layer(path, RecordKind.AREA)

    assert _reasons(result) == {}
    assert result.records["name"].tolist() == ["花园街道", "炼厂社区"]
    assert result.records["level"].tolist() == ["township", "village"]
    assert result.records["source_id"].tolist() == ["360681001", "360681001002"]
    assert "decoded as GB18030: no .cpg file and not valid UTF-8" in result.notes


def test_undecodable_dbf_names_the_encoding_option(tmp_path: Path) -> None:
    for suffix in (".shp", ".shx", ".prj"):
        (tmp_path / f"a{suffix}").write_bytes((DATA / f"guixi_areas_gbk{suffix}").read_bytes())
    dbf = bytearray((DATA / "guixi_areas_gbk.dbf").read_bytes())
    dbf[-20:-10] = b"\xff" * 10  # 0xFF is neither UTF-8 nor GB18030
    (tmp_path / "a.dbf").write_bytes(bytes(dbf))

    with pytest.raises(IngestError, match="--encoding"):
        read_layer(tmp_path / "a.shp", "area")


def test_gbk_csv_is_decoded_with_a_note() -> None:
    result = read_layer(DATA / "workers_gbk.csv", "worker")

    assert _reasons(result) == {}
    assert result.records["name"].tolist() == ["王芳", "李强"]
    assert result.records["cells"].iloc[0] == ["360681001002001", "360681001002002"]
    assert any("GB18030" in note for note in result.notes)


def test_swapped_missing_and_unknown_values_are_rejected_per_row() -> None:
    result = read_layer(DATA / "units_swapped.csv", "unit")

    reasons = _reasons(result)
    assert reasons[3].startswith(
        "疑似经纬度颠倒 / longitude and latitude look swapped (x=28.2936, y=117.238"
    )
    assert reasons[4] == (
        "missing coordinates: longitude column '经度' is empty; "
        "missing coordinates: latitude column '纬度' is empty"
    )
    assert reasons[5] == "column '经度' (longitude): 'abc' is not a number"
    assert reasons[7].startswith(
        "column '类型' (kind): unknown UnitKind 'bogus'; accepted: village"
    )
    assert set(result.records["name"]) == {"炼厂社区", "大岩苏家"}
    assert result.rejects.loc[result.rejects["_row"] == 3, "名称"].item() == "花园村"


def test_points_outside_the_expected_region_are_rejected() -> None:
    result = read_layer(DATA / "units_swapped.csv", "unit", region=CHINA_BBOX)

    reasons = _reasons(result)
    assert reasons[6].startswith("超出预期范围 / outside the expected region lon 72.004..137.835")
    assert "longitude and latitude look swapped" in reasons[3]
    assert result.records["name"].tolist() == ["炼厂社区"]


@pytest.mark.parametrize("system", ["gcj02", "bd09"])
def test_amap_and_baidu_points_come_back_within_a_centimetre(system: str) -> None:
    reference = pd.read_csv(DATA / "guixi_communities_wgs84.csv").set_index("osm_id")

    result = read_layer(DATA / f"guixi_communities_{system}.csv", "unit", crs=system)

    assert _reasons(result) == {}
    assert result.source_crs == system
    assert len(result.records) == 16
    records = result.records.set_index("source_id").loc[reference.index]
    _, _, metres = Geod(ellps="WGS84").inv(
        records.geometry.x.to_numpy(),
        records.geometry.y.to_numpy(),
        reference["lon"].to_numpy(),
        reference["lat"].to_numpy(),
    )
    assert metres.max() < 0.01
    assert records["name"].tolist() == reference["name"].tolist()
    assert set(records["kind"]) == {"community"}


def test_text_in_a_number_column_rejects_that_row_naming_column_and_value() -> None:
    result = read_layer(DATA / "units_numbers.xlsx", "unit")

    assert _reasons(result) == {
        3: "column '户数' (households): '十二' is not a whole number (write digits, such as 12)",
        4: "column '党员人数' (party_members): 'abc' is not a whole number "
        "(write digits, such as 12)",
    }
    records = result.records.set_index("source_id")
    assert records.loc["U4", "households"] == 1200
    assert records.loc["U4", "party_members"] == 7
    assert records.loc["U1", "kind"] == "park"
    assert records["_row"].tolist() == [2, 6]  # the blank spreadsheet row 5 is skipped


def test_org_template_with_chinese_headers_and_date_forms() -> None:
    result = read_layer(DATA / "orgs_template.xlsx", "org")

    reasons = _reasons(result)
    assert reasons == {
        4: "column '最近活动日期' (last_activity): '2024-13-01' is not a real date "
        "(month must be in 1..12)",
    }
    records = result.records.set_index("source_id")
    assert records.loc["O1", "established"] == dt.date(2001, 7, 1)
    assert records.loc["O1", "last_activity"] == dt.date(2024, 5, 1)
    assert records.loc["O2", "established"] == dt.date(2019, 3, 8)
    assert records.loc["O2", "last_activity"] == dt.date(2024, 5, 1)  # Excel serial 45413
    assert records.loc["O2", "covers"] == ["U5", "U6", "U7"]
    assert records.loc["O1", "own_unit"] == "U1"
    assert records.loc["O2", "own_unit"] is None
    assert records["kind"].tolist() == ["committee", "joint_branch"]
    assert records.geometry.isna().all()


def test_bad_geometries_duplicates_and_wrong_types() -> None:
    result = read_layer(DATA / "cells_bad_geometry.geojson", "cell")

    reasons = _reasons(result)
    assert reasons[3].startswith("invalid polygon (Self-intersection")
    assert "automatic repair is ambiguous" in reasons[3]
    assert reasons[4] == "empty geometry: the row has no coordinates or shape"
    assert reasons[5] == (
        "duplicate source_id '360681001002001': first seen at row 1; give each record its own id"
    )
    assert reasons[6] == "cell records need a MultiPolygon or Polygon geometry, got LineString"
    assert result.n_repaired == 1
    bowtie = result.records.set_index("name").loc["蝴蝶网格", "geometry"]
    assert bowtie.geom_type == "MultiPolygon"
    assert len(bowtie.geoms) == 2
    assert bowtie.is_valid


def test_truncated_file_raises() -> None:
    with pytest.raises(IngestError, match="truncated"):
        read_layer(DATA / "cells_truncated.geojson", "cell")


def test_kml_with_chinese_extended_data() -> None:
    result = read_layer(DATA / "stations.kml", "station")

    assert _reasons(result) == {3: "station records need a Point geometry, got LineString"}
    records = result.records.set_index("name")
    assert records.loc["炼厂社区党群服务站", "tier"] == "community"
    assert records.loc["炼厂社区党群服务站", "capacity"] == 60
    assert records.loc["炼厂社区党群服务站", "last_activity"] == dt.date(2024, 5, 1)
    assert records.loc["东门街道党群服务中心", "tier"] == "township"


def test_geopackage_needs_a_layer_and_reads_cgcs2000() -> None:
    with pytest.raises(IngestError, match=r"2 layers .*--layer"):
        read_layer(DATA / "guixi_two_layers.gpkg", "station")

    stations = read_layer(DATA / "guixi_two_layers.gpkg", "station", layer="stations")
    roads = read_layer(DATA / "guixi_two_layers.gpkg", "road", layer="roads")

    assert _reasons(stations) == {} and _reasons(roads) == {}
    assert stations.source_crs == "EPSG:4490"
    assert stations.records["tier"].tolist() == ["county"]
    assert roads.records["highway"].tolist() == ["primary"]
    assert (
        stations.records.geometry.iloc[0].distance(roads.records.geometry.iloc[0]) < 0.1
    )  # same area, both in WGS-84


def test_whole_file_problems_are_reported_at_once() -> None:
    with pytest.raises(IngestError) as info:
        read_layer(DATA / "workers_gbk.csv", "station", columns={"capacity": "容量"})
    message = str(info.value)
    assert "column '容量' given for 'capacity' is not in the file" in message
    assert "no column for required field 'tier'" in message
    assert "no longitude column" in message and "--lon-col" in message


def test_unknown_kind_and_missing_file() -> None:
    with pytest.raises(ValueError, match="bogus"):
        RecordKind("bogus")
    with pytest.raises(IngestError, match="accepted: area, cell, unit"):
        read_layer(DATA / "units_swapped.csv", "bogus")
    with pytest.raises(IngestError, match="no such file"):
        read_layer(DATA / "nothing.csv", "unit")
    with pytest.raises(IngestError, match="accepted: village"):
        read_layer(DATA / "units_swapped.csv", "unit", unit_kind="bogus")


def test_fixed_unit_kind_and_synthetic_ids_are_stable() -> None:
    first = read_layer(DATA / "stations.kml", "unit", unit_kind="building")
    second = read_layer(DATA / "stations.kml", "unit", unit_kind="楼宇")

    assert list(_reasons(first)) == [3]  # the LineString
    assert set(first.records["kind"]) == {"building"}
    assert first.records["source_id"].tolist() == second.records["source_id"].tolist()
    assert all(sid.startswith("h") and len(sid) == 17 for sid in first.records["source_id"])
