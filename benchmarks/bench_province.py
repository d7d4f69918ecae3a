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

Full size: 10M units, 100k cells, 20 counties, 3 GiB per worker; ``--quick``:
200k units, 4 counties, 1.5 GiB per worker.
"""

from __future__ import annotations

import logging
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
    splits: tuple[int, ...]
    subset_counties: int  # counties compared with one process (None of them: all)


QUICK = Size(
    Province(counties=4, units=200_000, cells=4_000, stations=2_000, county_km=30.0),
    memory_limit="1.5GiB",
    splits=(1, 2, 4),
    subset_counties=4,
)
FULL = Size(
    Province(counties=20, units=10_000_000, cells=100_000, stations=40_000, county_km=60.0),
    memory_limit="3GiB",
    splits=(1, 2),
    subset_counties=2,
)


def _generate(client: Any, folder: Path, p: Province, split: int) -> tuple[Manifest, float]:
    start = time.perf_counter()
    n = p.counties
    parts = client.gather(client.map(write_county, [folder] * n, [p] * n, range(n), split=split))
    return write_manifest(folder, p, parts), time.perf_counter() - start


def _run(
    client: Any, folder: Path, manifest: Manifest, options: ReachOptions, out: Path
) -> tuple[float, list[dict[str, float]]]:
    start = time.perf_counter()
    futures = client.map(
        measure_to_parquet,
        [folder] * len(manifest.partitions),
        manifest.partitions,
        options=options,
        rules=RULES,
        out=out,
        pure=False,
    )
    stats = client.gather(futures)
    return time.perf_counter() - start, stats


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
    return grouped.sort_index()


def _compare(
    client: Any, folder: Path, manifest: Manifest, size: Size, options: ReachOptions, out: Path
) -> Result:
    """The distributed run against one process on the chosen counties."""
    seconds, _ = _run(client, folder, manifest, options, out)
    counties = sorted({k.split(".")[0] for k in manifest.partitions})[: size.subset_counties]
    chosen = [k for k in manifest.partitions if k.split(".")[0] in counties]
    start = time.perf_counter()
    reference = measure_whole(folder, options, RULES, partitions=chosen)
    single_s = time.perf_counter() - start
    same = _identical(out, chosen, reference)
    if size.subset_counties >= size.province.counties:
        grouped = reference.groupby("cell_id")["service_covered"].agg(["count", "sum"])
        same = same and _rollup(out).equals(grouped.sort_index())
    return Result(
        benchmark="province",
        case=f"{options.mode}: {len(reference):,} units, distributed vs one process",
        gridmap_s=seconds,
        baseline="single process (same kernels)",
        baseline_s=single_s,
        target="identical per-unit results and roll-up",
        met=same,
        extra={"subset_units": len(reference), "partitions": len(manifest.partitions)},
    )


def _scaling(root: Path, size: Size) -> list[Result]:
    p = size.province
    times: dict[tuple[int, int], float] = {}
    rows: list[Result] = []
    for workers in (1, 2):
        cluster = ClusterOptions(workers=workers, memory_limit=size.memory_limit)
        with connect(cluster) as client:
            for split in size.splits:
                folder = root / f"w{workers}-s{split}"
                manifest, gen_s = _generate(client, folder, p, split)
                seconds, stats = _run(client, folder, manifest, RADIUS, folder / "results")
                times[(workers, split)] = seconds
                peak = max(s["peak_rss_mb"] for s in stats)
                largest = max(s["units"] for s in stats)
                rows.append(
                    Result(
                        benchmark="province",
                        case=(
                            f"radius + cells: {p.units:,} units, {len(manifest.partitions)} "
                            f"partitions, {workers} worker(s)"
                        ),
                        gridmap_s=seconds,
                        baseline="1 worker, same partitions",
                        baseline_s=times.get((1, split), seconds),
                        target="2 workers faster than 1",
                        met=workers == 1 or seconds < times[(1, split)],
                        gridmap_peak_mb=peak,
                        extra={
                            "generate_s": round(gen_s, 2),
                            "units_per_s_per_worker": round(p.units / seconds / workers),
                            "largest_partition_units": int(largest),
                            "worker_peak_rss_mb": round(peak),
                            "memory_limit": size.memory_limit,
                        },
                    )
                )
                logger.info("%s: %.1f s", rows[-1].case, seconds)
                if (workers, split) != (2, 1):
                    _remove(folder)
    return rows


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)


def run(quick: bool) -> list[Result]:
    """The scaling curve, then the comparisons with one process."""
    size = QUICK if quick else FULL
    with tempfile.TemporaryDirectory(prefix="gridmap-province-") as name:
        root = Path(name)
        results = _scaling(root, size)
        folder = root / "w2-s1"
        manifest = Manifest.read(folder)
        cluster = ClusterOptions(workers=2, memory_limit=size.memory_limit)
        with connect(cluster) as client:
            results.append(_compare(client, folder, manifest, size, RADIUS, root / "radius"))
            if quick:  # the road lattice of a full province is for a bigger machine
                results.append(_compare(client, folder, manifest, size, NETWORK, root / "net"))
    return results
