"""The bucket-queue multi-source Dijkstra against independent computations.

Every case is checked against one scipy Dijkstra per seed (a dense cost
matrix, then the minimum per node), so ties, labels, limits and seed costs
are all checked, not only the distances.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from gridmap.network._dijkstra import bucket_width, nearest_seed


def _random_graph(
    rng: np.random.Generator, n: int, m: int, *, integer: bool, zero_share: float = 0.0
) -> sparse.csr_array:
    rows = rng.integers(0, n, m)
    cols = rng.integers(0, n, m)
    keep = rows != cols
    rows, cols = rows[keep], cols[keep]
    cost = (
        rng.integers(1, 6, rows.size).astype(float) if integer else rng.uniform(0.5, 90, rows.size)
    )
    cost[rng.random(rows.size) < zero_share] = 0.0
    # Duplicate pairs would be summed by tocsr(); keep the cheapest instead.
    order = np.lexsort((cost, cols, rows))
    rows, cols, cost = rows[order], cols[order], cost[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    graph = sparse.csr_array((cost[first], (rows[first], cols[first])), shape=(n, n))
    graph.sort_indices()
    return graph


def _brute_force(
    graph: sparse.csr_array,
    nodes: np.ndarray,
    costs: np.ndarray,
    labels: np.ndarray,
    limit: float = np.inf,
) -> tuple[np.ndarray, np.ndarray]:
    """Lowest cost per node over all seeds, lowest label among the tied seeds.

    Each seed is a virtual node with one edge of its cost, so that costs are
    summed in the same order (seed cost first) as by a search started there.
    """
    n, k = graph.shape[0], len(nodes)
    coo = graph.tocoo()
    rows = np.concatenate([coo.row, n + np.arange(k)])
    cols = np.concatenate([coo.col, nodes])
    augmented = sparse.csr_array(
        (np.concatenate([coo.data, costs]), (rows, cols)), shape=(n + k, n + k)
    )
    per_seed = dijkstra(augmented, directed=True, indices=n + np.arange(k))[:, :n]
    per_seed[per_seed > limit] = np.inf
    dist = per_seed.min(axis=0)
    label = np.full(n, -1, dtype=np.int64)
    for v in np.flatnonzero(np.isfinite(dist)):
        label[v] = labels[per_seed[:, v] == dist[v]].min()
    return dist, label


@pytest.mark.parametrize("seed", range(6))
def test_random_graphs_equal_per_seed_dijkstra(seed: int) -> None:
    rng = np.random.default_rng(seed)
    graph = _random_graph(rng, 400, 1500, integer=False)
    nodes = rng.choice(400, 12, replace=False)
    costs = np.zeros(12)
    labels = np.arange(12)
    got = nearest_seed(graph, nodes, costs, labels)
    want = _brute_force(graph, nodes, costs, labels)
    np.testing.assert_array_equal(got[0], want[0])  # bit for bit
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("seed", range(6))
def test_ties_go_to_the_lowest_label_with_zero_cost_edges(seed: int) -> None:
    """Small integer costs make many exact ties; zero-cost edges need re-expansion."""
    rng = np.random.default_rng(100 + seed)
    graph = _random_graph(rng, 300, 1200, integer=True, zero_share=0.15)
    nodes = rng.integers(0, 300, 20)  # repeated nodes too
    costs = rng.integers(0, 4, 20).astype(float)
    labels = rng.permutation(20)
    got = nearest_seed(graph, nodes, costs, labels)
    want = _brute_force(graph, nodes, costs, labels)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


@pytest.mark.parametrize("delta", [0.01, 7.0, 1e6])
def test_any_bucket_width_gives_the_same_answer(delta: float) -> None:
    """Widths above the cheapest edge re-expand nodes (label correcting) but stay exact."""
    rng = np.random.default_rng(11)
    graph = _random_graph(rng, 500, 2500, integer=False)
    nodes = rng.choice(500, 9, replace=False)
    costs = rng.uniform(0, 20, 9)
    labels = np.arange(9)
    got = nearest_seed(graph, nodes, costs, labels, delta=delta)
    want = _brute_force(graph, nodes, costs, labels)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_queue_out_of_room_is_retried_larger(caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(2)
    graph = _random_graph(rng, 400, 2000, integer=False)
    nodes = rng.choice(400, 5, replace=False)
    want = _brute_force(graph, nodes, np.zeros(5), np.arange(5))
    with caplog.at_level(logging.DEBUG, logger="gridmap.network._dijkstra"):
        got = nearest_seed(graph, nodes, np.zeros(5), np.arange(5), capacity=3)
    assert "retrying" in caplog.text
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])


def test_limit_and_seed_costs() -> None:
    rng = np.random.default_rng(5)
    graph = _random_graph(rng, 300, 1000, integer=False)
    nodes = np.array([3, 40, 41, 250])
    costs = np.array([0.0, 10.0, 150.0, 5.0])
    labels = np.array([7, 2, 9, 4])
    got = nearest_seed(graph, nodes, costs, labels, limit=120.0)
    want = _brute_force(graph, nodes, costs, labels, limit=120.0)
    np.testing.assert_array_equal(got[0], want[0])
    np.testing.assert_array_equal(got[1], want[1])
    assert np.isinf(got[0]).any() and (got[1][np.isinf(got[0])] == -1).all()
    # A seed that starts beyond the limit reaches nothing, not even its own node.
    alone = nearest_seed(graph, [41], [150.0], [9], limit=120.0)
    assert np.isinf(alone[0]).all() and (alone[1] == -1).all()


def test_no_seeds_reach_nothing() -> None:
    graph = sparse.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    dist, label = nearest_seed(graph, [], [], [])
    assert np.isinf(dist).all() and (label == -1).all()


def test_bad_input_is_rejected_with_the_reason() -> None:
    graph = sparse.csr_array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="seed nodes must be in"):
        nearest_seed(graph, [2], [0.0], [0])
    with pytest.raises(ValueError, match="non-negative"):
        nearest_seed(graph, [0], [-1.0], [0])
    with pytest.raises(ValueError, match="one length"):
        nearest_seed(graph, [0, 1], [0.0], [0])
    negative = sparse.csr_array(np.array([[0.0, -1.0], [1.0, 0.0]]))
    with pytest.raises(ValueError, match="edge costs"):
        nearest_seed(negative, [0], [0.0], [0])


def test_bucket_width_is_the_cheapest_edge_within_bounds() -> None:
    assert bucket_width(np.array([0.0, 2.5, 9.0])) == 2.5
    assert bucket_width(np.array([1e-9, 65536.0])) == 1.0
    assert bucket_width(np.array([0.0, 0.0])) == 1.0
    assert bucket_width(np.array([])) == 1.0
