"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22

Every table of the domain model (DOMAIN.md), spatial indexes, and validity
checks on every geometry column: a CHECK with ST_IsValid on PostGIS, a trigger
that aborts the statement on SpatiaLite (SQLite cannot add CHECKs on the
geometry columns SpatiaLite registers).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_geospatial_table(
        "admin_area",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "boundary",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "level IN ('province', 'prefecture', 'county', 'township', 'village')",
            name=op.f("ck_admin_area_level_known"),
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["admin_area.id"],
            name=op.f("fk_admin_area_parent_id_admin_area"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_area")),
        sa.UniqueConstraint("code", name=op.f("uq_admin_area_code")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_admin_area_source")),
    )
    with op.batch_alter_table("admin_area", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_admin_area_boundary",
            ["boundary"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "at", sa.DateTime(), server_default=sa.text("(CURRENT_TIMESTAMP)"), nullable=False
        ),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.Integer(), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "instructor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_instructor")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_instructor_source")),
    )
    op.create_geospatial_table(
        "road",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("highway", sa.String(length=40), nullable=True),
        sa.Column("oneway", sa.String(length=8), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="LINESTRING",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_road")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_road_source")),
    )
    with op.batch_alter_table("road", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_road_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_geospatial_table(
        "station",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("last_activity", sa.Date(), nullable=True),
        sa.Column("capacity", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "tier IN ('county', 'township', 'village', 'community', 'building', 'park', 'point')",
            name=op.f("ck_station_tier_known"),
        ),
        sa.CheckConstraint(
            "capacity IS NULL OR capacity >= 0", name=op.f("ck_station_capacity_non_negative")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_station_source")),
    )
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_station_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_table(
        "worker",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_worker_source")),
    )
    op.create_geospatial_table(
        "grid_cell",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("area_id", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="MULTIPOLYGON",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "households IS NULL OR households >= 0",
            name=op.f("ck_grid_cell_households_non_negative"),
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0",
            name=op.f("ck_grid_cell_population_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["admin_area.id"],
            name=op.f("fk_grid_cell_area_id_admin_area"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_cell")),
        sa.UniqueConstraint("code", name=op.f("uq_grid_cell_code")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_grid_cell_source")),
    )
    with op.batch_alter_table("grid_cell", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_grid_cell_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_geospatial_table(
        "unit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("party_members", sa.Integer(), nullable=True),
        sa.Column("address", sa.String(length=300), nullable=True),
        sa.Column("cell_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
                nullable=False,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('village', 'community', 'building', 'park', 'firm', 'social_org')",
            name=op.f("ck_unit_kind_known"),
        ),
        sa.CheckConstraint(
            "households IS NULL OR households >= 0", name=op.f("ck_unit_households_non_negative")
        ),
        sa.CheckConstraint(
            "party_members IS NULL OR party_members >= 0",
            name=op.f("ck_unit_party_members_non_negative"),
        ),
        sa.CheckConstraint(
            "population IS NULL OR population >= 0", name=op.f("ck_unit_population_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["cell_id"],
            ["grid_cell.id"],
            name=op.f("fk_unit_cell_id_grid_cell"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_unit_source")),
    )
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_unit_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_table(
        "worker_cell",
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["cell_id"],
            ["grid_cell.id"],
            name=op.f("fk_worker_cell_cell_id_grid_cell"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["worker.id"],
            name=op.f("fk_worker_cell_worker_id_worker"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", "cell_id", name=op.f("pk_worker_cell")),
    )
    op.create_table(
        "instructor_unit",
        sa.Column("instructor_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["instructor_id"],
            ["instructor.id"],
            name=op.f("fk_instructor_unit_instructor_id_instructor"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["unit.id"],
            name=op.f("fk_instructor_unit_unit_id_unit"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("instructor_id", "unit_id", name=op.f("pk_instructor_unit")),
    )
    op.create_geospatial_table(
        "party_org",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("members", sa.Integer(), nullable=True),
        sa.Column("established", sa.Date(), nullable=True),
        sa.Column("last_activity", sa.Date(), nullable=True),
        sa.Column("own_unit_id", sa.Integer(), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column(
            "geom",
            Geometry(
                geometry_type="POINT",
                srid=4326,
                dimension=2,
                spatial_index=False,
                from_text="ST_GeomFromEWKT",
                name="geometry",
            ),
            nullable=True,
        ),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("source_id", sa.String(length=200), nullable=False),
        sa.Column(
            "updated_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "kind IN ('committee', 'general_branch', 'branch', 'joint_branch')",
            name=op.f("ck_party_org_kind_known"),
        ),
        sa.CheckConstraint(
            "members IS NULL OR members >= 0", name=op.f("ck_party_org_members_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["own_unit_id"],
            ["unit.id"],
            name=op.f("fk_party_org_own_unit_id_unit"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["party_org.id"],
            name=op.f("fk_party_org_parent_id_party_org"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_party_org")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_party_org_source")),
    )
    with op.batch_alter_table("party_org", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_party_org_geom", ["geom"], unique=False, postgresql_using="gist", postgresql_ops={}
        )

    op.create_table(
        "unit_cell",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cell_id", sa.Integer(), nullable=False),
        sa.Column("share", sa.Float(), nullable=False),
        sa.CheckConstraint("share >= 0 AND share <= 1", name=op.f("ck_unit_cell_share_fraction")),
        sa.ForeignKeyConstraint(
            ["cell_id"],
            ["grid_cell.id"],
            name=op.f("fk_unit_cell_cell_id_grid_cell"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_unit_cell_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("unit_id", "cell_id", name=op.f("pk_unit_cell")),
    )
    op.create_table(
        "visit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("worker_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("visited_at", sa.DateTime(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status_change", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_visit_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["worker.id"], name=op.f("fk_visit_worker_id_worker"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit")),
    )
    op.create_table(
        "org_unit",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["party_org.id"],
            name=op.f("fk_org_unit_org_id_party_org"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["unit.id"], name=op.f("fk_org_unit_unit_id_unit"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "unit_id", name=op.f("pk_org_unit")),
    )
    _require_valid_geometries()


def downgrade() -> None:
    op.drop_table("org_unit")
    op.drop_table("visit")
    op.drop_table("unit_cell")
    with op.batch_alter_table("party_org", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_party_org_geom", postgresql_using="gist", column_name="geom"
        )

    op.drop_geospatial_table("party_org")
    op.drop_table("instructor_unit")
    op.drop_table("worker_cell")
    with op.batch_alter_table("unit", schema=None) as batch_op:
        batch_op.drop_geospatial_index("idx_unit_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("unit")
    with op.batch_alter_table("grid_cell", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_grid_cell_geom", postgresql_using="gist", column_name="geom"
        )

    op.drop_geospatial_table("grid_cell")
    op.drop_table("worker")
    with op.batch_alter_table("station", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_station_geom", postgresql_using="gist", column_name="geom"
        )

    op.drop_geospatial_table("station")
    with op.batch_alter_table("road", schema=None) as batch_op:
        batch_op.drop_geospatial_index("idx_road_geom", postgresql_using="gist", column_name="geom")

    op.drop_geospatial_table("road")
    op.drop_table("instructor")
    op.drop_table("audit_log")
    with op.batch_alter_table("admin_area", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_admin_area_boundary", postgresql_using="gist", column_name="boundary"
        )

    op.drop_geospatial_table("admin_area")


_GEOMETRY_COLUMNS = {
    "admin_area": "boundary",
    "grid_cell": "geom",
    "unit": "geom",
    "party_org": "geom",
    "station": "geom",
    "road": "geom",
}


def _require_valid_geometries() -> None:
    """Keep invalid and empty geometries out on both backends."""
    dialect = op.get_bind().dialect.name
    for table, column in _GEOMETRY_COLUMNS.items():
        if dialect == "postgresql":
            op.create_check_constraint(
                f"{column}_valid",
                table,
                f"{column} IS NULL OR (ST_IsValid({column}) AND NOT ST_IsEmpty({column}))",
            )
            continue
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER {table}_{column}_valid_{event.lower()} "
                f"BEFORE {event} ON {table} FOR EACH ROW "
                f"WHEN NEW.{column} IS NOT NULL AND (ST_IsValid(NEW.{column}) IS NOT 1 "
                f"OR ST_IsEmpty(NEW.{column}) IS 1) "
                f"BEGIN SELECT RAISE(ABORT, '{table}.{column}: invalid or empty geometry'); END"
            )
