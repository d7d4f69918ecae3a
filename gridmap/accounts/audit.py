"""The audit log of the web app and account commands: who did what to which record, when."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, insert

from gridmap.store import models, table_of

__all__ = ["record", "utcnow"]


def utcnow() -> dt.datetime:
    """Now in UTC, naive (how the store keeps times on both backends)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def record(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: int | None = None,
    before: Any = None,
    after: Any = None,
    **extra: Any,
) -> None:
    """Append one audit row in the caller's transaction (it commits or rolls back with it)."""
    table = table_of(models.AuditLog)
    detail = {"before": before, "after": after, **extra}
    conn.execute(
        insert(table).values(
            at=utcnow(),
            actor=actor[:100],
            action=action[:40],
            entity=entity[:40],
            entity_id=entity_id if entity_id is not None and 0 < entity_id < 2**31 else None,
            detail=detail,
        )
    )
