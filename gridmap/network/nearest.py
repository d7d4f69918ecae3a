"""Nearest station in a straight line, for many points at once.

A k-d tree (:class:`scipy.spatial.cKDTree`) over the stations answers a
nearest-neighbour query per point in O(log m). Coordinates must be in a
metric CRS so that Euclidean distance is in metres; this is the radius
reach of DOMAIN.md ("Service reach"), the network reach is
:mod:`gridmap.network.paths`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

__all__ = ["Nearest", "nearest"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


class Nearest(NamedTuple):
    """Nearest station of each point (unpacks as ``station, distance_m``).

    ``station`` indexes ``stations_xy``; it is -1 and ``distance_m`` is ``inf``
    beyond ``max_distance_m``.
    """

    station: IntArray
    distance_m: FloatArray


def nearest(
    points_xy: npt.ArrayLike,
    stations_xy: npt.ArrayLike,
    *,
    max_distance_m: float | None = None,
    workers: int = -1,
) -> Nearest:
    """Index of and distance to the nearest station of every point.

    Parameters
    ----------
    points_xy, stations_xy
        ``(n, 2)`` and ``(m, 2)`` coordinates in one metric CRS.
    max_distance_m
        Points farther than this from every station get index -1; it also
        prunes the search.
    workers
        Threads for the query (default ``-1``: all cores; the query is read-only, so
        threads share the tree safely).

    Notes
    -----
    When two stations are equally near, either may be returned.
    """
    points = _as_xy(points_xy, "points_xy")
    stations = _as_xy(stations_xy, "stations_xy")
    if stations.shape[0] == 0:
        return Nearest(
            np.full(points.shape[0], -1, dtype=np.int64), np.full(points.shape[0], np.inf)
        )
    bound = np.inf if max_distance_m is None else float(max_distance_m)
    tree = cKDTree(stations)
    distance, index = tree.query(points, k=1, distance_upper_bound=bound, workers=workers)
    index = np.where(np.isfinite(distance), index, -1).astype(np.int64)
    return Nearest(index, np.asarray(distance, dtype=np.float64))


def _as_xy(values: npt.ArrayLike, name: str) -> FloatArray:
    array = np.asarray(values, dtype=np.float64)
    if array.ndim != 2 or array.shape[1] != 2:
        msg = f"{name} must have shape (n, 2), got {array.shape}"
        raise ValueError(msg)
    return array
