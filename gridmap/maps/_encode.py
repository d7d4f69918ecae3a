"""Compact encoding of layers for the page's loader (``assets/gridmap/gridmap.js``).

GeoJSON repeats ``"type"``, ``"coordinates"`` and every property name for each
feature and prints 15-digit floats; for 10,000 grid cells that is ~5 MB. Here a
layer is columnar JSON:

* **Coordinates** are quantised to ``10**-precision`` degrees (precision 5 is
  ~1.1 m, 6 is ~0.11 m) and stored as integer deltas from the previous vertex,
  the cursor running on across rings and features, written with the
  printable variable-length code of Google's "encoded polyline" format
  (a 400 m step is 2-3 characters instead of 5). Quantisation maps a vertex
  shared by two cells to the same integers in both, so shared edges stay
  shared. Consecutive duplicates and ring closing vertices are dropped.
* **Polygons** of one ring are one string ``dx dy dx dy ...``; others a list
  of polygons, each a list of ring strings.
* **Points** are one string of ``dx dy`` pairs.
* **Property columns**: numbers as a list; digit-string codes (cell codes,
  GB/T 2260 codes) as integer deltas with a width; repeated strings as a
  dictionary and indices; other strings front-coded against the previous
  value: ``[prefix length, suffix length, middle]`` (``上塘村第1网格`` then
  ``上塘村第2网格`` is ``4, 2, "2"``).

Optional simplification uses :func:`shapely.coverage_simplify`, which keeps a
polygon coverage's shared edges shared (no gaps, no overlaps).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.maps import _polygons
from gridmap.maps._columns import encode_chunks
from gridmap.maps._polyline import polyline, polyline_chunks

__all__ = [
    "encode_column",
    "encode_point_chunks",
    "encode_points",
    "encode_polygons",
    "metres_to_degrees",
    "polyline",
    "polyline_chunks",
    "simplify_coverage",
]

_METRES_PER_DEGREE: Final = 111_320.0

IntArray = npt.NDArray[np.int64]


def metres_to_degrees(metres: float, latitude: float) -> float:
    """Convert a ground distance to degrees of longitude at ``latitude`` (a safe minimum)."""
    return metres / (_METRES_PER_DEGREE * max(math.cos(math.radians(latitude)), 0.01))


def simplify_coverage(
    geoms: npt.NDArray[np.object_], tolerance_deg: float, *, coverage: bool
) -> npt.NDArray[np.object_]:
    """Simplify polygons; a ``coverage`` (cells, areas) keeps its shared edges shared."""
    if tolerance_deg <= 0:
        return geoms
    if coverage:
        result: npt.NDArray[np.object_] = shapely.coverage_simplify(geoms, tolerance_deg)
        return result
    simplified: npt.NDArray[np.object_] = shapely.simplify(
        geoms, tolerance_deg, preserve_topology=True
    )
    return simplified


def encode_polygons(geoms: Sequence[Any], precision: int) -> list[Any]:
    """Encode (multi)polygons as described in the module docstring; empty ones as ``[]``."""
    return _polygons.encode_polygons(geoms, precision, polyline_chunks)


def encode_points(
    lon: npt.NDArray[np.float64], lat: npt.NDArray[np.float64], precision: int
) -> str:
    """Encode points as one string of delta-coded ``x, y`` pairs."""
    scale = 10.0**precision
    xs = np.rint(np.asarray(lon, dtype=np.float64) * scale).astype(np.int64)
    ys = np.rint(np.asarray(lat, dtype=np.float64) * scale).astype(np.int64)
    pairs = np.column_stack([np.diff(xs, prepend=0), np.diff(ys, prepend=0)]).ravel()
    return polyline(pairs)


def encode_point_chunks(
    lon: npt.NDArray[np.float64],
    lat: npt.NDArray[np.float64],
    bounds: IntArray,
    precision: int,
) -> list[str]:
    """``encode_points(lon[a:b], lat[a:b], precision)`` for each chunk of ``bounds``."""
    scale = 10.0**precision
    xs = np.rint(np.asarray(lon, dtype=np.float64) * scale).astype(np.int64)
    ys = np.rint(np.asarray(lat, dtype=np.float64) * scale).astype(np.int64)
    dx, dy = xs.copy(), ys.copy()
    dx[1:] -= xs[:-1]
    dy[1:] -= ys[:-1]
    starts = bounds[:-1][np.diff(bounds) > 0]  # each chunk starts from 0, 0
    dx[starts], dy[starts] = xs[starts], ys[starts]
    return polyline_chunks(np.column_stack([dx, dy]).ravel(), 2 * bounds)


def encode_column(values: Sequence[object] | npt.NDArray[Any], *, decimals: int = 1) -> Any:
    """Encode one property column (see the module docstring); None becomes ``""``/null."""
    return encode_chunks(values, [0, len(values)], decimals=decimals)[0]
