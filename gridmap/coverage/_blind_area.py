"""The blind area, computed tile by tile: (populated ∩ cells) − service areas.

One global union of every disc, every cell and every service area costs most of a run
in network mode (the service areas of 2,000 stations have about a million vertices).
The same area, computed locally: the extent of the populated discs is cut into about
``TILES`` x ``TILES`` square tiles; in each tile that holds a disc, the discs, the cells
and the service areas that reach into it are cut to the tile (those inside it as they
are), unioned, intersected and subtracted. Only service areas that meet the tile's
populated part are subtracted at all.

Tiles overlap by ``OVERLAP_M`` so that pieces of one zone in neighbouring tiles overlap
too (pieces that only touched along a computed edge could miss each other by a
rounding error); a piece that reaches into that seam is unioned with the pieces it
meets, a piece inside its tile is a part as it is. The parts equal those of the global
computation (same count, same areas to 1e-7 m² on the county benchmark). The tiles
are independent: they are computed on a thread per core, each exactly as alone.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from scipy.sparse import coo_array
from scipy.sparse.csgraph import connected_components

from gridmap._threads import thread_map

__all__ = ["blind_parts"]

#: Tiles per side of the populated extent.
TILES = 32
#: How far each tile reaches into its neighbours (metres).
OVERLAP_M = 1e-3

Geoms = npt.NDArray[np.object_]
Floats = npt.NDArray[np.float64]


def blind_parts(discs: Geoms, cells: Geoms | None, services: Geoms) -> Geoms:
    """Connected parts (area > 0) of ``union(discs) ∩ union(cells) − union(services)``.

    ``cells`` None: no clipping to the grid. Arrays of shapely geometries in one
    metric CRS.
    """
    if not len(discs):
        return np.empty(0, dtype=object)
    tiles = _tiles(shapely.total_bounds(discs))
    boxes = shapely.box(tiles[:, 0], tiles[:, 1], tiles[:, 2], tiles[:, 3])
    holding = _Grouped(discs, boxes)
    grid = _Grouped(cells, boxes) if cells is not None and len(cells) else None
    serviced = _Grouped(services, boxes) if len(services) else None
    inner: list[Geoms] = []
    seam: list[Geoms] = []
    occupied = holding.occupied()
    areas = thread_map(
        lambda tile: _tile_area(tile, tiles[tile], holding, grid, cells is not None, serviced),
        occupied,
    )
    for tile, area in zip(occupied, areas, strict=True):
        if area is None:
            continue
        parts = shapely.get_parts(area)
        parts = parts[shapely.area(parts) > 0]
        inside = _inside(shapely.bounds(parts), tiles[tile], 2 * OVERLAP_M)
        inner.append(parts[inside])
        seam.append(parts[~inside])
    parts = np.concatenate([*inner, _merge(np.concatenate(seam) if seam else _empty())])
    # one order whatever the tiling: west to east, then south to north
    corner = shapely.bounds(parts)
    ordered: Geoms = parts[np.lexsort((corner[:, 1], corner[:, 0]))]
    return ordered


def _tile_area(
    tile: int,
    box: Floats,
    discs: _Grouped,
    cells: _Grouped | None,
    clip_to_cells: bool,
    services: _Grouped | None,
) -> Any:
    area = shapely.union_all(discs.cut(tile, box))
    if clip_to_cells:
        if cells is None or not cells.count(tile):
            return None
        area = shapely.intersection(area, shapely.union_all(cells.cut(tile, box)))
    if services is not None and services.count(tile):
        shapely.prepare(area)
        meets = shapely.intersects(area, services.geoms[services.members(tile)])
        if meets.any():
            near = services.cut(tile, box, meets)
            area = shapely.difference(area, shapely.union_all(near))
    return None if area.is_empty else area


class _Grouped:
    """Geometries grouped by the tiles their bounds reach into."""

    def __init__(self, geoms: Geoms, boxes: Geoms) -> None:
        self.geoms = geoms
        self.bounds = shapely.bounds(geoms)
        which, tile = shapely.STRtree(boxes).query(geoms, predicate="intersects")
        order = np.argsort(tile, kind="stable")
        self.which = which[order]
        self.starts = np.searchsorted(tile[order], np.arange(len(boxes) + 1))

    def occupied(self) -> npt.NDArray[np.intp]:
        occupied: npt.NDArray[np.intp] = np.flatnonzero(np.diff(self.starts))
        return occupied

    def count(self, tile: int) -> int:
        return int(self.starts[tile + 1] - self.starts[tile])

    def members(self, tile: int) -> npt.NDArray[np.intp]:
        members: npt.NDArray[np.intp] = self.which[self.starts[tile] : self.starts[tile + 1]]
        return members

    def cut(self, tile: int, box: Floats, keep: npt.NDArray[np.bool_] | None = None) -> Geoms:
        """The members of ``tile`` (those ``keep`` marks) cut to ``box``."""
        mine = self.members(tile)
        if keep is not None:
            mine = mine[keep]
        geoms = self.geoms[mine].copy()
        outside = ~_inside(self.bounds[mine], box, 0.0)
        if outside.any():
            geoms[outside] = shapely.intersection(geoms[outside], shapely.box(*box))
        return geoms


def _tiles(bounds: Floats) -> Floats:
    """Overlapping square tiles over ``bounds`` as rows of (minx, miny, maxx, maxy)."""
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    side = max(maxx - minx, maxy - miny, 1.0) / TILES
    nx = max(1, int(np.ceil((maxx - minx) / side)))
    ny = max(1, int(np.ceil((maxy - miny) / side)))
    ix, iy = (a.ravel() for a in np.meshgrid(np.arange(nx), np.arange(ny)))
    x0, y0 = minx + ix * side, miny + iy * side
    pad = OVERLAP_M
    return np.column_stack([x0 - pad, y0 - pad, x0 + side + pad, y0 + side + pad])


def _inside(bounds: Floats, box: Floats, margin: float) -> npt.NDArray[np.bool_]:
    """Which bounds lie within ``box`` shrunk by ``margin``."""
    low = np.all(bounds[:, :2] >= box[:2] + margin, axis=1)
    high = np.all(bounds[:, 2:] <= box[2:] - margin, axis=1)
    inside: npt.NDArray[np.bool_] = low & high
    return inside


def _empty() -> Geoms:
    return np.empty(0, dtype=object)


def _merge(pieces: Geoms) -> Geoms:
    """Union the pieces that meet (across a seam); return the connected parts."""
    if len(pieces) < 2:
        return pieces
    a, b = shapely.STRtree(pieces).query(pieces, predicate="intersects")
    n = len(pieces)
    graph = coo_array((np.ones(len(a)), (a, b)), shape=(n, n))
    _, label = connected_components(graph, directed=False)
    order = np.argsort(label, kind="stable")
    starts = np.searchsorted(label[order], np.arange(int(label.max()) + 2))
    out: list[Any] = []
    for i in range(len(starts) - 1):
        group = pieces[order[starts[i] : starts[i + 1]]]
        if len(group) == 1:
            out.append(group[0])
            continue
        merged = shapely.get_parts(shapely.union_all(group))
        out.extend(merged[shapely.area(merged) > 0])
    return np.asarray(out, dtype=object)
