"""Input checks for the siting models.

Every check collects its problems and :func:`raise_if_any` reports them all at
once (the habit of osmnx ``_validate.py``): a planner fixing a spreadsheet of
weights wants to see every bad column in one go, not one per run.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from gridmap.errors import GridmapError

__all__ = [
    "SitingInfeasibleError",
    "SitingInputError",
    "check_capacities",
    "check_flags",
    "check_weights",
    "raise_if_any",
]


class SitingInputError(GridmapError, ValueError):
    """The inputs of a siting model are inconsistent (shapes, values, CRS)."""


class SitingInfeasibleError(GridmapError):
    """The model has no solution, e.g. capacities too small to serve all demand."""


def check_weights(
    weights: npt.ArrayLike, n_demand: int | None = None
) -> tuple[npt.NDArray[np.float64], list[str]]:
    """Return ``weights`` as a float vector and the problems found in it."""
    values = np.asarray(weights, dtype=np.float64)
    problems: list[str] = []
    if values.ndim != 1:
        problems.append(f"weights must be a 1-D vector, got shape {values.shape}")
        return values.ravel(), problems
    if n_demand is not None and values.size != n_demand:
        problems.append(
            f"weights has {values.size} values but there are {n_demand} demand points "
            "(one weight per demand row is expected)"
        )
    if not np.all(np.isfinite(values)):
        problems.append(f"weights has {int(np.sum(~np.isfinite(values)))} NaN/inf values")
    elif np.any(values < 0):
        problems.append(
            f"weights has {int(np.sum(values < 0))} negative values; demand weights "
            "(population, households, members) must be >= 0"
        )
    return values, problems


def check_capacities(
    capacities: npt.ArrayLike | None, n_candidates: int
) -> tuple[npt.NDArray[np.float64] | None, list[str]]:
    """Return ``capacities`` as a float vector (or None) and the problems found."""
    if capacities is None:
        return None, []
    values = np.asarray(capacities, dtype=np.float64).ravel()
    problems: list[str] = []
    if values.size != n_candidates:
        problems.append(
            f"capacities has {values.size} values but there are {n_candidates} candidates"
        )
    if np.any(np.isnan(values)) or np.any(values < 0):
        problems.append("capacities must be >= 0 (use inf for an unlimited site), not NaN")
    return values, problems


def check_flags(
    flags: npt.ArrayLike | None, n_demand: int, name: str
) -> tuple[npt.NDArray[np.bool_], list[str]]:
    """Return a boolean demand vector (all False when None) and the problems found."""
    if flags is None:
        return np.zeros(n_demand, dtype=bool), []
    values = np.asarray(flags).ravel()
    if values.size != n_demand:
        return np.zeros(n_demand, dtype=bool), [
            f"{name} has {values.size} values but there are {n_demand} demand points"
        ]
    return values.astype(bool), []


def raise_if_any(problems: list[str], what: str) -> None:
    """Raise one :class:`SitingInputError` listing every problem, if there are any."""
    if problems:
        listing = "\n  - ".join(problems)
        msg = f"invalid {what}:\n  - {listing}"
        raise SitingInputError(msg)
