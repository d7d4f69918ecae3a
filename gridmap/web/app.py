"""The FastAPI application, built from settings passed in (never read at import time)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel

from gridmap import __version__
from gridmap.errors import ConfigurationError
from gridmap.settings import Settings
from gridmap.store import Store
from gridmap.web.basemap import tile_origins
from gridmap.web.errors import add_exception_handlers
from gridmap.web.routes import (
    admin,
    areas,
    auth,
    cells,
    changes,
    dashboard,
    docs,
    pages,
    pages_admin,
    pages_tasks,
    pwa,
    runs,
    tasks,
    visits,
)
from gridmap.web.security import SecurityMiddleware

__all__ = ["create_app"]

STATIC = Path(__file__).parent / "static"


class HealthOut(BaseModel):
    """The server is up."""

    status: str
    version: str


def _refuse_default_secret(settings: Settings) -> None:
    if settings.environment != "development" and settings.uses_default_secret():
        msg = (
            f"GRIDMAP_SECRET_KEY still has its development default (environment "
            f"{settings.environment}); set a long random value, e.g. "
            "python3 -c 'import secrets; print(secrets.token_urlsafe(48))'"
        )
        raise ConfigurationError(msg)


def create_app(settings: Settings) -> FastAPI:
    """Build the app on the store ``settings`` names (migrated on start)."""
    _refuse_default_secret(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store.from_settings(settings)
        store.upgrade()
        app.state.store = store
        app.state.settings = settings
        yield
        store.dispose()

    app = FastAPI(
        title="gridmap",
        version=__version__,
        description="网格化党建覆盖 / grid-based party-building coverage: scoped JSON API",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    add_exception_handlers(app)
    for module in (auth, cells, areas, runs, visits, changes, admin, docs, pages, pwa, dashboard):
        app.include_router(module.router)
    for module in (tasks, pages_tasks, pages_admin):  # tasks (派单), changes, admin pages
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(
        SecurityMiddleware,
        max_body_bytes=settings.web.max_body_bytes,
        hsts=settings.environment == "production",
        img_sources=tile_origins(settings),  # refuses a basemap the export would refuse
    )

    @app.get("/health", tags=["health"], response_model=HealthOut)
    def health() -> HealthOut:
        return HealthOut(status="ok", version=__version__)

    return app
