"""The web adapter: FastAPI routes over the library. No analysis code lives here."""

from gridmap.web.app import create_app

__all__ = ["create_app"]
