"""Domain errors mapped to HTTP in one place."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from gridmap.errors import GridmapError, NotFoundError

logger = logging.getLogger(__name__)


def add_exception_handlers(app: FastAPI) -> None:
    """404 for missing records, 400 for other domain errors; the message is the user's."""

    @app.exception_handler(NotFoundError)
    async def _not_found(_: Request, exc: NotFoundError) -> JSONResponse:
        return JSONResponse(status_code=404, content={"detail": str(exc)})

    @app.exception_handler(GridmapError)
    async def _domain(_: Request, exc: GridmapError) -> JSONResponse:
        logger.info("request refused: %s", exc)
        return JSONResponse(status_code=400, content={"detail": str(exc)})
