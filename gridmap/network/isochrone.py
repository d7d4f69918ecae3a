"""Service areas (isochrones): the part of the network reached within a limit.

Construction, from the cost of every node from its nearest source (see
:func:`~gridmap.network.paths.multi_source_distances`) and a limit in the same
unit:

1. A link ``u -> v`` with forward cost ``c`` is reached from ``u`` over the
   fraction ``min(1, (limit - d[u]) / c)`` of its length, if ``d[u] <= limit``
   and the direction is allowed; likewise from ``v`` with the backward cost.
   The fractions are turned into metres along the link geometry and the piece
   cut with :func:`shapely.ops.substring`, so the boundary of the area lies at
   the exact remaining distance, not at the last whole edge.
2. A link whose two reached pieces meet is reached in full. When sources are
   told apart (:func:`service_areas`) and the two ends have different nearest
   sources, the link is split where the two costs are equal.
3. A snapped source also reaches along its own link in both allowed
   directions from its position (this matters when the limit is shorter than
   the way to either end). With ``source_access`` its own off-road leg is
   spent first, as in :func:`~gridmap.network.paths.multi_source_distances`.
4. Reached pieces of the same link are merged, and the lines buffered by
   ``buffer_m`` (a walkable corridor either side of the road). ``buffer_m=0``
   returns the reached lines themselves, whose ``length`` is the reached
   road length.

A node reached with no remaining budget contributes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.base import BaseGeometry
from shapely.ops import substring

from gridmap._threads import thread_map
from gridmap.network._chains import chains
from gridmap.network.graph import RoadGraph, Weight
from gridmap.network.paths import access_cost
from gridmap.network.snap import Snapped

__all__ = ["ReachedEdges", "reached_edges", "service_area", "service_areas"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


@dataclass(frozen=True, eq=False)
class ReachedEdges:
    """Reached pieces of links: ``[start, end]`` as fractions of each link's length.

    ``source`` is the nearest source of each piece, or -1 when sources were
    not told apart. Pieces may overlap; :meth:`merged` dissolves them.
    """

    link: IntArray
    start: FloatArray
    end: FloatArray
    source: IntArray

    def merged(self) -> ReachedEdges:
        """Union of overlapping pieces of the same link and source."""
        return _merge(self)

    def lines(self, graph: RoadGraph) -> npt.NDArray[np.object_]:
        """The pieces as LineStrings in the graph CRS."""
        return _cut(graph, self)


def reached_edges(
    graph: RoadGraph,
    dist_per_node: FloatArray,
    limit: float,
    *,
    weight: Weight = "length",
    nearest_source: IntArray | None = None,
    sources: Snapped | None = None,
    source_access: bool = False,
    access_speed_kmh: float | None = None,
) -> ReachedEdges:
    """Pieces of links reached within ``limit`` (steps 1-3 of the module docstring).

    Parameters
    ----------
    graph
        The road graph the distances were computed on.
    dist_per_node
        Cost of each node from its nearest source, in the unit of ``weight``.
    limit
        Budget in the same unit (metres or seconds).
    weight
        The weight ``dist_per_node`` was computed with.
    nearest_source
        Per node; given, pieces are labelled and links split between sources.
    sources
        The snapped sources, if the distances came from snapped points.
    source_access, access_speed_kmh
        As given to :func:`~gridmap.network.paths.multi_source_distances`:
        whether each source first walks its own off-road leg, and how fast.
    """
    forward, backward = graph.costs(weight)
    du, dv = dist_per_node[graph.link_u], dist_per_node[graph.link_v]
    from_u = _reach(du, forward, limit)
    from_v = _reach(dv, backward, limit)
    if nearest_source is None:
        lu = lv = np.full(graph.n_links, -1, dtype=np.int64)
    else:
        lu, lv = nearest_source[graph.link_u], nearest_source[graph.link_v]
    meet = _meeting_point(du, dv, forward, backward)
    covered = (from_u + from_v >= 1.0) & (from_u > 0) & (from_v > 0)
    whole = covered & (lu == lv)
    split = covered & (lu != lv)
    u_end = np.where(whole, 1.0, np.where(split, meet, from_u))
    v_start = np.where(split, meet, 1.0 - from_v)
    links = np.arange(graph.n_links)
    has_u, has_v = u_end > 0, (v_start < 1.0) & ~whole
    pieces = ReachedEdges(
        link=np.concatenate([links[has_u], links[has_v]]),
        start=np.concatenate([np.zeros(int(has_u.sum())), v_start[has_v]]),
        end=np.concatenate([u_end[has_u], np.ones(int(has_v.sum()))]),
        source=np.concatenate([lu[has_u], lv[has_v]]),
    )
    if sources is not None:
        start = (
            access_cost(sources, weight, access_speed_kmh)
            if source_access
            else np.zeros(len(sources))
        )
        own = _own_link(
            sources, start, forward, backward, limit, labelled=nearest_source is not None
        )
        pieces = _concat(pieces, own)
    return pieces


def service_area(
    graph: RoadGraph,
    dist_per_node: FloatArray,
    limit: float,
    *,
    buffer_m: float,
    weight: Weight = "length",
    sources: Snapped | None = None,
    source_access: bool = False,
    access_speed_kmh: float | None = None,
) -> BaseGeometry:
    """Area reached by any source within ``limit``: reached road lines buffered by ``buffer_m``.

    See the module docstring for the construction; ``buffer_m=0`` returns the
    reached lines (a MultiLineString) instead of a polygon. ``source_access``
    and ``access_speed_kmh`` as for :func:`reached_edges`.
    """
    pieces = reached_edges(
        graph,
        dist_per_node,
        limit,
        weight=weight,
        sources=sources,
        source_access=source_access,
        access_speed_kmh=access_speed_kmh,
    )
    return _geometry(pieces.merged().lines(graph), buffer_m)


def service_areas(  # noqa: PLR0913 - reached_edges' keywords plus buffer_m and n_sources
    graph: RoadGraph,
    dist_per_node: FloatArray,
    nearest_source: IntArray,
    limit: float,
    *,
    buffer_m: float,
    weight: Weight = "length",
    sources: Snapped | None = None,
    n_sources: int | None = None,
    source_access: bool = False,
    access_speed_kmh: float | None = None,
) -> list[BaseGeometry]:
    """One service area per source, from the nearest-source labels.

    Each part of the network within ``limit`` goes to its nearest source, so
    the areas partition :func:`service_area` (up to the buffers, which may
    overlap where two areas meet). A source reaching nothing gets an empty
    geometry. ``n_sources`` defaults to ``len(sources)`` or the largest label + 1;
    ``source_access`` and ``access_speed_kmh`` as for :func:`reached_edges`.
    """
    pieces = reached_edges(
        graph,
        dist_per_node,
        limit,
        weight=weight,
        nearest_source=nearest_source,
        sources=sources,
        source_access=source_access,
        access_speed_kmh=access_speed_kmh,
    ).merged()
    if n_sources is None:
        n_sources = len(sources) if sources is not None else int(nearest_source.max(initial=-1)) + 1
    return _per_source(pieces.lines(graph), pieces.source, n_sources, buffer_m)


def _per_source(
    lines: npt.NDArray[np.object_], source: IntArray, n_sources: int, buffer_m: float
) -> list[BaseGeometry]:
    """:func:`_geometry` of each source's pieces, with one pass over all pieces.

    The pieces are grouped by a stable sort, so each source unions exactly the
    buffers it did piece by piece (same order, same shape), without scanning every
    piece once per source; the sources are buffered on a thread per core.
    """
    keep = shapely.length(lines) > 0 if lines.size else np.zeros(0, dtype=bool)
    lines, source = lines[keep], source[keep]
    order = np.argsort(source, kind="stable")
    lines, source = lines[order], source[order]
    bounds = np.searchsorted(source, np.arange(n_sources + 1))
    groups = [lines[bounds[i] : bounds[i + 1]] for i in range(n_sources)]
    if buffer_m <= 0:
        return [
            shapely.multilinestrings(m) if m.size else shapely.MultiLineString() for m in groups
        ]
    return thread_map(lambda m: _buffered(m, buffer_m) if m.size else shapely.Polygon(), groups)


def _reach(dist: FloatArray, cost: FloatArray, limit: float) -> FloatArray:
    """Fraction of each link reachable from the end at cost ``dist``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(cost > 0, (limit - dist) / cost, 1.0)
    ok = (dist <= limit) & np.isfinite(cost)
    fraction: FloatArray = np.where(ok, np.clip(ratio, 0.0, 1.0), 0.0)
    return fraction


def _meeting_point(du: FloatArray, dv: FloatArray, fwd: FloatArray, bwd: FloatArray) -> FloatArray:
    """Fraction where cost via ``u`` equals cost via ``v`` (meaningful where both reach)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        meet = (dv + bwd - du) / (fwd + bwd)
    point: FloatArray = np.clip(np.nan_to_num(meet, nan=0.5), 0.0, 1.0)
    return point


def _own_link(
    sources: Snapped,
    start: FloatArray,
    fwd: FloatArray,
    bwd: FloatArray,
    limit: float,
    *,
    labelled: bool,
) -> ReachedEdges:
    """Piece of each snapped source's own link within ``limit`` of its position.

    ``start`` is each source's cost on arriving at its position (its access leg).
    """
    used = np.flatnonzero(~sources.too_far)
    link, s = sources.link[used], sources.fraction[used]
    ahead = _reach(start[used], fwd[link], limit)
    behind = _reach(start[used], bwd[link], limit)
    start, end = np.maximum(s - behind, 0.0), np.minimum(s + ahead, 1.0)
    label = used if labelled else np.full(used.size, -1, dtype=np.int64)
    keep = end > start
    return ReachedEdges(link[keep], start[keep], end[keep], label[keep].astype(np.int64))


def _concat(a: ReachedEdges, b: ReachedEdges) -> ReachedEdges:
    return ReachedEdges(
        np.concatenate([a.link, b.link]),
        np.concatenate([a.start, b.start]),
        np.concatenate([a.end, b.end]),
        np.concatenate([a.source, b.source]),
    )


def _merge(pieces: ReachedEdges) -> ReachedEdges:
    """Dissolve overlapping pieces with the same link and source (sort and sweep)."""
    if pieces.link.size == 0:
        return pieces
    order = np.lexsort((pieces.start, pieces.source, pieces.link))
    link, source = pieces.link[order], pieces.source[order]
    start, end = pieces.start[order], pieces.end[order]
    group = np.r_[True, (link[1:] != link[:-1]) | (source[1:] != source[:-1])]
    group_id = np.cumsum(group)
    reach = np.maximum.accumulate(group_id * 2.0 + end) - group_id * 2.0
    new = group | np.r_[False, start[1:] > reach[:-1]]
    run = np.cumsum(new) - 1
    first = np.flatnonzero(new)
    run_end = np.full(first.size, -np.inf)
    np.maximum.at(run_end, run, end)
    return ReachedEdges(link[first], start[first], run_end, source[first])


def _cut(graph: RoadGraph, pieces: ReachedEdges) -> npt.NDArray[np.object_]:
    """LineString of each piece; whole links reuse their geometry.

    A part of a straight link (two vertices) is cut in one vectorised step; a part of
    any other link with :func:`shapely.ops.substring`.
    """
    geometry = graph.link_geometry[pieces.link]
    out = geometry.copy()
    part = (pieces.start > 0) | (pieces.end < 1)
    straight = part & (shapely.get_num_coordinates(geometry) == 2)
    if straight.any():
        out[straight] = _straight_parts(
            geometry[straight], pieces.start[straight], pieces.end[straight]
        )
    length = graph.link_length_m[pieces.link]
    for i in np.flatnonzero(part & ~straight):
        a, b = pieces.start[i], pieces.end[i]
        out[i] = substring(geometry[i], a * length[i], b * length[i])
    return out


def _straight_parts(
    lines: npt.NDArray[np.object_], start: FloatArray, end: FloatArray
) -> npt.NDArray[np.object_]:
    """The part of each two-vertex line from fraction ``start`` to ``end``."""
    xy = shapely.get_coordinates(lines).reshape(-1, 2, 2)
    p, q = xy[:, 0], xy[:, 1]
    a = p + (q - p) * start[:, None]
    b = p + (q - p) * end[:, None]
    parts: npt.NDArray[np.object_] = shapely.linestrings(np.stack([a, b], axis=1))
    return parts


def _geometry(lines: npt.NDArray[np.object_], buffer_m: float) -> BaseGeometry:
    lines = lines[shapely.length(lines) > 0] if lines.size else lines
    merged = shapely.multilinestrings(lines) if lines.size else shapely.MultiLineString()
    if buffer_m <= 0:
        return merged
    if not lines.size:
        return shapely.Polygon()
    return _buffered(lines, buffer_m)


def _buffered(lines: npt.NDArray[np.object_], buffer_m: float) -> BaseGeometry:
    """Union of the buffers of ``lines``, joined into chains first (:mod:`._chains`).

    The same shape as buffering the multi-line at once (up to where the vertices of an
    arc fall), several times faster; buffering every piece and unioning the buffers is
    slower still on a street grid. 16 segments a quarter circle, as
    ``BaseGeometry.buffer`` draws them.
    """
    buffered: BaseGeometry = shapely.union_all(
        shapely.buffer(chains(lines), buffer_m, quad_segs=16)
    )
    return buffered
