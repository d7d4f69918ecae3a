"""Snap points to the nearest position on the road network.

Each point is projected onto the nearest straight segment of any link (an
STRtree over all segments, queried for all points at once), not merely onto
the nearest node: a village 20 m from the middle of a 2 km road is placed on
that road, 20 m off it, not 1 km away at a junction. The position is kept as
a link and an offset along it, so routing can start or end exactly there.

Many points at once (a county's units) first look in a grid of the segments
(:mod:`gridmap.network._grid_nearest`): a point's nearest segment found there is its
answer when it is provably the nearest of all and no other segment is as near (a tie);
every other point (a tie at a shared vertex, a point off the grid or more than
``MAX_RINGS`` cells from any segment) is asked of the STRtree as before, so the segment
chosen is the tree's.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.network._grid_nearest import SegmentGrid
from gridmap.network._segments import SegmentIndex
from gridmap.network.graph import RoadGraph

__all__ = ["Snapped", "snap_points"]

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: Rings of grid cells a point looks at before it is left to the STRtree.
MAX_RINGS = 32
#: Fewer points than this ask the STRtree directly (the grid is not worth building).
MIN_POINTS = 20_000


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
    docstring): from the grid where it proves it, else from the tree."""
    if px.size < MIN_POINTS:
        return _tree_nearest(index, px, py)
    segment, proven = SegmentGrid(index.start, index.end).nearest(px, py, MAX_RINGS)
    unsure = ~proven
    if unsure.any():
        segment[unsure] = _tree_nearest(index, px[unsure], py[unsure])
    logger.debug("%d of %d points snapped through the STRtree", unsure.sum(), px.size)
    return segment


def _tree_nearest(index: SegmentIndex, px: FloatArray, py: FloatArray) -> IntArray:
    _, segment = index.tree.query_nearest(shapely.points(px, py), all_matches=False)
    found: IntArray = segment.astype(np.int64)
    return found


def _project(
    start: FloatArray, end: FloatArray, px: FloatArray, py: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Distance along each segment of the foot of each point, and the foot."""
    dx, dy = (end - start).T
    length = np.hypot(dx, dy)
    t = ((px - start[:, 0]) * dx + (py - start[:, 1]) * dy) / (length * length)
    t = np.clip(t, 0.0, 1.0)
    return t * length, start[:, 0] + t * dx, start[:, 1] + t * dy
