"""The server-rendered pages: sign-in, a worker's cells and visits, the department's overview.

Pages sign in with the session cookie only; every write carries the session's CSRF token
in a hidden form field. They read through the same scoped query layer as the API, so a
page never shows more than the API gives the same user.
"""

from __future__ import annotations

import datetime as dt
import hmac
import json
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from gridmap.accounts import Account, authenticate, csrf_token, end_session, session_user
from gridmap.accounts.audit import utcnow
from gridmap.errors import AuthenticationError, NotFoundError
from gridmap.query import (
    CHANGE_KINDS,
    MAX_PAGE,
    Actor,
    cell_geojson,
    cell_in_scope,
    cells_in_scope,
    record_visit,
    station_names,
    unit_status,
    units_of_cell,
    visits_in_scope,
)
from gridmap.query.tasks import tasks_in_scope
from gridmap.web.basemap import tile_layers
from gridmap.web.deps import CSRF_COOKIE, SESSION_COOKIE, get_settings, get_store
from gridmap.web.i18n import pick_lang, translator
from gridmap.web.routes._visit_form import FormProblem, visit_from_form

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
templates.env.autoescape = True
#: The store keeps UTC; people read Beijing time (China has one time zone, no DST).
_BEIJING = dt.timezone(dt.timedelta(hours=8))


def _beijing(value: dt.datetime) -> str:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
    return aware.astimezone(_BEIJING).strftime("%Y-%m-%d %H:%M")


templates.env.filters["beijing"] = _beijing

_FORM_LIMIT = 10_000


def _lang(request: Request) -> str:
    return pick_lang(request.query_params.get("lang"))


def _suffix(lang: str) -> str:
    return "?lang=en" if lang == "en" else ""


def _render(
    request: Request, name: str, status: int = 200, user: Account | None = None, **extra: Any
) -> HTMLResponse:
    lang = _lang(request)
    token = request.cookies.get(SESSION_COOKIE, "")
    secret = get_settings(request).secret_key.get_secret_value()
    context = {
        "t": translator(lang),
        "lang": lang,
        "q": _suffix(lang),
        "other_lang": f"{request.url.path}{'' if lang == 'en' else '?lang=en'}",
        "user": user,
        "csrf": csrf_token(token, secret) if user is not None else "",
        **extra,
    }
    response = templates.TemplateResponse(request, name, context, status_code=status)
    if user is not None:  # a signed-in page holds the user's data: keep it out of caches
        response.headers["cache-control"] = "no-store"
    return response


def _page_user(request: Request) -> Account | None:
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    secret = get_settings(request).secret_key.get_secret_value()
    return session_user(get_store(request), token, secret=secret)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    try:
        fields = parse_qs(body[:_FORM_LIMIT].decode("utf-8", "replace"), max_num_fields=20)
    except ValueError:  # more fields than any form of these pages has
        return {}
    return {k: v[0] for k, v in fields.items()}


def _cross_site(request: Request) -> bool:
    """A form posted from another site (login CSRF); browsers send Sec-Fetch-Site."""
    return request.headers.get("sec-fetch-site", "same-origin") == "cross-site"


def _csrf_ok(request: Request, form: dict[str, str]) -> bool:
    token = request.cookies.get(SESSION_COOKIE, "")
    secret = get_settings(request).secret_key.get_secret_value()
    expected = csrf_token(token, secret)
    return hmac.compare_digest(form.get("csrf", "").encode(), expected.encode())


def _to(path: str, lang: str) -> RedirectResponse:
    return RedirectResponse(path + _suffix(lang), status_code=303)


def _landing(user: Account) -> str:
    return "/cells" if user.role == "worker" else "/dashboard"


def _not_found(request: Request, user: Account | None) -> HTMLResponse:
    return _render(request, "error.html", 404, user, title="notfound.title", body="notfound.body")


@router.get("/")
def login_page(request: Request) -> Response:
    """The sign-in form (signed-in users go to their landing page)."""
    user = _page_user(request)
    if user is not None:
        return _to(_landing(user), _lang(request))
    return _render(request, "login.html")


@router.post("/")
async def login_submit(request: Request) -> Response:
    """Sign in from the form: the same check and session as ``POST /api/auth/login``."""
    form = await _form(request)
    if _cross_site(request):
        return _render(request, "error.html", 403, title="forbidden.title", body="forbidden.body")
    username, password = form.get("username", ""), form.get("password", "")
    if not username or not password or len(username) > 200 or len(password) > 200:
        return _render(request, "login.html", 401, error="login.missing", username=username)
    settings = get_settings(request)
    secret = settings.secret_key.get_secret_value()
    try:
        result = authenticate(
            get_store(request), username, password, web=settings.web, secret=secret
        )
    except AuthenticationError:
        return _render(request, "login.html", 401, error="login.refused", username=username)
    response = _to(_landing(result.account), _lang(request))
    age = settings.web.session_minutes * 60
    chosen = settings.web.cookie_secure
    secure = settings.environment != "development" if chosen is None else chosen
    response.set_cookie(
        SESSION_COOKIE, result.token, max_age=age, httponly=True, samesite="strict", secure=secure
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(result.token, secret), max_age=age, samesite="strict",
        secure=secure,
    )  # fmt: skip
    return response


@router.post("/logout")
async def logout_submit(request: Request) -> Response:
    """Sign out (CSRF-checked) and clear the cookies."""
    user = _page_user(request)
    form = await _form(request)
    if user is None:
        return _to("/", _lang(request))
    if not _csrf_ok(request, form):
        return _render(request, "error.html", 403, user, title="forbidden.title",
                       body="forbidden.body")  # fmt: skip
    settings = get_settings(request)
    end_session(
        get_store(request),
        request.cookies.get(SESSION_COOKIE, ""),
        secret=settings.secret_key.get_secret_value(),
        actor=user.username,
    )
    response = _to("/", _lang(request))
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/cells")
def my_cells(request: Request) -> Response:
    """The cells the user may see (a worker: their own), by code."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    tasks = _open_tasks(request, user)
    try:
        page = cells_in_scope(get_store(request), user.scope, limit=MAX_PAGE)
    except NotFoundError:
        return _render(request, "cells.html", user=user, cells=[], norun=True, **tasks)
    return _render(request, "cells.html", user=user, cells=page.items, norun=False, **tasks)


def _open_tasks(request: Request, user: Account, cell: str | None = None) -> dict[str, Any]:
    """The open tasks (派单) of the user's cells, shown first (templates/tasks/_open.html)."""
    page = tasks_in_scope(get_store(request), user.scope, status="open", cell=cell, limit=MAX_PAGE)
    counts: dict[str, int] = {}
    for task in page.items:
        counts[task["cell_code"]] = counts.get(task["cell_code"], 0) + 1
    return {
        "open_tasks": page.items,
        "task_counts": counts,
        "task_done": request.query_params.get("done"),
    }


def _visits_by_unit(request: Request, user: Account, code: str) -> dict[int, list[Any]]:
    page = visits_in_scope(get_store(request), user.scope, cell=code, limit=MAX_PAGE)
    grouped: dict[int, list[Any]] = {}
    for visit in page.items:
        grouped.setdefault(int(visit["unit_id"]), []).append(visit)
    return grouped


def _map_config(request: Request, code: str, lang: str) -> str:
    """What the cell map script reads from the page (no inline script under the CSP)."""
    settings = get_settings(request)
    config = {
        "geojson": f"/cells/{quote(code)}/map.geojson",
        "tiles": tile_layers(settings),
        "lang": lang,
    }
    return json.dumps(config, ensure_ascii=False)


@router.get("/cells/{code}")
def cell_page(code: str, request: Request) -> Response:
    """One cell: a map, its units with their status and visit history, a visit form per unit."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    store = get_store(request)
    try:
        cell = cell_in_scope(store, user.scope, code)
    except NotFoundError:
        return _not_found(request, user)
    units = units_of_cell(store, user.scope, code, cell["run"])
    for unit in units:
        unit["status"] = unit_status(unit)
    problem = request.query_params.get("problem", "")
    return _render(
        request,
        "cell.html",
        user=user,
        cell=cell,
        units=units,
        stations=station_names(store, (u["nearest_station_id"] for u in units)),
        visits=_visits_by_unit(request, user, code),
        key=secrets.token_urlsafe(12),
        saved=request.query_params.get("saved"),
        problem=problem if problem in _PROBLEMS else "",
        quoted=quote(code),
        map_config=_map_config(request, code, _lang(request)),
        change_kinds=CHANGE_KINDS,
        **_open_tasks(request, user, code),
    )


@router.get("/cells/{code}/map.geojson")
def cell_map(code: str, request: Request) -> Response:
    """The cell's boundary and units as GeoJSON (shifted to GCJ-02 under an Amap basemap)."""
    user = _page_user(request)
    if user is None:
        return JSONResponse({"detail": "sign in first", "code": "unauthorized"}, 401)
    gcj02 = get_settings(request).web.basemap == "amap"
    try:
        data = cell_geojson(get_store(request), user.scope, code, gcj02=gcj02)
    except NotFoundError:
        return JSONResponse({"detail": f"no grid cell {code[:40]!r}", "code": "not_found"}, 404)
    response = JSONResponse(data, media_type="application/geo+json")
    response.headers["cache-control"] = "no-store"
    return response


#: Problems a visit form can come back with (the ``problem`` query parameter).
_PROBLEMS = ("visit.empty", "visit.change_invalid", "visit.location_invalid")


def _visit_answer(
    request: Request, code: str, unit_id: int, outcome: str, status: int = 200, **extra: Any
) -> Response:
    """JSON for the phone's script (``Accept: application/json``), else back to the page."""
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"outcome": outcome, "unit_id": unit_id, **extra}, status)
    query = "saved=1" if outcome == "saved" else f"problem={outcome}"
    lang = "lang=en&" if _lang(request) == "en" else ""
    return RedirectResponse(f"/cells/{quote(code)}?{lang}{query}#unit-{unit_id}", 303)


@router.post("/cells/{code}/visits")
async def visit_submit(code: str, request: Request) -> Response:
    """Record a visit from the form of a unit (workers, their own cells only).

    A repeat with the same ``key`` (the phone resending a queued visit) stores nothing new.
    """
    user = _page_user(request)
    lang = _lang(request)
    if user is None:
        return _to("/", lang)
    form = await _form(request)
    store = get_store(request)
    try:
        cell_in_scope(store, user.scope, code)
        unit_id = int(form.get("unit_id", "0"))
    except (NotFoundError, ValueError):
        return _not_found(request, user)
    if user.role != "worker" or not _csrf_ok(request, form):
        return _render(request, "error.html", 403, user, title="forbidden.title",
                       body="forbidden.body")  # fmt: skip
    try:
        visit = visit_from_form(form, utcnow())
    except FormProblem as problem:
        return _visit_answer(request, code, unit_id, problem.key, 400, detail=str(problem))
    actor = Actor(user.id, user.username, user.scope, user.worker_id)
    try:
        stored, created = record_visit(store, actor, visit)
    except NotFoundError:
        return _not_found(request, user)
    return _visit_answer(
        request, code, visit.unit_id, "saved", 201 if created else 200,
        visit_id=int(stored["id"]), created=created,
    )  # fmt: skip
