"""The pages of the loop: a department sends a task (派单), the worker completes it with a
visit, the department confirms or rejects the change the visit reported.

Same rules as :mod:`gridmap.web.routes.pages`: the session cookie, a CSRF field on every
form, the scoped query layer (a page never shows more than the API would).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import secrets
from collections.abc import Collection
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from gridmap.accounts import Account
from gridmap.accounts.audit import utcnow
from gridmap.errors import GridmapError, InvalidInputError, NotFoundError
from gridmap.query import (
    MAX_PAGE,
    Actor,
    NewVisit,
    changes_in_scope,
    decide_change,
    unit_in_scope,
    units_of_cell,
    visits_in_scope,
)
from gridmap.query.tasks import (
    TASK_KINDS,
    NewTask,
    cancel_task,
    complete_task,
    create_task,
    task_in_scope,
    task_sources,
    tasks_in_scope,
)
from gridmap.web.deps import get_store
from gridmap.web.routes._visit_form import _when
from gridmap.web.routes.pages import _csrf_ok, _form, _lang, _not_found, _page_user, _render, _to

router = APIRouter(include_in_schema=False)

DISPATCHERS = ("admin", "department")
#: The changes a worker may report from a task's page (members needs a number).
REPORTABLE = ("branch_set_up", "station_active", "members", "unit_closed")


def _actor(user: Account) -> Actor:
    return Actor(user.id, user.username, user.scope, user.worker_id)


def _forbidden(request: Request, user: Account) -> Response:
    return _render(request, "error.html", 403, user, title="forbidden.title", body="forbidden.body")


def _id(value: str) -> int:
    return int(value) if value.isdigit() and len(value) <= 10 else 0


@router.get("/tasks")
def tasks_page(request: Request) -> Response:
    """The tasks of the user's cells or area, open first."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    status = request.query_params.get("status", "open")
    chosen = status if status in ("open", "done", "cancelled") else None
    page = tasks_in_scope(get_store(request), user.scope, status=chosen, limit=MAX_PAGE)
    return _render(request, "tasks/list.html", user=user, tasks=page.items, shown=chosen or "all",
                   made=request.query_params.get("made"))  # fmt: skip


def _new_form(request: Request, user: Account, status: int = 200, **extra: Any) -> Response:
    params = request.query_params
    values = {"kind": params.get("kind", ""), "ref": params.get("ref", ""), "due": "", "note": ""}
    values |= extra.pop("values", {})
    default_due = (dt.date.today() + dt.timedelta(days=14)).isoformat()
    try:
        sources = task_sources(get_store(request), user.scope)
    except InvalidInputError:  # no run yet: the form still works for an organisation
        sources = {"zones": [], "units": []}
    return _render(request, "tasks/new.html", status, user, values=values, kinds=TASK_KINDS,
                   default_due=default_due, sources=sources, **extra)  # fmt: skip


@router.get("/tasks/new")
def task_new_page(request: Request) -> Response:
    """The form a department user sends a task with (kind and ref come from the link)."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    if user.role not in DISPATCHERS:
        return _forbidden(request, user)
    return _new_form(request, user)


def _due(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        msg = f"due date must look like 2026-12-31, got {value[:20]!r}"
        raise InvalidInputError(msg) from None


@router.post("/tasks/new")
async def task_new_submit(request: Request) -> Response:
    """Create the task (departments and admins, in their area) and go to the list."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    form = await _form(request)
    if user.role not in DISPATCHERS or not _csrf_ok(request, form):
        return _forbidden(request, user)
    values = {
        k: form.get(k, "").replace("\x00", "").strip() for k in ("kind", "ref", "due", "note")
    }
    try:
        new = NewTask(
            values["kind"], values["ref"][:32], _due(values["due"]), values["note"][:4000]
        )
        task = create_task(get_store(request), _actor(user), new)
    except GridmapError as exc:
        status = 404 if isinstance(exc, NotFoundError) else 400
        return _new_form(request, user, status, values=values, error=str(exc))
    return _redirect(request, f"/tasks?made={task['id']}")


def _redirect(request: Request, path: str) -> Response:
    """A 303 to ``path`` (which may carry a query) in the page's language."""
    if _lang(request) == "en":
        path += "&lang=en" if "?" in path else "?lang=en"
    return _to(path, "zh")


def _task_context(request: Request, user: Account, task: dict[str, Any]) -> dict[str, Any]:
    store = get_store(request)
    try:
        units = units_of_cell(store, user.scope, task["cell_code"], None)
    except NotFoundError:
        units = []
    visit = None
    if task["visit_id"] is not None:
        found = [
            v
            for v in visits_in_scope(
                store, user.scope, cell=task["cell_code"], limit=MAX_PAGE
            ).items
            if v["id"] == task["visit_id"]
        ]
        visit = found[0] if found else None
    return {"task": task, "units": units, "visit": visit, "reportable": REPORTABLE,
            "key": secrets.token_urlsafe(12)}  # fmt: skip


@router.get("/tasks/{task_id}")
def task_page(task_id: str, request: Request) -> Response:
    """One task: what it is about; for its worker the visit form that completes it."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    try:
        task = task_in_scope(get_store(request), user.scope, _id(task_id))
    except NotFoundError:
        return _not_found(request, user)
    context = _task_context(request, user, task)
    return _render(request, "tasks/task.html", user=user, error=None, **context)


def _change(form: dict[str, str], task: dict[str, Any]) -> tuple[str | None, dict[str, Any] | None]:
    kind = form.get("change", "")
    if kind not in REPORTABLE:
        return None, None
    if kind == "station_active":
        station = task["station_id"] or _id(form.get("station_id", ""))
        if not station:
            msg = "a station_active change needs the station: this task names none"
            raise InvalidInputError(msg)
        return kind, {"station_id": int(station)}
    if kind == "members":
        count = form.get("party_members", "")
        if not count.isdigit() or len(count) > 7:
            msg = f"the number of party members must be a whole number, got {count[:10]!r}"
            raise InvalidInputError(msg)
        return kind, {"party_members": int(count)}
    return kind, {}


async def _task_post(
    request: Request, task_id: str, roles: Collection[str]
) -> tuple[Account, dict[str, str], dict[str, Any]] | Response:
    """A form posted to a task's page: the user, the form and the task when the task is in
    the user's scope, their role one of ``roles`` and the CSRF token right; else the answer."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    form = await _form(request)
    try:
        task = task_in_scope(get_store(request), user.scope, _id(task_id))
    except NotFoundError:
        return _not_found(request, user)
    if user.role not in roles or not _csrf_ok(request, form):
        return _forbidden(request, user)
    return user, form, task


@router.post("/tasks/{task_id}/complete")
async def task_complete_submit(task_id: str, request: Request) -> Response:
    """Complete the task with a visit (its worker only) and go back to My cells."""
    posted = await _task_post(request, task_id, {"worker"})
    if isinstance(posted, Response):
        return posted
    user, form, task = posted
    store = get_store(request)
    note = form.get("note", "").replace("\x00", "").strip()[:4000]
    key = (form.get("key") or "")[:100] or None
    try:
        if not note:
            raise InvalidInputError("write a note about the visit")
        kind, change = _change(form, task)
        visit = NewVisit(unit_id=_id(form.get("unit_id", "")), note=note, key=key,
                         visited_at=_when(form, utcnow()),  # a completion queued offline
                         change_kind=kind, change=change)  # fmt: skip
        done = complete_task(store, _actor(user), task["id"], visit)
    except GridmapError as exc:
        if _wants_json(request):
            return JSONResponse({"outcome": "refused", "detail": str(exc)}, 400)
        context = _task_context(request, user, task)
        return _render(request, "tasks/task.html", 400, user, error=str(exc), **context)
    if _wants_json(request):  # the phone's script sending a completion queued offline
        created = task["status"] == "open"  # a repeat with the same key finds it done already
        answer = {"outcome": "done", "task_id": task["id"], "visit_id": done["visit_id"],
                  "created": created}  # fmt: skip
        return JSONResponse(answer, 201 if created else 200)
    return _redirect(request, f"/cells?done={task['id']}")


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


@router.post("/tasks/{task_id}/cancel")
async def task_cancel_submit(task_id: str, request: Request) -> Response:
    """Cancel an open task (departments and admins, in their area)."""
    posted = await _task_post(request, task_id, DISPATCHERS)
    if isinstance(posted, Response):
        return posted
    user, form, task = posted
    store = get_store(request)
    with contextlib.suppress(InvalidInputError):  # closed already: the list shows how it stands
        cancel_task(store, _actor(user), task["id"], form.get("reason", "")[:200] or None)
    return _redirect(request, "/tasks")


@router.get("/changes")
def changes_page(request: Request) -> Response:
    """Changes reported by visits, pending first, to confirm or reject (departments)."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    if user.role == "worker":
        return _forbidden(request, user)
    store = get_store(request)
    pending = changes_in_scope(store, user.scope, status="pending", limit=MAX_PAGE).items
    decided = [
        c for c in changes_in_scope(store, user.scope, limit=50).items if c["status"] != "pending"
    ]
    units, notes = _about(request, user, pending + decided)
    decide = user.role in DISPATCHERS
    return _render(request, "changes.html", user=user, pending=pending, decided=decided,
                   units=units, notes=notes, decide=decide,
                   done=request.query_params.get("done"))  # fmt: skip


def _about(
    request: Request, user: Account, changes: list[dict[str, Any]]
) -> tuple[dict[int, dict[str, Any]], dict[int, str]]:
    """The units the changes are about (from the newest run) and the notes of their visits."""
    store = get_store(request)
    units: dict[int, dict[str, Any]] = {}
    notes: dict[int, str] = {}
    for unit_id in sorted({int(c["unit_id"]) for c in changes}):
        try:
            units[unit_id] = unit_in_scope(store, user.scope, unit_id)
        except NotFoundError:
            continue
        for visit in visits_in_scope(store, user.scope, unit=unit_id, limit=MAX_PAGE).items:
            notes[int(visit["id"])] = str(visit["note"] or "")
    return units, notes


async def _decide(request: Request, change_id: str, *, confirm: bool) -> Response:
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    form = await _form(request)
    if user.role not in DISPATCHERS:
        return _forbidden(request, user)
    if not _csrf_ok(request, form):
        return _forbidden(request, user)
    try:
        decide_change(get_store(request), _actor(user), _id(change_id), confirm=confirm)
    except NotFoundError:
        return _not_found(request, user)
    except InvalidInputError:
        pass  # decided already: the page shows the decision
    return _redirect(request, f"/changes?done={_id(change_id)}")


@router.post("/changes/{change_id}/confirm")
async def change_confirm_submit(change_id: str, request: Request) -> Response:
    """Apply a reported change to the records (audited; the next run shows it)."""
    return await _decide(request, change_id, confirm=True)


@router.post("/changes/{change_id}/reject")
async def change_reject_submit(change_id: str, request: Request) -> Response:
    """Reject a reported change: the records stay as they are (audited)."""
    return await _decide(request, change_id, confirm=False)
