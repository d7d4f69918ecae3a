"""what a coverage run's maps and reports need

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01

A run stores every per-unit measure its outputs show (cell, households, the
covering organisation and station, snap distance, the unit's representative
point at full precision), its blind zones and service areas with their
geometries (WKB, WGS-84), and the organisations and stations it judged with
their activity, so ``map export`` and ``report`` read the run instead of
recomputing it. ``coverage_run.outputs`` is the version of that layout (NULL
for runs stored before: those are recomputed).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UNIT_COLUMNS = (
    ("cell_id", sa.Integer()),
    ("households", sa.Integer()),
    ("branch_idle", sa.Boolean()),
    ("covering_org_id", sa.Integer()),
    ("nearest_counting_station_m", sa.Float()),
    ("covering_station_id", sa.Integer()),
    ("snap_m", sa.Float()),
    ("far_from_road", sa.Boolean()),
    ("point_lon", sa.Float()),
    ("point_lat", sa.Float()),
)


def _run_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["run_id"],
        ["coverage_run.id"],
        name=op.f(f"fk_{table}_run_id_coverage_run"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    # plain nullable columns: ADD COLUMN works on both backends without a table copy
    op.add_column("coverage_run", sa.Column("outputs", sa.Integer(), nullable=True))
    for name, type_ in UNIT_COLUMNS:
        op.add_column("coverage_unit", sa.Column(name, type_, nullable=True))
    op.create_table(
        "coverage_zone",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("area_m2", sa.Float(), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("households", sa.Integer(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=False),
        sa.Column("party_members", sa.Integer(), nullable=False),
        sa.Column("must_have_branch", sa.Integer(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.Column("unit_ids", sa.Text(), nullable=False),
        sa.Column("cell_codes", sa.Text(), nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=False),
        _run_fk("coverage_zone"),
        sa.PrimaryKeyConstraint("run_id", "rank", name=op.f("pk_coverage_zone")),
    )
    op.create_table(
        "coverage_service_area",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("station_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("tier", sa.String(length=16), nullable=True),
        sa.Column("limit", sa.Float(), nullable=True),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=True),
        _run_fk("coverage_service_area"),
        sa.PrimaryKeyConstraint("run_id", "station_id", name=op.f("pk_coverage_service_area")),
    )
    op.create_table(
        "coverage_site",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=8), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("last_activity", sa.Date(), nullable=True),
        sa.Column("activity", sa.String(length=8), nullable=False),
        sa.Column("geom_wkb", sa.LargeBinary(), nullable=True),
        _run_fk("coverage_site"),
        sa.PrimaryKeyConstraint("run_id", "role", "site_id", name=op.f("pk_coverage_site")),
    )


def downgrade() -> None:
    for table in ("coverage_site", "coverage_service_area", "coverage_zone"):
        op.drop_table(table)
    # SQLite >= 3.35 drops a plain column in place; a batch copy would lose the
    # SpatiaLite registration of nothing here, but keeps the index on coverage_unit.
    for name, _ in reversed(UNIT_COLUMNS):
        op.execute(f"ALTER TABLE coverage_unit DROP COLUMN {name}")
    op.execute("ALTER TABLE coverage_run DROP COLUMN outputs")
