"""Sign-in, sessions, CSRF, headers, limits, error shape, stored results: on both stores."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import delete, func, select, update
from web_support import CELL_A1, World, bearer, login, password, settings_for

import gridmap.coverage.run
from gridmap.errors import ConfigurationError
from gridmap.settings import Settings
from gridmap.store import models
from gridmap.web import create_app


def _login(client: TestClient, username: str, secret: str) -> Any:
    return client.post("/api/auth/login", json={"username": username, "password": secret})


def test_five_failed_logins_lock_the_account_and_say_nothing_more(client: TestClient) -> None:
    unknown = _login(client, "nobody-at-all", "whatever-password")
    for _ in range(5):
        assert _login(client, "worker", "not the password").status_code == 401
    locked = _login(client, "worker", password("worker"))
    assert locked.status_code == unknown.status_code == 401
    assert locked.json() == unknown.json()
    assert "worker" not in locked.text and "nobody" not in unknown.text
    assert _login(client, "admin", password("admin")).status_code == 200  # others unaffected


def test_lockout_length_and_count_come_from_settings(world: World) -> None:
    settings = settings_for(world.store, max_failed_logins=2, lockout_minutes=1)
    with TestClient(create_app(settings)) as client:
        for _ in range(2):
            _login(client, "planner", "wrong wrong wrong")
        assert _login(client, "planner", password("planner")).status_code == 401
        with world.store.engine.connect() as conn:
            until = conn.execute(
                select(models.User.locked_until).where(models.User.username == "planner")
            ).scalar()
        assert until is not None


def test_login_sets_an_httponly_samesite_cookie_and_writes_need_csrf(
    client: TestClient, world: World
) -> None:
    response = _login(client, "worker", password("worker"))
    body = response.json()
    assert body["token_type"] == "bearer" and body["role"] == "worker"
    cookies = response.headers.get_list("set-cookie")
    session = next(c for c in cookies if c.startswith("gridmap_session="))
    assert "HttpOnly" in session and "samesite=strict" in session.lower()
    assert client.get("/api/me").json()["username"] == "worker"  # the cookie alone reads
    visit = {"unit_id": world.unit_a1, "note": "走访"}
    refused = client.post("/api/visits", json=visit)
    assert refused.status_code == 403 and "X-CSRF-Token" in refused.json()["detail"]
    wrong = client.post("/api/visits", json=visit, headers={"X-CSRF-Token": "0" * 64})
    assert wrong.status_code == 403
    csrf = client.cookies["gridmap_csrf"]
    assert client.post("/api/visits", json=visit, headers={"X-CSRF-Token": csrf}).status_code == 201
    client.cookies.clear()
    token = body["access_token"]
    assert client.post("/api/visits", json=visit, headers=bearer(token)).status_code == 201


def test_logout_and_expiry_end_a_session(client: TestClient, world: World) -> None:
    token = login(client, "department")
    client.cookies.clear()
    assert client.post("/api/auth/logout", headers=bearer(token)).status_code == 204
    assert client.get("/api/me", headers=bearer(token)).status_code == 401
    token = login(client, "department")
    client.cookies.clear()
    with world.store.engine.begin() as conn:
        conn.execute(update(models.WebSession).values(expires_at=dt.datetime(2026, 1, 1)))
    expired = client.get("/api/me", headers=bearer(token))
    assert expired.status_code == 401 and expired.json()["code"] == "unauthenticated"


def test_security_headers_and_docs_without_inline_scripts_or_cdn(client: TestClient) -> None:
    for path in ("/health", "/api/me", "/docs", "/redoc"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        script_src = re.search(r"script-src ([^;]*)", csp)
        assert script_src and script_src.group(1) == "'self'", csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
    for page in ("/docs", "/redoc"):
        html = client.get(page).text
        scripts = re.findall(r"<script([^>]*)>(.*?)</script>", html, flags=re.S)
        assert scripts and all('src="/static/' in attrs and not body for attrs, body in scripts)
        assert "http" not in html  # no CDN
        for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', html):
            assert client.get(asset).status_code == 200, asset


def test_bodies_over_the_limit_answer_413(client: TestClient, world: World) -> None:
    token = login(client, "worker")
    big = {"unit_id": world.unit_a1, "note": "x" * 30_000}
    response = client.post("/api/visits", json=big, headers=bearer(token))
    assert response.status_code == 413
    assert set(response.json()) == {"detail", "code"} and response.json()["code"] == "too_large"


def test_every_error_has_one_shape(client: TestClient) -> None:
    token = login(client, "admin")
    answers = {
        "unknown route": client.get("/api/nothing-here", headers=bearer(token)),
        "wrong method": client.delete("/api/cells", headers=bearer(token)),
        "bad query": client.get("/api/cells?limit=5000", headers=bearer(token)),
        "bad json": client.post(
            "/api/auth/login", content=b"{not json", headers={"content-type": "application/json"}
        ),
        "nul": client.post("/api/auth/login", json={"username": "a\x00b", "password": "x"}),
    }
    for what, answer in answers.items():
        assert 400 <= answer.status_code < 500, what
        body = answer.json()
        assert isinstance(body["detail"], str) and isinstance(body["code"], str), what
    assert answers["bad query"].json()["errors"][0]["loc"] == ["query", "limit"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/runs/9223372036854775808",
        "/api/runs/18446744073709551616",
        "/api/units/9223372036854775808",
        f"/api/cells/{CELL_A1}?run=9223372036854775808",
        "/api/cells?run=-9223372036854775809",
        "/api/jobs/9223372036854775808",
        "/api/cells/%00",
        "/api/areas/%E7%BD%91%00",
    ],
)
def test_ids_and_codes_no_row_can_have_answer_404(client: TestClient, path: str) -> None:
    response = client.get(path, headers=bearer(login(client, "admin")))
    assert response.status_code == 404, response.text


def test_cell_page_comes_from_stored_results(
    client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_recompute(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("a request recomputed the run")

    monkeypatch.setattr(gridmap.coverage.run, "compute_coverage", no_recompute)
    with world.store.engine.begin() as conn:  # the records move on after the run
        conn.execute(delete(models.Station))
    body = client.get(f"/api/cells/{CELL_A1}", headers=bearer(login(client, "worker"))).json()
    assert (body["status"], body["units_total"], body["units_covered"]) == ("partial", 2, 1)
    by_id = {u["unit_id"]: u for u in body["units"]}
    assert by_id[world.unit_a1]["name"] == "<b>近的企业</b>"  # kept as given; pages escape it
    assert by_id[world.unit_a1]["service_covered"] is True
    assert by_id[world.unnamed_a1]["name"] is None  # an unnamed OSM unit is not a 500
    assert by_id[world.unnamed_a1]["lon"] == pytest.approx(117.219)


def test_default_secret_is_refused_outside_development(world: World) -> None:
    for environment in ("test", "production"):
        with pytest.raises(ConfigurationError, match="GRIDMAP_SECRET_KEY"):
            create_app(
                Settings(_env_file=None, database_url=world.store.url, environment=environment)
            )
    create_app(Settings(_env_file=None, database_url=world.store.url))  # development: fine


def test_visits_are_idempotent_and_changes_wait_for_confirmation(
    client: TestClient, world: World
) -> None:
    worker, department = login(client, "worker"), login(client, "department")
    visit = {
        "unit_id": world.unnamed_a1,
        "note": "已成立支部",
        "lon": 117.2190,
        "lat": 28.29,
        "crs": "gcj02",
        "accuracy_m": 8.5,
        "change": {"kind": "members", "party_members": 12},
    }
    key = {"Idempotency-Key": "phone-1-visit-7", **bearer(worker)}
    first = client.post("/api/visits", json=visit, headers=key)
    again = client.post("/api/visits", json={**visit, "note": "重发"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and first.json()["lon"] != 117.2190  # shifted to WGS-84
    assert (first.json()["location_crs"], first.json()["accuracy_m"]) == ("gcj02", 8.5)
    with world.store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(models.Visit)).scalar() == 1
        members = conn.execute(
            select(models.Unit.party_members).where(models.Unit.id == world.unnamed_a1)
        )
        assert members.scalar() == 4  # pending: the records are untouched
    change = client.get("/api/changes?status=pending", headers=bearer(department)).json()
    change_id = change["items"][0]["id"]
    confirmed = client.post(f"/api/changes/{change_id}/confirm", headers=bearer(department))
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert (
        client.post(f"/api/changes/{change_id}/confirm", headers=bearer(department)).status_code
        == 400
    )
    with world.store.engine.connect() as conn:
        members = conn.execute(
            select(models.Unit.party_members).where(models.Unit.id == world.unnamed_a1)
        )
        assert members.scalar() == 12
    audit = client.get("/api/audit?action=change.confirm", headers=bearer(login(client, "admin")))
    entry = audit.json()["items"][0]
    assert entry["actor"] == "department"
    assert entry["detail"]["before"]["party_members"] == 4
    assert entry["detail"]["after"]["party_members"] == 12
    _login(client, "nobody", "wrong password")
    log = client.get("/api/audit?limit=1000", headers=bearer(login(client, "admin"))).json()
    actions = {e["action"] for e in log["items"]}
    assert {"login", "login.failed", "visit.create", "change.confirm", "user.add"} <= actions


def test_a_run_started_from_the_web_is_a_background_job(client: TestClient, world: World) -> None:
    token = login(client, "department")
    started = client.post(
        "/api/runs", json={"label": "网页", "meters": 2000}, headers=bearer(token)
    )
    assert started.status_code == 202 and started.json()["status"] in ("queued", "running", "done")
    job = client.get(f"/api/jobs/{started.json()['id']}", headers=bearer(token)).json()
    assert job["status"] == "done" and job["run_id"] > world.run
    cells = client.get(f"/api/cells?run={job['run_id']}", headers=bearer(token)).json()
    assert {c["status"] for c in cells["items"]} == {"covered"}  # 2 km reaches every unit
    bad = client.post("/api/runs", json={"meters": 10, "minutes": 5}, headers=bearer(token))
    assert bad.status_code == 400 and "not both" in bad.json()["detail"]
