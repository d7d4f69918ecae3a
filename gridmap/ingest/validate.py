"""Check, repair and reproject the geometries of one layer.

Rules, applied to every row so that all problems are reported at once:

* an empty or missing geometry is rejected (organisations may have none);
* the geometry type must fit the kind (:data:`~gridmap.ingest.records.GEOMETRY_TYPES`);
  a one-part MultiPoint becomes a Point and a MultiLineString that merges
  into one line becomes a LineString, anything else of the wrong type is
  rejected;
* an invalid polygon is repaired only when the repair is unambiguous, see
  :func:`repair_polygon`;
* coordinates are converted to WGS-84 with :func:`gridmap.crs.to_wgs84`;
  a geometry outside the expected region is rejected, with a reason that says
  "swapped" when exchanging its x and y would have put it inside;
* a geometry far from where the data lies is rejected the same way: "where"
  is the store's areas and cells (``near=``, padded by :func:`padded`), or,
  without them, the robust spread of the file's own rows (:func:`file_extent`:
  median +- 10 median absolute deviations, at least 2 degrees). A Helsinki firm
  written as ``60.52, 26.96`` lands in Iran: rejected as swapped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.crs import CHINA_BBOX, SourceCRS, to_wgs84
from gridmap.ingest.records import GEOMETRY_TYPES, OPTIONAL_GEOMETRY, RecordKind

__all__ = [
    "WORLD",
    "GeometryCheck",
    "check_geometries",
    "default_region",
    "file_extent",
    "padded",
    "repair_polygon",
]

Region = tuple[float, float, float, float]
Coords = npt.NDArray[np.float64]

WORLD: Final[Region] = (-180.0, -90.0, 180.0, 90.0)

#: Largest relative area difference between the two GEOS repair methods for
#: a repair to count as unambiguous.
REPAIR_TOLERANCE: Final = 0.01

#: Margin around the store's areas and cells, in degrees: the larger of this (about
#: 100 km) and the extent's own width or height.
NEAR_MARGIN_DEG: Final = 1.0
#: Rows with coordinates a file needs before its own spread is judged.
MIN_ROWS_FOR_SPREAD: Final = 5
#: Half-width of a file's extent: this many robust standard deviations (1.4826 x MAD) ...
SPREAD_FACTOR: Final = 10.0
#: ... and at least this many degrees (about 200 km).
MIN_SPREAD_DEG: Final = 2.0


def padded(extent: Region) -> Region:
    """``extent`` grown on every side by its size, at least :data:`NEAR_MARGIN_DEG`."""
    west, south, east, north = extent
    dx = max(NEAR_MARGIN_DEG, east - west)
    dy = max(NEAR_MARGIN_DEG, north - south)
    return (west - dx, max(south - dy, -90.0), east + dx, min(north + dy, 90.0))


def file_extent(points: Coords) -> Region | None:
    """Where most of a file's points lie: median +- max(10 x 1.4826 x MAD, 2 degrees).

    ``None`` for fewer than :data:`MIN_ROWS_FOR_SPREAD` points. The median and the
    median absolute deviation ignore a few wild points, so a swapped pair stands out.
    """
    if len(points) < MIN_ROWS_FOR_SPREAD:
        return None
    middle = np.median(points, axis=0)
    spread = 1.4826 * np.median(np.abs(points - middle), axis=0)
    half = np.maximum(SPREAD_FACTOR * spread, MIN_SPREAD_DEG)
    low, high = middle - half, middle + half
    return (float(low[0]), float(low[1]), float(high[0]), float(high[1]))


def default_region(source: SourceCRS, region: Region | None) -> Region:
    """The expected lon/lat extent: ``region``, China's for China-only systems, else the world."""
    if region is not None:
        return region
    return CHINA_BBOX if source.china_only else WORLD


def repair_polygon(geom: shapely.Geometry) -> tuple[shapely.Geometry | None, str | None]:
    """Repair an invalid polygon when the repair is unambiguous.

    GEOS offers two repairs: ``linework`` (rebuild faces from the noded rings,
    even-odd) and ``structure`` (union of shells minus holes). The repair is
    accepted when the ``linework`` result, keeping only its polygonal parts
    (dropping collapsed spikes), is a non-empty Polygon/MultiPolygon whose area
    is within 1 % of the ``structure`` result. A bow-tie repairs to two
    triangles with both methods and is accepted; a ring that folds over itself
    covers some ground twice, the methods disagree on whether that ground is a
    hole, and the polygon is rejected.

    Returns
    -------
    tuple
        ``(repaired, None)`` or ``(None, reason)``.
    """
    reason = shapely.is_valid_reason(geom)
    linework = _polygonal(shapely.make_valid(geom, method="linework"))
    structure = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if linework is None or structure.is_empty:
        return None, f"invalid polygon ({reason}) that collapses when repaired"
    reference = max(structure.area, linework.area)
    if abs(linework.area - structure.area) > REPAIR_TOLERANCE * reference:
        return None, (
            f"invalid polygon ({reason}); automatic repair is ambiguous (areas "
            f"{linework.area:.6g} vs {structure.area:.6g}): fix the polygon in a GIS"
        )
    return linework, None


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    parts = [p for p in shapely.get_parts(geom) if p.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return None
    merged = shapely.union_all(parts)
    if merged.is_empty or merged.geom_type not in ("Polygon", "MultiPolygon"):
        return None
    return merged


def _normalise_type(
    geom: shapely.Geometry, kind: RecordKind
) -> tuple[shapely.Geometry | None, str | None]:
    accepted = GEOMETRY_TYPES[kind] or frozenset()
    if geom.geom_type == "MultiPoint" and len(shapely.get_parts(geom)) == 1:
        geom = shapely.get_parts(geom)[0]
    elif geom.geom_type == "MultiLineString" and "LineString" in accepted:
        merged = shapely.line_merge(geom)
        geom = merged if merged.geom_type == "LineString" else geom
    if geom.geom_type in accepted:
        return geom, None
    return None, (
        f"{kind.value} records need a {' or '.join(sorted(accepted))} geometry, got "
        f"{geom.geom_type}"
    )


@dataclass
class GeometryCheck:
    """Checked geometries in WGS-84 (``None`` where rejected or absent) and the problems."""

    geometries: list[shapely.Geometry | None]
    problems: dict[int, list[str]] = field(default_factory=dict)
    repaired: set[int] = field(default_factory=set)

    def reject(self, position: int, reason: str) -> None:
        """Record a problem for the row at ``position`` and drop its geometry."""
        self.problems.setdefault(position, []).append(reason)
        self.geometries[position] = None


def _check_one(
    geom: shapely.Geometry | None, kind: RecordKind
) -> tuple[shapely.Geometry | None, str | None, bool]:
    if geom is None or geom.is_empty:
        if kind in OPTIONAL_GEOMETRY:
            return None, None, False
        return None, "empty geometry: the row has no coordinates or shape", False
    reason = _non_finite(shapely.get_coordinates(geom))
    if reason is not None:
        return None, reason, False
    typed, reason = _normalise_type(shapely.force_2d(geom), kind)
    if typed is None or typed.is_valid:
        return typed, reason, False
    repaired, reason = repair_polygon(typed)
    return repaired, reason, repaired is not None


def _non_finite(coords: Coords) -> str | None:
    """Why coordinates cannot be used (NaN or infinite values), else None."""
    if np.isnan(coords).any():
        return "坐标缺失 / geometry has missing (NaN) coordinates: fix or remove this feature"
    if np.isinf(coords).any():
        return (
            "坐标为无穷大 / geometry has infinite coordinates (Infinity): "
            "fix or remove this feature"
        )
    return None


def _converter(source: SourceCRS, swap: bool) -> Callable[[Coords], Coords]:
    def convert(coords: Coords) -> Coords:
        x, y = (coords[:, 1], coords[:, 0]) if swap else (coords[:, 0], coords[:, 1])
        lon, lat = to_wgs84(x, y, source)
        return np.column_stack([lon, lat])

    return convert


def _inside(geoms: Sequence[shapely.Geometry], region: Region) -> npt.NDArray[np.bool_]:
    bounds = shapely.bounds(np.asarray(geoms, dtype=object))
    west, south, east, north = region
    finite = np.isfinite(bounds).all(axis=1)
    inside = (bounds[:, 0] >= west) & (bounds[:, 2] <= east)
    inside &= (bounds[:, 1] >= south) & (bounds[:, 3] <= north)
    return np.asarray(finite & inside, dtype=np.bool_)


def _describe(geom: shapely.Geometry) -> str:
    if geom.geom_type == "Point":
        return f"x={geom.x:.6g}, y={geom.y:.6g}"
    minx, miny, maxx, maxy = geom.bounds
    return f"x {minx:.6g}..{maxx:.6g}, y {miny:.6g}..{maxy:.6g}"


def check_geometries(
    geoms: Sequence[shapely.Geometry | None],
    kind: RecordKind,
    source: SourceCRS,
    region: Region,
    *,
    skip: set[int] | frozenset[int] = frozenset(),
    near: Region | None = None,
) -> GeometryCheck:
    """Check, repair and convert to WGS-84 every geometry not in ``skip``.

    Parameters
    ----------
    geoms
        Geometries in the source CRS, one per row.
    kind
        The record kind, which decides the accepted geometry types.
    source
        The source coordinate system.
    region
        Expected lon/lat extent ``(west, south, east, north)`` in WGS-84.
    skip
        Positions already rejected for their coordinates (nothing to check).
    near
        The lon/lat extent of the store's areas and cells; rows far outside it
        are rejected. ``None``: the file's own spread is used.
    """
    check = GeometryCheck(geometries=[None] * len(geoms))
    for position, geom in enumerate(geoms):
        if position in skip:
            continue
        checked, reason, repaired = _check_one(geom, kind)
        check.geometries[position] = checked
        if reason is not None:
            check.reject(position, reason)
        if repaired:
            check.repaired.add(position)
    originals = list(check.geometries)
    _reproject(check, source, region)
    _check_nearness(check, originals, source, near)
    return check


def _reproject(check: GeometryCheck, source: SourceCRS, region: Region) -> None:
    positions = [i for i, g in enumerate(check.geometries) if g is not None]
    if not positions:
        return
    originals = np.asarray([check.geometries[i] for i in positions], dtype=object)
    converted = shapely.transform(originals, _converter(source, swap=False))
    inside = _inside(list(converted), region)
    swapped = shapely.transform(originals, _converter(source, swap=True))
    swapped_inside = _inside(list(swapped), region)
    west, south, east, north = region
    extent = f"lon {west:g}..{east:g}, lat {south:g}..{north:g}"
    for position, geom, ok, swapped_ok, original in zip(
        positions, converted, inside, swapped_inside, originals, strict=True
    ):
        if ok:
            check.geometries[position] = geom
        elif swapped_ok:
            check.reject(
                position,
                (
                    "疑似经纬度颠倒 / longitude and latitude look swapped "
                    f"({_describe(original)} in {source.name}; "
                    f"exchanged they fall inside {extent}): swap the two columns or values"
                ),
            )
        else:
            check.reject(
                position,
                (
                    f"超出预期范围 / outside the expected region {extent} "
                    f"({_describe(original)} in {source.name}): "
                    "check the coordinates and --crs"
                ),
            )


def _centroids(geoms: Sequence[shapely.Geometry]) -> Coords:
    return np.asarray(shapely.get_coordinates(shapely.centroid(np.asarray(geoms, dtype=object))))


def _points_inside(points: Coords, region: Region) -> npt.NDArray[np.bool_]:
    west, south, east, north = region
    x, y = points[:, 0], points[:, 1]
    return np.asarray((x >= west) & (x <= east) & (y >= south) & (y <= north), dtype=np.bool_)


def _check_nearness(
    check: GeometryCheck,
    originals: Sequence[shapely.Geometry | None],
    source: SourceCRS,
    near: Region | None,
) -> None:
    """Reject geometries far from the store's areas (``near``) or from the file's other rows."""
    positions = [i for i, g in enumerate(check.geometries) if g is not None]
    if not positions:
        return
    centres = _centroids([check.geometries[i] for i in positions])
    extent = padded(near) if near is not None else file_extent(centres)
    if extent is None:
        return
    inside = _points_inside(centres, extent)
    far = [p for p, ok in zip(positions, inside, strict=True) if not ok]
    if not far:
        return
    swapped = shapely.transform(
        np.asarray([originals[i] for i in far], dtype=object), _converter(source, swap=True)
    )
    swapped_inside = _points_inside(_centroids(list(swapped)), extent)
    west, south, east, north = extent
    where = (
        "the store's areas and cells" if near is not None else "the other rows of the file"
    ) + f" (lon {west:.4g}..{east:.4g}, lat {south:.4g}..{north:.4g})"
    for position, swapped_ok in zip(far, swapped_inside, strict=True):
        described = f"{_describe(originals[position])} in {source.name}"
        check.reject(
            position,
            f"疑似经纬度颠倒 / longitude and latitude look swapped ({described}): exchanged "
            f"they fall among {where}; swap the two columns or values"
            if swapped_ok
            else f"远离其他数据 / far from {where} ({described}): check the coordinates "
            "and --crs; if the place is right, import its areas first",
        )
