"""The domain model as SQLAlchemy 2 tables, one schema for SpatiaLite and PostGIS.

Every geometry is stored in WGS-84 (EPSG:4326) with a spatial index. Records
that come from a source file carry ``(source, source_id)``, unique per table,
so re-importing a source updates rather than duplicates. See DOMAIN.md for the
meaning of each table and README.md for the diagram.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from gridmap.domain import AdminLevel, OrgKind, StationTier, UnitKind

__all__ = [
    "GEOMETRY_COLUMNS",
    "AdminArea",
    "AuditLog",
    "Base",
    "CandidateSite",
    "CoverageCell",
    "CoverageRun",
    "CoverageServiceArea",
    "CoverageSite",
    "CoverageUnit",
    "CoverageZone",
    "GridCell",
    "Instructor",
    "InstructorUnit",
    "OrgUnit",
    "PartyOrg",
    "PendingChange",
    "Road",
    "RunJob",
    "SitingRun",
    "Station",
    "Task",
    "Unit",
    "UnitCell",
    "User",
    "Visit",
    "WebSession",
    "Worker",
    "WorkerCell",
]

SRID = 4326

_NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base with a naming convention, so migrations name constraints alike."""

    metadata = MetaData(naming_convention=_NAMING)


def _in(column: str, values: type[Any]) -> CheckConstraint:
    listed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({listed})", name=f"{column}_known")


def _non_negative(*columns: str) -> list[CheckConstraint]:
    return [CheckConstraint(f"{c} IS NULL OR {c} >= 0", name=f"{c}_non_negative") for c in columns]


def _geometry(kind: str) -> Any:
    return Geometry(geometry_type=kind, srid=SRID, spatial_index=True)


class _Sourced:
    """Where a record came from: a source name (``osm``, a file stem) and its id there."""

    source: Mapped[str] = mapped_column(String(200), default="manual")
    source_id: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    #: Field-level provenance: which file set each field, when, and what each file supplied,
    #: stored compactly as ``"<provenance_header id>:<digests>"`` (read it through
    #: :func:`gridmap.ingest._headers.read_provenance`; see :mod:`gridmap.ingest.provenance`).
    provenance: Mapped[str | None] = mapped_column(Text, nullable=True)
    #: When a ``--sync`` import found the record gone from its file; closed records stay
    #: in the store (history) but are left out of runs, maps and reports.
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime, nullable=True)


class AdminArea(_Sourced, Base):
    """County, township / sub-district or village / community (行政区划)."""

    __tablename__ = "admin_area"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        _in("level", AdminLevel),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"))
    boundary: Mapped[Any] = mapped_column(_geometry("MULTIPOLYGON"), nullable=True)

    parent: Mapped[AdminArea | None] = relationship(remote_side=[id])


class GridCell(_Sourced, Base):
    """A grid cell (网格): the smallest management area, inside one village or community."""

    __tablename__ = "grid_cell"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        *_non_negative("households", "population"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("admin_area.id", ondelete="SET NULL"))
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(_geometry("MULTIPOLYGON"), nullable=False)

    area: Mapped[AdminArea | None] = relationship()


class Worker(_Sourced, Base):
    """A grid worker (网格员)."""

    __tablename__ = "worker"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))


class WorkerCell(Base):
    """Which cells a grid worker is responsible for."""

    __tablename__ = "worker_cell"

    worker_id: Mapped[int] = mapped_column(
        ForeignKey("worker.id", ondelete="CASCADE"), primary_key=True
    )
    cell_id: Mapped[int] = mapped_column(
        ForeignKey("grid_cell.id", ondelete="CASCADE"), primary_key=True
    )


class Unit(_Sourced, Base):
    """A unit that must be covered: village, community, building, park, firm, social org."""

    __tablename__ = "unit"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        _in("kind", UnitKind),
        *_non_negative("households", "population", "party_members"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str | None] = mapped_column(String(300))
    households: Mapped[int | None] = mapped_column(Integer)
    population: Mapped[int | None] = mapped_column(Integer)
    party_members: Mapped[int | None] = mapped_column(Integer)
    address: Mapped[str | None] = mapped_column(String(300))
    cell_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cell.id", ondelete="SET NULL"))
    geom: Mapped[Any] = mapped_column(_geometry("GEOMETRY"), nullable=False)

    cell: Mapped[GridCell | None] = relationship()


class UnitCell(Base):
    """Every cell a unit touches, with the share of its area (parks, large footprints)."""

    __tablename__ = "unit_cell"
    __table_args__ = (CheckConstraint("share >= 0 AND share <= 1", name="share_fraction"),)

    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )
    cell_id: Mapped[int] = mapped_column(
        ForeignKey("grid_cell.id", ondelete="CASCADE"), primary_key=True
    )
    share: Mapped[float] = mapped_column(Float)


class PartyOrg(_Sourced, Base):
    """A party organisation: committee, general branch, branch or joint branch."""

    __tablename__ = "party_org"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        _in("kind", OrgKind),
        *_non_negative("members"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    members: Mapped[int | None] = mapped_column(Integer)
    established: Mapped[dt.date | None] = mapped_column(Date)
    last_activity: Mapped[dt.date | None] = mapped_column(Date)
    own_unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("party_org.id", ondelete="SET NULL"))
    geom: Mapped[Any] = mapped_column(_geometry("POINT"), nullable=True)


class OrgUnit(Base):
    """The units a party organisation covers (for a joint branch, each member unit)."""

    __tablename__ = "org_unit"

    org_id: Mapped[int] = mapped_column(
        ForeignKey("party_org.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )


class Instructor(_Sourced, Base):
    """A party-building instructor (党建指导员): work coverage of units without a branch."""

    __tablename__ = "instructor"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))


class InstructorUnit(Base):
    """The units an instructor is assigned to."""

    __tablename__ = "instructor_unit"

    instructor_id: Mapped[int] = mapped_column(
        ForeignKey("instructor.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(
        ForeignKey("unit.id", ondelete="CASCADE"), primary_key=True
    )


class Station(_Sourced, Base):
    """A party-mass service site (党群服务中心 / 站 / 点) of some tier."""

    __tablename__ = "station"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        _in("tier", StationTier),
        *_non_negative("capacity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tier: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(300))
    last_activity: Mapped[dt.date | None] = mapped_column(Date)
    capacity: Mapped[int | None] = mapped_column(Integer)
    geom: Mapped[Any] = mapped_column(_geometry("POINT"), nullable=False)


class Road(_Sourced, Base):
    """A road segment, kept for network reach (OSM ways or any line layer)."""

    __tablename__ = "road"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    highway: Mapped[str | None] = mapped_column(String(40))
    oneway: Mapped[str | None] = mapped_column(String(8))
    geom: Mapped[Any] = mapped_column(_geometry("LINESTRING"), nullable=False)


class CandidateSite(_Sourced, Base):
    """A place a new station could go: a public building from OSM or a user's site."""

    __tablename__ = "candidate_site"
    __table_args__ = (UniqueConstraint("source", "source_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(300))
    site_kind: Mapped[str | None] = mapped_column(String(40))
    geom: Mapped[Any] = mapped_column(_geometry("POINT"), nullable=False)


class Visit(Base):
    """A grid worker's visit to a unit (走访记录), with an optional status change."""

    __tablename__ = "visit"
    __table_args__ = (Index("ix_visit_idempotency", "user_id", "idempotency_key", unique=True),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("worker.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    visited_at: Mapped[dt.datetime] = mapped_column(DateTime)
    note: Mapped[str | None] = mapped_column(Text)
    status_change: Mapped[str | None] = mapped_column(String(100))
    # web visits (migration 0005): who recorded it, where, and the client's idempotency key
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    # migration 0009: the system the phone gave lon/lat in (stored as WGS-84), its accuracy
    location_crs: Mapped[str | None] = mapped_column(String(10))
    accuracy_m: Mapped[float | None] = mapped_column(Float)


class ProvenanceHeader(Base):
    """What the provenance of many records shares (fields, origins, time stamps), kept once.

    Records refer to a header by id in their ``provenance`` (see
    :mod:`gridmap.ingest.provenance`, *Stored form*); ``key`` is a digest of ``header``.
    """

    __tablename__ = "provenance_header"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)
    header: Mapped[str] = mapped_column(Text)


class AuditLog(Base):
    """Who changed what and when; imports record every changed record's old values."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.current_timestamp())
    actor: Mapped[str] = mapped_column(String(100), default="gridmap")
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CoverageRun(Base):
    """One coverage run: its parameters, when it ran, the date it evaluated, its results."""

    __tablename__ = "coverage_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    as_of: Mapped[dt.date] = mapped_column(Date)
    label: Mapped[str | None] = mapped_column(String(200))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    areas: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    # the layout version of what maps and reports read back (migration 0008); NULL: recompute
    outputs: Mapped[int | None] = mapped_column(Integer)


class CoverageUnit(Base):
    """A unit's result in one run; kept with the unit's source id so history survives edits."""

    __tablename__ = "coverage_unit"
    __table_args__ = (Index("ix_coverage_unit_run_id_cell_code", "run_id", "cell_code"),)

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(200))
    source_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    org_status: Mapped[str] = mapped_column(String(16))
    must_have_branch: Mapped[bool] = mapped_column(Boolean)
    service_covered: Mapped[bool] = mapped_column(Boolean)
    nearest_station_id: Mapped[int | None] = mapped_column(Integer)
    nearest_station_m: Mapped[float | None] = mapped_column(Float)
    # what the pages need without recomputing (migration 0005)
    kind: Mapped[str | None] = mapped_column(String(16))
    cell_code: Mapped[str | None] = mapped_column(String(32))
    lon: Mapped[float | None] = mapped_column(Float)
    lat: Mapped[float | None] = mapped_column(Float)
    population: Mapped[int | None] = mapped_column(Integer)
    party_members: Mapped[int | None] = mapped_column(Integer)
    # what maps and reports need without recomputing (migration 0008)
    cell_id: Mapped[int | None] = mapped_column(Integer)
    households: Mapped[int | None] = mapped_column(Integer)
    branch_idle: Mapped[bool | None] = mapped_column(Boolean)
    covering_org_id: Mapped[int | None] = mapped_column(Integer)
    nearest_counting_station_m: Mapped[float | None] = mapped_column(Float)
    covering_station_id: Mapped[int | None] = mapped_column(Integer)
    snap_m: Mapped[float | None] = mapped_column(Float)
    far_from_road: Mapped[bool | None] = mapped_column(Boolean)
    point_lon: Mapped[float | None] = mapped_column(Float)  # full precision (lon/lat: 7 dp)
    point_lat: Mapped[float | None] = mapped_column(Float)


class CoverageZone(Base):
    """A blind zone of one run, ranked, with its WGS-84 polygon as WKB."""

    __tablename__ = "coverage_zone"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    area_m2: Mapped[float] = mapped_column(Float)
    units: Mapped[int] = mapped_column(Integer)
    households: Mapped[int] = mapped_column(Integer)
    population: Mapped[int] = mapped_column(Integer)
    party_members: Mapped[int] = mapped_column(Integer)
    must_have_branch: Mapped[int] = mapped_column(Integer)
    priority: Mapped[float] = mapped_column(Float)
    unit_ids: Mapped[str] = mapped_column(Text)
    cell_codes: Mapped[str] = mapped_column(Text)
    geom_wkb: Mapped[bytes] = mapped_column(LargeBinary)


class CoverageServiceArea(Base):
    """The area one counting station of a run reaches, WGS-84 polygon as WKB."""

    __tablename__ = "coverage_service_area"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    station_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    tier: Mapped[str | None] = mapped_column(String(16))
    limit: Mapped[float | None] = mapped_column(Float)
    geom_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)


class CoverageSite(Base):
    """An organisation (``role`` org) or station (``role`` station) as one run judged it."""

    __tablename__ = "coverage_site"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(8), primary_key=True)
    site_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    kind: Mapped[str | None] = mapped_column(String(16))  # org kind or station tier
    members: Mapped[int | None] = mapped_column(Integer)
    last_activity: Mapped[dt.date | None] = mapped_column(Date)
    activity: Mapped[str] = mapped_column(String(8))
    geom_wkb: Mapped[bytes | None] = mapped_column(LargeBinary)


class CoverageCell(Base):
    """A cell's result in one run, with the admin code of its area (what scopes filter on)."""

    __tablename__ = "coverage_cell"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("coverage_run.id", ondelete="CASCADE"), primary_key=True
    )
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    cell_id: Mapped[int | None] = mapped_column(Integer)
    name: Mapped[str | None] = mapped_column(String(200))
    area_code: Mapped[str | None] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(16))
    units_total: Mapped[int] = mapped_column(Integer)
    units_covered: Mapped[int] = mapped_column(Integer)
    org_covered: Mapped[int] = mapped_column(Integer)
    must_have_branch: Mapped[int] = mapped_column(Integer)
    population_total: Mapped[int] = mapped_column(Integer)
    population_covered: Mapped[int] = mapped_column(Integer)


class User(Base):
    """A web account: role and data scope (an admin area, or a grid worker's cells)."""

    __tablename__ = "user"
    __table_args__ = (
        CheckConstraint("role IN ('admin', 'department', 'planner', 'worker')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    area_code: Mapped[str | None] = mapped_column(String(20))
    worker_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WebSession(Base):
    """A signed-in session, kept server-side: only a keyed hash of its token is stored."""

    __tablename__ = "web_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PendingChange(Base):
    """A change a visit reported; applied to the records only when a department confirms it."""

    __tablename__ = "pending_change"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'confirmed', 'rejected')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visit.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    reported_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    reported_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class RunJob(Base):
    """A coverage run started from the web: queued -> running -> done / failed."""

    __tablename__ = "run_job"
    __table_args__ = (
        CheckConstraint("status IN ('queued', 'running', 'done', 'failed')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("coverage_run.id", ondelete="SET NULL"))
    error: Mapped[str | None] = mapped_column(Text)
    # how far a running job has got (migration 0009): the stage reached and the share done
    stage: Mapped[str | None] = mapped_column(String(32))
    progress: Mapped[float | None] = mapped_column(Float)


class SitingRun(Base):
    """One siting recommendation: its parameters, summary and the sites in order (GeoJSON)."""

    __tablename__ = "siting_run"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON)
    sites: Mapped[dict[str, Any]] = mapped_column(JSON)


class Task(Base):
    """A task (派单) for the grid worker of a cell: close a blind zone, set up a branch, revive
    an idle organisation or station. Done with a visit, or cancelled (migration 0007)."""

    __tablename__ = "task"
    __table_args__ = (
        CheckConstraint(
            "kind IN ('blind_zone', 'must_build', 'idle_org', 'idle_station')", name="kind_known"
        ),
        CheckConstraint("status IN ('open', 'done', 'cancelled')", name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    cell_id: Mapped[int] = mapped_column(ForeignKey("grid_cell.id", ondelete="CASCADE"), index=True)
    cell_code: Mapped[str] = mapped_column(String(32))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id", ondelete="SET NULL"))
    org_id: Mapped[int | None] = mapped_column(ForeignKey("party_org.id", ondelete="SET NULL"))
    station_id: Mapped[int | None] = mapped_column(ForeignKey("station.id", ondelete="SET NULL"))
    title: Mapped[str | None] = mapped_column(String(300))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("worker.id", ondelete="SET NULL"))
    due: Mapped[dt.date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    visit_id: Mapped[int | None] = mapped_column(ForeignKey("visit.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime, server_default=func.current_timestamp()
    )
    closed_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


#: Geometry column of each table that has one: validity is enforced on these.
GEOMETRY_COLUMNS: dict[str, str] = {
    "admin_area": "boundary",
    "grid_cell": "geom",
    "unit": "geom",
    "party_org": "geom",
    "station": "geom",
    "road": "geom",
    "candidate_site": "geom",
}
