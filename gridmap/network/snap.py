"""Snap points to the nearest position on the road network.

Each point is projected onto the nearest straight segment of any link (an
STRtree over all segments, queried for all points at once), not merely onto
the nearest node: a village 20 m from the middle of a 2 km road is placed on
that road, 20 m off it, not 1 km away at a junction. The position is kept as
a link and an offset along it, so routing can start or end exactly there.

Many points at once (a county's units) first look among candidates: the segments
are cut into pieces of at most ``PIECE_M``, and a k-d tree over the pieces' midpoints
gives each point its ``CANDIDATES`` nearest pieces. A point's nearest candidate
segment is its answer when it is provably the nearest of all and no other segment is
as near (a tie); every other point (a tie at a shared vertex, candidates that do not
prove it) is asked of the STRtree as before, so the segment chosen is the tree's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from scipy.spatial import cKDTree

from gridmap.network._segments import SegmentIndex
from gridmap.network.graph import RoadGraph

__all__ = ["Snapped", "snap_points"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Longest piece a segment is cut into for the candidate search (metres).
PIECE_M = 100.0
#: Nearest pieces looked at per point.
CANDIDATES = 10
#: Fewer points than this ask the STRtree directly (the k-d tree is not worth building).
MIN_POINTS = 20_000
#: Points per batch of the candidate search (bounds its memory).
BATCH = 200_000


@dataclass(frozen=True, eq=False)
class Snapped:
    """Points placed on the links of a :class:`RoadGraph`.

    Attributes
    ----------
    link
        Link each point snapped to.
    u, v
        Its end nodes; the link geometry runs from ``u`` to ``v``.
    offset_m
        Distance along the link geometry from ``u`` to the snapped position.
    fraction
        ``offset_m`` over the link length, in [0, 1]; a cost along the link is
        split in this proportion.
    distance_m
        Straight-line distance from the point to its snapped position.
    x, y
        Snapped position.
    too_far
        True where ``distance_m`` exceeds the ``max_snap_m`` given to
        :func:`snap_points`. Such points are not routed: callers must report
        them as not reachable by road rather than count them.
    """

    link: IntArray
    u: IntArray
    v: IntArray
    offset_m: FloatArray
    fraction: FloatArray
    distance_m: FloatArray
    x: FloatArray
    y: FloatArray
    too_far: BoolArray

    def __len__(self) -> int:
        return int(self.link.size)


def snap_points(
    graph: RoadGraph,
    x: npt.ArrayLike,
    y: npt.ArrayLike,
    *,
    max_snap_m: float | None,
) -> Snapped:
    """Snap points to the nearest point on the nearest link of ``graph``.

    Parameters
    ----------
    graph
        The road graph; ``x``/``y`` must be in its CRS.
    x, y
        Point coordinates in metres.
    max_snap_m
        Points farther than this from every road are flagged ``too_far``.
        None flags none.

    Returns
    -------
    Snapped
        One entry per point, in input order.
    """
    px = np.atleast_1d(np.asarray(x, dtype=np.float64))
    py = np.atleast_1d(np.asarray(y, dtype=np.float64))
    if px.shape != py.shape:
        msg = f"x and y must have the same shape, got {px.shape} and {py.shape}"
        raise ValueError(msg)
    index = graph.segment_index
    if index.link.size == 0:
        msg = "the road graph has no links to snap to"
        raise ValueError(msg)
    segment = _nearest_segment(index, px, py)
    along, sx, sy = _project(index.start[segment], index.end[segment], px, py)
    link = index.link[segment]
    offset = np.minimum(index.offset_m[segment] + along, graph.link_length_m[link])
    distance = np.hypot(px - sx, py - sy)
    too_far = distance > max_snap_m if max_snap_m is not None else np.zeros(px.size, bool)
    if too_far.any():
        logger.info(
            "%d of %d points farther than %s m from a road", too_far.sum(), px.size, max_snap_m
        )
    return Snapped(
        link=link,
        u=graph.link_u[link],
        v=graph.link_v[link],
        offset_m=offset,
        fraction=offset / graph.link_length_m[link],
        distance_m=distance,
        x=sx,
        y=sy,
        too_far=too_far,
    )


def _nearest_segment(index: SegmentIndex, px: FloatArray, py: FloatArray) -> IntArray:
    """The segment :meth:`shapely.STRtree.query_nearest` gives each point (see the module
    docstring): from the candidates where they prove it, else from the tree."""
    if px.size < MIN_POINTS:
        return _tree_nearest(index, px, py)
    pieces = _Pieces(index)
    segment = np.empty(px.size, dtype=np.int64)
    unsure = np.zeros(px.size, dtype=bool)
    for first in range(0, px.size, BATCH):
        batch = slice(first, first + BATCH)
        segment[batch], unsure[batch] = pieces.nearest(index, px[batch], py[batch])
    if unsure.any():
        segment[unsure] = _tree_nearest(index, px[unsure], py[unsure])
    logger.debug("%d of %d points snapped through the STRtree", unsure.sum(), px.size)
    return segment


def _tree_nearest(index: SegmentIndex, px: FloatArray, py: FloatArray) -> IntArray:
    _, segment = index.tree.query_nearest(shapely.points(px, py), all_matches=False)
    found: IntArray = segment.astype(np.int64)
    return found


class _Pieces:
    """The segments cut into pieces of at most ``PIECE_M``, a k-d tree over their middles."""

    def __init__(self, index: SegmentIndex) -> None:
        start, step = index.start, index.end - index.start
        length = np.hypot(step[:, 0], step[:, 1])
        count = np.maximum(1, np.ceil(length / PIECE_M)).astype(np.int64)
        self.segment = np.repeat(np.arange(length.size, dtype=np.int64), count)
        within = np.arange(self.segment.size) - np.repeat(np.cumsum(count) - count, count)
        fraction = (within + 0.5) / count[self.segment]
        middle = start[self.segment] + step[self.segment] * fraction[:, None]
        #: every point of a piece is at most this far from the piece's middle
        self.half = float((length / count).max()) / 2
        self.tree = cKDTree(middle)
        self.k = min(CANDIDATES, self.segment.size)

    def nearest(
        self, index: SegmentIndex, px: FloatArray, py: FloatArray
    ) -> tuple[IntArray, BoolArray]:
        """The nearest candidate segment of each point, and where it is not proven.

        A segment outside the candidates is farther than the k-th piece's middle less
        ``half``; the nearest candidate is proven when that bound and every other
        candidate segment are farther than it by more than a rounding error.
        """
        reach, piece = self.tree.query(np.column_stack([px, py]), k=self.k, workers=-1)
        reach, piece = reach.reshape(px.size, -1), piece.reshape(px.size, -1)
        segment = self.segment[piece]
        distance = _segment_distance(index, segment, px[:, None], py[:, None])
        rows = np.arange(px.size)
        best = np.argmin(distance, axis=1)
        nearest, metres = segment[rows, best], distance[rows, best]
        margin = 1e-9 * (1.0 + metres)
        runner_up = np.where(segment != nearest[:, None], distance, np.inf).min(axis=1)
        beyond = reach[:, -1] - self.half if self.k < self.segment.size else np.inf
        proven = (runner_up > metres + margin) & (beyond > metres + margin)
        return nearest, ~proven


def _segment_distance(
    index: SegmentIndex, segment: IntArray, px: FloatArray, py: FloatArray
) -> FloatArray:
    """Distance from each point to each of its segments (rows of ``segment``)."""
    ax, ay = index.start[segment, 0], index.start[segment, 1]
    dx, dy = index.end[segment, 0] - ax, index.end[segment, 1] - ay
    t = np.clip(((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy), 0.0, 1.0)
    distance: FloatArray = np.hypot(px - (ax + t * dx), py - (ay + t * dy))
    return distance


def _project(
    start: FloatArray, end: FloatArray, px: FloatArray, py: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distance along each segment of the foot of each point, and the foot."""
    dx, dy = (end - start).T
    length = np.hypot(dx, dy)
    t = ((px - start[:, 0]) * dx + (py - start[:, 1]) * dy) / (length * length)
    t = np.clip(t, 0.0, 1.0)
    return t * length, start[:, 0] + t * dx, start[:, 1] + t * dy
