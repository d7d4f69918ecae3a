"""The road graph: links with geometry, and sparse matrices to route on.

A :class:`RoadGraph` keeps two views of the same network:

* **links**: one per piece of road between two nodes, with its geometry
  (oriented from ``link_u`` to ``link_v``), its length in metres and its cost
  per weight in each direction (``inf`` where the direction is forbidden).
  Snapping and service areas work on links.
* **matrices**: one ``scipy.sparse`` CSR matrix per weight (``"length"`` in
  metres, ``"time"`` in seconds) with entry ``[u, v]`` the cheapest directed
  edge from node ``u`` to node ``v``; parallel links keep the minimum.
  Shortest paths run on these.

Build one with :meth:`RoadGraph.from_lines` (GeoDataFrame of road lines in a
metric CRS, noded as described in :mod:`gridmap.network._noding`) or
:meth:`RoadGraph.from_networkx` (e.g. an OSMnx graph whose nodes were
projected). Speeds per road class are documented in
:mod:`gridmap.network._speeds`.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import numpy.typing as npt
import shapely
from scipy import sparse

from gridmap.network import _speeds
from gridmap.network._noding import node_lines
from gridmap.network._segments import SegmentIndex, build_segment_index
from gridmap.network._speeds import Profile

__all__ = ["RoadGraph", "Weight"]

logger = logging.getLogger(__name__)

Weight = Literal["length", "time"]
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
ObjectArray = npt.NDArray[np.object_]


@dataclass(frozen=True, eq=False)
class RoadGraph:
    """A directed road graph in a metric CRS.

    Attributes
    ----------
    node_xy
        ``(n_nodes, 2)`` node coordinates in the graph CRS.
    node_ids
        Label of each node: its index for :meth:`from_lines`, the networkx
        node for :meth:`from_networkx`.
    link_u, link_v, link_geometry, link_length_m
        Links (see the module docstring); geometry runs from ``link_u`` to ``link_v``.
    link_cost
        Per weight, ``(forward, backward)`` costs of each link; ``inf`` where
        that direction may not be travelled.
    crs
        CRS of the coordinates (metres), or None if unknown.
    profile
        ``"walk"``, ``"drive"`` or None for a graph read from networkx.
    """

    node_xy: FloatArray
    node_ids: npt.NDArray[Any]
    link_u: IntArray
    link_v: IntArray
    link_geometry: ObjectArray
    link_length_m: FloatArray
    link_cost: Mapping[str, tuple[FloatArray, FloatArray]]
    crs: Any
    profile: str | None
    matrices: Mapping[str, Any]

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return int(self.node_xy.shape[0])

    @property
    def n_edges(self) -> int:
        """Number of directed node-to-node edges (parallel links counted once)."""
        return int(next(iter(self.matrices.values())).nnz)

    @property
    def n_links(self) -> int:
        """Number of links (pieces of road with their own geometry)."""
        return int(self.link_u.size)

    @property
    def weights(self) -> tuple[str, ...]:
        """Weights this graph can route on."""
        return tuple(self.matrices)

    def matrix(self, weight: str) -> Any:
        """Return the CSR adjacency matrix of ``weight`` (``[u, v]`` = edge cost)."""
        self._check_weight(weight)
        return self.matrices[weight]

    def costs(self, weight: str) -> tuple[FloatArray, FloatArray]:
        """Return the ``(forward, backward)`` link costs of ``weight``."""
        self._check_weight(weight)
        return self.link_cost[weight]

    def _check_weight(self, weight: str) -> None:
        if weight not in self.matrices:
            msg = f"weight must be one of {self.weights}, got {weight!r}"
            raise ValueError(msg)

    @functools.cached_property
    def segment_index(self) -> SegmentIndex:
        """Segments of all links in an STRtree, built on first use (for snapping)."""
        return build_segment_index(self.link_geometry)

    def to_networkx(self, weight: str = "length") -> nx.DiGraph:
        """Return an equivalent ``networkx.DiGraph`` with nodes ``0..n_nodes-1``.

        Nodes carry ``x`` and ``y``; each edge carries ``weight`` with the
        same (minimum) cost as :meth:`matrix`.
        """
        coo = self.matrix(weight).tocoo()
        graph = nx.DiGraph(crs=self.crs)
        graph.add_nodes_from(
            (i, {"x": float(x), "y": float(y)}) for i, (x, y) in enumerate(self.node_xy)
        )
        graph.add_weighted_edges_from(
            zip(coo.row.tolist(), coo.col.tolist(), coo.data.tolist(), strict=True),
            weight=weight,
        )
        return graph

    @classmethod
    def from_lines(
        cls,
        lines: gpd.GeoDataFrame,
        *,
        profile: Profile,
        walk_kmh: float | None = None,
        speeds: Mapping[str, float] | None = None,
    ) -> RoadGraph:
        """Build the graph of ``profile`` from road lines in a metric CRS.

        Parameters
        ----------
        lines
            (Multi)LineStrings in a projected CRS in metres. Optional columns:
            ``highway`` (OSM class; missing means ``"unclassified"``),
            ``oneway`` (``"yes"``/``"-1"``/``"no"``/bool), ``maxspeed`` and
            ``junction`` (a roundabout is one-way). Lines are connected where
            they share a vertex, at their ends or mid-way; lines crossing
            without a shared vertex (bridges, tunnels) are not connected.
        profile
            ``"walk"``: every walkable class at ``walk_kmh`` in both
            directions, one-way tags ignored. ``"drive"``: class speeds (or
            ``maxspeed``), one-way honoured.
        walk_kmh
            Walking speed, required for ``"walk"`` (gridmap passes
            ``Settings().coverage.walk_kmh``); unused for ``"drive"``.
        speeds
            km/h per class overriding the defaults of ``profile``; 0 excludes
            a class.

        Raises
        ------
        ValueError
            If the CRS is geographic (degrees), or ``"walk"`` has no ``walk_kmh``.
        """
        _check_metric(lines)
        table = _speeds.speed_table(profile, speeds, walk_kmh=walk_kmh)
        parts = lines[lines.geometry.notna() & ~lines.geometry.is_empty]
        parts = parts.explode(index_parts=False).reset_index(drop=True)
        parts = parts[parts.geom_type == "LineString"].reset_index(drop=True)
        kmh, direction = _line_attributes(parts, profile, table)
        usable = np.isfinite(kmh)
        if (~usable).any():
            logger.info("%d of %d lines not usable for %s", (~usable).sum(), len(usable), profile)
        noded = node_lines(np.asarray(parts.geometry.values[usable], dtype=object))
        length = shapely.length(noded.geometry)
        speed_ms = kmh[usable][noded.line] / 3.6
        line_direction = direction[usable][noded.line]
        forward = np.where(line_direction >= 0, 1.0, np.inf)
        backward = np.where(line_direction <= 0, 1.0, np.inf)
        costs = {
            "length": (length * forward, length * backward),
            "time": (length / speed_ms * forward, length / speed_ms * backward),
        }
        return _assemble(
            noded.node_xy,
            np.arange(noded.node_xy.shape[0]),
            noded.u,
            noded.v,
            noded.geometry,
            costs,
            crs=lines.crs,
            profile=profile,
        )

    @classmethod
    def from_networkx(
        cls,
        graph: nx.Graph,
        *,
        weight: str = "length",
        time_weight: str | None = None,
        crs: Any = None,
    ) -> RoadGraph:
        """Build a graph from a networkx (Multi)(Di)Graph whose nodes have ``x``, ``y``.

        Parameters
        ----------
        graph
            Nodes must carry ``x`` and ``y`` in a metric CRS (project an OSMnx
            graph first). Undirected graphs are travelled both ways.
        weight
            Edge attribute giving the length in metres (strings, as read from
            GraphML, are converted); becomes weight ``"length"``.
        time_weight
            Optional edge attribute in seconds; becomes weight ``"time"``.
        crs
            CRS of ``x``/``y``; defaults to the graph's ``crs`` attribute.

        Notes
        -----
        Each link's geometry is the straight segment between its nodes; its
        costs come from the attributes. Edges ``u->v`` and ``v->u`` become one
        link with a forward and a backward cost; parallel edges keep the minimum.
        """
        nodes = list(graph.nodes)
        index = {node: i for i, node in enumerate(nodes)}
        node_xy = np.array([_xy(graph, node) for node in nodes], dtype=np.float64)
        attributes = {"length": weight} | ({"time": time_weight} if time_weight else {})
        edges = _edge_arrays(graph, index, attributes)
        u, v, costs = _pair_links(edges, len(nodes))
        geometry = (
            shapely.linestrings(
                np.stack([node_xy[u], node_xy[v]], axis=1).reshape(-1, 2),
                indices=np.repeat(np.arange(u.size), 2),
            )
            if u.size
            else np.empty(0, dtype=object)
        )
        ids = np.empty(len(nodes), dtype=object)
        ids[:] = nodes
        return _assemble(
            node_xy,
            ids,
            u,
            v,
            np.asarray(geometry, dtype=object),
            costs,
            crs=crs if crs is not None else graph.graph.get("crs"),
            profile=None,
        )


def _check_metric(lines: gpd.GeoDataFrame) -> None:
    if lines.crs is None:
        logger.warning("road lines have no CRS; coordinates are taken as metres")
    elif lines.crs.is_geographic:
        msg = (
            f"road lines must be in a metric CRS, got {lines.crs.name!r} in degrees; "
            "project them first, e.g. lines.to_crs(gridmap.crs.metric_crs_for(lon, lat))"
        )
        raise ValueError(msg)


def _column(frame: gpd.GeoDataFrame, name: str) -> list[object]:
    return frame[name].tolist() if name in frame.columns else [None] * len(frame)


def _line_attributes(
    lines: gpd.GeoDataFrame, profile: Profile, table: Mapping[str, float]
) -> tuple[FloatArray, IntArray]:
    """Speed in km/h (NaN: class excluded) and direction (+1, -1, 0 both) of each line."""
    classes = [_speeds.road_class(h) for h in _column(lines, "highway")]
    kmh = np.array([table.get(c, np.nan) for c in classes], dtype=np.float64)
    if profile == "walk":
        return kmh, np.zeros(len(classes), dtype=np.int64)
    limits = [_speeds.parse_maxspeed(m) for m in _column(lines, "maxspeed")]
    limit = np.array([np.nan if s is None else s for s in limits], dtype=np.float64)
    kmh = np.where(np.isfinite(kmh) & np.isfinite(limit), limit, kmh)
    direction = np.array(
        [
            _implied_oneway(o, c, j)
            for o, c, j in zip(
                _column(lines, "oneway"), classes, _column(lines, "junction"), strict=True
            )
        ],
        dtype=np.int64,
    )
    return kmh, direction


def _implied_oneway(oneway: object, road_class: str, junction: object) -> int:
    """Direction of travel for driving; motorways and roundabouts default to one-way."""
    if oneway is None or (isinstance(oneway, float) and np.isnan(oneway)):
        implied = road_class == "motorway" or str(junction) in {"roundabout", "circular"}
        return 1 if implied else 0
    return _speeds.parse_oneway(oneway)


def _xy(graph: nx.Graph, node: Hashable) -> tuple[float, float]:
    data = graph.nodes[node]
    if "x" not in data or "y" not in data:
        msg = f"node {node!r} has no 'x'/'y' attributes; every node needs coordinates"
        raise ValueError(msg)
    return float(data["x"]), float(data["y"])


def _edge_arrays(
    graph: nx.Graph, index: Mapping[Hashable, int], attributes: Mapping[str, str]
) -> dict[str, npt.NDArray[Any]]:
    """Directed edge list with one float array per weight; undirected edges doubled."""
    rows = list(graph.edges(data=True))
    missing = {name: sum(attr not in d for *_, d in rows) for name, attr in attributes.items()}
    if any(missing.values()):
        msg = f"edges without the requested attributes {attributes}: counts {missing}"
        raise ValueError(msg)
    arrays: dict[str, npt.NDArray[Any]] = {
        "u": np.array([index[u] for u, _, _ in rows], dtype=np.int64),
        "v": np.array([index[v] for _, v, _ in rows], dtype=np.int64),
    }
    for name, attr in attributes.items():
        arrays[name] = np.array([float(d[attr]) for *_, d in rows], dtype=np.float64)
    if not graph.is_directed():
        swapped = {"u": arrays["v"], "v": arrays["u"]}
        arrays = {k: np.concatenate([a, swapped.get(k, a)]) for k, a in arrays.items()}
    return arrays


def _pair_links(
    edges: Mapping[str, npt.NDArray[Any]], n_nodes: int
) -> tuple[IntArray, IntArray, dict[str, tuple[FloatArray, FloatArray]]]:
    """Merge ``u->v`` and ``v->u`` edges into links ``min(u,v) -> max(u,v)``."""
    u, v = edges["u"], edges["v"]
    keep = u != v
    low, high = np.minimum(u, v)[keep], np.maximum(u, v)[keep]
    forward = (u < v)[keep]
    keys, inverse = np.unique(low * n_nodes + high, return_inverse=True)
    costs: dict[str, tuple[FloatArray, FloatArray]] = {}
    for name, values in edges.items():
        if name in ("u", "v"):
            continue
        fwd, bwd = np.full(keys.size, np.inf), np.full(keys.size, np.inf)
        np.minimum.at(fwd, inverse[forward], values[keep][forward])
        np.minimum.at(bwd, inverse[~forward], values[keep][~forward])
        costs[name] = (fwd, bwd)
    return keys // n_nodes, keys % n_nodes, costs


def _assemble(
    node_xy: FloatArray,
    node_ids: npt.NDArray[Any],
    u: IntArray,
    v: IntArray,
    geometry: ObjectArray,
    costs: Mapping[str, tuple[FloatArray, FloatArray]],
    *,
    crs: Any,
    profile: str | None,
) -> RoadGraph:
    """Drop self-loops and build one CSR matrix per weight."""
    keep = u != v
    if (~keep).any():
        logger.debug("dropping %d self-loop links", (~keep).sum())
    costs = {name: (f[keep], b[keep]) for name, (f, b) in costs.items()}
    n = int(node_xy.shape[0])
    return RoadGraph(
        node_xy=node_xy,
        node_ids=node_ids,
        link_u=u[keep].astype(np.int64),
        link_v=v[keep].astype(np.int64),
        link_geometry=geometry[keep],
        link_length_m=np.asarray(shapely.length(geometry[keep]), dtype=np.float64),
        link_cost=costs,
        crs=crs,
        profile=profile,
        matrices={name: _csr(u[keep], v[keep], f, b, n) for name, (f, b) in costs.items()},
    )


def _csr(u: IntArray, v: IntArray, forward: FloatArray, backward: FloatArray, n: int) -> Any:
    """CSR matrix of the allowed directions; parallel edges keep the minimum cost."""
    rows = np.concatenate([u, v])
    cols = np.concatenate([v, u])
    data = np.concatenate([forward, backward])
    allowed = np.isfinite(data)
    rows, cols, data = rows[allowed], cols[allowed], data[allowed]
    order = np.lexsort((data, cols, rows))
    rows, cols, data = rows[order], cols[order], data[order]
    first = np.ones(rows.size, dtype=bool)
    first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
    rows, cols, data = rows[first], cols[first], data[first]
    # Rows are sorted: build CSR directly, with the int32 indices csgraph works in
    # (int64 indices would be copied to int32 on every Dijkstra call).
    index = np.int32 if max(n, data.size) < np.iinfo(np.int32).max else np.int64
    indptr = np.zeros(n + 1, dtype=index)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sparse.csr_array((data, cols.astype(index), indptr), shape=(n, n))
