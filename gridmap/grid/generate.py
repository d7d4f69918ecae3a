"""Generate grid cells (网格) that cover a township or county boundary.

Cells are built in the metric CRS that :func:`gridmap.crs.metric_crs_for`
picks at the boundary's centre (a CGCS2000 Gauss-Kruger zone in China), clipped
to the boundary, optionally split along community/village boundaries, and
returned in WGS-84. The division follows the principle of DOMAIN.md: full
coverage, no gaps, no overlaps, every cell in exactly one community.
"""

from __future__ import annotations

import logging
import math
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from gridmap.grid._common import (
    WGS84,
    GeomArray,
    GridError,
    frame_to_metric,
    metric_crs_of,
    polygon_parts,
    project,
    reading_order,
)
from gridmap.grid._lattice import Lattice, h3_lattice, hex_lattice, square_lattice
from gridmap.grid._pieces import (
    Pieces,
    SliverPolicy,
    clip_to_boundary,
    disjoint_communities,
    handle_slivers,
    split_by_communities,
)

__all__ = ["GRID_ATTRS_KEY", "CellShape", "compute_grid"]

logger = logging.getLogger(__name__)

CellShape = Literal["square", "hex", "h3"]

#: Key of ``GeoDataFrame.attrs`` holding how a grid was generated (shape, size, origin, CRS).
GRID_ATTRS_KEY = "gridmap.grid"

_SNAP_M = 1e-6


def compute_grid(
    boundary: BaseGeometry,
    *,
    shape: CellShape,
    size_m: float | None = None,
    resolution: int | None = None,
    communities: gpd.GeoDataFrame | None = None,
    min_area_fraction: float = 0.05,
    slivers: SliverPolicy = "merge",
) -> gpd.GeoDataFrame:
    """Divide a WGS-84 boundary into grid cells.

    Parameters
    ----------
    boundary
        Township or county (Multi)Polygon in WGS-84 (or CGCS2000 geographic,
        which is within centimetres of it).
    shape
        ``"square"``: squares of side ``size_m``, on a lattice whose origin is
        snapped to a multiple of ``size_m`` in the metric CRS, so the grid can
        be indexed by arithmetic (:class:`~gridmap.grid.RegularGrid`).
        ``"hex"``: pointy-top regular hexagons whose **side length** (= the
        circumradius) is ``size_m``; the flat-to-flat width is
        ``sqrt(3) * size_m`` and the area ``3 * sqrt(3) / 2 * size_m**2``.
        ``"h3"``: H3 cells at ``resolution`` (0-15).
    size_m, resolution
        Cell size for square/hex, H3 resolution for h3; exactly one applies.
    communities
        Village/community polygons with columns ``code`` and ``name`` (any CRS;
        none means WGS-84). Each cell is assigned to one community: a cell that
        crosses community boundaries is **split along them**, one cell per
        community, and the part of a cell outside every community joins the
        community with the largest overlap. Overlapping communities are made
        disjoint first, the earlier row winning. Without communities,
        ``area_code`` is None.
    min_area_fraction
        Cells smaller than this fraction of a full lattice cell are slivers.
    slivers
        ``"merge"`` (default) joins each sliver to the neighbouring cell of the
        same community that shares the longest border with it (a sliver with
        no such neighbour is kept, so no gap appears); ``"drop"`` removes
        slivers, leaving gaps that :func:`~gridmap.grid.compute_grid_check` reports;
        ``"keep"`` leaves them.

    Returns
    -------
    geopandas.GeoDataFrame
        In EPSG:4326, columns ``seq`` (1..n, west to east, north to south),
        ``code`` (None until :func:`~gridmap.grid.assign_codes`), ``area_code``
        and ``geometry``. ``attrs["gridmap.grid"]`` records shape, size,
        resolution, lattice origin and metric CRS.

    Raises
    ------
    GridError
        When the arguments do not fit together (every problem listed).
    """
    _validate(boundary, shape, size_m, resolution, communities, min_area_fraction)
    metric = metric_crs_of(boundary)
    boundary_m = _valid_polygons(project(boundary, WGS84, metric)).item()
    lattice = _lattice(boundary, boundary_m, shape, size_m, resolution, metric)
    pieces = clip_to_boundary(lattice.cells, boundary_m)
    if communities is not None:
        community_geoms = disjoint_communities(
            _valid_polygons(frame_to_metric(communities, metric))
        )
        codes = [str(c) for c in communities["code"]]
        pieces = split_by_communities(pieces, community_geoms, codes)
        _warn_outside_communities(pieces)
    pieces = handle_slivers(pieces, min_area_fraction, slivers)
    frame = _to_frame(pieces, metric)
    frame.attrs[GRID_ATTRS_KEY] = {
        "shape": shape,
        "size_m": size_m,
        "resolution": resolution,
        "origin_x": lattice.origin[0],
        "origin_y": lattice.origin[1],
        "crs": metric.to_string(),
    }
    logger.info("generated %d %s cells in %s", len(frame), shape, metric.to_string())
    return frame


def _valid_polygons(geoms: GeomArray) -> GeomArray:
    """Repair polygons that projection made invalid (a ring collapsed to a sliver).

    A valid WGS-84 polygon with a near-degenerate ring can come out of the
    projection with "too few points" or a self-touching ring; clipping cells to
    it would then silently drop whole cells.
    """
    out = np.asarray(geoms, dtype=object).copy()
    flat = out.reshape(-1)
    for i in np.flatnonzero(~shapely.is_valid(flat)):
        flat[i] = shapely.union_all(polygon_parts(shapely.make_valid(flat[i])))
    return out


def _warn_outside_communities(pieces: Pieces) -> None:
    orphans = sum(code is None for code in pieces.area_codes)
    if orphans:
        logger.warning(
            "%d cell(s) lie in no community and have no area_code: extend the community "
            "polygons to cover the boundary, or fill area_code by hand",
            orphans,
        )


def _validate(
    boundary: Any,
    shape: str,
    size_m: float | None,
    resolution: int | None,
    communities: gpd.GeoDataFrame | None,
    min_area_fraction: float,
) -> None:
    """Collect every problem with the arguments and raise them together."""
    problems: list[str] = []
    problems += _boundary_problems(boundary)
    problems += _size_problems(shape, size_m, resolution)
    if communities is not None and not {"code", "name"} <= set(communities.columns):
        got = list(communities.columns)
        problems.append(f"communities need columns 'code' and 'name', got {got}")
    if not 0.0 <= min_area_fraction < 1.0:
        problems.append(f"min_area_fraction must be in [0, 1), got {min_area_fraction}")
    if problems:
        raise GridError("cannot generate cells:\n- " + "\n- ".join(problems))


def _boundary_problems(boundary: Any) -> list[str]:
    if not isinstance(boundary, BaseGeometry) or boundary.geom_type not in (
        "Polygon",
        "MultiPolygon",
    ):
        return [f"boundary must be a shapely Polygon or MultiPolygon, got {boundary!r:.80}"]
    if boundary.is_empty or not shapely.is_valid(boundary):
        reason = shapely.is_valid_reason(boundary)
        return [
            f"boundary must be a valid, non-empty polygon ({reason}); "
            "repair it with shapely.make_valid"
        ]
    minx, miny, maxx, maxy = boundary.bounds
    if max(abs(minx), abs(maxx)) > 180 or max(abs(miny), abs(maxy)) > 90:
        return [
            f"boundary must be in WGS-84 lon/lat degrees, got bounds {boundary.bounds}; "
            "reproject it with to_crs(4326)"
        ]
    return []


def _size_problems(shape: str, size_m: float | None, resolution: int | None) -> list[str]:
    if shape in ("square", "hex"):
        if size_m is None or not math.isfinite(size_m) or size_m <= 0:
            return [f"shape={shape!r} needs size_m > 0 (metres), got {size_m}"]
        if resolution is not None:
            return [f"resolution applies to shape='h3' only; drop it for shape={shape!r}"]
        return []
    if shape == "h3":
        if resolution is None or not 0 <= resolution <= 15:
            return [f"shape='h3' needs resolution in 0..15, got {resolution}"]
        if size_m is not None:
            return ["size_m applies to square/hex only; give resolution for shape='h3'"]
        return []
    return [f"shape must be 'square', 'hex' or 'h3', got {shape!r}"]


def _lattice(
    boundary: BaseGeometry,
    boundary_m: BaseGeometry,
    shape: str,
    size_m: float | None,
    resolution: int | None,
    metric: CRS,
) -> Lattice:
    if shape == "h3":
        assert resolution is not None
        return h3_lattice(boundary, resolution, metric)
    assert size_m is not None
    builder = square_lattice if shape == "square" else hex_lattice
    return builder(boundary_m.bounds, size_m)


def _to_frame(pieces: Pieces, metric: CRS) -> gpd.GeoDataFrame:
    """Order pieces west to east, north to south and return them as WGS-84 cells."""
    geoms = np.asarray(pieces.geoms, dtype=object)
    if len(geoms) == 0:
        raise GridError("no cell intersects the boundary: is it empty or far too small?")
    reps = shapely.point_on_surface(geoms)
    nominal = float(np.median(pieces.nominal_areas))
    order = reading_order(shapely.get_x(reps), shapely.get_y(reps), 0.5 * math.sqrt(nominal))
    # Overlay leaves needle-thin spikes (base vertices 1e-10 m apart) that projection
    # rounding turns into self-intersections: snap to a micrometre grid to collapse them.
    # Shared vertices snap alike, so neighbours still share edges exactly.
    metric_geoms = np.asarray(shapely.set_precision(geoms[order], _SNAP_M), dtype=object)
    # A piece thinner than the snap grid collapses to nothing: it had no area to manage.
    kept = ~shapely.is_empty(metric_geoms)
    order, metric_geoms = order[kept], metric_geoms[kept]
    return gpd.GeoDataFrame(
        {
            "seq": np.arange(1, len(order) + 1, dtype=np.int64),
            "code": np.full(len(order), None, dtype=object),
            "area_code": np.asarray([pieces.area_codes[i] for i in order], dtype=object),
        },
        geometry=_wgs84_valid(metric_geoms, metric),
        crs=WGS84,
    )


def _wgs84_valid(metric_geoms: GeomArray, metric: CRS) -> GeomArray:
    """Project cells to WGS-84, repairing the few that rounding makes invalid.

    Overlay can leave a needle-thin spike whose two base vertices differ by
    1e-10 m; projection rounding then crosses them. Such cells are snapped to
    a 1 micrometre grid first (which collapses the spike) and, if still
    invalid, repaired with ``make_valid``, keeping the polygonal parts.
    """
    wgs84 = project(metric_geoms, metric, WGS84)
    bad = np.flatnonzero(~shapely.is_valid(wgs84))
    if len(bad) == 0:
        return wgs84
    wgs84[bad] = project(shapely.set_precision(metric_geoms[bad], _SNAP_M), metric, WGS84)
    still = bad[~shapely.is_valid(wgs84[bad])]
    for pos in still:
        wgs84[pos] = shapely.union_all(polygon_parts(shapely.make_valid(wgs84[pos])))
    logger.debug(
        "repaired %d cell(s) made invalid by rounding (%d by make_valid)", len(bad), len(still)
    )
    return wgs84
