"""Reported changes on both stores: applied only on confirmation, and the next run shows them."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_support import CELL_A1, World, bearer, login

from gridmap.store import models


def _report(client: TestClient, world: World, change: dict[str, object]) -> int:
    worker = bearer(login(client, "worker"))
    visit = {"unit_id": world.unit_a1, "note": "走访", "change": change}
    assert client.post("/api/visits", json=visit, headers=worker).status_code == 201
    pending = client.get("/api/changes?status=pending", headers=worker).json()["items"]
    return int(pending[0]["id"])


def _unit_status(client: TestClient, token: str, unit_id: int) -> str:
    cell = client.get(f"/api/cells/{CELL_A1}", headers=bearer(token)).json()
    return next(u["org_status"] for u in cell["units"] if u["unit_id"] == unit_id)


def test_a_confirmed_branch_shows_in_the_next_run(client: TestClient, world: World) -> None:
    department = login(client, "department")
    assert _unit_status(client, department, world.unit_a1) == "none"
    change = _report(client, world, {"kind": "branch_set_up", "name": "近的企业党支部"})
    with world.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.PartyOrg)).scalar() == 0
    reply = client.post(f"/api/changes/{change}/confirm", headers=bearer(department))
    assert reply.status_code == 200
    job = client.post("/api/runs", json={}, headers=bearer(department))  # as of today
    assert job.status_code == 202
    assert _unit_status(client, department, world.unit_a1) == "own"  # the newest run


def test_a_rejected_change_touches_nothing(client: TestClient, world: World) -> None:
    department = bearer(login(client, "department"))
    change = _report(client, world, {"kind": "unit_closed"})
    assert client.post(f"/api/changes/{change}/reject", headers=department).status_code == 200
    with world.store.engine.connect() as conn:
        assert conn.execute(select(models.Unit.id).where(models.Unit.id == world.unit_a1)).first()
    other = bearer(login(client, "other_department"))
    second = _report(client, world, {"kind": "unit_closed"})
    assert client.post(f"/api/changes/{second}/confirm", headers=other).status_code == 404
    assert client.post(f"/api/changes/{second}/confirm", headers=department).status_code == 200
    with world.store.engine.connect() as conn:
        closed = conn.execute(
            select(models.Unit.closed_at).where(models.Unit.id == world.unit_a1)
        ).scalar_one()  # closed, not deleted: its visits and reported changes stay history
        visits = conn.execute(
            select(func.count())
            .select_from(models.Visit)
            .where(models.Visit.unit_id == world.unit_a1)
        ).scalar()
    assert closed is not None and visits == 2
    log = client.get("/api/audit?action=change.confirm", headers=bearer(login(client, "admin")))
    assert log.json()["items"][0]["detail"]["before"]["id"] == world.unit_a1
    job = client.post("/api/runs", json={}, headers=department)  # as of today
    assert job.status_code == 202
    cell = client.get(f"/api/cells/{CELL_A1}", headers=department).json()
    assert world.unit_a1 not in {u["unit_id"] for u in cell["units"]}  # the next run
