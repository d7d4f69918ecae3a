"""The department's dashboard: roll-up with drill-down, trend, lists (and their workbooks),
the area's map data, coverage and siting runs as background jobs, a run's downloads.

Departments, planners and admins only: a grid worker is sent to their cells (the page) or
told nothing is here (404, every other route). Every read goes through the scoped query
layer; a drill-down below the user's area narrows the scope to that area.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response

from gridmap._spreadsheet import write_xlsx
from gridmap.accounts import Account
from gridmap.domain import OrgKind, StationTier, UnitKind
from gridmap.errors import NotFoundError
from gridmap.query import (
    Scope,
    area_trend,
    cell_in_scope,
    job_of,
    runs_in_scope,
    units_of_cell,
)
from gridmap.query.dashboard import Drill, drill_down, must_units, workers_by_cell
from gridmap.query.dashboard_geo import cells_geojson, layers_geojson, parse_bbox
from gridmap.query.dashboard_jobs import recent_jobs
from gridmap.query.dashboard_run import blind_zone_rows, idle_rows, scoped_run, scoped_sites
from gridmap.report.labels import Lang
from gridmap.web.deps import get_settings, get_store
from gridmap.web.i18n import MESSAGES, translator
from gridmap.web.routes._dash_forms import start_coverage, start_siting
from gridmap.web.routes._dash_trend import RATES, trend_chart
from gridmap.web.routes.pages import _lang, _not_found, _page_user, _render, _to, templates

router = APIRouter(include_in_schema=False)

#: Rows each list shows in the page (its workbook has every row).
SHOWN = 20
_VIEWERS = ("admin", "department", "planner")
_LIST_COLUMNS: dict[str, list[str]] = {
    "must": ["name", "kind", "cell_code", "worker", "party_members", "org_status"],
    "idle": ["what", "name", "kind", "last_activity", "idle_days", "cell_code", "worker"],
    "zones": ["rank", "units", "population", "party_members", "must_have_branch",
              "area_m2", "priority", "cell_code", "worker"],
}  # fmt: skip


def _viewer(request: Request) -> Account | Response:
    """The signed-in dashboard user, or the answer for everyone else."""
    user = _page_user(request)
    if user is None:
        return _to("/", _lang(request))
    if user.role not in _VIEWERS:
        return _not_found(request, user)
    return user


def _int(value: str | None) -> int | None:
    try:
        return None if value is None else int(value)
    except ValueError:
        return -1  # names no run: a 404 like any other missing run


def _narrowed(user: Account, code: str) -> Scope:
    """The scope of a drill-down: the area itself (inside the user's scope, checked)."""
    return user.scope if code == "*" else Scope.area(code)


def _map_scope(request: Request, viewer: Account) -> Scope:
    """``?area=`` narrows the map to an area inside the user's scope (404 outside it)."""
    code = request.query_params.get("area")
    if code is None or code == "*":
        return viewer.scope
    if not code.isdigit() or not viewer.scope.covers_area(code):
        raise NotFoundError(f"no admin area {code[:40]!r}")
    return Scope.area(code)


def _trend(request: Request, user: Account, code: str) -> dict[str, Any]:
    try:
        points = area_trend(get_store(request), user.scope, code)
    except NotFoundError:
        points = []
    return trend_chart(points)


def _lists(request: Request, scope: Scope, drill: Drill) -> dict[str, list[dict[str, Any]]]:
    store, rules = get_store(request), get_settings(request).coverage
    code = str(drill.area["code"])
    return {
        "must": must_units(store, scope, drill.run, area_code=code),
        "idle": idle_rows(store, scope, rules, drill.run),
        "zones": blind_zone_rows(store, scope, rules, drill.run),
    }


def _job(request: Request, user: Account) -> dict[str, Any] | None:
    job_id = _int(request.query_params.get("job"))
    if job_id is None:
        return None
    try:
        return job_of(get_store(request), job_id, user_id=user.id)
    except NotFoundError:
        return None


def _formerror(request: Request) -> str | None:
    key = request.query_params.get("formerror", "")
    return key if key.startswith("dash.err.") and key in MESSAGES else None


def _cell(request: Request, scope: Scope, drill: Drill) -> dict[str, Any] | None:
    """``?cell=``: the cell (inside the drilled area) and its units; NotFoundError if not there."""
    code = request.query_params.get("cell")
    if code is None:
        return {}
    store = get_store(request)
    try:
        cell = cell_in_scope(store, scope, code, drill.run)
    except NotFoundError:
        return None
    units = units_of_cell(store, scope, code, drill.run)
    worker = workers_by_cell(store, [code]).get(code, "")
    return {"cell": cell, "cell_units": units, "cell_worker": worker}


@router.get("/dashboard")
def dashboard(request: Request) -> Response:
    """The roll-up of the user's area (or ``?area=`` below it), trend, lists, map, runs."""
    user = _page_user(request)
    if user is not None and user.role == "worker":
        return _to("/cells", _lang(request))
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    store = get_store(request)
    runs = runs_in_scope(store, viewer.scope)
    context: dict[str, Any] = {
        "runs": runs, "job": _job(request, viewer), "jobs": recent_jobs(store, viewer.id),
        "can_run": viewer.role in ("admin", "department"), "rates": RATES,
        "today": dt.date.today().isoformat(), "formerror": _formerror(request), "cell": None,
    }  # fmt: skip
    if not runs:
        return _render(request, "dashboard.html", user=viewer, drill=None, **context)
    asked = {"area", "run", "cell"} & set(request.query_params)
    try:
        drill = drill_down(
            store,
            viewer.scope,
            request.query_params.get("area"),
            _int(request.query_params.get("run")),
        )
    except NotFoundError:
        if asked:
            return _not_found(request, viewer)
        context["noarea"] = True  # the newest run has no roll-up for the user's area
        return _render(request, "dashboard.html", user=viewer, drill=None, **context)
    code = str(drill.area["code"])
    scope = _narrowed(viewer, code)
    cell = _cell(request, scope, drill)
    if cell is None:
        return _not_found(request, viewer)
    return _render(
        request,
        "dashboard.html",
        user=viewer,
        drill=drill,
        trend=_trend(request, viewer, code),
        lists=_lists(request, scope, drill),
        shown=SHOWN,
        area_q=quote(code),
        **(context | cell),
    )


def _xlsx(sheets: dict[str, pd.DataFrame], name: str) -> Response:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_xlsx(Path(tmp) / "list.xlsx", sheets)
        body = path.read_bytes()
    return _download(
        body, name, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )


def _download(body: bytes, name: str, media: str) -> Response:
    disposition = f'attachment; filename="{name.encode("ascii", "replace").decode()}"'
    headers = {"content-disposition": disposition, "cache-control": "no-store"}
    return Response(body, media_type=media, headers=headers)


def kind_label(row: dict[str, Any], lang: str) -> str:
    """A list row's kind in words: unit kind, organisation kind or station tier."""
    enum: Any = StationTier if row.get("what") == "station" else UnitKind
    if row.get("what") == "org":
        enum = OrgKind
    try:
        return str(enum(row.get("kind")).label(lang))
    except ValueError:
        return str(row.get("kind") or "")


def _list_frame(rows: list[dict[str, Any]], which: str, lang: str) -> pd.DataFrame:
    t = translator(lang)
    out = []
    for row in rows:
        shown = dict(row)
        if "kind" in shown:
            shown["kind"] = kind_label(row, lang)
        if "what" in shown:
            shown["what"] = t(f"dash.what.{row['what']}")
        if "org_status" in shown:
            shown["org_status"] = t(f"org.{row['org_status']}")
        out.append(shown)
    columns = _LIST_COLUMNS[which]
    frame = pd.DataFrame(out, columns=columns)
    return frame.set_axis([t(f"dash.col.{c}") for c in columns], axis="columns")


templates.env.globals["kind_label"] = kind_label


@router.get("/dashboard/lists/{which}.xlsx")
def list_workbook(which: str, request: Request) -> Response:
    """One list of the dashboard (应建未建, idle, blind zones) as a workbook, in scope."""
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    if which not in _LIST_COLUMNS:
        return _not_found(request, viewer)
    try:
        drill = drill_down(
            get_store(request),
            viewer.scope,
            request.query_params.get("area"),
            _int(request.query_params.get("run")),
        )
    except NotFoundError:
        return _not_found(request, viewer)
    lang = _lang(request)
    rows = _lists(request, _narrowed(viewer, str(drill.area["code"])), drill)[which]
    sheet = translator(lang)(f"dash.list.{which}")
    name = f"{which}-run{drill.run}-{drill.area['code']}.xlsx".replace("*", "all")
    return _xlsx({sheet[:31]: _list_frame(rows, which, lang)}, name)


@router.get("/dashboard/cells.geojson")
def cells_geo(request: Request) -> Response:
    """The run's cells in scope inside ``?bbox=w,s,e,n``, simplified for ``?zoom=``."""
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    zoom = _int(request.query_params.get("zoom"))
    zoom = 12 if zoom is None or zoom < 0 else zoom
    try:
        body = cells_geojson(
            get_store(request),
            _map_scope(request, viewer),
            _int(request.query_params.get("run")),
            bbox=parse_bbox(request.query_params.get("bbox")),
            zoom=max(0, min(zoom, 22)),
        )
    except NotFoundError:
        return _not_found(request, viewer)
    return Response(body, media_type="application/geo+json", headers={"cache-control": "no-store"})


@router.get("/dashboard/layers.json")
def layers(request: Request) -> Response:
    """Blind zones, stations, service areas and recommended sites of the run, in scope."""
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    store, rules = get_store(request), get_settings(request).coverage
    try:
        scope = _map_scope(request, viewer)
        data = layers_geojson(store, scope, rules, _int(request.query_params.get("run")))
    except NotFoundError:
        return _not_found(request, viewer)
    import json

    body = json.dumps(data, ensure_ascii=False, default=str)
    return Response(body, media_type="application/json", headers={"cache-control": "no-store"})


@router.post("/dashboard/runs")
async def run_submit(request: Request, background: BackgroundTasks) -> Response:
    """Start a coverage run from the form (mode, reach, as-of date); shows its progress."""
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    return await start_coverage(request, background, viewer)


@router.post("/dashboard/siting")
async def siting_submit(request: Request, background: BackgroundTasks) -> Response:
    """Start a siting run from the form (k new sites, weight); shows its progress."""
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    return await start_siting(request, background, viewer)


def _viewer_run(request: Request, run_id: int) -> tuple[Account, int] | Response:
    """The signed-in viewer and ``run_id`` when the run is in their scope, else the answer."""
    viewer = _viewer(request)
    if not isinstance(viewer, Account):
        return viewer
    runs = {int(r["id"]) for r in runs_in_scope(get_store(request), viewer.scope)}
    return (viewer, run_id) if run_id in runs else _not_found(request, viewer)


@router.get("/dashboard/runs/{run_id}/report.xlsx")
def run_report(run_id: int, request: Request) -> Response:
    """The workbook of a run, with only the user's area in it."""
    from gridmap.report import write_report

    found = _viewer_run(request, run_id)
    if isinstance(found, Response):
        return found
    viewer, run = found
    result, _ = scoped_run(get_store(request), viewer.scope, get_settings(request).coverage, run)
    lang: Lang = "en" if _lang(request) == "en" else "zh"
    with tempfile.TemporaryDirectory() as tmp:
        body = write_report(result, Path(tmp) / "report.xlsx", lang=lang).read_bytes()
    media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return _download(body, f"report-run{run}.xlsx", media)


@router.get("/dashboard/runs/{run_id}/map.html")
def run_map(run_id: int, request: Request) -> Response:
    """The offline HTML map of a run (one file), with only the user's area in it."""
    from gridmap.maps import export_html
    from gridmap.maps.from_coverage import map_data

    found = _viewer_run(request, run_id)
    if isinstance(found, Response):
        return found
    viewer, run = found
    store = get_store(request)
    result, inputs = scoped_run(store, viewer.scope, get_settings(request).coverage, run)
    lang: Lang = "en" if _lang(request) == "en" else "zh"
    data = map_data(result, sites=scoped_sites(store, viewer.scope, inputs), lang=lang)
    with tempfile.TemporaryDirectory() as tmp:
        body = export_html(data, Path(tmp) / "map.html", lang=lang, basemap="osm").read_bytes()
    return _download(body, f"map-run{run}.html", "text/html; charset=utf-8")
