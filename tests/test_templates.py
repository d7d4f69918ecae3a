"""The import templates (gridmap/data/templates): they load cleanly, the README documents them."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import box
from sqlalchemy import func, select

from gridmap.domain import DomainEnum, OrgKind, StationTier, UnitKind
from gridmap.ingest.pipeline import ingest_layer
from gridmap.ingest.readers import read_layer
from gridmap.store import Store, models

TEMPLATES = Path(__file__).resolve().parent.parent / "gridmap" / "data" / "templates"
KINDS = {
    "units": "unit",
    "party_orgs": "org",
    "instructors": "instructor",
    "stations": "station",
    "workers": "worker",
}
FILES = [
    TEMPLATES / f"{name}{variant}.{ext}"
    for name in KINDS
    for variant in ("", "_zh")
    for ext in ("csv", "xlsx")
]
ENUMS: dict[str, type[DomainEnum]] = {
    "UnitKind": UnitKind,
    "OrgKind": OrgKind,
    "StationTier": StationTier,
}
#: 炼厂社区, 贵溪市.
LIANCHANG = (117.23912, 28.318058)


def _headers(path: Path) -> list[str]:
    if path.suffix == ".csv":
        return list(pd.read_csv(path, encoding="utf-8-sig", nrows=0).columns)
    return [str(c) for c in pd.read_excel(path, nrows=0).columns]


def _kind(path: Path) -> str:
    return KINDS[path.stem.removesuffix("_zh")]


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_template_loads_with_no_rejects_and_every_column_used(path: Path) -> None:
    result = read_layer(path, _kind(path))
    assert (result.n_read, len(result.records), len(result.rejects)) == (1, 1, 0)
    assert not [n for n in result.notes if "not used" in n], result.notes
    record = result.records.iloc[0]
    assert "（样例）" in record["name"]
    if record.geometry is not None:
        assert (record.geometry.x, record.geometry.y) == pytest.approx(LIANCHANG, abs=1e-9)


@pytest.mark.parametrize("name", list(KINDS))
def test_english_and_chinese_variants_read_the_same(name: str) -> None:
    frames = [
        read_layer(TEMPLATES / f"{name}{v}.{e}", KINDS[name]).records.drop(columns="_row")
        for v in ("", "_zh")
        for e in ("csv", "xlsx")
    ]
    for frame in frames[1:]:
        pd.testing.assert_frame_equal(pd.DataFrame(frames[0]), pd.DataFrame(frame))
    record = frames[0].iloc[0]
    expected = {"units": "building", "party_orgs": "joint_branch", "stations": "community"}
    if name in expected:
        field = "tier" if name == "stations" else "kind"
        assert record[field] == expected[name]  # the Chinese term parsed to the English name


def _readme_sections() -> dict[str, list[list[str]]]:
    """Rows of the column table under each template's section, keyed by template name."""
    text = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    sections: dict[str, list[list[str]]] = {}
    for chunk in text.split("\n## ")[1:]:
        files = re.search(r"Files: `(\w+)\.csv`", chunk)
        assert files, chunk[:80]
        rows = [
            [cell.strip() for cell in line.strip("|").split("|")]
            for line in chunk.splitlines()
            if line.startswith("| `")
        ]
        sections[files.group(1)] = rows
    return sections


def test_readme_documents_every_column_of_every_template() -> None:
    sections = _readme_sections()
    assert set(sections) == set(KINDS)
    for name, rows in sections.items():
        column_rows = [r for r in rows if len(r) == 6]
        english = {r[0].strip("`") for r in column_rows}
        chinese = {r[1] for r in column_rows}
        assert english == set(_headers(TEMPLATES / f"{name}.csv")), name
        assert chinese == set(_headers(TEMPLATES / f"{name}_zh.csv")), name
        assert english == set(_headers(TEMPLATES / f"{name}.xlsx")), name
        assert chinese == set(_headers(TEMPLATES / f"{name}_zh.xlsx")), name
        assert all(r[2] and r[4] for r in column_rows), name  # a type and a meaning each


def test_readme_lists_every_enumeration_value_and_each_parses() -> None:
    text = (TEMPLATES / "README.md").read_text(encoding="utf-8")
    seen: dict[str, set[str]] = {}
    for enum_name, table in re.findall(r"Accepted `(\w+)` values.*?\n\n((?:\|.*\n)+)", text):
        enum = ENUMS[enum_name]
        for line in table.splitlines()[2:]:
            value, zh, _, also = (c.strip() for c in line.strip("|").split("|"))
            member = enum.parse(value.strip("`"))
            assert enum.parse(zh) is member
            for alias in [] if also == "-" else also.split(", "):
                assert enum.parse(alias) is member, alias
            seen.setdefault(enum_name, set()).add(member.value)
    assert seen == {name: {m.value for m in enum} for name, enum in ENUMS.items()}


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_templates", TEMPLATES / "make_templates.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being built
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module


def test_readme_and_csv_files_match_their_generator() -> None:
    generator = _generator()
    assert (TEMPLATES / "README.md").read_text(encoding="utf-8") == generator.readme()
    for template in generator.TEMPLATES:
        for chinese, suffix in ((False, ""), (True, "_zh")):
            expected = generator._frame(template, chinese=chinese)
            on_disk = pd.read_csv(
                TEMPLATES / f"{template.name}{suffix}.csv", encoding="utf-8-sig", dtype=str
            ).fillna("")
            pd.testing.assert_frame_equal(on_disk, expected.astype(str))


def test_templates_load_into_the_store_in_order(store: Store, tmp_path: Path) -> None:
    cell = tmp_path / "cells.geojson"
    gpd.GeoDataFrame(
        {"code": ["360681001001001"]},
        geometry=[box(117.235, 28.315, 117.245, 28.321)],
        crs="EPSG:4326",
    ).to_file(cell, driver="GeoJSON")
    assert ingest_layer(store, cell, "cell").loaded == 1
    for name, kind in KINDS.items():
        report = ingest_layer(store, TEMPLATES / f"{name}_zh.xlsx", kind)
        assert (report.loaded, report.rejected) == (1, 0), (name, report.rejects)
    with store.engine.connect() as conn:
        for link in (models.OrgUnit, models.InstructorUnit, models.WorkerCell):
            assert conn.execute(select(func.count()).select_from(link)).scalar_one() == 1
