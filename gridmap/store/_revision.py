"""Whether a store is at the package's migration head, answered without Alembic.

Every command opens the store and checks its schema first. Importing Alembic and
loading every migration script to learn that nothing needs doing took most of a
second, so the check reads the ``revision`` / ``down_revision`` lines of the
migration files (the head is the revision no other one revises) and the store's
``alembic_version`` table in one query. Only a store that is behind, ahead or
unreadable here goes through Alembic (:meth:`gridmap.store.Store.upgrade`).
"""

from __future__ import annotations

import ast
import functools
import re
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

if TYPE_CHECKING:
    from sqlalchemy import Connection

__all__ = [
    "VERSIONS",
    "head_revisions",
    "parse_revisions",
    "peek_spatialite_revisions",
    "stamped_revisions",
]

#: The migration scripts Alembic runs (``script_location`` is their parent).
VERSIONS: Final = Path(__file__).parent / "migrations" / "versions"

#: A SpatiaLite file URL without options: ``sqlite:///relative`` or ``sqlite:////absolute``.
_SQLITE_FILE: Final = re.compile(r"^sqlite(?:\+pysqlite)?:///(?P<path>[^?]+)$")
_STAMPED: Final = "SELECT version_num FROM alembic_version"

_ASSIGNMENT: Final = re.compile(
    r"^(?P<name>revision|down_revision)\s*(?::[^=]*)?=\s*(?P<value>.+?)\s*$", re.M
)


def parse_revisions(source: str) -> tuple[str, tuple[str, ...]] | None:
    """The revision a migration script defines and the ones it revises, or None when its
    ``revision`` / ``down_revision`` lines are not plain literals (Alembic then decides).

    >>> parse_revisions('revision = "0002"\\ndown_revision = "0001"\\n')
    ('0002', ('0001',))
    >>> parse_revisions("revision: str = '0001'\\ndown_revision = None\\n")
    ('0001', ())
    """
    found: dict[str, object] = {}
    for match in _ASSIGNMENT.finditer(source):
        try:
            found.setdefault(match["name"], ast.literal_eval(match["value"]))
        except (ValueError, SyntaxError):
            return None
    revision, down = found.get("revision"), found.get("down_revision")
    if not isinstance(revision, str):
        return None
    if down is None:
        return revision, ()
    if isinstance(down, str):
        return revision, (down,)
    if isinstance(down, tuple | list) and all(isinstance(d, str) for d in down):
        return revision, tuple(str(d) for d in down)
    return None


@functools.cache
def head_revisions(versions: Path = VERSIONS) -> frozenset[str] | None:
    """The head revision(s) of the migration scripts in ``versions`` (read once per process),
    or None when a script cannot be read this way."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in sorted(versions.glob("*.py")):
        if script.name.startswith("__"):
            continue
        parsed = parse_revisions(script.read_text(encoding="utf-8"))
        if parsed is None:
            return None
        revisions.add(parsed[0])
        revised.update(parsed[1])
    heads = frozenset(revisions - revised)
    return heads or None


def stamped_revisions(connection: Connection) -> tuple[str, ...] | None:
    """The revisions the store's ``alembic_version`` table holds (one query), or None when
    the store has no such table (a new store)."""
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    try:
        rows = connection.execute(text(_STAMPED)).scalars()
        return tuple(str(row) for row in rows)
    except DBAPIError as exc:
        if "alembic_version" not in str(exc.orig):
            raise  # not the missing table: a real problem of the store
        return None


def peek_spatialite_revisions(url: str) -> tuple[str, ...] | None:
    """The revisions an existing SpatiaLite file is stamped with, read with ``sqlite3``
    alone (no SQLAlchemy, no SpatiaLite), or None when that cannot tell: another
    backend, URL options, no such file or table, any error. ``gridmap db upgrade``
    then opens the store the full way, which reports problems properly."""
    match = _SQLITE_FILE.match(url)
    if match is None or match["path"] == ":memory:" or not Path(match["path"]).is_file():
        return None
    try:
        connection = sqlite3.connect(f"file:{quote(match['path'])}?mode=rw", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        return tuple(str(row[0]) for row in connection.execute(_STAMPED))
    except sqlite3.Error:
        return None
    finally:
        connection.close()
