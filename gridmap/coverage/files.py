"""Write a run's results: CSV/GeoJSON/JSON files, or one Excel workbook.

Text that a spreadsheet would run as a formula is written as text (:mod:`gridmap._spreadsheet`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from gridmap._spreadsheet import write_csv, write_xlsx
from gridmap.coverage.result import CoverageResult
from gridmap.coverage.runs import _clean

__all__ = ["UNIT_COLUMNS", "write_results"]

#: Columns of ``units.csv``, in order.
UNIT_COLUMNS = [
    "unit_id",
    "source",
    "source_id",
    "kind",
    "name",
    "cell_code",
    "lon",
    "lat",
    "households",
    "population",
    "party_members",
    "org_status",
    "must_have_branch",
    "branch_idle",
    "service_covered",
    "nearest_station_id",
    "nearest_station_m",
    "nearest_counting_station_m",
    "covering_station_id",
    "snap_m",
    "far_from_road",
]
CELL_COLUMNS = [
    "code",
    "name",
    "status",
    "units_total",
    "units_covered",
    "population_total",
    "population_covered",
    "org_covered",
    "must_have_branch",
]


def _units(result: CoverageResult) -> pd.DataFrame:
    frame = pd.DataFrame(result.units[UNIT_COLUMNS])
    for column in ("nearest_station_m", "nearest_counting_station_m"):
        distance = frame[column].astype(float)
        frame[column] = distance.where(np.isfinite(distance)).round(1)  # none: empty
    frame["snap_m"] = frame["snap_m"].round(1)
    return frame


def _cells(result: CoverageResult) -> pd.DataFrame:
    kinds = [c for c in result.cells.columns if c.startswith("units_") and c not in CELL_COLUMNS]
    return pd.DataFrame(result.cells[CELL_COLUMNS + kinds])


def write_results(
    result: CoverageResult, out_dir: Path | str, *, fmt: Literal["csv", "xlsx"] = "csv"
) -> dict[str, Path]:
    """Write ``units``, ``cells``, ``areas``, ``blind_zones`` and ``summary``; return the paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    zones = result.blind_zones
    summary = out_dir / "summary.json"
    summary.write_text(json.dumps(_clean(result.summary()), ensure_ascii=False, indent=2))
    paths["summary"] = summary
    geojson = out_dir / "blind_zones.geojson"
    zones.to_file(geojson, driver="GeoJSON") if len(zones) else geojson.write_text(
        '{"type": "FeatureCollection", "features": []}'
    )
    paths["blind_zones"] = geojson
    tables = {"units": _units(result), "cells": _cells(result), "areas": result.areas}
    if fmt == "xlsx":
        sheets = {**tables, "blind_zones": pd.DataFrame(zones.drop(columns=zones.geometry.name))}
        paths["workbook"] = write_xlsx(out_dir / "coverage.xlsx", sheets)
        return paths
    for name, frame in tables.items():
        paths[name] = write_csv(frame, out_dir / f"{name}.csv")
    return paths
