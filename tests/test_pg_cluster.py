"""The throwaway PostGIS cluster of ``make test`` is private while the tests run: its data and
socket sit in a 0700 directory outside the checkout, and TCP connections need its password."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
STATE = ROOT / ".cache" / "pg" / "cluster.env"


@pytest.fixture
def cluster_url(request: pytest.FixtureRequest) -> str:
    url = os.environ.get("GRIDMAP_TEST_POSTGIS_URL")
    if not url or not STATE.exists():
        if request.config.getoption("--require-all-backends"):
            pytest.fail("the test cluster of scripts/pg-cluster.sh is not running")
        pytest.skip("no throwaway cluster (make test starts it)")
    return url


def _state() -> dict[str, str]:
    lines = STATE.read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if "=" in line)


def test_connections_without_the_password_are_refused(cluster_url: str) -> None:
    url = make_url(cluster_url)
    assert url.password, "the test database URL carries the cluster's password"
    plain: dict[str, Any] = {
        "host": url.host,
        "port": url.port,
        "user": url.username,
        "dbname": url.database,
    }
    with psycopg.connect(**plain, password=url.password, connect_timeout=10) as conn:
        assert conn.execute("SELECT 1").fetchone() == (1,)
    env = {k: os.environ.pop(k) for k in ("PGPASSWORD", "PGPASSFILE") if k in os.environ}
    try:
        for password in ("", "wrong"):
            with pytest.raises(psycopg.OperationalError, match="password"):
                psycopg.connect(**plain, password=password, connect_timeout=10)
    finally:
        os.environ.update(env)


def test_data_and_socket_live_in_a_private_directory_outside_the_checkout(
    cluster_url: str,
) -> None:
    assert cluster_url
    data = Path(_state()["DATA"])
    assert ROOT not in data.parents, "outside the checkout, whose parents may be 0700"
    assert stat.S_IMODE(STATE.stat().st_mode) == 0o600  # the password's file
    if os.access(data, os.R_OK | os.X_OK):  # root, or the cluster's owner
        assert stat.S_IMODE(data.stat().st_mode) == 0o700
        assert stat.S_IMODE((data / "socket").stat().st_mode) == 0o700
    else:  # the cluster runs as postgres: nobody else may even look inside
        with pytest.raises(PermissionError):
            list(data.iterdir())
