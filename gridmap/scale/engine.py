"""The distributed engine: coverage partitioned by county on a dask cluster.

:func:`distributed_measure` gives :func:`gridmap.coverage.run.compute_coverage` a
``measure`` that writes the run's units, stations and roads to a GeoParquet
folder, one file per county (:mod:`.partition`), has every worker measure one
county with its halo (:func:`gridmap.scale.kernel.measure_partition`, the
single-process kernels) and puts the per-unit results back together. The rules,
the roll-up, the blind zones and the stored run are the single-process ones.

:func:`connect` opens a ``distributed.Client``: on an existing scheduler given its
address, or on a ``LocalCluster`` of worker processes started here.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from gridmap.coverage._sites import ServiceReach
from gridmap.coverage.inputs import CoverageInputs
from gridmap.coverage.reach import ReachOptions
from gridmap.coverage.run import Measure
from gridmap.errors import GridmapError
from gridmap.progress import track
from gridmap.scale.kernel import PartitionReach, measure_partition
from gridmap.scale.partition import export_inputs
from gridmap.scale.store_read import CHUNK_ROWS, export_store_units
from gridmap.settings import CoverageSettings
from gridmap.store import Store

logger = logging.getLogger(__name__)

__all__ = ["ClusterOptions", "connect", "distributed_measure", "run_partitions"]


@dataclass(frozen=True)
class ClusterOptions:
    """Where to run: an existing scheduler's address, or a local cluster of this size."""

    scheduler: str | None = None
    workers: int = 2
    memory_limit: str = "2GiB"
    timeout_s: float = 5.0
    #: Environment of the local cluster's workers, set when they start (not sent through
    #: the scheduler): the store's URL with its password goes here. Workers of an
    #: existing cluster need it in their own environment.
    worker_env: Mapping[str, str] = field(default_factory=dict)


#: distributed's own loggers, quieter: its INFO lines are its start and stop, and its
#: nanny warns about every worker that takes more than a few seconds to exit.
QUIET = {"distributed": logging.WARNING, "distributed.nanny": logging.ERROR}


def _level(name: str) -> int:
    parts = name.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in QUIET:
            return QUIET[prefix]
    return logging.NOTSET


@contextmanager
def _quiet() -> Iterator[None]:
    import distributed  # noqa: F401 (it configures its loggers on import)

    names = [n for n in logging.root.manager.loggerDict if _level(n) != logging.NOTSET]
    loggers = {name: logging.getLogger(name) for name in {*names, *QUIET}}
    before = {name: lg.level for name, lg in loggers.items()}
    for name, lg in loggers.items():
        lg.setLevel(max(lg.level, _level(name)))
    try:
        yield
    finally:
        for name, lg in loggers.items():
            lg.setLevel(before[name])


@contextmanager
def connect(options: ClusterOptions) -> Iterator[Any]:
    """A ``distributed.Client`` for ``options``; the local cluster is closed afterwards."""
    with _quiet():
        yield from _connect(options)


def _connect(options: ClusterOptions) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    if options.scheduler is not None:
        try:
            client = Client(  # type: ignore[no-untyped-call]
                options.scheduler, timeout=f"{options.timeout_s}s"
            )
        except (OSError, TimeoutError, ValueError) as exc:
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            msg = (
                f"cannot reach the dask scheduler at {options.scheduler} ({reason}): start one "
                "with `dask scheduler` and workers with `dask worker ADDRESS`, or leave out "
                "--scheduler to run on a local cluster"
            )
            raise GridmapError(msg) from None
        with client:
            yield client
        return
    with (
        LocalCluster(  # type: ignore[no-untyped-call]
            n_workers=options.workers,
            threads_per_worker=1,
            processes=True,
            memory_limit=options.memory_limit,
            dashboard_address=":0",  # any free port: a second cluster must not collide
            env=dict(options.worker_env),
        ) as cluster,
        Client(cluster) as client,  # type: ignore[no-untyped-call]
    ):
        yield client


def run_partitions(
    client: Any,
    folder: Path,
    partitions: Sequence[str],
    options: ReachOptions,
    rules: CoverageSettings,
    *,
    halo: float | None = None,
) -> list[PartitionReach]:
    """Measure every partition of ``folder`` on the cluster, one task each, with progress."""
    from distributed import as_completed

    futures = client.map(
        measure_partition,
        [folder] * len(partitions),
        list(partitions),
        options=options,
        rules=rules,
        halo=halo,
        pure=False,
    )
    done: dict[str, PartitionReach] = {}
    finished = as_completed(futures, with_results=True)  # type: ignore[no-untyped-call]
    try:
        for _, result in track(finished, description="coverage partitions", total=len(futures)):
            done[result.partition] = result
    except BaseException:
        client.cancel(futures)  # the exchange folder goes away: stop what still runs
        raise
    return [done[p] for p in partitions]


def _joined(
    inputs: CoverageInputs, counting: gpd.GeoDataFrame, results: list[PartitionReach]
) -> ServiceReach:
    """The partitions' results in the order of the single-process run."""
    units = pd.concat([r.units for r in results if len(r.units)]).reindex(inputs.units.index)
    areas = [r.service_areas for r in results if len(r.service_areas)]
    if areas:
        joined = pd.concat(areas).set_index("station_id", drop=False)
        frame = gpd.GeoDataFrame(
            joined.reindex(counting.index).reset_index(drop=True), crs="EPSG:4326"
        )
    else:
        frame = results[0].service_areas
    return ServiceReach(units=units, service_areas=frame)


def distributed_measure(
    client: Any,
    options: ReachOptions,
    rules: CoverageSettings,
    *,
    exchange: Path | None = None,
    halo: float | None = None,
    split: int = 1,
    store: Store | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> Measure:
    """A ``measure`` for :func:`~gridmap.coverage.run.compute_coverage` that runs on ``client``.

    ``exchange``: the GeoParquet folder (default a temporary one; with a remote cluster,
    a folder every worker can read). ``halo``: see
    :func:`~gridmap.scale.kernel.measure_partition`. ``split``: partitions per county.
    ``store``: the store the inputs were read from; with ``split`` 1 the workers read
    their county's units from it themselves, ``chunk_rows`` at a time, and write them
    to the folder (:mod:`.store_read`); the client writes the stations and roads.
    """

    def measure(inputs: CoverageInputs, counting: gpd.GeoDataFrame) -> ServiceReach:
        with _folder(exchange) as folder:
            unit_boxes = None
            if store is not None and split == 1 and len(inputs.units):
                unit_boxes = export_store_units(
                    client, store, folder, inputs.metric_crs, chunk_rows=chunk_rows
                )
            manifest = export_inputs(inputs, counting, folder, split=split, unit_boxes=unit_boxes)
            partitions = manifest.partitions
            if not partitions:
                from gridmap.coverage.reach import service_reach

                return service_reach(
                    inputs, counting, options, rules, every_station=inputs.stations
                )
            logger.info("%d partitions in %s", len(partitions), folder)
            results = run_partitions(client, folder, partitions, options, rules, halo=halo)
        return _joined(inputs, counting, results)

    return measure


@contextmanager
def _folder(exchange: Path | None) -> Iterator[Path]:
    if exchange is not None:
        exchange.mkdir(parents=True, exist_ok=True)
        yield exchange
        return
    with tempfile.TemporaryDirectory(prefix="gridmap-scale-") as name:
        yield Path(name)
