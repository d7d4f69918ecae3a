"""Cut lattice cells into pieces: clip to the boundary, split by community, merge slivers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from gridmap.grid._common import GeomArray, polygon_parts

logger = logging.getLogger(__name__)

SliverPolicy = Literal["merge", "drop", "keep"]


@dataclass
class Pieces:
    """Candidate cells in the metric CRS, each with its community and nominal area."""

    geoms: list[BaseGeometry]
    area_codes: list[str | None]
    nominal_areas: list[float]


def clip_to_boundary(cells: GeomArray, boundary: BaseGeometry) -> Pieces:
    """Clip lattice cells to the boundary; a cell cut into parts gives one piece per part."""
    shapely.prepare(boundary)
    inside = shapely.contains_properly(boundary, cells)
    touching = shapely.intersects(boundary, cells) & ~inside
    pieces = Pieces([], [], [])
    cut = shapely.intersection(cells[touching], boundary)
    for cell, geom in zip(
        np.concatenate([cells[inside], cells[touching]]),
        np.concatenate([cells[inside], cut]),
        strict=True,
    ):
        for part in polygon_parts(geom):
            pieces.geoms.append(part)
            pieces.area_codes.append(None)
            pieces.nominal_areas.append(float(cell.area))
    return pieces


def disjoint_communities(geoms: GeomArray) -> GeomArray:
    """Remove from each community the parts already claimed by an earlier one (frame order)."""
    tree = shapely.STRtree(geoms)
    out = geoms.copy()
    for i, geom in enumerate(geoms):
        earlier = [j for j in tree.query(geom, predicate="intersects") if j < i]
        if earlier:
            out[i] = shapely.difference(geom, shapely.union_all(geoms[earlier]))
    return out


def split_by_communities(pieces: Pieces, communities: GeomArray, codes: list[str]) -> Pieces:
    """Split every piece along community boundaries.

    A piece lying in several communities becomes one piece per community. The
    part of a piece outside every community joins the sub-piece with the
    largest overlap; a piece that touches no community keeps ``area_code`` None.
    """
    tree = shapely.STRtree(communities)
    out = Pieces([], [], [])
    for geom, nominal in zip(pieces.geoms, pieces.nominal_areas, strict=True):
        hits = sorted(int(j) for j in tree.query(geom, predicate="intersects"))
        parts = [(codes[j], shapely.intersection(geom, communities[j])) for j in hits]
        parts = [(code, part) for code, part in parts if part.area > 0.0]
        if not parts:
            out.geoms.append(geom)
            out.area_codes.append(None)
            out.nominal_areas.append(nominal)
            continue
        parts = _absorb_leftover(geom, parts)
        for code, part in parts:
            for poly in polygon_parts(part):
                out.geoms.append(poly)
                out.area_codes.append(code)
                out.nominal_areas.append(nominal)
    return out


def _absorb_leftover(
    geom: BaseGeometry, parts: list[tuple[str, BaseGeometry]]
) -> list[tuple[str, BaseGeometry]]:
    """Give the part of ``geom`` outside every community to its largest community part."""
    leftover = shapely.difference(geom, shapely.union_all([p for _, p in parts]))
    if leftover.area <= 0.0:
        return parts
    largest = max(range(len(parts)), key=lambda i: (parts[i][1].area, -i))
    code, part = parts[largest]
    parts[largest] = (code, shapely.union(part, leftover))
    return parts


def handle_slivers(pieces: Pieces, min_fraction: float, policy: SliverPolicy) -> Pieces:
    """Merge, drop or keep pieces smaller than ``min_fraction`` of their lattice cell.

    ``merge`` joins a sliver to the non-sliver piece of the same community that
    shares the longest border with it; a sliver with no such neighbour is kept,
    so merging never leaves a gap.
    """
    areas = np.array([g.area for g in pieces.geoms])
    sliver = areas < min_fraction * np.asarray(pieces.nominal_areas)
    if policy == "keep" or not sliver.any():
        return pieces
    logger.info(
        "%d sliver cell(s) below %.3g of a full cell: %s", sliver.sum(), min_fraction, policy
    )
    if policy == "drop":
        return _subset(pieces, ~sliver)
    targets = _merge_targets(pieces, sliver)
    absorbed: dict[int, list[BaseGeometry]] = {}
    for s, t in targets.items():
        absorbed.setdefault(t, []).append(pieces.geoms[s])
    geoms = [
        shapely.union_all([geom, *absorbed[i]]) if i in absorbed else geom
        for i, geom in enumerate(pieces.geoms)
    ]
    survivors = ~np.isin(np.arange(len(geoms)), list(targets))
    return _subset(Pieces(geoms, pieces.area_codes, pieces.nominal_areas), survivors)


def _merge_targets(pieces: Pieces, sliver: np.ndarray) -> dict[int, int]:
    """Map each sliver to the same-community non-sliver with the longest shared border."""
    geoms = np.asarray(pieces.geoms, dtype=object)
    big = np.flatnonzero(~sliver)
    tree = shapely.STRtree(geoms[big])
    targets: dict[int, int] = {}
    for s in np.flatnonzero(sliver):
        candidates = [int(big[j]) for j in tree.query(geoms[s], predicate="intersects")]
        candidates = [c for c in candidates if pieces.area_codes[c] == pieces.area_codes[s]]
        shared = [
            shapely.length(shapely.intersection(geoms[s].boundary, geoms[c].boundary))
            for c in candidates
        ]
        best = max(range(len(candidates)), key=lambda i: (shared[i], -candidates[i]), default=None)
        if best is not None and shared[best] > 0.0:
            targets[int(s)] = candidates[best]
    return targets


def _subset(pieces: Pieces, mask: np.ndarray) -> Pieces:
    idx = np.flatnonzero(mask)
    return Pieces(
        [pieces.geoms[i] for i in idx],
        [pieces.area_codes[i] for i in idx],
        [pieces.nominal_areas[i] for i in idx],
    )
