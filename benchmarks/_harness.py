"""Shared helpers for the benchmarks: timing, peak memory and result files.

Every benchmark module exposes ``run(quick: bool) -> list[Result]`` and is
run by ``python -m benchmarks`` (``make bench``), which writes
``benchmarks/results/<name>.json`` and ``<name>.md``.
"""

from __future__ import annotations

import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).parent / "results"
#: Where ``--quick`` runs write theirs (not tracked: small inputs, not the figures to keep).
QUICK_RESULTS_DIR = RESULTS_DIR / "quick"


@dataclass(frozen=True)
class Measurement:
    """Best wall time over repeats and peak traced memory of one callable."""

    seconds: float
    peak_mb: float
    value: Any = field(default=None, repr=False, compare=False)


def measure(func: Callable[[], Any], *, repeat: int = 3) -> Measurement:
    """Run ``func`` ``repeat`` times; keep the best time and the peak memory of one run."""
    gc.collect()
    tracemalloc.start()
    value = func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    best = float("inf")
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        value = func()
        best = min(best, time.perf_counter() - start)
    return Measurement(seconds=best, peak_mb=peak / 2**20, value=value)


@dataclass(frozen=True)
class Result:
    """One comparison row: gridmap against a baseline on the same input."""

    benchmark: str
    case: str
    gridmap_s: float
    baseline: str
    baseline_s: float
    target: str
    met: bool
    gridmap_peak_mb: float | None = None
    baseline_peak_mb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def speedup(self) -> float:
        """How many times faster gridmap is than the baseline."""
        return self.baseline_s / self.gridmap_s if self.gridmap_s > 0 else float("inf")


def write_results(name: str, results: list[Result], folder: Path = RESULTS_DIR) -> Path:
    """Write ``results`` as JSON and a markdown table in ``folder``; return the markdown path."""
    folder.mkdir(parents=True, exist_ok=True)
    rows = [asdict(r) | {"speedup": round(r.speedup, 2)} for r in results]
    (folder / f"{name}.json").write_text(json.dumps(rows, indent=2, ensure_ascii=False))
    lines = [
        "| case | gridmap s | baseline | baseline s | speedup | peak MB (gridmap / baseline) "
        "| target | met | notes |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        peak = f"{_fmt(r.gridmap_peak_mb)} / {_fmt(r.baseline_peak_mb)}"
        notes = ", ".join(f"{k} {v}" for k, v in r.extra.items() if v is not None)
        lines.append(
            f"| {r.case} | {r.gridmap_s:.4f} | {r.baseline} | {r.baseline_s:.4f} "
            f"| {r.speedup:.1f}x | {peak} | {r.target} | {'yes' if r.met else 'NO'} | {notes} |"
        )
    path = folder / f"{name}.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}"


#: Runs a command and prints its exit code, wall time, CPU time and peak memory. A small
#: process of its own (``python -S``): a child forked from a benchmark counts the memory
#: its parent held when it forked, and a benchmark may hold a county in memory.
_LAUNCHER = """
import os, subprocess, sys, time
out = open(sys.argv[1], "wb")
start = time.perf_counter()
process = subprocess.Popen(sys.argv[2:], stdout=out, stderr=subprocess.STDOUT)
_, status, usage = os.wait4(process.pid, 0)
cpu = usage.ru_utime + usage.ru_stime
print(os.waitstatus_to_exitcode(status), time.perf_counter() - start, cpu, usage.ru_maxrss)
"""


@dataclass(frozen=True)
class Child:
    """What one child process cost: wall and CPU seconds, peak resident memory."""

    seconds: float
    cpu_s: float
    peak_mb: float
    returncode: int
    output: str = field(repr=False)


def run_child(
    command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None
) -> Child:
    """Run ``command`` in a new process; its wall and CPU time (``wait4``) and peak RSS.

    The output (stdout and stderr together) is kept in :attr:`Child.output`.
    """
    import subprocess
    import sys
    import tempfile

    with tempfile.NamedTemporaryFile(suffix=".out") as out:
        done = subprocess.run(
            [sys.executable, "-S", "-c", _LAUNCHER, out.name, *command],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        output = Path(out.name).read_text(errors="replace")
    code, seconds, cpu, peak_kb = done.stdout.split()
    return Child(float(seconds), float(cpu), int(peak_kb) / 1024, int(code), output)
