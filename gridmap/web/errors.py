"""Domain errors mapped to HTTP in one place: the status comes from `gridmap.errors.OUTCOMES`."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridmap.errors import GridmapError, outcome_of

logger = logging.getLogger(__name__)


def add_exception_handlers(app: FastAPI) -> None:
    """Answer every domain error with its status from the table; the message is the user's."""

    @app.exception_handler(GridmapError)
    async def _domain(_: Request, exc: GridmapError) -> JSONResponse:
        status = outcome_of(exc).http_status
        logger.log(logging.WARNING if status >= 500 else logging.INFO, "request refused: %s", exc)
        return JSONResponse(status_code=status, content={"detail": str(exc)})
