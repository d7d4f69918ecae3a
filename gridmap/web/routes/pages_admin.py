"""Admin pages: accounts (add, disable, reset password, scope), worker-cell assignments, the
audit log with filters. Admin role only; every POST carries the session's CSRF token; the
writes go through :mod:`gridmap.accounts` and the query layer, which audit them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from gridmap.accounts import ROLES, Account, add_user, disable_user, list_users, set_password
from gridmap.accounts.users import enable_user, set_scope
from gridmap.errors import GridmapError
from gridmap.query import audit_entries
from gridmap.query.assignments import (
    assign_cell,
    assignments_in_scope,
    unassign_cell,
    workers_in_scope,
)
from gridmap.web.deps import get_settings, get_store
from gridmap.web.routes.pages import _csrf_ok, _form, _lang, _page_user, _render, _to

router = APIRouter(include_in_schema=False)

AUDIT_ROWS = 200


def _admin(request: Request) -> tuple[Account | None, Response | None]:
    """The signed-in admin, or the answer for anyone else (sign in, or 403)."""
    user = _page_user(request)
    if user is None:
        return None, _to("/", _lang(request))
    if user.role != "admin":
        return None, _render(request, "error.html", 403, user, title="forbidden.title",
                             body="forbidden.body")  # fmt: skip
    return user, None


def _back(request: Request, path: str, message: str) -> Response:
    lang = "&lang=en" if _lang(request) == "en" else ""
    return _to(f"{path}?ok={message}{lang}", "zh")


def _users_page(request: Request, user: Account, status: int = 200, **extra: Any) -> Response:
    store = get_store(request)
    workers = workers_in_scope(store, user.scope)
    return _render(request, "admin/users.html", status, user, users=list_users(store),
                   roles=ROLES, workers=workers, ok=request.query_params.get("ok"),
                   **extra)  # fmt: skip


@router.get("/admin/users")
def users_page(request: Request) -> Response:
    """Every account with its role, scope and state, and the forms that change them."""
    user, refused = _admin(request)
    if user is None:
        return refused or _to("/", "zh")
    return _users_page(request, user)


def _clean(form: dict[str, str], name: str) -> str | None:
    value = form.get(name, "").replace("\x00", "").strip()[:200]
    return value or None


async def _admin_post(
    request: Request, path: str, act: Callable[[Account, dict[str, str]], str]
) -> Response:
    """Check admin and CSRF, run ``act``; on a refusal show the page with the message."""
    user, refused = _admin(request)
    if user is None:
        return refused or _to("/", "zh")
    form = await _form(request)
    if not _csrf_ok(request, form):
        return _render(request, "error.html", 403, user, title="forbidden.title",
                       body="forbidden.body")  # fmt: skip
    try:
        message = act(user, form)
    except GridmapError as exc:
        if path == "/admin/users":
            return _users_page(request, user, 400, error=str(exc))
        return _assignments_page(request, user, 400, error=str(exc))
    return _back(request, path, message)


def _min_length(request: Request) -> int:
    return int(get_settings(request).web.min_password_length)


@router.post("/admin/users")
async def user_add_submit(request: Request) -> Response:
    """Add an account (role and scope as ``gridmap user add`` takes them)."""

    def act(user: Account, form: dict[str, str]) -> str:
        add_user(get_store(request), form.get("username", "")[:64], form.get("password", "")[:200],
                 role=form.get("role", ""), area=_clean(form, "area"),
                 worker=_clean(form, "worker"), min_length=_min_length(request),
                 actor=user.username)  # fmt: skip
        return "added"

    return await _admin_post(request, "/admin/users", act)


def _user_action(
    request: Request, username: str, name: str
) -> Callable[[Account, dict[str, str]], str]:
    store = get_store(request)

    def act(user: Account, form: dict[str, str]) -> str:
        if name == "disable":
            disable_user(store, username, actor=user.username)
        elif name == "enable":
            enable_user(store, username, actor=user.username)
        elif name == "password":
            set_password(store, username, form.get("password", "")[:200],
                         min_length=_min_length(request), actor=user.username)  # fmt: skip
        return name

    return act


@router.post("/admin/users/{username}/{action}")
async def user_action_submit(username: str, action: str, request: Request) -> Response:
    """Disable, enable or reset the password of one account."""
    if action not in ("disable", "enable", "password"):
        user = _page_user(request)
        return _render(request, "error.html", 404, user, title="notfound.title",
                       body="notfound.body")  # fmt: skip
    return await _admin_post(request, "/admin/users", _user_action(request, username, action))


@router.post("/admin/scope")
async def user_scope_submit(request: Request) -> Response:
    """Change the role and scope of an account (its sessions end)."""

    def act(user: Account, form: dict[str, str]) -> str:
        set_scope(get_store(request), form.get("username", "")[:64], role=form.get("role", ""),
                  area=_clean(form, "area"), worker=_clean(form, "worker"),
                  actor=user.username)  # fmt: skip
        return "scope"

    return await _admin_post(request, "/admin/users", act)


def _assignments_page(request: Request, user: Account, status: int = 200, **extra: Any) -> Response:
    store = get_store(request)
    page = assignments_in_scope(store, user.scope)
    return _render(request, "admin/assignments.html", status, user, rows=page.items,
                   workers=workers_in_scope(store, user.scope),
                   ok=request.query_params.get("ok"), **extra)  # fmt: skip


@router.get("/admin/assignments")
def assignments_page(request: Request) -> Response:
    """Which worker has which cell, and the forms that change it."""
    user, refused = _admin(request)
    if user is None:
        return refused or _to("/", "zh")
    return _assignments_page(request, user)


@router.post("/admin/assignments")
async def assignment_submit(request: Request) -> Response:
    """Give a cell to a worker (``op=add``) or take it away (``op=remove``)."""
    store = get_store(request)

    def act(user: Account, form: dict[str, str]) -> str:
        worker, cell = form.get("worker", "")[:200], form.get("cell", "")[:32]
        if form.get("op") == "remove":
            unassign_cell(store, user.scope, worker, cell, actor=user.username)
            return "removed"
        assign_cell(store, user.scope, worker, cell, actor=user.username)
        return "assigned"

    return await _admin_post(request, "/admin/assignments", act)


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


@router.get("/admin/audit")
def audit_page(request: Request) -> Response:
    """The audit log, newest first, filtered by actor, action and a date range."""
    user, refused = _admin(request)
    if user is None:
        return refused or _to("/", "zh")
    params = request.query_params
    actor = (params.get("actor") or "").strip()[:100] or None
    action = (params.get("action") or "").strip()[:40] or None
    since, until = _day(params.get("since")), _day(params.get("until"))
    page = audit_entries(get_store(request), user.scope, action=action, actor=actor,
                         since=since, until=until, limit=AUDIT_ROWS)  # fmt: skip
    filters = {"actor": actor, "action": action, "since": since, "until": until}
    shown = {k: "" if v is None else str(v) for k, v in filters.items()}
    return _render(request, "admin/audit.html", user=user, rows=page.items, total=page.total,
                   filters=shown, limit=AUDIT_ROWS)  # fmt: skip
