"""Domain errors mapped to HTTP by `gridmap.errors.OUTCOMES`; one JSON shape for every error.

Every 4xx (and the rare 5xx) answers ``{"detail": MESSAGE, "code": CODE}``; validation
errors add ``"errors"`` (where and what). The message is the user's; tracebacks only go
to the log.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from gridmap.errors import GridmapError, outcome_of

logger = logging.getLogger(__name__)

__all__ = ["ERROR_RESPONSES", "ErrorOut", "add_exception_handlers", "error_body"]

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid",
}


class ErrorOut(BaseModel):
    """Every error answer."""

    detail: str
    code: str
    errors: list[dict[str, Any]] | None = None


#: Documented on every route, so clients (and schemathesis) know the error shape.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": code}
    for status, code in _HTTP_CODES.items()
    if status not in (405, 415)
}


def error_body(status: int, detail: str, code: str | None = None, **extra: Any) -> JSONResponse:
    """An error answer in the one shape."""
    body: dict[str, Any] = {"detail": detail, "code": code or _HTTP_CODES.get(status, "error")}
    body |= {k: v for k, v in extra.items() if v is not None}
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(status_code=status, content=body, headers=headers)


def status_of(exc: GridmapError) -> tuple[int, str]:
    """The HTTP status and code of a domain error (from :data:`gridmap.errors.OUTCOMES`)."""
    outcome = outcome_of(exc)
    return outcome.http_status, outcome.code


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg")), "type": e.get("type")}
        for e in exc.errors()
    ]


def add_exception_handlers(app: FastAPI) -> None:
    """Install the handlers: domain errors, HTTP errors, validation errors, anything else."""

    @app.exception_handler(GridmapError)
    async def _domain(_: Request, exc: GridmapError) -> JSONResponse:
        status, code = status_of(exc)
        if status >= 500:
            logger.error("request failed: %s", exc)
        return error_body(status, str(exc), code)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return error_body(exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _validation_errors(exc)
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(first["loc"])
        detail = f"invalid request: {where}: {first['msg']}" if where else str(first["msg"])
        return error_body(422, detail, "invalid", errors=errors)

    @app.exception_handler(OperationalError)
    async def _busy(_: Request, exc: OperationalError) -> JSONResponse:
        logger.warning("store busy or unreachable: %s", exc.orig)
        return error_body(503, "the store is busy or unreachable: try again shortly", "busy")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        logger.error("unexpected error", exc_info=exc)
        return error_body(500, "internal error: the server log has the details", "internal")
