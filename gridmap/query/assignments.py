"""Which grid worker has which cell (``worker_cell``): listed, added, removed; audited.

Admins manage these from ``/admin/assignments``; a worker's scope is exactly their rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, func, select

from gridmap.accounts.audit import record
from gridmap.errors import InvalidInputError, NotFoundError
from gridmap.query._common import Page, check_code, check_page
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["assign_cell", "assignments_in_scope", "unassign_cell", "workers_in_scope"]


def _ids(conn: Any, worker: str, cell: str) -> tuple[int, int]:
    workers, cells = table_of(models.Worker), table_of(models.GridCell)
    found = conn.execute(select(workers.c.id).where(workers.c.source_id == worker)).scalars().all()
    if len(found) != 1:
        msg = (
            f"no grid worker {worker!r}"
            if not found
            else f"worker {worker!r} is in several sources"
        )
        raise NotFoundError(msg) if not found else InvalidInputError(msg)
    cell_id = conn.execute(
        select(cells.c.id).where(cells.c.code == check_code(cell, "grid cell"))
    ).scalar()
    if cell_id is None:
        msg = f"no grid cell {cell!r}"
        raise NotFoundError(msg)
    return int(found[0]), int(cell_id)


def assignments_in_scope(store: Store, scope: Scope, *, limit: int = 1000, offset: int = 0) -> Page:
    """Every (worker, cell) pair of cells in ``scope``, by cell code."""
    links, workers, cells = (
        table_of(models.WorkerCell),
        table_of(models.Worker),
        table_of(models.GridCell),
    )
    limit, offset = check_page(limit, offset)
    where = links.c.cell_id.in_(scope.cell_ids())
    query = (
        select(
            workers.c.source_id.label("worker"),
            workers.c.name.label("worker_name"),
            cells.c.code.label("cell"),
            cells.c.name.label("cell_name"),
        )
        .join(workers, workers.c.id == links.c.worker_id)
        .join(cells, cells.c.id == links.c.cell_id)
        .where(where)
        .order_by(cells.c.code, workers.c.source_id)
    )
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(links).where(where)).scalar()
        rows = conn.execute(query.limit(limit).offset(offset)).all()
    return Page(items=[dict(r._mapping) for r in rows], total=int(total or 0))


def workers_in_scope(store: Store, scope: Scope) -> list[dict[str, Any]]:
    """The grid workers (an ``all`` scope sees every one; others none), by source id."""
    if scope.kind != "all":
        return []
    workers = table_of(models.Worker)
    with store.engine.connect() as conn:
        rows = conn.execute(
            select(workers.c.source_id, workers.c.name).order_by(workers.c.source_id)
        ).all()
    return [dict(r._mapping) for r in rows]


def _admin_only(scope: Scope) -> None:
    if scope.kind != "all":
        msg = "only an admin changes which worker has which cell"
        raise NotFoundError(msg)


def assign_cell(store: Store, scope: Scope, worker: str, cell: str, *, actor: str) -> bool:
    """Give ``cell`` to ``worker`` (source id such as W01); False when it was theirs already."""
    _admin_only(scope)
    links = table_of(models.WorkerCell)
    with store.engine.begin() as conn:
        worker_id, cell_id = _ids(conn, worker, cell)
        where = (links.c.worker_id == worker_id) & (links.c.cell_id == cell_id)
        if conn.execute(select(links.c.cell_id).where(where)).first() is not None:
            return False
        conn.execute(links.insert().values(worker_id=worker_id, cell_id=cell_id))
        record(conn, actor=actor, action="assignment.add", entity="worker_cell",
               entity_id=cell_id, after={"worker": worker, "cell": cell})  # fmt: skip
    return True


def unassign_cell(store: Store, scope: Scope, worker: str, cell: str, *, actor: str) -> bool:
    """Take ``cell`` from ``worker``; False when it was not theirs."""
    _admin_only(scope)
    links = table_of(models.WorkerCell)
    with store.engine.begin() as conn:
        worker_id, cell_id = _ids(conn, worker, cell)
        where = (links.c.worker_id == worker_id) & (links.c.cell_id == cell_id)
        if conn.execute(delete(links).where(where)).rowcount == 0:
            return False
        record(conn, actor=actor, action="assignment.remove", entity="worker_cell",
               entity_id=cell_id, before={"worker": worker, "cell": cell})  # fmt: skip
    return True
