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
* a geometry far from where the data lies (the store's areas and cells, or the
  spread of the file's own rows) is rejected the same way, see
  :mod:`gridmap.ingest.nearness`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely

from gridmap.crs import CHINA_BBOX, SourceCRS
from gridmap.ingest._geo import WORLD, Coords, Region, converter, describe, inside
from gridmap.ingest.nearness import far_reasons
from gridmap.ingest.records import GEOMETRY_TYPES, OPTIONAL_GEOMETRY, RecordKind

__all__ = [
    "WORLD",
    "GeometryCheck",
    "Region",
    "check_geometries",
    "default_region",
    "repair_polygon",
]


#: Largest relative area difference between the two GEOS repair methods for
#: a repair to count as unambiguous.
REPAIR_TOLERANCE: Final = 0.01


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


def _plain_points(
    geoms: Sequence[shapely.Geometry | None], kind: RecordKind, skip: set[int] | frozenset[int]
) -> npt.NDArray[np.bool_]:
    """Where a geometry is a finite 2-D point the kind accepts: nothing to check or repair.

    Decided for the whole array at once; everything else goes through :func:`_check_one`.
    """
    accepted = GEOMETRY_TYPES[kind] or frozenset()
    array = np.asarray(list(geoms), dtype=object)
    if "Point" not in accepted or not len(array):
        return np.zeros(len(array), dtype=np.bool_)
    plain = shapely.get_type_id(array) == 0  # Point; missing geometries are -1
    plain &= ~shapely.is_empty(array) & ~shapely.has_z(array)
    coords = shapely.get_coordinates(array[plain])
    plain[np.flatnonzero(plain)] = np.isfinite(coords).all(axis=1)
    if skip:
        plain[sorted(skip)] = False
    return np.asarray(plain, dtype=np.bool_)


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
    plain = _plain_points(geoms, kind, skip)
    array = np.empty(len(geoms), dtype=object)
    array[:] = list(geoms)
    accepted = np.empty(len(geoms), dtype=object)
    accepted[plain] = array[plain]
    for position in np.flatnonzero(~plain).tolist():
        if position in skip:
            continue
        checked, reason, repaired = _check_one(array[position], kind)
        accepted[position] = checked
        if reason is not None:
            check.problems.setdefault(position, []).append(reason)
            accepted[position] = None
        if repaired:
            check.repaired.add(position)
    check.geometries = list(accepted.tolist())
    originals = list(check.geometries)
    _reproject(check, source, region)
    for position, reason in far_reasons(check.geometries, originals, source, near).items():
        check.reject(position, reason)
    return check


def _reproject(check: GeometryCheck, source: SourceCRS, region: Region) -> None:
    current = np.empty(len(check.geometries), dtype=object)
    current[:] = check.geometries
    positions = np.flatnonzero(~shapely.is_missing(current))
    if not len(positions):
        return
    originals = current[positions]
    converted = (
        originals
        if _identity(source)
        else shapely.transform(originals, converter(source, swap=False))
    )
    within = inside(list(converted), region)
    current[positions] = converted
    check.geometries = list(current.tolist())
    outside = np.flatnonzero(~within)
    if not len(outside):
        return
    # only rows outside the region need the swapped reading (to say why they are rejected)
    swapped = shapely.transform(originals[outside], converter(source, swap=True))
    swapped_within = inside(list(swapped), region)
    west, south, east, north = region
    extent = f"lon {west:g}..{east:g}, lat {south:g}..{north:g}"
    for k, swapped_ok in zip(outside.tolist(), swapped_within.tolist(), strict=True):
        position, original = int(positions[k]), originals[k]
        if swapped_ok:
            check.reject(
                position,
                (
                    "疑似经纬度颠倒 / longitude and latitude look swapped "
                    f"({describe(original)} in {source.name}; "
                    f"exchanged they fall inside {extent}): swap the two columns or values"
                ),
            )
        else:
            check.reject(
                position,
                (
                    f"超出预期范围 / outside the expected region {extent} "
                    f"({describe(original)} in {source.name}): "
                    "check the coordinates and --crs"
                ),
            )


def _identity(source: SourceCRS) -> bool:
    """Whether coordinates in ``source`` are WGS-84 longitude/latitude already."""
    return source.name == "EPSG:4326"
