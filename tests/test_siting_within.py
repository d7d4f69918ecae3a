"""The radius coverage matrix of siting: which candidates reach which units."""

from __future__ import annotations

import numpy as np
from scipy.spatial.distance import cdist

from gridmap.siting.recommend import _within


def test_the_matrix_holds_every_pair_within_reach_and_no_other() -> None:
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 5_000, size=(4_000, 2))
    candidates = rng.uniform(0, 5_000, size=(60, 2))
    # a unit exactly at the reach counts as reached (the KD-tree's r is inclusive)
    demand[0] = candidates[3] + [1_000.0, 0.0]
    matrix = _within(demand, candidates, 1_000.0)
    expected = cdist(demand, candidates) <= 1_000.0
    assert matrix.shape == expected.shape
    assert matrix[[0], :].toarray()[0, 3]
    assert (matrix.toarray() == expected).all()
    assert matrix.has_sorted_indices


def test_no_candidates_or_no_demand_gives_an_empty_matrix() -> None:
    assert _within(np.zeros((5, 2)), np.zeros((0, 2)), 100.0).shape == (5, 0)
    assert _within(np.zeros((0, 2)), np.zeros((3, 2)), 100.0).nnz == 0
