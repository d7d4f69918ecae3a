"""Start-up: every command loads only what it needs (issue #16: start-up under 1 s).

``--help``, option checks and the refusal of a binary table load no analysis library,
and a store already at the migration head is opened without Alembic. These tests run
the real ``gridmap`` entry point in a fresh interpreter and look at what it loaded and
how much memory it took; how long that takes is measured in
``benchmarks/bench_startup.py``, not here.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from gridmap.store import Store

MIGRATIONS = Path(__file__).parent.parent / "gridmap" / "store" / "migrations"

#: Libraries that take from a tenth of a second to seconds to import; no start-up needs one.
HEAVY = (
    "pandas",
    "geopandas",
    "shapely",
    "pyproj",
    "pyogrio",
    "numba",
    "networkx",
    "scipy",
    "geoalchemy2",
    "alembic",
    "folium",
    "openpyxl",
    "highspy",
    "fastapi",
    "uvicorn",
    "sqlalchemy.orm",
)

#: Runs ``gridmap ARGS...`` as the console script does, then reports the exit code, which
#: of HEAVY (and SQLAlchemy) were imported and the process's peak memory.
HARNESS = """
import json, sys
report, heavy = sys.argv[1], json.loads(sys.argv[2])
sys.argv = ["gridmap", *sys.argv[3:]]
from gridmap.cli import main
try:
    main()
    code = 0
except SystemExit as exc:
    code = exc.code
loaded = [name for name in [*heavy, "sqlalchemy"] if name in sys.modules]
# the peak of this process's own memory: ru_maxrss would count what pytest held at the fork
status = open("/proc/self/status").read().split("VmHWM:")[1]
peak_kb = int(status.split()[0])
with open(report, "w") as handle:
    json.dump({"code": code, "loaded": loaded, "peak_kb": peak_kb}, handle)
sys.exit(code)
"""


def _alembic_heads() -> set[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return set(ScriptDirectory.from_config(config).get_heads())


def _gridmap(
    tmp_path: Path, *args: str, url: str | None = None
) -> tuple[dict[str, Any], subprocess.CompletedProcess[str]]:
    report = tmp_path / "startup-report.json"
    env = {
        **os.environ,
        "COLUMNS": "200",
        "GRIDMAP_DATABASE_URL": url or f"sqlite:///{tmp_path / 'never-opened.sqlite'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", HARNESS, str(report), json.dumps(HEAVY), *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert report.exists(), done.stderr
    result: dict[str, Any] = json.loads(report.read_text())
    return result, done


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["coverage", "run", "--help"],
        ["ingest", "layer", "--help"],
        ["grid", "generate", "--help"],
        ["map", "export", "--help"],
        ["site", "recommend", "--help"],
        ["user", "add", "--help"],
    ],
    ids=" ".join,
)
def test_help_and_version_load_no_analysis_library_and_no_database(
    tmp_path: Path, args: list[str]
) -> None:
    result, done = _gridmap(tmp_path, *args)
    assert result["code"] == 0, done.stderr
    assert done.stdout.strip()
    assert result["loaded"] == [], f"gridmap {' '.join(args)} imported {result['loaded']}"
    assert not (tmp_path / "never-opened.sqlite").exists()


def test_no_help_page_of_any_command_loads_an_analysis_library(tmp_path: Path) -> None:
    """Every command, walked from the typer app as tests/test_layout.py does."""
    code = f"""
import contextlib, io, json, sys
from gridmap.cli import app
def walk(group, path=()):
    for info in group.registered_commands:
        yield (*path, info.name or info.callback.__name__.replace("_", "-"))
    for sub in group.registered_groups:
        yield (*path, sub.name)
        yield from walk(sub.typer_instance, (*path, sub.name))
paths = list(walk(app))
for path in paths:
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            app([*path, "--help"], prog_name="gridmap")
        except SystemExit as exc:
            assert exc.code == 0, (path, exc.code)
heavy = {list(HEAVY)!r} + ["sqlalchemy", "gridmap.store"]
print(json.dumps({{"paths": len(paths), "loaded": [m for m in heavy if m in sys.modules]}}))
"""
    env = {**os.environ, "GRIDMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'never.sqlite'}"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    result = json.loads(done.stdout)
    assert result["paths"] > 30
    assert result["loaded"] == [], f"the help pages imported {result['loaded']}"


def test_an_option_refused_before_any_work_loads_nothing_heavy(tmp_path: Path) -> None:
    result, done = _gridmap(tmp_path, "coverage", "run", "--meters", "-5")
    assert result["code"] == 2
    assert done.stderr.splitlines() == ["error: --meters: must be a number above 0, got -5"], (
        done.stderr
    )
    assert result["loaded"] == []


def test_a_nul_file_named_csv_is_refused_before_pandas_with_little_memory(
    tmp_path: Path,
) -> None:
    nul = tmp_path / "nul.csv"
    with nul.open("wb") as handle:  # 200 MB of NUL bytes (sparse: no disk written)
        handle.truncate(200 * 1024 * 1024)
    result, done = _gridmap(tmp_path, "ingest", "layer", str(nul), "--kind", "unit")

    assert result["code"] == 2
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: nul.csv is not a text table"), lines
    assert result["loaded"] == [], f"the refusal imported {result['loaded']}"
    # the interpreter and the CLI take ~40 MB; reading the file, or pandas, would be far more
    assert result["peak_kb"] < 120 * 1024, f"peak memory {result['peak_kb'] / 1024:.0f} MB"
    assert not (tmp_path / "nul.rejects.csv").exists()
    assert not (tmp_path / "never-opened.sqlite").exists()


def test_db_upgrade_of_a_store_at_the_head_runs_no_migration_machinery(
    store: Store, tmp_path: Path
) -> None:
    result, done = _gridmap(tmp_path, "db", "upgrade", url=store.url)

    assert result["code"] == 0, done.stderr
    (head,) = _alembic_heads()
    assert done.stdout.strip().endswith(f"at revision {head}"), done.stdout
    # SpatiaLite: read with sqlite3 alone; PostGIS: through SQLAlchemy's engine, no more
    expected = [] if store.backend == "spatialite" else ["sqlalchemy"]
    assert result["loaded"] == expected, f"db upgrade imported {result['loaded']}"
    assert store.current_revision() == head


def test_db_upgrade_of_a_store_behind_still_migrates_it(empty_store: Store, tmp_path: Path) -> None:
    empty_store.upgrade("0004")
    assert empty_store.current_revision() == "0004"
    result, done = _gridmap(tmp_path, "db", "upgrade", url=empty_store.url)

    assert result["code"] == 0, done.stderr
    assert "alembic" in result["loaded"]
    assert {empty_store.current_revision()} == _alembic_heads()
    assert empty_store.counts()["unit"] == 0  # the schema is there: the tables answer


def test_db_current_names_the_stamped_revision(store: Store, tmp_path: Path) -> None:
    result, done = _gridmap(tmp_path, "db", "current", url=store.url)
    assert result["code"] == 0, done.stderr
    assert done.stdout.strip() == f"{store!r} at revision {store.current_revision()}"
    assert "alembic" not in result["loaded"]


def test_db_current_of_a_new_store_says_empty(empty_store: Store, tmp_path: Path) -> None:
    result, done = _gridmap(tmp_path, "db", "current", url=empty_store.url)
    assert result["code"] == 0, done.stderr
    assert done.stdout.strip().endswith("at revision (empty)")
    assert "alembic" not in result["loaded"]


def test_the_head_read_from_the_scripts_is_alembics_head() -> None:
    from gridmap.store._revision import head_revisions

    assert head_revisions() == _alembic_heads()


def test_heads_of_branched_and_merged_scripts(tmp_path: Path) -> None:
    from gridmap.store._revision import head_revisions, parse_revisions

    scripts = {
        "a.py": 'revision = "a"\ndown_revision = None\n',
        "b.py": 'revision: str = "b"\ndown_revision: str | None = "a"\n',
        "c.py": "revision = 'c'\ndown_revision = 'a'\n",
        "__init__.py": "",
    }
    for name, text in scripts.items():
        (tmp_path / name).write_text(text)
    assert head_revisions(tmp_path) == {"b", "c"}  # two branches

    (tmp_path / "d.py").write_text('revision = "d"\ndown_revision = ("b", "c")\n')
    head_revisions.cache_clear()
    assert head_revisions(tmp_path) == {"d"}  # merged
    assert parse_revisions("revision = make_id()\n") is None  # Alembic decides then


def test_a_store_stamped_at_an_unknown_revision_still_gets_alembics_error(
    store: Store,
) -> None:
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    with pytest.raises(Exception, match="9999"):
        store.upgrade()


def test_the_help_texts_name_what_the_library_accepts() -> None:
    """The CLI spells these out so that ``--help`` imports nothing; they stay in step."""
    from gridmap.accounts import ROLES
    from gridmap.admin._stored import LEVEL_ORDER
    from gridmap.cli import areas, user
    from gridmap.cli import export as export_cli
    from gridmap.store.export import EXPORT_FORMATS, EXPORT_KINDS

    assert areas.LEVEL_ORDER == LEVEL_ORDER
    assert export_cli.EXPORT_KINDS == EXPORT_KINDS
    assert export_cli.EXPORT_FORMATS == EXPORT_FORMATS
    assert user.ROLES == ROLES


@pytest.mark.parametrize("delay_s", [0.15, 0.3, 0.5, 0.8])
def test_ctrl_c_at_any_moment_of_start_up_is_one_line(tmp_path: Path, delay_s: float) -> None:
    """Whether the commands are loading, the arguments being parsed or the store opening."""
    env = {**os.environ, "GRIDMAP_DATABASE_URL": f"sqlite:///{tmp_path / 'g.sqlite'}"}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gridmap"), "coverage", "runs"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    time.sleep(delay_s)  # a new store is being migrated for seconds after that
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert err.splitlines() == ["interrupted: nothing was changed by the unfinished step"]
