"""``gridmap serve`` ends like every command when it cannot start: ONE line, exit 2.

A real ``gridmap`` process each time: the traceback came from uvicorn's start-up, which a
CliRunner test would not show the way a user sees it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

GRIDMAP = Path(sys.executable).parent / "gridmap"
UNREACHABLE = "postgresql+psycopg://gis:s3cret-pw@127.0.0.1:1/gridmap"


def _serve(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("GRIDMAP_")}
    environ.update({"GRIDMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}", **env})
    return subprocess.run(
        [str(GRIDMAP), "serve", "--port", "1"],  # never reached: refused before listening
        cwd=tmp_path,
        env=environ,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def _assert_one_line(result: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("error: "), lines
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in lines[0], lines


def test_production_with_the_default_secret_is_one_line(tmp_path: Path) -> None:
    result = _serve(tmp_path, GRIDMAP_ENVIRONMENT="production")
    _assert_one_line(result, "GRIDMAP_SECRET_KEY")


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        (UNREACHABLE, "gis:***@127.0.0.1"),
        ("sqlite:////nonexistent-folder/g.sqlite", "nonexistent-folder"),
    ],
)
def test_a_store_that_cannot_be_opened_is_one_line(tmp_path: Path, url: str, needle: str) -> None:
    result = _serve(tmp_path, GRIDMAP_DATABASE_URL=url)
    _assert_one_line(result, "GRIDMAP_DATABASE_URL", "cannot connect", needle)
    assert "s3cret-pw" not in result.stderr + result.stdout
