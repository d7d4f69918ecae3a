r"""The covering models as sparse MILPs, solved with HiGHS.

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

Every matrix is assembled from index arrays with ``scipy.sparse`` and passed to
``Highs.passModel`` in compressed-column form: no Python loop over pairs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import highspy
import numpy as np
import numpy.typing as npt
from scipy import sparse

from gridmap.errors import GridmapError
from gridmap.siting._reduce import Reduced
from gridmap.siting._validate import SitingInfeasibleError

__all__ = [
    "HighsOutcome",
    "MilpModel",
    "build_lscp",
    "build_mclp",
    "served_by",
    "solve_model",
]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_COLWISE = 1
_MINIMIZE, _MAXIMIZE = 1, -1
_REL_GAP = 1e-9

#: The greedy's solution is always HiGHS's first incumbent, so the large-
#: neighbourhood heuristics (RINS, RENS, root reduced cost) rarely find better
#: and cost most of the root time; covering LPs are nearly integral, so plain
#: pseudocost branching beats reliability (strong) branching. On the benchmark
#: family (5,000 x 500, p = 50, four seeds) this cut HiGHS CPU time by 1.1-3.5x.
_MIP_OPTIONS: dict[str, bool | int] = {
    "mip_heuristic_run_rins": False,
    "mip_heuristic_run_rens": False,
    "mip_heuristic_run_root_reduced_cost": False,
    "mip_pscost_minreliable": 0,
}


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


@dataclass(frozen=True, eq=False)
class HighsOutcome:
    """What HiGHS returned: status, objective, bound and the site values."""

    status: str
    objective: float
    bound: float
    gap: float
    sites: IntArray
    served: FloatArray | None


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
        sense=_MINIMIZE if equality else _MAXIMIZE,
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
            sense=_MAXIMIZE,
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
        sense=_MAXIMIZE,
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
        sense=_MINIMIZE,
        n_sites=m,
    )


def _highs(model: MilpModel, integer: bool, time_limit_s: float | None) -> highspy.Highs:
    highs = highspy.Highs()  # type: ignore[no-untyped-call]
    highs.setOptionValue("output_flag", False)
    highs.setOptionValue("mip_rel_gap", _REL_GAP)
    if time_limit_s is not None:
        highs.setOptionValue("time_limit", float(time_limit_s))
    for option, value in _MIP_OPTIONS.items():
        highs.setOptionValue(option, value)
    integrality = np.zeros(model.n_cols, dtype=np.int32)
    if integer:
        integrality[: model.n_sites] = 1
    matrix = model.matrix
    matrix.sort_indices()
    highs.passModel(
        model.n_cols, matrix.shape[0], matrix.nnz, _COLWISE, model.sense, 0.0,
        model.cost, np.zeros(model.n_cols), model.col_upper,
        model.row_lower, model.row_upper,
        matrix.indptr[:-1].astype(np.int32), matrix.indices.astype(np.int32),
        matrix.data.astype(np.float64), integrality,
    )  # fmt: skip
    return highs


def _status(highs: highspy.Highs) -> str:
    status = highs.getModelStatus()
    if status == highspy.HighsModelStatus.kOptimal:
        return "optimal"
    if status == highspy.HighsModelStatus.kTimeLimit:
        return "time_limit"
    if status == highspy.HighsModelStatus.kInfeasible:
        msg = (
            "no choice of candidate sites can serve all open demand within the site "
            "capacities: raise capacities, add candidates, or use solve_mclp with a budget"
        )
        raise SitingInfeasibleError(msg)
    msg = f"HiGHS stopped with status {highs.modelStatusToString(status)}"
    raise GridmapError(msg)


def solve_model(
    model: MilpModel,
    *,
    integer: bool,
    time_limit_s: float | None = None,
    start: IntArray | None = None,
) -> HighsOutcome | None:
    """Solve ``model`` (or its LP relaxation); None if stopped with no solution.

    Parameters
    ----------
    integer
        True for the MILP, False for the LP relaxation (its optimum is a bound).
    start
        Sites of a known feasible solution (the greedy's) given to HiGHS as its
        first incumbent; HiGHS completes the other variables.
    """
    highs = _highs(model, integer, time_limit_s)
    if start is not None and integer and len(start) > 0:
        highs.setSolution(len(start), start.astype(np.int32), np.ones(len(start)))
    highs.run()
    status = _status(highs)
    solution = highs.getSolution()
    if not solution.value_valid:
        logger.warning("HiGHS reached its time limit before finding a solution")
        return None
    info = highs.getInfo()
    values = np.asarray(solution.col_value, dtype=np.float64)
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if integer else objective
    gap = float(info.mip_gap) if integer else 0.0
    served = None
    if model.assignment is not None:
        sites, pair_weight = model.assignment
        shares = values[model.n_sites :] * pair_weight
        served = np.bincount(sites, weights=shares, minlength=model.n_sites).astype(np.float64)
    return HighsOutcome(
        status=status,
        objective=objective,
        bound=bound,
        gap=gap,
        sites=np.flatnonzero(values[: model.n_sites] > 0.5).astype(np.int64),
        served=served,
    )


def served_by(reduced: Reduced, chosen: IntArray) -> FloatArray:
    """Demand weight each site serves in the best assignment to the ``chosen`` sites.

    Solves the capacitated maximal covering LP with every other site closed: a
    transportation problem, whose optimum re-routes demand the greedy assigned
    badly. Returns one value per site (zero for closed sites).
    """
    model = build_mclp(reduced, len(chosen))
    upper = model.col_upper.copy()
    upper[: model.n_sites] = 0.0
    upper[chosen] = 1.0
    outcome = solve_model(replace(model, col_upper=upper), integer=False)
    assert outcome is not None and outcome.served is not None  # an LP without a time limit
    return outcome.served
