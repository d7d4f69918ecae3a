"""web accounts, sessions, stored per-cell results, visits from the field, run jobs

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

The web app reads results from the store instead of recomputing them: every
run now keeps its cells (status, counts, population, the cell's admin code for
scope filters) and, per unit, its kind, cell code, lon/lat and population.
Accounts (argon2 hashes, role, scope, lockout), server-side sessions (a keyed
hash of the token only), pending changes reported by visits, and coverage runs
started from the web (jobs) get their own tables. Visits gain who recorded
them, where, and the client's idempotency key (unique per user).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_NOW = sa.text("(CURRENT_TIMESTAMP)")


def _user() -> None:
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("area_code", sa.String(length=20), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("last_login_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'department', 'planner', 'worker')",
            name=op.f("ck_user_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["worker.id"], name=op.f("fk_user_worker_id_worker"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    op.create_table(
        "web_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_web_session_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_web_session")),
    )
    op.create_index(op.f("ix_web_session_user_id"), "web_session", ["user_id"])


def _results() -> None:
    op.create_table(
        "coverage_cell",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("area_code", sa.String(length=20), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("units_total", sa.Integer(), nullable=False),
        sa.Column("units_covered", sa.Integer(), nullable=False),
        sa.Column("org_covered", sa.Integer(), nullable=False),
        sa.Column("must_have_branch", sa.Integer(), nullable=False),
        sa.Column("population_total", sa.Integer(), nullable=False),
        sa.Column("population_covered", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["coverage_run.id"],
            name=op.f("fk_coverage_cell_run_id_coverage_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "code", name=op.f("pk_coverage_cell")),
    )
    op.create_index(op.f("ix_coverage_cell_area_code"), "coverage_cell", ["area_code"])
    for column in (
        sa.Column("kind", sa.String(length=16), nullable=True),
        sa.Column("cell_code", sa.String(length=32), nullable=True),
        sa.Column("lon", sa.Float(), nullable=True),
        sa.Column("lat", sa.Float(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("party_members", sa.Integer(), nullable=True),
    ):
        op.add_column("coverage_unit", column)
    # a cell's units of a run: one index range, not a scan of the run's units
    op.create_index("ix_coverage_unit_run_id_cell_code", "coverage_unit", ["run_id", "cell_code"])


def _visits() -> None:
    # plain nullable columns: ADD COLUMN works on both backends without a table copy
    op.add_column("visit", sa.Column("user_id", sa.Integer(), nullable=True))
    op.add_column("visit", sa.Column("idempotency_key", sa.String(length=100), nullable=True))
    op.add_column("visit", sa.Column("lon", sa.Float(), nullable=True))
    op.add_column("visit", sa.Column("lat", sa.Float(), nullable=True))
    op.add_column("visit", sa.Column("created_at", sa.DateTime(), nullable=True))
    op.create_index("ix_visit_idempotency", "visit", ["user_id", "idempotency_key"], unique=True)
    if op.get_bind().dialect.name == "postgresql":  # SQLite cannot add a foreign key in place
        op.create_foreign_key(
            op.f("fk_visit_user_id_user"), "visit", "user", ["user_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "pending_change",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reported_by", sa.Integer(), nullable=True),
        sa.Column("reported_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'confirmed', 'rejected')",
            name=op.f("ck_pending_change_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["visit.id"],
            name=op.f("fk_pending_change_visit_id_visit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
            name=op.f("fk_pending_change_unit_id_unit"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["reported_by"],
            ["user.id"],
            name=op.f("fk_pending_change_reported_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user.id"],
            name=op.f("fk_pending_change_decided_by_user"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pending_change")),
    )


def _jobs() -> None:
    op.create_table(
        "run_job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=_NOW, nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'running', 'done', 'failed')",
            name=op.f("ck_run_job_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user.id"],
            name=op.f("fk_run_job_created_by_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["coverage_run.id"],
            name=op.f("fk_run_job_run_id_coverage_run"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_job")),
    )


def upgrade() -> None:
    _user()
    _results()
    _visits()
    _jobs()


def downgrade() -> None:
    op.drop_table("run_job")
    op.drop_table("pending_change")
    op.drop_index("ix_visit_idempotency", table_name="visit")
    if op.get_bind().dialect.name == "postgresql":
        op.drop_constraint(op.f("fk_visit_user_id_user"), "visit", type_="foreignkey")
    for name in ("created_at", "lat", "lon", "idempotency_key", "user_id"):
        op.drop_column("visit", name)
    op.drop_index("ix_coverage_unit_run_id_cell_code", table_name="coverage_unit")
    for name in ("party_members", "population", "lat", "lon", "cell_code", "kind"):
        op.drop_column("coverage_unit", name)
    op.drop_table("coverage_cell")
    op.drop_index(op.f("ix_web_session_user_id"), table_name="web_session")
    op.drop_table("web_session")
    op.drop_table("user")
