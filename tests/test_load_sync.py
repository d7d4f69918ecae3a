"""Rows that left the file are reported, and closed with --sync, never deleted (issue 12.2)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.coverage import read_inputs
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models

HEADER = "source_id,name,tier,lon,lat,last_activity\n"


def _stations(path: Path, ids: range) -> Path:
    rows = "".join(
        f"S{i},第{i}党群服务站,community,{117.20 + i / 1000:.4f},28.29,2026-10-01\n" for i in ids
    )
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _open_and_closed(store: Store) -> tuple[int, int]:
    with store.session() as s:
        closed = s.scalars(select(models.Station.closed_at)).all()
    return sum(c is None for c in closed), sum(c is not None for c in closed)


def test_rows_absent_from_a_reimport_are_reported_and_kept(store: Store, tmp_path: Path) -> None:
    stations = _stations(tmp_path / "stations.csv", range(1, 9))
    ingest_layer(store, stations, "station")
    _stations(stations, range(1, 4))
    report = ingest_layer(store, stations, "station")

    assert (report.loaded, report.absent, report.closed) == (3, 5, 0)
    assert "absent from this file: 5" in str(report)
    assert _open_and_closed(store) == (8, 0)
    assert len(read_inputs(store).stations) == 8


def test_sync_closes_them_out_of_runs_and_a_return_reopens(store: Store, tmp_path: Path) -> None:
    stations = _stations(tmp_path / "stations.csv", range(1, 9))
    ingest_layer(store, stations, "station")
    _stations(stations, range(1, 4))
    synced = ingest_layer(store, stations, "station", sync=True)

    assert (synced.absent, synced.closed) == (5, 5)
    assert _open_and_closed(store) == (3, 5)  # kept as history, not deleted
    assert sorted(read_inputs(store).stations["source_id"]) == ["S1", "S2", "S3"]
    with store.session() as s:
        closes = s.scalars(
            select(models.AuditLog.detail).where(models.AuditLog.action == "close")
        ).all()
    assert sorted(d["source_id"] for d in closes) == ["S4", "S5", "S6", "S7", "S8"]

    _stations(stations, range(1, 5))
    back = ingest_layer(store, stations, "station", sync=True)
    assert (back.updated, back.unchanged, back.absent) == (1, 3, 0)
    assert _open_and_closed(store) == (4, 4)


def test_sync_leaves_records_other_files_also_supply(store: Store, tmp_path: Path) -> None:
    header = "source_id,name,kind,lon,lat,party_members\n"
    (tmp_path / "osm").mkdir()
    (tmp_path / "survey").mkdir()
    places = tmp_path / "osm" / "units.csv"
    places.write_text(header + "n1,甲社区,community,117.2,28.3,\n", encoding="utf-8")
    survey = tmp_path / "survey" / "units.csv"
    survey.write_text(header + "n1,甲社区,community,117.2,28.3,12\n", encoding="utf-8")
    ingest_layer(store, places, "unit", source="osm")
    ingest_layer(store, survey, "unit", source="osm", confirm=lambda _: True)
    survey.write_text(header, encoding="utf-8")
    report = ingest_layer(store, survey, "unit", source="osm", sync=True)

    assert (report.absent, report.closed) == (1, 0)
    assert len(read_inputs(store).units) == 1


def test_cli_prints_the_absent_count_and_closes_with_sync(store: Store, tmp_path: Path) -> None:
    stations = _stations(tmp_path / "stations.csv", range(1, 9))
    env = {"GRIDMAP_DATABASE_URL": store.url, "COLUMNS": "200"}
    runner = CliRunner()
    assert (
        runner.invoke(
            app, ["ingest", "layer", str(stations), "--kind", "station"], env=env
        ).exit_code
        == 0
    )
    _stations(stations, range(1, 4))
    plain = runner.invoke(app, ["ingest", "layer", str(stations), "--kind", "station"], env=env)
    synced = runner.invoke(
        app, ["ingest", "layer", str(stations), "--kind", "station", "--sync"], env=env
    )

    assert plain.exit_code == synced.exit_code == 0, plain.output + synced.output
    assert "absent from this file: 5" in plain.output
    assert "--sync" in plain.output
    assert "absent from this file: 5 (closed 5)" in synced.output
    assert _open_and_closed(store) == (3, 5)
