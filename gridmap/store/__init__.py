"""The store: one schema on SpatiaLite (embedded default) and PostGIS.

>>> from gridmap.settings import Settings
>>> store = Store.from_settings(Settings())      # doctest: +SKIP
>>> store.upgrade()                               # doctest: +SKIP
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from gridmap.store import models
from gridmap.store._engine import backend_of, make_engine

if TYPE_CHECKING:
    from gridmap.settings import Settings

__all__ = ["Store", "backend_of", "models", "table_of"]

logger = logging.getLogger(__name__)

_MIGRATIONS = Path(__file__).parent / "migrations"


def table_of(model: type[models.Base]) -> Table:
    """The Core :class:`~sqlalchemy.Table` of an ORM model, typed.

    ``Model.__table__`` is typed as a ``FromClause``; every gridmap model maps one table,
    so this narrows it once instead of a ``# type: ignore`` at each use.
    """
    table = model.__table__
    if not isinstance(table, Table):
        msg = f"{model.__name__} maps {type(table).__name__}, expected a Table"
        raise TypeError(msg)
    return table


#: Tables counted by :meth:`Store.counts`, in display order.
COUNTED: dict[str, type[models.Base]] = {
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
        self.url = url
        self.backend = backend_of(url)
        self.engine: Engine = make_engine(url, spatialite_library=spatialite_library)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        """Open the store that ``settings.database_url`` names."""
        return cls(settings.database_url, spatialite_library=settings.spatialite_library)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    def upgrade(self, revision: str = "head") -> None:
        """Apply migrations up to ``revision`` (all of them by default), in one transaction.

        A store already at the head is left alone without taking the write lock, so
        that a command run while another one writes does not wait for it.
        """
        config = Config()
        config.set_main_option("script_location", str(_MIGRATIONS))
        current = self.current_revision()
        if revision == "head" and current == ScriptDirectory.from_config(config).get_current_head():
            logger.info("store %r at revision %s", self, current)
            return
        with self.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        logger.info("store %r at revision %s", self, self.current_revision())

    def current_revision(self) -> str | None:
        """The migration revision the database is at, or None when it has none."""
        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

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
        with self.engine.connect() as conn:  # a read: never waits for a writer
            return {
                name: int(conn.scalar(select(func.count()).select_from(model)) or 0)
                for name, model in COUNTED.items()
            }

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
