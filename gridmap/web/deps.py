"""Dependencies every route uses: the store, the settings, the signed-in user, their scope."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from gridmap.accounts import Account, csrf_token, session_user
from gridmap.errors import AuthenticationError, PermissionDeniedError
from gridmap.query import Actor, Scope
from gridmap.settings import Settings
from gridmap.store import Store

__all__ = [
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SESSION_COOKIE",
    "ActorDep",
    "ScopeDep",
    "SettingsDep",
    "StoreDep",
    "UserDep",
    "require",
]

SESSION_COOKIE = "gridmap_session"
CSRF_COOKIE = "gridmap_csrf"
CSRF_HEADER = "X-CSRF-Token"
_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})

_bearer = HTTPBearer(auto_error=False, description="the access_token of POST /api/auth/login")
_cookie = APIKeyCookie(name=SESSION_COOKIE, auto_error=False, description="the session cookie")


def get_store(request: Request) -> Store:
    """The app's store (opened once by :func:`gridmap.web.create_app`)."""
    store: Store = request.app.state.store
    return store


def get_settings(request: Request) -> Settings:
    """The settings the app was built with."""
    settings: Settings = request.app.state.settings
    return settings


StoreDep = Annotated[Store, Depends(get_store)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


def _check_csrf(request: Request, token: str, secret: str) -> None:
    sent = request.headers.get(CSRF_HEADER, "")
    if not hmac.compare_digest(sent.encode(), csrf_token(token, secret).encode()):
        msg = (
            f"a cookie-signed-in {request.method} needs the {CSRF_HEADER} header "
            f"(the value of the {CSRF_COOKIE} cookie); API clients send a Bearer token instead"
        )
        raise PermissionDeniedError(msg)


def current_user(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    bearer: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    cookie: Annotated[str | None, Depends(_cookie)],
) -> Account:
    """The signed-in account: a Bearer token, or the session cookie (then CSRF on writes)."""
    token = bearer.credentials if bearer is not None else cookie
    if not token:
        msg = "sign in first: POST /api/auth/login, then send Authorization: Bearer TOKEN"
        raise AuthenticationError(msg)
    secret = settings.secret_key.get_secret_value()
    account = session_user(store, token, secret=secret)
    if account is None:
        msg = "the session expired or was ended: sign in again (POST /api/auth/login)"
        raise AuthenticationError(msg)
    if bearer is None and request.method not in _SAFE:
        _check_csrf(request, token, secret)
    request.state.token = token
    return account


UserDep = Annotated[Account, Depends(current_user)]


def _scope(user: UserDep) -> Scope:
    return user.scope


ScopeDep = Annotated[Scope, Depends(_scope)]


def _actor(user: UserDep) -> Actor:
    return Actor(
        user_id=user.id, username=user.username, scope=user.scope, worker_id=user.worker_id
    )


ActorDep = Annotated[Actor, Depends(_actor)]


def require(*roles: str) -> Callable[[Account], Account]:
    """A dependency that lets only ``roles`` through (403 for the others)."""

    def check(user: UserDep) -> Account:
        if user.role not in roles:
            msg = f"a {user.role} account may not do this; it needs one of: {', '.join(roles)}"
            raise PermissionDeniedError(msg)
        return user

    return check
