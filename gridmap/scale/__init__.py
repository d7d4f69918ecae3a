"""The distributed engine: coverage partitioned by county on a dask cluster.

Install with the ``scale`` extra (``dask[dataframe]``, ``distributed``,
``dask-geopandas``, ``pyarrow``). Run it with ``gridmap coverage run --engine dask``
or, from Python::

    from gridmap.coverage import run_coverage
    from gridmap.scale import ClusterOptions, connect, distributed_measure

    with connect(ClusterOptions(workers=2)) as client:
        run_coverage(store, rules, options, measure=distributed_measure(client, options, rules))

Modules: :mod:`.halo` (how far beyond a county a worker reads), :mod:`.exchange`
(the GeoParquet folder), :mod:`.partition` (county keys, export), :mod:`.store_read`
(workers read their county's units from the store in chunks), :mod:`.kernel`
(one partition through the single-process kernels), :mod:`.engine` (the cluster),
:mod:`.reduce` and :mod:`.blind` (the roll-up and the blind zones as reductions of
per-partition results).
"""

from __future__ import annotations

from gridmap.scale.engine import ClusterOptions, connect, distributed_measure, run_partitions
from gridmap.scale.halo import halo_m
from gridmap.scale.kernel import PartitionReach, assign_partition, measure_partition

__all__ = [
    "ClusterOptions",
    "PartitionReach",
    "assign_partition",
    "connect",
    "distributed_measure",
    "halo_m",
    "measure_partition",
    "run_partitions",
]
