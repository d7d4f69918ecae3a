"""Rows far from where the data lies: swapped pairs and strays that still parse.

"Where the data lies" is the store's areas and cells (``near``, padded by
:func:`padded`), or, without them, the robust spread of the file's own rows
(:func:`file_extent`: median +- 10 median absolute deviations, at least 2
degrees). A Helsinki-region firm written as ``60.52, 26.96`` lands in Iran,
4,500 km away: rejected as swapped, because exchanging x and y brings it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import shapely

from gridmap.crs import SourceCRS
from gridmap.ingest._geo import Coords, Region, centroids, converter, describe, points_inside

__all__ = ["far_reasons", "file_extent", "padded"]

#: Margin around the store's areas and cells, in degrees: the larger of this (about
#: 100 km) and the extent's own width or height.
NEAR_MARGIN_DEG: Final = 1.0
#: Rows with coordinates a file needs before its own spread is judged.
MIN_ROWS_FOR_SPREAD: Final = 5
#: Half-width of a file's extent: this many robust standard deviations (1.4826 x MAD) ...
SPREAD_FACTOR: Final = 10.0
#: ... and at least this many degrees (about 200 km).
MIN_SPREAD_DEG: Final = 2.0


def padded(extent: Region) -> Region:
    """``extent`` grown on every side by its size, at least :data:`NEAR_MARGIN_DEG`."""
    west, south, east, north = extent
    dx = max(NEAR_MARGIN_DEG, east - west)
    dy = max(NEAR_MARGIN_DEG, north - south)
    return (west - dx, max(south - dy, -90.0), east + dx, min(north + dy, 90.0))


def file_extent(points: Coords) -> Region | None:
    """Where most of a file's points lie: median +- max(10 x 1.4826 x MAD, 2 degrees).

    ``None`` for fewer than :data:`MIN_ROWS_FOR_SPREAD` points. The median and the
    median absolute deviation ignore a few wild points, so a swapped pair stands out.
    """
    if len(points) < MIN_ROWS_FOR_SPREAD:
        return None
    middle = np.median(points, axis=0)
    spread = 1.4826 * np.median(np.abs(points - middle), axis=0)
    half = np.maximum(SPREAD_FACTOR * spread, MIN_SPREAD_DEG)
    low, high = middle - half, middle + half
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def far_reasons(
    converted: Sequence[shapely.Geometry | None],
    originals: Sequence[shapely.Geometry | None],
    source: SourceCRS,
    near: Region | None,
) -> dict[int, str]:
    """Reasons to reject the geometries far from ``near`` or from the file's other rows.

    Parameters
    ----------
    converted
        Accepted geometries in WGS-84 (``None`` where already rejected).
    originals
        The same geometries in the source CRS, to try them swapped.
    source
        The source coordinate system.
    near
        The lon/lat extent of the store's areas and cells, or ``None``.
    """
    array = np.empty(len(converted), dtype=object)
    array[:] = list(converted)
    present = np.flatnonzero(~shapely.is_missing(array))
    if not len(present):
        return {}
    centres = centroids(array[present])
    extent = padded(near) if near is not None else file_extent(centres)
    if extent is None:
        return {}
    far = present[~points_inside(centres, extent)].tolist()
    if not far:
        return {}
    swapped = shapely.transform(
        np.asarray([originals[i] for i in far], dtype=object), converter(source, swap=True)
    )
    swapped_inside = points_inside(centroids(list(swapped)), extent)
    west, south, east, north = extent
    where = (
        "the store's areas and cells" if near is not None else "the other rows of the file"
    ) + f" (lon {west:.4g}..{east:.4g}, lat {south:.4g}..{north:.4g})"
    reasons: dict[int, str] = {}
    for position, swapped_ok in zip(far, swapped_inside, strict=True):
        described = f"{describe(originals[position])} in {source.name}"
        reasons[position] = (
            f"疑似经纬度颠倒 / longitude and latitude look swapped ({described}): exchanged "
            f"they fall among {where}; swap the two columns or values"
            if swapped_ok
            else f"远离其他数据 / far from {where} ({described}): check the coordinates "
            "and --crs; if the place is right, import its areas first"
        )
    return reasons
