"""Tasks (派单) through the API on both stores: made from an 应建未建 unit or a blind zone for
the worker of the cell, seen only inside the scope, completed with a visit whose change a
department confirms, and the next coverage run shows the unit covered. Every step audited."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select
from web_support import CELL_A1, CELL_A2, CELL_B1, USERS, World, bearer, login, seed, settings_for

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.settings import Settings
from gridmap.store import Store, models, table_of
from gridmap.web import create_app


@dataclass
class Api:
    world: World
    client: TestClient
    tokens: dict[str, str]

    def as_(self, role: str, key: str | None = None) -> dict[str, str]:
        headers = bearer(self.tokens[role])
        return headers | ({"Idempotency-Key": key} if key else {})


@pytest.fixture
def api(store: Store) -> Iterator[Api]:
    world = seed(store)
    with TestClient(create_app(settings_for(store))) as client:
        yield Api(world, client, {u: login(client, u) for u in USERS})


def _make(api: Api, kind: str, ref: object, role: str = "department") -> dict[str, object]:
    made = api.client.post(
        "/api/tasks",
        json={"kind": kind, "ref": str(ref), "due": "2026-12-31", "note": "请走访"},
        headers=api.as_(role),
    )
    assert made.status_code == 201, made.text
    body: dict[str, object] = made.json()
    return body


def _worker_id(store: Store, source_id: str) -> int:
    workers = table_of(models.Worker)
    with store.engine.connect() as conn:
        return int(
            conn.execute(select(workers.c.id).where(workers.c.source_id == source_id)).scalar_one()
        )


def _audit(store: Store, action: str) -> list[dict[str, object]]:
    audit = table_of(models.AuditLog)
    with store.engine.connect() as conn:
        rows = conn.execute(select(audit).where(audit.c.action == action)).all()
    return [dict(r._mapping) for r in rows]


def test_a_task_goes_to_the_worker_of_the_units_cell(api: Api) -> None:
    task = _make(api, "must_build", api.world.unit_a1)
    assert task["cell_code"] == CELL_A1 and task["status"] == "open"
    assert task["assignee_id"] == _worker_id(api.world.store, "W01")
    assert task["unit_id"] == api.world.unit_a1 and task["due"] == "2026-12-31"
    assert task["title"] == "<b>近的企业</b>"
    made = _audit(api.world.store, "task.create")
    assert [(r["actor"], r["entity_id"]) for r in made] == [("department", task["id"])]


def test_tasks_are_seen_only_inside_the_scope(api: Api) -> None:
    task = _make(api, "must_build", api.world.unit_a1)
    seen = {
        role: api.client.get("/api/tasks", headers=api.as_(role)).json()["total"] for role in USERS
    }
    assert seen == {
        "admin": 1,
        "department": 1,
        "planner": 1,
        "worker": 1,
        "other_worker": 0,
        "other_department": 0,
    }
    for role in ("other_worker", "other_department"):
        one = api.client.get(f"/api/tasks/{task['id']}", headers=api.as_(role))
        assert one.status_code == 404 and str(task["title"]) not in one.text
    refused = api.client.post(
        f"/api/tasks/{task['id']}/complete", json={"note": "x"}, headers=api.as_("other_worker")
    )
    assert refused.status_code == 404
    assert api.client.get(f"/api/tasks/{task['id']}", headers=api.as_("worker")).json()[
        "status"
    ] == ("open")


def test_a_task_outside_the_area_cannot_be_made(api: Api) -> None:
    outside = api.client.post(
        "/api/tasks",
        json={"kind": "must_build", "ref": str(api.world.unit_b1)},
        headers=api.as_("department"),
    )
    assert outside.status_code == 404
    by_worker = api.client.post(
        "/api/tasks", json={"kind": "blind_zone", "ref": CELL_A1}, headers=api.as_("worker")
    )
    assert by_worker.status_code == 403
    _make(api, "blind_zone", CELL_B1, role="other_department")  # their own area: fine


def test_a_blind_zone_needs_a_worker_and_a_blind_cell(api: Api) -> None:
    task = _make(api, "blind_zone", CELL_A1)  # partial: one of two units uncovered
    assert task["unit_id"] is None and task["title"] == "网格001"
    again = api.client.post(
        "/api/tasks", json={"kind": "blind_zone", "ref": CELL_A1}, headers=api.as_("department")
    )
    assert again.status_code == 400 and f"task {task['id']}" in again.json()["detail"]
    nobody = api.client.post(
        "/api/tasks", json={"kind": "blind_zone", "ref": CELL_A2}, headers=api.as_("department")
    )
    assert nobody.status_code == 400 and "no grid worker" in nobody.json()["detail"]


def test_completing_a_unitless_task_needs_a_unit_of_its_cell(api: Api) -> None:
    task = _make(api, "blind_zone", CELL_A1)
    url = f"/api/tasks/{task['id']}/complete"
    missing = api.client.post(url, json={"note": "走访"}, headers=api.as_("worker"))
    assert missing.status_code == 400 and "unit_id" in missing.json()["detail"]
    elsewhere = api.client.post(
        url, json={"note": "走访", "unit_id": api.world.unit_a2}, headers=api.as_("worker")
    )
    assert elsewhere.status_code == 400
    done = api.client.post(
        url, json={"note": "走访", "unit_id": api.world.unnamed_a1}, headers=api.as_("worker")
    )
    assert done.status_code == 200 and done.json()["status"] == "done"


def _org_status(store: Store, unit_id: int) -> tuple[str, float]:
    result = run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 12, 15)
    )
    units = result.units.set_index("unit_id")
    return str(units.loc[unit_id, "org_status"]), float(result.totals["org_rate"])


def test_the_loop_closes_and_the_next_run_moves(api: Api) -> None:
    task = _make(api, "must_build", api.world.unit_a1)
    assert _org_status(api.world.store, api.world.unit_a1)[0] == "none"
    url = f"/api/tasks/{task['id']}/complete"
    body = {"note": "支部已成立", "change": {"kind": "branch_set_up", "members": 4}}
    done = api.client.post(url, json=body, headers=api.as_("worker", "visit-1"))
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "done" and done.json()["visit_id"] is not None
    replay = api.client.post(url, json=body, headers=api.as_("worker", "visit-1"))
    assert replay.status_code == 200 and replay.json()["visit_id"] == done.json()["visit_id"]
    twice = api.client.post(url, json=body, headers=api.as_("worker", "visit-2"))
    assert twice.status_code == 400 and "done already" in twice.json()["detail"]
    visits = api.client.get("/api/visits", headers=api.as_("department")).json()
    assert visits["total"] == 1 and visits["items"][0]["note"] == "支部已成立"

    pending = api.client.get("/api/changes?status=pending", headers=api.as_("department")).json()
    assert [c["kind"] for c in pending["items"]] == ["branch_set_up"]
    before = _org_status(api.world.store, api.world.unit_a1)
    assert before[0] == "none"  # not applied before a department confirms it
    change = pending["items"][0]["id"]
    confirmed = api.client.post(f"/api/changes/{change}/confirm", headers=api.as_("department"))
    assert confirmed.status_code == 200
    after = _org_status(api.world.store, api.world.unit_a1)
    assert after[0] == "own" and after[1] > before[1]
    actions = {a: len(_audit(api.world.store, a)) for a in ("task.complete", "change.confirm")}
    assert actions == {"task.complete": 1, "change.confirm": 1}


def test_cancel_by_a_department_only(api: Api) -> None:
    task = _make(api, "must_build", api.world.unit_a1)
    url = f"/api/tasks/{task['id']}/cancel"
    assert api.client.post(url, headers=api.as_("worker")).status_code == 403
    assert api.client.post(url, headers=api.as_("other_department")).status_code == 404
    cancelled = api.client.post(url, json={"reason": "重复"}, headers=api.as_("department"))
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert api.client.post(url, headers=api.as_("department")).status_code == 400
    done = api.client.post(
        f"/api/tasks/{task['id']}/complete", json={"note": "x"}, headers=api.as_("worker")
    )
    assert done.status_code == 400
    (row,) = _audit(api.world.store, "task.cancel")
    assert row["detail"] == {"before": {"status": "open"}, "after": {"status": "cancelled"},
                             "reason": "重复"}  # fmt: skip


def test_open_tasks_come_first(api: Api) -> None:
    first = _make(api, "must_build", api.world.unit_a1)
    second = _make(api, "must_build", api.world.unnamed_a1)
    api.client.post(f"/api/tasks/{first['id']}/cancel", headers=api.as_("department"))
    listed = api.client.get("/api/tasks", headers=api.as_("worker")).json()["items"]
    assert [t["id"] for t in listed] == [second["id"], first["id"]]
    only_open = api.client.get("/api/tasks?status=open", headers=api.as_("worker")).json()
    assert only_open["total"] == 1


def _org(store: Store, **values: object) -> int:
    orgs = table_of(models.PartyOrg)
    row = {"kind": "branch", "source": "t", "last_activity": dt.date(2025, 1, 1)} | values
    with store.engine.begin() as conn:
        return int(conn.execute(orgs.insert().values(**row).returning(orgs.c.id)).scalar_one())


def test_idle_organisations_and_stations_go_to_the_worker_of_their_cell(api: Api) -> None:
    store = api.world.store
    own = _org(store, name="企业党支部", source_id="o1", own_unit_id=api.world.unit_a1)
    placed = _org(store, name="孤立支部", source_id="o2",
                  geom=from_shape(Point(117.215, 28.295), 4326))  # fmt: skip
    nowhere = _org(store, name="无位置支部", source_id="o3")
    # the newest run judges them: none is known to it yet
    unjudged = api.client.post(
        "/api/tasks", json={"kind": "idle_org", "ref": str(own)}, headers=api.as_("department")
    )
    assert unjudged.status_code == 400 and "run coverage again" in unjudged.text
    stations = table_of(models.Station)
    with store.engine.begin() as conn:  # the station last active over a year before the run
        conn.execute(stations.update().values(last_activity=dt.date(2025, 6, 1)))
    run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 11, 1)
    )
    by_unit = _make(api, "idle_org", own)
    assert (by_unit["cell_code"], by_unit["unit_id"], by_unit["org_id"]) == (
        CELL_A1, api.world.unit_a1, own,
    )  # fmt: skip
    assert _make(api, "idle_org", placed)["cell_code"] == CELL_A1
    lost = api.client.post(
        "/api/tasks", json={"kind": "idle_org", "ref": str(nowhere)}, headers=api.as_("department")
    )
    assert lost.status_code == 404
    station = _make(api, "idle_station", api.world.station)
    assert station["cell_code"] == CELL_A1 and station["station_id"] == api.world.station
    outside = api.client.post(
        "/api/tasks",
        json={"kind": "idle_station", "ref": str(api.world.station)},
        headers=api.as_("other_department"),
    )
    assert outside.status_code == 404
    active = _org(store, name="活跃支部", source_id="o4", own_unit_id=api.world.unit_a2,
                  last_activity=dt.date(2026, 10, 20))  # fmt: skip
    run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 11, 1)
    )
    refused = api.client.post(
        "/api/tasks", json={"kind": "idle_org", "ref": str(active)}, headers=api.as_("department")
    )
    assert refused.status_code == 400 and "is active in run" in refused.text
    done = api.client.post(
        f"/api/tasks/{station['id']}/complete",
        json={"note": "服务站已恢复活动", "unit_id": api.world.unit_a1,
              "change": {"kind": "station_active", "station_id": api.world.station}},
        headers=api.as_("worker"),
    )  # fmt: skip
    assert done.status_code == 200, done.text
