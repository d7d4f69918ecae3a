"""Sign-in with lockout, and server-side sessions.

A session token is 32 random bytes handed to the client once; the store keeps only
``HMAC(secret_key, token)``, so a copy of the database cannot be replayed as a session
and logging out or disabling an account ends a session at once. The CSRF token of a
session is derived from its token the same way, so it needs no storage.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass

from sqlalchemy import Connection, Table, delete, select, update

from gridmap.accounts.audit import record, utcnow
from gridmap.accounts.passwords import dummy_verify, verify_password
from gridmap.accounts.users import Account
from gridmap.errors import AuthenticationError
from gridmap.settings import WebSettings
from gridmap.store import Store, models, table_of

__all__ = ["LoginResult", "authenticate", "csrf_token", "end_session", "session_user"]

logger = logging.getLogger(__name__)

#: One answer for every failed sign-in: it never tells whether the username exists.
LOGIN_REFUSED = (
    "用户名或密码错误，或账户已暂时锁定 / wrong username or password, or the account is "
    "locked for a while after repeated failures; try again later or ask an administrator"
)


def _users() -> Table:
    return table_of(models.User)


def _sessions() -> Table:
    return table_of(models.WebSession)


def _keyed(secret: str, message: str) -> str:
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def token_hash(token: str, secret: str) -> str:
    """What the store keeps of a session token."""
    return _keyed(secret, "session:" + token)


def csrf_token(token: str, secret: str) -> str:
    """The CSRF token that goes with a session token (sent back in ``X-CSRF-Token``)."""
    return _keyed(secret, "csrf:" + token)


@dataclass(frozen=True)
class LoginResult:
    """A new session: its token (given to the client once) and the account."""

    token: str
    account: Account
    expires_at: dt.datetime


def _refuse(conn: Connection, username: str, reason: str, user_id: int | None = None) -> None:
    record(
        conn,
        actor=username if user_id is not None else "-",
        action="login.failed",
        entity="user",
        entity_id=user_id,
        reason=reason,
        username=username[:100],
    )


def _count_failure(conn: Connection, user_id: int, failed: int, web: WebSettings) -> str:
    now = utcnow()
    if failed + 1 >= web.max_failed_logins:
        until = now + dt.timedelta(minutes=web.lockout_minutes)
        conn.execute(
            update(_users())
            .where(_users().c.id == user_id)
            .values(failed_logins=0, locked_until=until)
        )
        logger.warning("account %d locked until %s after failed logins", user_id, until)
        return "locked"
    conn.execute(
        update(_users())
        .where(_users().c.id == user_id)
        .values(failed_logins=_users().c.failed_logins + 1)
    )
    return "wrong password"


def _check(conn: Connection, username: str, password: str, web: WebSettings) -> Account | None:
    """The account when the password is right and it is usable; records every refusal."""
    row = conn.execute(select(_users()).where(_users().c.username == username)).first()
    if row is None:
        dummy_verify(password)
        _refuse(conn, username, "unknown user")
        return None
    if row.locked_until is not None and row.locked_until > utcnow():
        dummy_verify(password)
        _refuse(conn, username, "locked", row.id)
        return None
    if not verify_password(password, row.password_hash):
        _refuse(conn, username, _count_failure(conn, row.id, row.failed_logins, web), row.id)
        return None
    if not row.active:
        _refuse(conn, username, "disabled", row.id)
        return None
    return Account.from_row(row)


def authenticate(
    store: Store, username: str, password: str, *, web: WebSettings, secret: str
) -> LoginResult:
    """Check a password and open a session; :class:`AuthenticationError` on any refusal."""
    with store.engine.begin() as conn:
        account = _check(conn, username, password, web)
        if account is not None:
            result = _open_session(conn, account, web, secret)
    if account is None:
        raise AuthenticationError(LOGIN_REFUSED)
    return result


def _open_session(conn: Connection, account: Account, web: WebSettings, secret: str) -> LoginResult:
    now = utcnow()
    token = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(minutes=web.session_minutes)
    conn.execute(
        delete(_sessions()).where(
            (_sessions().c.user_id == account.id) & (_sessions().c.expires_at <= now)
        )
    )
    conn.execute(
        _sessions()
        .insert()
        .values(
            token_hash=token_hash(token, secret),
            user_id=account.id,
            created_at=now,
            expires_at=expires,
        )
    )
    conn.execute(
        update(_users())
        .where(_users().c.id == account.id)
        .values(failed_logins=0, locked_until=None, last_login_at=now)
    )
    record(conn, actor=account.username, action="login", entity="user", entity_id=account.id)
    return LoginResult(token=token, account=account, expires_at=expires)


def session_user(store: Store, token: str, *, secret: str) -> Account | None:
    """The active account of an unexpired session, or None."""
    if not token or len(token) > 200:
        return None
    query = (
        select(_users())
        .join(_sessions(), _sessions().c.user_id == _users().c.id)
        .where(
            (_sessions().c.token_hash == token_hash(token, secret))
            & (_sessions().c.expires_at > utcnow())
            & _users().c.active.is_(True)
        )
    )
    with store.engine.connect() as conn:
        row = conn.execute(query).first()
    return None if row is None else Account.from_row(row)


def end_session(store: Store, token: str, *, secret: str, actor: str) -> None:
    """Log out: the session's row is deleted, the token is worthless from now on."""
    with store.engine.begin() as conn:
        conn.execute(
            delete(_sessions()).where(_sessions().c.token_hash == token_hash(token, secret))
        )
        record(conn, actor=actor, action="logout", entity="user")
