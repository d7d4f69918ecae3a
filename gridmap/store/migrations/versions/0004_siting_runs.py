"""siting runs

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22

Each siting recommendation is kept (parameters, before/after coverage, the
recommended sites in order as GeoJSON) so maps can draw the latest one.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "siting_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("sites", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_siting_run")),
    )


def downgrade() -> None:
    op.drop_table("siting_run")
