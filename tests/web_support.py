"""A small store for the web tests: two townships, three cells, two workers, every role.

Township A (360681001) has cells A1 and A2; township B (360681002) has cell B1. Worker
W01 has A1, worker W02 has B1. Units: a named firm and an unnamed building (OSM units
often have no name) in A1, a firm in A2 and in B1; one station near A1's firm.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box

from gridmap.accounts import add_user
from gridmap.coverage import ReachOptions, run_coverage
from gridmap.settings import Settings
from gridmap.store import Store, models

SECRET = "web-tests-secret-key-0123456789"
TOWN_A, TOWN_B = "360681001", "360681002"
CELL_A1, CELL_A2, CELL_B1 = "360681001001001", "360681001001002", "360681002001001"

#: username -> (role, area, worker source id); passwords are NAME + "-long-password".
USERS: dict[str, tuple[str, str | None, str | None]] = {
    "admin": ("admin", None, None),
    "department": ("department", TOWN_A, None),
    "planner": ("planner", TOWN_A, None),
    "worker": ("worker", None, "W01"),
    "other_worker": ("worker", None, "W02"),
    "other_department": ("department", TOWN_B, None),
}


def password(username: str) -> str:
    return f"pw-{len(username)}-long-secret-phrase"


@dataclass
class World:
    """What the seeded store holds: ids and codes the tests name."""

    store: Store
    unit_a1: int
    unnamed_a1: int
    unit_a2: int
    unit_b1: int
    station: int
    run: int


def _cell(code: str, area: models.AdminArea, x: float) -> models.GridCell:
    return models.GridCell(
        code=code,
        name=f"网格{code[-3:]}",
        area=area,
        source="t",
        source_id=code,
        geom=from_shape(MultiPolygon([box(x, 28.28, x + 0.02, 28.30)]), 4326),
    )


def _unit(cell: models.GridCell, name: str | None, x: float, key: str) -> models.Unit:
    return models.Unit(
        kind="firm" if name else "building",
        name=name,
        cell=cell,
        party_members=4,
        population=10,
        geom=from_shape(Point(x, 28.29), 4326),
        source="t",
        source_id=key,
    )


def _records(store: Store) -> dict[str, int]:
    with store.session() as s:
        county = models.AdminArea(code="360681", name="贵溪市", level="county", source_id="c")
        town_a = models.AdminArea(
            code=TOWN_A, name="雄石街道", level="township", parent=county, source_id="a"
        )
        town_b = models.AdminArea(
            code=TOWN_B, name="东门街道", level="township", parent=county, source_id="b"
        )
        a1, a2 = _cell(CELL_A1, town_a, 117.20), _cell(CELL_A2, town_a, 117.22)
        b1 = _cell(CELL_B1, town_b, 117.30)
        units = [
            _unit(a1, "<b>近的企业</b>", 117.2101, "u1"),
            _unit(a1, None, 117.2190, "u2"),
            _unit(a2, "二号企业", 117.2301, "u3"),
            _unit(b1, "东门企业", 117.3101, "u4"),
        ]
        station = models.Station(
            tier="community",
            name="站",
            last_activity=dt.date(2026, 10, 1),
            geom=from_shape(Point(117.2100, 28.2900), 4326),
            source="t",
            source_id="s",
        )
        w1 = models.Worker(name="王芳", source="sample_workers", source_id="W01")
        w2 = models.Worker(name="李强", source="sample_workers", source_id="W02")
        s.add_all([county, town_a, town_b, a1, a2, b1, *units, station, w1, w2])
        s.flush()
        s.add_all(
            [
                models.WorkerCell(worker_id=w1.id, cell_id=a1.id),
                models.WorkerCell(worker_id=w2.id, cell_id=b1.id),
            ]
        )
        return {
            "unit_a1": units[0].id,
            "unnamed_a1": units[1].id,
            "unit_a2": units[2].id,
            "unit_b1": units[3].id,
            "station": station.id,
        }


def seed(store: Store) -> World:
    """Records, one stored run, and one account per role."""
    ids = _records(store)
    result = run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 11, 1)
    )
    for username, (role, area, worker) in USERS.items():
        add_user(store, username, password(username), role=role, area=area, worker=worker)
    assert result.run_id is not None
    return World(store=store, run=result.run_id, **ids)


def settings_for(store: Store, **web: Any) -> Settings:
    return Settings(
        _env_file=None,
        database_url=store.url,
        secret_key=SECRET,
        web={"max_body_bytes": 20_000, **web},
    )


def login(client: TestClient, username: str, secret: str | None = None) -> str:
    response = client.post(
        "/api/auth/login", json={"username": username, "password": secret or password(username)}
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
