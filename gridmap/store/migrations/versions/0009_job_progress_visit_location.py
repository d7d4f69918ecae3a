"""how far a web job has got; where a visit's location came from

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01

``run_job.stage`` names the stage a running job has reached (a coverage run's
inputs, rules, reach, cells, zones, saving; a siting run's inputs, reach,
candidates, solving, saving) and ``run_job.progress`` the share done (0-1), so
the dashboard's progress line shows more than "running".

``visit.location_crs`` keeps the system the phone gave its location in
(``wgs84``, ``gcj02``, ``bd09``; ``lon``/``lat`` are stored converted to WGS-84)
and ``visit.accuracy_m`` the accuracy it reported, in metres.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("run_job", sa.Column("stage", sa.String(length=32), nullable=True))
    op.add_column("run_job", sa.Column("progress", sa.Float(), nullable=True))
    op.add_column("visit", sa.Column("location_crs", sa.String(length=10), nullable=True))
    op.add_column("visit", sa.Column("accuracy_m", sa.Float(), nullable=True))


def downgrade() -> None:
    # run_job has no geometry: SQLite >= 3.35 drops a plain column in place
    for table, column in (
        ("visit", "accuracy_m"),
        ("visit", "location_crs"),
        ("run_job", "progress"),
        ("run_job", "stage"),
    ):
        op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
