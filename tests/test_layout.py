"""The package's shape: a pure analysis core, a CLI that lists every command."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from gridmap.cli import app

CORE = [
    "gridmap",
    "gridmap.crs",
    "gridmap.domain",
    "gridmap.settings",
    "gridmap.store",
    "gridmap.ingest",
]


def test_analysis_core_imports_without_fastapi() -> None:
    code = (
        f"import sys; import {', '.join(CORE)}; "
        "bad = [m for m in ('fastapi', 'starlette', 'uvicorn') if m in sys.modules]; "
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"the core imported {out.stdout.strip()}"


def test_help_lists_every_command_with_help_text() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    for command in ("db", "demo"):
        assert command in result.output
    db = CliRunner().invoke(app, ["db", "--help"])
    assert "upgrade" in db.output and "Create the store" in db.output
