"""The frozen result of a siting model, and its table form for CSV export."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["Method", "SitingResult", "Status"]

Method = Literal["exact", "greedy"]
Status = Literal["optimal", "time_limit", "heuristic"]


@dataclass(frozen=True, eq=False)
class SitingResult:
    """Recommended new sites, best first, and what they change.

    Attributes
    ----------
    model
        ``"mclp"`` (maximal covering, budget of ``k`` sites) or ``"lscp"``
        (set covering, fewest sites covering all coverable demand).
    method
        ``"exact"`` (MILP with HiGHS) or ``"greedy"`` (lazy greedy).
    status
        ``"optimal"``: proven optimal (within a relative gap of 1e-9);
        ``"time_limit"``: the best solution found when time ran out, see
        ``gap``; ``"heuristic"``: the greedy's solution, see ``gap``.
    selected
        Candidate indices (positions in the problem's candidates) in order of
        marginal gain: the first site gains most, the second most given the
        first, and so on. For exact solutions the solver's set is put in this
        order afterwards, so a planner can build them in that order. Sites that
        would gain nothing are not listed.
    marginal_gain
        Demand weight each selected site newly covers, in the same order. With
        capacities it is the weight the site serves in the best assignment.
    objective
        MCLP: demand weight newly covered (the sum of ``marginal_gain``).
        LSCP: the number of new sites.
    covered_before, covered_after
        Demand weight covered by existing stations, and with the new sites too.
    total_demand
        Weight of all demand, covered or not.
    uncoverable
        Demand points no existing station or candidate reaches: blind zones no
        choice of these candidates closes.
    gap
        Relative gap ``|objective - bound| / |objective|`` between the solution
        and the best bound known, measured from that bound (the MILP dual
        bound HiGHS proved for exact results): at most 1e-9 when optimal.
    lp_bound
        Best bound on the objective: the MILP dual bound (exact) or the LP
        relaxation's optimum (greedy); None if unknown.
    solve_seconds
        Wall time of the solve, model building included.
    candidate_ids
        Labels of the selected candidates when the problem has them.
    """

    model: Literal["mclp", "lscp"]
    method: Method
    status: Status
    selected: npt.NDArray[np.int64]
    marginal_gain: npt.NDArray[np.float64]
    objective: float
    covered_before: float
    covered_after: float
    total_demand: float
    uncoverable: npt.NDArray[np.int64]
    gap: float | None
    lp_bound: float | None
    solve_seconds: float
    candidate_ids: npt.NDArray[Any] | None = field(default=None)

    def __post_init__(self) -> None:
        for array in (self.selected, self.marginal_gain, self.uncoverable, self.candidate_ids):
            if array is not None:
                array.setflags(write=False)

    @property
    def n_sites(self) -> int:
        """Number of recommended new sites."""
        return len(self.selected)

    @property
    def coverage_before(self) -> float:
        """Share of demand weight covered before (0 when there is no demand)."""
        return self.covered_before / self.total_demand if self.total_demand > 0 else 0.0

    @property
    def coverage_after(self) -> float:
        """Share of demand weight covered with the new sites."""
        return self.covered_after / self.total_demand if self.total_demand > 0 else 0.0

    def to_frame(self) -> pd.DataFrame:
        """One row per new site, in recommended order, ready for ``to_csv()``.

        Columns: ``rank`` (1 = build first), ``candidate`` (position),
        ``candidate_id`` (when known), ``marginal_gain``, ``covered_after``
        (cumulative covered weight once this site is built) and
        ``coverage_rate`` (the same as a share of all demand). The model,
        method, status, gap and bound are in ``frame.attrs``.
        """
        cumulative = self.covered_before + np.cumsum(self.marginal_gain)
        columns: dict[str, Any] = {
            "rank": np.arange(1, self.n_sites + 1),
            "candidate": self.selected,
        }
        if self.candidate_ids is not None:
            columns["candidate_id"] = self.candidate_ids
        columns["marginal_gain"] = self.marginal_gain
        columns["covered_after"] = cumulative
        columns["coverage_rate"] = (
            cumulative / self.total_demand if self.total_demand > 0 else np.zeros(self.n_sites)
        )
        frame = pd.DataFrame(columns)
        frame.attrs.update(
            model=self.model, method=self.method, status=self.status,
            gap=self.gap, lp_bound=self.lp_bound, uncoverable=len(self.uncoverable),
        )  # fmt: skip
        return frame
