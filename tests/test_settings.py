"""Settings come from GRIDMAP_* variables, are validated, and are never read at import time."""

from __future__ import annotations

import subprocess
import sys

import pytest

from gridmap.domain import StationTier
from gridmap.errors import ConfigurationError
from gridmap.settings import Settings


def test_defaults_follow_the_domain_rules() -> None:
    settings = Settings(_env_file=None)
    assert settings.database_url == "sqlite:///gridmap.sqlite"
    assert settings.coverage.must_have_branch_members == 3
    assert settings.coverage.idle_days == 180
    assert settings.coverage.reach_m[StationTier.COMMUNITY] == 300.0
    assert settings.coverage.reach_m[StationTier.TOWNSHIP] == 1000.0


def test_environment_variables_override_nested_fields(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDMAP_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("GRIDMAP_COVERAGE__IDLE_DAYS", "90")
    monkeypatch.setenv("GRIDMAP_COVERAGE__REACH_M", '{"community": 500}')
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+psycopg://u@h/db"
    assert settings.coverage.idle_days == 90
    assert settings.coverage.reach_m == {StationTier.COMMUNITY: 500.0}


def test_invalid_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDMAP_COVERAGE__IDLE_DAYS", "-5")
    with pytest.raises(ValueError, match="idle_days"):
        Settings(_env_file=None)


def test_production_refuses_the_default_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GRIDMAP_ENVIRONMENT", "production")
    with pytest.raises((ConfigurationError, ValueError), match="GRIDMAP_SECRET_KEY"):
        Settings(_env_file=None)
    monkeypatch.setenv("GRIDMAP_SECRET_KEY", "a-long-random-production-value")
    assert Settings(_env_file=None).environment == "production"


def test_env_file_is_read(
    tmp_path: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = tmp_path / ".env"  # type: ignore[operator]
    env.write_text("GRIDMAP_LANG=en\n")
    assert Settings(_env_file=env).lang == "en"


def test_importing_gridmap_reads_no_settings_and_opens_no_database(tmp_path: object) -> None:
    code = (
        "import os, sys; os.environ['GRIDMAP_DATABASE_URL'] = 'bogus://'; "
        "import gridmap, gridmap.settings, gridmap.store, gridmap.cli; "
        "print('ok')"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
