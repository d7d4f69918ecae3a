"""coverage runs

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Each coverage run is stored with its parameters, the date it evaluated, its
summary and roll-up, and every unit's result, so runs can be compared.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "coverage_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("areas", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coverage_run")),
    )
    op.create_table(
        "coverage_unit",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("org_status", sa.String(length=16), nullable=False),
        sa.Column("must_have_branch", sa.Boolean(), nullable=False),
        sa.Column("service_covered", sa.Boolean(), nullable=False),
        sa.Column("nearest_station_id", sa.Integer(), nullable=True),
        sa.Column("nearest_station_m", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["coverage_run.id"],
            name=op.f("fk_coverage_unit_run_id_coverage_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "unit_id", name=op.f("pk_coverage_unit")),
    )


def downgrade() -> None:
    op.drop_table("coverage_unit")
    op.drop_table("coverage_run")
