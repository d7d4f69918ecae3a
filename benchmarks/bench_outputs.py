"""Outputs of a stored run: ``map export`` and ``report`` read the run, not a recompute.

Input: a synthetic county written straight into a SpatiaLite store (square cells of
about 550 m, units clustered in them, one station per 25 cells, a few grid workers),
then one radius coverage run computed and saved (:func:`gridmap.coverage.run_coverage`).
(The "bulk" helper's ``benchmarks/county.py`` is the richer generator; this one needs
nothing but the store.)

Per size, each output is timed as the CLI does it, from the store to the file:

* ``map export``: :func:`gridmap.coverage.load_run` + ``map_data`` + ``export_html``,
  against the kernel (``layer_specs``: encoding the frames already in memory) and
  against the old path (:func:`gridmap.coverage.reproduce_run` recomputing the run,
  then the same export). Target: the file under 20 MB, the stage within 3x its kernel.
* ``map open``: the file opened in a new headless Chromium each time (cold, every
  request outside the file blocked), timed until the map is ready and its cells are
  drawn; the median of :data:`OPEN_RUNS`. Target: under 20 MB, opens in under 5 s.
  Skipped (logged) without Playwright or ``/usr/bin/chromium``.
* ``report``: ``load_run`` + ``write_report`` (write-only workbook), against the kernel
  (``report_tables``) and the old path (recompute, then the same workbook).
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import logging
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from sqlalchemy import LargeBinary, bindparam, func, insert

from benchmarks._harness import Measurement, Result, measure
from gridmap.coverage import ReachOptions, load_run, reproduce_run, run_coverage
from gridmap.maps import export_html
from gridmap.maps._layers import EncodeOptions, layer_specs
from gridmap.maps.from_coverage import map_data
from gridmap.report import report_tables, write_report
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

logger = logging.getLogger(__name__)

AS_OF = dt.date(2026, 11, 1)
KINDS = ("village", "community", "building", "park", "firm", "social_org")
STEP_DEG = 0.005  # about 550 m x 490 m at 28 deg N
SEED = 16
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OPEN_RUNS = 3
TARGET_OPEN_S = 5.0
TARGET_FILE_MB = 20.0


def _insert(store: Store, model: type[models.Base], rows: list[dict[str, Any]]) -> None:
    table = table_of(model)
    geometry = {"geom": func.ST_GeomFromWKB(bindparam("wkb", type_=LargeBinary), models.SRID)}
    statement = insert(table).values(geometry) if rows and "wkb" in rows[0] else insert(table)
    with store.engine.begin() as conn:
        for start in range(0, len(rows), 50_000):
            conn.execute(statement, rows[start : start + 50_000])


def seed_county(store: Store, n_units: int, n_side: int) -> None:
    """Cells, stations, workers and clustered units, written in bulk."""
    rng = np.random.default_rng(SEED)
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(n_side), np.arange(n_side)))
    x0, y0 = 117.0 + ix * STEP_DEG, 28.0 + iy * STEP_DEG
    squares = shapely.box(x0, y0, x0 + STEP_DEG, y0 + STEP_DEG)
    boxes = shapely.multipolygons(squares, indices=np.arange(len(squares)))
    _insert(
        store,
        models.GridCell,
        [
            {
                "code": f"3606810010{i:05d}",
                "name": f"网格{i}",
                "source": "bench",
                "source_id": str(i),
                "wkb": shapely.to_wkb(g),
            }
            for i, g in enumerate(boxes)
        ],
    )
    stations = rng.choice(len(boxes), size=max(1, len(boxes) // 25), replace=False)
    _insert(
        store,
        models.Station,
        [
            {
                "tier": "community",
                "name": f"服务站{k}",
                "last_activity": AS_OF,
                "source": "bench",
                "source_id": str(k),
                "wkb": shapely.to_wkb(shapely.Point(x0[c] + STEP_DEG / 2, y0[c] + STEP_DEG / 2)),
            }
            for k, c in enumerate(stations)
        ],
    )
    weight = rng.gamma(0.6, size=len(boxes))
    cell = rng.choice(len(boxes), size=n_units, p=weight / weight.sum())
    lon = x0[cell] + rng.random(n_units) * STEP_DEG
    lat = y0[cell] + rng.random(n_units) * STEP_DEG
    kinds = rng.integers(0, len(KINDS), n_units)
    members = rng.integers(0, 8, n_units)
    wkb = shapely.to_wkb(shapely.points(lon, lat))
    _insert(
        store,
        models.Unit,
        [
            {
                "kind": KINDS[kinds[i]],
                "name": f"单位{i}",
                "population": 30,
                "party_members": int(members[i]),
                "cell_id": int(cell[i]) + 1,
                "source": "bench",
                "source_id": str(i),
                "wkb": wkb[i],
            }
            for i in range(n_units)
        ],
    )
    _insert(
        store,
        models.Worker,
        [{"name": f"网格员{w}", "source": "bench", "source_id": str(w)} for w in range(10)],
    )
    _insert(
        store,
        models.WorkerCell,
        [
            {"worker_id": w + 1, "cell_id": c + 1}
            for w in range(10)
            for c in range(w, len(boxes), 10)
        ],
    )


def _map(store: Store, out: Path, recompute: bool) -> int:
    rules = CoverageSettings()
    result = (reproduce_run if recompute else load_run)(store, rules)
    path = export_html(map_data(result), out, basemap="none")
    return path.stat().st_size


def open_seconds(path: Path, runs: int = OPEN_RUNS) -> list[float] | None:
    """Seconds from navigation until the map is ready and its cells are drawn, each in a
    new Chromium (cold); None without Playwright or Chromium."""
    if importlib.util.find_spec("playwright") is None or not CHROMIUM.exists():
        logger.warning("map open not timed: needs playwright and %s", CHROMIUM)
        return None
    from playwright.sync_api import sync_playwright

    def route(request: Any) -> None:
        if request.request.url.startswith(("file:", "data:")):
            request.continue_()
        else:
            request.abort()

    out = []
    with sync_playwright() as p:
        for _ in range(runs):
            browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.route("**/*", route)
            start = time.perf_counter()
            page.goto(path.resolve().as_uri(), timeout=120_000)
            page.wait_for_function(
                "window.GridMap && GridMap.ready && GridMap.layers.cells.drawn > 0",
                timeout=120_000,
                polling=20,
            )
            out.append(time.perf_counter() - start)
            browser.close()
    return out


def _open_row(case: str, path: Path) -> list[Result]:
    seconds = open_seconds(path)
    if seconds is None:
        return []
    size_mb = path.stat().st_size / 1e6
    median = statistics.median(seconds)
    return [
        Result(
            benchmark="outputs",
            case=f"map open, {case}: headless Chromium until the cells are drawn (cold)",
            gridmap_s=median,
            baseline="target",
            baseline_s=TARGET_OPEN_S,
            target=f"< {TARGET_FILE_MB:.0f} MB, opens < {TARGET_OPEN_S:.0f} s",
            met=size_mb < TARGET_FILE_MB and median < TARGET_OPEN_S,
            extra={"file_mb": round(size_mb, 2), "runs_s": [round(t, 2) for t in seconds]},
        )
    ]


def _report(store: Store, out: Path, recompute: bool) -> None:
    rules = CoverageSettings()
    result = (reproduce_run if recompute else load_run)(store, rules)
    write_report(result, out)


def _case(n_units: int, n_side: int, *, old_path: bool) -> list[Result]:
    folder = Path(tempfile.mkdtemp(prefix="gridmap-bench-outputs-"))
    store = Store(f"sqlite:///{folder / 'county.db'}")
    store.upgrade()
    seed_county(store, n_units, n_side)
    start = time.perf_counter()
    run_coverage(store, CoverageSettings(), ReachOptions(mode="radius"), as_of=AS_OF)
    logger.info("%d units: coverage run and save %.1f s", n_units, time.perf_counter() - start)
    result = load_run(store, CoverageSettings())
    case = f"{n_units // 1000}k units, {n_side * n_side} cells"
    rows = []
    map_kernel = measure(
        lambda: layer_specs(map_data(result), "zh", EncodeOptions(), include_personal=False),
        repeat=1,
    )
    map_new = measure(lambda: _map(store, folder / "map.html", False), repeat=1)
    map_old = (
        measure(lambda: _map(store, folder / "map-old.html", True), repeat=1) if old_path else None
    )
    size_mb = float(map_new.value) / 1e6
    rows += _rows("map export", case, map_new, map_kernel, map_old, size_mb=size_mb)
    rows += _open_row(case, folder / "map.html")
    report_kernel = measure(lambda: report_tables(result), repeat=1)
    report_new = measure(lambda: _report(store, folder / "r.xlsx", False), repeat=1)
    report_old = (
        measure(lambda: _report(store, folder / "r-old.xlsx", True), repeat=1) if old_path else None
    )
    rows += _rows("report", case, report_new, report_kernel, report_old)
    store.dispose()
    return rows


def _rows(
    stage: str,
    case: str,
    new: Measurement,
    kernel: Measurement,
    old: Measurement | None,
    *,
    size_mb: float | None = None,
) -> list[Result]:
    extra: dict[str, Any] = {} if size_mb is None else {"file_mb": round(size_mb, 2)}
    ratio = new.seconds / kernel.seconds if kernel.seconds else float("inf")
    small = size_mb is None or size_mb < TARGET_FILE_MB
    rows = [
        Result(
            benchmark="outputs",
            case=f"{stage}, {case}: stored run vs its kernel",
            gridmap_s=new.seconds,
            baseline="kernel (in memory)",
            baseline_s=kernel.seconds,
            target="within 3x of the kernel" + (", file < 20 MB" if size_mb is not None else ""),
            met=ratio <= 3 and small,
            gridmap_peak_mb=new.peak_mb,
            baseline_peak_mb=kernel.peak_mb,
            extra=extra | {"ratio_to_kernel": round(ratio, 2)},
        )
    ]
    if old is not None:
        rows.append(
            Result(
                benchmark="outputs",
                case=f"{stage}, {case}: stored run vs recompute",
                gridmap_s=new.seconds,
                baseline="reproduce_run (old path)",
                baseline_s=old.seconds,
                target="faster than recomputing",
                met=new.seconds < old.seconds,
                gridmap_peak_mb=new.peak_mb,
                baseline_peak_mb=old.peak_mb,
                extra=extra,
            )
        )
    return rows


def run(quick: bool) -> list[Result]:
    """20k units (quick) or 100k and 1M units; the recompute path below 1M.

    ``GRIDMAP_BENCH_OUTPUTS_UNITS`` (e.g. ``100000``) runs only the sizes it lists.
    """
    sizes = {20_000: 45, 100_000: 100, 1_000_000: 100}
    chosen = os.environ.get("GRIDMAP_BENCH_OUTPUTS_UNITS")
    wanted = [20_000] if quick else [100_000, 1_000_000]
    if chosen:
        wanted = [int(n) for n in chosen.split(",")]
    results: list[Result] = []
    for n in wanted:
        rows = _case(n, sizes.get(n, 100), old_path=n < 1_000_000)
        for row in rows:
            logger.info(
                "%s: %.2f s (%s %.2f s)", row.case, row.gridmap_s, row.baseline, row.baseline_s
            )
        results += rows
    return results
