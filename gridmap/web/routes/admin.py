"""For admins: the accounts and the audit log."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from gridmap.accounts import Account, list_users
from gridmap.query import audit_entries
from gridmap.web.deps import ScopeDep, StoreDep, require
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import LimitQuery, OffsetQuery, UtcDatetime

router = APIRouter(tags=["admin"], responses=ERROR_RESPONSES)

Admin = Annotated[Account, Depends(require("admin"))]


class UserOut(BaseModel):
    """An account (never its password hash)."""

    username: str
    role: str
    area_code: str | None
    worker_id: int | None
    active: bool
    locked_until: UtcDatetime | None
    created_at: UtcDatetime | None
    last_login_at: UtcDatetime | None


class UserPage(BaseModel):
    """Every account."""

    items: list[UserOut]
    total: int


class AuditOut(BaseModel):
    """One audit row: who did what to which record, with before / after."""

    id: int
    at: UtcDatetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any] | None


class AuditPage(BaseModel):
    """A page of the audit log, newest first."""

    items: list[AuditOut]
    total: int


@router.get("/api/users", response_model=UserPage)
def users(store: StoreDep, _: Admin) -> UserPage:
    """Every account with its role, scope and lock state (``gridmap user`` manages them)."""
    accounts = list_users(store)
    items = [UserOut(**{k: getattr(a, k) for k in UserOut.model_fields}) for a in accounts]
    return UserPage(items=items, total=len(items))


@router.get("/api/audit", response_model=AuditPage)
def audit(
    store: StoreDep,
    scope: ScopeDep,
    _: Admin,
    action: Annotated[str | None, Query(max_length=40, pattern=r"^[a-z._]+$")] = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> AuditPage:
    """The audit log: every login, write and confirmation, newest first."""
    page = audit_entries(store, scope, action=action, limit=limit, offset=offset)
    return AuditPage(items=[AuditOut(**e) for e in page.items], total=page.total)
