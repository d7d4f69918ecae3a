"""``gridmap coverage run / runs / compare`` through the real CLI, on both stores.

Uses the little town of ``conftest.town`` (one unit per organisational
situation), placed in one sub-district so the roll-up has an area row.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from conftest import east
from sqlalchemy import select, update
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.coverage import list_runs
from gridmap.store import Store, models

AS_OF = "2026-11-01"
#: The town's rules are the defaults (CoverageSettings()).
ENV: dict[str, str] = {}
UNIT_CSV_COLUMNS = [
    "unit_id",
    "source_id",
    "kind",
    "name",
    "cell_code",
    "lon",
    "lat",
    "org_status",
    "must_have_branch",
    "service_covered",
    "nearest_station_id",
    "nearest_station_m",
    "branch_idle",
    "nearest_counting_station_m",
]


@pytest.fixture
def district(town: Store) -> Iterator[Store]:
    """The town with its one cell inside a sub-district."""
    with town.session() as s:
        area = models.AdminArea(
            code="360681001", name="测试街道", level="township", source="t", source_id="A1"
        )
        s.add(area)
        s.flush()
        s.execute(update(models.GridCell).values(area_id=area.id))
    yield town


def _run(store: Store, *args: str, columns: int = 80) -> tuple[int, str]:
    env = {
        "GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False),
        "COLUMNS": str(columns),
        **ENV,
    }
    result = CliRunner().invoke(app, ["coverage", *args], env=env)
    return result.exit_code, result.output


def test_run_prints_the_rates_and_writes_every_file(district: Store, tmp_path: Path) -> None:
    code, output = _run(district, "run", "--as-of", AS_OF, "--out", str(tmp_path))
    assert code == 0, output
    assert "组织覆盖率" in output and "3 / 6" in output  # own, joint, hosted of six units
    assert "应建未建" in output
    units = pd.read_csv(tmp_path / "units.csv", dtype={"cell_code": str})
    assert list(units.columns[:3]) == ["unit_id", "source", "source_id"]
    assert set(UNIT_CSV_COLUMNS) <= set(units.columns)
    by_name = units.set_index("name")
    assert by_name["org_status"].to_dict() == {
        "own": "own",
        "joint": "joint",
        "hosted": "hosted",
        "instr": "instructor",
        "none": "none",
        "idle_own": "none",
    }
    assert by_name.loc[["instr", "none"], "must_have_branch"].all()
    assert not by_name.loc["idle_own", "must_have_branch"]  # 空转, not 应建未建
    assert by_name.loc["own", "lon"] == pytest.approx(east(0), abs=1e-6)
    # The station 250 m east of "own" is its nearest; 300 m community reach covers it.
    assert by_name.loc["own", "nearest_station_m"] == pytest.approx(250, abs=1)
    assert bool(by_name.loc["own", "service_covered"])
    assert (units["cell_code"] == "C1").all()
    cells = pd.read_csv(tmp_path / "cells.csv")
    assert cells.loc[0, "units_total"] == 6
    areas = pd.read_csv(tmp_path / "areas.csv", dtype={"code": str})
    town_row = areas[areas["code"] == "360681001"].iloc[0]
    assert (town_row["units"], town_row["org_covered"], town_row["must_have_branch"]) == (6, 3, 2)
    assert (town_row["own_covered"], town_row["joint_covered"], town_row["hosted_covered"]) == (
        1,
        1,
        1,
    )
    assert town_row["branch_idle"] == 1
    assert areas.iloc[-1]["level"] == "total"
    zones = json.loads((tmp_path / "blind_zones.geojson").read_text())
    assert zones["type"] == "FeatureCollection" and zones["features"]
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["org_rate"] == pytest.approx(0.5)
    assert summary["must_have_branch"] == 2
    assert len(list_runs(district)) == 1  # stored


def test_run_writes_one_workbook(district: Store, tmp_path: Path) -> None:
    code, output = _run(
        district, "run", "--as-of", AS_OF, "--out", str(tmp_path), "--format", "xlsx"
    )
    assert code == 0, output
    book = openpyxl.load_workbook(tmp_path / "coverage.xlsx", read_only=True)
    assert {"units", "cells", "areas", "blind_zones"} <= set(book.sheetnames)
    rows = list(book["areas"].iter_rows(values_only=True))
    header, first, total = rows[0], rows[1], rows[-1]
    assert header[0] == "area_id" and isinstance(first[0], int)
    assert total[0] is None and "total" in str(total[header.index("name")])


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_units_show_idle_branches_and_the_nearest_counting_station(
    district: Store, tmp_path: Path, fmt: str
) -> None:
    code, output = _run(district, "run", "--as-of", AS_OF, "--out", str(tmp_path), "--format", fmt)
    assert code == 0, output
    if fmt == "csv":
        units = pd.read_csv(tmp_path / "units.csv").set_index("name")
    else:
        units = pd.read_excel(tmp_path / "coverage.xlsx", sheet_name="units").set_index("name")
    # 空转: "idle_own" has its own branch, idle; it is not 应建未建 and no other unit is 空转
    assert units["branch_idle"].astype(bool).to_dict() == {
        "own": False,
        "joint": False,
        "hosted": False,
        "instr": False,
        "none": False,
        "idle_own": True,
    }
    # the idle station 100 m from "instr" is its nearest, but the nearest that counts is far
    assert units.loc["instr", "nearest_station_m"] == pytest.approx(100, abs=1)
    assert units.loc["instr", "nearest_counting_station_m"] == pytest.approx(10_900, rel=2e-3)
    assert units.loc["own", "nearest_counting_station_m"] == pytest.approx(250, abs=1)


def test_the_new_unit_columns_have_chinese_and_english_labels() -> None:
    from gridmap.report.labels import column_label

    assert column_label("branch_idle") == "空转"
    assert column_label("nearest_counting_station_m") == "最近计入覆盖站点距离（米）"
    assert column_label("nearest_counting_station_m", "en") == "nearest counting station (m)"


def test_idle_days_and_as_of_change_the_result(district: Store, tmp_path: Path) -> None:
    code, output = _run(district, "run", "--as-of", AS_OF, "--idle-days", "500")
    assert code == 0, output
    assert "4 / 6" in output  # the idle branch's unit is its own again
    code, output = _run(district, "run", "--as-of", "2026-12-01")
    assert code == 0, output
    assert "4 / 6" in output  # the "future branch" of unit "none" now exists and is active


def test_what_if_station_is_not_stored(district: Store, tmp_path: Path) -> None:
    with district.session() as s:
        before = len(s.scalars(select(models.Station)).all())
    lon_lat = f"{east(30_050):.7f},28.30,community,新站（样例）"
    code, output = _run(
        district, "run", "--as-of", AS_OF, "--add-at", lon_lat, "--out", str(tmp_path)
    )
    assert code == 0, output
    assert "what-if" in output
    units = pd.read_csv(tmp_path / "units.csv").set_index("name")
    assert bool(units.loc["none", "service_covered"])  # 50 m from the new station
    with district.session() as s:
        assert len(s.scalars(select(models.Station)).all()) == before
    assert list_runs(district).empty


def test_runs_are_listed_and_compared(district: Store, tmp_path: Path) -> None:
    assert _run(district, "run", "--as-of", AS_OF, "--label", "before")[0] == 0
    assert _run(district, "run", "--as-of", AS_OF, "--meters", "5000", "--label", "after")[0] == 0
    code, output = _run(district, "runs", columns=160)
    assert code == 0, output
    assert "before" in output and "after" in output
    assert "33.3%" in output and "50.0%" in output  # service rate before and after
    code, narrow = _run(district, "runs", columns=60)
    assert code == 0 and "…" not in narrow  # folded onto more lines, never cut off
    first, second = sorted(list_runs(district)["run"])
    book = tmp_path / "compare.xlsx"
    code, output = _run(district, "compare", str(first), str(second), "--out", str(book))
    assert code == 0, output
    assert "服务覆盖率（单位）" in output and "+16.7 pt" in output  # 2 of 6 -> 3 of 6
    rates = pd.read_excel(book, sheet_name="rates").set_index("key")
    assert rates.loc["service_rate", "delta"] > 0
    assert rates.loc["org_rate", "delta"] == 0


def test_unknown_run_is_a_clear_error(district: Store) -> None:
    code, output = _run(district, "compare", "998", "999")
    assert code != 0
    assert "998" in output
