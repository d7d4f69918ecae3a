"""The store: one schema on SpatiaLite (embedded default) and PostGIS.

>>> from gridmap.settings import Settings
>>> store = Store.from_settings(Settings())      # doctest: +SKIP
>>> store.upgrade()                               # doctest: +SKIP
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from gridmap.store._revision import head_revisions, stamped_revisions

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Engine, Table
    from sqlalchemy.orm import Session, sessionmaker

    from gridmap.settings import Settings
    from gridmap.store import models
    from gridmap.store._engine import backend_of

__all__ = ["Store", "backend_of", "counted_tables", "models", "table_of"]

logger = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"


def _alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    return config


def table_of(model: type[models.Base]) -> Table:
    """The Core :class:`~sqlalchemy.Table` of an ORM model, typed.

    ``Model.__table__`` is typed as a ``FromClause``; every gridmap model maps one table,
    so this narrows it once instead of a ``# type: ignore`` at each use.
    """
    from sqlalchemy import Table

    table = model.__table__
    if not isinstance(table, Table):
        msg = f"{model.__name__} maps {type(table).__name__}, expected a Table"
        raise TypeError(msg)
    return table


def __getattr__(name: str) -> object:
    """``gridmap.store.models`` on first use: the ORM models (and GeoAlchemy2, shapely) are
    loaded by the commands that need them, not by every one that opens a store; SQLAlchemy
    itself when a store is opened."""
    if name == "models":
        return importlib.import_module("gridmap.store.models")
    if name == "backend_of":
        return importlib.import_module("gridmap.store._engine").backend_of
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def counted_tables() -> dict[str, type[models.Base]]:
    """Tables counted by :meth:`Store.counts`, in display order."""
    from gridmap.store import models

    return {
        "admin_area": models.AdminArea,
        "grid_cell": models.GridCell,
        "worker": models.Worker,
        "unit": models.Unit,
        "party_org": models.PartyOrg,
        "instructor": models.Instructor,
        "station": models.Station,
        "road": models.Road,
        "candidate_site": models.CandidateSite,
        "visit": models.Visit,
    }


class Store:
    """A gridmap database, SpatiaLite or PostGIS, behind one API.

    Parameters
    ----------
    url
        SQLAlchemy URL: ``sqlite:///gridmap.sqlite`` or ``postgresql+psycopg://...``.
    spatialite_library
        Name or path of the SpatiaLite module (SQLite only).
    """

    def __init__(self, url: str, *, spatialite_library: str = "mod_spatialite") -> None:
        from gridmap.store._engine import backend_of, make_engine

        self.url = url
        self.backend = backend_of(url)
        self.engine: Engine = make_engine(url, spatialite_library=spatialite_library)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """Open the store that ``settings.database_url`` names."""
        return cls(settings.database_url, spatialite_library=settings.spatialite_library)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision`` (all of them by default), in one transaction.

        A store already at the head is left alone without taking the write lock, so
        that a command run while another one writes does not wait for it; that check is
        one query and reads no migration script (:mod:`gridmap.store._revision`).
        """
        if self._at_head(revision):
            logger.info("store %r at revision %s", self, revision)
            return
        from alembic import command  # only a store that is behind pays for Alembic

        config = _alembic_config()
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        logger.info("store %r at revision %s", self, self.current_revision())

    def _at_head(self, revision: str) -> bool:
        heads = head_revisions()
        if heads is None or (revision != "head" and {revision} != heads):
            return False
        with self.engine.connect() as connection:  # a read: never waits for a writer
            stamped = stamped_revisions(connection)
        return stamped is not None and frozenset(stamped) == heads

    def current_revision(self) -> str | None:
        """The migration revision the database is at, or None when it has none."""
        with self.engine.connect() as connection:
            stamped = stamped_revisions(connection)
        if stamped is None or not stamped:
            return None
        if len(stamped) == 1:
            return stamped[0]
        from alembic.runtime.migration import MigrationContext  # several heads: its error

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    @cached_property
    def _sessions(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        return sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error.

        On SpatiaLite it holds the write lock (one writer at a time); to only read, use
        ``store.engine.connect()``, which never waits for a writer.
        """
        with self._sessions.begin() as session:
            yield session

    def counts(self) -> dict[str, int]:
        """Number of rows per record table."""
        from sqlalchemy import func, select

        with self.engine.connect() as conn:  # a read: never waits for a writer
            return {
                name: int(conn.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in counted_tables().items()
            }

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
