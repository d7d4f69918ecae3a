"""The admin pages on both stores, as a browser posts them (session cookie, CSRF field):
add, disable and re-enable an account, reset its password, change its scope; give a cell to
a worker and take it away; read the audit log by actor, action and date. Only admins."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import (
    CELL_A1,
    CELL_A2,
    SECRET,
    TOWN_A,
    TOWN_B,
    USERS,
    World,
    password,
    seed,
    settings_for,
)

from gridmap.accounts import csrf_token, get_account
from gridmap.store import Store
from gridmap.web import create_app
from gridmap.web.deps import SESSION_COOKIE

NEW_PASSWORD = "a-brand-new-passphrase"


@dataclass
class Browser:
    world: World
    client: TestClient

    def sign_in(self, username: str, secret: str | None = None) -> str:
        self.client.cookies.clear()
        answer = self.client.post(
            "/",
            data={"username": username, "password": secret or password(username)},
            follow_redirects=False,
        )
        assert answer.status_code == 303, answer.text
        return str(self.client.cookies.get(SESSION_COOKIE))

    def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> Any:
        token = self.client.cookies.get(SESSION_COOKIE) or ""
        data = form | ({"csrf": csrf_token(token, SECRET)} if csrf else {})
        return self.client.post(path, data=data, follow_redirects=False)


@pytest.fixture
def web(store: Store) -> Iterator[Browser]:
    world = seed(store)
    with TestClient(create_app(settings_for(store))) as client:
        yield Browser(world, client)


def test_only_admins_reach_the_admin_pages(web: Browser) -> None:
    for role in USERS:
        web.sign_in(role)
        for path in ("/admin/users", "/admin/assignments", "/admin/audit"):
            answer = web.client.get(path, follow_redirects=False)
            assert answer.status_code == (200 if role == "admin" else 403), (role, path)
        added = web.post("/admin/users", {"username": f"x_{role}", "password": NEW_PASSWORD,
                                          "role": "admin"})  # fmt: skip
        assert added.status_code == (303 if role == "admin" else 403)
    web.client.cookies.clear()
    assert web.client.get("/admin/users", follow_redirects=False).status_code == 303


def test_every_admin_post_needs_the_csrf_field(web: Browser) -> None:
    web.sign_in("admin")
    forms = {
        "/admin/users": {"username": "zhang", "password": NEW_PASSWORD, "role": "admin"},
        "/admin/users/planner/disable": {},
        "/admin/users/planner/password": {"password": NEW_PASSWORD},
        "/admin/scope": {"username": "planner", "role": "planner", "area": TOWN_B},
        "/admin/assignments": {"op": "add", "worker": "W01", "cell": CELL_A2},
    }
    for path, form in forms.items():
        assert web.post(path, form, csrf=False).status_code == 403, path
    assert get_account(web.world.store, "planner").active
    assert get_account(web.world.store, "planner").area_code == TOWN_A
    assert "zhang" not in web.client.get("/admin/users").text


def test_add_disable_reset_and_rescope_an_account(web: Browser) -> None:
    web.sign_in("admin")
    added = web.post("/admin/users", {"username": "zhang", "password": NEW_PASSWORD,
                                      "role": "department", "area": TOWN_A})  # fmt: skip
    assert added.status_code == 303
    assert 'data-user="zhang"' in web.client.get("/admin/users").text
    refused = web.post("/admin/users", {"username": "zhao", "password": NEW_PASSWORD,
                                        "role": "department"})  # fmt: skip
    assert refused.status_code == 400 and "needs --area" in refused.text
    web.sign_in("zhang", NEW_PASSWORD)
    web.sign_in("admin")
    assert web.post("/admin/users/zhang/disable", {}).status_code == 303
    assert not get_account(web.world.store, "zhang").active
    web.client.cookies.clear()
    refused_login = web.client.post("/", data={"username": "zhang", "password": NEW_PASSWORD})
    assert refused_login.status_code == 401
    web.sign_in("admin")
    assert web.post("/admin/users/zhang/enable", {}).status_code == 303
    reset = web.post("/admin/users/zhang/password", {"password": "another-long-passphrase"})
    assert reset.status_code == 303
    rescoped = web.post("/admin/scope", {"username": "zhang", "role": "department",
                                         "area": TOWN_B})  # fmt: skip
    assert rescoped.status_code == 303
    web.sign_in("zhang", "another-long-passphrase")
    cells = web.client.get("/cells").text
    assert "360681002001001" in cells and CELL_A1 not in cells


def test_give_and_take_a_cell(web: Browser) -> None:
    web.sign_in("admin")
    assert (
        web.post("/admin/assignments", {"op": "add", "worker": "W01", "cell": CELL_A2}).status_code
        == 303
    )
    page = web.client.get("/admin/assignments").text
    assert f'data-cell="{CELL_A2}" data-worker="W01"' in page
    web.sign_in("worker")
    assert CELL_A2 in web.client.get("/cells").text
    web.sign_in("admin")
    unknown = web.post("/admin/assignments", {"op": "add", "worker": "W99", "cell": CELL_A2})
    assert unknown.status_code == 400 and "W99" in unknown.text
    taken = web.post("/admin/assignments", {"op": "remove", "worker": "W01", "cell": CELL_A2})
    assert taken.status_code == 303
    web.sign_in("worker")
    assert CELL_A2 not in web.client.get("/cells").text


def test_the_audit_log_filters(web: Browser) -> None:
    web.sign_in("admin")
    web.post("/admin/users/planner/disable", {})
    web.post("/admin/assignments", {"op": "add", "worker": "W01", "cell": CELL_A2})
    today = dt.datetime.now(dt.UTC).date()

    def rows(query: str) -> list[tuple[str, str]]:
        text = web.client.get(f"/admin/audit?{query}").text
        return re.findall(r'<td class="actor">([^<]*)</td>\s*<td class="action">([^<]*)</td>', text)

    by_admin = rows("actor=admin")
    assert ("admin", "user.disable") in by_admin and ("admin", "assignment.add") in by_admin
    assert {actor for actor, _ in by_admin} == {"admin"}
    assert rows("action=user.disable") == [("admin", "user.disable")]
    family = {action for _, action in rows("action=user.")}
    assert "user.disable" in family and "user.add" in family and "assignment.add" not in family
    assert rows(f"since={today}&until={today}&action=assignment.add") == [
        ("admin", "assignment.add")
    ]
    yesterday = today - dt.timedelta(days=1)
    assert rows(f"until={yesterday}") == []
