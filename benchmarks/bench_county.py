"""The synthetic county end to end through the CLI, on a SpatiaLite store (issue 16).

Input: :mod:`benchmarks.county` (1,000,000 units; ``--quick``: 20,000; or the sizes in
``GRIDMAP_BENCH_COUNTY_UNITS``, e.g. ``100000``). Each stage runs as the ``gridmap``
command in a new process, as a user runs it, on one store:

``db upgrade``; ``ingest layer`` areas, units, orgs, stations, roads; ``grid import``
cells (which puts every unit in its cell); ``coverage run --mode radius``; ``coverage
run --mode network``; ``site recommend --k 20``; ``map export``; ``report``.

Per stage: wall time, CPU time (``wait4`` of the child) and peak resident memory, the
load average when it ended, and the stage's *kernel*, timed inside the same process
(:mod:`benchmarks._timed_cli` wraps it): the in-memory computation the stage wraps.

=========================  ===============================================================
stage                      kernel
=========================  ===============================================================
ingest layer               ``ogr2ogr -f SQLite`` loading the same file (a process of its
                           own, timed the same way)
grid import                :class:`gridmap.grid.CellIndex` build + ``locate``
coverage --mode radius     the nearest-station KD-tree queries (``network.nearest``)
coverage --mode network    the numba Dijkstra (``multi_source_distances``,
                           ``distances_to_points``)
site recommend             ``solve_mclp`` (reduction + HiGHS)
map export                 ``export_html`` (writing the page from in-memory frames)
report                     ``write_report`` (writing the workbook from in-memory frames)
=========================  ===============================================================

Targets: the county end to end under 120 s and 3 GB peak at 1M units; no stage more
than 3x its kernel. ``GRIDMAP_BENCH_PROFILE=FOLDER`` also writes a cProfile of every
stage (``FOLDER/<stage>.prof``; the profiler slows the stages down).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks._harness import Child, Result, run_child
from benchmarks.county import write_county

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
OGR2OGR = "/usr/bin/ogr2ogr"
TARGET_TOTAL_S = 120.0
TARGET_PEAK_MB = 3 * 1024.0
TARGET_RATIO = 3.0

_CSV_POINTS = ["-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat"]


@dataclass(frozen=True)
class Stage:
    """One command of the county run and the kernel it is held against."""

    name: str
    args: list[str]
    kernel: str  # what the kernel is, for the table
    patch: str = ""  # functions _timed_cli wraps (empty: the kernel is ogr2ogr or none)
    ogr_file: str | None = None  # the county file ogr2ogr loads as the kernel


def stages(files: dict[str, Path], out: Path) -> list[Stage]:
    """Every stage, in order, for the county ``files``; outputs go to ``out``."""

    def ingest(kind: str, name: str) -> Stage:
        crs = ["--crs", "4326"] if files[name].suffix == ".csv" else []  # lon/lat, WGS-84
        return Stage(
            f"ingest {name}",
            ["ingest", "layer", str(files[name]), "--kind", kind, "--yes", *crs],
            "ogr2ogr -f SQLite",
            ogr_file=name,
        )

    radius = "gridmap.coverage.reach:nearest"
    network = (
        "gridmap.coverage._network_reach:multi_source_distances,"
        "gridmap.coverage._network_reach:distances_to_points"
    )
    return [
        Stage("db upgrade", ["db", "upgrade"], "-"),
        ingest("area", "areas"),
        ingest("unit", "units"),
        ingest("org", "orgs"),
        ingest("station", "stations"),
        ingest("road", "roads"),
        Stage(
            "grid import",
            ["grid", "import", str(files["cells"]), "--yes"],
            "CellIndex build + locate",
            "gridmap.grid._cellindex:CellIndex.__init__,gridmap.grid._cellindex:CellIndex.locate",
        ),
        Stage(
            "coverage radius",
            ["coverage", "run", "--mode", "radius", "--as-of", "2026-12-01"],
            "nearest-station KD-tree queries",
            radius,
        ),
        Stage(
            "coverage network",
            ["coverage", "run", "--mode", "network", "--as-of", "2026-12-01"],
            "numba Dijkstra",
            network,
        ),
        Stage(
            "site recommend",
            ["site", "recommend", "--k", "20", "--out", str(out / "sites")],
            "solve_mclp (HiGHS)",
            "gridmap.siting.recommend:solve_mclp",
        ),
        Stage(
            "map export",
            ["map", "export", str(out / "county.html")],
            "export_html (in-memory frames)",
            "gridmap.maps:export_html",
        ),
        Stage(
            "report",
            ["report", "--out", str(out / "county.xlsx")],
            "write_report (in-memory frames)",
            "gridmap.report:write_report",
        ),
    ]


@dataclass(frozen=True)
class Timing:
    """A stage's run and its kernel's time."""

    stage: Stage
    run: Child
    kernel_s: float | None
    load: float


def _env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"GRIDMAP_DATABASE_URL": url, "GRIDMAP_LANG": "zh"}


def _run_stage(stage: Stage, env: dict[str, str], work: Path, profile: Path | None) -> Timing:
    kernel_file = work / "kernel.json"
    kernel_file.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks._timed_cli", stage.patch, str(kernel_file)]
    if profile is not None:
        command += ["--profile", str(profile / f"{stage.name.replace(' ', '-')}.prof")]
    run = run_child([*command, "--", *stage.args], env, ROOT)
    if run.returncode != 0:
        msg = f"gridmap {' '.join(stage.args)} failed ({run.returncode}):\n{run.output[-3000:]}"
        raise RuntimeError(msg)
    load = os.getloadavg()[0]
    kernel_s: float | None = None
    if stage.patch:
        kernel_s = float(json.loads(kernel_file.read_text())["kernel_s"])
    elif stage.ogr_file is not None:
        kernel_s = _ogr2ogr(stage.ogr_file, env, work)
    logger.info(
        "%-17s %7.1f s wall %7.1f s CPU %6.0f MB, kernel %s, load %.1f",
        stage.name,
        run.seconds,
        run.cpu_s,
        run.peak_mb,
        "-" if kernel_s is None else f"{kernel_s:.2f} s",
        load,
    )
    return Timing(stage, run, kernel_s, load)


def _ogr2ogr(name: str, env: dict[str, str], work: Path) -> float:
    source = Path(env["GRIDMAP_BENCH_COUNTY_FILES"]) / _FILES[name]
    target = work / f"ogr-{name}.sqlite"
    target.unlink(missing_ok=True)
    extra = [*_CSV_POINTS, "-a_srs", "EPSG:4326"] if source.suffix == ".csv" else []
    command = [OGR2OGR, "-f", "SQLite", "-dsco", "SPATIALITE=YES", str(target), str(source)]
    run = run_child([*command, *extra], env, work)
    if run.returncode != 0:
        raise RuntimeError(f"ogr2ogr {source.name} failed:\n{run.output[-2000:]}")
    target.unlink(missing_ok=True)
    return run.seconds


_FILES = {
    "areas": "areas.gpkg",
    "cells": "cells.gpkg",
    "units": "units.csv",
    "orgs": "orgs.csv",
    "stations": "stations.csv",
    "roads": "roads.gpkg",
}


def run_county(n_units: int, work: Path, profile: Path | None = None) -> list[Timing]:
    """Write the county of ``n_units`` into ``work`` and run every stage on a new store."""
    files = write_county(work / "county", units=n_units, seed=0)
    out = work / "out"
    out.mkdir(exist_ok=True)
    env = _env(f"sqlite:///{work / 'county.db'}") | {
        "GRIDMAP_BENCH_COUNTY_FILES": str(work / "county")
    }
    run_child([sys.executable, "-m", "gridmap", "--help"], env, ROOT)  # bytecode caches
    if profile is not None:
        profile.mkdir(parents=True, exist_ok=True)
    return [_run_stage(stage, env, work, profile) for stage in stages(files, out)]


def _results(n_units: int, timings: list[Timing]) -> list[Result]:
    case = f"{n_units:,} units"
    rows = []
    for t in timings:
        ratio = t.run.seconds / t.kernel_s if t.kernel_s else None
        rows.append(
            Result(
                benchmark="county",
                case=f"{case}: {t.stage.name}",
                gridmap_s=t.run.seconds,
                baseline=t.stage.kernel,
                baseline_s=t.kernel_s or 0.0,
                target="info" if ratio is None else f"within {TARGET_RATIO:g}x of its kernel",
                met=ratio is None or ratio <= TARGET_RATIO,
                gridmap_peak_mb=t.run.peak_mb,
                extra={
                    "cpu_s": round(t.run.cpu_s, 2),
                    "load_avg_1m": round(t.load, 2),
                    "ratio_to_kernel": None if ratio is None else round(ratio, 2),
                },
            )
        )
    total = sum(t.run.seconds for t in timings)
    peak = max(t.run.peak_mb for t in timings)
    rows.append(
        Result(
            benchmark="county",
            case=f"{case}: end to end",
            gridmap_s=total,
            baseline="target",
            baseline_s=TARGET_TOTAL_S,
            target=f"1M units end to end < {TARGET_TOTAL_S:g} s and < {TARGET_PEAK_MB / 1024:g} GB",
            met=total < TARGET_TOTAL_S and peak < TARGET_PEAK_MB,
            gridmap_peak_mb=peak,
            extra={
                "cpu_s": round(sum(t.run.cpu_s for t in timings), 2),
                "load_avg_1m": round(max(t.load for t in timings), 2),
            },
        )
    )
    return rows


def run(quick: bool) -> list[Result]:
    """The county at 1M units (``quick``: 20k), or at ``GRIDMAP_BENCH_COUNTY_UNITS``."""
    chosen = os.environ.get("GRIDMAP_BENCH_COUNTY_UNITS")
    sizes = [int(n) for n in chosen.split(",")] if chosen else [20_000 if quick else 1_000_000]
    given = os.environ.get("GRIDMAP_BENCH_PROFILE")
    if not Path(OGR2OGR).exists():
        msg = f"{OGR2OGR} not found: install gdal-bin (apt-get install gdal-bin)"
        raise RuntimeError(msg)
    results: list[Result] = []
    for n in sizes:
        work = Path(tempfile.mkdtemp(prefix=f"gridmap-bench-county-{n}-"))
        try:
            profile = Path(given) / str(n) if given else None
            results += _results(n, run_county(n, work, profile))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return results


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for row in run(quick="--quick" in sys.argv):
        sys.stdout.write(f"{row.case}: {row.gridmap_s:.2f} s ({row.baseline_s:.2f} s kernel)\n")
