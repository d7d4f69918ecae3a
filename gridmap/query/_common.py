"""What the query functions share: pages, id checks, the run a request reads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from gridmap.errors import NotFoundError
from gridmap.store import Store, models, table_of

__all__ = ["MAX_ID", "MAX_PAGE", "Page", "check_code", "check_id", "resolve_run"]

_CODE = re.compile(r"^[0-9A-Za-z_.*-]{1,32}$")

#: Largest id a store row has (32-bit integer keys); larger ids name nothing.
MAX_ID = 2**31 - 1
#: Most rows one page returns.
MAX_PAGE = 1000


@dataclass(frozen=True)
class Page:
    """One page of rows and how many there are in all."""

    items: list[dict[str, Any]]
    total: int


def check_id(value: int, what: str) -> int:
    """``value`` when it can name a row; :class:`NotFoundError` otherwise (never a DB error)."""
    if not 0 < value <= MAX_ID:
        msg = f"no {what} {value}"
        raise NotFoundError(msg)
    return value


def check_code(code: str, what: str) -> str:
    """``code`` when it can be a cell or area code (digits, letters, ``.-_*``); else 404."""
    if not _CODE.match(code):
        msg = f"no {what} {code[:40]!r}"
        raise NotFoundError(msg)
    return code


def check_page(limit: int, offset: int) -> tuple[int, int]:
    """A limit clipped to 1..MAX_PAGE and an offset clipped to 0..MAX_ID."""
    return max(1, min(limit, MAX_PAGE)), max(0, min(offset, MAX_ID))


def resolve_run(store: Store, run_id: int | None) -> int:
    """The run a request reads: ``run_id`` when it exists, else the newest one."""
    runs = table_of(models.CoverageRun)
    query = select(runs.c.id)
    if run_id is not None:
        query = query.where(runs.c.id == check_id(run_id, "coverage run"))
    else:
        query = query.order_by(runs.c.id.desc()).limit(1)
    with store.engine.connect() as conn:
        found = conn.execute(query).scalar()
    if found is None:
        msg = (
            f"no coverage run {run_id}"
            if run_id is not None
            else "no coverage run stored yet: run 'gridmap coverage run' or POST /api/runs"
        )
        raise NotFoundError(msg)
    return int(found)
