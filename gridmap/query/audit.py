"""The audit log, newest first (admins only: the route checks the role)."""

from __future__ import annotations

from sqlalchemy import func, select

from gridmap.query._common import Page, check_page
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["audit_entries"]


def audit_entries(
    store: Store, scope: Scope, *, action: str | None = None, limit: int = 100, offset: int = 0
) -> Page:
    """Audit rows; only an ``all`` scope sees any (the log spans every area)."""
    table = table_of(models.AuditLog)
    if scope.kind != "all":
        return Page(items=[], total=0)
    limit, offset = check_page(limit, offset)
    where = table.c.action == action if action is not None else table.c.id > 0
    with store.engine.connect() as conn:
        total = conn.execute(select(func.count()).select_from(table).where(where)).scalar()
        rows = conn.execute(
            select(table).where(where).order_by(table.c.id.desc()).limit(limit).offset(offset)
        ).all()
    return Page(items=[dict(r._mapping) for r in rows], total=int(total or 0))
