"""Where to put new service stations: covering models for blind zones.

After :mod:`gridmap.coverage` has found the demand no party-mass service
station reaches, organisation departments decide where new stations go. This
package answers two questions:

* **maximal covering** (:func:`solve_mclp`): with budget for ``k`` new
  stations, which sites cover the most population (or households, or
  members)?
* **set covering** (:func:`solve_lscp`): how few new stations cover everyone a
  candidate can reach at all, and who is out of every candidate's reach?

Existing active stations are fixed, site capacities are optional, and both
models run exactly (sparse MILP with HiGHS) or greedily (with an LP bound).
Candidate sites come from :func:`combine_candidates`, :func:`cell_points` and
:func:`exclude`.

Examples
--------
>>> import numpy as np
>>> from gridmap.siting import SitingProblem, solve_mclp
>>> cost = np.array([[100.0, 900.0], [200.0, 300.0], [800.0, 250.0]])
>>> problem = SitingProblem.from_cost_matrix(cost, [10, 20, 30], max_cost=500)
>>> result = solve_mclp(problem, k=1)
>>> result.selected.tolist(), result.objective
([1], 50.0)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridmap._lazy import lazy_names

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ does it
    from gridmap.siting._result import SitingResult
    from gridmap.siting._validate import SitingInfeasibleError, SitingInputError
    from gridmap.siting.candidates import (
        CANDIDATE_SOURCES,
        ExclusionReport,
        cell_points,
        combine_candidates,
        exclude,
    )
    from gridmap.siting.model import SitingProblem
    from gridmap.siting.solve import solve_lscp, solve_mclp

#: Each public name and the module that defines it: names load on first use (PEP 562),
#: so reading a stored recommendation (:mod:`gridmap.siting.stored`, what ``map export``
#: draws) loads no solver.
_HOMES = {
    "CANDIDATE_SOURCES": "candidates",
    "ExclusionReport": "candidates",
    "SitingInfeasibleError": "_validate",
    "SitingInputError": "_validate",
    "SitingProblem": "model",
    "SitingResult": "_result",
    "cell_points": "candidates",
    "combine_candidates": "candidates",
    "exclude": "candidates",
    "solve_lscp": "solve",
    "solve_mclp": "solve",
}

__all__ = [
    "CANDIDATE_SOURCES",
    "ExclusionReport",
    "SitingInfeasibleError",
    "SitingInputError",
    "SitingProblem",
    "SitingResult",
    "cell_points",
    "combine_candidates",
    "exclude",
    "solve_lscp",
    "solve_mclp",
]


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())
