"""The notebooks run top to bottom and leave behind what an analyst relies on.

``notebooks/quickstart.ipynb`` is executed once per session with nbclient, on
a kernel that runs this interpreter (the project's ``.venv``), with its working
directory and its output folder (``GRIDMAP_NOTEBOOK_DIR``) in temporary
directories. Its last cell prints one ``GRIDMAP_SUMMARY {json}`` line; the
tests check those numbers and the files it names.
"""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
QUICKSTART = ROOT / "notebooks" / "quickstart.ipynb"
SUMMARY_PREFIX = "GRIDMAP_SUMMARY "
KERNEL = "gridmap-test-venv"
CELL_TIMEOUT_S = 300

#: A <script src> or <link href> that points at the network: the offline map must have none.
REMOTE_TAG = re.compile(
    r"""<(?:script|link)\b[^>]*\b(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", re.IGNORECASE
)
RATE_KEYS = ("org_rate", "work_rate", "combined_rate", "service_rate", "service_population_rate")


@dataclass(frozen=True)
class Executed:
    """An executed notebook, what its summary cell printed, and where it ran."""

    notebook: nbformat.NotebookNode
    summary: dict[str, Any]
    out_dir: Path
    cwd: Path
    seconds: float


def _kernelspec(root: Path) -> Path:
    """A kernelspec that runs this interpreter, found before any user-level ``python3``."""
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    kernel = {"argv": argv, "display_name": "gridmap (.venv)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(kernel), encoding="utf-8")
    return root


def _stdout(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("name") == "stdout")


def _summary(notebook: nbformat.NotebookNode) -> dict[str, Any]:
    for cell in reversed(notebook.cells):
        for line in _stdout(cell).splitlines():
            if line.startswith(SUMMARY_PREFIX):
                return dict(json.loads(line.removeprefix(SUMMARY_PREFIX)))
    pytest.fail(f"no {SUMMARY_PREFIX.strip()!r} line in the notebook's output")


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Executed]:
    """The quickstart notebook, executed in temporary directories."""
    base = tmp_path_factory.mktemp("notebook")
    cwd, out_dir = base / "cwd", base / "out"
    cwd.mkdir()
    notebook = nbformat.read(QUICKSTART, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_S,
        kernel_name=KERNEL,
        resources={"metadata": {"path": str(cwd)}},
    )
    with pytest.MonkeyPatch.context() as env:
        env.setenv("JUPYTER_PATH", str(_kernelspec(base / "jupyter")))
        env.setenv("GRIDMAP_NOTEBOOK_DIR", str(out_dir))
        env.setenv("MPLBACKEND", "agg")
        start = time.perf_counter()
        try:
            client.execute()
        except CellExecutionError as exc:
            pytest.fail(f"{QUICKSTART.name} failed:\n{exc}")
        seconds = time.perf_counter() - start
    yield Executed(notebook, _summary(notebook), out_dir, cwd, seconds)


def test_quickstart_is_committed_without_outputs() -> None:
    """Outputs are cleared in the repository: the test, not the file, holds the results."""
    notebook = nbformat.read(QUICKSTART, as_version=4)
    nbformat.validate(notebook)
    dirty = [
        i
        for i, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"cells {dirty} keep outputs: clear them before committing"


@pytest.mark.slow
def test_quickstart_writes_only_to_its_work_folder(quickstart: Executed) -> None:
    s = quickstart.summary
    for key in ("work_dir", "map_html", "map_png", "workbook"):
        assert Path(s[key]).resolve().is_relative_to(quickstart.out_dir.resolve()), key
    # Reject files and databases go to the work folder, never to the current folder.
    assert list(quickstart.cwd.iterdir()) == []
    assert quickstart.seconds < 180, f"quickstart took {quickstart.seconds:.0f} s"


@pytest.mark.slow
def test_quickstart_loads_the_sample(quickstart: Executed) -> None:
    counts = quickstart.summary["counts"]
    for table in ("admin_area", "grid_cell", "unit", "party_org", "station", "road", "worker"):
        assert counts[table] > 0, table
    assert quickstart.summary["units_in_cells"] == counts["unit"]


@pytest.mark.slow
def test_quickstart_rates_are_consistent(quickstart: Executed) -> None:
    radius, network = quickstart.summary["radius"], quickstart.summary["network"]
    for run in (radius, network):
        for key in RATE_KEYS:
            assert run[key] is not None and 0.0 <= run[key] <= 1.0, key
        assert run["combined_rate"] == pytest.approx(run["org_rate"] + run["work_rate"])
    # The rules do not depend on how distance is measured.
    for key in ("org_rate", "work_rate", "combined_rate"):
        assert network[key] == radius[key], key
    # With the same reach, a walk along the roads is never shorter than the straight line.
    assert quickstart.summary["same_reach"]
    assert network["service_rate"] <= radius["service_rate"]
    assert network["service_population_rate"] <= radius["service_population_rate"]
    assert network["blind_zones"] > 0
    assert network["service_rate"] < 1.0
    # One more station can only add coverage.
    assert quickstart.summary["what_if_service_rate"] >= network["service_rate"]


@pytest.mark.slow
def test_quickstart_ranks_sites_by_marginal_gain(quickstart: Executed) -> None:
    gains = quickstart.summary["marginal_gains"]
    assert 0 < quickstart.summary["sites_k"] <= 5
    assert len(gains) == quickstart.summary["sites_k"]
    assert all(g > 0 for g in gains)
    assert gains == sorted(gains, reverse=True)
    assert quickstart.summary["sites_cover_all"] > 0


@pytest.mark.slow
def test_quickstart_map_works_offline(quickstart: Executed) -> None:
    page = Path(quickstart.summary["map_html"])
    assert page.is_file()
    html = page.read_text(encoding="utf-8")
    assert "<html" in html.lower()
    remote = REMOTE_TAG.findall(html)
    assert not remote, f"map.html loads scripts or styles from the network: {remote[:3]}"
    png = Path(quickstart.summary["map_png"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    shown = [
        o
        for cell in quickstart.notebook.cells
        for o in cell.get("outputs", [])
        if "image/png" in o.get("data", {})
    ]
    assert shown, "the PNG is not displayed inline"


@pytest.mark.slow
def test_quickstart_workbook_has_the_chinese_sheets(quickstart: Executed) -> None:
    book = load_workbook(quickstart.summary["workbook"], read_only=True)
    try:
        names = book.sheetnames
        assert {"汇总", "应建未建", "盲区"} <= set(names), names
        network = quickstart.summary["network"]
        assert book["盲区"].max_row - 1 == network["blind_zones"]
        assert book["应建未建"].max_row - 1 == network["must_have_branch"]
    finally:
        book.close()
