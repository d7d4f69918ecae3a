"""The FastAPI application, built from settings passed in (never read at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from gridmap import __version__
from gridmap.settings import Settings
from gridmap.store import Store
from gridmap.web.errors import add_exception_handlers
from gridmap.web.routes import cells, runs


def create_app(settings: Settings) -> FastAPI:
    """Build the app on the store ``settings`` names (migrated on start)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.from_settings(settings)
        store.upgrade()
        app.state.store = store
        app.state.settings = settings
        yield
        store.dispose()

    app = FastAPI(title="gridmap", version=__version__, lifespan=lifespan)
    add_exception_handlers(app)
    app.include_router(cells.router)
    app.include_router(runs.router)

    @app.get("/health", tags=["health"])
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    return app
