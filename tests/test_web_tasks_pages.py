"""The task pages as a browser posts them (session cookie, CSRF field), on both stores: a
department sends a task from the listed 应建未建 unit, the worker sees it first on My cells and
completes it with a visit reporting a branch, the department confirms it on /changes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_support import CELL_A1, SECRET, World, password, seed, settings_for

from gridmap.accounts import ROLES, csrf_token, get_account
from gridmap.query import CHANGE_KINDS
from gridmap.query.tasks import TASK_KINDS, TASK_STATUSES
from gridmap.store import Store
from gridmap.web import create_app
from gridmap.web.deps import SESSION_COOKIE
from gridmap.web.i18n import MESSAGES, translator
from gridmap.web.routes.pages import templates


@dataclass
class Browser:
    world: World
    client: TestClient

    def sign_in(self, username: str) -> None:
        self.client.cookies.clear()
        answer = self.client.post(
            "/", data={"username": username, "password": password(username)},
            follow_redirects=False,
        )  # fmt: skip
        assert answer.status_code == 303, answer.text

    def post(self, path: str, form: dict[str, str], *, csrf: bool = True) -> Any:
        token = self.client.cookies.get(SESSION_COOKIE) or ""
        data = form | ({"csrf": csrf_token(token, SECRET)} if csrf else {})
        return self.client.post(path, data=data, follow_redirects=False)


@pytest.fixture
def web(store: Store) -> Iterator[Browser]:
    world = seed(store)
    with TestClient(create_app(settings_for(store))) as client:
        yield Browser(world, client)


def _send(web: Browser, unit_id: int) -> int:
    web.sign_in("department")
    listed = web.client.get("/tasks/new").text
    assert f'href="/tasks/new?kind=must_build&amp;ref={unit_id}"' in listed
    assert f'data-cell="{CELL_A1}"' in listed  # a partial cell: a blind zone to send
    form = {"kind": "must_build", "ref": str(unit_id), "due": "2026-12-31", "note": "请走访"}
    assert web.post("/tasks/new", form, csrf=False).status_code == 403
    made = web.post("/tasks/new", form)
    assert made.status_code == 303 and "/tasks?made=" in made.headers["location"]
    return int(made.headers["location"].split("made=")[1])


def test_the_loop_in_the_pages(web: Browser) -> None:
    unit_id = web.world.unit_a1
    task_id = _send(web, unit_id)
    again = web.post("/tasks/new", {"kind": "must_build", "ref": str(unit_id)})
    assert again.status_code == 400 and f"task {task_id}" in again.text  # shown in the form

    web.sign_in("worker")
    cells = web.client.get("/cells").text
    assert cells.index(f'data-task="{task_id}"') < cells.index('class="cell-link"')
    assert f'data-task="{task_id}"' in web.client.get(f"/cells/{CELL_A1}").text
    page = web.client.get(f"/tasks/{task_id}").text
    assert 'class="stack complete-form"' in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    form = {"note": "支部已成立", "change": "branch_set_up", "unit_id": str(unit_id),
            "key": key.group(1)}  # fmt: skip
    assert web.post(f"/tasks/{task_id}/complete", form, csrf=False).status_code == 403
    done = web.post(f"/tasks/{task_id}/complete", form)
    assert done.status_code == 303 and done.headers["location"] == f"/cells?done={task_id}"
    assert f'data-task="{task_id}"' not in web.client.get("/cells").text
    assert web.post(f"/tasks/{task_id}/complete", form).status_code == 303  # a resend: same

    assert web.client.get("/changes", follow_redirects=False).status_code == 403
    web.sign_in("department")
    changes = web.client.get("/changes").text
    change = re.search(r'<li class="card change" data-change="(\d+)">', changes)
    assert change is not None and "已建立支部" in changes and "支部已成立" in changes
    confirmed = web.post(f"/changes/{change.group(1)}/confirm", {})
    assert confirmed.status_code == 303
    after = web.client.get("/changes").text
    assert "pending-changes" not in after and "已确认" in after
    tasks = web.client.get("/tasks?status=done").text
    assert f'data-task="{task_id}"' in tasks


def test_a_completion_queued_offline_is_sent_once_with_its_time(web: Browser) -> None:
    """The phone's script sends a queued completion (Accept: JSON) with the page's key and
    the time it was recorded; a resend stores nothing new and says so."""
    unit_id = web.world.unit_a1
    task_id = _send(web, unit_id)
    web.sign_in("worker")
    page = web.client.get(f"/tasks/{task_id}").text
    assert 'src="/static/pages/app.js"' in page and 'id="queue"' in page
    assert 'rel="manifest"' in page and 'name="visited_at"' in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key is not None
    token = web.client.cookies.get(SESSION_COOKIE) or ""
    form = {"note": "离线走访", "change": "branch_set_up", "unit_id": str(unit_id),
            "key": key.group(1), "visited_at": "2026-11-30T02:00:00Z",
            "csrf": csrf_token(token, SECRET)}  # fmt: skip
    url, json_accept = f"/tasks/{task_id}/complete", {"Accept": "application/json"}
    first = web.client.post(url, data=form, headers=json_accept)
    assert first.status_code == 201 and first.json()["created"] is True
    again = web.client.post(url, data=form, headers=json_accept)
    assert again.status_code == 200 and again.json()["created"] is False
    assert again.json()["visit_id"] == first.json()["visit_id"]
    other = web.client.post(url, data=form | {"key": "another"}, headers=json_accept)
    assert other.status_code == 400 and "done already" in other.json()["detail"]
    visits = web.client.get(f"/api/visits?unit={unit_id}").json()
    noted = [v for v in visits["items"] if v["note"] == "离线走访"]
    assert len(noted) == 1 and noted[0]["visited_at"].startswith("2026-11-30T02:00")


def test_others_neither_see_nor_complete_the_task(web: Browser) -> None:
    task_id = _send(web, web.world.unit_a1)
    for role in ("other_worker", "other_department"):
        web.sign_in(role)
        page = web.client.get(f"/tasks/{task_id}")
        assert page.status_code == 404 and "近的企业" not in page.text
        assert f'data-task="{task_id}"' not in web.client.get("/tasks?status=all").text
        done = web.post(f"/tasks/{task_id}/complete", {"note": "x"})
        assert done.status_code == 404
    web.sign_in("planner")
    assert web.post(f"/tasks/{task_id}/cancel", {}).status_code == 403
    web.sign_in("department")
    assert web.post(f"/tasks/{task_id}/cancel", {"reason": "重复"}).status_code == 303
    assert f'data-task="{task_id}"' not in web.client.get("/tasks").text  # open only


def test_the_dashboard_hook_links_each_list_row(store: Store) -> None:
    seed(store)
    hook = templates.env.get_template("tasks/_create.html")
    user = get_account(store, "department")
    rows = {
        ("must", "must_build&amp;ref=7"): {"unit_id": 7},
        ("idle", "idle_org&amp;ref=3"): {"what": "org", "id": 3},
        ("idle", "idle_station&amp;ref=4"): {"what": "station", "id": 4},
        ("zones", f"blind_zone&amp;ref={CELL_A1}"): {"cell_code": f"{CELL_A1},360681001001002"},
    }
    for (name, href), row in rows.items():
        html = hook.render(list=name, row=row, user=user, lang="zh", t=translator("zh"))
        assert f'href="/tasks/new?kind={href}"' in html and "派单" in html
    worker = get_account(store, "worker")
    assert hook.render(list="must", row={"unit_id": 7}, user=worker, lang="zh",
                       t=translator("zh")).strip() == ""  # fmt: skip


def test_every_message_of_the_task_and_admin_pages_is_in_the_catalogue() -> None:
    folder = Path(templates.env.loader.searchpath[0])  # type: ignore[union-attr]
    files = [*folder.glob("tasks/*.html"), *folder.glob("admin/*.html"), folder / "changes.html"]
    used = set()
    for template in files:
        used |= set(re.findall(r"t\('([a-z_.]+)'\)", template.read_text(encoding="utf-8")))
    built = {f"task.kind.{k}" for k in TASK_KINDS}
    built |= {f"task.status.{s}" for s in (*TASK_STATUSES, "all")}
    built |= {f"change.kind.{k}" for k in (*CHANGE_KINDS, "none")}
    built |= {f"change.status.{s}" for s in ("pending", "confirmed", "rejected")}
    built |= {f"role.{r}" for r in ROLES}
    assert len(used) > 50 and (used | built) <= set(MESSAGES), (used | built) - set(MESSAGES)
