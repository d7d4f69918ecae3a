"""What the department's dashboard reads: the roll-up with drill-down, cell rates, 应建未建
units and the workers of cells, every read filtered by a :class:`Scope` in SQL.

Area rows come from the run's stored roll-up (``coverage_run.areas``), so the numbers are
the run's own; a cell's rates are counted from the run's stored units of that cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, case, func, select

from gridmap.errors import NotFoundError
from gridmap.query._common import check_code, resolve_run
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = [
    "Drill",
    "cell_rates",
    "drill_down",
    "home_area",
    "must_units",
    "scope_cell_codes",
    "workers_by_cell",
]

#: Most rows a dashboard list shows or exports.
LIST_LIMIT = 5000
_ORG = ("own", "joint", "hosted")


def _runs() -> Table:
    return table_of(models.CoverageRun)


def _cells() -> Table:
    return table_of(models.CoverageCell)


def _units() -> Table:
    return table_of(models.CoverageUnit)


def home_area(scope: Scope) -> str:
    """The area a scope's dashboard opens on: its own area, or ``*`` (the total) for all."""
    if scope.kind == "area":
        return str(scope.area_code)
    if scope.kind == "all":
        return "*"
    msg = "a grid worker has no dashboard: the worker pages are at /cells"
    raise NotFoundError(msg)


def _covers(scope: Scope, code: str) -> bool:
    return scope.kind == "all" or (code != "*" and scope.covers_area(code))


def _children(areas: list[dict[str, Any]], code: str) -> list[dict[str, Any]]:
    """The areas directly below ``code``: below it by prefix, with no area in between."""
    below = [
        a
        for a in areas
        if a["code"] not in ("*", code) and (code == "*" or a["code"].startswith(code))
    ]
    codes = [str(a["code"]) for a in below]
    direct = [
        a for a in below if not any(a["code"] != c and a["code"].startswith(c) for c in codes)
    ]
    return sorted(direct, key=lambda a: str(a["code"]))


@dataclass(frozen=True)
class Drill:
    """One step of the drill-down: an area, its parents up to the scope's, what lies below."""

    run: int
    area: dict[str, Any]
    trail: list[dict[str, Any]]
    children: list[dict[str, Any]]
    cells: list[dict[str, Any]]


def _trail(areas: list[dict[str, Any]], home: str, code: str) -> list[dict[str, Any]]:
    """The areas from the scope's home down to (not including) ``code``."""
    by_code = {str(a["code"]): a for a in areas}
    found = [
        a
        for c, a in by_code.items()
        if c != code and c.startswith("" if home == "*" else home) and code.startswith(c)
    ]
    head = [by_code[home]] if home == "*" and code != "*" and home in by_code else []
    return head + sorted(found, key=lambda a: len(str(a["code"])))


def drill_down(store: Store, scope: Scope, code: str | None, run_id: int | None = None) -> Drill:
    """The roll-up of ``code`` (the scope's own area by default) and the rows below it:
    its sub-areas, or, at the lowest level, its cells with their rates. 404 outside scope."""
    home = home_area(scope)
    code = home if code is None else check_code(code, "admin area")
    if not _covers(scope, code):
        msg = f"no admin area {code!r}"
        raise NotFoundError(msg)
    run = resolve_run(store, run_id)
    with store.engine.connect() as conn:
        areas = conn.execute(select(_runs().c.areas).where(_runs().c.id == run)).scalar_one()
    areas = [a for a in areas or [] if a.get("code") is not None]
    area = next((a for a in areas if str(a["code"]) == code), None)
    if area is None:
        msg = f"no admin area {code!r} in run {run}"
        raise NotFoundError(msg)
    children = [a for a in _children(areas, code) if _covers(scope, str(a["code"]))]
    cells = [] if children or code == "*" else cell_rates(store, scope, run, area_code=code)
    return Drill(run, area, _trail(areas, home, code), children, cells)


def _unit_in_scope(scope: Scope, run: int) -> Any:
    """SQL: the run's units whose stored cell is in scope (the cell's area or assignment)."""
    units, cells = _units(), _cells()
    where = units.c.run_id == run
    if scope.kind == "all":
        return where
    cell_where = (cells.c.run_id == run) & (cells.c.code == units.c.cell_code)
    if scope.kind == "area":
        cell_where = cell_where & scope.area_filter(cells.c.area_code)
    else:
        cell_where = cell_where & cells.c.code.in_(scope.cell_codes())
    return where & select(cells.c.code).where(cell_where).exists()


def _count(condition: Any) -> Any:
    return func.sum(case((condition, 1), else_=0))


def cell_rates(
    store: Store, scope: Scope, run_id: int | None = None, *, area_code: str
) -> list[dict[str, Any]]:
    """Each cell of ``area_code`` in a run with the rates of its units, by code, the cells
    without units last (a community often has many)."""
    run = resolve_run(store, run_id)
    cells, units = _cells(), _units()
    where = (cells.c.run_id == run) & (cells.c.area_code == area_code)
    if scope.kind == "area":
        where = where & scope.area_filter(cells.c.area_code)
    elif scope.kind == "worker":
        where = where & cells.c.code.in_(scope.cell_codes())
    status = units.c.org_status
    counts = (
        select(
            units.c.cell_code,
            _count(status.in_(_ORG)).label("org_covered"),
            *[_count(status == k).label(f"{k}_covered") for k in _ORG],
            _count(status == "instructor").label("work_covered"),
            func.sum(case((units.c.service_covered, func.coalesce(units.c.population, 0)), else_=0))
            .label("population_covered"),
            func.sum(func.coalesce(units.c.population, 0)).label("population"),
        )
        .where(units.c.run_id == run)
        .group_by(units.c.cell_code)
        .subquery()
    )  # fmt: skip
    query = (
        select(cells, *[c for c in counts.c if c.name != "cell_code"])
        .select_from(cells.outerjoin(counts, counts.c.cell_code == cells.c.code))
        .where(where)
        .order_by(cells.c.code)
    )
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    cells_out = [_cell_row(dict(r)) for r in rows]
    return sorted(cells_out, key=lambda c: (c["units"] == 0, c["code"]))  # empty cells last


def _ratio(part: Any, whole: Any) -> float | None:
    return None if not whole else float(part or 0) / float(whole)


def _cell_row(row: dict[str, Any]) -> dict[str, Any]:
    n = int(row["units_total"])
    org = int(row.get("org_covered") or 0)
    work = int(row.get("work_covered") or 0)
    out = {
        "code": row["code"],
        "name": row["name"],
        "status": row["status"],
        "units": n,
        "org_rate": _ratio(org, n),
        "work_rate": _ratio(work, n),
        "combined_rate": _ratio(org + work, n),
        "service_rate": _ratio(row["units_covered"], n),
        "service_population_rate": _ratio(row["population_covered"], row["population_total"]),
        "must_have_branch": int(row["must_have_branch"]),
        "branch_idle": None,  # not kept per cell: the area rows have them
        "idle_orgs": None,
    }
    for kind in _ORG:
        out[f"{kind}_rate"] = _ratio(row.get(f"{kind}_covered"), n)
    return out


def scope_cell_codes(store: Store, scope: Scope, run_id: int | None = None) -> set[str]:
    """The codes of a run's cells in scope (to filter what a run recomputes)."""
    run = resolve_run(store, run_id)
    cells = _cells()
    where = cells.c.run_id == run
    if scope.kind == "area":
        where = where & scope.area_filter(cells.c.area_code)
    elif scope.kind == "worker":
        where = where & cells.c.code.in_(scope.cell_codes())
    with store.engine.connect() as conn:
        return {str(c) for c in conn.execute(select(cells.c.code).where(where)).scalars()}


def workers_by_cell(store: Store, codes: Iterable[str]) -> dict[str, str]:
    """The grid workers of each cell code, their names joined by ``、``."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    cells, links, workers = (
        table_of(models.GridCell), table_of(models.WorkerCell), table_of(models.Worker)
    )  # fmt: skip
    query = (
        select(cells.c.code, workers.c.name)
        .select_from(
            cells.join(links, links.c.cell_id == cells.c.id).join(
                workers, workers.c.id == links.c.worker_id
            )
        )
        .order_by(cells.c.code, workers.c.name)
    )
    names: dict[str, list[str]] = {}
    with store.engine.connect() as conn:
        for chunk in range(0, len(wanted), 500):
            part = query.where(cells.c.code.in_(wanted[chunk : chunk + 500]))
            for code, name in conn.execute(part):
                names.setdefault(str(code), []).append(str(name))
    return {code: "、".join(n) for code, n in names.items()}


def must_units(
    store: Store, scope: Scope, run_id: int | None = None, *, area_code: str | None = None
) -> list[dict[str, Any]]:
    """The run's 应建未建 units in scope (below ``area_code`` when given), with cell and worker."""
    run = resolve_run(store, run_id)
    units, cells = _units(), _cells()
    where = _unit_in_scope(scope, run) & units.c.must_have_branch.is_(True)
    query = select(
        units.c.unit_id, units.c.name, units.c.kind, units.c.cell_code, units.c.party_members,
        units.c.org_status, units.c.lon, units.c.lat,
    ).where(where)  # fmt: skip
    if area_code not in (None, "*"):
        inside = select(cells.c.code).where(
            and_(cells.c.run_id == run, cells.c.code == units.c.cell_code)
            & cells.c.area_code.startswith(str(area_code), autoescape=True)
        )
        query = query.where(inside.exists())
    with store.engine.connect() as conn:
        rows = [dict(r) for r in conn.execute(query.limit(LIST_LIMIT)).mappings()]
    rows.sort(key=lambda r: (-(r["party_members"] or 0), str(r["cell_code"]), r["unit_id"]))
    workers = workers_by_cell(store, (str(r["cell_code"]) for r in rows if r["cell_code"]))
    return [r | {"worker": workers.get(str(r["cell_code"]), "")} for r in rows]
