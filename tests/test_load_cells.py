"""Units loaded after the grid go into their cells; a replaced grid keeps its workers (11.6)."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from gridmap.errors import GridmapError
from gridmap.grid.stored_generate import generate_grid
from gridmap.ingest.load import load_records
from gridmap.ingest.pipeline import ingest_layer
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.store import Store, models

WEST, EAST = shapely.box(117.20, 28.29, 117.21, 28.30), shapely.box(117.21, 28.29, 117.22, 28.30)


def _cells_file(path: Path, cells: dict[str, shapely.Polygon]) -> Path:
    features = [
        {"type": "Feature", "properties": {"code": code}, "geometry": shapely.geometry.mapping(g)}
        for code, g in cells.items()
    ]
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _firms(path: Path) -> Path:
    path.write_text(
        "source_id,name,kind,lon,lat\n"
        "F1,西边公司,firm,117.205,28.295\n"
        "F2,东边公司,firm,117.215,28.295\n",
        encoding="utf-8",
    )
    return path


def _unit_cells(store: Store) -> dict[str, str | None]:
    with store.session() as s:
        rows = s.execute(
            select(models.Unit.source_id, models.GridCell.code).outerjoin(
                models.GridCell, models.Unit.cell_id == models.GridCell.id
            )
        )
        return {str(sid): code for sid, code in rows}


def test_firms_imported_after_the_grid_get_their_cells(store: Store, tmp_path: Path) -> None:
    ingest_layer(store, _cells_file(tmp_path / "cells.geojson", {"C1": WEST, "C2": EAST}), "cell")
    report = ingest_layer(store, _firms(tmp_path / "firms.csv"), "unit")

    assert _unit_cells(store) == {"F1": "C1", "F2": "C2"}
    assert any("2 of 2 units in a cell" in note for note in report.notes)


def test_reimported_cells_reassign_the_units(store: Store, tmp_path: Path) -> None:
    cells = tmp_path / "cells.geojson"
    ingest_layer(store, _cells_file(cells, {"C1": WEST, "C2": EAST}), "cell")
    ingest_layer(store, _firms(tmp_path / "firms.csv"), "unit")
    ingest_layer(store, _cells_file(cells, {"C1": EAST, "C2": WEST}), "cell")

    assert _unit_cells(store) == {"F1": "C2", "F2": "C1"}


def test_a_cell_import_reports_its_own_assignment(store: Store, tmp_path: Path) -> None:
    ingest_layer(store, _firms(tmp_path / "firms.csv"), "unit")
    report = ingest_layer(store, _cells_file(tmp_path / "c.geojson", {"C1": WEST}), "cell")

    assert report.assignment is not None
    assert report.assignment.summary() == {
        "units": 2, "assigned": 1, "outside": 1, "multi_cell": 0, "cells": 1
    }  # fmt: skip
    assert report.assignment.outside["source_id"].tolist() == ["F2"]
    assert _unit_cells(store) == {"F1": "C1", "F2": None}


def _areas(store: Store) -> None:
    town = shapely.MultiPolygon([shapely.box(117.20, 28.29, 117.22, 28.30)])
    frame = gpd.GeoDataFrame(
        {
            "source_id": ["t", "v"],
            "code": ["360681002", "360681002001"],
            "name": ["雄石街道", "西街社区"],
            "level": ["township", "village"],
            "parent_code": [None, "360681002"],
        },
        geometry=[town, town],
        crs="EPSG:4326",
    )
    load_records(
        store,
        RecordKind.AREA,
        ReadResult(records=frame, rejects=pd.DataFrame(), n_read=2),
        source="test",
    )


def test_a_replaced_grid_keeps_workers_on_surviving_codes(store: Store, tmp_path: Path) -> None:
    _areas(store)
    first = generate_grid(store, "360681002", shape="square", size_m=250).cells
    codes = sorted(first["code"])[:2]
    workers = tmp_path / "workers.csv"
    workers.write_text(f"source_id,name,cells\nW1,王芳,{codes[0]};{codes[1]}\n", encoding="utf-8")
    ingest_layer(store, workers, "worker")
    ingest_layer(store, _firms(tmp_path / "firms.csv"), "unit")
    before = _unit_cells(store)

    generate_grid(store, "360681002", shape="square", size_m=250, replace=True)

    with store.session() as s:
        kept = s.scalars(
            select(models.GridCell.code).join(
                models.WorkerCell, models.WorkerCell.cell_id == models.GridCell.id
            )
        ).all()
    assert sorted(kept) == codes
    assert _unit_cells(store) == before
    assert all(before.values())


def test_generate_grid_saves_assigns_and_refuses_a_second_grid(
    store: Store, tmp_path: Path
) -> None:
    _areas(store)
    ingest_layer(store, _firms(tmp_path / "firms.csv"), "unit")
    out = tmp_path / "cells.geojson"

    result = generate_grid(store, "360681002", shape="square", size_m=250, out=out)

    assert str(result).startswith("cells over 360681002 (") and str(result.load) in str(result)
    assert result.load.source == "grid-360681002" and result.load.inserted == len(result.cells)
    assert result.assignment.summary()["assigned"] == 2 and all(_unit_cells(store).values())
    summary = result.summary()
    assert (summary["cells"], summary["derived"], summary["out"]) == (
        len(result.cells), None, str(out)
    )  # fmt: skip
    assert len(gpd.read_file(out)) == len(result.cells)
    with pytest.raises(GridmapError, match="already has"):
        generate_grid(store, "360681002", shape="square", size_m=250)
