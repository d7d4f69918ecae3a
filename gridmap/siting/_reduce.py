"""Shrink a siting problem to the part a solver has to look at.

Three reductions, none of which changes the optimum:

1. Only *open* demand matters: positive weight, not already covered by an
   existing station, and reachable by some candidate. Covered demand adds no
   gain; unreachable demand is reported as ``uncoverable`` instead.
2. Candidates that reach no open demand cannot gain anything and are dropped.
3. Demand points with exactly the same set of candidates in reach are merged
   into one row carrying their summed weight. Clustered settlements produce
   many such twins (every household of a hamlet sees the same sites), so this
   often removes most rows. Equal sets are found without Python loops: each row
   gets two random-projection fingerprints (``coverage @ r``) plus its length,
   and rows with equal fingerprints are grouped with ``np.unique``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from gridmap.siting.model import SitingProblem

__all__ = ["Reduced", "reduce_problem"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_FINGERPRINT_SEED = 20240611


@dataclass(frozen=True, eq=False)
class Reduced:
    """The open part of a problem, rows merged, useless candidates dropped.

    Attributes
    ----------
    coverage
        ``(n_rows, n_sites)`` CSR matrix of 0/1 floats.
    weights
        Summed demand weight of each merged row.
    sites
        Original candidate index of each column.
    capacities
        Effective capacity per column, ``min(capacity, weight in reach)``, or
        None when the problem is uncapacitated.
    """

    coverage: sparse.csr_array
    weights: FloatArray
    sites: IntArray
    capacities: FloatArray | None

    @property
    def n_rows(self) -> int:
        """Number of merged open demand rows."""
        return int(self.coverage.shape[0])

    @property
    def n_sites(self) -> int:
        """Number of candidate columns that can gain something."""
        return int(self.coverage.shape[1])

    @property
    def open_demand(self) -> float:
        """Weight of all open (coverable, not yet covered) demand."""
        return float(self.weights.sum())


def _merge_identical_rows(
    coverage: sparse.csr_array, weights: FloatArray
) -> tuple[sparse.csr_array, FloatArray]:
    rng = np.random.default_rng(_FINGERPRINT_SEED)
    probes = rng.random((coverage.shape[1], 2))
    keys = np.column_stack([coverage @ probes, np.diff(coverage.indptr)])
    _, first, inverse = np.unique(keys, axis=0, return_index=True, return_inverse=True)
    merged_weights = np.bincount(inverse.ravel(), weights=weights, minlength=len(first))
    return sparse.csr_array(coverage[first]), merged_weights.astype(np.float64)


def reduce_problem(problem: SitingProblem) -> Reduced:
    """Return the open, merged part of ``problem`` (see the module docstring)."""
    open_rows = np.flatnonzero(problem.reachable & ~problem.already_covered & (problem.weights > 0))
    rows = sparse.csr_array(problem.coverage[open_rows], dtype=np.float64)
    weights = np.asarray(problem.weights[open_rows], dtype=np.float64)
    sites = np.flatnonzero(np.diff(rows.tocsc().indptr) > 0).astype(np.int64)
    rows = sparse.csr_array(rows[:, sites])
    rows.sort_indices()
    if rows.shape[0] > 1:
        rows, weights = _merge_identical_rows(rows, weights)
    capacities = None
    if problem.capacities is not None:
        reach_weight = rows.T @ weights
        capacities = np.minimum(problem.capacities[sites], reach_weight).astype(np.float64)
    return Reduced(rows, weights, sites, capacities)
