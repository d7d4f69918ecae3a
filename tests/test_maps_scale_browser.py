"""Maps that scale: 100k units summed per cell, drawn per cell when zoomed in (Chromium)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _synthetic_map import synthetic_map
from conftest import Visit, open_offline
from test_maps_unit_pack import realish_map, reference_units

from gridmap.domain import UnitKind
from gridmap.maps import export_html
from gridmap.maps._layers import (
    ALERT_COLOR,
    UNIT_KIND_COLORS,
    EncodeOptions,
    layer_specs,
    unit_columns,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

N_UNITS = 100_000


@pytest.fixture(scope="module")
def big_map(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scale") / "county.html"
    return export_html(synthetic_map(N_UNITS), path, basemap="none")


@pytest.fixture(scope="module")
def big(browser: Any, big_map: Path) -> Visit:
    return open_offline(browser, big_map)


def test_the_file_stays_small_and_opens_offline(big_map: Path, big: Visit) -> None:
    assert big_map.stat().st_size < 4e6  # 20 MB at 1M units (benchmarks/bench_outputs.py)
    assert big.errors == [] and big.requests == []
    # how fast it opens is measured in benchmarks/bench_outputs.py ("map open"), not here
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


# -- the units' typed columns decoded in the page (gridmap.js Packed) -----------------


@pytest.fixture(scope="module")
def realish(browser: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Visit]:
    """A summed map of units with Chinese names, gaps and units in no cell."""
    opts = EncodeOptions(aggregate_threshold=1_000)
    path = tmp_path_factory.mktemp("packed") / "county.html"
    visit = open_offline(browser, export_html(realish_map(), path, encode=opts))
    yield visit
    visit.page.close()


def _expected_markers() -> list[list[Any]]:
    """Per unit in chunk order: lat, lon, fill, ring and the shown fields, from the JSON
    chunks the page decoded before (test_maps_unit_pack.reference_units)."""
    units = realish_map().layer("units")
    codes, columns, lon, lat, _ = unit_columns(units, "zh", EncodeOptions(), False)
    ref = reference_units(codes, columns, lon, lat)
    kinds = {UnitKind(k).label("zh"): v for k, v in UNIT_KIND_COLORS.items()}
    chunk_codes = [c or None for c in ref["codes"]]
    cell = [code for code, size in zip(chunk_codes, ref["sizes"], strict=True) for _ in range(size)]
    out = []
    for i in range(len(ref["x"])):
        row = {k: v[i] for k, v in ref["columns"].items()}
        fill = kinds.get(row["kind"], "#777777")
        ring = ALERT_COLOR if row["_alert"] else "#ffffff"
        shown = [row[f] if f != "cell_code" else cell[i] for f in FIELDS]
        out.append([ref["y"][i], ref["x"][i], fill, ring, *shown])
    return out


FIELDS = [
    "name",
    "kind",
    "cell_code",
    "org_status",
    "must_have_branch",
    "service_covered",
    "nearest_station",
    "nearest_station_m",
    "party_members",
]


def test_every_units_marker_and_values_are_the_json_chunks(realish: Visit) -> None:
    got = realish.page.evaluate(
        """(fields) => {
        const b = GridMap.byCell, out = [], shown = v => (v === '' || v === undefined) ? null : v;
        for (let k = 0; k < b.spec.byCell.codes.length; k++) {
            for (const m of b.markers(k)) {
                const d = m._gmSpec.data, i = m._gmIndex, ll = m.getLatLng();
                out.push([Math.round(ll.lat * 1e5), Math.round(ll.lng * 1e5),
                    m.options.fillColor, m.options.color,
                    ...fields.map(f => shown(d[f][i]))]);
            }
        }
        return out;
    }""",
        FIELDS,
    )
    want = _expected_markers()
    assert len(got) == len(want) == 12_000
    for g, w in zip(got, want, strict=True):
        assert g == w
    assert realish.errors == []


def test_a_clicked_cells_unit_popup_shows_its_values(realish: Visit) -> None:
    page = realish.page
    _, code, total, point = _busiest_cell(page)
    page.wait_for_timeout(300)
    page.mouse.click(*point)
    page.wait_for_function("GridMap.byCell.shown >= 1", timeout=5_000)
    page.evaluate("void GridMap.map.closePopup()")
    where = page.evaluate(
        """(code) => {
        const ms = GridMap.layers.units.getLayers()
            .filter(m => m._gmSpec.data.cell_code[m._gmIndex] === code);
        const m = ms.find(m => m._gmSpec.data.nearest_station_m[m._gmIndex] === null
            && m._gmSpec.data.name[m._gmIndex]);
        GridMap.map.setView(m.getLatLng(), 19, {animate: false});
        const p = GridMap.map.latLngToContainerPoint(m.getLatLng());
        return {n: ms.length, name: m._gmSpec.data.name[m._gmIndex],
                kind: m._gmSpec.data.kind[m._gmIndex], x: p.x, y: p.y};
    }""",
        code,
    )
    assert where["n"] == total
    page.wait_for_timeout(300)
    page.mouse.click(where["x"], where["y"])
    popup = page.locator(".leaflet-popup-content", has_text=where["name"])
    popup.wait_for(timeout=5_000)
    text = popup.inner_text()
    assert code in text and where["kind"] in text and "—" in text  # no station reaches it
    assert "名称" in text and "最近服务站" in text
    assert realish.errors == []
