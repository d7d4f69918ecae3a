"""Shared fixtures: the two store backends and the real data beside the checkout.

Store tests take the ``store`` fixture and run once per backend: SpatiaLite in a
temporary file, and PostGIS in the throwaway cluster that ``make test`` starts
(its URL in ``GRIDMAP_TEST_POSTGIS_URL``). Without that variable the PostGIS
half is skipped, unless ``--require-all-backends`` is given (``make test`` and
CI give it): then a backend that cannot be reached fails the run.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from gridmap.store import Store

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = ROOT.parent / "shared" / "data"
BACKENDS = ("spatialite", "postgis")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--require-all-backends",
        action="store_true",
        help="fail, instead of skipping, when a store backend cannot be reached",
    )


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real OSM and administrative data beside the checkout (../shared/data)."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real test data not found at {SHARED_DATA}: clone with ../shared beside it")
    return SHARED_DATA


def _postgis_url(config: pytest.Config) -> str | None:
    url = os.environ.get("GRIDMAP_TEST_POSTGIS_URL")
    if url:
        return url
    if config.getoption("--require-all-backends"):
        pytest.fail("GRIDMAP_TEST_POSTGIS_URL is not set and --require-all-backends was given")
    pytest.skip("PostGIS backend not configured (set GRIDMAP_TEST_POSTGIS_URL or run make test)")
    return None


def _reset_postgis(url: str) -> None:
    """Drop every gridmap table so each test starts from an empty database."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
            conn.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    except Exception as exc:
        pytest.fail(f"PostGIS test database {url} cannot be reached: {exc}")
    finally:
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL for an empty database, once per backend."""
    if request.param == "spatialite":
        return f"sqlite:///{tmp_path / 'gridmap.sqlite'}"
    url = _postgis_url(request.config)
    assert url is not None
    _reset_postgis(url)
    return url


@pytest.fixture
def empty_store(store_url: str) -> Iterator[Store]:
    """A store with no schema yet."""
    store = Store(store_url)
    yield store
    store.dispose()


@pytest.fixture
def store(empty_store: Store) -> Store:
    """A migrated, empty store, once per backend."""
    empty_store.upgrade()
    return empty_store


# -- headless Chromium (Debian's package), every network request blocked ---------------

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@dataclass
class Visit:
    page: Any
    seconds: float
    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)


@pytest.fixture(scope="session")
def browser(request: pytest.FixtureRequest) -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} missing: apt-get install chromium (make test installs it)"
        if request.config.getoption("--require-all-backends"):
            pytest.fail(message)
        pytest.skip(message)
    with _sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_offline(browser: Any, path: Path, *, init_script: str | None = None) -> Visit:
    """Open ``path`` with every non-file request blocked; wait until the map is ready."""
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    visit = Visit(page, 0.0)
    if init_script is not None:
        page.add_init_script(init_script)
    page.on("console", lambda m: visit.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: visit.errors.append(str(e)))

    def block(route: Any) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            visit.requests.append(route.request.url)
            route.abort()

    page.route("**/*", block)
    start = time.perf_counter()
    page.goto(path.as_uri())
    page.wait_for_function("window.GridMap && GridMap.ready", timeout=30_000, polling=50)
    visit.seconds = time.perf_counter() - start
    return visit


def _sync_playwright() -> Any:
    from playwright.sync_api import sync_playwright

    return sync_playwright()
