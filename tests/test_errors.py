"""Every mistake gets ONE line on stderr and exit 2; bugs and Ctrl-C never show a traceback.

The CLI cases run the real ``gridmap`` app on real stores; the width and
interrupt cases run it as a user does, in a subprocess.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import typer
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.cli._common import OneLineErrorGroup, handle_errors
from gridmap.errors import (
    ConfigurationError,
    GridmapError,
    InvalidValueError,
    NotFoundError,
    StoreUnavailableError,
    UnknownValueError,
    mask_secrets,
    outcome_of,
)
from gridmap.maps._basemaps import basemap_tiles
from gridmap.store import Store
from gridmap.web.errors import add_exception_handlers

GRIDMAP = Path(sys.executable).parent / "gridmap"
UNREACHABLE = "postgresql+psycopg://gis:s3cret-pw@127.0.0.1:1/gridmap"


def _cli(url: str, *args: str, **env: str | None) -> tuple[int, list[str], str]:
    """Run gridmap; return the exit code, the stderr lines and stdout."""
    result = CliRunner().invoke(
        app, list(args), env={"GRIDMAP_DATABASE_URL": url, "GRIDMAP_TIANDITU_KEY": None, **env}
    )
    return result.exit_code, result.stderr.splitlines(), result.stdout


def _assert_one_line(code: int, lines: list[str], *needles: str) -> None:
    assert code == 2, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: "), lines
    for needle in needles:
        assert needle in lines[0], lines


def _runs(store: Store) -> int:
    from sqlalchemy import func, select

    from gridmap.store import models

    with store.engine.connect() as conn:
        return int(conn.scalar(select(func.count()).select_from(models.CoverageRun)) or 0)


# -- values out of range are refused before any work ------------------------------------


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["coverage", "run", "--mode", "network", "--minutes", "-5"], "--minutes"),
        (["coverage", "run", "--minutes", "-5"], "--minutes"),  # stored a run before
        (["coverage", "run", "--meters", "0"], "--meters"),
        (["coverage", "run", "--meters", "nan"], "--meters"),
        (["site", "recommend", "--k", "0"], "--k"),
        (["site", "recommend", "--k", "3", "--minutes", "-1"], "--minutes"),
        (["site", "recommend", "--k", "3", "--capacity", "0"], "--capacity"),
        (["site", "recommend", "--k", "3", "--time-limit", "-2"], "--time-limit"),
        (["grid", "generate", "--area", "360681", "--size", "-100"], "--size"),
        (
            ["grid", "generate", "--area", "360681", "--shape", "h3", "--resolution", "16"],
            "--resolution",
        ),
        (["map", "image", "m.png", "--dpi", "0"], "--dpi"),
        (["coverage", "run", "--idle-days", "0"], "--idle-days"),
        (["coverage", "compare", "1", str(2**63)], "run_b"),
        (["map", "export", "m.html", "--basemap", "bogus"], "bogus"),
        (["coverage", "run", "--mode", "bogus"], "--mode"),
    ],
)
def test_out_of_range_values_are_one_line_and_exit_2(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str], flag: str
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines, _ = _cli(store.url, *args)
    _assert_one_line(code, lines, flag)
    assert _runs(store) == 0  # refused before work: nothing stored
    assert not (tmp_path / "m.html").exists() and not (tmp_path / "m.png").exists()


def test_tianditu_without_key_names_the_setting(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, lines, _ = _cli(store.url, "map", "export", "m.html", "--basemap", "tianditu_vec")
    _assert_one_line(code, lines, "GRIDMAP_TIANDITU_KEY", "tianditu_vec")
    assert not (tmp_path / "m.html").exists()


def test_bad_settings_are_one_line(store: Store) -> None:
    code, lines, _ = _cli(store.url, "coverage", "runs", GRIDMAP_LANG="fr")
    _assert_one_line(code, lines, "GRIDMAP_LANG", "'fr'")


# -- the store: unreachable, unsupported, passwords masked ------------------------------


def test_unreachable_postgis_is_one_line_without_the_password() -> None:
    code, lines, out = _cli(UNREACHABLE, "coverage", "runs")
    _assert_one_line(code, lines, "GRIDMAP_DATABASE_URL", "cannot connect", "gis:***@127.0.0.1")
    assert "s3cret-pw" not in "\n".join(lines) + out


def test_unsupported_database_url_hides_its_password() -> None:
    code, lines, out = _cli("mysql://gis:s3cret-pw@db/gridmap", "db", "current")
    _assert_one_line(code, lines, "mysql")
    assert "s3cret-pw" not in "\n".join(lines) + out


def test_passwords_are_masked_in_urls_and_conninfo() -> None:
    assert (
        mask_secrets(f"x {UNREACHABLE} y") == "x postgresql+psycopg://gis:***@127.0.0.1:1/gridmap y"
    )
    assert "pw" not in mask_secrets("host=db password=pw user=u")
    assert mask_secrets("sqlite:///data/gridmap.sqlite") == "sqlite:///data/gridmap.sqlite"


# -- --debug, internal errors ------------------------------------------------------------


def test_debug_shows_the_traceback_then_the_line(store: Store) -> None:
    result = CliRunner().invoke(
        app,
        ["--debug", "coverage", "run", "--minutes", "-5"],
        env={"GRIDMAP_DATABASE_URL": store.url},
    )
    assert result.exit_code == 2
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("error: --minutes")


def _buggy_app() -> typer.Typer:
    buggy = typer.Typer(cls=OneLineErrorGroup)

    @buggy.command()
    @handle_errors
    def crash() -> None:
        """A command with a bug."""
        raise ZeroDivisionError("division by zero")

    @buggy.command()
    @handle_errors
    def other() -> None:
        """Another command."""

    return buggy


def test_an_internal_error_is_one_line_with_the_debug_hint() -> None:
    result = CliRunner().invoke(_buggy_app(), ["crash"])
    lines = result.stderr.splitlines()
    assert result.exit_code == outcome_of(ZeroDivisionError()).exit_code == 70
    assert len(lines) == 1 and lines[0].startswith("internal error: ZeroDivisionError")
    assert "--debug" in lines[0]
    debug = CliRunner().invoke(_buggy_app(), ["crash"], env={"GRIDMAP_DEBUG": "1"})
    assert "Traceback" in debug.stderr and debug.exit_code == 70


# -- one line whatever the terminal width or the path's length ---------------------------


def test_errors_never_wrap_however_narrow_the_terminal(tmp_path: Path) -> None:
    deep = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 8))
    env = {
        **os.environ,
        "COLUMNS": "40",
        "GRIDMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}",
    }
    result = subprocess.run(
        [str(GRIDMAP), "ingest", "layer", str(deep / "none.csv"), "--kind", "unit"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and str(deep / "none.csv") in lines[0], lines


# -- Ctrl-C ------------------------------------------------------------------------------


def test_ctrl_c_while_loading_the_commands_is_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "GRIDMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}"}
    process = subprocess.Popen(
        [str(GRIDMAP), "coverage", "runs"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(0.4)  # pandas, GEOS and SQLAlchemy are still being imported
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert err.splitlines() == ["interrupted: nothing was changed by the unfinished step"]


# -- the one table, in Python and over HTTP ----------------------------------------------


def test_python_names_the_argument() -> None:
    with pytest.raises(InvalidValueError, match=r"^tianditu_key=: ") as caught:
        basemap_tiles("tianditu_img", None)
    assert caught.value.parameter == "tianditu_key"
    with pytest.raises(UnknownValueError, match=r"^basemap=: unknown basemap 'x'"):
        basemap_tiles("x")


@pytest.mark.parametrize(
    ("error", "status"),
    [
        (NotFoundError("no run 7"), 404),
        (InvalidValueError("k must be >= 1", parameter="k"), 400),
        (GridmapError("bad input"), 400),
        (ConfigurationError("no key"), 500),
        (StoreUnavailableError("db down"), 503),
    ],
)
def test_http_status_comes_from_the_table(error: GridmapError, status: int) -> None:
    web = FastAPI()
    add_exception_handlers(web)

    @web.get("/fail")
    def fail() -> None:
        raise error

    response = TestClient(web).get("/fail")
    assert response.status_code == status == outcome_of(error).http_status
    assert response.json() == {"detail": str(error), "code": outcome_of(error).code}


def test_logs_never_show_a_password(capsys: pytest.CaptureFixture[str]) -> None:
    import logging

    from gridmap.cli._common import setup_logging

    setup_logging(verbose=False)
    try:
        logging.getLogger("gridmap.test").warning("cannot use %s now", UNREACHABLE)
    finally:
        logging.basicConfig(force=True, handlers=[logging.NullHandler()])
    err = capsys.readouterr().err
    assert "gis:***@127.0.0.1" in err and "s3cret-pw" not in err
