"""Settings, read from ``GRIDMAP_*`` environment variables and an optional ``.env`` file.

Build one :class:`Settings` at the edge of the program (the CLI, the web app
factory, a notebook) and pass it down; nothing in gridmap reads settings at
import time.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gridmap.domain import StationTier
from gridmap.errors import ConfigurationError

__all__ = ["CoverageSettings", "IngestSettings", "Settings", "WebSettings"]

_DEV_SECRET = "dev-only-change-me"

#: Default service reach per station tier in metres (DOMAIN.md "Service reach": GB 50180-2018
#: life circles for urban stations: 5 minutes ~300 m, 15 minutes ~800-1,000 m for centres; a
#: county centre is the 15-minute centre of the people around it, not a reach over the whole
#: county; rural tiers are conventions and meant to be changed).
DEFAULT_REACH_M: dict[StationTier, float] = {
    StationTier.COUNTY: 1000.0,
    StationTier.TOWNSHIP: 1000.0,
    StationTier.VILLAGE: 2000.0,
    StationTier.COMMUNITY: 300.0,
    StationTier.BUILDING: 300.0,
    StationTier.PARK: 500.0,
    StationTier.POINT: 500.0,
}


class CoverageSettings(BaseModel):
    """The coverage rules' numbers (DOMAIN.md "Coverage rules"); all are defaults."""

    must_have_branch_members: int = Field(3, ge=1, description="members that oblige an own branch")
    idle_days: int = Field(180, ge=1, description="days without activity before a site is idle")
    idle_counts: bool = Field(False, description="whether idle branches and stations still cover")
    unknown_counts: bool = Field(
        True, description="whether branches and stations with no activity date cover"
    )
    hub_reach_m: float | None = Field(
        None,
        gt=0,
        description=(
            "proximity hosting (托管型组织): a hub committee or general branch hosts every unit "
            "within this many metres; None (the default) counts only the units a hub names"
        ),
    )
    reach_m: dict[StationTier, float] = Field(default_factory=lambda: dict(DEFAULT_REACH_M))
    max_snap_m: float = Field(500.0, gt=0, description="farther than this from a road: flagged")
    walk_kmh: float = Field(
        5.0,
        gt=0,
        description=(
            "walking speed: every walkable road at this speed in network mode, the off-road "
            "walks to and from the roads, and minutes to metres in radius mode"
        ),
    )


class IngestSettings(BaseModel):
    """Limits of the readers (``GRIDMAP_INGEST__MAX_FIELD_CHARS=10000``)."""

    max_field_chars: int = Field(
        4000,
        ge=1,
        description="longest text accepted in one field; longer rows are rejected with the reason",
    )


class WebSettings(BaseModel):
    """The web app's sessions, lockout and limits (``GRIDMAP_WEB__SESSION_MINUTES=60``...)."""

    session_minutes: int = Field(480, ge=1, description="a session expires this long after login")
    max_failed_logins: int = Field(5, ge=1, description="failed logins in a row before a lock")
    lockout_minutes: int = Field(15, ge=1, description="how long a locked account stays locked")
    min_password_length: int = Field(10, ge=8, description="shortest password accepted")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest request body accepted")
    cookie_secure: bool | None = Field(
        None, description="Secure flag on cookies; by default set outside development"
    )
    basemap: Literal["none", "osm", "tianditu_vec", "tianditu_img", "amap"] = Field(
        "none",
        description="tiles under the worker's cell map (tianditu_* need tianditu_key; amap "
        "shifts overlays to GCJ-02); none draws the cell on a blank background",
    )


class Settings(BaseSettings):
    """All of gridmap's settings.

    Nested fields use a double underscore: ``GRIDMAP_COVERAGE__IDLE_DAYS=90``.
    """

    model_config = SettingsConfigDict(
        env_prefix="GRIDMAP_",
        env_file=".env",
        env_nested_delimiter="__",
        extra="ignore",
    )

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = Field(
        "sqlite:///gridmap.sqlite",
        description="SQLAlchemy URL: sqlite:///FILE (SpatiaLite) or postgresql+psycopg://...",
    )
    spatialite_library: str = Field(
        "mod_spatialite", description="name or path of the SpatiaLite extension module"
    )
    tianditu_key: SecretStr | None = None
    secret_key: SecretStr = SecretStr(_DEV_SECRET)
    lang: Literal["zh", "en"] = "zh"
    coverage: CoverageSettings = Field(default_factory=CoverageSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    web: WebSettings = Field(default_factory=WebSettings)

    @model_validator(mode="after")
    def _refuse_default_secret_in_production(self) -> Self:
        if self.environment == "production" and self.secret_key.get_secret_value() == _DEV_SECRET:
            msg = (
                "GRIDMAP_SECRET_KEY still has its development default; set a long random "
                "value before running with GRIDMAP_ENVIRONMENT=production"
            )
            raise ConfigurationError(msg)
        return self

    def uses_default_secret(self) -> bool:
        """Whether ``secret_key`` is still the development default (the web app refuses it)."""
        return self.secret_key.get_secret_value() == _DEV_SECRET
