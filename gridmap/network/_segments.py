"""Straight segments of the graph links, indexed for nearest-segment queries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class SegmentIndex:
    """Every non-degenerate segment of every link, with an STRtree over them.

    ``offset_m`` is the distance along the link from its first vertex to the
    segment's start, so a point at parameter ``t`` (metres) on segment ``s``
    lies ``offset_m[s] + t`` metres along link ``link[s]``.
    """

    start: FloatArray
    end: FloatArray
    link: IntArray
    offset_m: FloatArray
    tree: shapely.STRtree


def build_segment_index(link_geometry: npt.NDArray[np.object_]) -> SegmentIndex:
    """Split links into segments and index them."""
    coords, link = shapely.get_coordinates(link_geometry, return_index=True)
    pair = np.flatnonzero(link[1:] == link[:-1])
    start, end, owner = coords[pair], coords[pair + 1], link[pair].astype(np.int64)
    length = np.hypot(*(end - start).T)
    cumulative = np.cumsum(length) - length
    first_of_link = np.ones(owner.size, dtype=bool)
    first_of_link[1:] = owner[1:] != owner[:-1]
    link_start = np.maximum.accumulate(np.where(first_of_link, np.arange(owner.size), 0))
    offset = cumulative - cumulative[link_start]
    keep = length > 0
    segments = (
        shapely.linestrings(
            np.stack([start[keep], end[keep]], axis=1).reshape(-1, 2),
            indices=np.repeat(np.arange(int(keep.sum())), 2),
        )
        if keep.any()
        else np.empty(0, dtype=object)
    )
    return SegmentIndex(
        start=start[keep],
        end=end[keep],
        link=owner[keep],
        offset_m=offset[keep],
        tree=shapely.STRtree(segments),
    )
