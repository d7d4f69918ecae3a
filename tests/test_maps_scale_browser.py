"""Maps that scale: 100k units summed per cell, drawn per cell when zoomed in (Chromium)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from _synthetic_map import synthetic_map
from conftest import Visit, open_offline

from gridmap.maps import export_html
from gridmap.maps._layers import EncodeOptions, layer_specs

pytestmark = [pytest.mark.browser, pytest.mark.slow]

N_UNITS = 100_000


@pytest.fixture(scope="module")
def big_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "county.html"
    return export_html(synthetic_map(N_UNITS), path, basemap="none")


@pytest.fixture(scope="module")
def big(browser: Any, big_map: Path) -> Visit:
    return open_offline(browser, big_map)


def test_the_file_stays_small_and_opens_quickly(big_map: Path, big: Visit) -> None:
    assert big_map.stat().st_size < 4e6  # 20 MB at 1M units (benchmarks/bench_outputs.py)
    assert big.errors == [] and big.requests == []
    assert big.seconds < 10
    # the cells paint in the frame after the map is ready: wait for it, do not race it
    big.page.wait_for_function("GridMap.layers.cells.drawn > 0", timeout=30_000, polling=50)
    assert big.page.evaluate("GridMap.byCell.shown") == 0  # no unit drawn at the start
    legend = big.page.locator(".gm-legend").inner_text()
    assert "单位按网格汇总" in legend and "网格覆盖状态" in legend


def _busiest_cell(page: Any) -> tuple[int, str, int, list[float]]:
    """Index, code, unit count and screen point of the cell with the most units."""
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
        const spec = GridMap.specs.cells, totals = spec.data.units_total;
        let best = 0;
        for (let i = 0; i < totals.length; i++) { if (totals[i] > totals[best]) best = i; }
        const latlng = spec._geom.labelPoint(best);
        GridMap.map.setView(latlng, 13, {animate: false});
        const p = GridMap.map.latLngToContainerPoint(latlng);
        return [best, spec.data.code[best], totals[best], [p.x, p.y]];
    }"""
    )


def test_clicking_a_cell_shows_its_counts_and_its_units(big: Visit) -> None:
    page = big.page
    _, code, total, point = _busiest_cell(page)
    page.wait_for_timeout(300)
    assert page.evaluate("GridMap.byCell.shown") == 0  # zoom 13: counts, not units
    page.mouse.click(*point)
    popup = page.locator(".leaflet-popup-content", has_text=code)
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert "单位：村" in text and "未获服务覆盖单位" in text  # counts by kind and status
    page.wait_for_function("GridMap.byCell.shown === 1", timeout=5_000)
    markers = page.evaluate(
        """(code) => GridMap.layers.units.getLayers()
            .filter(m => m._gmSpec.data.cell_code[m._gmIndex] === code).length""",
        code,
    )
    assert markers == total  # every unit of the clicked cell, and only its units
    page.evaluate("void GridMap.map.closePopup()")
    assert big.errors == []


def test_zooming_in_draws_the_units_in_view_and_their_popups(big: Visit) -> None:
    page = big.page
    _, code, total, _ = _busiest_cell(page)
    page.evaluate(
        """() => {
        const spec = GridMap.specs.cells;
        let best = 0;
        const totals = spec.data.units_total;
        for (let i = 0; i < totals.length; i++) { if (totals[i] > totals[best]) best = i; }
        GridMap.map.setView(spec._geom.labelPoint(best), 16, {animate: false});
    }"""
    )
    page.wait_for_function("GridMap.byCell.shown >= 1", timeout=5_000)
    shown = page.evaluate("GridMap.layers.units.getLayers().length")
    assert total <= shown < N_UNITS / 10  # the cells in view, not the county
    where = page.evaluate(
        """(code) => {
        const m = GridMap.layers.units.getLayers()
            .find(m => m._gmSpec.data.cell_code[m._gmIndex] === code);
        GridMap.map.setView(m.getLatLng(), 18, {animate: false});
        const p = GridMap.map.latLngToContainerPoint(m.getLatLng());
        return {name: m._gmSpec.data.name[m._gmIndex], x: p.x, y: p.y};
    }""",
        code,
    )
    page.wait_for_timeout(300)
    page.mouse.click(where["x"], where["y"])
    popup = page.locator(".leaflet-popup-content", has_text=where["name"])
    popup.wait_for(timeout=5_000)
    assert code in popup.inner_text()  # the unit's cell, filled in from its chunk
    page.evaluate("void GridMap.map.setZoom(11, {animate: false})")
    page.wait_for_timeout(300)
    # zoomed out, only the cell clicked before keeps its units
    assert page.evaluate("GridMap.byCell.shown") <= 1
    assert big.errors == []


def test_small_maps_keep_one_marker_per_unit() -> None:
    data = synthetic_map(2_000, n_side=10)
    specs = {
        s.layer_id: s.spec for s in layer_specs(data, "zh", EncodeOptions(), include_personal=False)
    }
    assert "byCell" not in specs["units"] and specs["units"]["n"] == 2_000
    big = {
        s.layer_id: s.spec
        for s in layer_specs(
            data, "zh", EncodeOptions(aggregate_threshold=1_000), include_personal=False
        )
    }
    assert "byCell" in big["units"] and big["cells"]["label"] == "units_total"
