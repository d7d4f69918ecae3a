"""Dependencies: the store the app was built with."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from gridmap.settings import Settings
from gridmap.store import Store


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
