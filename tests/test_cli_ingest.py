"""`gridmap ingest` as a user runs it: an Excel sheet of Amap (GCJ-02) points, bad rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from geoalchemy2.shape import to_shape
from pyproj import Geod
from sqlalchemy import select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.store import Store, models

DATA = Path(__file__).parent / "data"


def _run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"GRIDMAP_DATABASE_URL": store.url})
    return result.exit_code, result.output


def test_excel_sheet_of_gcj02_points_lands_on_wgs84(store: Store, tmp_path: Path) -> None:
    sheet = tmp_path / "社区.xlsx"
    pd.read_csv(DATA / "guixi_communities_gcj02.csv", dtype=str).to_excel(sheet, index=False)
    code, output = _run(
        store, "ingest", "layer", str(sheet), "--kind", "community", "--crs", "gcj02"
    )
    assert code == 0, output
    assert "read 16, loaded 16, rejected 0" in output
    reference = pd.read_csv(DATA / "guixi_communities_wgs84.csv").set_index("osm_id")
    with store.session() as s:
        units = {u.source_id: to_shape(u.geom) for u in s.scalars(select(models.Unit))}
    geod = Geod(ellps="WGS84")
    for osm_id, point in units.items():
        ref = reference.loc[osm_id]
        _, _, metres = geod.inv(point.x, point.y, ref["lon"], ref["lat"])
        assert metres < 0.01


def test_bad_rows_are_counted_and_written_with_reasons(store: Store, tmp_path: Path) -> None:
    rejects = tmp_path / "rejects.csv"
    code, output = _run(
        store,
        "ingest",
        "layer",
        str(DATA / "units_swapped.csv"),
        "--kind",
        "unit",
        "--reject-file",
        str(rejects),
    )
    assert code == 0, output
    frame = pd.read_csv(rejects)
    loaded = store.counts()["unit"]
    assert f"loaded {loaded}, rejected {len(frame)}" in output
    assert str(rejects) in output.replace("\n", "")


def test_unknown_kind_and_missing_file_exit_2_with_a_message(store: Store, tmp_path: Path) -> None:
    code, output = _run(
        store, "ingest", "layer", str(DATA / "units_swapped.csv"), "--kind", "bogus"
    )
    assert code == 2
    assert "bogus" in output and "village" in output
    missing = tmp_path / "none.csv"
    code, output = _run(store, "ingest", "layer", str(missing), "--kind", "unit")
    assert code == 2
    # one line whatever the terminal's width or the temporary path's length
    (line,) = [line for line in output.splitlines() if line.startswith("error:")]
    assert "no such file" in line and str(missing) in line, output


def test_truncated_file_leaves_the_store_unchanged(store: Store) -> None:
    before = store.counts()
    code, output = _run(
        store, "ingest", "layer", str(DATA / "cells_truncated.geojson"), "--kind", "cell"
    )
    assert code == 2, output
    assert store.counts() == before


@pytest.mark.parametrize(
    "command",
    ["db", "ingest", "grid", "export", "coverage", "site", "map", "report", "demo", "serve"],
)
def test_help_lists_every_command(command: str) -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert command in result.output
    sub = CliRunner().invoke(app, [command, "--help"])
    assert sub.exit_code == 0 and len(sub.output) > 100
