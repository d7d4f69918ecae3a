"""The siting problem: who needs service, which candidate sites reach whom.

A :class:`SitingProblem` is the data both models share (maximal covering,
:func:`gridmap.siting.solve_mclp`, and set covering,
:func:`gridmap.siting.solve_lscp`):

* ``coverage``: a sparse boolean matrix, demand x candidate, True where the
  candidate site would serve that demand point (within walking distance,
  driving time, ... whatever reach the caller measured);
* ``weights``: the demand each point carries (population, households, party
  members: any non-negative vector);
* ``already_covered``: demand that existing active stations already serve.
  Existing stations are fixed; this demand counts as covered before and after
  and adds nothing to the gain of a new site;
* ``capacities`` (optional): the demand weight each candidate can serve.

There are three doors in, after spopt's ``locate/coverage.py``:
:meth:`SitingProblem.from_cost_matrix` thresholds a distance/time matrix,
:meth:`SitingProblem.from_coverage` takes a reach matrix computed elsewhere
(the road-network reach of :mod:`gridmap.coverage`), and
:meth:`SitingProblem.from_geodataframe` checks the CRS, finds pairs in reach
with a KD-tree and delegates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from gridmap.siting import _geo
from gridmap.siting._validate import (
    SitingInputError,
    check_capacities,
    check_flags,
    check_weights,
    raise_if_any,
)

__all__ = ["SitingProblem"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def _readonly(array: npt.NDArray[Any]) -> npt.NDArray[Any]:
    array.setflags(write=False)
    return array


def _reach(cost: Any, max_cost: float) -> sparse.csr_array:
    """Boolean reach matrix ``cost <= max_cost`` from a dense or sparse cost matrix.

    In a sparse cost matrix a *stored* entry is a reachable pair with that cost
    (an explicit 0 is a site at the demand point) and a missing entry is a pair
    out of reach; NaN or inf in a dense matrix also mean out of reach.
    """
    if sparse.issparse(cost):
        coo = sparse.coo_array(cost)
        keep = coo.data <= max_cost
        data = np.ones(int(keep.sum()), dtype=bool)
        return sparse.csr_array((data, (coo.row[keep], coo.col[keep])), shape=coo.shape)
    dense = np.asarray(cost, dtype=np.float64)
    if dense.ndim != 2:
        msg = f"a cost matrix must be 2-D (demand x site), got shape {dense.shape}"
        raise SitingInputError(msg)
    with np.errstate(invalid="ignore"):
        return sparse.csr_array(dense <= max_cost)


def _as_bool_csr(matrix: Any) -> sparse.csr_array:
    if not sparse.issparse(matrix):
        matrix = np.asarray(matrix)
    csr = sparse.csr_array(matrix)
    csr.sum_duplicates()
    if csr.dtype != np.bool_:
        csr = sparse.csr_array(csr != 0)
    csr.eliminate_zeros()
    return csr


@dataclass(frozen=True, eq=False)
class SitingProblem:
    """Demand, candidate reach and existing coverage for a siting model.

    Prefer the ``from_*`` constructors, which validate and normalise their
    inputs; direct construction expects the normalised forms below.

    Attributes
    ----------
    coverage
        ``(n_demand, n_candidates)`` boolean CSR matrix: True where a new site
        at that candidate would cover that demand point.
    weights
        Demand weight per demand point (population, households, members).
    already_covered
        True where an existing active station already covers the point.
    capacities
        Demand weight each candidate can serve, or None for uncapacitated
        sites. ``inf`` marks an individual site as unlimited.
    candidate_ids
        Optional labels of the candidates (e.g. the ``candidate_id`` column),
        carried into :meth:`SitingResult.to_frame`.
    """

    coverage: sparse.csr_array
    weights: FloatArray
    already_covered: BoolArray
    capacities: FloatArray | None = None
    candidate_ids: npt.NDArray[Any] | None = None

    def __post_init__(self) -> None:
        n_demand, n_candidates = self.coverage.shape
        _, problems = check_weights(self.weights, n_demand)
        problems += check_flags(self.already_covered, n_demand, "already_covered")[1]
        problems += check_capacities(self.capacities, n_candidates)[1]
        if self.candidate_ids is not None and len(self.candidate_ids) != n_candidates:
            problems.append(
                f"candidate_ids has {len(self.candidate_ids)} labels for {n_candidates} candidates"
            )
        raise_if_any(problems, "siting problem")
        for array in (self.weights, self.already_covered, self.capacities, self.candidate_ids):
            if array is not None:
                _readonly(array)

    # ----------------------------------------------------------------- doors
    @classmethod
    def from_coverage(
        cls,
        coverage: Any,
        weights: npt.ArrayLike,
        *,
        already_covered: npt.ArrayLike | None = None,
        capacities: npt.ArrayLike | None = None,
        candidate_ids: npt.ArrayLike | None = None,
    ) -> SitingProblem:
        """Build a problem from a reach matrix computed elsewhere.

        This is the door for road-network reach: the coverage engine computes
        which candidates lie within the walking or driving limit of each demand
        point and passes the sparse result here.

        Parameters
        ----------
        coverage
            ``(n_demand, n_candidates)`` scipy sparse (or dense) matrix; any
            non-zero entry means "this candidate reaches this demand point".
        weights
            Demand weight per row, ``>= 0``.
        already_covered
            Boolean per row: covered by an existing active station.
        capacities
            Demand weight each candidate can serve (``inf`` = unlimited).
        candidate_ids
            Labels for the candidates, reported by ``SitingResult.to_frame``.
        """
        reach = _as_bool_csr(coverage)
        if reach.ndim != 2:
            msg = f"coverage must be a 2-D demand x candidate matrix, got shape {reach.shape}"
            raise SitingInputError(msg)
        n_demand, n_candidates = reach.shape
        values, problems = check_weights(weights, n_demand)
        covered, flag_problems = check_flags(already_covered, n_demand, "already_covered")
        caps, cap_problems = check_capacities(capacities, n_candidates)
        raise_if_any(problems + flag_problems + cap_problems, "siting inputs")
        ids = None if candidate_ids is None else np.asarray(candidate_ids).copy()
        return cls(reach, values.copy(), covered.copy(), caps, ids)

    @classmethod
    def from_cost_matrix(
        cls,
        cost: Any,
        weights: npt.ArrayLike,
        *,
        max_cost: float,
        existing_cost: Any = None,
        capacities: npt.ArrayLike | None = None,
    ) -> SitingProblem:
        """Build a problem from distances or travel times, demand x candidate.

        Parameters
        ----------
        cost
            ``(n_demand, n_candidates)`` numpy array or scipy sparse matrix. A
            pair is in reach when its cost is ``<= max_cost``. In a sparse matrix
            missing entries are out of reach (stored zeros are in reach); in a
            dense one NaN and inf are out of reach.
        weights
            Demand weight per row, ``>= 0``.
        max_cost
            Service reach in the units of ``cost`` (metres, seconds...).
        existing_cost
            ``(n_demand, n_existing)`` costs to existing active stations, same
            conventions; demand within ``max_cost`` of one is already covered.
        capacities
            Demand weight each candidate can serve (``inf`` = unlimited).
        """
        if not np.isfinite(max_cost) or max_cost < 0:
            msg = f"max_cost must be a finite number >= 0, got {max_cost!r}"
            raise SitingInputError(msg)
        reach = _reach(cost, max_cost)
        covered = None
        if existing_cost is not None:
            existing = _reach(existing_cost, max_cost)
            if existing.shape[0] != reach.shape[0]:
                msg = (
                    f"existing_cost has {existing.shape[0]} rows but cost has "
                    f"{reach.shape[0]}: both need one row per demand point"
                )
                raise SitingInputError(msg)
            covered = np.diff(existing.indptr) > 0
        return cls.from_coverage(reach, weights, already_covered=covered, capacities=capacities)

    @classmethod
    def from_geodataframe(
        cls,
        demand_gdf: Any,
        candidate_gdf: Any,
        *,
        weight_col: str,
        max_distance_m: float,
        existing_gdf: Any = None,
        capacity_col: str | None = None,
    ) -> SitingProblem:
        """Build a problem from point layers, with straight-line reach.

        All layers must share one projected CRS in metres (reproject with
        ``to_crs()``, e.g. to :func:`gridmap.crs.metric_crs_for`). Pairs within
        ``max_distance_m`` are found with a KD-tree radius query, so no dense
        distance matrix is built. For reach along the road network, compute the
        reach matrix with the coverage engine and use :meth:`from_coverage`.

        Parameters
        ----------
        demand_gdf
            Demand points (use :func:`gridmap.siting.cell_points` for cells).
        candidate_gdf
            Candidate sites; its ``candidate_id`` column (or else its index)
            labels the results.
        weight_col
            Column of ``demand_gdf`` holding the demand weight.
        max_distance_m
            Straight-line service radius in metres (inclusive).
        existing_gdf
            Existing active stations; demand within reach of one is covered.
        capacity_col
            Optional column of ``candidate_gdf`` with each site's capacity.
        """
        frames = {"demand_gdf": demand_gdf, "candidate_gdf": candidate_gdf}
        if existing_gdf is not None:
            frames["existing_gdf"] = existing_gdf
        _geo.check_metric_crs(frames)
        missing = [
            f"{name} has no column {col!r} (columns: {list(frame.columns)})"
            for name, frame, col in (
                ("demand_gdf", demand_gdf, weight_col),
                ("candidate_gdf", candidate_gdf, capacity_col),
            )
            if col is not None and col not in frame.columns
        ]
        raise_if_any(missing, "siting layers")
        demand_xy = _geo.point_coords(demand_gdf, "demand_gdf")
        reach = _geo.radius_coverage(
            demand_xy, _geo.point_coords(candidate_gdf, "candidate_gdf"), max_distance_m
        )
        covered = None
        if existing_gdf is not None:
            existing_xy = _geo.point_coords(existing_gdf, "existing_gdf")
            existing = _geo.radius_coverage(demand_xy, existing_xy, max_distance_m)
            covered = np.diff(existing.indptr) > 0
        ids = (
            candidate_gdf["candidate_id"].to_numpy()
            if "candidate_id" in candidate_gdf.columns
            else candidate_gdf.index.to_numpy()
        )
        return cls.from_coverage(
            reach,
            demand_gdf[weight_col].to_numpy(dtype=np.float64),
            already_covered=covered,
            capacities=None if capacity_col is None else candidate_gdf[capacity_col].to_numpy(),
            candidate_ids=ids,
        )

    # ------------------------------------------------------------ properties
    @property
    def n_demand(self) -> int:
        """Number of demand points (rows)."""
        return int(self.coverage.shape[0])

    @property
    def n_candidates(self) -> int:
        """Number of candidate sites (columns)."""
        return int(self.coverage.shape[1])

    @property
    def total_demand(self) -> float:
        """Sum of all demand weights, covered or not."""
        return float(self.weights.sum())

    @property
    def covered_before(self) -> float:
        """Demand weight existing stations already cover."""
        return float(self.weights[self.already_covered].sum())

    @property
    def reachable(self) -> BoolArray:
        """True where at least one candidate reaches the demand point."""
        return np.asarray(np.diff(self.coverage.indptr) > 0)

    @property
    def uncoverable(self) -> IntArray:
        """Demand points that neither an existing station nor any candidate reaches.

        These are blind zones no choice of candidates can close: report them
        (they need new candidate sites or a longer reach), never drop them.
        """
        return np.flatnonzero(~self.already_covered & ~self.reachable).astype(np.int64)
