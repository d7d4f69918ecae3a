"""The package's shape: a pure analysis core, a CLI that lists every command."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator

import typer
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


def _command_name(info: typer.models.CommandInfo) -> str:
    assert info.callback is not None
    return info.name or info.callback.__name__.replace("_", "-")


def _registered(group: typer.Typer, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and sub-command registered on ``group``, as its CLI path."""
    for info in group.registered_commands:
        yield (*path, _command_name(info))
    for sub in group.registered_groups:
        assert sub.name and sub.typer_instance is not None
        yield (*path, sub.name)
        yield from _registered(sub.typer_instance, (*path, sub.name))


def _listed(path: tuple[str, ...]) -> dict[str, str]:
    """The commands ``gridmap PATH --help`` lists, with their help text."""
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    rows = re.findall(r"^[│|] (\S+) +(.*?) *[│|]$", result.output.split("Commands")[-1], re.M)
    return dict(rows)


def test_help_lists_every_command_with_help_text() -> None:
    """Each command registered on the typer app (walked, not listed here) is in its --help."""
    commands = list(_registered(app))
    assert any(len(path) == 2 for path in commands)  # the walk reached the sub-commands
    for *parent, name in commands:
        listed = _listed(tuple(parent))
        assert name in listed, f"gridmap {' '.join(parent)} --help does not list {name!r}"
        assert listed[name], f"gridmap {' '.join([*parent, name])} has no help text"
