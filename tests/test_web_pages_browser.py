"""The pages in headless Chromium against a real ``gridmap serve`` on the demo store, with
users from ``gridmap user add``: a worker on a phone (390x844) and a department on a desktop.
Every request off the loopback server is blocked and counted; screenshots go to tmp_path."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from served_demo import PHONE, Site, fits_the_phone, open_tab, served_site, sign_in

pytestmark = [pytest.mark.slow, pytest.mark.browser]

USERS = {
    "wang": ("worker-w01-password", ["--role", "worker", "--worker", "W01"]),
    "xiong": ("department-town-pw", ["--role", "department", "--area", "360681001"]),
}


site = served_site(USERS)


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
    tab = open_tab(browser, site, PHONE)
    page = tab.page
    sign_in(tab, site, "wang")
    assert page.url == site.base + "/cells"
    own = _worker_cells(site)
    links = page.eval_on_selector_all(
        "a.cell-link", "as => as.map(a => [a.getAttribute('href'), a.innerText])"
    )
    shown = {text.split()[0] for _, text in links}
    assert shown == own
    assert all(href == f"/cells/{text.split()[0]}" for href, text in links)
    fits_the_phone(tab.page)
    page.screenshot(path=str(tmp_path / "cells.png"), full_page=True)

    code, units, must = _cell_to_open(site, own)
    assert must > 0, "the demo gives W01 a cell with an 应建未建 unit"
    page.click(f"a.cell-link[href='/cells/{code}']")
    page.wait_for_url(f"**/cells/{code}")
    assert page.locator("li.unit").count() == units
    assert page.locator("li.unit .station").count() == units
    assert page.locator("li.unit .badge").count() == must
    fits_the_phone(tab.page)
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
    tab = open_tab(browser, site, {"width": 1280, "height": 800})
    sign_in(tab, site, "xiong")
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
    tab = open_tab(browser, site, PHONE)
    sign_in(tab, site, "wang", "not-the-password")
    page = tab.page
    assert page.url == site.base + "/"
    assert "用户名或密码错误" in page.inner_text("[role=alert]")
    assert page.input_value("input[name=username]") == "wang"
    fits_the_phone(tab.page)
    page.screenshot(path=str(tmp_path / "refused.png"), full_page=True)
    assert tab.outside == []
    assert all("401" in e for e in tab.errors)  # Chromium logs the 401 answer itself
    page.context.close()
