"""Shortest network distances from many sources (service stations) at once.

All sources are routed in ONE multi-source Dijkstra run (a bucket queue, see
:mod:`gridmap.network._dijkstra`), which returns for every node the cost from
its nearest source and which source that is (the lowest index among equally
near ones).

Sources may be node indices or :class:`~gridmap.network.snap.Snapped`
points. A snapped source sits on a link at ``fraction`` of its length; it
starts the search at ``u`` with ``fraction`` times the link's backward cost
and at ``v`` with ``1 - fraction`` times its forward cost (not at all at an
end that one-way forbids it to drive to), exactly as a virtual node with
those two edges would.
Costs start at the snapped position: a station's own walk to the road is not
counted (its ``distance_m`` is in the :class:`Snapped`).

Results equal ``networkx.multi_source_dijkstra_path_length`` on
:meth:`RoadGraph.to_networkx`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from gridmap.network._dijkstra import nearest_seed
from gridmap.network.graph import RoadGraph, Weight
from gridmap.network.snap import Snapped

__all__ = [
    "NodeDistances",
    "PointDistances",
    "access_cost",
    "distances_to_points",
    "multi_source_distances",
    "reach_matrix",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
Sources = Snapped | npt.ArrayLike


class NodeDistances(NamedTuple):
    """Cost from the nearest source to every node (unpacks as ``dist, source``).

    ``distance`` is ``inf`` and ``source`` is -1 where no source reaches the
    node (within the cutoff). ``source`` indexes the sources as given.
    """

    distance: FloatArray
    source: IntArray


@dataclass(frozen=True, eq=False)
class PointDistances:
    """Cost from the nearest source to every target point.

    Attributes
    ----------
    distance
        ``network + access``; ``inf`` where unreached, beyond the cutoff or
        ``too_far``.
    source
        Index of the nearest source, -1 where ``distance`` is ``inf``.
    network
        Cost along roads from the source's snapped position to the target's
        snapped position (the target's offset along its link included).
    access
        Cost of the target's off-road leg: its snap distance in metres for
        ``"length"``, that distance at ``access_speed_kmh`` in seconds for ``"time"``.
    snap_distance_m
        The target's snap distance, reported separately.
    too_far
        Targets farther than ``max_snap_m`` from any road (never counted as reached).
    """

    distance: FloatArray
    source: IntArray
    network: FloatArray
    access: FloatArray
    snap_distance_m: FloatArray
    too_far: BoolArray


def multi_source_distances(
    graph: RoadGraph,
    sources: Sources,
    *,
    weight: Weight,
    cutoff: float | None = None,
    source_access: bool = False,
    access_speed_kmh: float | None = None,
) -> NodeDistances:
    """Cost from the nearest of ``sources`` to every node of ``graph``.

    Parameters
    ----------
    graph
        The road graph.
    sources
        Node indices, or snapped points (``too_far`` ones are ignored).
    weight
        ``"length"`` (metres) or ``"time"`` (seconds).
    cutoff
        Costs above this are not computed (``inf``, source -1).
    source_access
        Start each snapped source at its own off-road leg (its snap distance,
        or that distance at ``access_speed_kmh`` for ``"time"``) instead of at
        zero: a station 200 m from the road is 200 m farther from everyone.
    access_speed_kmh
        Walking speed of off-road legs, required for ``"time"`` (gridmap passes
        ``Settings().coverage.walk_kmh``).
    """
    limit = np.inf if cutoff is None else float(cutoff)
    if isinstance(sources, Snapped):
        start = access_cost(sources, weight, access_speed_kmh) if source_access else None
        return _from_snapped(graph, sources, weight, limit, start)
    nodes = np.atleast_1d(np.asarray(sources, dtype=np.int64))
    if nodes.size and (nodes.min() < 0 or nodes.max() >= graph.n_nodes):
        msg = (
            f"source node indices must be in [0, {graph.n_nodes}), got {nodes.min()}..{nodes.max()}"
        )
        raise ValueError(msg)
    if nodes.size == 0:
        return _unreached(graph.n_nodes)
    dist, label = nearest_seed(
        graph.matrix(weight), nodes, np.zeros(nodes.size), np.arange(nodes.size), limit=limit
    )
    return NodeDistances(dist, label)


def distances_to_points(
    graph: RoadGraph,
    sources: Sources,
    targets: Snapped,
    *,
    weight: Weight,
    cutoff: float | None = None,
    access_speed_kmh: float | None = None,
    source_access: bool = False,
    nodes: NodeDistances | None = None,
) -> PointDistances:
    """Cost from the nearest source to each snapped target point.

    A target on link ``u -> v`` at ``fraction`` is reached through ``u``
    (plus ``fraction`` of the forward cost), through ``v`` (plus the rest of
    the backward cost) or, when a snapped source lies on the same link,
    directly along it; the cheapest wins. Its off-road leg is then added
    (see :class:`PointDistances`). With ``source_access`` the sources' own
    off-road legs count too (see :func:`multi_source_distances`).

    ``nodes``, when the caller needs the node costs too, is what
    :func:`multi_source_distances` returned for the same arguments; it is
    used instead of routing again.
    """
    if nodes is None:
        nodes = multi_source_distances(
            graph,
            sources,
            weight=weight,
            cutoff=cutoff,
            source_access=source_access,
            access_speed_kmh=access_speed_kmh,
        )
    forward, backward = graph.costs(weight)
    via_u = nodes.distance[targets.u] + _part(targets.fraction, forward[targets.link])
    via_v = nodes.distance[targets.v] + _part(1.0 - targets.fraction, backward[targets.link])
    network = np.minimum(via_u, via_v)
    source = np.where(via_u <= via_v, nodes.source[targets.u], nodes.source[targets.v])
    if isinstance(sources, Snapped):
        start = (
            access_cost(sources, weight, access_speed_kmh)
            if source_access
            else np.zeros(len(sources))
        )
        network, source = _same_link(sources, targets, forward, backward, network, source, start)
    access = access_cost(targets, weight, access_speed_kmh)
    total = network + access
    limit = np.inf if cutoff is None else float(cutoff)
    unreached = targets.too_far | ~(total <= limit)
    return PointDistances(
        distance=np.where(unreached, np.inf, total),
        source=np.where(unreached | ~np.isfinite(network), -1, source).astype(np.int64),
        network=network,
        access=access,
        snap_distance_m=targets.distance_m,
        too_far=targets.too_far,
    )


def access_cost(points: Snapped, weight: Weight, speed_kmh: float | None) -> FloatArray:
    """Cost of each point's off-road leg: metres for ``"length"``, seconds for ``"time"``.

    ``"time"`` needs the walking speed ``speed_kmh`` (gridmap passes
    ``Settings().coverage.walk_kmh``); ``"length"`` ignores it.
    """
    if weight == "length":
        return points.distance_m
    if speed_kmh is None or speed_kmh <= 0:
        msg = (
            f'weight="time" needs access_speed_kmh above 0 for the off-road legs, got '
            f"{speed_kmh!r}; pass access_speed_kmh=Settings().coverage.walk_kmh"
        )
        raise ValueError(msg)
    cost: FloatArray = points.distance_m / (speed_kmh / 3.6)
    return cost


def _part(fraction: FloatArray, cost: FloatArray) -> FloatArray:
    """``fraction * cost`` with 0 for a zero fraction even when the cost is ``inf``."""
    with np.errstate(invalid="ignore"):
        part: FloatArray = np.where(fraction == 0.0, 0.0, fraction * cost)
    return part


def _unreached(n: int) -> NodeDistances:
    return NodeDistances(np.full(n, np.inf), np.full(n, -1, dtype=np.int64))


def _from_snapped(
    graph: RoadGraph,
    sources: Snapped,
    weight: Weight,
    limit: float,
    start: FloatArray | None = None,
) -> NodeDistances:
    """One run seeded at both ends of every snapped source's link (``start``: initial costs)."""
    used = np.flatnonzero(~sources.too_far)
    if used.size == 0:
        return _unreached(graph.n_nodes)
    forward, backward = graph.costs(weight)
    link, fraction = sources.link[used], sources.fraction[used]
    nodes = np.stack([sources.u[used], sources.v[used]], axis=1)
    cost = np.stack([_part(fraction, backward[link]), _part(1.0 - fraction, forward[link])], axis=1)
    if start is not None:
        cost = cost + start[used][:, None]
    labels = np.repeat(used[:, None], 2, axis=1)
    allowed = np.isfinite(cost)
    dist, label = nearest_seed(
        graph.matrix(weight), nodes[allowed], cost[allowed], labels[allowed], limit=limit
    )
    return NodeDistances(dist, label)


def _with_virtual_rows(base: Any, cols: IntArray, data: FloatArray) -> Any:
    """Append one row (and column) per source with edges ``data`` to nodes ``cols``.

    Rows go after the graph's, so the CSR arrays are extended rather than rebuilt;
    forbidden directions (``inf``) are left out.
    """
    allowed = np.isfinite(data)
    n, k = base.shape[0], cols.shape[0]
    indptr = np.concatenate([base.indptr, base.nnz + np.cumsum(allowed.sum(axis=1))])
    indices = np.concatenate([base.indices, cols[allowed]]).astype(base.indices.dtype)
    values = np.concatenate([base.data, data[allowed]])
    return sparse.csr_array(
        (values, indices, indptr.astype(base.indptr.dtype)), shape=(n + k, n + k)
    )


def _same_link(
    sources: Snapped,
    targets: Snapped,
    forward: FloatArray,
    backward: FloatArray,
    network: FloatArray,
    source: IntArray,
    start: FloatArray,
) -> tuple[FloatArray, IntArray]:
    """Improve targets that share a link with a source by travelling along it."""
    used = np.flatnonzero(~sources.too_far)
    order = used[np.argsort(sources.link[used], kind="stable")]
    sorted_links = sources.link[order]
    lo = np.searchsorted(sorted_links, targets.link, side="left")
    hi = np.searchsorted(sorted_links, targets.link, side="right")
    counts = hi - lo
    if not counts.any():
        return network, source
    target = np.repeat(np.arange(len(targets)), counts)
    first = np.repeat(lo - np.cumsum(counts) + counts, counts)
    src = order[first + np.arange(target.size)]
    delta = targets.fraction[target] - sources.fraction[src]
    link = targets.link[target]
    cost = np.where(delta >= 0, _part(delta, forward[link]), _part(-delta, backward[link]))
    cost = cost + start[src]
    network, source = network.copy(), source.copy()
    better = cost < network[target]
    for t, s, c in zip(target[better], src[better], cost[better], strict=True):
        if c < network[t]:
            network[t], source[t] = c, s
    return network, source


def reach_matrix(
    graph: RoadGraph,
    sources: Snapped,
    targets: Snapped,
    *,
    weight: Weight,
    cutoff: float,
    source_access: bool = True,
    access_speed_kmh: float | None = None,
    max_cells: int = 4_000_000,
) -> Any:
    """Which targets each source reaches within ``cutoff``: a sparse boolean matrix.

    Unlike :func:`distances_to_points`, which keeps only the nearest source,
    this keeps every (target, source) pair in reach, as siting models need.
    Sources are routed in batches (at most ``max_cells`` node costs in memory at
    once), each batch one Dijkstra run with one virtual node per source.

    Returns
    -------
    scipy.sparse.csr_array of bool, shape ``(len(targets), len(sources))``.
    """
    forward, backward = graph.costs(weight)
    start = (
        access_cost(sources, weight, access_speed_kmh) if source_access else np.zeros(len(sources))
    )
    target_access = access_cost(targets, weight, access_speed_kmh)
    batch = max(1, max_cells // max(graph.n_nodes, 1))
    rows: list[IntArray] = []
    cols: list[IntArray] = []
    usable = np.flatnonzero(~sources.too_far)
    for first in range(0, usable.size, batch):
        members = usable[first : first + batch]
        cost = _batch_costs(graph, sources, members, start, weight, cutoff, forward, backward)
        via_u = cost[:, targets.u] + _part(targets.fraction, forward[targets.link])[None, :]
        via_v = cost[:, targets.v] + _part(1.0 - targets.fraction, backward[targets.link])[None, :]
        total = np.minimum(via_u, via_v)
        total = _direct(sources, targets, members, start, forward, backward, total)
        total = total + target_access[None, :]
        hit_source, hit_target = np.nonzero((total <= cutoff) & ~targets.too_far[None, :])
        rows.append(hit_target)
        cols.append(members[hit_source])
    r = np.concatenate(rows) if rows else np.zeros(0, dtype=np.int64)
    c = np.concatenate(cols) if cols else np.zeros(0, dtype=np.int64)
    return sparse.csr_array(
        (np.ones(r.size, dtype=bool), (r, c)), shape=(len(targets), len(sources))
    )


def _batch_costs(
    graph: RoadGraph,
    sources: Snapped,
    members: IntArray,
    start: FloatArray,
    weight: Weight,
    cutoff: float,
    forward: FloatArray,
    backward: FloatArray,
) -> npt.NDArray[np.float64]:
    """Cost from each of ``members`` (rows) to every node (columns)."""
    link, fraction = sources.link[members], sources.fraction[members]
    node_cols = np.stack([sources.u[members], sources.v[members]], axis=1)
    data = np.stack([_part(fraction, backward[link]), _part(1.0 - fraction, forward[link])], axis=1)
    data = data + start[members][:, None]
    matrix = _with_virtual_rows(graph.matrix(weight), node_cols, data)
    virtual = graph.n_nodes + np.arange(members.size)
    dist = dijkstra(matrix, directed=True, indices=virtual, limit=cutoff)
    return np.asarray(dist[:, : graph.n_nodes], dtype=np.float64)


def _direct(
    sources: Snapped,
    targets: Snapped,
    members: IntArray,
    start: FloatArray,
    forward: FloatArray,
    backward: FloatArray,
    total: npt.NDArray[np.float64],
) -> npt.NDArray[np.float64]:
    """Lower ``total`` where a target lies on its source's own link (travel along it)."""
    same = sources.link[members][:, None] == targets.link[None, :]
    if not same.any():
        return total
    rows, cols = np.nonzero(same)
    delta = targets.fraction[cols] - sources.fraction[members[rows]]
    link = targets.link[cols]
    cost = np.where(delta >= 0, _part(delta, forward[link]), _part(-delta, backward[link]))
    cost = cost + start[members[rows]]
    out = total.copy()
    out[rows, cols] = np.minimum(out[rows, cols], cost)
    return out
