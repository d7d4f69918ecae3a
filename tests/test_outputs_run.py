"""One run, many outputs: maps and reports read the stored run, on both stores.

The demo's network run is stored once; what ``report`` and ``map export`` show from
it must equal what a recompute of the same run shows (while the records have not
changed), and must stay the run's own numbers after the records change.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.coverage import load_run, reproduce_run
from gridmap.demo import DEMO_AS_OF, DemoResult, run_demo
from gridmap.maps._layers import EncodeOptions, layer_specs
from gridmap.maps.from_coverage import map_data
from gridmap.report import write_report
from gridmap.settings import CoverageSettings
from gridmap.siting.recommend import latest_recommendation
from gridmap.store import Store, models

pytestmark = pytest.mark.slow


@pytest.fixture
def demo(store: Store) -> DemoResult:
    return run_demo(store)


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def _specs(store: Store, result: Any, lang: str) -> list[str]:
    data = map_data(result, sites=latest_recommendation(store), lang=lang)  # type: ignore[arg-type]
    specs = layer_specs(data, lang, EncodeOptions(), include_personal=True)  # type: ignore[arg-type]
    return [json.dumps(s.spec, sort_keys=True, ensure_ascii=False) for s in specs]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_stored_run_gives_the_workbook_and_map_of_a_recompute(
    store: Store, demo: DemoResult, tmp_path: Path, lang: str
) -> None:
    rules = CoverageSettings()
    stored = load_run(store, rules)
    again = reproduce_run(store, rules)
    context = stored.inputs
    assert stored.run_id == again.run_id == demo.coverage.run_id
    assert len(stored.units) == len(again.units) > 100
    assert len(stored.blind_zones) == len(again.blind_zones) > 0
    assert context.units.empty and context.roads.empty  # nothing was read to recompute
    a = _cells(write_report(stored, tmp_path / "stored.xlsx", lang=lang))  # type: ignore[arg-type]
    b = _cells(write_report(again, tmp_path / "again.xlsx", lang=lang))  # type: ignore[arg-type]
    assert a.keys() == b.keys() and len(a) >= 9  # roll-up, 应建未建, idle, zones, 5 workers
    for sheet in a:
        assert a[sheet] == b[sheet], sheet
    assert _specs(store, stored, lang) == _specs(store, again, lang)


def _cli(store: Store, *args: str) -> str:
    env = {"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False), "COLUMNS": "120"}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == 0, result.output
    return result.output


def test_report_and_map_show_the_run_after_the_records_changed(
    store: Store, demo: DemoResult, tmp_path: Path
) -> None:
    """Closing every station changes a recompute, not the stored run's outputs."""
    summary = demo.coverage.summary()
    assert summary["service_covered"] > 0
    with store.engine.begin() as conn:
        conn.execute(update(models.Station.__table__).values(closed_at=dt.datetime(2026, 11, 2)))  # type: ignore[arg-type]
    _cli(store, "report", "--out", str(tmp_path / "r.xlsx"))
    rows = _cells(tmp_path / "r.xlsx")["汇总"]
    header, total = rows[0], next(r for r in rows if r[0] == "合计")
    served = header.index(next(h for h in header if str(h).startswith("服务覆盖单位")))
    assert total[served] == summary["service_covered"]
    _cli(store, "map", "export", str(tmp_path / "m.html"), "--basemap", "none")
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    # the run's service areas, still drawn (a recompute has no station left to draw them)
    assert re.search(r'"id":\s*"service_areas"', page)


@pytest.mark.parametrize("mode", ["radius", "network"])
def test_siting_reads_the_covered_units_a_full_run_finds(
    store: Store, demo: DemoResult, mode: str
) -> None:
    """site recommend measures only the reach, and finds what a coverage run finds."""
    from gridmap.coverage import compute_coverage, read_inputs, representative_points
    from gridmap.coverage.reach import ReachOptions
    from gridmap.siting.recommend import _covered_now

    rules = CoverageSettings()
    inputs = read_inputs(store, as_of=DEMO_AS_OF)
    options = ReachOptions(mode=mode)  # type: ignore[arg-type]
    points = representative_points(inputs.units)
    light = _covered_now(inputs, points, points.to_crs(inputs.metric_crs), rules, options, None)
    full = compute_coverage(inputs, rules, options).units
    assert 0 < light["service_covered"].sum() < len(full)
    assert light["service_covered"].tolist() == full["service_covered"].astype(bool).tolist()
    columns = ["unit_id", "source_id", "kind", "name", "cell_code", "lon", "lat"]
    assert light[columns].equals(pd.DataFrame(full[columns]))


#: What reading a stored run back never needs: the road network, the reach and zone
#: machinery, the solver (a map or a workbook is drawn from the stored rows).
_ENGINE = (
    "gridmap.coverage.run",
    "gridmap.coverage.reach",
    "gridmap.coverage.zones",
    "gridmap.network",
    "networkx",
    "scipy",
    "highspy",
)

_LOADED = """
import json, sys
watched = json.loads(sys.argv[1])
sys.argv = ["gridmap", *sys.argv[2:]]
from gridmap.cli import main
try:
    main()
finally:
    loaded = [name for name in watched if name in sys.modules]
    print("LOADED=" + json.dumps(loaded))
"""


@pytest.mark.parametrize("command", ["report", "map"])
def test_report_and_map_of_a_stored_run_load_no_coverage_engine(
    store: Store, demo: DemoResult, tmp_path: Path, command: str
) -> None:
    import os
    import subprocess
    import sys

    args = (
        ["report", "--out", str(tmp_path / "r.xlsx")]
        if command == "report"
        else ["map", "export", str(tmp_path / "m.html"), "--basemap", "none"]
    )
    env = {**os.environ, "GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False)}
    done = subprocess.run(
        [sys.executable, "-c", _LOADED, json.dumps(_ENGINE), *args],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.startswith("LOADED="))
    assert json.loads(line.removeprefix("LOADED=")) == [], done.stdout
