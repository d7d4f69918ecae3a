"""Solve a covering MILP (or its LP relaxation) with HiGHS and read the answer back.

What a caller gets is checked, not taken on trust: the column values must be
the incumbent whose objective HiGHS reports. highspy 1.16.0 breaks that after
a MIP solve started from a user solution with presolve on: it reports the
optimum and its dual bound (59 sites) but returns the column values of the
start (the greedy's 62 sites), also in ``getSavedMipSolutions``. 1.8 to
1.15.1 return the incumbent. When the values and the reported objective
disagree, the model is solved again without presolve, which reads back
correctly; if that disagrees too, :class:`gridmap.errors.GridmapError` says so
rather than returning sites HiGHS did not choose.

The bound is HiGHS's MIP dual bound (``mip_dual_bound``); the gap a result
reports is measured from it (``gridmap.siting.solve``), never assumed.
"""

from __future__ import annotations

import importlib.metadata
import logging
import time
from dataclasses import dataclass, replace

import highspy
import numpy as np
import numpy.typing as npt

from gridmap.errors import GridmapError
from gridmap.siting._milp import MilpModel, build_mclp
from gridmap.siting._reduce import Reduced
from gridmap.siting._validate import SitingInfeasibleError

__all__ = ["HighsOutcome", "served_by", "solve_model"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_COLWISE = 1
#: Relative MIP gap at which HiGHS stops and calls the incumbent optimal.
_REL_GAP = 1e-9
#: How far the objective of the returned values may stray from HiGHS's own.
_READ_BACK_TOLERANCE = 1e-6

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
class HighsOutcome:
    """What HiGHS returned: status, objective, dual bound and the site values.

    ``bound`` is the MIP dual bound (the LP optimum for a relaxation): no
    solution is better than it.
    """

    status: str
    objective: float
    bound: float
    sites: IntArray
    served: FloatArray | None


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


@dataclass(frozen=True, eq=False)
class _Run:
    """One HiGHS run: its status, info and column values (None if it has none)."""

    status: str
    objective: float
    bound: float
    values: FloatArray | None

    def reads_back(self, model: MilpModel) -> bool:
        """True if the values achieve the objective HiGHS reports for them."""
        if self.values is None:
            return True
        achieved = float(model.cost @ self.values)
        scale = max(1.0, abs(self.objective))
        return abs(achieved - self.objective) <= _READ_BACK_TOLERANCE * scale


def _run(
    model: MilpModel,
    *,
    integer: bool,
    time_limit_s: float | None,
    start: IntArray | None,
    presolve: bool = True,
) -> _Run:
    highs = _highs(model, integer, time_limit_s)
    if not presolve:
        highs.setOptionValue("presolve", "off")
    if start is not None and integer and len(start) > 0:
        highs.setSolution(len(start), start.astype(np.int32), np.ones(len(start)))
    highs.run()
    status = _status(highs)
    info = highs.getInfo()
    objective = float(info.objective_function_value)
    bound = float(info.mip_dual_bound) if integer else objective
    solution = highs.getSolution()
    values = np.asarray(solution.col_value, dtype=np.float64) if solution.value_valid else None
    return _Run(status, objective, bound, values)


def _read_back_fault(model: MilpModel, run: _Run, version: str) -> str:
    assert run.values is not None
    return (
        f"highspy {version} returned column values whose objective is "
        f"{float(model.cost @ run.values):.9g}, but reports {run.objective:.9g} for its "
        f"solution (dual bound {run.bound:.9g})"
    )


def _solve_checked(
    model: MilpModel, integer: bool, time_limit_s: float | None, start: IntArray | None
) -> _Run:
    """Run HiGHS; if its values are not its incumbent, once more without presolve."""
    started = time.perf_counter()
    run = _run(model, integer=integer, time_limit_s=time_limit_s, start=start)
    if run.reads_back(model):
        return run
    version = importlib.metadata.version("highspy")
    logger.warning(
        "%s; solving again without presolve (highspy 1.8-1.15.1 do not have this fault)",
        _read_back_fault(model, run, version),
    )
    remaining = (
        None if time_limit_s is None else max(time_limit_s - (time.perf_counter() - started), 1.0)
    )
    again = _run(model, integer=integer, time_limit_s=remaining, start=start, presolve=False)
    if not again.reads_back(model):
        msg = f"{_read_back_fault(model, again, version)}: install highspy 1.15.1"
        raise GridmapError(msg)
    return again


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
    run = _solve_checked(model, integer, time_limit_s, start)
    if run.values is None:
        logger.warning("HiGHS reached its time limit before finding a solution")
        return None
    served = None
    if model.assignment is not None:
        sites, pair_weight = model.assignment
        shares = run.values[model.n_sites :] * pair_weight
        served = np.bincount(sites, weights=shares, minlength=model.n_sites).astype(np.float64)
    return HighsOutcome(
        status=run.status,
        objective=run.objective,
        bound=run.bound,
        sites=np.flatnonzero(run.values[: model.n_sites] > 0.5).astype(np.int64),
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
