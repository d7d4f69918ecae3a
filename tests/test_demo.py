"""`gridmap demo` end to end in a temporary directory, as a new user runs it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.ingest.osm import read_osm

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Run the demo twice in a fresh directory with the default (SpatiaLite) store."""
    workdir = tmp_path_factory.mktemp("demo")
    cwd = Path.cwd()
    os.chdir(workdir)
    try:
        env = {"GRIDMAP_DATABASE_URL": "sqlite:///gridmap.sqlite"}
        first = CliRunner().invoke(app, ["demo"], env=env)
        assert first.exit_code == 0, first.output
        (workdir / "first.txt").write_text(first.output)
        second = CliRunner().invoke(app, ["demo"], env=env)
        assert second.exit_code == 0, second.output
        (workdir / "second.txt").write_text(second.output)
        yield workdir
    finally:
        os.chdir(cwd)


def test_demo_honours_the_coverage_settings(demo_dir: Path, tmp_path: Path) -> None:
    """GRIDMAP_COVERAGE__IDLE_DAYS reaches the demo's run: a shorter idle limit, more idle."""
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        env = {"GRIDMAP_DATABASE_URL": "sqlite:///gridmap.sqlite"}
        env["GRIDMAP_COVERAGE__IDLE_DAYS"] = "30"
        result = CliRunner().invoke(app, ["demo", "--out", "idle30"], env=env)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    default = json.loads((demo_dir / "demo-out" / "summary.json").read_text())
    short = json.loads((tmp_path / "idle30" / "summary.json").read_text())
    assert short["idle_orgs"] > default["idle_orgs"]


def test_demo_counts_match_the_osm_extract(demo_dir: Path) -> None:
    extract = read_osm(ROOT / "gridmap" / "data" / "osm" / "jiangxi_guixi.osm.pbf")
    units = pd.read_csv(demo_dir / "demo-out" / "units.csv")
    osm_units = units[units["source"] == "osm"]
    assert len(osm_units) == len(extract.units) == 186
    assert (
        osm_units["kind"].value_counts().to_dict() == extract.units["kind"].value_counts().to_dict()
    )
    assert (units["source"] == "sample_firms").sum() == 9
    output = (demo_dir / "first.txt").read_text()
    assert "195 of 195 units in a cell" in output


def test_demo_is_repeatable(demo_dir: Path) -> None:
    from gridmap.store import Store

    summary = json.loads((demo_dir / "demo-out" / "summary.json").read_text())
    assert summary["units"] == 195  # not doubled by the second run
    store = Store(f"sqlite:///{demo_dir / 'gridmap.sqlite'}")
    try:
        counts = store.counts()
        assert (counts["unit"], counts["road"], counts["station"], counts["grid_cell"]) == (
            195,
            176,
            12,
            summary["cells"]["covered"]
            + sum(n for s, n in summary["cells"].items() if s != "covered"),
        )
        from gridmap.coverage import list_runs

        assert len(list_runs(store)) == 2  # each demo run is stored
    finally:
        store.dispose()


def test_demo_reports_rates_per_area(demo_dir: Path) -> None:
    text = (demo_dir / "demo-out" / "areas.csv").read_text(encoding="utf-8-sig")
    ids = [line.split(",", 1)[0] for line in text.splitlines()[1:]]
    assert all(i.isdigit() for i in ids[:-1]) and ids[-1] == ""  # no "4.0"; total row has none
    areas = pd.read_csv(demo_dir / "demo-out" / "areas.csv", dtype={"code": str})
    levels = set(areas["level"])
    assert {"county", "township", "village", "total"} <= levels
    towns = areas[areas["level"] == "township"].set_index("name")
    assert set(towns.index) == {"花园街道", "雄石街道", "东门街道"}
    total = areas[areas["level"] == "total"].iloc[0]
    assert towns["units"].sum() == total["units"]
    for column in ("org_rate", "work_rate", "combined_rate", "service_rate"):
        assert 0.0 <= total[column] <= 1.0
    assert total["combined_rate"] >= total["org_rate"]
    summary = json.loads((demo_dir / "demo-out" / "summary.json").read_text())
    assert summary["must_have_branch"] > 0
    assert summary["blind_zones"] > 0
    assert summary["options"]["mode"] == "network"


def test_demo_writes_map_workbook_and_sites(demo_dir: Path) -> None:
    out = demo_dir / "demo-out"
    html = (out / "map.html").read_text(encoding="utf-8")
    assert "<script src=" not in html and '<link href="http' not in html
    assert "贵溪市党建网格覆盖" in html
    book = openpyxl.load_workbook(out / "report.xlsx", read_only=True)
    assert {"汇总", "应建未建", "闲置组织", "盲区"} <= set(book.sheetnames)
    assert any(name.startswith("网格员-") for name in book.sheetnames)
    header = [c.value for c in next(book["汇总"].iter_rows(max_row=1))]
    assert "组织覆盖率" in header and "服务覆盖率（人口）" in header
    sites = pd.read_csv(out / "sites.csv")
    assert len(sites) >= 1
    assert sites["marginal_gain"].is_monotonic_decreasing
    assert (out / "map.png").stat().st_size > 10_000


@pytest.mark.browser
def test_demo_map_works_offline_in_chromium(demo_dir: Path, browser: object) -> None:
    """The planner's case: the demo's map opened with every network request blocked."""
    from conftest import open_offline

    visit = open_offline(browser, demo_dir / "demo-out" / "map.html")
    try:
        # only basemap tiles may be asked for; they are blocked (each logs a failed load)
        # and nothing else is requested, and nothing else goes wrong
        assert [e for e in visit.errors if "Failed to load resource" not in e] == []
        assert all("tile.openstreetmap.org" in url for url in visit.requests), visit.requests
        page = visit.page
        assert page.locator(".leaflet-control-layers").count() == 1
        assert page.locator(".gm-legend").count() == 1
        legend = page.inner_text(".gm-legend")  # the drawn legend, not the inlined data
        for label in ("图例", "已覆盖", "盲区", "应建未建（红框）", "党群服务站", "推荐选址"):
            assert label in legend, label
        page.screenshot(path=str(demo_dir / "demo-map.png"))
    finally:
        visit.page.close()


def _cli(demo_dir: Path, *args: str, lang: str | None = None) -> str:
    """Run ``gridmap ARGS`` on the demo's store, from the demo directory, as a user would."""
    cwd = Path.cwd()
    os.chdir(demo_dir)
    try:
        env: dict[str, str | None] = {"GRIDMAP_DATABASE_URL": "sqlite:///gridmap.sqlite"}
        env |= {"COLUMNS": "160", "GRIDMAP_LANG": lang}  # None unsets it
        result = CliRunner().invoke(app, list(args), env=env)
    finally:
        os.chdir(cwd)
    assert result.exit_code == 0, result.output
    return result.output


def test_cli_map_image_and_report_in_english(demo_dir: Path, tmp_path: Path) -> None:
    html = tmp_path / "map-en.html"
    _cli(demo_dir, "map", "export", str(html), "--lang", "en", "--basemap", "none")
    text = html.read_text(encoding="utf-8")
    assert "<script src=" not in text and "tile.openstreetmap.org" not in text
    assert "Blind zone" in text or "blind zone" in text
    png = tmp_path / "map.png"
    _cli(demo_dir, "map", "image", str(png), "--dpi", "80")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    book_path = tmp_path / "report-en.xlsx"
    _cli(demo_dir, "report", "--out", str(book_path), "--lang", "en", "--run", "1")
    book = openpyxl.load_workbook(book_path, read_only=True)
    assert {"roll-up", "must have a branch", "idle", "blind zones"} <= set(book.sheetnames)


def test_cli_report_labels_follow_the_lang_setting(demo_dir: Path, tmp_path: Path) -> None:
    """Without --lang the workbook speaks GRIDMAP_LANG; Chinese when it is unset."""
    english, chinese = tmp_path / "en.xlsx", tmp_path / "zh.xlsx"
    _cli(demo_dir, "report", "--out", str(english), lang="en")
    _cli(demo_dir, "report", "--out", str(chinese))
    assert "blind zones" in openpyxl.load_workbook(english, read_only=True).sheetnames
    assert "盲区" in openpyxl.load_workbook(chinese, read_only=True).sheetnames


def test_cli_site_recommend_writes_sites_in_order(demo_dir: Path, tmp_path: Path) -> None:
    output = _cli(
        demo_dir, "site", "recommend", "--k", "3", "--method", "greedy", "--out", str(tmp_path)
    )
    assert "推荐站点" in output
    sites = pd.read_csv(tmp_path / "sites.csv")
    assert len(sites) == 3
    assert sites["marginal_gain"].is_monotonic_decreasing
    assert json.loads((tmp_path / "sites.geojson").read_text())["features"]


def test_cli_compares_the_two_demo_runs(demo_dir: Path) -> None:
    output = _cli(demo_dir, "coverage", "compare", "1", "2")
    assert "组织覆盖率" in output and "+0.0 pt" in output  # the same data twice
    assert "0 unit changes" in output


@pytest.mark.browser
def test_demo_map_and_workbook_agree_with_the_run_files(demo_dir: Path, browser: object) -> None:
    """The red rings on map.html, the workbook's totals and summary.json tell the same story."""
    from conftest import open_offline
    from test_maps_browser import RECORD_CIRCLES, count_red_rings

    out = demo_dir / "demo-out"
    summary = json.loads((out / "summary.json").read_text())
    units = pd.read_csv(out / "units.csv")
    areas = pd.read_csv(out / "areas.csv", dtype={"code": str})
    must = int(units["must_have_branch"].sum())
    uncovered = units["must_have_branch"] & (units["org_status"] == "none")
    assert must == summary["must_have_branch"] > uncovered.sum()  # 16 > 3 in the demo

    visit = open_offline(browser, out / "map.html", init_script=RECORD_CIRCLES)
    try:
        assert count_red_rings(visit.page) == (must, len(units))
    finally:
        visit.page.close()

    book = openpyxl.load_workbook(out / "report.xlsx")
    rows = list(book["汇总"].iter_rows(values_only=True))
    header, body = list(rows[0]), rows[1:]
    assert len(body) == len(areas)
    for key, label in (("units", "单位数"), ("service_covered", "服务覆盖单位数")):
        assert [r[header.index(label)] for r in body] == areas[key].tolist(), key
    assert [r[header.index("应建未建")] for r in body] == areas["must_have_branch"].tolist()
    total = body[-1]
    assert total[header.index("名称")] == "合计"
    assert total[header.index("应建未建")] == summary["must_have_branch"] == must
    assert total[header.index("服务覆盖单位数")] == summary["service_covered"]
    assert len(list(book["应建未建"].iter_rows(min_row=2))) == must
    zones = pd.DataFrame(json.loads((out / "blind_zones.geojson").read_text())["features"])
    zone_must = [f["must_have_branch"] for f in zones["properties"]]
    sheet = list(book["盲区"].iter_rows(values_only=True))
    assert [r[sheet[0].index("应建未建")] for r in sheet[1:]] == zone_must
