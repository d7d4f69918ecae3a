"""The dashboard in headless Chromium against a real ``gridmap serve`` on the demo store, at
desktop (1280x800) and tablet (820x1180) sizes: rates equal to the stored run and its
workbook, drill-down to a cell, a list downloaded as a workbook, the map drawn from the
scoped GeoJSON, a coverage run started from the page joining the trend, and another
sub-district's department seeing none of it. Every request off the loopback server is
blocked and counted; screenshots go to tmp_path."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from served_demo import Site, Tab, open_tab, served_site, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERS = {
    "xiong": ("department-town-pw", ["--role", "department", "--area", "360681001"]),
    "dong": ("east-gate-department-pw", ["--role", "department", "--area", "360681002"]),
}

DESKTOP = {"width": 1280, "height": 800}
TABLET = {"width": 820, "height": 1180}
TOWN = "360681001"  # 雄石街道, xiong's sub-district in test_web_pages_browser's USERS
LABELS = ("组织覆盖率", "工作覆盖率", "综合覆盖率", "服务覆盖率", "应建未建")
#: another township's cells: 360681001 + 3-digit community + 3-digit sequence
TOWN_CELL = re.compile(rf"{TOWN}\d{{6}}")


site = served_site(USERS)


def _stored_row(site: Site, code: str) -> dict[str, Any]:
    (raw,) = site.sql("SELECT areas FROM coverage_run ORDER BY id DESC LIMIT 1")[0]
    areas = json.loads(raw) if isinstance(raw, str) else raw
    return next(a for a in areas if a["code"] == code)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def _shown_row(tab: Tab, code: str) -> dict[str, str]:
    cells = tab.page.locator(f"#rollup tr[data-code='{code}'] td")
    return {
        cells.nth(i).get_attribute("data-key") or "": cells.nth(i).inner_text()
        for i in range(cells.count())
    }


def _download(tab: Tab, selector: str) -> bytes:
    with tab.page.expect_download() as info:
        tab.page.click(selector)
    return Path(info.value.path()).read_bytes()


def _no_sideways_scroll(tab: Tab, width: int) -> None:
    assert tab.page.evaluate("document.documentElement.scrollWidth") <= width


def _map_ready(tab: Tab) -> int:
    page = tab.page
    page.wait_for_selector("#dash-map[data-ready='1'][data-cells]", timeout=30_000)
    drawn = page.locator("#dash-map .leaflet-overlay-pane path, #dash-map canvas").count()
    assert drawn > 0
    return int(page.get_attribute("#dash-map", "data-cells") or 0)


@pytest.mark.parametrize("viewport", [DESKTOP, TABLET], ids=["desktop", "tablet"])
def test_a_department_reads_its_dashboard(
    browser: Any,
    site: Site,
    tmp_path: Path,
    viewport: dict[str, int],
) -> None:
    tab = open_tab(browser, site, viewport)
    page = tab.page
    sign_in(tab, site, "xiong")
    assert page.url == site.base + "/dashboard"
    head = page.inner_text("#rollup thead")
    assert all(label in head for label in LABELS)
    stored, shown = _stored_row(site, TOWN), _shown_row(tab, TOWN)
    for key in ("org_rate", "own_rate", "joint_rate", "hosted_rate", "work_rate",
                "combined_rate", "service_rate", "service_population_rate"):  # fmt: skip
        assert shown[key] == _pct(stored[key]), key
    assert shown["must_have_branch"] == str(stored["must_have_branch"])
    assert shown["idle_orgs"] == str(stored["idle_orgs"])
    report = load_workbook(io.BytesIO(_download(tab, "#run-list tr:first-child a.report")))
    rollup = list(report.worksheets[0].iter_rows(values_only=True))
    header, row = rollup[0], next(r for r in rollup if TOWN in r)
    assert row[header.index("综合覆盖率")] == pytest.approx(stored["combined_rate"])
    assert all(TOWN_CELL.search(str(r)) is None or TOWN in str(r) for r in rollup)
    cells_on_map = _map_ready(tab)
    total = int(site.sql(f"SELECT COUNT(*) FROM grid_cell c JOIN admin_area a ON a.id = c.area_id "
                         f"WHERE a.code LIKE '{TOWN}%'")[0][0])  # fmt: skip
    assert 0 < cells_on_map <= total
    _no_sideways_scroll(tab, viewport["width"])
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)

    must = page.locator("#list-must .count").inner_text()
    book = load_workbook(io.BytesIO(_download(tab, "#list-must a.xlsx")))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("名称", "类型", "网格", "网格员")
    assert len(rows) - 1 == int(must) == stored["must_have_branch"]
    assert all(str(r[2]).startswith(TOWN) for r in rows[1:])

    page.click("#rollup tr.child th a >> nth=1")  # a community
    page.wait_for_selector("#rollup tr.cellrow")
    page.screenshot(path=str(tmp_path / "community.png"), full_page=True)
    code = page.get_attribute("#rollup tr.cellrow:not(:has(.status-empty))", "data-code")
    assert code is not None
    page.click(f"#rollup tr.cellrow[data-code='{code}'] th a")
    page.wait_for_selector("#cell-units")
    assert code in page.inner_text("#cell-units caption")
    page.screenshot(path=str(tmp_path / "cell.png"), full_page=True)
    page.goto(site.base + "/dashboard?lang=en")
    assert "Organisational coverage rate" in page.inner_text("#rollup thead")
    assert tab.outside == [] and tab.errors == []
    page.context.close()


def test_another_sub_district_sees_none_of_it(
    browser: Any,
    site: Site,
    tmp_path: Path,
) -> None:
    tab = open_tab(browser, site, DESKTOP)
    page = tab.page
    sign_in(tab, site, "dong")
    assert page.url == site.base + "/dashboard"
    _map_ready(tab)
    html = page.content()
    assert TOWN_CELL.search(html) is None and "雄石街道" not in html
    geo = page.request.get(site.base + "/dashboard/cells.geojson").text()
    layers = page.request.get(site.base + "/dashboard/layers.json").text()
    assert json.loads(geo)["features"] and TOWN_CELL.search(geo + layers) is None
    for which in ("must", "idle", "zones"):
        body = page.request.get(site.base + f"/dashboard/lists/{which}.xlsx").body()
        book = load_workbook(io.BytesIO(body))
        text = " ".join(str(v) for r in book.active.iter_rows(values_only=True) for v in r)
        assert TOWN_CELL.search(text) is None, which
    assert page.request.get(site.base + f"/dashboard?area={TOWN}").status == 404
    page.screenshot(path=str(tmp_path / "other.png"), full_page=True)
    assert tab.outside == []
    assert all("404" in e for e in tab.errors)  # Chromium logs the 404 answer itself
    page.context.close()


def test_a_coverage_run_from_the_page_joins_the_trend(
    browser: Any,
    site: Site,
    tmp_path: Path,
) -> None:
    tab = open_tab(browser, site, DESKTOP)
    page = tab.page
    sign_in(tab, site, "xiong")
    before = int(page.get_attribute("#trend", "data-runs") or 0)
    assert (before == 1) == (page.locator("#trend-one").count() == 1)
    page.select_option("#run-mode", "radius")
    page.fill("#run-reach", "600")
    page.fill("#run-label", "浏览器复查")
    with page.expect_navigation():
        page.click("#run-form button[type=submit]")
    assert page.locator("#job").count() == 1
    page.screenshot(path=str(tmp_path / "job.png"), full_page=True)
    page.wait_for_selector("#job.job-done", timeout=180_000)  # the page polls, then reloads
    assert int(page.get_attribute("#trend", "data-runs") or 0) == before + 1
    page.click("#job a[href*='run=']")
    assert "浏览器复查" in page.inner_text("#run-pick")
    page.screenshot(path=str(tmp_path / "after-run.png"), full_page=True)
    assert tab.outside == [] and tab.errors == []
    page.context.close()
