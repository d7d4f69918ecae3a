"""Start-up of the ``gridmap`` command, against the bare Python interpreter.

Each case runs the installed ``gridmap`` script in a new process, as a user does, and
keeps the best wall time over the repeats (the median is in ``extra``) and the peak
resident memory of the process (``wait4``). Cases: ``gridmap --help``, ``gridmap
--version``, ``gridmap coverage run --help``, ``gridmap db upgrade`` on a SpatiaLite
store already at the head (and on PostGIS when ``GRIDMAP_TEST_POSTGIS_URL`` names
one), and ``gridmap ingest layer nul.csv`` refusing a file of NUL bytes (2 GB, sparse;
200 MB in ``--quick``). Baseline: ``python -c pass``. Target (issue #16): every case
under 1 s; the NUL file refused with under 200 MB peak memory.

The runs use a bytecode cache of their own (``PYTHONPYCACHEPREFIX`` in the temporary
folder, written by a first run), as an installed gridmap has one; ``extra`` also gives
the CPU time (the figure that holds on a loaded machine) and one run without any
bytecode cache (``PYTHONDONTWRITEBYTECODE=1``: every module compiled from source).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from benchmarks._harness import Result
from gridmap.store import Store

TARGET_S = 1.0
NUL_PEAK_MB = 200.0


@dataclass(frozen=True)
class _Run:
    best_s: float
    median_s: float
    cpu_s: float
    cold_s: float
    peak_mb: float
    returncode: int


def _gridmap() -> list[str]:
    script = Path(sys.executable).parent / "gridmap"
    return [str(script)] if script.exists() else [sys.executable, "-m", "gridmap"]


#: Runs a command and reports its exit code, wall time and peak memory. A small process of
#: its own: a child's peak memory counts what its parent held when it forked, and the
#: benchmark itself holds a migrated store's ORM and Alembic.
_LAUNCHER = """
import os, subprocess, sys, time
start = time.perf_counter()
process = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(process.pid, 0)
process.returncode = os.waitstatus_to_exitcode(status)
cpu = usage.ru_utime + usage.ru_stime
print(process.returncode, time.perf_counter() - start, cpu, usage.ru_maxrss)
"""


def _once(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, float, float, int]:
    """Wall time (s), CPU time (s), peak resident memory (MB) and exit code of one run."""
    done = subprocess.run(
        [sys.executable, "-S", "-c", _LAUNCHER, *command],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=True,
    )
    code, seconds, cpu, peak_kb = done.stdout.split()
    return float(seconds), float(cpu), int(peak_kb) / 1024, int(code)  # ru_maxrss: KiB


def _time(command: list[str], env: dict[str, str], cwd: Path, repeat: int) -> _Run:
    cold = _once(command, {**env, "PYTHONDONTWRITEBYTECODE": "1"}, cwd)
    cached = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cached["PYTHONPYCACHEPREFIX"] = str(cwd / "pycache")
    _once(command, cached, cwd)  # writes the bytecode cache, warms the file cache
    runs = [_once(command, cached, cwd) for _ in range(repeat)]
    return _Run(
        best_s=min(r[0] for r in runs),
        median_s=statistics.median(r[0] for r in runs),
        cpu_s=min(r[1] for r in runs),
        cold_s=cold[0],
        peak_mb=max(r[2] for r in runs),
        returncode=runs[-1][3],
    )


def _result(case: str, run: _Run, base: _Run, *, expected_rc: int, peak_mb: float | None) -> Result:
    met = run.best_s < TARGET_S and run.returncode == expected_rc
    target = f"< {TARGET_S:g} s, exit {expected_rc}"
    if peak_mb is not None:
        met = met and run.peak_mb < peak_mb
        target += f", peak < {peak_mb:g} MB"
    return Result(
        benchmark="startup",
        case=case,
        gridmap_s=run.best_s,
        baseline="python -c pass",
        baseline_s=base.best_s,
        target=target,
        met=met,
        gridmap_peak_mb=run.peak_mb,
        baseline_peak_mb=base.peak_mb,
        extra={
            "median_s": round(run.median_s, 4),
            "cpu_s": round(run.cpu_s, 4),
            "no_bytecode_cache_s": round(run.cold_s, 4),
            "exit": run.returncode,
        },
    )


def _at_head(url: str) -> str:
    store = Store(url)
    try:
        store.upgrade()
    finally:
        store.dispose()
    return url


def run(quick: bool) -> list[Result]:
    repeat = 3 if quick else 7
    gridmap = _gridmap()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        env = {**os.environ, "GRIDMAP_DATABASE_URL": f"sqlite:///{work / 'never-opened.sqlite'}"}
        base = _time([sys.executable, "-c", "pass"], env, work, repeat)
        results = [
            _result(f"gridmap {' '.join(args)}", _time([*gridmap, *args], env, work, repeat), base,
                    expected_rc=0, peak_mb=None)
            for args in (["--help"], ["--version"], ["coverage", "run", "--help"])
        ]  # fmt: skip
        stores = {"SpatiaLite": f"sqlite:///{work / 'store.sqlite'}"}
        if os.environ.get("GRIDMAP_TEST_POSTGIS_URL"):
            stores["PostGIS"] = os.environ["GRIDMAP_TEST_POSTGIS_URL"]
        for backend, url in stores.items():
            at_head = {**env, "GRIDMAP_DATABASE_URL": _at_head(url)}
            upgrade = _time([*gridmap, "db", "upgrade"], at_head, work, repeat)
            results.append(
                _result(f"gridmap db upgrade, {backend} store at the head", upgrade, base,
                        expected_rc=0, peak_mb=None)
            )  # fmt: skip
        size_mb = 200 if quick else 2048
        nul = work / "nul.csv"
        with nul.open("wb") as handle:
            handle.truncate(size_mb * 2**20)  # NUL bytes, sparse: nothing written to disk
        refuse = _time([*gridmap, "ingest", "layer", str(nul), "--kind", "unit"], env, work, repeat)
        results.append(
            _result(f"gridmap ingest layer nul.csv ({size_mb:,} MB of NUL bytes) refused", refuse,
                    base, expected_rc=2, peak_mb=NUL_PEAK_MB)
        )  # fmt: skip
    return results
