"""The demo store behind a real ``gridmap serve`` process, with users from ``gridmap user add``:
what the end-to-end web tests (API and pages) start once per backend; and what the browser
tests share on top of it: the served :class:`Site`, a :class:`Tab` that blocks and counts
every request off the loopback server, signing in, and the phone's layout checks."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from conftest import BACKENDS, _postgis_url, _reset_postgis
from sqlalchemy import create_engine, text

Users = Mapping[str, tuple[str, Sequence[str]]]

GRIDMAP = [sys.executable, "-m", "gridmap"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gridmap serve exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gridmap serve did not start listening within 60 s")


@contextmanager
def demo_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    users: Users,
) -> Iterator[tuple[int, str]]:
    """Run ``gridmap demo`` on the backend ``request.param`` names, add ``users``
    (name -> password, ``user add`` options) and serve it; yields the port and the store URL."""
    work = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{work / 'gridmap.sqlite'}"
    if request.param == "postgis":
        url = _postgis_url(request.config) or ""
        _reset_postgis(url)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    env.pop("GRIDMAP_ENVIRONMENT", None)
    subprocess.run([*GRIDMAP, "demo"], cwd=work, env=env, check=True, capture_output=True)
    for name, (secret, args) in users.items():
        subprocess.run(
            [*GRIDMAP, "user", "add", name, *args, "--password-stdin"],
            cwd=work, env=env, input=f"{secret}\n".encode(), check=True, capture_output=True,
        )  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [*GRIDMAP, "serve", "--port", str(port)],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(port, process)
        yield port, url
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Site:
    """A served demo store: its address, and a direct line to its database for the checks."""

    port: int
    url: str
    passwords: Mapping[str, str] = field(default_factory=dict)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def sql(self, query: str, **params: Any) -> list[tuple[Any, ...]]:
        engine = create_engine(self.url)
        try:
            with engine.connect() as conn:
                return [tuple(r) for r in conn.execute(text(query), params)]
        finally:
            engine.dispose()

    def visits_with(self, note: str) -> int:
        return int(self.sql("SELECT COUNT(*) FROM visit WHERE note = :n", n=note)[0][0])


def served_site(users: Users) -> Callable[..., Iterator[Site]]:
    """A module fixture ``site``: the demo served on each backend with ``users`` added."""

    @pytest.fixture(scope="module", params=BACKENDS, name="site")
    def site(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> Iterator[Site]:
        with demo_server(request, tmp_path_factory, users) as (port, url):
            yield Site(port, url, {name: secret for name, (secret, _) in users.items()})

    return site


@dataclass
class Tab:
    """A page in its own browser context, with its console errors and outside requests."""

    page: Any
    errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)

    @property
    def context(self) -> Any:
        return self.page.context


def open_tab(browser: Any, site: Site, viewport: Mapping[str, int], **options: Any) -> Tab:
    """A new context and page (``options`` go to the context) that counts console errors and
    blocks, and counts, every request off the served site: the service worker's too."""
    context = browser.new_context(viewport=dict(viewport), **options)
    tab = Tab(context.new_page())

    def block(route: Any) -> None:
        if route.request.url.startswith((site.base + "/", "data:")):
            route.continue_()
        else:
            tab.outside.append(route.request.url)
            route.abort()

    context.route("**/*", block)
    tab.page.on("console", lambda m: tab.errors.append(m.text) if m.type == "error" else None)
    tab.page.on("pageerror", lambda e: tab.errors.append(str(e)))
    return tab


def sign_in(tab: Tab, site: Site, username: str, password: str | None = None) -> None:
    """Log in through the form at ``/`` (each field with its label) with the user's password
    (or ``password``); returns once the next page has loaded."""
    page = tab.page
    page.goto(site.base + "/")
    for name in ("username", "password"):
        field_id = page.get_attribute(f"input[name={name}]", "id")
        assert page.locator(f"label[for={field_id}]").count() == 1, f"{name} has no label"
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", site.passwords[username] if password is None else password)
    with page.expect_navigation():
        page.click("button[type=submit]")


#: The phone the worker's tests hold (CSS pixels).
PHONE = {"width": 390, "height": 844}


def fits_the_phone(page: Any, width: int = PHONE["width"]) -> None:
    """No sideways scrolling; every visible link, button and field at least 44 px tall."""
    assert page.evaluate("document.documentElement.scrollWidth") == width
    assert page.evaluate("window.innerWidth") == width
    small = page.evaluate(
        "[...document.querySelectorAll('a, button, input:not([type=hidden]), textarea, select,"
        " summary')].filter(e => e.offsetParent !== null)"
        ".map(e => [e.outerHTML.slice(0, 80), e.getBoundingClientRect().height])"
        ".filter(([_, h]) => h < 44)"
    )
    assert not small, small
