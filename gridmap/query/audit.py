"""The audit log, newest first (admins only: the route checks the role)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, func, select, true

from gridmap.query._common import Page, check_page
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["audit_entries"]


def audit_entries(
    store: Store,
    scope: Scope,
    *,
    action: str | None = None,
    actor: str | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    limit: int = 100,
    offset: int = 0,
) -> Page:
    """Audit rows, optionally of one action (or action prefix ending in ``.``), one actor,
    and days ``since``..``until`` (inclusive, UTC); only an ``all`` scope sees any."""
    table = table_of(models.AuditLog)
    if scope.kind != "all":
        return Page(items=[], total=0)
    limit, offset = check_page(limit, offset)
    where: ColumnElement[bool] = true()
    if action is not None:
        where = where & (
            table.c.action.startswith(action, autoescape=True)
            if action.endswith(".")
            else table.c.action == action
        )
    if actor is not None:
        where = where & (table.c.actor == actor)
    if since is not None:
        where = where & (table.c.at >= dt.datetime.combine(since, dt.time()))
    if until is not None:
        where = where & (table.c.at < dt.datetime.combine(until + dt.timedelta(days=1), dt.time()))
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(table).where(where)).scalar()
        rows = conn.execute(
            select(table).where(where).order_by(table.c.id.desc()).limit(limit).offset(offset)
        ).all()
    return Page(items=[dict(r._mapping) for r in rows], total=int(total or 0))
