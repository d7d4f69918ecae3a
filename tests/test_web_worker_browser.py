"""The grid worker's phone in headless Chromium (390x844) against a real ``gridmap serve`` on
the demo store: the first page's weight, the cell map, a visit with a reported change and the
phone's location, a visit recorded offline, queued, and sent once when the signal returns.
Every request off the loopback server is blocked and counted; screenshots go to tmp_path."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS
from served_demo import (
    PHONE,
    Site,
    Tab,
    demo_server,
    fits_the_phone,
    open_tab,
    served_site,
    sign_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERS = {"wang": ("worker-w01-password", ["--role", "worker", "--worker", "W01"])}
#: Where the phone says it is (WGS-84), inside the demo county.
HERE = {"latitude": 28.2401, "longitude": 117.0302, "accuracy": 18.0}
#: The first page (My cells: HTML, CSS, script) stays under this before any map loads.
FIRST_PAGE_BYTES = 100_000


site = served_site(USERS)


def _phone(browser: Any, site: Site) -> Tab:
    return open_tab(
        browser, site, PHONE, geolocation=HERE, permissions=["geolocation"],
        service_workers="allow",
    )  # fmt: skip


def _own_cells(site: Site) -> list[str]:
    rows = site.sql(
        "SELECT c.code FROM worker_cell wc JOIN grid_cell c ON c.id = wc.cell_id "
        "JOIN worker w ON w.id = wc.worker_id WHERE w.source_id = 'W01' ORDER BY c.code"
    )
    return [r[0] for r in rows]


def _largest(site: Site, codes: list[str]) -> tuple[str, int]:
    rows = site.sql(
        "SELECT cell_code, COUNT(*) FROM coverage_unit "
        "WHERE run_id = (SELECT MAX(id) FROM coverage_run) AND lon IS NOT NULL "
        "GROUP BY cell_code"
    )
    counts = {code: int(n) for code, n in rows if code in codes}
    code = max(sorted(counts), key=lambda c: counts[c])
    return code, counts[code]


def _every_field_labelled(page: Any) -> None:
    unlabelled = page.evaluate(
        "[...document.querySelectorAll('input:not([type=hidden]), textarea, select')]"
        '.filter(e => !e.id || !document.querySelector(`label[for="${e.id}"]`))'
        ".map(e => e.outerHTML.slice(0, 80))"
    )
    assert not unlabelled, unlabelled


def _first_page_bytes(browser: Any, phone: Tab, site: Site) -> list[tuple[str, int]]:
    """What My cells costs a phone with nothing cached: every answer, headers and body."""
    cold = browser.new_context(viewport=PHONE, storage_state=phone.context.storage_state())
    loaded: list[tuple[str, int]] = []

    def finished(req: Any) -> None:
        sizes = req.sizes()
        loaded.append((req.url, sizes["responseBodySize"] + sizes["responseHeadersSize"]))

    page = cold.new_page()
    page.on("requestfinished", finished)
    page.goto(site.base + "/cells", wait_until="networkidle")
    page.wait_for_timeout(500)
    cold.close()
    return loaded


def _kept_offline(page: Any, paths: list[str]) -> None:
    """Wait until the service worker holds ``paths`` (it keeps the worker's cells)."""
    deadline = time.monotonic() + 30
    script = (
        "async (paths) => { const c = await caches.open('gridmap-pages');"
        " const keys = (await c.keys()).map(r => new URL(r.url).pathname);"
        " return paths.filter(p => !keys.includes(p)); }"
    )
    while (missing := page.evaluate(script, paths)) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not missing, f"not kept for offline reading: {missing}"


def _queue(page: Any) -> list[dict[str, Any]]:
    value = page.evaluate("localStorage.getItem('gridmap.queue.wang')")
    return list(json.loads(value or "[]"))


def test_a_worker_records_visits_online_and_offline(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    phone = _phone(browser, site)
    page = phone.page
    sign_in(phone, site, "wang")
    assert page.url == site.base + "/cells"
    loaded = _first_page_bytes(browser, phone, site)
    first_page = sum(n for _, n in loaded)
    (tmp_path / "first-page-bytes.txt").write_text(f"{first_page}\n{loaded}\n")
    paths = {url.removeprefix(site.base) for url, _ in loaded}
    assert {"/cells", "/static/pages/app.css", "/static/pages/app.js"} <= paths
    assert not any("leaflet" in p for p in paths)  # the map's library waits for a cell page
    assert first_page < FIRST_PAGE_BYTES, loaded

    own = _own_cells(site)
    shown = page.eval_on_selector_all("a.cell-link .code", "es => es.map(e => e.innerText)")
    assert shown == own
    fits_the_phone(page)
    page.screenshot(path=str(tmp_path / "cells.png"), full_page=True)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _kept_offline(page, ["/cells", *(f"/cells/{c}" for c in own)])

    code, units = _largest(site, own)
    page.click(f"a.cell-link[href='/cells/{code}']")
    page.wait_for_selector("#cell-map[data-ready]")
    assert page.locator("#cell-map.leaflet-container path.unit-marker").count() == units
    assert page.locator("#cell-map path.cell-outline").count() == 1
    assert page.locator("li.unit .station-name").count() > 0
    fits_the_phone(page)
    _every_field_labelled(page)
    page.screenshot(path=str(tmp_path / "cell.png"), full_page=True)

    # online: a visit with a reported change and the phone's location
    cards = page.locator("li.unit")
    first, second = cards.nth(0), cards.nth(1)
    first_id = int(str(first.get_attribute("id")).removeprefix("unit-"))
    note = f"走访测试 {os.getpid()}：党员增至 4 人"
    first.locator("textarea[name=note]").fill(note)
    first.locator("details.change summary").click()
    first.locator("select[name=change_kind]").select_option("members")
    first.locator("input[name=party_members]").fill("4")
    first.locator("button.locate-btn").click()
    page.wait_for_function(
        "id => document.querySelector(`#unit-${id} input[name=lon]`).value !== ''", arg=first_id
    )
    with page.expect_navigation():
        first.locator("button[type=submit]").click()
    assert note in page.locator(f"#unit-{first_id} .visits .visit-note").all_inner_texts()
    assert page.locator(".ok[role=status]").inner_text() == "走访记录已保存。"
    stored = site.sql(
        "SELECT v.lon, v.lat, c.kind, c.payload, v.location_crs, v.accuracy_m FROM visit v "
        "JOIN pending_change c ON c.visit_id = v.id WHERE v.note = :n",
        n=note,
    )
    assert len(stored) == 1
    lon, lat, kind, payload, crs, accuracy = stored[0]
    assert (round(lon, 4), round(lat, 4)) == (HERE["longitude"], HERE["latitude"])
    assert (crs, accuracy) == ("wgs84", HERE["accuracy"])
    payload = payload if isinstance(payload, dict) else json.loads(payload)
    assert kind == "members" and payload == {"party_members": 4}
    page.screenshot(path=str(tmp_path / "visit.png"), full_page=True)

    # offline: the page still reads, the visit waits on the phone
    phone.context.set_offline(True)
    page.reload()
    page.wait_for_selector("#cell-map[data-ready]")
    assert page.locator("#cell-map path.unit-marker").count() == units
    second_id = int(str(second.get_attribute("id")).removeprefix("unit-"))
    offline_note = f"离线走访 {os.getpid()}：无信号"
    second.locator("textarea[name=note]").fill(offline_note)
    second.locator("button[type=submit]").click()
    queued = page.locator("#queue")
    queued.wait_for(state="visible")
    assert "待发送 1 条" in queued.inner_text()
    assert offline_note in page.locator(f"#unit-{second_id} li.queued").inner_text()
    assert site.visits_with(offline_note) == 0
    page.screenshot(path=str(tmp_path / "queued.png"), full_page=True)
    other_cell = next(c for c in own if c != code)
    page.goto(f"{site.base}/cells/{other_cell}")  # kept from My cells, never opened online
    page.wait_for_selector("#cell-map[data-ready]")
    assert "待发送 1 条" in page.locator("#queue").inner_text()
    page.screenshot(path=str(tmp_path / "offline-other-cell.png"), full_page=True)
    page.goto(f"{site.base}/cells/{code}")
    # a flush cut off by the signal leaves the visit queued twice: it must still count once
    page.evaluate(
        "() => { const q = JSON.parse(localStorage.getItem('gridmap.queue.wang'));"
        " q.push(q[0]); localStorage.setItem('gridmap.queue.wang', JSON.stringify(q)); }"
    )
    # and a send whose answer was lost on the way back stored it already (the phone's own
    # session and key, past the browser's offline switch): the resend says "sent", not nothing
    (waiting, *_) = _queue(page)
    lost = phone.context.request.post(
        waiting["action"], form=waiting["fields"], headers={"Accept": "application/json"}
    )
    assert lost.status == 201 and lost.json()["created"] is True
    assert site.visits_with(offline_note) == 1

    # back online: sent once, shown in the history
    with page.expect_navigation():
        phone.context.set_offline(False)
    page.wait_for_selector("#queue:not([hidden])")
    assert site.visits_with(offline_note) == 1
    assert _queue(page) == []
    assert offline_note in page.locator(f"#unit-{second_id} .visits .visit-note").all_inner_texts()
    assert page.locator("#queue").inner_text() == "已发送 1 条离线走访记录。"
    page.screenshot(path=str(tmp_path / "sent.png"), full_page=True)

    # another worker's cell: neither the page nor its map data
    other = site.sql(
        "SELECT c.code FROM grid_cell c JOIN worker_cell wc ON wc.cell_id = c.id "
        "JOIN worker w ON w.id = wc.worker_id WHERE w.source_id = 'W02' ORDER BY c.code LIMIT 1"
    )[0][0]
    geojson = page.evaluate("url => fetch(url).then(r => r.status)", f"/cells/{other}/map.geojson")
    assert geojson == 404
    response = page.goto(f"{site.base}/cells/{other}")
    assert response is not None and response.status == 404
    assert page.locator("li.unit").count() == 0

    # signing out leaves nothing of the worker's cells on the phone
    page.goto(f"{site.base}/cells")
    with page.expect_navigation():
        page.click("form.inline button[type=submit]")
    assert page.url == site.base + "/"
    assert page.evaluate("caches.has('gridmap-pages')") is False
    assert phone.outside == []
    assert all("404" in e for e in phone.errors), phone.errors  # Chromium logs the 404s
    phone.context.close()


@pytest.fixture(scope="module", params=BACKENDS)
def amap_site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv("GRIDMAP_WEB__BASEMAP", "amap")
        with demo_server(request, tmp_path_factory, USERS) as (port, url):
            yield Site(port, url, {"wang": USERS["wang"][0]})


def test_with_no_network_the_basemap_fails_and_the_cell_still_shows(
    browser: Any, amap_site: Site, tmp_path: Path
) -> None:
    """Amap tiles never arrive (every request off loopback is refused): the cell and its
    units are drawn on a blank background, shifted to GCJ-02, and no script fails."""
    site = amap_site
    phone = _phone(browser, site)
    page = phone.page
    sign_in(phone, site, "wang")
    code, units = _largest(site, _own_cells(site))
    page.goto(f"{site.base}/cells/{code}")
    page.wait_for_selector("#cell-map[data-ready]")
    assert page.locator("#cell-map path.unit-marker").count() == units
    assert page.locator("#cell-map path.cell-outline").count() == 1
    data = page.evaluate("url => fetch(url).then(r => r.json())", f"/cells/{code}/map.geojson")
    assert data["crs_name"] == "GCJ-02"
    page.wait_for_timeout(500)
    page.screenshot(path=str(tmp_path / "amap-offline.png"), full_page=True)
    assert phone.outside and all("autonavi.com/" in u for u in phone.outside)
    scripts = [e for e in phone.errors if "Failed to load resource" not in e]
    assert scripts == [], scripts  # only the refused tiles, logged by Chromium itself
    phone.context.close()
