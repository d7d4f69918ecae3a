"""``gridmap grid generate / import / check`` on both stores, through the real CLI."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from shapely.geometry import Polygon, box
from sqlalchemy import delete, select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.cli._common import EXIT_ERROR, EXIT_PROBLEMS
from gridmap.ingest.pipeline import import_layer
from gridmap.store import Store, models

TOWNSHIP = "360681001"
WEST, EAST = "360681001001", "360681001002"


def _areas(path: Path, *, with_communities: bool = True) -> Path:
    """A made-up sub-district near 贵溪 split into two communities at lon 117.235."""
    rows = [
        {"code": TOWNSHIP, "name": "测试街道", "level": "township", "parent_code": None},
    ]
    # The communities' corners are vertices of the township ring too: projected to metres, an
    # edge without them bows away from the cells' edges by a few square metres.
    geoms = [
        Polygon(
            [(117.230, 28.300), (117.235, 28.300), (117.240, 28.300), (117.240, 28.308),
             (117.235, 28.308), (117.230, 28.308)]
        )
    ]  # fmt: skip
    if with_communities:
        rows += [
            {"code": WEST, "name": "西社区", "level": "village", "parent_code": TOWNSHIP},
            {"code": EAST, "name": "东社区", "level": "village", "parent_code": TOWNSHIP},
        ]
        geoms += [box(117.230, 28.300, 117.235, 28.308), box(117.235, 28.300, 117.240, 28.308)]
    gpd.GeoDataFrame(rows, geometry=geoms, crs="EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def _units(path: Path) -> Path:
    path.write_text(
        "source_id,name,kind,lon,lat\n"
        "U1,西楼（样例）,building,117.2321,28.3021\n"
        "U2,东楼（样例）,building,117.2381,28.3061\n"
        "U3,远处企业（样例）,firm,117.2600,28.3000\n",
        encoding="utf-8",
    )
    return path


def _seed(store: Store, tmp_path: Path, *, with_communities: bool = True) -> None:
    areas = _areas(tmp_path / "areas.geojson", with_communities=with_communities)
    report, _ = import_layer(store, areas, "area")
    assert report.rejected == 0
    report, _ = import_layer(store, _units(tmp_path / "units.csv"), "unit")
    assert report.loaded == 3


def _run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"GRIDMAP_DATABASE_URL": str(store.engine.url.render_as_string(False))}
    )
    return result.exit_code, result.output


def _cells(store: Store) -> dict[str, int | None]:
    with store.session() as s:
        return {c.code: c.area_id for c in s.scalars(select(models.GridCell))}


def _unit_cells(store: Store) -> dict[str, str | None]:
    with store.session() as s:
        codes = {c.id: c.code for c in s.scalars(select(models.GridCell))}
        return {u.source_id: codes.get(u.cell_id or -1) for u in s.scalars(select(models.Unit))}


def test_generate_stores_coded_cells_assigns_units_and_writes_them(
    store: Store, tmp_path: Path
) -> None:
    _seed(store, tmp_path)
    out = tmp_path / "cells.geojson"
    code, output = _run(
        store, "grid", "generate", "--area", TOWNSHIP, "--shape", "square", "--size", "250",
        "--out", str(out),
    )  # fmt: skip
    assert code == 0, output
    cells = _cells(store)
    assert cells
    assert all(len(c) == 15 and c[:12] in (WEST, EAST) for c in cells)
    assert {c[:12] for c in cells} == {WEST, EAST}
    assert all(area_id is not None for area_id in cells.values())
    placed = _unit_cells(store)
    assert placed["U1"] is not None and placed["U1"].startswith(WEST)
    assert placed["U2"] is not None and placed["U2"].startswith(EAST)
    assert placed["U3"] is None
    assert "2 of 3 units in a cell, 1 outside" in output
    assert "远处企业" in output  # the unit outside every cell is listed
    written = gpd.read_file(out)
    assert sorted(written["code"]) == sorted(cells)


def test_generate_cjt349_codes_have_20_digits(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    code, output = _run(
        store, "grid", "generate", "--area", TOWNSHIP, "--shape", "hex", "--size", "200",
        "--scheme", "cjt349",
    )  # fmt: skip
    assert code == 0, output
    assert all(len(c) == 20 and c.startswith("000000") for c in _cells(store))


def test_generate_refuses_an_unknown_area(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    code, output = _run(store, "grid", "generate", "--area", "999999", "--size", "250")
    assert code == EXIT_ERROR
    assert "999999" in output and TOWNSHIP in output  # says which areas exist
    assert _cells(store) == {}


@pytest.mark.parametrize("elsewhere", [False, True], ids=["no-villages", "villages-elsewhere"])
def test_generate_refuses_a_township_without_communities(
    store: Store, tmp_path: Path, elsewhere: bool
) -> None:
    _seed(store, tmp_path, with_communities=False)
    if elsewhere:  # a village of another township does not count
        other = tmp_path / "other.geojson"
        gpd.GeoDataFrame(
            [{"code": "360681002001", "name": "别处村", "level": "village"}],
            geometry=[box(117.30, 28.30, 117.31, 28.31)],
            crs="EPSG:4326",
        ).to_file(other, driver="GeoJSON")
        assert import_layer(store, other, "area")[0].loaded == 1
    code, output = _run(store, "grid", "generate", "--area", TOWNSHIP, "--size", "250")
    assert code == EXIT_ERROR
    assert "never belongs directly to a township" in " ".join(output.split())
    assert _cells(store) == {}


def test_check_is_clean_after_generate_and_finds_a_gap_after_a_cell_is_removed(
    store: Store, tmp_path: Path
) -> None:
    _seed(store, tmp_path)
    code, output = _run(store, "grid", "generate", "--area", TOWNSHIP, "--size", "250")
    assert code == 0, output
    code, output = _run(store, "grid", "check", "--area", TOWNSHIP)
    assert code == 0, output
    with store.engine.begin() as conn:
        cell = models.GridCell
        first = conn.execute(select(cell.id).order_by(cell.id).limit(1)).scalar_one()
        conn.execute(delete(cell).where(cell.id == first))
    out = tmp_path / "problems.geojson"
    code, output = _run(store, "grid", "check", "--area", TOWNSHIP, "--out", str(out))
    assert code == EXIT_PROBLEMS, output
    assert "gap" in output
    problems = gpd.read_file(out)
    assert list(problems["problem"]) == ["gap"]
    assert problems["area_m2"].iloc[0] > 1000


def test_import_loads_drawn_cells_and_assigns_units(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    drawn = tmp_path / "drawn.geojson"
    gpd.GeoDataFrame(
        {"网格编码": [WEST + "001", EAST + "001"], "所属社区": [WEST, EAST]},
        geometry=[box(117.230, 28.300, 117.235, 28.308), box(117.235, 28.300, 117.240, 28.308)],
        crs="EPSG:4326",
    ).to_file(drawn, driver="GeoJSON")
    code, output = _run(store, "grid", "import", str(drawn))
    assert code == 0, output
    assert "2 of 3 units in a cell" in output
    assert _unit_cells(store) == {"U1": WEST + "001", "U2": EAST + "001", "U3": None}
    code, output = _run(store, "grid", "check", "--area", TOWNSHIP)
    assert code == 0, output


@pytest.mark.parametrize("bad", ["area_code", "nonsense"])
def test_import_map_names_the_problem(store: Store, tmp_path: Path, bad: str) -> None:
    _seed(store, tmp_path)
    drawn = tmp_path / "drawn.geojson"
    gpd.GeoDataFrame(
        {"编号": [WEST + "001"]},
        geometry=[box(117.230, 28.300, 117.235, 28.308)],
        crs="EPSG:4326",
    ).to_file(drawn, driver="GeoJSON")
    code, output = _run(store, "grid", "import", str(drawn), "--map", f"{bad}=社区")
    assert code == EXIT_ERROR
    assert bad in output  # an unknown field, or a column the file lacks, is named
    assert _cells(store) == {}


def test_generate_refuses_to_stack_a_second_grid(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    code, output = _run(store, "grid", "generate", "--area", TOWNSHIP, "--size", "250")
    assert code == 0, output
    before = _cells(store)
    code, output = _run(store, "grid", "generate", "--area", TOWNSHIP, "--size", "500")
    assert code == EXIT_ERROR
    assert f"already has {len(before)} stored cells" in " ".join(output.split())
    assert _cells(store) == before


def test_import_refuses_codes_stored_under_another_source(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    drawn = tmp_path / "drawn.geojson"
    gpd.GeoDataFrame(
        {"code": [WEST + "001"]}, geometry=[box(117.230, 28.300, 117.235, 28.308)], crs="EPSG:4326"
    ).to_file(drawn, driver="GeoJSON")
    assert _run(store, "grid", "import", str(drawn))[0] == 0
    rejects = tmp_path / "r.csv"
    code, output = _run(
        store, "grid", "import", str(drawn), "--source", "other", "--reject-file", str(rejects)
    )
    assert code == 0, output
    assert "already used by cell" in pd.read_csv(rejects)["reason"].iloc[0]
    assert len(_cells(store)) == 1
