"""Off-road access: units and stations close enough to walk between in a straight line.

In network mode a unit and a station whose straight-line distance is at most
``max_snap_m`` are connected directly, at walking speed: a village 878 m from
the nearest road with its own station 40 m away is 40 m from it, and a
community whose station stands at its own centre, 279 m from the road, is not
2 x 279 m from it. The network path is used where it is shorter (driving).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from gridmap.network.graph import Weight

__all__ = ["DirectLinks", "direct_links"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True)
class DirectLinks:
    """Every (unit, station) pair within walking reach, with the cost of the walk.

    ``cost`` is metres for ``"length"`` and seconds for ``"time"``; ``unit`` and
    ``station`` are positions in the arrays :func:`direct_links` was given. The pairs
    are ordered by unit, then cost (what :meth:`nearest` relies on).
    """

    n_units: int
    unit: IntArray
    station: IntArray
    cost: FloatArray

    def nearest(self, members: IntArray | None = None) -> tuple[FloatArray, IntArray]:
        """Per unit, the cheapest direct cost to one of ``members`` (station positions).

        Returns the cost (``inf`` where none) and the station position (-1 where none).
        The pairs are sorted by unit, then cost, once (:func:`direct_links`); a subset
        keeps that order, so each call only picks every unit's first pair (the same
        pair a sort of the subset would put first: the sort is stable).
        """
        unit, station, cost = self.unit, self.station, self.cost
        if members is not None:
            keep = np.isin(station, members)
            unit, station, cost = unit[keep], station[keep], cost[keep]
        first = np.ones(unit.size, bool)
        first[1:] = unit[1:] != unit[:-1]
        best = np.full(self.n_units, np.inf)
        which = np.full(self.n_units, -1, dtype=np.int64)
        best[unit[first]] = cost[first]
        which[unit[first]] = station[first]
        return best, which


def direct_links(
    unit_xy: FloatArray,
    station_xy: FloatArray,
    *,
    max_m: float,
    weight: Weight,
    walk_kmh: float,
) -> DirectLinks:
    """Pairs of units and stations at most ``max_m`` apart in a straight line."""
    if not len(unit_xy) or not len(station_xy):
        empty = np.empty(0, dtype=np.int64)
        return DirectLinks(len(unit_xy), empty, empty, np.empty(0))
    pairs = cKDTree(unit_xy).sparse_distance_matrix(
        cKDTree(station_xy), max_m, output_type="ndarray"
    )
    metres = np.asarray(pairs["v"], dtype=np.float64)
    cost = metres if weight == "length" else metres / (walk_kmh / 3.6)
    unit = np.asarray(pairs["i"], dtype=np.int64)
    station = np.asarray(pairs["j"], dtype=np.int64)
    order = np.lexsort((cost, unit))  # by unit, then cost; ties keep the tree's order
    return DirectLinks(
        n_units=len(unit_xy), unit=unit[order], station=station[order], cost=cost[order]
    )


def walk_radius_m(limit: float, *, max_m: float, weight: Weight, walk_kmh: float) -> float:
    """How far a station's direct reach goes: ``max_m``, or less when the limit is shorter."""
    limit_m = limit if weight == "length" else limit * walk_kmh / 3.6
    return float(min(max_m, limit_m))
