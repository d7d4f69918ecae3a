r"""The covering models as sparse MILPs, in the arrays HiGHS reads.

Notation: open demand rows :math:`i` with weight :math:`w_i`, candidate sites
:math:`j`, reach :math:`a_{ij} \in \{0, 1\}`, :math:`N_i = \{j : a_{ij} = 1\}`,
site choice :math:`x_j \in \{0, 1\}`.

Uncapacitated maximal covering (Church & ReVelle 1974), with
:math:`y_i \in [0, 1]` the covered share of row :math:`i`::

    max  sum_i w_i y_i
    s.t. y_i - sum_{j in N_i} x_j <= 0      (one row per demand row)
         sum_j x_j <= k

:math:`y` may stay continuous: with integral :math:`x` the optimum sets
:math:`y_i = 1` exactly when some site in reach is chosen.

Uncapacitated set covering (Toregas et al. 1971)::

    min  sum_j x_j
    s.t. sum_{j in N_i} x_j >= 1            (one row per demand row)

Capacitated variants add a continuous assignment :math:`z_{ij} \ge 0`, the
share of row :math:`i` that site :math:`j` serves, *only for pairs in reach*,
so the model has ``nnz(coverage)`` assignment columns, never ``n * m``.
Demand may be split between sites, as in spopt's CLSCP-SO::

    sum_{j in N_i} z_ij <= 1   (MCLP)   or   = 1   (LSCP)
    sum_{i: j in N_i} w_i z_ij - C_j x_j <= 0       (one row per site)

with objective ``max sum w_i z_ij`` (MCLP, plus the budget row) or
``min sum x_j`` (LSCP). :math:`C_j` is already clipped to the weight in reach
of site :math:`j`, which tightens the LP relaxation for free.

Every matrix is assembled from index arrays with ``scipy.sparse`` and handed to
HiGHS in compressed-column form (:mod:`gridmap.siting._highs`): no Python loop
over pairs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import sparse

from gridmap.siting._reduce import Reduced

__all__ = ["MAXIMIZE", "MINIMIZE", "MilpModel", "build_lscp", "build_mclp"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: HiGHS's objective senses.
MINIMIZE, MAXIMIZE = 1, -1


@dataclass(frozen=True, eq=False)
class MilpModel:
    """Column/row bounds, costs and the CSC constraint matrix of one model."""

    cost: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray
    matrix: sparse.csc_array
    sense: int
    n_sites: int
    assignment: tuple[IntArray, FloatArray] | None = None

    @property
    def n_cols(self) -> int:
        """Number of variables."""
        return int(self.matrix.shape[1])


def _pairs(coverage: sparse.csr_array) -> tuple[IntArray, IntArray]:
    rows = np.repeat(np.arange(coverage.shape[0]), np.diff(coverage.indptr))
    return rows.astype(np.int64), np.asarray(coverage.indices, dtype=np.int64)


def _budget_row(n_sites: int, n_cols: int) -> sparse.csr_array:
    return sparse.csr_array(
        (np.ones(n_sites), (np.zeros(n_sites, dtype=np.int64), np.arange(n_sites))),
        shape=(1, n_cols),
    )


def _capacitated(reduced: Reduced, equality: bool) -> MilpModel:
    """Sites, then one assignment column per pair in reach (see module docstring)."""
    assert reduced.capacities is not None
    n, m = reduced.n_rows, reduced.n_sites
    rows, sites = _pairs(reduced.coverage)
    pairs = np.arange(len(rows))
    pair_weight = reduced.weights[rows]
    demand = sparse.csr_array((np.ones(len(rows)), (rows, m + pairs)), shape=(n, m + len(rows)))
    load = sparse.csr_array(
        (
            np.concatenate([pair_weight, -reduced.capacities]),
            (np.concatenate([sites, np.arange(m)]), np.concatenate([m + pairs, np.arange(m)])),
        ),
        shape=(m, m + len(rows)),
    )
    cost = (
        np.concatenate([np.ones(m), np.zeros(len(rows))])
        if equality
        else np.concatenate([np.zeros(m), pair_weight])
    )
    return MilpModel(
        cost=cost,
        col_upper=np.ones(m + len(rows)),
        row_lower=np.concatenate([np.full(n, 1.0 if equality else -np.inf), np.full(m, -np.inf)]),
        row_upper=np.concatenate([np.ones(n), np.zeros(m)]),
        matrix=sparse.csc_array(sparse.vstack([demand, load])),
        sense=MINIMIZE if equality else MAXIMIZE,
        n_sites=m,
        assignment=(sites, pair_weight),
    )


def build_mclp(reduced: Reduced, k: int) -> MilpModel:
    """Maximal covering with at most ``k`` new sites (see module docstring)."""
    n, m = reduced.n_rows, reduced.n_sites
    if reduced.capacities is not None:
        model = _capacitated(reduced, equality=False)
        budget = _budget_row(m, model.n_cols)
        return MilpModel(
            cost=model.cost,
            col_upper=model.col_upper,
            row_lower=np.append(model.row_lower, -np.inf),
            row_upper=np.append(model.row_upper, float(k)),
            matrix=sparse.csc_array(sparse.vstack([model.matrix, budget])),
            sense=MAXIMIZE,
            n_sites=m,
            assignment=model.assignment,
        )
    cover = sparse.hstack([-reduced.coverage, sparse.eye_array(n)])
    matrix = sparse.csc_array(sparse.vstack([cover, _budget_row(m, m + n)]))
    return MilpModel(
        cost=np.concatenate([np.zeros(m), reduced.weights]),
        col_upper=np.ones(m + n),
        row_lower=np.full(n + 1, -np.inf),
        row_upper=np.append(np.zeros(n), float(k)),
        matrix=matrix,
        sense=MAXIMIZE,
        n_sites=m,
    )


def build_lscp(reduced: Reduced) -> MilpModel:
    """Set covering of all open demand (see module docstring)."""
    if reduced.capacities is not None:
        return _capacitated(reduced, equality=True)
    n, m = reduced.n_rows, reduced.n_sites
    return MilpModel(
        cost=np.ones(m),
        col_upper=np.ones(m),
        row_lower=np.ones(n),
        row_upper=np.full(n, np.inf),
        matrix=sparse.csc_array(reduced.coverage),
        sense=MINIMIZE,
        n_sites=m,
    )
