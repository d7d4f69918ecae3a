"""The dashboard's two forms: start a coverage run, start a siting run (background jobs).

Both are CSRF-checked, for departments and admins (planners read only, as in the API),
and answer with a 303 back to the dashboard showing the job's progress line; a value
out of range comes back as a message in the page, never a 500.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any
from urllib.parse import quote

from fastapi import BackgroundTasks, Request
from fastapi.responses import RedirectResponse, Response

from gridmap.accounts import Account
from gridmap.errors import GridmapError
from gridmap.query import create_job, run_job
from gridmap.query.dashboard_jobs import SITING, run_siting_job
from gridmap.web.deps import get_settings, get_store
from gridmap.web.routes.pages import _csrf_ok, _form, _lang, _render

__all__ = ["back_to", "start_coverage", "start_siting"]

_RUNNERS = ("admin", "department")
_WEIGHTS = ("population", "households", "members", "units")


class _Refused(ValueError):
    """A form value out of range; its message is a catalogue key."""


def back_to(request: Request, **params: str) -> RedirectResponse:
    """A 303 to the dashboard with ``params`` (and the language) in its query."""
    query = [f"{k}={quote(v)}" for k, v in params.items()]
    if _lang(request) == "en":
        query.append("lang=en")
    return RedirectResponse("/dashboard" + ("?" + "&".join(query) if query else ""), 303)


def _number(form: dict[str, str], name: str, low: float, high: float) -> float | None:
    text = form.get(name, "").strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _Refused(f"dash.err.{name}") from None
    if not math.isfinite(value) or not low < value <= high:
        raise _Refused(f"dash.err.{name}")
    return value


def _choice(form: dict[str, str], name: str, allowed: tuple[str, ...]) -> str:
    value = form.get(name) or allowed[0]
    if value not in allowed:
        raise _Refused(f"dash.err.{name}")
    return value


def _coverage_params(form: dict[str, str]) -> dict[str, Any]:
    from gridmap.coverage import ReachOptions

    params: dict[str, Any] = {
        "mode": _choice(form, "mode", ("radius", "network")),
        "profile": _choice(form, "profile", ("walk", "drive")),
    }
    reach = _number(form, "reach", 0, 100_000)
    if reach is not None:
        unit = _choice(form, "unit", ("meters", "minutes"))
        if unit == "minutes" and reach > 600:
            raise _Refused("dash.err.reach")
        params[unit] = reach
    try:
        ReachOptions(**params)
    except GridmapError:
        raise _Refused("dash.err.mode") from None
    as_of = form.get("as_of", "").strip()
    if as_of:
        try:
            params["as_of"] = dt.date.fromisoformat(as_of).isoformat()
        except ValueError:
            raise _Refused("dash.err.as_of") from None
    label = form.get("label", "").replace("\x00", "").strip()[:200]
    if label:
        params["label"] = label
    return params


def _siting_params(form: dict[str, str]) -> dict[str, Any]:
    k = _number(form, "k", 0, 200)
    if k is None or k != int(k):
        raise _Refused("dash.err.k")
    params: dict[str, Any] = {
        "task": SITING,
        "k": int(k),
        "weight": _choice(form, "weight", _WEIGHTS),
        "mode": _choice(form, "mode", ("radius", "network")),
    }
    meters = _number(form, "reach", 0, 100_000)
    if meters is not None:
        params["meters"] = meters
    return params


async def _checked(request: Request, user: Account) -> dict[str, str] | Response:
    form = await _form(request)
    if user.role not in _RUNNERS or not _csrf_ok(request, form):
        return _render(request, "error.html", 403, user, title="forbidden.title",
                       body="forbidden.body")  # fmt: skip
    return form


async def start_coverage(request: Request, background: BackgroundTasks, user: Account) -> Response:
    """Queue a coverage run from the form and run it after the answer."""
    form = await _checked(request, user)
    if not isinstance(form, dict):
        return form
    try:
        params = _coverage_params(form)
    except _Refused as refused:
        return back_to(request, formerror=str(refused))
    store = get_store(request)
    job = create_job(store, params, user_id=user.id, username=user.username)
    background.add_task(run_job, store, job, get_settings(request).coverage)
    return back_to(request, job=str(job))


async def start_siting(request: Request, background: BackgroundTasks, user: Account) -> Response:
    """Queue a siting run (k new sites by weight) from the form and run it after the answer."""
    form = await _checked(request, user)
    if not isinstance(form, dict):
        return form
    try:
        params = _siting_params(form)
    except _Refused as refused:
        return back_to(request, formerror=str(refused))
    store = get_store(request)
    job = create_job(store, params, user_id=user.id, username=user.username)
    background.add_task(run_siting_job, store, job, get_settings(request).coverage)
    return back_to(request, job=str(job))
