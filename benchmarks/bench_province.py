"""Province simulation on a 2-worker ``LocalCluster``: the distributed engine at scale.

A synthetic province (:mod:`gridmap.scale.synthetic`: counties of clustered
units, square cells, stations, a road lattice across county edges) is written
county by county straight to GeoParquet by the workers, never whole in one
process. Each partition is then assigned to cells and measured (radius mode,
nearest station, coverage) by :func:`gridmap.scale.kernel.measure_to_parquet`,
which writes its results beside the inputs. Reported:

* throughput per worker (units a second);
* the scaling curve: 1 and 2 workers, several partition counts (counties cut
  into strips);
* identical results to the single-process kernels
  (:func:`gridmap.scale.kernel.measure_whole`) on a subset: the whole quick set
  (radius and network), two counties (1M units) at full size (radius);
* the peak resident memory of the workers against the size of a partition
  (a worker's memory follows its partition, not the province).

Full size: 10M units, 100k cells, 20 counties, 3 GiB per worker, radius mode, the
curve at 20 and 40 partitions on 1 and 2 workers (each point a 10M-unit run, about
20 minutes in all on this 2-core machine); ``--quick``:
200k units, 4 counties, 1.5 GiB per worker, 4 to 16 partitions on 1 and 2 workers,
radius and network. Every province is generated once per partition count and
measured on both cluster sizes; every measured run starts its own cluster,
so a run's worker peak is its own. Wall and CPU seconds (the workers' and this
process's) and the load average are reported beside each other: the machine is
shared, wall times are noisy.
"""

from __future__ import annotations

import logging
import os
import resource
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks._harness import Result
from gridmap.coverage.reach import ReachOptions
from gridmap.scale import ClusterOptions, connect
from gridmap.scale.exchange import Manifest
from gridmap.scale.kernel import measure_to_parquet, measure_whole
from gridmap.scale.synthetic import Province, write_county, write_manifest
from gridmap.settings import CoverageSettings

logger = logging.getLogger(__name__)

RULES = CoverageSettings()
RADIUS = ReachOptions()
NETWORK = ReachOptions(mode="network")


@dataclass(frozen=True)
class Size:
    """One benchmark size."""

    province: Province
    memory_limit: str
    splits: tuple[int, ...]  # partitions per county measured on 2 workers
    single_splits: tuple[int, ...]  # ... and on 1 worker
    subset_counties: int  # counties compared with one process
    network: bool  # also compare network mode


QUICK = Size(
    Province(counties=4, units=200_000, cells=4_000, stations=2_000, county_km=30.0),
    memory_limit="1.5GiB",
    splits=(1, 2, 4),
    single_splits=(1, 2, 4),
    subset_counties=4,
    network=True,
)
FULL = Size(
    Province(counties=20, units=10_000_000, cells=100_000, stations=40_000, county_km=60.0),
    memory_limit="3GiB",
    splits=(1, 2),
    single_splits=(1, 2),
    subset_counties=2,
    network=False,  # the road lattice of a full province is for a bigger machine
)


@dataclass(frozen=True)
class Timing:
    """One measured run over every partition of a folder."""

    workers: int
    partitions: int
    seconds: float
    stats: list[dict[str, float]]
    load: float  # 1-minute load average at the end

    @property
    def cpu_s(self) -> float:
        """CPU seconds the workers spent on the partitions."""
        return sum(s["cpu_s"] for s in self.stats)

    @property
    def peak_mb(self) -> float:
        """The largest worker peak resident memory of the run."""
        return max(s["peak_rss_mb"] for s in self.stats)

    @property
    def largest(self) -> int:
        """Units in the largest partition."""
        return int(max(s["units"] for s in self.stats))


def _generate(client: Any, folder: Path, p: Province, split: int) -> tuple[Manifest, float]:
    start = time.perf_counter()
    n = p.counties
    parts = client.gather(client.map(write_county, [folder] * n, [p] * n, range(n), split=split))
    return write_manifest(folder, p, parts), time.perf_counter() - start


def _run(
    client: Any, folder: Path, partitions: list[str], options: ReachOptions, out: Path
) -> Timing:
    """Every one of ``partitions`` of ``folder`` measured once on ``client``."""
    workers = len(client.scheduler_info()["workers"])
    start = time.perf_counter()
    futures = client.map(
        measure_to_parquet,
        [folder] * len(partitions),
        partitions,
        options=options,
        rules=RULES,
        out=out,
        pure=False,
    )
    stats = client.gather(futures)
    seconds = time.perf_counter() - start
    return Timing(workers, len(partitions), seconds, stats, os.getloadavg()[0])


def _identical(out: Path, partitions: list[str], reference: pd.DataFrame) -> bool:
    dask = pd.concat(pd.read_parquet(out / f"{k}.parquet") for k in partitions).sort_index()
    dask = dask.loc[reference.index]
    try:
        pd.testing.assert_frame_equal(dask, reference.sort_index())
    except AssertionError as exc:
        logger.warning("distributed and single-process results differ: %s", exc)
        return False
    return True


def _rollup(out: Path) -> pd.DataFrame:
    """Units and covered units per cell, summed over the partitions by dask."""
    import dask.dataframe as dd

    frame = dd.read_parquet(str(out / "*.parquet"), columns=["cell_id", "service_covered"])
    grouped = frame.groupby("cell_id")["service_covered"].agg(["count", "sum"]).compute()
    result: pd.DataFrame = grouped.sort_index()
    return result


def _compare(size: Size, folder: Path, options: ReachOptions, whole_run: Path | None) -> Result:
    """The subset's partitions on 2 workers against one process over the same units.

    ``whole_run``: the results of the run over the whole province, whose rows for the
    subset must be the same too.
    """
    manifest = Manifest.read(folder)
    counties = sorted({k.split(".")[0] for k in manifest.partitions})[: size.subset_counties]
    chosen = [k for k in manifest.partitions if k.split(".")[0] in counties]
    out = folder / f"subset-{options.mode}"
    run = _measured(size, 2, folder, options, out, partitions=chosen)
    start, cpu = time.perf_counter(), time.process_time()
    reference = measure_whole(folder, options, RULES, partitions=chosen)
    single_s, single_cpu = time.perf_counter() - start, time.process_time() - cpu
    same = _identical(out, chosen, reference)
    if whole_run is not None:
        same = same and _identical(whole_run, chosen, reference)
    whole = size.subset_counties >= size.province.counties
    if whole:
        grouped = reference.groupby("cell_id")["service_covered"].agg(["count", "sum"])
        same = same and _rollup(out).equals(grouped.sort_index())
    return Result(
        benchmark="province",
        case=(
            f"{options.mode}: {len(reference):,} units ({len(counties)} counties, "
            f"{len(chosen)} partitions on 2 workers) vs one process"
        ),
        gridmap_s=run.seconds,
        baseline="single process, same kernels, same units",
        baseline_s=single_s,
        target="identical per-unit results" + (" and per-cell roll-up" if whole else ""),
        met=same,
        gridmap_peak_mb=run.peak_mb,
        extra={
            "subset_units": len(reference),
            "province_units": size.province.units,
            "also_checked": "the whole-province run's rows" if whole_run else "",
            "worker_cpu_s": round(run.cpu_s, 1),
            "single_cpu_s": round(single_cpu, 1),
            "load_average_1m": round(run.load, 2),
        },
    )


def _scaling_row(p: Province, run: Timing, one: Timing | None, size: Size) -> Result:
    extra = {
        "workers": run.workers,
        "partitions": run.partitions,
        "worker_cpu_s": round(run.cpu_s, 1),
        "units_per_s_per_worker": round(p.units / run.seconds / run.workers),
        "units_per_cpu_s": round(p.units / run.cpu_s),
        "largest_partition_units": run.largest,
        "worker_peak_rss_mb": round(run.peak_mb),
        "memory_limit": size.memory_limit,
        "load_average_1m": round(run.load, 2),
    }
    if run.workers == 1 or one is None:
        return Result(
            benchmark="province",
            case=(
                f"radius + cells: {p.units:,} units, {run.partitions} partitions, "
                f"{run.workers} worker(s)"
            ),
            gridmap_s=run.seconds,
            baseline="none (a point of the scaling curve)",
            baseline_s=run.seconds,
            target=f"worker peak under the {size.memory_limit} limit",
            met=run.peak_mb < _mib(size.memory_limit),
            gridmap_peak_mb=run.peak_mb,
            extra=extra,
        )
    return Result(
        benchmark="province",
        case=f"radius + cells: {p.units:,} units, {run.partitions} partitions, 2 workers",
        gridmap_s=run.seconds,
        baseline="1 worker, same partitions",
        baseline_s=one.seconds,
        target="2 workers faster than 1, worker peak under the limit",
        met=run.seconds < one.seconds and run.peak_mb < _mib(size.memory_limit),
        gridmap_peak_mb=run.peak_mb,
        baseline_peak_mb=one.peak_mb,
        extra=extra | {"speedup_vs_1_worker": round(one.seconds / run.seconds, 2)},
    )


def _memory_row(p: Province, runs: dict[tuple[int, int], Timing]) -> Result:
    """Worker peak against partition size: halving the partitions must lower the peak."""
    two = sorted((r for (w, _), r in runs.items() if w == 2), key=lambda r: r.partitions)
    big, small = two[0], two[-1]
    return Result(
        benchmark="province",
        case=(
            f"worker peak vs partition size: {big.largest:,} -> {small.largest:,} units "
            f"per partition ({p.units:,} units in all)"
        ),
        gridmap_s=small.seconds,
        baseline=f"{big.partitions} partitions",
        baseline_s=big.seconds,
        target="smaller partitions, smaller worker peak (memory follows the partition)",
        met=small.peak_mb < big.peak_mb,
        gridmap_peak_mb=small.peak_mb,
        baseline_peak_mb=big.peak_mb,
        extra={
            # the peak above the worker's fixed footprint, per 1000 units of its partition
            "marginal_mb_per_1000_units": round(
                (big.peak_mb - small.peak_mb) / max(big.largest - small.largest, 1) * 1000, 3
            ),
        },
    )


def _mib(limit: str) -> float:
    from dask.utils import parse_bytes

    return float(parse_bytes(limit)) / 2**20


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def _measured(
    size: Size,
    workers: int,
    folder: Path,
    options: ReachOptions,
    out: Path,
    *,
    partitions: list[str] | None = None,
) -> Timing:
    """One run on a cluster started for it alone: its worker peaks are this run's."""
    chosen = Manifest.read(folder).partitions if partitions is None else partitions
    with connect(ClusterOptions(workers=workers, memory_limit=size.memory_limit)) as client:
        timing = _run(client, folder, chosen, options, out)
    logger.info(
        "%s: %d worker(s), %d partitions: %.1f s, worker CPU %.1f s, peak %.0f MB",
        options.mode,
        workers,
        timing.partitions,
        timing.seconds,
        timing.cpu_s,
        timing.peak_mb,
    )
    return timing


def run(quick: bool) -> list[Result]:
    """Generate per partition count, the curve on 2 then 1 worker, the identity checks."""
    size = QUICK if quick else FULL
    p = size.province
    runs: dict[tuple[int, int], Timing] = {}
    load_before = os.getloadavg()[0]
    client_cpu = time.process_time()
    with tempfile.TemporaryDirectory(prefix="gridmap-province-") as name:
        root = Path(name)
        generated: dict[int, float] = {}
        with connect(ClusterOptions(workers=2, memory_limit=size.memory_limit)) as client:
            for split in sorted({*size.splits, *size.single_splits}):
                _, generated[split] = _generate(client, root / f"split-{split}", p, split)
        for workers, splits in ((2, size.splits), (1, size.single_splits)):
            for split in splits:
                folder = root / f"split-{split}"
                out = folder / f"radius-{workers}"
                runs[(workers, split)] = _measured(size, workers, folder, RADIUS, out)
        client_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        folder = root / f"split-{size.splits[0]}"
        comparisons = [_compare(size, folder, RADIUS, folder / "radius-2")]
        if size.network:
            comparisons.append(_compare(size, folder, NETWORK, None))
    keys = sorted(runs, key=lambda k: (k[1], k[0]))
    rows = [_scaling_row(p, runs[k], runs.get((1, k[1])), size) for k in keys]
    for row, key in zip(rows, keys, strict=True):
        row.extra["generate_s"] = round(generated[key[1]], 1)
    rows.append(_memory_row(p, runs))
    context = {
        "client_peak_rss_mb_during_runs": round(client_peak),
        "client_peak_rss_mb_with_single_process": round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
        ),
        "client_cpu_s": round(time.process_time() - client_cpu, 1),
        "load_average_1m_before": round(load_before, 2),
    }
    for row in rows + comparisons:
        row.extra.update(context)
    return rows + comparisons
