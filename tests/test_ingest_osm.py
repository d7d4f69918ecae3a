"""read_osm on the two real extracts; expected counts come from a separate plain pass."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import osmium
import pytest

from gridmap.ingest import IngestError, OsmExtract, load_tag_mapping, read_osm

GUIXI = "osm/jiangxi_guixi.osm.pbf"
LIECHTENSTEIN = "osm/liechtenstein-2013-08-03.osm.pbf"
PARK_LANDUSE = {"industrial", "commercial", "retail"}


def _plain_counts(path: Path) -> Counter[str]:
    """Count the objects of each kind by tags alone, without gridmap's reader."""
    counts: Counter[str] = Counter()
    for obj in osmium.FileProcessor(str(path)):
        tags = dict(obj.tags)
        kind = obj.type_str()
        place = tags.get("place")
        if kind == "n" and place in {"village", "hamlet", "isolated_dwelling"}:
            counts["village"] += 1
        if kind == "n" and place in {"quarter", "neighbourhood", "suburb"}:
            counts["community"] += 1
        if kind == "n" and place == "town":
            counts["town"] += 1
        if kind == "w" and "highway" in tags:
            counts["road"] += 1
        if kind in "wn" and tags.get("amenity") == "townhall":
            counts["townhall"] += 1
        if kind in "wn" and "building" in tags:
            counts["building"] += 1
        if kind == "r" and "building" in tags and tags.get("type") == "multipolygon":
            counts["building"] += 1
        if kind == "w" and tags.get("landuse") in PARK_LANDUSE:
            counts["park"] += 1
    return counts


def _check_invariant(extract: OsmExtract) -> None:
    frames = (extract.units, extract.sites, extract.places, extract.areas, extract.roads)
    assert extract.n_read == sum(len(f) for f in frames) + len(extract.rejects)
    for frame in frames:
        assert str(frame.crs) == "EPSG:4326"
        # a feature of two unit kinds is one unit of each: w1 (building) and w1:park
        assert frame["source_id"].str.match(r"^[nwr]\d+(:[a-z_]+)?$").all()
        assert frame["source_id"].is_unique
        assert set(frame["source"]) <= {"osm"}


@pytest.fixture(scope="module")
def guixi(shared_data: Path) -> tuple[OsmExtract, Counter[str]]:
    path = shared_data / GUIXI
    return read_osm(path), _plain_counts(path)


@pytest.fixture(scope="module")
def liechtenstein(shared_data: Path) -> tuple[OsmExtract, Counter[str]]:
    path = shared_data / LIECHTENSTEIN
    return read_osm(path), _plain_counts(path)


def test_guixi_units_sites_places_and_roads(guixi: tuple[OsmExtract, Counter[str]]) -> None:
    extract, plain = guixi
    _check_invariant(extract)
    kinds = extract.units["kind"].value_counts().to_dict()

    assert plain == Counter(
        village=4, community=16, town=3, road=176, townhall=2, building=165, park=1
    )
    assert kinds == {
        "building": plain["building"],
        "community": plain["community"],
        "village": plain["village"],
        "park": plain["park"],
    }
    assert len(extract.roads) == plain["road"]
    villages = set(extract.units.loc[extract.units["kind"] == "village", "name"])
    assert villages == {"花园村", "黄坑村", "柏里村", "大岩苏家"}
    assert "炼厂社区" in set(extract.units["name"])
    parks = extract.units[extract.units["kind"] == "park"]
    assert parks["name"].tolist() == ["贵溪发电有限责任公司"]
    assert set(parks.geom_type) == {"Polygon"}
    assert set(extract.units.loc[extract.units["kind"] == "building"].geom_type) <= {
        "Polygon",
        "MultiPolygon",
    }
    townhalls = extract.sites[extract.sites["site_kind"] == "townhall"]
    assert set(townhalls["name"]) == {"贵溪市人民政府", "东门街道办事处"}
    assert townhalls["sample_station"].all()
    assert set(extract.places["name"]) == {"花园街道", "雄石街道", "东门街道"}
    assert set(extract.places["level"]) == {"township"}
    assert extract.roads.geom_type.eq("LineString").all()
    assert extract.roads["source_id"].str.startswith("w").all()


def test_guixi_admin_areas_build_or_are_rejected(guixi: tuple[OsmExtract, Counter[str]]) -> None:
    extract, _ = guixi

    # only 东门街道's boundary relation is complete inside this small extract
    assert extract.areas[["source_id", "name", "level"]].values.tolist() == [
        ["r6662718", "东门街道", "township"]
    ]
    assert set(extract.rejects["section"]) == {"areas"}
    assert len(extract.rejects) == 11
    assert extract.rejects["reason"].str.startswith("relation is incomplete in this extract").all()
    areas = extract.result("areas")
    assert (areas.n_read, len(areas.records), len(areas.rejects)) == (12, 1, 11)


def test_liechtenstein_counts(liechtenstein: tuple[OsmExtract, Counter[str]]) -> None:
    extract, plain = liechtenstein
    _check_invariant(extract)
    kinds = extract.units["kind"].value_counts().to_dict()

    # 14 villages + 2 hamlets; the suburb Oberplanken is a community; the town Vaduz a place
    assert (plain["village"], plain["community"], plain["town"]) == (16, 1, 1)
    assert kinds["village"] == plain["village"]
    assert kinds["community"] == plain["community"]
    assert extract.places["name"].tolist() == ["Vaduz"]
    # 3,722 building ways + 1 multipolygon relation + 24 building nodes (point buildings)
    assert kinds["building"] == plain["building"] == 3747
    # 14 industrial + 5 commercial areas, 4 of them also building=yes (buildings AND parks)
    assert kinds["park"] == plain["park"] == 19
    assert len(extract.roads) == plain["road"] == 2753
    townhalls = extract.sites[extract.sites["site_kind"] == "townhall"]
    assert len(townhalls) == plain["townhall"] == 2
    assert set(extract.sites.geom_type) == {"Point"}


def test_liechtenstein_municipalities(liechtenstein: tuple[OsmExtract, Counter[str]]) -> None:
    extract, _ = liechtenstein
    municipalities = extract.areas[extract.areas["admin_level"] == "8"]

    assert sorted(municipalities["name"]) == sorted(
        [
            "Balzers",
            "Eschen",
            "Gamprin",
            "Mauren",
            "Planken",
            "Ruggell",
            "Schaan",
            "Schellenberg",
            "Triesen",
            "Triesenberg",
            "Vaduz",
        ]
    )
    assert set(municipalities["level"]) == {"township"}
    assert municipalities.is_valid.all()
    assert any("admin_level=2" in note for note in extract.notes)


def test_user_tag_file_replaces_a_section(shared_data: Path, tmp_path: Path) -> None:
    user = tmp_path / "tags.toml"
    user.write_text(
        '[[units]]\nkind = "社区"\ntags = { place = ["town"] }\ngeometry = ["node"]\n',
        encoding="utf-8",
    )

    extract = read_osm(shared_data / GUIXI, tags=user)

    assert extract.units["kind"].tolist() == ["community"] * 3
    assert len(extract.roads) == 176  # other sections keep the packaged rules


def test_bad_tag_file_lists_every_problem(tmp_path: Path) -> None:
    user = tmp_path / "tags.toml"
    user.write_text(
        '[[units]]\nkind = "bogus"\ntags = { place = "town" }\n[parks]\n', encoding="utf-8"
    )
    with pytest.raises(IngestError) as info:
        load_tag_mapping(user)
    message = str(info.value)
    assert "unknown sections ['parks']" in message
    assert "unknown UnitKind 'bogus'" in message
    assert "tag 'place' must be" in message


def test_truncated_extract_raises(shared_data: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.osm.pbf"
    cut.write_bytes((shared_data / GUIXI).read_bytes()[:20_000])
    with pytest.raises(IngestError, match="truncated"):
        read_osm(cut)
