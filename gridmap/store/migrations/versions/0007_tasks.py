"""tasks (派单): a blind zone, an 应建未建 unit or an idle organisation sent to a grid worker

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01

A department user dispatches a task for the worker of a cell: its source (a blind
zone in a cell, an 应建未建 unit, an idle organisation or station), the worker it
went to, a due date and a note. The worker completes it with a visit (whose
reported change a department then confirms), or a department cancels it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_NOW = sa.text("(CURRENT_TIMESTAMP)")


def _fk(column: str, table: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{table}.id"], name=op.f(f"fk_task_{column}_{table}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.Column("cell_code", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("org_id", sa.Integer(), nullable=True),
        sa.Column("station_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.String(length=300), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("visit_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("updated_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("closed_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('blind_zone', 'must_build', 'idle_org', 'idle_station')",
            name=op.f("ck_task_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('open', 'done', 'cancelled')", name=op.f("ck_task_status_known")
        ),
        _fk("cell_id", "grid_cell", "CASCADE"),
        _fk("unit_id", "unit", "SET NULL"),
        _fk("org_id", "party_org", "SET NULL"),
        _fk("station_id", "station", "SET NULL"),
        _fk("assignee_id", "worker", "SET NULL"),
        _fk("created_by", "user", "SET NULL"),
        _fk("visit_id", "visit", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    op.create_index(op.f("ix_task_cell_id"), "task", ["cell_id"])
    op.create_index(op.f("ix_task_status"), "task", ["status"])


def downgrade() -> None:
    op.drop_index(op.f("ix_task_status"), table_name="task")
    op.drop_index(op.f("ix_task_cell_id"), table_name="task")
    op.drop_table("task")
