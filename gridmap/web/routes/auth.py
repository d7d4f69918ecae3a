"""Sign in and out; who am I."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from gridmap.accounts import authenticate, csrf_token, end_session
from gridmap.web.deps import CSRF_COOKIE, SESSION_COOKIE, SettingsDep, StoreDep, UserDep
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import ShortText

router = APIRouter(tags=["auth"], responses=ERROR_RESPONSES)


class LoginIn(BaseModel):
    """A username and password."""

    username: ShortText = Field(min_length=1)
    password: ShortText = Field(min_length=1)


class LoginOut(BaseModel):
    """A new session: send ``access_token`` as ``Authorization: Bearer``."""

    access_token: str
    token_type: str = "bearer"
    username: str
    role: str
    csrf_token: str
    expires_at: str


class MeOut(BaseModel):
    """The signed-in user and what they may see."""

    username: str
    role: str
    area_code: str | None
    worker_id: int | None
    scope: str


def _secure(settings: SettingsDep) -> bool:
    chosen = settings.web.cookie_secure
    return settings.environment != "development" if chosen is None else chosen


@router.post("/api/auth/login", response_model=LoginOut)
def login(body: LoginIn, response: Response, store: StoreDep, settings: SettingsDep) -> LoginOut:
    """Sign in; sets the HttpOnly session cookie for the pages too.

    Five failed attempts in a row lock the account for 15 minutes (settings); the answer
    to every failure is the same, whether or not the username exists.
    """
    secret = settings.secret_key.get_secret_value()
    result = authenticate(store, body.username, body.password, web=settings.web, secret=secret)
    csrf = csrf_token(result.token, secret)
    age = settings.web.session_minutes * 60
    secure = _secure(settings)
    response.set_cookie(
        SESSION_COOKIE, result.token, max_age=age, httponly=True, samesite="strict", secure=secure
    )
    response.set_cookie(CSRF_COOKIE, csrf, max_age=age, samesite="strict", secure=secure)
    return LoginOut(
        access_token=result.token,
        username=result.account.username,
        role=result.account.role,
        csrf_token=csrf,
        expires_at=result.expires_at.isoformat() + "Z",
    )


@router.post("/api/auth/logout", status_code=204)
def logout(request: Request, user: UserDep, store: StoreDep, settings: SettingsDep) -> Response:
    """End this session (its token stops working at once) and clear the cookies."""
    secret = settings.secret_key.get_secret_value()
    end_session(store, request.state.token, secret=secret, actor=user.username)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
    return response


@router.get("/api/me", response_model=MeOut)
def me(user: UserDep) -> MeOut:
    """Who is signed in, with their role and scope."""
    return MeOut(
        username=user.username,
        role=user.role,
        area_code=user.area_code,
        worker_id=user.worker_id,
        scope=str(user.scope),
    )
