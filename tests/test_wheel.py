"""The built wheel is a complete product: every shipped file is inside, and the demo runs
from an installed wheel in an empty folder, far from the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
UV = Path(sys.executable).parent / "uv"


def _uv(*args: str, cwd: Path | None = None, timeout: int = 600) -> str:
    env = {
        **os.environ,
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_PROGRESS": "1",
        "UV_SYSTEM_CERTS": "1",
    }
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run(
        [str(UV), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"uv {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not UV.exists():
        pytest.fail(f"{UV} missing: install the test extra (make test does)")
    out = tmp_path_factory.mktemp("dist")
    _uv("build", "--wheel", "--out-dir", str(out), str(ROOT))
    (built,) = out.glob("gridmap-*.whl")
    return built


def _shipped_files() -> set[str]:
    """Every tracked file inside the package that is not Python source or a test artefact."""
    listed = subprocess.run(
        ["git", "ls-files", "gridmap"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    return {name for name in listed if not name.endswith(".pyc")}


def test_wheel_carries_every_package_file(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_shipped_files() - names)
    assert not missing, f"files of the package missing from the wheel: {missing[:20]}"
    for needed in (
        "gridmap/data/osm/jiangxi_guixi.osm.pbf",
        "gridmap/data/sample/units.csv",
        "gridmap/data/templates/units_zh.xlsx",
        "gridmap/data/README.md",
        "gridmap/py.typed",
    ):
        assert needed in names


@pytest.mark.slow
def test_installed_wheel_runs_the_demo_in_an_empty_folder(wheel: Path, tmp_path: Path) -> None:
    constraints = tmp_path / "constraints.txt"
    _uv(
        "export", "--frozen", "--no-hashes", "--no-emit-project", "--no-dev",
        "--output-file", str(constraints), cwd=ROOT,
    )  # fmt: skip
    venv = tmp_path / "venv"
    _uv("venv", "--quiet", "--python", "/usr/bin/python3", str(venv))
    python = venv / "bin" / "python"
    _uv("pip", "install", "--quiet", "--python", str(python), "-c", str(constraints), str(wheel))
    work = tmp_path / "empty"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GRIDMAP_", "PYTHON"))}
    done = subprocess.run(
        [str(venv / "bin" / "gridmap"), "demo"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # the installed package, not the checkout, was used
    where = subprocess.run(
        [str(python), "-c", "import gridmap; print(gridmap.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    assert str(venv) in where and str(ROOT) not in where
    assert (work / "gridmap.sqlite").stat().st_size > 0
    for output in ("map.html", "report.xlsx", "areas.csv", "summary.json"):
        assert (work / "demo-out" / output).stat().st_size > 0, output
