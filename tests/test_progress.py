"""Progress bars: drawn on a terminal, silent on pipes, files and in the tests."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from gridmap.ingest.pipeline import ingest_layer
from gridmap.progress import stage, stage_bar, track
from gridmap.store import Store

ROOT = Path(__file__).resolve().parent.parent


def _numbers(n: int) -> Iterator[int]:
    yield from range(n)  # no len(): the bar cannot know the total


def test_quiet_when_the_console_is_not_a_terminal() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer)
    assert list(track(range(5), description="loading unit", console=console)) == [0, 1, 2, 3, 4]
    assert buffer.getvalue() == ""


def test_quiet_on_the_default_stderr_under_pytest(capfd: pytest.CaptureFixture[str]) -> None:
    assert list(track(_numbers(3), description="reading x.osm.pbf")) == [0, 1, 2]
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("items", [list(range(2500)), _numbers(2500)], ids=["sized", "unsized"])
def test_renders_on_a_terminal_console(items: list[int] | Iterator[int]) -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    assert sum(track(items, description="loading unit", console=console)) == sum(range(2500))
    shown = buffer.getvalue()
    assert "loading unit" in shown
    assert "2500/2500" in shown


def test_an_early_break_closes_the_bar() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    for i in track(range(10), description="loading unit", console=console):
        if i == 3:
            break
    # rich allows one live display per console: a second bar fails if the first still runs
    assert list(track(range(3), description="again", console=console)) == [0, 1, 2]


def test_the_stages_of_a_run_draw_one_bar_on_a_terminal_only() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    with stage_bar("coverage run", console=console):
        stage("reach", 0.2)
        stage("zones", 0.7)
    shown = buffer.getvalue()
    assert "coverage run: reach" in shown and "coverage run: zones" in shown
    assert "70%" in shown
    quiet = io.StringIO()
    with stage_bar("coverage run", console=Console(file=quiet)):
        stage("reach", 0.2)
    assert quiet.getvalue() == ""


def test_an_import_is_silent_on_stderr_in_tests(
    store: Store, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    report = ingest_layer(
        store, ROOT / "gridmap" / "data" / "sample" / "units.csv", "unit", crs="4326"
    )
    assert report.loaded > 0
    assert "loading" not in capfd.readouterr().err


@pytest.mark.slow
def test_the_cli_draws_the_loader_bar_on_a_terminal_only(tmp_path: Path) -> None:
    """`gridmap ingest layer` with stderr on a pseudo-terminal, then on a pipe."""
    env = {**os.environ, "GRIDMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}"}
    env.pop("NO_COLOR", None)
    args = [sys.executable, "-m", "gridmap", "ingest", "layer", "gridmap/data/sample/stations.csv"]
    args += ["--kind", "station", "--crs", "4326"]
    main, secondary = pty.openpty()
    with subprocess.Popen(
        args, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=secondary, stdin=subprocess.DEVNULL
    ) as process:
        os.close(secondary)
        terminal = b""
        while True:
            try:
                chunk = os.read(main, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            terminal += chunk
        process.communicate(timeout=60)
    os.close(main)
    assert process.returncode == 0, terminal.decode(errors="replace")
    assert b"loading station" in terminal
    piped = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, timeout=60, check=True)
    assert b"loading" not in piped.stderr
    assert b"unchanged" in piped.stdout  # the second import found every station again
