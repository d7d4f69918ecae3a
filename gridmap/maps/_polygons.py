"""Polygons encoded all at once: :func:`encode_polygons` (the format is :mod:`_encode`'s).

Every ring of every polygon is quantised, cleaned (the closing vertex and repeated
vertices dropped, rings of fewer than three vertices left out, a polygon without its
exterior left out) and delta-coded in a few numpy passes over all vertices; only
the nesting of the result (geometry, polygon, ring) is built in Python.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["encode_polygons"]

IntArray = npt.NDArray[np.int64]
#: shapely type ids of geometries made of parts (multi-geometries, collections).
_COLLECTIONS: Final = (4, 5, 6, 7)
_POLYGON: Final = 3


def encode_polygons(
    geoms: Sequence[Any], precision: int, polyline: Callable[[IntArray, IntArray], list[str]]
) -> list[Any]:
    """Each geometry as one ring string, or a list of polygons each a list of ring strings.

    ``polyline(values, bounds)`` codes ``values[a:b]`` for each ``a, b`` of ``bounds``.
    """
    polygons, owner = _polygons(np.asarray(geoms, dtype=object))
    rings, ring_polygon = shapely.get_rings(polygons, return_index=True)
    coords, vertex_ring = shapely.get_coordinates(rings, return_index=True)
    ints = np.rint(coords * 10.0**precision).astype(np.int64)
    keep = _kept_vertices(ints, vertex_ring, len(rings))
    kept = np.bincount(vertex_ring[keep], minlength=len(rings))
    exterior = np.ones(len(rings), dtype=bool)
    exterior[1:] = ring_polygon[1:] != ring_polygon[:-1]
    alive_polygon = np.zeros(len(polygons), dtype=bool)
    alive_polygon[ring_polygon[exterior & (kept >= 3)]] = True
    alive = (kept >= 3) & alive_polygon[ring_polygon]
    # the cursor runs on across rings and geometries from (0, 0)
    vertices = ints[keep & alive[vertex_ring]]
    deltas = np.diff(vertices, axis=0, prepend=np.zeros((1, 2), dtype=np.int64))
    ends = np.concatenate([[0], np.cumsum(kept[alive])]) * 2
    texts = iter(polyline(deltas.ravel(), ends))
    out: list[Any] = [[] for _ in range(len(geoms))]
    for geom, first in zip(
        owner[ring_polygon[alive]].tolist(), exterior[alive].tolist(), strict=True
    ):
        parts = out[geom]
        if first:
            parts.append([])
        parts[-1].append(next(texts))
    return [p[0][0] if len(p) == 1 and len(p[0]) == 1 else p for p in out]


def _polygons(geoms: npt.NDArray[np.object_]) -> tuple[npt.NDArray[np.object_], IntArray]:
    """The non-empty polygons inside ``geoms``, in order, and the geometry each comes from."""
    owner = np.arange(len(geoms))
    parts = geoms
    while len(parts) and np.isin(shapely.get_type_id(parts), _COLLECTIONS).any():
        parts, index = shapely.get_parts(parts, return_index=True)
        owner = owner[index]
    wanted = (shapely.get_type_id(parts) == _POLYGON) & ~shapely.is_empty(parts)
    return parts[wanted], owner[wanted]


def _kept_vertices(ints: IntArray, vertex_ring: IntArray, n_rings: int) -> npt.NDArray[np.bool_]:
    """Vertices left once each ring's closing vertex and repeated vertices are dropped."""
    counts = np.bincount(vertex_ring, minlength=n_rings)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    last = starts + counts - 1
    keep = np.ones(len(ints), dtype=bool)
    ring_ok = counts > 1
    closes = np.zeros(n_rings, dtype=bool)
    closes[ring_ok] = np.all(ints[starts[ring_ok]] == ints[last[ring_ok]], axis=1)
    keep[last[closes]] = False
    same = np.zeros(len(ints), dtype=bool)
    same[1:] = (vertex_ring[1:] == vertex_ring[:-1]) & np.all(ints[1:] == ints[:-1], axis=1)
    return keep & ~same
