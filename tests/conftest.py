"""Shared fixtures: the two store backends and the real data beside the checkout.

Store tests take the ``store`` fixture and run once per backend: SpatiaLite in a
temporary file, and PostGIS in the throwaway cluster that ``make test`` starts
(its URL in ``GRIDMAP_TEST_POSTGIS_URL``). Without that variable the PostGIS
half is skipped, unless ``--require-all-backends`` is given (``make test`` and
CI give it): then a backend that cannot be reached fails the run.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

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
