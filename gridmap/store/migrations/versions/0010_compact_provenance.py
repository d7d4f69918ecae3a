"""compact field provenance

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

A record's ``provenance`` was JSON repeating ``{"by", "at"}`` for every field and
every digest with its field name (620 of a unit's ~820 bytes). What many records
share (field names, origins, time stamps) now lives once in ``provenance_header``,
and the record keeps ``"<header id>:<digests in base64>"`` (see
:mod:`gridmap.ingest.provenance`, *Stored form*): the same information, about 60
bytes. The upgrade converts every record (JSON ``null`` becomes SQL NULL, which
every reader already read the same way); the downgrade writes the JSON back.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SOURCED_TABLES = (
    "admin_area",
    "grid_cell",
    "worker",
    "unit",
    "party_org",
    "instructor",
    "station",
    "road",
    "candidate_site",
)

#: Records converted per statement.
_CHUNK = 20_000


def upgrade() -> None:
    from gridmap.ingest._headers import header_key
    from gridmap.ingest.provenance import encoded, stored_text

    op.create_table(
        "provenance_header",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("header", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_provenance_header"),
        sa.UniqueConstraint("key", name="uq_provenance_header_key"),
    )
    bind = op.get_bind()
    ids: dict[str, int] = {}

    def convert(text: str) -> str | None:
        provenance = json.loads(text)
        if provenance is None:
            return None
        header, digests = encoded(provenance)
        if header not in ids:
            ids[header] = len(ids) + 1
            bind.execute(
                sa.text("INSERT INTO provenance_header (id, key, header) VALUES (:i, :k, :h)"),
                {"i": ids[header], "k": header_key(header), "h": header},
            )
        return stored_text(ids[header], digests)

    for table in SOURCED_TABLES:
        _rewrite(table, "provenance_compact", sa.Text(), convert)
    if bind.dialect.name == "postgresql" and ids:
        bind.execute(
            sa.text("SELECT setval(pg_get_serial_sequence('provenance_header', 'id'), :n)"),
            {"n": len(ids)},
        )


def downgrade() -> None:
    from gridmap.ingest.provenance import decoded, parse_stored

    bind = op.get_bind()
    headers = {
        int(i): json.loads(h)
        for i, h in bind.execute(sa.text("SELECT id, header FROM provenance_header"))
    }

    def convert(text: str) -> str | None:
        header_id, digests = parse_stored(text)
        return json.dumps(decoded(headers[header_id], digests))

    for table in SOURCED_TABLES:
        _rewrite(table, "provenance_json", sa.JSON(), convert)
    op.drop_table("provenance_header")


def _rewrite(
    table: str, column: str, kind: sa.types.TypeEngine[Any], convert: Callable[[str], str | None]
) -> None:
    """Replace ``table.provenance`` by a column of type ``kind`` holding ``convert`` of it.

    SQLite >= 3.35 drops and renames a plain column in place; a batch copy would lose
    the SpatiaLite geometry registration and the validity triggers.
    """
    bind = op.get_bind()
    op.add_column(table, sa.Column(column, kind, nullable=True))
    value = ":p"
    if bind.dialect.name == "postgresql" and isinstance(kind, sa.JSON):
        value = "CAST(:p AS json)"
    update = sa.text(f"UPDATE {table} SET {column} = {value} WHERE id = :i")
    for rows in _chunks(bind, table):
        params = [{"i": i, "p": convert(text)} for i, text in rows]
        params = [p for p in params if p["p"] is not None]
        if params:
            bind.execute(update, params)
    op.execute(f"ALTER TABLE {table} DROP COLUMN provenance")
    op.execute(f"ALTER TABLE {table} RENAME COLUMN {column} TO provenance")


def _chunks(bind: sa.Connection, table: str) -> Iterator[list[tuple[int, str]]]:
    """``(id, provenance as text)`` of the records that have one, a chunk at a time."""
    cast = "provenance::text" if bind.dialect.name == "postgresql" else "provenance"
    query = sa.text(
        f"SELECT id, {cast} FROM {table} WHERE provenance IS NOT NULL AND id > :after "
        "ORDER BY id LIMIT :n"
    )
    after = 0
    while rows := [(int(i), str(t)) for i, t in bind.execute(query, {"after": after, "n": _CHUNK})]:
        yield rows
        after = rows[-1][0]
