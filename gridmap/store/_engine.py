"""Engines for the two backends: SpatiaLite (embedded default) and PostGIS."""

from __future__ import annotations

import logging
import sqlite3
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url

from gridmap.errors import StoreError

logger = logging.getLogger(__name__)

__all__ = ["backend_of", "make_engine"]


def backend_of(url: str) -> str:
    """Return ``"spatialite"`` or ``"postgis"`` for a database URL."""
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        return "spatialite"
    if name == "postgresql":
        return "postgis"
    msg = (
        f"unsupported database {name!r} in {url!r}: use sqlite:///FILE (SpatiaLite) "
        "or postgresql+psycopg://USER:PASSWORD@HOST/DB (PostGIS)"
    )
    raise StoreError(msg)


def make_engine(
    url: str, *, spatialite_library: str = "mod_spatialite", echo: bool = False
) -> Engine:
    """Create an engine whose connections are ready for spatial work.

    On SQLite every connection loads SpatiaLite, initialises its metadata in a
    new file, enforces foreign keys, and gets real transactions: Python's
    sqlite3 would otherwise commit DDL implicitly, and an interrupted import or
    migration must leave the file exactly as it was.
    """
    if backend_of(url) == "postgis":
        return create_engine(url, echo=echo, pool_pre_ping=True)
    engine = create_engine(url, echo=echo)
    _check_extension_support()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, see _on_begin
        _load_spatialite(dbapi_conn, spatialite_library)
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        if dbapi_conn.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
            logger.info("initialising SpatiaLite metadata")
            dbapi_conn.execute("SELECT InitSpatialMetaData(1, 'WGS84')")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    return engine


def _check_extension_support() -> None:
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        msg = (
            "this Python's sqlite3 module cannot load extensions, so SpatiaLite cannot be "
            "used; run gridmap with Debian's python3 (the Makefile's .venv does), or set "
            "GRIDMAP_DATABASE_URL to a PostGIS database"
        )
        raise StoreError(msg)


def _load_spatialite(dbapi_conn: sqlite3.Connection, library: str) -> None:
    dbapi_conn.enable_load_extension(True)
    try:
        dbapi_conn.load_extension(library)
    except sqlite3.OperationalError as exc:
        msg = (
            f"cannot load the SpatiaLite extension {library!r} ({exc}); install it with "
            "'apt-get install libsqlite3-mod-spatialite' or set GRIDMAP_SPATIALITE_LIBRARY "
            "to the path of mod_spatialite"
        )
        raise StoreError(msg) from exc
    finally:
        dbapi_conn.enable_load_extension(False)
