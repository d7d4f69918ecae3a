"""The workbook and the map against the run's files (``areas.csv``, ``summary.json``, zones).

The demo is loaded into each store; the coverage files and the workbook are written from
the same run and read back as a department would open them.
"""

from __future__ import annotations

import dataclasses
import json
import math
from pathlib import Path
from typing import Any

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest

from gridmap.coverage import CoverageResult, write_results
from gridmap.demo import run_demo
from gridmap.maps._layers import EncodeOptions, layer_specs
from gridmap.maps.from_coverage import map_data
from gridmap.report import write_report
from gridmap.store import Store

pytestmark = pytest.mark.slow

PERCENT_FORMAT = "0.0%"
#: What a department reads above each roll-up column (areas.csv key -> zh, en).
HEADERS = {
    "level": ("级别", "level"),
    "code": ("代码", "code"),
    "name": ("名称", "name"),
    "units": ("单位数", "units"),
    "org_covered": ("组织覆盖数", "organisational"),
    "org_rate": ("组织覆盖率", "organisational rate"),
    "own_covered": ("单独建立数", "own branch"),
    "own_rate": ("单独建立率", "own branch rate"),
    "joint_covered": ("联合建立数", "joint branch"),
    "joint_rate": ("联合建立率", "joint branch rate"),
    "hosted_covered": ("托管覆盖数", "hosted"),
    "hosted_rate": ("托管覆盖率", "hosted rate"),
    "work_covered": ("工作覆盖数", "work"),
    "work_rate": ("工作覆盖率", "work rate"),
    "combined_covered": ("综合覆盖数", "combined"),
    "combined_rate": ("综合覆盖率", "combined rate"),
    "service_covered": ("服务覆盖单位数", "service covered"),
    "service_rate": ("服务覆盖率（单位）", "service rate (units)"),
    "population": ("人口", "population"),
    "population_covered": ("覆盖人口", "population covered"),
    "service_population_rate": ("服务覆盖率（人口）", "service rate (population)"),
    "must_have_branch": ("应建未建", "must have a branch"),
    "branch_idle": ("空转", "idle branch"),
    "idle_orgs": ("闲置组织数", "idle orgs"),
}


def column_label(key: str, lang: str = "zh") -> str:
    zh, en = HEADERS[key]
    return en if lang == "en" else zh


def _sheet(path: Path, name: str) -> list[dict[str, Any]]:
    """Rows of a sheet as ``header -> cell`` (cells, so formats can be checked)."""
    sheet = openpyxl.load_workbook(path)[name]
    rows = list(sheet.iter_rows())
    header = [c.value for c in rows[0]]
    return [dict(zip(header, row, strict=True)) for row in rows[1:]]


def _check_rollup(book: Path, areas: pd.DataFrame, lang: str) -> None:
    sheet = "汇总" if lang == "zh" else "roll-up"
    rows = _sheet(book, sheet)
    assert len(rows) == len(areas)
    shown = [c for c in areas.columns if c != "area_id"]
    assert set(rows[0]) == {column_label(c, lang) for c in shown}  # every roll-up column
    for row, (_, area) in zip(rows, areas.iterrows(), strict=True):
        for key in shown:
            cell, expected = row[column_label(key, lang)], area[key]
            if key.endswith("rate"):
                assert cell.number_format == PERCENT_FORMAT, (key, cell.number_format)
                if pd.isna(expected):
                    assert cell.value is None
                else:
                    assert isinstance(cell.value, int | float)  # a number, not text
                    assert 0.0 <= cell.value <= 1.0
                    assert math.isclose(cell.value, expected, rel_tol=1e-12), key
            elif pd.api.types.is_integer_dtype(areas[key]):
                assert cell.value == int(expected), (area["name"], key)  # filled, equal
    total = rows[-1]
    word = "合计" if lang == "zh" else "total"
    assert total[column_label("level", lang)].value == word
    assert total[column_label("name", lang)].value == word


def _check_zones(book: Path, zones: gpd.GeoDataFrame) -> None:
    rows = _sheet(book, "盲区")
    assert [r["排名"].value for r in rows] == zones["rank"].tolist()
    assert [r["应建未建"].value for r in rows] == zones["must_have_branch"].tolist()
    assert [r["单位数"].value for r in rows] == zones["units"].tolist()


def test_workbook_agrees_with_areas_csv_and_summary(store: Store, tmp_path: Path) -> None:
    result = run_demo(store).coverage
    files = write_results(result, tmp_path / "run")
    areas = pd.read_csv(files["areas"], dtype={"code": str})
    summary = json.loads(files["summary"].read_text())
    zones = gpd.read_file(files["blind_zones"])
    assert summary["must_have_branch"] > 0 and zones["must_have_branch"].sum() > 0
    books = {lang: tmp_path / f"report-{lang}.xlsx" for lang in ("zh", "en")}
    for lang, path in books.items():
        write_report(result, path, lang=lang)  # type: ignore[arg-type]
        _check_rollup(path, areas, lang)
    _check_zones(books["zh"], zones)
    total = _sheet(books["zh"], "汇总")[-1]
    for key in ("units", "service_covered", "must_have_branch", "idle_orgs", "org_covered"):
        assert total[column_label(key)].value == summary[key], key
    assert total["组织覆盖率"].value == pytest.approx(summary["org_rate"])
    must = _sheet(books["zh"], "应建未建")
    assert len(must) == summary["must_have_branch"]
    specs = layer_specs(map_data(result), "zh", EncodeOptions(), include_personal=False)
    units = next(s.spec for s in specs if s.layer_id == "units")
    assert sum(units["cols"]["_alert"]) == summary["must_have_branch"]  # the map's red rings
    _check_new_measures(result, tmp_path / "more.xlsx")


def _check_new_measures(result: CoverageResult, path: Path) -> None:
    """Measures a run adds appear without changes to the report: labelled, or by key."""
    areas = result.areas.assign(
        own_rate=result.areas["org_rate"] / 2,
        branch_idle=2,
        unknown_activity_stations=1,
        mystery_rate=0.25,
        mystery_count=7,
    )
    write_report(dataclasses.replace(result, areas=areas), path)
    first = _sheet(path, "汇总")[0]
    assert first["空转"].value == 2
    assert first["活动情况不明站点数"].value == 1
    assert first["mystery_count"].value == 7
    assert first["单独建立率"].value == pytest.approx(areas["org_rate"].iloc[0] / 2)
    for header in ("单独建立率", "mystery_rate"):
        assert first[header].number_format == PERCENT_FORMAT
