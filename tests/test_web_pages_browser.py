"""The pages in headless Chromium against a real ``gridmap serve`` on the demo store, with
users from ``gridmap user add``: a worker on a phone (390x844) and a department on a desktop.
Every request off the loopback server is blocked and counted; screenshots go to tmp_path."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import BACKENDS
from served_demo import demo_server
from sqlalchemy import create_engine, text

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERS = {
    "wang": ("worker-w01-password", ["--role", "worker", "--worker", "W01"]),
    "xiong": ("department-town-pw", ["--role", "department", "--area", "360681001"]),
}
PHONE = {"width": 390, "height": 844}


@dataclass
class Site:
    port: int
    url: str

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sql(self, query: str) -> list[tuple[Any, ...]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(query))]
        finally:
            engine.dispose()


@dataclass
class Tab:
    page: Any
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    with demo_server(request, tmp_path_factory, USERS) as (port, url):
        yield Site(port, url)


def _tab(browser: Any, site: Site, viewport: dict[str, int]) -> Tab:
    context = browser.new_context(viewport=viewport)
    tab = Tab(context.new_page())
    tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))

    def block(route: Any) -> None:
        if route.request.url.startswith((site.base + "/", "data:")):
            route.continue_()
        else:
            tab.outside.append(route.request.url)
            route.abort()

    tab.page.route("**/*", block)
    return tab


def _sign_in(tab: Tab, site: Site, username: str, secret: str | None = None) -> None:
    page = tab.page
    page.goto(site.base + "/")
    for name in ("username", "password"):
        field_id = page.get_attribute(f"input[name={name}]", "id")
        assert page.locator(f"label[for={field_id}]").count() == 1, f"{name} has no label"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", secret or USERS[username][0])
    with page.expect_navigation():
        page.click("button[type=submit]")


def _fits_the_phone(tab: Tab) -> None:
    """No sideways scrolling, every link, button and field at least 44 px tall."""
    page = tab.page
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width == page.evaluate("window.innerWidth") == PHONE["width"]
    small = page.evaluate(
        "[...document.querySelectorAll('a, button, input:not([type=hidden]), textarea')]"
        ".map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])"
        ".filter(([_, h]) => h < 44)"
    )
    assert not small, small


def _worker_cells(site: Site) -> set[str]:
    return {
        r[0]
        for r in site.sql(
            "SELECT c.code FROM worker_cell wc JOIN grid_cell c ON c.id = wc.cell_id "
            "JOIN worker w ON w.id = wc.worker_id WHERE w.source_id = 'W01'"
        )
    }


def _cell_to_open(site: Site, codes: set[str]) -> tuple[str, int, int]:
    """The worker's cell with an 应建未建 unit and the most units: code, units, 应建未建."""
    rows = site.sql(
        "SELECT cell_code, COUNT(*), SUM(CASE WHEN must_have_branch THEN 1 ELSE 0 END) "
        "FROM coverage_unit WHERE run_id = (SELECT MAX(id) FROM coverage_run) GROUP BY cell_code"
    )
    counts = {code: (int(m) > 0, int(n), int(m)) for code, n, m in rows if code in codes}
    code = max(sorted(counts), key=lambda c: counts[c][:2])
    return code, counts[code][1], counts[code][2]


def test_a_worker_on_a_phone(browser: Any, site: Site, tmp_path: Path) -> None:
    tab = _tab(browser, site, PHONE)
    page = tab.page
    _sign_in(tab, site, "wang")
    assert page.url == site.base + "/cells"
    own = _worker_cells(site)
    links = page.eval_on_selector_all(
        "a.cell-link", "as => as.map(a => [a.getAttribute('href'), a.innerText])"
    )
    shown = {text.split()[0] for _, text in links}
    assert shown == own
    assert all(href == f"/cells/{text.split()[0]}" for href, text in links)
    _fits_the_phone(tab)
    page.screenshot(path=str(tmp_path / "cells.png"), full_page=True)

    code, units, must = _cell_to_open(site, own)
    assert must > 0, "the demo gives W01 a cell with an 应建未建 unit"
    page.click(f"a.cell-link[href='/cells/{code}']")
    page.wait_for_url(f"**/cells/{code}")
    assert page.locator("li.unit").count() == units
    assert page.locator("li.unit .station").count() == units
    assert page.locator("li.unit .badge").count() == must
    _fits_the_phone(tab)
    page.screenshot(path=str(tmp_path / "cell.png"), full_page=True)

    first = page.locator("li.unit").first
    unit_id = first.get_attribute("id")
    note = f"走访测试 {os.getpid()}：支部筹建中"
    first.locator("textarea[name=note]").fill(note)
    with page.expect_navigation():
        first.locator("button[type=submit]").click()
    history = page.locator(f"#{unit_id} .visits .visit-note")
    assert note in history.all_inner_texts()
    assert page.locator("[role=status]").inner_text() == "走访记录已保存。"
    page.screenshot(path=str(tmp_path / "visit.png"), full_page=True)

    assert tab.errors == []
    other = site.sql(
        "SELECT c.code, c.name FROM grid_cell c JOIN worker_cell wc ON wc.cell_id = c.id "
        "JOIN worker w ON w.id = wc.worker_id WHERE w.source_id = 'W02' ORDER BY c.code LIMIT 1"
    )[0]
    response = page.goto(f"{site.base}/cells/{other[0]}")
    assert response is not None and response.status == 404
    assert page.locator("li.unit").count() == 0 and "未找到" in page.inner_text("h1")
    assert other[0] not in page.inner_text("main")
    page.screenshot(path=str(tmp_path / "other.png"), full_page=True)
    assert tab.outside == []
    assert all("404" in e for e in tab.errors)  # Chromium logs the 404 answer itself
    page.context.close()


def test_a_department_lands_on_the_dashboard(browser: Any, site: Site, tmp_path: Path) -> None:
    tab = _tab(browser, site, {"width": 1280, "height": 800})
    _sign_in(tab, site, "xiong")
    page = tab.page
    assert page.url == site.base + "/dashboard"
    table = page.inner_text("table.rates")
    for label in ("组织覆盖率", "工作覆盖率", "综合覆盖率", "服务覆盖率", "应建未建"):
        assert label in table
    assert "%" in table
    page.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    page.goto(site.base + "/dashboard?lang=en")
    assert "Organisational coverage rate" in page.inner_text("table.rates")
    assert tab.outside == [] and tab.errors == []
    page.context.close()


def test_a_wrong_password_shows_in_the_page(browser: Any, site: Site, tmp_path: Path) -> None:
    tab = _tab(browser, site, PHONE)
    _sign_in(tab, site, "wang", "not-the-password")
    page = tab.page
    assert page.url == site.base + "/"
    assert "用户名或密码错误" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=username]") == "wang"
    _fits_the_phone(tab)
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
    assert tab.outside == []
    assert all("401" in e for e in tab.errors)  # Chromium logs the 401 answer itself
    page.context.close()
