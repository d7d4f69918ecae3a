"""Every route tried as every role, on both stores: 401 without login, 403 for a role that
may not, 404 (and no data) outside the caller's scope. The matrix is checked against
``app.routes``: a route added without an entry here fails the suite."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount
from web_support import (
    CELL_A1,
    SECRET,
    TOWN_A,
    USERS,
    World,
    bearer,
    login,
    password,
    seed,
    settings_for,
)

from gridmap.accounts import add_user, csrf_token, list_users
from gridmap.store import Store
from gridmap.web import create_app
from gridmap.web.deps import SESSION_COOKIE

ROLES = ("anonymous", *USERS)
IN_A1 = {"admin", "department", "planner", "worker"}  # may see cell A1 and its units
IN_TOWN_A = {"admin", "department", "planner"}  # may see township A's roll-up
DECIDERS = {"admin", "department"}


@dataclass
class Case:
    """How to call a route and what each role gets."""

    path: Callable[[Ctx], str]
    expect: Callable[[str], int]
    body: Callable[[Ctx, str], Any] | None = None
    fresh_token: bool = False  # the call ends the session (logout)
    page: bool = False  # an HTML page: session cookie, form body with the CSRF field


@dataclass
class Ctx:
    world: World
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)

    def new_change(self) -> int:
        """A pending change on a unit of cell A1, reported by worker W01."""
        visit = self.client.post(
            "/api/visits",
            json={
                "unit_id": self.world.unit_a1,
                "note": "新建支部",
                "change": {"kind": "members", "party_members": 9},
            },
            headers=bearer(self.tokens["worker"]),
        )
        assert visit.status_code == 201, visit.text
        changes = self.client.get("/api/changes", headers=bearer(self.tokens["admin"])).json()
        return int(changes["items"][0]["id"])

    def no_open_task(self) -> None:
        """Cancel the open tasks (a second open task for the same thing is refused)."""
        admin = bearer(self.tokens["admin"])
        for open_task in self.client.get("/api/tasks?status=open", headers=admin).json()["items"]:
            self.client.post(f"/api/tasks/{open_task['id']}/cancel", headers=admin)

    def new_task(self) -> int:
        """A fresh open task on the named firm of cell A1 (worker W01's)."""
        self.no_open_task()
        made = self.client.post(
            "/api/tasks",
            json={"kind": "must_build", "ref": str(self.world.unit_a1)},
            headers=bearer(self.tokens["admin"]),
        )
        assert made.status_code == 201, made.text
        return int(made.json()["id"])

    def spare_user(self) -> str:
        """An account the admin pages may change without ending a matrix role's session."""
        if not any(a.username == "spare" for a in list_users(self.world.store)):
            add_user(self.world.store, "spare", password("spare"), role="planner", area=TOWN_A)
        return "spare"

    def job(self) -> int:
        made = self.client.post("/api/runs", json={}, headers=bearer(self.tokens["department"]))
        assert made.status_code == 202, made.text
        return int(made.json()["id"])


def signed_in(ok: int, allowed: set[str] | None = None, outside: int = 404) -> Callable[[str], int]:
    """401 anonymous; ``ok`` for ``allowed`` (every role when None); else ``outside``."""

    def expect(role: str) -> int:
        if role == "anonymous":
            return 401
        return ok if allowed is None or role in allowed else outside

    return expect


def page_signed_in(ok: int, allowed: set[str] | None = None) -> Callable[[str], int]:
    """A page: anonymous is sent to the sign-in page (303), else as :func:`signed_in`."""
    inner = signed_in(ok, allowed)
    return lambda role: 303 if role == "anonymous" else inner(role)


def admin_page(ok: int) -> Callable[[str], int]:
    """An admin page: anonymous to the sign-in page (303), admins ``ok``, anyone else 403."""
    return lambda role: 303 if role == "anonymous" else (ok if role == "admin" else 403)


def dash_page(ok: int, allowed: set[str] | None = None, outside: int = 404) -> Callable[[str], int]:
    """A dashboard route: 303 to sign in, 404 for workers, ``ok`` for ``allowed``."""
    viewers = {"admin", "department", "planner", "other_department"}

    def expect(role: str) -> int:
        if role == "anonymous":
            return 303
        if role not in viewers:
            return 404
        if allowed is None or role in allowed:
            return ok
        return outside if role == "planner" else 404

    return expect


def public(role: str) -> int:
    return 200


MATRIX: dict[tuple[str, str], Case] = {
    ("GET", "/health"): Case(lambda c: "/health", public),
    ("GET", "/docs"): Case(lambda c: "/docs", public),
    ("GET", "/redoc"): Case(lambda c: "/redoc", public),
    ("GET", "/openapi.json"): Case(lambda c: "/openapi.json", public),
    ("MOUNT", "/static"): Case(lambda c: "/static/docs/swagger-init.js", public),
    ("POST", "/api/auth/login"): Case(
        lambda c: "/api/auth/login",
        lambda role: 401 if role == "anonymous" else 200,
        body=lambda c, role: (
            {"username": role, "password": password(role)}
            if role in USERS
            else {"username": "nobody", "password": "x" * 12}
        ),
    ),
    ("POST", "/api/auth/logout"): Case(
        lambda c: "/api/auth/logout", signed_in(204), fresh_token=True
    ),
    ("GET", "/api/me"): Case(lambda c: "/api/me", signed_in(200)),
    ("GET", "/api/cells"): Case(lambda c: "/api/cells", signed_in(200)),
    ("GET", "/api/cells/{code}"): Case(lambda c: f"/api/cells/{CELL_A1}", signed_in(200, IN_A1)),
    ("GET", "/api/units/{unit_id}"): Case(
        lambda c: f"/api/units/{c.world.unit_a1}", signed_in(200, IN_A1)
    ),
    ("GET", "/api/areas/{code}"): Case(lambda c: f"/api/areas/{TOWN_A}", signed_in(200, IN_TOWN_A)),
    ("GET", "/api/areas/{code}/trend"): Case(
        lambda c: f"/api/areas/{TOWN_A}/trend", signed_in(200, IN_TOWN_A)
    ),
    ("GET", "/api/runs"): Case(lambda c: "/api/runs", signed_in(200)),
    ("GET", "/api/runs/{run_id}"): Case(lambda c: f"/api/runs/{c.world.run}", signed_in(200)),
    ("POST", "/api/runs"): Case(
        lambda c: "/api/runs",
        signed_in(202, DECIDERS | {"other_department"}, outside=403),
        body=lambda c, role: {"label": "matrix"},
    ),
    ("GET", "/api/jobs/{job_id}"): Case(
        lambda c: f"/api/jobs/{c.job()}", signed_in(200, {"admin", "department"})
    ),
    ("POST", "/api/visits"): Case(
        lambda c: "/api/visits",
        lambda role: {"anonymous": 401, "worker": 201, "other_worker": 404}.get(role, 403),
        body=lambda c, role: {"unit_id": c.world.unit_a1, "note": "走访"},
    ),
    ("GET", "/api/visits"): Case(lambda c: "/api/visits", signed_in(200)),
    ("GET", "/api/changes"): Case(lambda c: "/api/changes", signed_in(200)),
    ("POST", "/api/changes/{change_id}/confirm"): Case(
        lambda c: f"/api/changes/{c.new_change()}/confirm",
        lambda role: {"anonymous": 401, "other_department": 404}.get(
            role, 200 if role in DECIDERS else 403
        ),
    ),
    ("POST", "/api/changes/{change_id}/reject"): Case(
        lambda c: f"/api/changes/{c.new_change()}/reject",
        lambda role: {"anonymous": 401, "other_department": 404}.get(
            role, 200 if role in DECIDERS else 403
        ),
    ),
    ("GET", "/"): Case(lambda c: "/", lambda role: 200 if role == "anonymous" else 303, page=True),
    ("POST", "/"): Case(
        lambda c: "/",
        lambda role: 401 if role == "anonymous" else 303,
        body=lambda c, role: (
            {"username": role, "password": password(role)}
            if role in USERS
            else {"username": "nobody", "password": "x" * 12}
        ),
        page=True,
    ),
    ("POST", "/logout"): Case(lambda c: "/logout", lambda role: 303, fresh_token=True, page=True),
    ("GET", "/cells"): Case(lambda c: "/cells", page_signed_in(200), page=True),
    ("GET", "/cells/{code}"): Case(
        lambda c: f"/cells/{CELL_A1}", page_signed_in(200, IN_A1), page=True
    ),
    ("POST", "/cells/{code}/visits"): Case(
        lambda c: f"/cells/{CELL_A1}/visits",
        lambda role: {"worker": 303, "other_worker": 404, "other_department": 404}.get(
            role, 303 if role == "anonymous" else 403
        ),
        body=lambda c, role: {"unit_id": str(c.world.unit_a1), "note": "走访"},
        page=True,
    ),
    ("GET", "/cells/{code}/map.geojson"): Case(
        lambda c: f"/cells/{CELL_A1}/map.geojson", signed_in(200, IN_A1), page=True
    ),
    ("GET", "/sw.js"): Case(lambda c: "/sw.js", public),
    ("GET", "/manifest.webmanifest"): Case(lambda c: "/manifest.webmanifest", public),
    ("GET", "/dashboard"): Case(
        lambda c: "/dashboard",
        lambda role: 303 if role in ("anonymous", "worker", "other_worker") else 200,
        page=True,
    ),
    ("GET", "/dashboard/lists/{which}.xlsx"): Case(
        lambda c: f"/dashboard/lists/must.xlsx?area={TOWN_A}", dash_page(200, IN_TOWN_A), page=True
    ),
    ("GET", "/dashboard/cells.geojson"): Case(
        lambda c: "/dashboard/cells.geojson", dash_page(200), page=True
    ),
    ("GET", "/dashboard/layers.json"): Case(
        lambda c: "/dashboard/layers.json", dash_page(200), page=True
    ),
    ("POST", "/dashboard/runs"): Case(
        lambda c: "/dashboard/runs",
        dash_page(303, DECIDERS | {"other_department"}, outside=403),
        body=lambda c, role: {"mode": "radius"},
        page=True,
    ),
    ("POST", "/dashboard/siting"): Case(
        lambda c: "/dashboard/siting",
        dash_page(303, DECIDERS | {"other_department"}, outside=403),
        body=lambda c, role: {"k": "1"},
        page=True,
    ),
    ("GET", "/dashboard/runs/{run_id}/report.xlsx"): Case(
        lambda c: f"/dashboard/runs/{c.world.run}/report.xlsx", dash_page(200), page=True
    ),
    ("GET", "/dashboard/runs/{run_id}/map.html"): Case(
        lambda c: f"/dashboard/runs/{c.world.run}/map.html", dash_page(200), page=True
    ),
    ("GET", "/api/users"): Case(lambda c: "/api/users", signed_in(200, {"admin"}, outside=403)),
    ("GET", "/api/audit"): Case(lambda c: "/api/audit", signed_in(200, {"admin"}, outside=403)),
    # --- tasks (派单), changes and admin pages ---
    ("GET", "/api/tasks"): Case(lambda c: "/api/tasks", signed_in(200)),
    ("POST", "/api/tasks"): Case(
        lambda c: "/api/tasks",
        lambda role: {"anonymous": 401, "other_department": 404}.get(
            role, 201 if role in DECIDERS else 403
        ),
        body=lambda c, role: c.no_open_task() or {"kind": "blind_zone", "ref": CELL_A1},
    ),
    ("GET", "/api/tasks/{task_id}"): Case(
        lambda c: f"/api/tasks/{c.new_task()}", signed_in(200, IN_A1)
    ),
    ("POST", "/api/tasks/{task_id}/complete"): Case(
        lambda c: f"/api/tasks/{c.new_task()}/complete",
        lambda role: {"anonymous": 401, "worker": 200, "other_worker": 404}.get(role, 403),
        body=lambda c, role: {"note": "走访完成"},
    ),
    ("POST", "/api/tasks/{task_id}/cancel"): Case(
        lambda c: f"/api/tasks/{c.new_task()}/cancel",
        lambda role: {"anonymous": 401, "other_department": 404}.get(
            role, 200 if role in DECIDERS else 403
        ),
        body=lambda c, role: {"reason": "matrix"},
    ),
    ("GET", "/tasks"): Case(lambda c: "/tasks", page_signed_in(200), page=True),
    ("GET", "/tasks/new"): Case(
        lambda c: f"/tasks/new?kind=must_build&ref={c.world.unit_a1}",
        lambda role: (
            303
            if role == "anonymous"
            else (200 if "department" in role or role == "admin" else 403)
        ),
        page=True,
    ),
    ("POST", "/tasks/new"): Case(
        lambda c: "/tasks/new",
        lambda role: {"anonymous": 303, "other_department": 404}.get(
            role, 303 if role in DECIDERS else 403
        ),
        body=lambda c, role: (
            c.no_open_task() or {"kind": "blind_zone", "ref": CELL_A1, "due": "2026-12-31"}
        ),
        page=True,
    ),
    ("GET", "/tasks/{task_id}"): Case(
        lambda c: f"/tasks/{c.new_task()}", page_signed_in(200, IN_A1), page=True
    ),
    ("POST", "/tasks/{task_id}/complete"): Case(
        lambda c: f"/tasks/{c.new_task()}/complete",
        lambda role: {
            "anonymous": 303,
            "worker": 303,
            "other_worker": 404,
            "other_department": 404,
        }.get(role, 403),
        body=lambda c, role: {"note": "走访完成", "change": "branch_set_up"},
        page=True,
    ),
    ("POST", "/tasks/{task_id}/cancel"): Case(
        lambda c: f"/tasks/{c.new_task()}/cancel",
        lambda role: {"anonymous": 303, "other_worker": 404, "other_department": 404}.get(
            role, 303 if role in DECIDERS else 403
        ),
        page=True,
    ),
    ("GET", "/changes"): Case(
        lambda c: "/changes",
        lambda role: 303 if role == "anonymous" else (403 if "worker" in role else 200),
        page=True,
    ),
    ("POST", "/changes/{change_id}/confirm"): Case(
        lambda c: f"/changes/{c.new_change()}/confirm",
        lambda role: {"anonymous": 303, "other_department": 404}.get(
            role, 303 if role in DECIDERS else 403
        ),
        page=True,
    ),
    ("POST", "/changes/{change_id}/reject"): Case(
        lambda c: f"/changes/{c.new_change()}/reject",
        lambda role: {"anonymous": 303, "other_department": 404}.get(
            role, 303 if role in DECIDERS else 403
        ),
        page=True,
    ),
    ("GET", "/admin/users"): Case(lambda c: "/admin/users", admin_page(200), page=True),
    ("POST", "/admin/users"): Case(
        lambda c: "/admin/users",
        admin_page(303),
        body=lambda c, role: {
            "username": f"new_{role}",
            "password": "a-long-new-passphrase",
            "role": "planner",
            "area": TOWN_A,
        },
        page=True,
    ),
    ("POST", "/admin/users/{username}/{action}"): Case(
        lambda c: f"/admin/users/{c.spare_user()}/password",
        admin_page(303),
        body=lambda c, role: {"password": "a-fresh-long-secret-9"},
        page=True,
    ),
    ("POST", "/admin/scope"): Case(
        lambda c: "/admin/scope",
        admin_page(303),
        body=lambda c, role: {"username": c.spare_user(), "role": "planner", "area": TOWN_A},
        page=True,
    ),
    ("GET", "/admin/assignments"): Case(lambda c: "/admin/assignments", admin_page(200), page=True),
    ("POST", "/admin/assignments"): Case(
        lambda c: "/admin/assignments",
        admin_page(303),
        body=lambda c, role: {"op": "add", "worker": "W01", "cell": CELL_A1},
        page=True,
    ),
    ("GET", "/admin/audit"): Case(
        lambda c: "/admin/audit?actor=admin&since=2020-01-01", admin_page(200), page=True
    ),
}


def _flat(routes: list[Any]) -> Iterator[Any]:
    """Every route, through included routers (FastAPI >= 0.16x keeps them lazily)."""
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            yield from _flat(inner.routes)  # included without an extra prefix
        else:
            yield route


def _routes(app: Any) -> set[tuple[str, str]]:
    found = set()
    for route in _flat(app.routes):
        if isinstance(route, Mount):
            found.add(("MOUNT", route.path))
            continue
        for method in sorted(getattr(route, "methods", None) or ()):
            if method != "HEAD":
                found.add((method, route.path))
    return found


@pytest.fixture
def ctx(store: Store) -> Iterator[Ctx]:
    world = seed(store)
    with TestClient(create_app(settings_for(store))) as client:
        yield Ctx(world, client, {u: login(client, u) for u in USERS})


def test_every_route_has_a_matrix_entry(store: Store) -> None:
    app = create_app(settings_for(store))
    assert _routes(app) == set(MATRIX), "add the new route to MATRIX with what each role gets"
    assert all(
        isinstance(r, APIRoute | Mount) or r.path == "/openapi.json" for r in _flat(app.routes)
    )


def _leaks(body: Any, ctx: Ctx) -> bool:
    """Whether an error answer carries anything but the message and code."""
    return not isinstance(body, dict) or set(body) - {"detail", "code"} != set()


def test_every_route_as_every_role(ctx: Ctx) -> None:
    failures = []
    for (method, template), case in MATRIX.items():
        for role in ROLES:
            path = case.path(ctx)
            if role == "anonymous":
                headers = {}
            elif case.fresh_token:
                headers = bearer(login(ctx.client, role))
            else:
                headers = bearer(ctx.tokens[role])
            if role == "anonymous":
                ctx.client.cookies.clear()
            call = _page_call(ctx, case, method, path, role, headers) if case.page else None
            call = call or ctx.client.request(
                "GET" if method == "MOUNT" else method,
                path,
                headers=headers,
                json=case.body(ctx, role) if case.body else None,
            )
            expected = case.expect(role)
            if call.status_code != expected:
                failures.append(f"{method} {template} as {role}: {call.status_code} != {expected}")
            elif case.page:
                pass  # pages answer HTML; what they show is checked in test_web_pages
            elif call.status_code in (401, 403, 404) and _leaks(call.json(), ctx):
                failures.append(f"{method} {template} as {role}: error carries {call.text}")
            ctx.client.cookies.clear()  # the login case sets cookies; the matrix uses Bearer
    assert not failures, "\n".join(failures)


def _page_call(
    ctx: Ctx, case: Case, method: str, path: str, role: str, headers: dict[str, str]
) -> Any:
    """A page request as a browser sends it: the session cookie, a form with the CSRF field."""
    form = dict(case.body(ctx, role)) if case.body else {}
    if role != "anonymous":
        token = headers["Authorization"].removeprefix("Bearer ")
        ctx.client.cookies.set(SESSION_COOKIE, token)
        form["csrf"] = csrf_token(token, SECRET)
    return ctx.client.request(
        method, path, data=form if method == "POST" else None, follow_redirects=False
    )


def _total(ctx: Ctx, role: str, path: str) -> tuple[int, list[Any]]:
    body = ctx.client.get(path, headers=bearer(ctx.tokens[role])).json()
    return body["total"], body["items"]


def test_lists_hold_exactly_what_each_role_may_see(ctx: Ctx) -> None:
    cells = {role: {c["code"] for c in _total(ctx, role, "/api/cells")[1]} for role in USERS}
    assert cells["worker"] == {CELL_A1}
    assert cells["other_worker"] == {"360681002001001"}
    assert cells["department"] == cells["planner"] == {CELL_A1, "360681001001002"}
    assert cells["other_department"] == {"360681002001001"}
    assert len(cells["admin"]) == 3
    visit = {"unit_id": ctx.world.unit_a1, "note": "走访"}
    ctx.client.post("/api/visits", json=visit, headers=bearer(ctx.tokens["worker"]))
    seen = {role: _total(ctx, role, "/api/visits")[0] for role in USERS}
    assert seen == {
        "admin": 1,
        "department": 1,
        "planner": 1,
        "worker": 1,
        "other_worker": 0,
        "other_department": 0,
    }
    runs = ctx.client.get(f"/api/runs/{ctx.world.run}", headers=bearer(ctx.tokens["worker"]))
    assert runs.json()["rates"] is None  # a worker sees no area's rates
    dept = ctx.client.get(f"/api/runs/{ctx.world.run}", headers=bearer(ctx.tokens["department"]))
    assert dept.json()["rates"]["code"] == TOWN_A
