"""Alembic environment: runs on the connection the :class:`gridmap.store.Store` hands over."""

from __future__ import annotations

from alembic import context
from geoalchemy2 import alembic_helpers

from gridmap.store.models import Base

#: SpatiaLite's own metadata tables: never part of gridmap's migrations.
_SPATIALITE_TABLES = frozenset(
    {"data_licenses", "SpatialIndex", "KNN", "KNN2", "ElementaryGeometries", "sql_statements_log"}
)


def _include_object(
    obj: object, name: str | None, type_: str, reflected: bool, compare_to: object
) -> bool:
    if type_ == "table" and name in _SPATIALITE_TABLES:
        return False
    return bool(alembic_helpers.include_object(obj, name, type_, reflected, compare_to))


config = context.config
connection = config.attributes["connection"]

context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    include_object=_include_object,
    process_revision_directives=alembic_helpers.writer,
    render_item=alembic_helpers.render_item,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
