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

import itertools
import math
from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.maps._columns import encode_chunks

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


class _Cursor:
    """Running position for delta coding across rings and features."""

    def __init__(self) -> None:
        self.x = 0
        self.y = 0

    def deltas(self, ring: IntArray) -> str:
        xs = np.diff(ring[:, 0], prepend=self.x)
        ys = np.diff(ring[:, 1], prepend=self.y)
        self.x, self.y = int(ring[-1, 0]), int(ring[-1, 1])
        return polyline(np.column_stack([xs, ys]).ravel())


#: Below this many values the plain loop is faster than the array code.
_SHORT = 128
#: 5-bit groups of a 64-bit value.
_GROUPS = np.arange(13, dtype=np.int64) * 5


def polyline(values: Sequence[int] | IntArray) -> str:
    """Write integers with the encoded-polyline code (5-bit groups, offset 63)."""
    if len(values) < _SHORT:
        return _polyline_loop([int(v) for v in values])
    return _polyline_codes(np.asarray(values, dtype=np.int64))[0]


def polyline_chunks(values: IntArray, bounds: IntArray) -> list[str]:
    """``polyline(values[a:b])`` for each chunk ``a, b`` of consecutive ``bounds``, coded once."""
    if len(values) == 0:
        return ["" for _ in range(len(bounds) - 1)]
    text, counts = _polyline_codes(values)
    offsets = np.concatenate([[0], np.cumsum(counts)])[bounds].tolist()
    return [text[a:b] for a, b in itertools.pairwise(offsets)]


def _polyline_codes(values: IntArray) -> tuple[str, IntArray]:
    """The code of ``values`` (at least one) and how many characters each value took."""
    v = np.where(values < 0, ~(values << 1), values << 1)
    shifts = _GROUPS[: max(1, (int(v.max()).bit_length() + 4) // 5)]
    rest = v[:, None] >> shifts
    count = np.maximum(1, np.count_nonzero(rest, axis=1))
    position = np.arange(len(shifts))
    codes = (rest & 0x1F) + 63 + np.where(position < (count - 1)[:, None], 0x20, 0)
    used = position < count[:, None]
    text: str = codes[used].astype(np.uint8).tobytes().decode("ascii")
    return text, count


def _polyline_loop(values: list[int]) -> str:
    out: list[str] = []
    for value in values:
        v = ~(value << 1) if value < 0 else value << 1
        while v >= 0x20:
            out.append(chr((0x20 | (v & 0x1F)) + 63))
            v >>= 5
        out.append(chr(v + 63))
    return "".join(out)


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


def _quantise_ring(coords: npt.NDArray[np.float64], scale: float) -> IntArray | None:
    ring = np.rint(coords[:, :2] * scale).astype(np.int64)
    if len(ring) > 1 and np.array_equal(ring[0], ring[-1]):
        ring = ring[:-1]
    if len(ring) > 1:
        keep = np.ones(len(ring), dtype=bool)
        keep[1:] = np.any(ring[1:] != ring[:-1], axis=1)
        ring = ring[keep]
    return ring if len(ring) >= 3 else None


def _polygon_rings(polygon: Any, scale: float) -> list[IntArray]:
    exterior = _quantise_ring(shapely.get_coordinates(polygon.exterior), scale)
    if exterior is None:
        return []
    holes = (_quantise_ring(shapely.get_coordinates(h), scale) for h in polygon.interiors)
    return [exterior, *(h for h in holes if h is not None)]


def _parts(geom: Any) -> list[Any]:
    if geom is None or geom.is_empty:
        return []
    if geom.geom_type == "Polygon":
        return [geom]
    if geom.geom_type in ("MultiPolygon", "GeometryCollection"):
        return [p for g in geom.geoms for p in _parts(g)]
    return []


def encode_polygons(geoms: Sequence[Any], precision: int) -> list[Any]:
    """Encode (multi)polygons as described in the module docstring; empty ones as ``[]``."""
    scale = 10.0**precision
    cursor = _Cursor()
    out: list[Any] = []
    for geom in geoms:
        polygons = [rings for p in _parts(geom) if (rings := _polygon_rings(p, scale))]
        encoded = [[cursor.deltas(ring) for ring in rings] for rings in polygons]
        if len(encoded) == 1 and len(encoded[0]) == 1:
            out.append(encoded[0][0])
        else:
            out.append(encoded)
    return out


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
