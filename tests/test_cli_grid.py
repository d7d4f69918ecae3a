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
from gridmap.ingest.pipeline import ingest_layer
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
    report = ingest_layer(store, areas, "area")
    assert report.rejected == 0
    report = ingest_layer(store, _units(tmp_path / "units.csv"), "unit")
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
        assert ingest_layer(store, other, "area").loaded == 1
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


def _drawn(path: Path, east_edge: float) -> Path:
    """One cell of the west community, its east edge at ``east_edge``."""
    gpd.GeoDataFrame(
        {"code": [WEST + "001"]},
        geometry=[box(117.230, 28.300, east_edge, 28.308)],
        crs="EPSG:4326",
    ).to_file(path, driver="GeoJSON")
    return path


def test_import_over_cells_another_file_drew_asks_for_yes(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    assert _run(store, "grid", "import", str(_drawn(tmp_path / "first.geojson", 117.235)))[0] == 0
    assert _unit_cells(store) == {"U1": WEST + "001", "U2": None, "U3": None}
    wider = _drawn(tmp_path / "redrawn.geojson", 117.240)  # another file: another origin

    code, output = _run(store, "grid", "import", str(wider))
    assert code == EXIT_ERROR, output
    assert "--yes overwrites" in output and "first.geojson" in output
    assert _unit_cells(store) == {"U1": WEST + "001", "U2": None, "U3": None}  # unchanged

    code, output = _run(store, "grid", "import", str(wider), "--yes")
    assert code == 0, output
    assert "would overwrite records from another file" in output  # shown, then done
    assert _unit_cells(store) == {"U1": WEST + "001", "U2": WEST + "001", "U3": None}


def test_import_help_offers_the_yes_the_refusal_suggests() -> None:
    result = CliRunner().invoke(app, ["grid", "import", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "--yes" in result.output and "-y" in result.output


# -- --boundary / --bbox, and checking every cell ----------------------------------------


def _polygon_file(path: Path, polygon: Polygon) -> Path:
    gpd.GeoDataFrame({"name": ["范围"]}, geometry=[polygon], crs="EPSG:4326").to_file(
        path, driver="GeoJSON"
    )
    return path


def test_generate_in_a_boundary_file_uses_the_communities_it_overlaps(
    store: Store, tmp_path: Path
) -> None:
    _seed(store, tmp_path)
    west_part = _polygon_file(tmp_path / "west.geojson", box(117.2305, 28.3005, 117.2345, 28.3075))
    code, output = _run(store, "grid", "generate", "--boundary", str(west_part), "--size", "250")
    assert code == 0, output
    cells = _cells(store)
    assert cells and all(c.startswith(WEST) and len(c) == 15 for c in cells)
    assert "derived" not in output  # the stored communities are used as they are
    assert _unit_cells(store)["U1"] is not None
    code, output = _run(store, "grid", "check")
    # the west community is only partly gridded: the rest of it is a gap, reported under it
    assert code == EXIT_PROBLEMS, output
    assert f"{TOWNSHIP} 测试街道" in " ".join(output.split())


def _places(path: Path) -> Path:
    path.write_text(
        "source_id,name,kind,lon,lat\n"
        "P1,西村（样例）,village,117.2320,28.3040\n"
        "P2,东社区（样例）,community,117.2380,28.3040\n",
        encoding="utf-8",
    )
    return path


def test_generate_in_a_bbox_derives_villages_when_none_are_stored(
    store: Store, tmp_path: Path
) -> None:
    _seed(store, tmp_path, with_communities=False)
    assert ingest_layer(store, _places(tmp_path / "places.csv"), "unit").loaded == 2
    code, output = _run(
        store, "grid", "generate", "--bbox", "117.230,28.300,117.240,28.308", "--size", "250"
    )
    assert code == 0, output
    flat = " ".join(output.split())
    assert f"under {TOWNSHIP}: 1 townships (1 with official codes), 2 villages" in flat
    cells = _cells(store)
    assert {c[:12] for c in cells} == {WEST, EAST}  # 西村 west of 东社区: numbered 001, 002
    assert all(area_id is not None for area_id in cells.values())
    placed = _unit_cells(store)
    assert placed["U1"] is not None and placed["U1"].startswith(WEST)
    code, output = _run(store, "grid", "check")
    assert code == 0, output
    assert "no gaps, overlaps, crossings or duplicate codes in any area" in " ".join(output.split())
    listed = tmp_path / "areas.csv"
    assert _run(store, "areas", "list", "--out", str(listed))[0] == 0
    table = pd.read_csv(listed, dtype={"code": str}).set_index("code")
    assert table.loc[TOWNSHIP, "cells"] == len(cells)  # its villages' cells count for it
    assert table.loc[WEST, "cells"] + table.loc[EAST, "cells"] == len(cells)
    assert table.loc[WEST, "code_origin"] == "generated"


def test_generate_in_a_bbox_of_liechtenstein_gives_a_clean_grid(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    from gridmap.ingest.pipeline import ingest_osm

    ingest_osm(store, shared_data / "osm" / "liechtenstein-2013-08-03.osm.pbf",
               reject_file=tmp_path / "r.csv")  # fmt: skip
    code, output = _run(
        store, "grid", "generate", "--bbox", "9.50,47.12,9.56,47.16", "--size", "250"
    )
    assert code == 0, output
    cells = _cells(store)
    assert len(cells) > 300 and all(c.startswith("990101") and len(c) == 15 for c in cells)
    code, output = _run(store, "grid", "check")
    assert code == 0, output  # no cell lost where a border ring nearly collapses
    code, output = _run(
        store, "grid", "generate", "--bbox", "9.50,47.12,9.56,47.16", "--size", "500"
    )
    assert code == EXIT_ERROR and f"--bbox already has {len(cells)} stored cells" in " ".join(
        output.split()
    )


GENERATE_ERRORS = {
    "none": ([], "say which area: --area CODE"),
    "two": (["--boundary", "{file}", "--bbox", "1,2,3,4"], "not --boundary and --bbox"),
    "three": (["--area", TOWNSHIP, "--boundary", "{file}", "--bbox", "1,2,3,4"],
              "not --area and --boundary and --bbox"),
    "missing": (["--boundary", "{tmp}/no.json"], "--boundary {tmp}/no.json: no such file"),
    "empty": (["--boundary", "{empty}"], "--boundary {empty}: no polygon in the file"),
    "bbox": (["--bbox", "117.23;28.30;117.24;28.31"], "--bbox takes minlon,minlat,maxlon"),
    "bbox-swapped": (["--bbox", "28.30,117.23,28.31,117.24"], "are lon and lat swapped?"),
    "replace": (["--bbox", "117.23,28.30,117.24,28.31", "--replace"], "--replace works with"),
    "parent": (["--area", TOWNSHIP, "--parent-code", "360681"], "--parent-code goes with"),
    "area": (["--area", "360681009"], "--area 360681009 is not a stored area with a boundary"),
}  # fmt: skip


@pytest.mark.parametrize("case", list(GENERATE_ERRORS))
def test_generate_errors_name_the_flag(store: Store, tmp_path: Path, case: str) -> None:
    _seed(store, tmp_path)
    empty = tmp_path / "empty.geojson"
    empty.write_text('{"type": "FeatureCollection", "features": []}', encoding="utf-8")
    names = {
        "tmp": str(tmp_path),
        "empty": str(empty),
        "file": str(_polygon_file(tmp_path / "b.geojson", box(117.231, 28.301, 117.239, 28.307))),
    }
    args, expected = GENERATE_ERRORS[case]
    code, output = _run(
        store, "grid", "generate", *(a.format(**names) for a in args), "--size", "250"
    )
    assert code == EXIT_ERROR, output
    text = " ".join(output.split())
    assert text.startswith("error:") and expected.format(**names) in text
    assert "Traceback" not in text and "area_code" not in text and "_m=" not in text
    assert _cells(store) == {}


def test_check_without_area_reports_every_area_and_finds_overlaps(
    store: Store, tmp_path: Path
) -> None:
    _seed(store, tmp_path)
    assert _run(store, "grid", "generate", "--area", TOWNSHIP, "--size", "250")[0] == 0
    code, output = _run(store, "grid", "check")
    assert code == 0, output
    assert f"{TOWNSHIP} 测试街道" in " ".join(output.split())
    drawn = tmp_path / "extra.geojson"
    gpd.GeoDataFrame(
        {"code": [WEST + "999"], "area_code": [WEST]},
        geometry=[box(117.231, 28.301, 117.233, 28.303)],
        crs="EPSG:4326",
    ).to_file(drawn, driver="GeoJSON")
    assert _run(store, "grid", "import", str(drawn), "--source", "hand")[0] == 0
    with store.engine.begin() as conn:  # and a gap in the east community
        cell = models.GridCell
        last = conn.execute(
            select(cell.id).where(cell.code.like(EAST + "%")).order_by(cell.id.desc()).limit(1)
        ).scalar_one()
        conn.execute(delete(cell).where(cell.id == last))
    out = tmp_path / "problems.geojson"
    code, output = _run(store, "grid", "check", "--out", str(out))
    assert code == EXIT_PROBLEMS, output
    problems = gpd.read_file(out)
    assert set(problems["problem"]) == {"overlap", "gap"}
    assert set(problems["area"]) == {f"{TOWNSHIP} 测试街道"}
    assert problems.loc[problems["problem"] == "overlap", "cells"].str.contains(WEST + "999").all()


def test_check_without_area_finds_overlaps_between_townships(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    assert _run(store, "grid", "generate", "--area", TOWNSHIP, "--size", "250")[0] == 0
    other = tmp_path / "other.geojson"
    gpd.GeoDataFrame(
        [{"code": "360681002", "name": "别的街道", "level": "township"},
         {"code": "360681002001", "name": "别的社区", "level": "village",
          "parent_code": "360681002"}],
        geometry=[box(117.238, 28.300, 117.250, 28.308)] * 2,
        crs="EPSG:4326",
    ).to_file(other, driver="GeoJSON")  # fmt: skip
    assert ingest_layer(store, other, "area").loaded == 2
    drawn = tmp_path / "cross.geojson"
    gpd.GeoDataFrame(
        {"code": ["360681002001001"], "area_code": ["360681002001"]},
        geometry=[box(117.238, 28.300, 117.250, 28.308)],
        crs="EPSG:4326",
    ).to_file(drawn, driver="GeoJSON")
    assert _run(store, "grid", "import", str(drawn), "--source", "other")[0] == 0
    out = tmp_path / "problems.geojson"
    code, output = _run(store, "grid", "check", "--out", str(out))
    assert code == EXIT_PROBLEMS, output
    problems = gpd.read_file(out)
    between = problems[problems["area"] == "(between areas)"]
    assert len(between) >= 1 and between["cells"].str.contains("360681002001001").all()


def test_check_names_an_unknown_area_flag(store: Store, tmp_path: Path) -> None:
    _seed(store, tmp_path)
    code, output = _run(store, "grid", "check", "--area", "999")
    assert code == EXIT_ERROR
    assert "--area 999 is not a stored area" in " ".join(output.split())


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        ([], "--shape square needs --size, the cell side in metres (e.g. 250), got None"),
        (["--size", "-5"], "--shape square needs --size"),
        (["--shape", "h3"], "--shape h3 needs --resolution 0-15"),
        (["--shape", "h3", "--resolution", "9", "--size", "250"], "--size applies to --shape"),
        (["--size", "250", "--resolution", "9"], "--resolution applies to --shape h3 only"),
    ],
    ids=["no-size", "negative", "h3-no-resolution", "h3-with-size", "square-resolution"],
)
def test_generate_size_errors_name_the_flags(
    store: Store, tmp_path: Path, args: list[str], expected: str
) -> None:
    _seed(store, tmp_path)
    code, output = _run(store, "grid", "generate", "--area", TOWNSHIP, *args)
    assert code == EXIT_ERROR, output
    text = " ".join(output.split())
    assert expected in text and "size_m" not in text and "shape=" not in text
    assert _cells(store) == {}
