"""Check a grid against the division principle: full coverage, no gaps, no overlaps.

:func:`compute_grid_check` measures everything in the metric CRS picked at the
boundary's centre and returns a :class:`GridReport` listing gaps, parts of
cells outside the boundary, overlapping cell pairs (found with an STRtree),
cells lying in more than one community, duplicate codes, and cells without a
code or with an invalid geometry.
"""

from __future__ import annotations

import logging
import math

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gridmap.grid._common import (
    WGS84,
    GeomArray,
    frame_in_metric,
    frame_to_metric,
    metric_crs_of,
    polygon_parts,
    project,
)
from gridmap.grid._problems import (
    CodeDuplicate,
    Crossing,
    Gap,
    GridReport,
    Overlap,
    Spill,
    UnfitCell,
)

__all__ = ["compute_grid_check", "find_overlaps"]

logger = logging.getLogger(__name__)


def compute_grid_check(
    cells: gpd.GeoDataFrame,
    boundary: BaseGeometry,
    *,
    communities: gpd.GeoDataFrame | None = None,
    overlap_tolerance_m2: float = 1.0,
    gap_tolerance_m2: float = 1.0,
) -> GridReport:
    """Find every problem in a grid.

    Parameters
    ----------
    cells
        Cells with a ``code`` column (missing codes are reported) and a CRS
        (none means WGS-84).
    boundary
        The township/county (Multi)Polygon the cells must cover, in WGS-84.
    communities
        Village/community polygons with a ``code`` column; when given, cells
        lying more than ``overlap_tolerance_m2`` in two or more are reported.
    overlap_tolerance_m2
        Overlaps (and community shares) up to this area are rounding, not problems.
    gap_tolerance_m2
        Gaps and spills up to this area (each polygon) are ignored.
    """
    metric = metric_crs_of(boundary)
    geoms = frame_to_metric(cells, metric)
    labels = _labels(cells)
    fixed = np.asarray(shapely.make_valid(geoms), dtype=object)
    boundary_m = project(boundary, WGS84, metric).item()
    covered = shapely.union_all(fixed)
    report = GridReport(
        gaps=tuple(
            Gap(g, a) for g, a in _pieces(boundary_m.difference(covered), metric, gap_tolerance_m2)
        ),
        spills=tuple(
            Spill(g, a)
            for g, a in _pieces(covered.difference(boundary_m), metric, gap_tolerance_m2)
        ),
        overlaps=_overlaps(fixed, labels, metric, overlap_tolerance_m2),
        crossings=_crossings(fixed, labels, communities, metric, overlap_tolerance_m2),
        duplicates=_duplicates(cells, geoms, metric),
        unfit=_unfit(cells, geoms, labels, metric),
        boundary_area_m2=float(boundary_m.area),
        cell_area_m2=float(shapely.area(fixed).sum()),
        metric_crs=metric.to_string(),
    )
    logger.info("checked %d cells: %s", len(cells), "ok" if report.ok else "problems found")
    return report


def find_overlaps(
    cells: gpd.GeoDataFrame, *, overlap_tolerance_m2: float = 1.0
) -> tuple[Overlap, ...]:
    """Pairs of cells covering the same ground, anywhere (no boundary needed).

    Measured in the metric CRS picked at the centre of the cells' bounds;
    ``cells`` need a CRS (none means WGS-84) and may have a ``code`` column.
    """
    if cells.empty:
        return ()
    geoms, metric = frame_in_metric(cells)
    fixed = np.asarray(shapely.make_valid(geoms), dtype=object)
    return _overlaps(fixed, _labels(cells), metric, overlap_tolerance_m2)


def _labels(cells: gpd.GeoDataFrame) -> list[str]:
    """The code of each cell, or ``row N`` when it has none."""
    codes = cells["code"] if "code" in cells.columns else [None] * len(cells)
    return [str(c) if _has_code(c) else f"row {i}" for i, c in enumerate(codes)]


def _has_code(value: object) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _to_wgs84(geom: BaseGeometry, metric: CRS) -> BaseGeometry:
    out: BaseGeometry = project(geom, metric, WGS84).item()
    return out


#: Gaps and spills thinner than this on average (m) are rounding along long edges.
SLIVER_WIDTH_M = 0.01


def _pieces(geom: BaseGeometry, metric: CRS, tolerance: float) -> list[tuple[BaseGeometry, float]]:
    """Polygon parts of ``geom`` above ``tolerance`` m², in WGS-84, with their areas.

    A part whose mean width (2 x area / perimeter) is under :data:`SLIVER_WIDTH_M`
    is left out too: cells clipped along a boundary edge kilometres long leave a
    strip a few millimetres wide that is no ground anyone manages.
    """
    return [
        (_to_wgs84(part, metric), float(part.area))
        for part in polygon_parts(geom)
        if part.area > tolerance and 2.0 * part.area / part.length >= SLIVER_WIDTH_M
    ]


def _overlaps(
    geoms: GeomArray, labels: list[str], metric: CRS, tolerance: float
) -> tuple[Overlap, ...]:
    """Pairs of cells whose intersection exceeds ``tolerance`` m²."""
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    interiors = ~shapely.touches(geoms[left], geoms[right])
    left, right = left[interiors], right[interiors]
    shared = shapely.intersection(geoms[left], geoms[right])
    areas = shapely.area(shared)
    return tuple(
        Overlap((labels[i], labels[j]), _to_wgs84(g, metric), float(a))
        for i, j, g, a in zip(left, right, shared, areas, strict=True)
        if a > tolerance
    )


def _crossings(
    geoms: GeomArray,
    labels: list[str],
    communities: gpd.GeoDataFrame | None,
    metric: CRS,
    tolerance: float,
) -> tuple[Crossing, ...]:
    """Cells with more than ``tolerance`` m² in each of two or more communities."""
    if communities is None:
        return ()
    community_geoms = np.asarray(
        shapely.make_valid(frame_to_metric(communities, metric)),
        dtype=object,
    )
    codes = [str(c) for c in communities["code"]]
    cell_idx, comm_idx = shapely.STRtree(community_geoms).query(geoms, predicate="intersects")
    areas = shapely.area(shapely.intersection(geoms[cell_idx], community_geoms[comm_idx]))
    shares: dict[int, list[tuple[str, float]]] = {}
    for i, j, area in zip(cell_idx, comm_idx, areas, strict=True):
        if area > tolerance:
            shares.setdefault(int(i), []).append((codes[j], float(area)))
    return tuple(
        Crossing(labels[i], tuple(sorted(s)), _to_wgs84(geoms[i], metric))
        for i, s in sorted(shares.items())
        if len(s) > 1
    )


def _duplicates(
    cells: gpd.GeoDataFrame, geoms: GeomArray, metric: CRS
) -> tuple[CodeDuplicate, ...]:
    if "code" not in cells.columns:
        return ()
    rows: dict[str, list[int]] = {}
    for i, code in enumerate(cells["code"]):
        if _has_code(code):
            rows.setdefault(str(code), []).append(i)
    return tuple(
        CodeDuplicate(code, tuple(r), _to_wgs84(shapely.union_all(geoms[r]), metric))
        for code, r in sorted(rows.items())
        if len(r) > 1
    )


def _unfit(
    cells: gpd.GeoDataFrame, geoms: GeomArray, labels: list[str], metric: CRS
) -> tuple[UnfitCell, ...]:
    out: list[UnfitCell] = []
    codes = cells["code"] if "code" in cells.columns else [None] * len(cells)
    for i, code in enumerate(codes):
        if not _has_code(code):
            out.append(
                UnfitCell(labels[i], "uncoded", "cell has no code", _to_wgs84(geoms[i], metric))
            )
    for pos in np.flatnonzero(~shapely.is_valid(geoms)):
        reason = shapely.is_valid_reason(geoms[pos])
        out.append(
            UnfitCell(
                labels[pos], "invalid", f"invalid geometry: {reason}", _to_wgs84(geoms[pos], metric)
            )
        )
    return tuple(out)
