"""``derive_areas`` on real extracts, both stores: 贵溪 (MCA codes) and Liechtenstein (none)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from sqlalchemy import select

from gridmap.admin import derive_areas, is_generated, list_areas, load_divisions
from gridmap.grid.stored import generate_grid_in, save_cells
from gridmap.grid.stored_check import check_all_grids
from gridmap.ingest.osm import read_osm
from gridmap.ingest.pipeline import ingest_layer, ingest_osm
from gridmap.store import Store, models

GUIXI = "osm/jiangxi_guixi.osm.pbf"
LIECHTENSTEIN = "osm/liechtenstein-2013-08-03.osm.pbf"
MCA = "china/mca_divisions_4level_2025-12-31.json"
COUNTY = "360681"
#: The three sub-districts of the extract and their official codes (MCA list, 2025-12-31).
SUB_DISTRICTS = {"360681001": "雄石街道", "360681002": "东门街道", "360681003": "花园街道"}


def guixi_store(store: Store, data: Path, tmp_path: Path) -> shapely.Geometry:
    """The 贵溪 extract and the county polygon (district.geojson) in ``store``; the county."""
    ingest_osm(store, data / GUIXI, reject_file=tmp_path / "osm.csv")
    county = gpd.read_file(data / "china" / "district.geojson", where="gb='156360681'")
    county = county.to_crs(4326).assign(code=COUNTY, level="county")
    path = tmp_path / "county.geojson"
    county[["name", "code", "level", "geometry"]].to_file(path, driver="GeoJSON")
    report = ingest_layer(store, path, "area", source="district")
    assert report.loaded == 1
    geometry: shapely.Geometry = county.geometry.iloc[0]
    return geometry


def liechtenstein_store(store: Store, data: Path, tmp_path: Path) -> shapely.Geometry:
    """The Liechtenstein extract in ``store``; the union of its 11 municipalities."""
    ingest_osm(store, data / LIECHTENSTEIN, reject_file=tmp_path / "osm.csv")
    towns = [a for a in _stored(store) if a.level == "township"]
    assert len(towns) == 11 and all(a.code is None for a in towns)  # no code in the data
    return shapely.union_all([_shape(a) for a in towns])


def _stored(store: Store) -> list[models.AdminArea]:
    with store.session() as session:
        return list(session.scalars(select(models.AdminArea)))


def _shape(area: models.AdminArea) -> shapely.Geometry:
    from geoalchemy2.shape import to_shape

    return to_shape(area.boundary)


def test_guixi_townships_get_official_codes_and_villages_divide_them(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    county = guixi_store(store, shared_data, tmp_path)
    places = read_osm(shared_data / GUIXI).places.set_index("source_id").geometry
    report = derive_areas(
        store,
        boundary=county,
        parent_code=COUNTY,
        divisions=load_divisions(shared_data / MCA),
        places=places,
    )
    areas = report.areas
    towns = areas[areas["level"] == "township"]
    assert dict(zip(towns["code"], towns["name"], strict=True)) == SUB_DISTRICTS
    assert set(towns["code_origin"]) == {"official"}
    villages = areas[areas["level"] == "village"]
    # 16 communities (place=quarter) and 4 villages in the extract, each an area now
    assert len(villages) == 20 and villages["code"].is_unique
    assert set(villages["code_origin"]) == {"generated"}
    for code, parent in zip(villages["code"], villages["parent_code"], strict=True):
        assert len(code) == 12 and code.isdigit() and code[:9] == parent
    for _, town in towns.iterrows():
        own = villages[villages["parent_code"] == town["code"]].geometry.to_numpy()
        union = shapely.union_all(own)
        # divided in metres and projected back: long straight edges bow by a few metres
        outside = shapely.area(shapely.difference(own, town.geometry))
        assert (outside < 1e-3 * shapely.area(own)).all()
        assert union.area == pytest.approx(town.geometry.area, rel=1e-4)  # no gap
        assert shapely.area(own).sum() == pytest.approx(union.area, rel=1e-4)  # no overlap
    stored = {a.code: a for a in _stored(store) if a.code}
    assert {c for c in stored if len(c) == 12} == set(villages["code"])
    assert all(stored[c].parent_id == stored[c[:9]].id for c in villages["code"])
    listed = list_areas(store)
    assert listed["level"].tolist()[:4] == ["county", "township", "township", "township"]


def test_derive_again_updates_the_same_areas(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    county = guixi_store(store, shared_data, tmp_path)
    places = read_osm(shared_data / GUIXI).places.set_index("source_id").geometry
    divisions = load_divisions(shared_data / MCA)
    first = derive_areas(store, boundary=county, parent_code=COUNTY, divisions=divisions,
                         places=places)  # fmt: skip
    before = {a.code: a.id for a in _stored(store)}
    second = derive_areas(store, boundary=county, parent_code=COUNTY, divisions=divisions,
                          places=places)  # fmt: skip
    assert {a.code: a.id for a in _stored(store)} == before
    assert second.areas["code"].tolist() == first.areas["code"].tolist()
    assert all(r.inserted == 0 for _, r in second.loads)
    moved = shapely.area(
        shapely.symmetric_difference(
            first.areas.geometry.to_numpy(), second.areas.geometry.to_numpy()
        )
    )
    assert (moved <= 1e-3 * shapely.area(first.areas.geometry.to_numpy())).all()  # float noise


def test_liechtenstein_gets_valid_distinct_generated_codes_and_a_clean_grid(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    country = liechtenstein_store(store, shared_data, tmp_path)
    report = derive_areas(store, boundary=country)
    areas = report.areas
    assert report.parent_code == "990101"  # no province is numbered 99
    towns = areas[areas["level"] == "township"]
    assert len(towns) == 11 and towns["code"].is_unique
    assert all(c.startswith("990101") and c[6] == "9" for c in towns["code"])
    villages = areas[areas["level"] == "village"]
    assert villages["code"].is_unique and len(villages) >= 11  # every municipality has one
    assert set(villages["parent_code"]) == set(towns["code"])
    assert all(len(c) == 12 and c.isdigit() and is_generated(c) for c in villages["code"])
    assert set(areas["code_origin"]) == {"generated"}
    stored = {a.code for a in _stored(store) if a.code}
    assert set(areas["code"]) <= stored
    cells = generate_grid_in(store, country, shape="square", size_m=1000.0)
    assert all(c[:12] in set(villages["code"]) for c in cells["code"])
    save_cells(store, cells, source="grid-li")
    check = check_all_grids(store)
    assert check.ok, check.to_table()
    assert {a.code for a in check.areas} == set(towns["code"])


def test_a_box_inside_a_stored_township_keeps_its_polygon(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    liechtenstein_store(store, shared_data, tmp_path)
    vaduz = next(a for a in _stored(store) if a.name == "Vaduz")
    before = _shape(vaduz)
    box = shapely.box(9.50, 47.12, 9.56, 47.16)
    report = derive_areas(store, boundary=box)
    after = next(a for a in _stored(store) if a.name == "Vaduz")
    assert _shape(after).equals(before)  # the municipality is not cut to the box
    villages = report.areas[report.areas["level"] == "village"]
    assert shapely.union_all(villages.geometry.to_numpy()).area == pytest.approx(
        shapely.intersection(box, shapely.union_all([_shape(a) for a in _stored(store)
                                                      if a.level == "township"])).area,
        rel=1e-6,
    )  # fmt: skip
