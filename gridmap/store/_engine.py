"""Engines for the two backends: SpatiaLite (embedded default) and PostGIS.

SpatiaLite is shared by processes on one machine (two imports, the web app
reading while an import writes), so every connection runs in WAL mode: readers
never wait for a writer and never block one. Writers go one at a time: a
transaction that may write (``engine.begin()``, ``conn.begin()``, an ORM
session) starts with ``BEGIN IMMEDIATE``, and if another process holds the
write lock it says so and waits (:data:`WRITE_WAIT_S` at most). A transaction
that only reads (``engine.connect()`` then execute) starts deferred.

Errors the database reports about itself (unreachable, locked, interrupted)
become gridmap errors with the URL's password masked.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any, Final

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url

from gridmap.errors import StoreBusyError, StoreError, StoreUnavailableError

logger = logging.getLogger(__name__)

__all__ = ["WRITE_WAIT_S", "backend_of", "make_engine", "masked", "raise_if_interrupted"]

#: Longest wait for another process's write to finish before giving up (seconds).
WRITE_WAIT_S: Final = 600.0
#: How long a statement waits on a lock before SQLite reports busy (reads, checkpoints).
BUSY_TIMEOUT_MS: Final = 30_000
#: Retry step while waiting for the write lock: short, so Ctrl-C is seen at once.
_WRITE_POLL_MS: Final = 200
#: SQLite virtual-machine steps between two checks for Ctrl-C during a statement.
_INTERRUPT_CHECK_STEPS: Final = 20_000

WAIT_MESSAGE: Final = "waiting for another gridmap write to finish…"


def masked(url: str) -> str:
    """``url`` with its password replaced by ``***``."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(unparsable URL)"


def backend_of(url: str) -> str:
    """Return ``"spatialite"`` or ``"postgis"`` for a database URL."""
    name = make_url(url).get_backend_name()
    if name == "sqlite":
        return "spatialite"
    if name == "postgresql":
        return "postgis"
    msg = (
        f"unsupported database {name!r} in {masked(url)}: use sqlite:///FILE (SpatiaLite) "
        "or postgresql+psycopg://USER@HOST/DB (PostGIS, the password in the URL or PGPASSWORD)"
    )
    raise StoreError(msg, parameter="database_url")


def make_engine(
    url: str, *, spatialite_library: str = "mod_spatialite", echo: bool = False
) -> Engine:
    """Create an engine whose connections are ready for spatial work.

    On SQLite every connection loads SpatiaLite, initialises its metadata in a
    new file, enforces foreign keys, runs in WAL mode, and gets real
    transactions: Python's sqlite3 would otherwise commit DDL implicitly, and
    an interrupted import or migration must leave the file exactly as it was.
    """
    if backend_of(url) == "postgis":
        engine = create_engine(url, echo=echo, pool_pre_ping=True)
        event.listen(engine, "connect", _session_in_utc)
    else:
        _check_extension_support()
        engine = create_engine(url, echo=echo, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _prepare_spatialite(engine, spatialite_library)
    event.listen(engine, "handle_error", _translate_error)
    return engine


def _session_in_utc(dbapi_conn: Any, _record: Any) -> None:
    """Every PostGIS session in UTC, as SQLite's ``CURRENT_TIMESTAMP`` is.

    The store keeps naive UTC times; a column's ``CURRENT_TIMESTAMP`` default (when a
    run was created) is converted to the session's time zone, which is the server's
    (Asia/Shanghai on a server set up in China: eight hours off) unless set here.
    """
    with dbapi_conn.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_conn.commit()


class _SpatiaLiteConnection(Connection):
    """A connection that knows whether its transaction began by itself (a read)."""

    autobegun = False

    def _autobegin(self) -> None:
        self.autobegun = True
        try:
            super()._autobegin()
        finally:
            self.autobegun = False


def _prepare_spatialite(engine: Engine, library: str) -> None:
    # SQLAlchemy builds connections from this class; autobegin is how reads start
    engine._connection_cls = _SpatiaLiteConnection

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves, see _on_begin
        _load_spatialite(dbapi_conn, library)
        dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        dbapi_conn.execute("PRAGMA journal_mode = WAL")
        dbapi_conn.execute("PRAGMA foreign_keys = ON")
        # a Python callback every few thousand steps lets Ctrl-C reach a long statement
        dbapi_conn.set_progress_handler(_no_op, _INTERRUPT_CHECK_STEPS)
        if dbapi_conn.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
            _init_spatial_metadata(dbapi_conn)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        dbapi_conn: Any = conn.connection.dbapi_connection  # a sqlite3.Connection
        if getattr(conn, "autobegun", False):
            dbapi_conn.execute("BEGIN")
        else:
            begin_write(dbapi_conn)


def _init_spatial_metadata(dbapi_conn: sqlite3.Connection) -> None:
    """Initialise a new file once, even when two processes open it at the same moment."""
    begin_write(dbapi_conn)
    try:
        if dbapi_conn.execute("SELECT CheckSpatialMetaData()").fetchone()[0] < 1:
            logger.info("initialising SpatiaLite metadata")
            dbapi_conn.execute("SELECT InitSpatialMetaData(0, 'WGS84')")  # 0: in our transaction
    except BaseException:
        dbapi_conn.execute("ROLLBACK")
        raise
    dbapi_conn.execute("COMMIT")


def raise_if_interrupted(exc: BaseException) -> None:
    """Raise ``KeyboardInterrupt`` when Ctrl-C is behind ``exc``.

    SQLite rolls the whole transaction back when a statement is interrupted, so leaving a
    savepoint then fails too, and that error hides the interrupt: code that catches
    database errors (to reject one row, say) calls this first.
    """
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt) or (
            isinstance(seen, sqlite3.OperationalError) and str(seen) == "interrupted"
        ):
            raise KeyboardInterrupt
        seen = seen.__context__ or getattr(seen, "orig", None)


def _no_op() -> int:
    # Python runs a pending SIGINT handler here: KeyboardInterrupt aborts the statement
    return 0


def begin_write(dbapi_conn: sqlite3.Connection, wait_s: float = WRITE_WAIT_S) -> None:
    """``BEGIN IMMEDIATE``: take the write lock now, waiting (and saying so) while another
    process holds it, so that a transaction never fails half-way for want of it."""
    dbapi_conn.execute(f"PRAGMA busy_timeout = {_WRITE_POLL_MS}")
    try:
        if _try_begin_immediate(dbapi_conn):
            return
        logger.warning(WAIT_MESSAGE)
        started = time.monotonic()
        while time.monotonic() - started < wait_s:
            if _try_begin_immediate(dbapi_conn):
                logger.info("the other write finished after %.1f s", time.monotonic() - started)
                return
    finally:
        dbapi_conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    msg = (
        f"another gridmap process has been writing to this store for over {wait_s:.0f} s; "
        "try again when it has finished (or stop it)"
    )
    raise StoreBusyError(msg)


def _try_begin_immediate(dbapi_conn: sqlite3.Connection) -> bool:
    try:
        dbapi_conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if _is_busy(exc):
            return False
        raise
    return True


def _is_busy(exc: BaseException) -> bool:
    return "database is locked" in str(exc) or "database is busy" in str(exc)


def _translate_error(context: ExceptionContext) -> None:
    """Raise the gridmap error for what the database said, when it is not a bug of ours."""
    original = context.original_exception
    text = str(original)
    if isinstance(original, sqlite3.OperationalError) and text == "interrupted":
        raise KeyboardInterrupt
    url = masked(str(context.engine.url)) if context.engine is not None else "the store"
    if context.connection is None and not context.is_pre_ping and not _is_busy(original):
        # connecting failed: server down, wrong host, port, database or password
        reason = " ".join(text.split()).rstrip(".")
        msg = (
            f"cannot connect to {url} ({reason}); check GRIDMAP_DATABASE_URL and that the "
            "database server runs and accepts connections"
        )
        raise StoreUnavailableError(msg, parameter="database_url") from None
    if _is_busy(original):
        msg = (
            f"{url} stayed locked by another process for {BUSY_TIMEOUT_MS / 1000:.0f} s; "
            "try again when it has finished"
        )
        raise StoreBusyError(msg) from None


def _check_extension_support() -> None:
    if not hasattr(sqlite3.Connection, "enable_load_extension"):
        msg = (
            "this Python's sqlite3 module cannot load extensions, so SpatiaLite cannot be "
            "used; run gridmap with Debian's python3 (the Makefile's .venv does), or set "
            "GRIDMAP_DATABASE_URL to a PostGIS database"
        )
        raise StoreError(msg)


def _bind_bundled_libraries() -> None:
    """Load the GEOS, PROJ and GDAL that shapely, pyproj and pyogrio bundle, first.

    SQLite opens extensions with ``RTLD_GLOBAL``: once mod_spatialite is in, the
    system's libgeos_c, libproj and libsqlite3 are in the process's global symbol
    scope, and a wheel's extension module loaded later binds its calls to them
    instead of the copies it ships (a GeoPackage written by pyogrio after a SpatiaLite
    connection crashed with "free(): invalid pointer"). Loaded before the extension,
    each wheel keeps its own copies.
    """
    import pyogrio  # noqa: F401
    import pyproj  # noqa: F401
    import shapely  # noqa: F401


def _load_spatialite(dbapi_conn: sqlite3.Connection, library: str) -> None:
    _bind_bundled_libraries()
    dbapi_conn.enable_load_extension(True)
    try:
        dbapi_conn.load_extension(library)
    except sqlite3.OperationalError as exc:
        msg = (
            f"cannot load the SpatiaLite extension {library!r} ({exc}); install it with "
            "'apt-get install libsqlite3-mod-spatialite' or set GRIDMAP_SPATIALITE_LIBRARY "
            "to the path of mod_spatialite"
        )
        raise StoreError(msg, parameter="spatialite_library") from exc
    finally:
        dbapi_conn.enable_load_extension(False)
