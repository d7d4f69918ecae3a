"""Shared fixtures: the two store backends and the real data beside the checkout.

Store tests take the ``store`` fixture and run once per backend: SpatiaLite in a
temporary file, and PostGIS in the throwaway cluster that ``make test`` starts
(its URL in ``GRIDMAP_TEST_POSTGIS_URL``). Without that variable the PostGIS
half is skipped, unless ``--require-all-backends`` is given (``make test`` and
CI give it): then a backend that cannot be reached fails the run.
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box
from sqlalchemy import create_engine, text
from web_support import World, seed, settings_for

from gridmap.store import Store, models
from gridmap.web import create_app

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


# The little town: one unit per organisational situation (coverage rules, CLI, practice tests).

TOWN_AS_OF = dt.date(2026, 11, 1)
TOWN_LAT = 28.30
_M_PER_DEG_LON = 111_320 * np.cos(np.radians(TOWN_LAT))


def east(metres: float) -> float:
    """Longitude ``metres`` east of 117.2 at the test latitude."""
    return 117.2 + metres / _M_PER_DEG_LON


def wkb(geom: Any) -> Any:
    return from_shape(geom, srid=4326)


TOWN_RECENT = TOWN_AS_OF - dt.timedelta(days=30)
TOWN_STALE = TOWN_AS_OF - dt.timedelta(days=400)


@pytest.fixture
def town(store: Store) -> Iterator[Store]:
    """Units with one of each organisational situation.

    The hub committee stands 600 m from "hosted" and names it; the township
    centre is 900 m from "none"; the idle station 100 m from "instr".
    """
    with store.session() as s:
        cell = models.GridCell(
            code="C1",
            geom=wkb(MultiPolygon([box(117.19, 28.29, 117.25, 28.31)])),
            source="t",
            source_id="C1",
        )
        s.add(cell)
        s.flush()

        def unit(sid: str, metres: float, members: int, pop: int = 100) -> models.Unit:
            return models.Unit(
                kind="firm",
                name=sid,
                party_members=members,
                population=pop,
                cell_id=cell.id,
                geom=wkb(Point(east(metres), TOWN_LAT)),
                source="t",
                source_id=sid,
            )

        units = {
            "own": unit("own", 0, 5),
            "joint": unit("joint", 5000, 2),
            "hosted": unit("hosted", 10_000, 1),
            "instr": unit("instr", 20_000, 4),
            "none": unit("none", 30_000, 6),
            "idle_own": unit("idle_own", 40_000, 3),
        }
        s.add_all(units.values())
        s.flush()
        orgs = [
            models.PartyOrg(
                kind="branch",
                name="own branch",
                own_unit_id=units["own"].id,
                last_activity=TOWN_RECENT,
                source="t",
                source_id="O1",
            ),
            models.PartyOrg(
                kind="joint_branch",
                name="joint branch",
                last_activity=TOWN_RECENT,
                source="t",
                source_id="O2",
            ),
            models.PartyOrg(
                kind="committee",
                name="hub committee",
                last_activity=TOWN_RECENT,
                geom=wkb(Point(east(10_600), TOWN_LAT)),
                source="t",
                source_id="O3",
            ),
            models.PartyOrg(
                kind="branch",
                name="idle branch",
                own_unit_id=units["idle_own"].id,
                last_activity=TOWN_STALE,
                source="t",
                source_id="O4",
            ),
            models.PartyOrg(
                kind="branch",
                name="future branch",
                own_unit_id=units["none"].id,
                established=TOWN_AS_OF + dt.timedelta(days=10),
                last_activity=TOWN_AS_OF + dt.timedelta(days=15),
                source="t",
                source_id="O5",
            ),
        ]
        s.add_all(orgs)
        instructor = models.Instructor(name="指导员", source="t", source_id="I1")
        s.add(instructor)
        s.flush()
        s.add(models.OrgUnit(org_id=orgs[1].id, unit_id=units["joint"].id))
        s.add(models.OrgUnit(org_id=orgs[2].id, unit_id=units["hosted"].id))  # the hub names it
        s.add(models.InstructorUnit(instructor_id=instructor.id, unit_id=units["instr"].id))
        s.add_all(
            [
                models.Station(
                    tier="community",
                    name="S near own",
                    last_activity=TOWN_RECENT,
                    geom=wkb(Point(east(250), TOWN_LAT)),
                    source="t",
                    source_id="S1",
                ),
                models.Station(
                    tier="community",
                    name="S idle",
                    last_activity=TOWN_STALE,
                    geom=wkb(Point(east(20_100), TOWN_LAT)),
                    source="t",
                    source_id="S2",
                ),
                models.Station(
                    tier="township",
                    name="S township",
                    last_activity=TOWN_RECENT,
                    geom=wkb(Point(east(30_900), TOWN_LAT)),
                    source="t",
                    source_id="S3",
                ),
            ]
        )
    yield store


@pytest.fixture(scope="module")
def shenzhen() -> Any:
    """The real Shenzhen (Futian) road graph of ``shared/data``, in metres (UTM-like)."""
    import networkx as nx
    from pyproj import Transformer

    from gridmap.crs import metric_crs_for
    from gridmap.network import RoadGraph

    raw = nx.read_graphml(SHARED_DATA / "osm/shenzhen_futian_roads.graphml")
    to_metric = Transformer.from_crs(4326, metric_crs_for(114.05, 22.54), always_xy=True)
    for _, data in raw.nodes(data=True):
        data["x"], data["y"] = to_metric.transform(float(data["x"]), float(data["y"]))
    return RoadGraph.from_networkx(raw, weight="length", crs=to_metric.target_crs)


# -- the web tests' small world (tests/web_support.py) and a client of its app -----------


@pytest.fixture
def world(store: Store) -> World:
    """Two townships, three cells, two workers, every role (tests/web_support.py)."""
    return seed(store)


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    """The web app on ``world``'s store; modules with another app define their own."""
    with TestClient(create_app(settings_for(world.store))) as test_client:
        yield test_client
