"""candidate sites

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22

Public buildings from OSM (town halls, community centres, schools, offices) and
user-supplied sites where a new station could go, for siting.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_geospatial_table(
        "candidate_site",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=True),
        sa.Column("site_kind", sa.String(length=40), nullable=True),
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
        sa.PrimaryKeyConstraint("id", name=op.f("pk_candidate_site")),
        sa.UniqueConstraint("source", "source_id", name=op.f("uq_candidate_site_source")),
    )
    with op.batch_alter_table("candidate_site", schema=None) as batch_op:
        batch_op.create_geospatial_index(
            "idx_candidate_site_geom",
            ["geom"],
            unique=False,
            postgresql_using="gist",
            postgresql_ops={},
        )
    if op.get_bind().dialect.name == "postgresql":
        op.create_check_constraint(
            "geom_valid", "candidate_site", "ST_IsValid(geom) AND NOT ST_IsEmpty(geom)"
        )
    else:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"CREATE TRIGGER candidate_site_geom_valid_{event.lower()} "
                f"BEFORE {event} ON candidate_site FOR EACH ROW "
                "WHEN ST_IsValid(NEW.geom) IS NOT 1 OR ST_IsEmpty(NEW.geom) IS 1 "
                "BEGIN SELECT RAISE(ABORT, 'candidate_site.geom: invalid or empty geometry'); END"
            )


def downgrade() -> None:
    with op.batch_alter_table("candidate_site", schema=None) as batch_op:
        batch_op.drop_geospatial_index(
            "idx_candidate_site_geom", postgresql_using="gist", column_name="geom"
        )
    op.drop_geospatial_table("candidate_site")
