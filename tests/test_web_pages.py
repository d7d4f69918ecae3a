"""The pages through the app on both stores: sign-in, scope, CSRF, escaping, one catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi.testclient import TestClient
from web_support import CELL_A1, CELL_A2, CELL_B1, World, password

from gridmap.web.i18n import MESSAGES

TEMPLATES = Path(__file__).resolve().parent.parent / "gridmap" / "web" / "templates"


def _sign_in(client: TestClient, username: str, secret: str | None = None) -> str:
    """Sign in with the form; returns the page it lands on."""
    response = client.post(
        "/", data={"username": username, "password": secret or password(username)}
    )
    return response.url.path


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def test_sign_in_lands_by_role_and_refuses_alike(client: TestClient) -> None:
    wrong = client.post("/", data={"username": "worker", "password": "not-the-password"})
    unknown = client.post("/", data={"username": "nobody-here", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    error = re.compile(r'<p class="error" role="alert">(.*?)</p>', re.S)
    shown = [error.findall(r.text) for r in (wrong, unknown)]
    assert shown[0] and shown[0] == shown[1]  # never tells whether the username exists
    assert "用户名或密码错误" in wrong.text
    assert _sign_in(client, "worker") == "/cells"
    client.cookies.clear()
    assert _sign_in(client, "department") == "/dashboard"
    client.cookies.clear()
    assert _sign_in(client, "planner") == "/dashboard"


def test_a_worker_sees_only_their_cells(client: TestClient) -> None:
    _sign_in(client, "worker")
    page = client.get("/cells").text
    assert f'href="/cells/{CELL_A1}"' in page
    assert CELL_A2 not in page and CELL_B1 not in page
    other = client.get(f"/cells/{CELL_B1}")
    assert other.status_code == 404
    assert "东门企业" not in other.text and "网格001" not in other.text.split("<main>")[1]


def test_a_visit_needs_the_csrf_field_and_shows_escaped(client: TestClient, world: World) -> None:
    _sign_in(client, "worker")
    cell = client.get(f"/cells/{CELL_A1}").text
    url = f"/cells/{CELL_A1}/visits"
    note = {"unit_id": str(world.unit_a1), "note": "<script>alert(1)</script>走访"}
    assert client.post(url, data=note, follow_redirects=False).status_code == 403
    saved = client.post(url, data=note | {"csrf": _csrf(cell), "key": "k1"})
    assert saved.status_code == 200 and "走访记录已保存" in saved.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;走访" in saved.text
    assert "<script>alert" not in saved.text
    again = client.post(url, data=note | {"csrf": _csrf(cell), "key": "k1"})
    assert again.text.count("alert(1)") == 1  # a repeated form (same key) stores one visit


def test_a_worker_cannot_record_outside_their_cells(client: TestClient, world: World) -> None:
    _sign_in(client, "worker")
    csrf = _csrf(client.get("/cells").text)
    data = {"unit_id": str(world.unit_b1), "note": "越界", "csrf": csrf}
    assert client.post(f"/cells/{CELL_B1}/visits", data=data).status_code == 404
    data["unit_id"] = str(world.unit_b1)  # a foreign unit through the worker's own cell
    assert client.post(f"/cells/{CELL_A1}/visits", data=data).status_code == 404


def test_dashboard_rates_and_english(client: TestClient) -> None:
    _sign_in(client, "department")
    page = client.get("/dashboard").text
    for label in ("组织覆盖率", "工作覆盖率", "综合覆盖率", "服务覆盖率", "应建未建", "雄石街道"):
        assert label in page
    english = client.get("/dashboard?lang=en").text
    assert "Organisational coverage rate" in english and "组织覆盖率" not in english


def test_logout_ends_the_session(client: TestClient) -> None:
    _sign_in(client, "worker")
    csrf = _csrf(client.get("/cells").text)
    assert client.post("/logout", data={"csrf": csrf}).url.path == "/"
    assert client.get("/cells", follow_redirects=False).status_code == 303


def test_every_template_key_is_in_the_catalogue() -> None:
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r"t\('([a-z0-9_.]+)'\)", template.read_text(encoding="utf-8")))
    assert used and used <= set(MESSAGES), used - set(MESSAGES)
    assert all(zh.strip() and en.strip() for zh, en in MESSAGES.values())


def test_forms_from_another_site_or_with_junk_are_refused(client: TestClient) -> None:
    cross = {"sec-fetch-site": "cross-site"}
    data = {"username": "worker", "password": password("worker")}
    assert client.post("/", data=data, headers=cross).status_code == 403
    junk = "&".join(f"f{i}=x" for i in range(50))
    headers = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/", content=junk, headers=headers).status_code == 401
    assert _sign_in(client, "worker") == "/cells"
    assert client.get("/cells").headers["cache-control"] == "no-store"


def test_a_locked_account_sees_the_same_error_in_the_page(client: TestClient) -> None:
    for _ in range(5):
        assert (
            client.post("/", data={"username": "planner", "password": "not-it-at-all"}).status_code
            == 401
        )
    locked = client.post("/", data={"username": "planner", "password": password("planner")})
    assert (
        locked.status_code == 401 and "用户名或密码错误，或账户因多次失败已暂时锁定" in locked.text
    )
    assert "planner" not in client.cookies.get("gridmap_session", "")
    assert client.get("/cells", follow_redirects=False).status_code == 303
