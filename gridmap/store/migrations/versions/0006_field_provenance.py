"""field provenance and closed records

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01

Every record that comes from a file gets ``provenance`` (JSON: which file set
each field, when, and a digest of what each file supplied, so a re-import only
changes what its own file changed) and ``closed_at`` (set by ``--sync`` when a
record left its file; closed records stay as history and are left out of runs).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
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


def upgrade() -> None:
    for table in SOURCED_TABLES:
        op.add_column(table, sa.Column("provenance", sa.JSON(), nullable=True))
        op.add_column(table, sa.Column("closed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    for table in SOURCED_TABLES:
        for column in ("closed_at", "provenance"):
            # SQLite >= 3.35 drops a plain column in place; a batch copy would lose the
            # SpatiaLite geometry registration and the validity triggers.
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
