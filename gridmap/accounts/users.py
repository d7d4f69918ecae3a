"""Users: add, list, change a password, disable. Every change goes to the audit log."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Literal, get_args

from sqlalchemy import Connection, Table, delete, func, select, update

from gridmap.accounts.audit import record, utcnow
from gridmap.accounts.passwords import check_password_policy, hash_password
from gridmap.errors import InvalidInputError, NotFoundError
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = [
    "ROLES",
    "Account",
    "Role",
    "add_user",
    "disable_user",
    "enable_user",
    "get_account",
    "list_users",
    "set_password",
    "set_scope",
]

Role = Literal["admin", "department", "planner", "worker"]
ROLES: tuple[str, ...] = get_args(Role)

_USERNAME = re.compile(r"^[\w.@-]{2,64}$")


def _users() -> Table:
    return table_of(models.User)


@dataclass(frozen=True)
class Account:
    """A user as the app sees it (never with the password hash)."""

    id: int
    username: str
    role: str
    area_code: str | None
    worker_id: int | None
    active: bool
    locked_until: dt.datetime | None
    created_at: dt.datetime | None
    last_login_at: dt.datetime | None

    @property
    def scope(self) -> Scope:
        """What this user may see: admins everything, workers their cells, others an area."""
        if self.role == "admin":
            return Scope.everything()
        if self.role in ("department", "planner") and (self.area_code or "").isdigit():
            return Scope.area(str(self.area_code))
        # a worker's cells; an account whose scope was lost sees nothing (no worker has id -1)
        return Scope.worker(self.worker_id if self.worker_id is not None else -1)

    @classmethod
    def from_row(cls, row: Any) -> Account:
        return cls(
            id=int(row.id),
            username=str(row.username),
            role=str(row.role),
            area_code=row.area_code,
            worker_id=row.worker_id,
            active=bool(row.active),
            locked_until=row.locked_until,
            created_at=row.created_at,
            last_login_at=row.last_login_at,
        )


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        msg = (
            f"username {username!r} refused: use 2-64 letters, digits or . _ @ - "
            "(no spaces), e.g. wangfang"
        )
        raise InvalidInputError(msg)


def _worker_id(conn: Connection, worker: str) -> int:
    """A worker record by its source id (``W01``) or ``SOURCE:SOURCE_ID``."""
    table = table_of(models.Worker)
    source, sep, source_id = worker.rpartition(":")
    query = select(table.c.id).where(table.c.source_id == (source_id if sep else worker))
    if sep:
        query = query.where(table.c.source == source)
    found = conn.execute(query).scalars().all()
    if len(found) == 1:
        return int(found[0])
    if not found:
        msg = f"no grid worker {worker!r}: import workers first (ingest layer --kind worker)"
        raise NotFoundError(msg)
    msg = f"worker {worker!r} exists in {len(found)} sources: give it as SOURCE:{worker}"
    raise InvalidInputError(msg)


def _check_area(conn: Connection, code: str) -> None:
    table = table_of(models.AdminArea)
    if not code.isdigit():
        msg = f"--area takes an admin code such as 360681001, got {code!r}"
        raise InvalidInputError(msg)
    if conn.execute(select(table.c.id).where(table.c.code == code)).first() is None:
        msg = f"no admin area with code {code!r}: 'gridmap export areas --out areas.csv' lists them"
        raise NotFoundError(msg)


def _scope_values(
    conn: Connection, role: str, area: str | None, worker: str | None
) -> dict[str, Any]:
    if role not in ROLES:
        msg = f"role must be one of {', '.join(ROLES)}, got {role!r}"
        raise InvalidInputError(msg)
    if role == "worker":
        if worker is None or area is not None:
            msg = "a worker account needs --worker SOURCE_ID (their cells) and no --area"
            raise InvalidInputError(msg)
        return {"area_code": None, "worker_id": _worker_id(conn, worker)}
    if worker is not None:
        msg = f"--worker is only for role worker, not {role}"
        raise InvalidInputError(msg)
    if role == "admin":
        if area is not None:
            msg = "an admin sees everything: leave out --area"
            raise InvalidInputError(msg)
        return {"area_code": None, "worker_id": None}
    if area is None:
        msg = f"a {role} account needs --area CODE (the admin area it sees, and all below)"
        raise InvalidInputError(msg)
    _check_area(conn, area)
    return {"area_code": area, "worker_id": None}


def add_user(
    store: Store,
    username: str,
    password: str,
    *,
    role: str,
    area: str | None = None,
    worker: str | None = None,
    min_length: int = 10,
    actor: str = "cli",
) -> Account:
    """Create an account; the password is checked against the policy and stored hashed."""
    _check_username(username)
    check_password_policy(password, username, min_length=min_length)
    with store.engine.begin() as conn:
        scope = _scope_values(conn, role, area, worker)
        taken = select(_users().c.id).where(func.lower(_users().c.username) == username.lower())
        if conn.execute(taken).first() is not None:
            msg = f"user {username!r} exists already: 'gridmap user passwd' changes a password"
            raise InvalidInputError(msg)
        values = {
            "username": username,
            "password_hash": hash_password(password),
            "role": role,
            "active": True,
            "failed_logins": 0,
            "created_at": utcnow(),
            **scope,
        }
        user_id = conn.execute(
            _users().insert().values(**values).returning(_users().c.id)
        ).scalar_one()
        record(
            conn,
            actor=actor,
            action="user.add",
            entity="user",
            entity_id=int(user_id),
            after={"username": username, "role": role, **scope},
        )
    return get_account(store, username)


def get_account(store: Store, username: str) -> Account:
    """One account by username."""
    with store.engine.connect() as conn:
        row = conn.execute(select(_users()).where(_users().c.username == username)).first()
    if row is None:
        msg = f"no user {username!r}: 'gridmap user list' shows the accounts"
        raise NotFoundError(msg)
    return Account.from_row(row)


def list_users(store: Store) -> list[Account]:
    """Every account, by username."""
    with store.engine.connect() as conn:
        rows = conn.execute(select(_users()).order_by(_users().c.username)).all()
    return [Account.from_row(r) for r in rows]


def set_password(
    store: Store, username: str, password: str, *, min_length: int = 10, actor: str = "cli"
) -> None:
    """Change a password; ends the user's sessions and lifts a lock."""
    account = get_account(store, username)
    check_password_policy(password, username, min_length=min_length)
    with store.engine.begin() as conn:
        conn.execute(
            update(_users())
            .where(_users().c.id == account.id)
            .values(password_hash=hash_password(password), failed_logins=0, locked_until=None)
        )
        _end_sessions(conn, account.id)
        record(conn, actor=actor, action="user.passwd", entity="user", entity_id=account.id)


def disable_user(store: Store, username: str, *, actor: str = "cli") -> None:
    """Disable an account: it can no longer sign in and its sessions end at once."""
    account = get_account(store, username)
    with store.engine.begin() as conn:
        conn.execute(update(_users()).where(_users().c.id == account.id).values(active=False))
        _end_sessions(conn, account.id)
        record(
            conn,
            actor=actor,
            action="user.disable",
            entity="user",
            entity_id=account.id,
            before={"active": account.active},
            after={"active": False},
        )


def _end_sessions(conn: Connection, user_id: int) -> None:
    sessions = table_of(models.WebSession)
    conn.execute(delete(sessions).where(sessions.c.user_id == user_id))


def set_scope(
    store: Store,
    username: str,
    *,
    role: str,
    area: str | None = None,
    worker: str | None = None,
    actor: str = "cli",
) -> Account:
    """Change an account's role and scope (checked as :func:`add_user` checks them); its
    sessions end, so the new scope holds from the next sign-in."""
    account = get_account(store, username)
    with store.engine.begin() as conn:
        scope = _scope_values(conn, role, area, worker)
        conn.execute(update(_users()).where(_users().c.id == account.id).values(role=role, **scope))
        _end_sessions(conn, account.id)
        before = {"role": account.role, "area_code": account.area_code,
                  "worker_id": account.worker_id}  # fmt: skip
        record(conn, actor=actor, action="user.scope", entity="user", entity_id=account.id,
               before=before, after={"role": role, **scope})  # fmt: skip
    return get_account(store, username)


def enable_user(store: Store, username: str, *, actor: str = "cli") -> None:
    """Let a disabled account sign in again (lifts a lock too)."""
    account = get_account(store, username)
    with store.engine.begin() as conn:
        conn.execute(
            update(_users())
            .where(_users().c.id == account.id)
            .values(active=True, failed_logins=0, locked_until=None)
        )
        record(conn, actor=actor, action="user.enable", entity="user", entity_id=account.id,
               before={"active": account.active}, after={"active": True})  # fmt: skip
