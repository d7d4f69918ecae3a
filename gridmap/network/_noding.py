"""Split road lines into graph links at shared vertices.

A vertex becomes a graph node when it is the first or last vertex of a line,
or when it occurs more than once in the input (two ways sharing an OSM node
mid-way, a way meeting another at its interior, a way revisiting a vertex).
Coordinates must coincide exactly: this is the case for ways sharing an OSM
node once projected with one transformer. Lines that merely cross, with no
common vertex, are NOT connected: that is how bridges and tunnels are drawn.
Each line is then cut at its node vertices into links, each link keeping the
intermediate shape vertices of the line.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True, eq=False)
class NodedLinks:
    """Links cut from the input lines, oriented as the lines were digitised."""

    node_xy: FloatArray
    u: IntArray
    v: IntArray
    geometry: npt.NDArray[np.object_]
    line: IntArray
    """Index of the input line each link was cut from."""


def node_lines(lines: npt.NDArray[np.object_]) -> NodedLinks:
    """Cut single-part ``lines`` at every node vertex; see the module docstring."""
    coords, line = _clean_vertices(lines)
    vertex = _vertex_ids(coords)
    is_first = np.ones(line.size, dtype=bool)
    is_last = np.ones(line.size, dtype=bool)
    is_first[1:] = is_last[:-1] = line[1:] != line[:-1]
    is_node = _node_vertices(vertex, is_first | is_last)
    rows, piece = _piece_rows(is_node, is_first, is_last)
    geometry = shapely.linestrings(coords[rows], indices=piece)
    starts = np.flatnonzero(is_node & ~is_last)
    ends = np.flatnonzero(is_node & ~is_first)
    node_vertex = np.unique(vertex[is_node])
    node_of_vertex = np.full(int(vertex.max(initial=-1)) + 1, -1, dtype=np.int64)
    node_of_vertex[node_vertex] = np.arange(node_vertex.size)
    node_xy = np.empty((node_vertex.size, 2))
    node_xy[node_of_vertex[vertex[is_node]]] = coords[is_node]
    return NodedLinks(
        node_xy=node_xy,
        u=node_of_vertex[vertex[starts]],
        v=node_of_vertex[vertex[ends]],
        geometry=np.asarray(geometry, dtype=object),
        line=line[starts].astype(np.int64),
    )


def _clean_vertices(lines: npt.NDArray[np.object_]) -> tuple[FloatArray, IntArray]:
    """Return vertices and their line index, without repeated consecutive vertices.

    Lines left with fewer than two distinct vertices are dropped.
    """
    coords, line = shapely.get_coordinates(lines, return_index=True)
    repeated = np.zeros(line.size, dtype=bool)
    repeated[1:] = (line[1:] == line[:-1]) & (coords[1:] == coords[:-1]).all(axis=1)
    coords, line = coords[~repeated], line[~repeated]
    counts = np.bincount(line, minlength=len(lines))
    keep = counts[line] >= 2
    return coords[keep], line[keep].astype(np.int64)


def _vertex_ids(coords: FloatArray) -> IntArray:
    """Give every distinct coordinate pair one id (exact equality)."""
    if coords.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    order = np.lexsort((coords[:, 1], coords[:, 0]))
    ordered = coords[order]
    new = np.r_[True, (ordered[1:] != ordered[:-1]).any(axis=1)]
    ids = np.empty(coords.shape[0], dtype=np.int64)
    ids[order] = np.cumsum(new) - 1
    return ids


def _node_vertices(vertex: IntArray, is_end: BoolArray) -> BoolArray:
    """A vertex is a node if it ends a line or occurs more than once."""
    occurrences = np.bincount(vertex)
    ends_a_line = np.zeros(occurrences.size, dtype=bool)
    ends_a_line[vertex[is_end]] = True
    node = (occurrences > 1) | ends_a_line
    flags: BoolArray = node[vertex]
    return flags


def _piece_rows(
    is_node: BoolArray, is_first: BoolArray, is_last: BoolArray
) -> tuple[IntArray, IntArray]:
    """Vertex rows of every link, in order, and the link each row belongs to.

    A node vertex inside a line is used twice: as the end of one link and the
    start of the next.
    """
    starts_piece = is_node & ~is_last
    piece = np.cumsum(starts_piece) - 1
    body = np.flatnonzero(~is_last)
    closing = np.flatnonzero(is_node & ~is_first)
    rows = np.concatenate([body, closing])
    owner = np.concatenate([piece[body], piece[closing - 1]])
    order = np.lexsort((rows, owner))
    return rows[order].astype(np.int64), owner[order].astype(np.int64)
