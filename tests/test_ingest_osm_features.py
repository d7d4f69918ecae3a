"""OSM: every feature whose tags match is loaded or rejected, in every kind it matches.

A small hand-written extract (below) holds what the real extracts showed: building
nodes (7 in an Andorra extract, 24 in the Liechtenstein one), a building on
``landuse=retail``, a ``landuse=industrial`` node, and boundary relations with and
without a numeric ``division_code`` (as Chinese OSM boundaries carry it).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import osmium
import pandas as pd
import pytest
from sqlalchemy import select

from gridmap.ingest import read_osm
from gridmap.ingest.osm import parent_code
from gridmap.ingest.pipeline import ingest_osm
from gridmap.store import Store, models

SQUARE = [(1, 117.200, 28.200), (2, 117.210, 28.200), (3, 117.210, 28.210), (4, 117.200, 28.210)]
SHOP = [(11, 117.201, 28.201), (12, 117.202, 28.201), (13, 117.202, 28.202), (14, 117.201, 28.202)]
BUILDING_NODES = 7


def _node(node_id: int, lon: float, lat: float, tags: dict[str, str] | None = None) -> str:
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
    return f'<node id="{node_id}" version="1" lat="{lat}" lon="{lon}">{inner}</node>'


def _way(way_id: int, nodes: list[int], tags: dict[str, str] | None = None) -> str:
    refs = "".join(f'<nd ref="{n}"/>' for n in nodes)
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in (tags or {}).items())
    return f'<way id="{way_id}" version="1">{refs}{inner}</way>'


def _boundary(relation_id: int, way_id: int, tags: dict[str, str]) -> str:
    inner = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
    member = f'<member type="way" ref="{way_id}" role="outer"/>'
    return f'<relation id="{relation_id}" version="1">{member}{inner}</relation>'


@pytest.fixture
def extract(tmp_path: Path) -> Path:
    parts = [_node(i, lon, lat) for i, lon, lat in SQUARE + SHOP]
    parts += [
        _node(100 + i, 117.203 + i / 1000, 28.205, {"building": "yes", "name": f"楼{i}"})
        for i in range(BUILDING_NODES)
    ]
    parts.append(_node(200, 117.205, 28.207, {"landuse": "industrial", "name": "点状园区"}))
    parts.append(_way(1, [1, 2, 3, 4, 1]))  # the township's outline, untagged
    parts.append(
        _way(2, [11, 12, 13, 14, 11], {"building": "retail", "landuse": "retail", "name": "商场"})
    )
    township = {"type": "boundary", "boundary": "administrative", "admin_level": "8"}
    parts.append(
        _boundary(
            1, 1, {**township, "name": "测试街道", "division_code": "360681001", "place": "town"}
        )
    )
    parts.append(_boundary(2, 1, {**township, "admin_level": "4", "name": "测试省", "ref": "赣"}))
    path = tmp_path / "small.osm"
    path.write_text(
        '<?xml version="1.0" encoding="UTF-8"?>\n<osm version="0.6">'
        + "\n".join(parts)
        + "</osm>\n",
        encoding="utf-8",
    )
    return path


def test_building_nodes_are_point_buildings_and_a_retail_building_is_also_a_park(
    extract: Path,
) -> None:
    result = read_osm(extract)

    units = result.units.set_index("source_id")
    points = units[units.geom_type == "Point"]
    assert len(points) == BUILDING_NODES
    assert set(points["kind"]) == {"building"}
    assert units.loc["w2", "kind"] == "building"
    assert units.loc["w2:park", "kind"] == "park"
    assert units.loc["w2:park", "geometry"].equals(units.loc["w2", "geometry"])
    (reason,) = result.rejects.loc[result.rejects["source_id"] == "n200", "reason"]
    assert "it is a point (node)" in reason and "park" in reason
    assert result.n_read == sum(
        len(f) for f in (result.units, result.sites, result.places, result.areas, result.roads)
    ) + len(result.rejects)


def test_admin_boundaries_carry_their_numeric_division_code(extract: Path) -> None:
    areas = read_osm(extract).areas.set_index("name")

    assert areas.loc["测试街道", "code"] == "360681001"
    assert areas.loc["测试街道", "parent_code"] == "360681"  # the county, from the code
    assert areas.loc["测试街道", "level"] == "township"
    assert pd.isna(areas.loc["测试省", "code"])  # ref=赣 is a short name, not a code


def test_every_unit_is_loaded_or_rejected_per_kind(
    store: Store, extract: Path, tmp_path: Path
) -> None:
    reports = ingest_osm(store, extract, reject_file=tmp_path / "rejects.csv")

    units = next(r for r in reports if r.kind.value == "unit")
    assert (units.n_read, units.loaded, units.rejected) == (
        BUILDING_NODES + 3,
        BUILDING_NODES + 2,
        1,
    )
    with store.session() as s:
        kinds = Counter(s.scalars(select(models.Unit.kind)))
        codes = dict(s.execute(select(models.AdminArea.name, models.AdminArea.code)).all())
    assert kinds == {"building": BUILDING_NODES + 1, "park": 1}
    assert codes["测试街道"] == "360681001"
    assert reports.reject_file is not None
    assert pd.read_csv(reports.reject_file)["source_id"].tolist() == ["n200"]


def test_real_extracts_count_building_nodes_and_buildings_on_landuse(shared_data: Path) -> None:
    path = shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf"
    plain: Counter[str] = Counter()
    for obj in osmium.FileProcessor(str(path)):
        tags = dict(obj.tags)
        if obj.type_str() == "n" and "building" in tags:
            plain["building nodes"] += 1
        if obj.type_str() == "w" and tags.get("landuse") in {"industrial", "commercial", "retail"}:
            plain["park ways"] += 1

    result = read_osm(path)
    units = result.units

    assert plain == {"building nodes": 24, "park ways": 19}
    building_points = units[(units["kind"] == "building") & (units.geom_type == "Point")]
    assert len(building_points) == plain["building nodes"]
    assert (units["kind"] == "park").sum() == plain["park ways"]
    assert units["source_id"].is_unique


@pytest.mark.parametrize(
    ("code", "parent"),
    [
        ("360681001001", "360681001"),
        ("360681001", "360681"),
        ("360681", "360600"),
        ("360600", "360000"),
        ("360000", None),
        ("赣", None),
    ],
)
def test_parent_codes_follow_gb_t_2260(code: str, parent: str | None) -> None:
    assert parent_code(code) == parent
