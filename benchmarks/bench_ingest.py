"""Ingest through the CLI against GDAL's ``ogr2ogr`` loading the same file, same run.

Input: the synthetic county (:mod:`benchmarks.county`), 1,000,000 units (``--quick``:
20,000) in ``units.csv``. Cases, each a fresh store and a fresh target per run:

* ``ingest layer units`` into SpatiaLite against ``ogr2ogr -f SQLite -dsco SPATIALITE=YES``
  (and ``-f GPKG``) loading the same CSV;
* the same into PostGIS against ``ogr2ogr -f PostgreSQL`` (``COPY``); the cluster is the
  throwaway one of ``scripts/pg-cluster.sh`` (port ``GRIDMAP_PG_PORT``), or the database
  at ``GRIDMAP_BENCH_POSTGIS_URL``;
* ``grid import`` of the 10,000 cells (which puts every unit in its cell) against
  ``ogr2ogr`` loading the cells, and the assignment alone against gridmap's cell lookup
  kernel (:class:`gridmap.grid.CellIndex`) on the same points.

gridmap runs as the ``gridmap`` command (start-up included, as a user runs it) with the
areas imported first, and does its whole import: reading and checking every row
(coordinates, swapped points, counts, ids), field provenance, the upsert in one
transaction, the spatial index and putting units in cells; ogr2ogr does a plain load into
a new file / database. Both run as child processes: wall time, CPU time (user + system of
the child: on PostGIS the server's work is in neither), peak memory as the child's maximum
resident set size, and the load average, since the machine may be shared. Targets: within
2x of ogr2ogr in wall time (issue 16), assignment within 3x of its kernel.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import create_engine, make_url, text

from benchmarks._harness import Result
from benchmarks.county import write_county

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[1]
GRIDMAP = [sys.executable, "-m", "gridmap"]
OGR2OGR = "/usr/bin/ogr2ogr"
TIME = "/usr/bin/time"
CSV_POINTS = ["-oo", "X_POSSIBLE_NAMES=lon", "-oo", "Y_POSSIBLE_NAMES=lat", "-a_srs", "EPSG:4326"]


@dataclass(frozen=True)
class Run:
    """One child process: wall time (s), CPU time (user + system, s), peak memory (MB)."""

    seconds: float
    cpu: float
    peak_mb: float
    load: float  # the 1-minute load average when it ended
    server_cpu: float | None = None  # PostGIS: CPU time of the server's processes (s)


def _run(command: Sequence[str], env: dict[str, str] | None = None) -> Run:
    """Run a child process; return its wall time, CPU time and peak resident memory.

    The child runs under ``/usr/bin/time`` so that its peak memory is its own (a child
    forked from this process would count this process's memory until it execs). On a
    busy machine its CPU time says more than its wall time; both are reported, with the
    load average.
    """
    with tempfile.NamedTemporaryFile(suffix=".time") as report:
        timed = [TIME, "-f", "%M %U %S", "-o", report.name, *command]
        start = time.perf_counter()
        done = subprocess.run(timed, env=_child_env(env), capture_output=True, check=False)
        seconds = time.perf_counter() - start
        if done.returncode != 0:
            output = (done.stdout + done.stderr).decode()[-2000:]
            msg = f"{' '.join(command)} failed ({done.returncode}):\n{output}"
            raise RuntimeError(msg)
        peak_kb, user, system = Path(report.name).read_text().split()[-3:]
    run = Run(seconds, float(user) + float(system), int(peak_kb) / 1024, os.getloadavg()[0])
    logger.info(
        "%s: %.1f s wall, %.1f s CPU, %.0f MB, load %.1f",
        " ".join(Path(c).name for c in command[:5]),
        run.seconds,
        run.cpu,
        run.peak_mb,
        run.load,
    )
    return run


def _child_env(extra: dict[str, str] | None) -> dict[str, str]:
    """The environment of a child: ours, with bytecode caches allowed (as users have them)."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | (extra or {})


def _best(runs: int, prepare: Callable[[], Any], command: Callable[[Any], Run]) -> Run:
    """The run with the least CPU time over ``runs`` runs, each after ``prepare``."""
    done = []
    for _ in range(runs):
        state = prepare()
        done.append(command(state))
    return min(done, key=lambda r: r.cpu)


# -- SpatiaLite ---------------------------------------------------------------------------


def _sqlite_store(folder: Path, areas: Path) -> dict[str, str]:
    path = folder / "store.db"
    path.unlink(missing_ok=True)
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    env = {"GRIDMAP_DATABASE_URL": f"sqlite:///{path}"}
    _run([*GRIDMAP, "db", "upgrade"], env)
    _run([*GRIDMAP, "ingest", "layer", str(areas), "--kind", "area"], env)
    return env


def _ogr_target(folder: Path, name: str) -> Path:
    target = folder / name
    target.unlink(missing_ok=True)
    return target


def _ogr_target_in(folder: Path, name: str) -> Callable[[], Path]:
    return lambda: _ogr_target(folder, name)


def _ogr_load(driver: str, options: Sequence[str], units: Path) -> Callable[[Path], Run]:
    """``ogr2ogr`` loading the units CSV into a new ``driver`` file at the given target."""

    def load(target: Path) -> Run:
        return _run(
            [OGR2OGR, "-f", driver, *options, str(target), str(units), *CSV_POINTS, "-nln", "unit"]
        )

    return load


def _ingest(file: Path) -> Callable[[dict[str, str]], Run]:
    return lambda env: _run([*GRIDMAP, "ingest", "layer", str(file), "--kind", "unit"], env)


def _sqlite_cases(folder: Path, files: dict[str, Path], n: int, runs: int) -> list[Result]:
    units = files["units"]
    ours = _best(runs, lambda: _sqlite_store(folder, files["areas"]), _ingest(units))
    results = []
    for driver, options, name in (
        ("SQLite", ["-dsco", "SPATIALITE=YES"], "ogr.sqlite"),
        ("GPKG", [], "ogr.gpkg"),
    ):
        theirs = _best(runs, _ogr_target_in(folder, name), _ogr_load(driver, options, units))
        results.append(
            _result(f"ingest {n:,} units, SpatiaLite", ours, f"ogr2ogr -f {driver}", theirs, 2.0)
        )
    return results


# -- PostGIS ------------------------------------------------------------------------------


class _Cluster:
    """The PostGIS server: the one given, or a throwaway cluster started for the run."""

    def __init__(self) -> None:
        given = os.environ.get("GRIDMAP_BENCH_POSTGIS_URL")
        self.started = given is None
        if given is None:
            out = subprocess.run(
                [str(ROOT / "scripts" / "pg-cluster.sh"), "start"],
                check=True,
                capture_output=True,
                text=True,
                cwd=ROOT,
            )
            given = out.stdout.strip().splitlines()[-1]
        self.url = make_url(given)

    def fresh(self, name: str) -> str:
        """A new empty database ``name`` with PostGIS; its SQLAlchemy URL."""
        admin = create_engine(self.url.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {name}"))
        admin.dispose()
        url = self.url.set(database=name)
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("CREATE EXTENSION postgis"))
        engine.dispose()
        return url.render_as_string(hide_password=False)

    def libpq(self, name: str) -> str:
        u = self.url
        return f"PG:host={u.host} port={u.port} user={u.username} dbname={name}"

    def password(self) -> dict[str, str]:
        """The password for libpq clients, in the environment (never on a command line)."""
        return {"PGPASSWORD": str(self.url.password or "")}

    def server_cpu(self) -> float | None:
        """CPU seconds the server's processes have used so far, when it runs here (else None).

        The postmaster's own time and that of its ended children, plus its live children's:
        the backend that took the ``COPY``, the WAL writer, the checkpointer.
        """
        postmaster = self._postmaster()
        if postmaster is None:
            return None
        tick = os.sysconf("SC_CLK_TCK")
        fields = _proc_stat(postmaster)
        total = sum(int(f) for f in fields[11:15]) if fields else 0
        for child in Path("/proc").glob("[0-9]*"):
            stat = _proc_stat(int(child.name))
            if stat and int(stat[1]) == postmaster:
                total += int(stat[11]) + int(stat[12])
        return total / tick

    def _postmaster(self) -> int | None:
        state = ROOT / ".cache" / "pg" / "cluster.env"
        if not self.started or not state.exists():
            return None
        values = dict(line.split("=", 1) for line in state.read_text().splitlines() if "=" in line)
        pid_file = Path(values.get("DATA", "")) / "data" / "postmaster.pid"
        try:
            return int(pid_file.read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def timed(self, command: Callable[[Any], Run]) -> Callable[[Any], Run]:
        """``command``, with the server's CPU time during it added to its run."""

        def run(state: Any) -> Run:
            before = self.server_cpu()
            done = command(state)
            after = self.server_cpu()
            if before is None or after is None:
                return done
            return replace(done, server_cpu=after - before)

        return run

    def stop(self) -> None:
        if self.started:
            subprocess.run([str(ROOT / "scripts" / "pg-cluster.sh"), "stop"], check=False, cwd=ROOT)


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/PID/stat`` after the command name (state, ppid, ...)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text.rsplit(")", 1)[1].split()


def _postgis_cases(files: dict[str, Path], n: int, runs: int) -> list[Result]:
    cluster = _Cluster()
    try:

        def store() -> dict[str, str]:
            env = {"GRIDMAP_DATABASE_URL": cluster.fresh("bench_gridmap")}
            _run([*GRIDMAP, "db", "upgrade"], env)
            _run([*GRIDMAP, "ingest", "layer", str(files["areas"]), "--kind", "area"], env)
            return env

        ours = _best(runs, store, cluster.timed(_ingest(files["units"])))
        theirs = _best(
            runs,
            lambda: cluster.fresh("bench_ogr"),
            cluster.timed(
                lambda _: _run(
                    [
                        OGR2OGR,
                        "-f",
                        "PostgreSQL",
                        cluster.libpq("bench_ogr"),
                        str(files["units"]),
                        *CSV_POINTS,
                        "-nln",
                        "unit",
                        "--config",
                        "PG_USE_COPY",
                        "YES",
                    ],
                    cluster.password(),
                )
            ),
        )
    finally:
        cluster.stop()
    return [
        _result(f"ingest {n:,} units, PostGIS", ours, "ogr2ogr -f PostgreSQL (COPY)", theirs, 2.0)
    ]


# -- grid import and assignment -----------------------------------------------------------


def _grid_cases(folder: Path, files: dict[str, Path], n: int) -> list[Result]:
    # the SpatiaLite store of the ingest case, with its areas and units
    env = {"GRIDMAP_DATABASE_URL": f"sqlite:///{folder / 'store.db'}"}
    ours = _run([*GRIDMAP, "grid", "import", str(files["cells"])], env)
    target = _ogr_target(folder, "cells.sqlite")
    theirs = _run(
        [OGR2OGR, "-f", "SQLite", "-dsco", "SPATIALITE=YES", str(target), str(files["cells"])]
    )
    results = [
        _result(
            f"grid import 10k cells + {n:,} units into them",
            ours,
            "ogr2ogr cells -f SQLite",
            theirs,
            2.0,
        )
    ]
    results.append(_assignment(env, n))
    return results


def _assignment(env: dict[str, str], n: int) -> Result:
    """``assign_units`` on the stored grid against the cell lookup kernel alone."""
    code = (
        "import time, sys\n"
        "from gridmap.store import Store\n"
        "from gridmap.grid.stored import assign_units\n"
        "from gridmap.store import models, table_of\n"
        "from gridmap.grid.stored import _frame\n"
        "from gridmap.grid import CellIndex\n"
        "store = Store(sys.argv[1])\n"
        "with store.engine.connect() as conn:\n"
        "    cells = _frame(conn, models.GridCell, ('id', 'code'))\n"
        "    units = _frame(conn, models.Unit, ('id',))\n"
        "start = time.perf_counter()\n"
        "CellIndex(cells).locate(units.geometry.x.to_numpy(), units.geometry.y.to_numpy())\n"
        "kernel = time.perf_counter() - start\n"
        "with store.engine.begin() as conn:\n"
        "    conn.exec_driver_sql('UPDATE unit SET cell_id = NULL')\n"
        "start = time.perf_counter()\n"
        "assign_units(store)\n"
        "print(time.perf_counter() - start, kernel)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, env["GRIDMAP_DATABASE_URL"]],
        env=_child_env(None),
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    ours, kernel = (float(v) for v in out.stdout.split()[-2:])
    load = os.getloadavg()[0]
    return _result(
        f"assign {n:,} units to 10k cells (store read + write)",
        Run(ours, ours, 0.0, load),
        "CellIndex.locate kernel",
        Run(kernel, kernel, 0.0, load),
        3.0,
    )


def _result(case: str, ours: Run, baseline: str, theirs: Run, within: float) -> Result:
    """A comparison row: judged on wall time, with both CPU times and the load beside it.

    gridmap's time is its whole import (reading, checking every row, provenance, the
    upsert, the spatial index and putting units in cells), ogr2ogr's a plain load of
    the same file into the same kind of store.
    """
    ratio = ours.seconds / theirs.seconds
    cpu_ratio = ours.cpu / theirs.cpu if theirs.cpu else float("nan")
    server = ""
    if ours.server_cpu is not None and theirs.server_cpu is not None:
        server = f", server CPU {ours.server_cpu:.1f} s vs {theirs.server_cpu:.1f} s"
    logger.info(
        "%s: %.1f s (CPU %.1f s) vs %s %.1f s (CPU %.1f s): %.2fx wall, %.2fx CPU",
        case,
        ours.seconds,
        ours.cpu,
        baseline,
        theirs.seconds,
        theirs.cpu,
        ratio,
        cpu_ratio,
    )
    return Result(
        benchmark="ingest",
        case=f"{case} (CPU {ours.cpu:.1f} s vs {theirs.cpu:.1f} s{server}, load {ours.load:.1f})",
        gridmap_s=ours.seconds,
        baseline=baseline,
        baseline_s=theirs.seconds,
        target=f"within {within:g}x of the baseline (wall)",
        met=ratio <= within,
        gridmap_peak_mb=ours.peak_mb or None,
        baseline_peak_mb=theirs.peak_mb or None,
        extra={
            "ratio": round(ratio, 2),
            "cpu_ratio": round(cpu_ratio, 2),
            "gridmap_cpu_s": round(ours.cpu, 2),
            "baseline_cpu_s": round(theirs.cpu, 2),
            "load_average": round(ours.load, 2),
            "gridmap_server_cpu_s": _rounded(ours.server_cpu),
            "baseline_server_cpu_s": _rounded(theirs.server_cpu),
        },
    )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def run(quick: bool) -> list[Result]:
    """Run every case; ``quick`` loads 20,000 units once instead of 1,000,000."""
    n = 20_000 if quick else 1_000_000
    runs = 1
    if not Path(OGR2OGR).exists():
        msg = f"{OGR2OGR} not found: install gdal-bin (apt-get install gdal-bin)"
        raise RuntimeError(msg)
    _run([*GRIDMAP, "--help"])  # writes the bytecode caches a user's installation has
    with tempfile.TemporaryDirectory(prefix="gridmap-bench-ingest-") as tmp:
        folder = Path(tmp)
        files = write_county(folder / "county", units=n, seed=0)
        results = _sqlite_cases(folder, files, n, runs)
        results += _grid_cases(folder, files, n)
        results += _postgis_cases(files, n, runs)
    return results


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    frame = pd.DataFrame([r.__dict__ for r in run(quick="--quick" in sys.argv)])
    sys.stdout.write(frame.to_string() + "\n")
