"""Solve the covering models: maximal covering and set covering.

Both solvers run the same pipeline:

1. reduce the problem to its open demand (``_reduce``): demand already covered
   by existing stations, with zero weight, or out of every candidate's reach
   drops out; twins are merged;
2. run the lazy greedy (``_greedy``). With ``method="greedy"`` this is the
   answer, and the LP relaxation, solved with HiGHS, bounds how far from the
   optimum it can be (``lp_bound``, ``gap``). With ``method="exact"`` the
   greedy's sites are the MILP's first incumbent, so a time limit still
   returns at least the greedy's quality;
3. order the chosen sites by marginal gain, so the result reads as a build
   order, and report coverage before and after.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from gridmap.siting import _highs, _milp
from gridmap.siting._greedy import lazy_greedy
from gridmap.siting._reduce import Reduced, reduce_problem
from gridmap.siting._result import Method, SitingResult, Status
from gridmap.siting._validate import SitingInfeasibleError, raise_if_any
from gridmap.siting.model import SitingProblem

__all__ = ["solve_lscp", "solve_mclp"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_METHODS = ("exact", "greedy")


@dataclass(frozen=True)
class _Choice:
    """Sites in the reduced model, ordered, with gains, status and bound.

    ``bound`` is what the solver proved (the MIP dual bound, or the LP
    relaxation's optimum); the result's gap is measured from it.
    """

    sites: IntArray
    gains: FloatArray
    status: Status
    bound: float | None


def _check_options(method: str, time_limit_s: float | None, k: int | None = None) -> None:
    problems = []
    if method not in _METHODS:
        problems.append(f"method must be one of {_METHODS}, got {method!r}")
    if time_limit_s is not None and not time_limit_s > 0:
        problems.append(f"time_limit_s must be a positive number of seconds, got {time_limit_s}")
    if k is not None and (isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 0):
        problems.append(f"k (number of new sites) must be an integer >= 0, got {k!r}")
    raise_if_any(problems, "solver options")


def _tolerance(reduced: Reduced) -> float:
    return 1e-9 * max(1.0, reduced.open_demand)


def _ordered(
    reduced: Reduced, sites: IntArray, served: FloatArray | None
) -> tuple[IntArray, FloatArray]:
    """Order ``sites`` by marginal gain and drop the ones that gain nothing.

    Without capacities this is the greedy restricted to ``sites``. With them,
    gains are the weight each site serves in the optimal assignment ``served``.
    """
    if served is None:
        pick = lazy_greedy(reduced.coverage, reduced.weights, allowed=sites)
        return pick.order, pick.gains
    keep = sites[served[sites] > _tolerance(reduced)]
    order = keep[np.argsort(-served[keep], kind="stable")]
    return order, served[order]


def _gap(objective: float, bound: float | None) -> float | None:
    if bound is None:
        return None
    return abs(bound - objective) / max(abs(objective), 1e-12) if bound != objective else 0.0


def _exact(
    reduced: Reduced, model: _milp.MilpModel, start: IntArray, time_limit_s: float | None
) -> _Choice | None:
    outcome = _highs.solve_model(model, integer=True, time_limit_s=time_limit_s, start=start)
    if outcome is None:
        return None
    sites, gains = _ordered(reduced, outcome.sites, outcome.served)
    if outcome.status == "optimal":
        return _Choice(sites, gains, "optimal", outcome.bound)
    bound: float | None = outcome.bound
    if not np.isfinite(outcome.bound):
        # Stopped before the root LP: the LP relaxation (fast) still bounds the optimum.
        relaxed = _highs.solve_model(model, integer=False)
        bound = None if relaxed is None else relaxed.objective
    return _Choice(sites, gains, "time_limit", bound)


def _greedy(
    reduced: Reduced, model: _milp.MilpModel, picked: IntArray, time_limit_s: float | None
) -> _Choice:
    served = None if reduced.capacities is None else _highs.served_by(reduced, picked)
    sites, gains = _ordered(reduced, picked, served)
    relaxed = _highs.solve_model(model, integer=False, time_limit_s=time_limit_s)
    bound = None if relaxed is None or relaxed.status != "optimal" else relaxed.objective
    return _Choice(sites, gains, "heuristic", bound)


def _result(
    problem: SitingProblem,
    reduced: Reduced,
    choice: _Choice,
    *,
    model: Literal["mclp", "lscp"],
    method: Method,
    started: float,
) -> SitingResult:
    gained = float(choice.gains.sum())
    objective = gained if model == "mclp" else float(len(choice.sites))
    selected = reduced.sites[choice.sites]
    ids = None if problem.candidate_ids is None else problem.candidate_ids[selected].copy()
    gap = _gap(objective, choice.bound)
    result = SitingResult(
        model=model,
        method=method,
        status=choice.status,
        selected=selected,
        marginal_gain=choice.gains.copy(),
        objective=objective,
        covered_before=problem.covered_before,
        covered_after=problem.covered_before + gained,
        total_demand=problem.total_demand,
        uncoverable=problem.uncoverable,
        gap=gap,
        lp_bound=choice.bound,
        solve_seconds=time.perf_counter() - started,
        candidate_ids=ids,
    )
    logger.info(
        "%s/%s: %d sites, objective %.6g, coverage %.1f%% -> %.1f%%, status %s, %.3f s",
        model, method, result.n_sites, objective, 100 * result.coverage_before,
        100 * result.coverage_after, result.status, result.solve_seconds,
    )  # fmt: skip
    return result


def _nothing_to_do() -> _Choice:
    empty = np.zeros(0, dtype=np.int64)
    return _Choice(empty, np.zeros(0), "optimal", 0.0)


def solve_mclp(
    problem: SitingProblem,
    k: int,
    *,
    method: Method = "exact",
    time_limit_s: float | None = None,
) -> SitingResult:
    """Choose up to ``k`` new sites that cover the most open demand weight.

    Maximal covering (Church & ReVelle 1974). Existing stations are fixed: the
    demand they cover counts in ``covered_before`` and ``covered_after`` but not
    in the objective, which is the weight the new sites add. With capacities,
    each site serves at most its capacity and demand may be split between
    sites; the objective is then the weight served.

    Parameters
    ----------
    problem
        Demand, reach and existing coverage (see :class:`SitingProblem`).
    k
        Budget: the number of new sites. Fewer are returned when fewer sites
        still gain something.
    method
        ``"exact"``: sparse MILP solved by HiGHS, started from the greedy.
        ``"greedy"``: lazy greedy, with the LP relaxation as a bound.
    time_limit_s
        Wall-clock limit for HiGHS; on expiry the best solution so far is
        returned with ``status="time_limit"`` and its ``gap``.

    Returns
    -------
    SitingResult
        Sites in build order, gains, coverage before/after, gap and bound.
    """
    _check_options(method, time_limit_s, k)
    started = time.perf_counter()
    reduced = reduce_problem(problem)
    if k == 0 or reduced.n_sites == 0:
        return _result(problem, reduced, _nothing_to_do(), model="mclp",
                       method=method, started=started)  # fmt: skip
    picked = lazy_greedy(
        reduced.coverage, reduced.weights, capacities=reduced.capacities, max_sites=int(k)
    ).order
    model = _milp.build_mclp(reduced, int(k))
    choice = _exact(reduced, model, picked, time_limit_s) if method == "exact" else None
    if choice is None:
        choice = _greedy(reduced, model, picked, time_limit_s)
        if method == "exact":
            choice = _Choice(choice.sites, choice.gains, "time_limit", choice.bound)
    return _result(problem, reduced, choice, model="mclp", method=method, started=started)


def _greedy_cover(reduced: Reduced) -> IntArray:
    """Greedy sites covering all open demand (capacitated: re-routed by LP)."""
    pick = lazy_greedy(reduced.coverage, reduced.weights, capacities=reduced.capacities)
    if reduced.capacities is None:
        return pick.order
    served = _highs.served_by(reduced, pick.order)
    if served.sum() < reduced.open_demand - _tolerance(reduced):
        return np.zeros(0, dtype=np.int64)
    return pick.order


def solve_lscp(
    problem: SitingProblem,
    *,
    method: Method = "exact",
    time_limit_s: float | None = None,
) -> SitingResult:
    """Choose the fewest new sites that cover all coverable open demand.

    Set covering (Toregas et al. 1971). Demand already covered by existing
    stations needs nothing; demand no candidate reaches is reported in
    ``uncoverable`` and left out, so the model is never infeasible for lack of
    reach. With capacities every open demand point must be fully served
    (demand may be split between sites); if the capacities cannot do that,
    :class:`SitingInfeasibleError` says so.

    Parameters
    ----------
    problem
        Demand, reach and existing coverage (see :class:`SitingProblem`).
    method
        ``"exact"`` (HiGHS MILP, started from the greedy) or ``"greedy"``.
    time_limit_s
        Wall-clock limit for HiGHS (see :func:`solve_mclp`).

    Raises
    ------
    SitingInfeasibleError
        Capacitated only: the sites cannot serve all open demand.
    """
    _check_options(method, time_limit_s)
    started = time.perf_counter()
    reduced = reduce_problem(problem)
    if reduced.n_rows == 0:
        return _result(problem, reduced, _nothing_to_do(), model="lscp",
                       method=method, started=started)  # fmt: skip
    model = _milp.build_lscp(reduced)
    cover = _greedy_cover(reduced)
    if method == "greedy":
        choice = _greedy(reduced, model, cover, time_limit_s)
        if len(cover) == 0:
            msg = (
                "the greedy found no set of sites whose capacities serve all open demand; "
                "method='exact' decides whether one exists"
            )
            raise SitingInfeasibleError(msg)
    else:
        exact = _exact(reduced, model, cover, time_limit_s)
        if exact is None:
            msg = "HiGHS found no feasible cover within the time limit: raise time_limit_s"
            raise SitingInfeasibleError(msg)
        choice = exact
    return _result(problem, reduced, choice, model="lscp", method=method, started=started)
