"""Changes reported by visits: listed in scope, confirmed or rejected by a department."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from gridmap.accounts import Account
from gridmap.query import changes_in_scope, decide_change
from gridmap.web.deps import ActorDep, ScopeDep, StoreDep, require
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import LimitQuery, OffsetQuery, UtcDatetime

router = APIRouter(prefix="/api/changes", tags=["changes"], responses=ERROR_RESPONSES)


class ChangeOut(BaseModel):
    """A reported change and its decision."""

    id: int
    visit_id: int
    unit_id: int
    kind: str
    payload: dict[str, Any]
    status: Literal["pending", "confirmed", "rejected"]
    reported_by: int | None
    reported_at: UtcDatetime
    decided_by: int | None
    decided_at: UtcDatetime | None


class ChangePage(BaseModel):
    """A page of changes, newest first."""

    items: list[ChangeOut]
    total: int


@router.get("", response_model=ChangePage)
def changes(
    store: StoreDep,
    scope: ScopeDep,
    status: Annotated[
        Literal["pending", "confirmed", "rejected"] | None, Query(description="only this status")
    ] = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> ChangePage:
    """Reported changes to units the caller may see."""
    page = changes_in_scope(store, scope, status=status, limit=limit, offset=offset)
    return ChangePage(items=[ChangeOut(**c) for c in page.items], total=page.total)


Decider = Annotated[Account, Depends(require("admin", "department"))]


@router.post("/{change_id}/confirm", response_model=ChangeOut)
def confirm(change_id: int, store: StoreDep, actor: ActorDep, _: Decider) -> ChangeOut:
    """Apply a pending change to the records (the next run reflects it); audited."""
    return ChangeOut(**decide_change(store, actor, change_id, confirm=True))


@router.post("/{change_id}/reject", response_model=ChangeOut)
def reject(change_id: int, store: StoreDep, actor: ActorDep, _: Decider) -> ChangeOut:
    """Reject a pending change: the records stay as they are; audited."""
    return ChangeOut(**decide_change(store, actor, change_id, confirm=False))
