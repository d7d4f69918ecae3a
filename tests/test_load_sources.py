"""Next month's file updates this month's; an unrelated list never overwrites silently (11.10)."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models

HEADER = "source_id,name,kind,lon,lat,party_members\n"


def _firms(path: Path, rows: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + rows, encoding="utf-8")
    return path


def _names(store: Store) -> dict[tuple[str, str], str | None]:
    with store.session() as s:
        rows = s.execute(select(models.Unit.source, models.Unit.source_id, models.Unit.name))
        return {(str(a), str(b)): name for a, b, name in rows}


def _cli(store: Store, *args: str) -> tuple[int, str]:
    env = {"GRIDMAP_DATABASE_URL": store.url, "COLUMNS": "200"}
    result = CliRunner().invoke(app, list(args), env=env)
    return result.exit_code, result.output


MONTH = "1,信江物流有限公司,firm,117.2197,28.3052,{}\n2,恒昌建材有限公司,firm,117.2197,28.3061,2\n"


def test_next_months_file_updates_the_same_firms(store: Store, tmp_path: Path) -> None:
    december = _firms(tmp_path / "月报" / "企业名单_2026年12月.csv", MONTH.format(1))
    january = _firms(tmp_path / "月报" / "企业名单_2027年01月.csv", MONTH.format(3))
    ingest_layer(store, december, "unit", unit_kind="firm")
    report = ingest_layer(store, january, "unit", unit_kind="firm")

    assert (report.inserted, report.updated, report.unchanged) == (0, 1, 1)
    assert store.counts()["unit"] == 2
    assert set(_names(store)) == {("firm", "1"), ("firm", "2")}


def test_another_towns_list_with_the_same_ids_is_refused_without_a_terminal(
    store: Store, tmp_path: Path
) -> None:
    town_a = _firms(tmp_path / "townA" / "firms.csv", "1,甲公司,firm,117.20,28.29,1\n")
    town_b = _firms(tmp_path / "townB" / "firms.csv", "1,乙公司,firm,117.21,28.28,2\n")
    assert _cli(store, "ingest", "layer", str(town_a), "--kind", "firm")[0] == 0

    code, output = _cli(store, "ingest", "layer", str(town_b), "--kind", "firm")

    assert code == 2
    assert "Traceback" not in output
    error = [line for line in output.splitlines() if line.startswith("error:")]
    assert len(error) == 1 and "--source" in error[0] and "townA/firms.csv" in error[0]
    assert _names(store) == {("firm", "1"): "甲公司"}


def test_own_source_keeps_both_lists_and_yes_overwrites(store: Store, tmp_path: Path) -> None:
    town_a = _firms(tmp_path / "townA" / "firms.csv", "1,甲公司,firm,117.20,28.29,1\n")
    town_b = _firms(tmp_path / "townB" / "firms.csv", "1,乙公司,firm,117.21,28.28,2\n")
    _cli(store, "ingest", "layer", str(town_a), "--kind", "firm")
    apart = _cli(store, "ingest", "layer", str(town_b), "--kind", "firm", "--source", "townB")
    assert apart[0] == 0, apart[1]
    assert _names(store) == {("firm", "1"): "甲公司", ("townB", "1"): "乙公司"}

    town_c = _firms(tmp_path / "townC" / "firms.csv", "1,丙公司,firm,117.20,28.29,1\n")
    code, output = _cli(store, "ingest", "layer", str(town_c), "--kind", "firm", "--yes")
    assert code == 0, output
    assert "甲公司" in output and "丙公司" in output  # what was overwritten was shown
    assert _names(store)[("firm", "1")] == "丙公司"


def test_an_organisation_without_coordinates_takes_its_units_location(
    store: Store, tmp_path: Path
) -> None:
    units = _firms(tmp_path / "firms.csv", "F1,信江物流有限公司,firm,117.2197,28.3052,5\n")
    ingest_layer(store, units, "unit", source="sample_firms")
    orgs = tmp_path / "orgs.csv"
    orgs.write_text(
        "source_id,name,kind,own_unit,lon,lat\nO1,信江物流党支部,branch,sample_firms:F1,,\n",
        encoding="utf-8",
    )
    report = ingest_layer(store, orgs, "org")

    assert (report.loaded, report.rejected) == (1, 0)
    with store.session() as s:
        org = s.scalars(select(models.PartyOrg)).one()
        assert org.geom is not None
        assert to_shape(org.geom).equals(shapely.Point(117.2197, 28.3052))


def test_at_a_terminal_a_name_imports_the_file_as_its_own_source(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridmap.cli import ingest

    town_a = _firms(tmp_path / "townA" / "firms.csv", "1,甲公司,firm,117.20,28.29,1\n")
    town_b = _firms(tmp_path / "townB" / "firms.csv", "1,乙公司,firm,117.21,28.28,2\n")
    _cli(store, "ingest", "layer", str(town_a), "--kind", "firm")
    monkeypatch.setattr(ingest, "_interactive", lambda: True)
    env = {"GRIDMAP_DATABASE_URL": store.url, "COLUMNS": "200"}
    result = CliRunner().invoke(
        app, ["ingest", "layer", str(town_b), "--kind", "firm"], input="townB\n", env=env
    )

    assert result.exit_code == 0, result.output
    assert "townA/firms.csv" in result.output
    assert _names(store) == {("firm", "1"): "甲公司", ("townB", "1"): "乙公司"}
