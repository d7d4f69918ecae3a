"""Geometry side of the siting models: CRS checks and radius coverage.

Distances are only meaningful in a projected CRS measured in metres, so
:func:`check_metric_crs` refuses geographic or mixed inputs instead of
silently computing "distances" in degrees. :func:`radius_coverage` finds every
demand/candidate pair within reach with a KD-tree, so memory grows with the
number of pairs in reach, never with ``n_demand * n_candidates``.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import CRS
from scipy import sparse
from scipy.spatial import cKDTree

from gridmap.siting._validate import raise_if_any

__all__ = ["check_metric_crs", "point_coords", "radius_coverage"]

_METRE_NAMES = frozenset({"metre", "meter", "m"})


def _crs_problem(name: str, crs: CRS | None) -> str | None:
    if crs is None:
        return f"{name} has no CRS: set it with `set_crs()`, then project it with `to_crs()`"
    units = {axis.unit_name.lower() for axis in crs.axis_info}
    if not crs.is_projected or not units <= _METRE_NAMES:
        return (
            f"{name} is in {crs.to_string()} ({'degrees' if crs.is_geographic else units}), "
            "not a projected CRS in metres: use `to_crs()` with a metric CRS, e.g. "
            "gridmap.crs.metric_crs_for(lon, lat)"
        )
    return None


def check_metric_crs(frames: dict[str, Any]) -> None:
    """Check that every GeoDataFrame has the same projected, metric CRS.

    Parameters
    ----------
    frames
        GeoDataFrames by the name the user knows them by (``"demand_gdf"``...),
        used in the error message.

    Raises
    ------
    SitingInputError
        Listing every layer without a CRS, in degrees, or in a CRS different
        from the first layer's, with the ``to_crs()`` fix.
    """
    problems = [p for name, gdf in frames.items() if (p := _crs_problem(name, gdf.crs))]
    crss = {name: CRS.from_user_input(gdf.crs) for name, gdf in frames.items() if gdf.crs}
    if len({crs.to_wkt() for crs in crss.values()}) > 1:
        listing = ", ".join(f"{name}: {crs.to_string()}" for name, crs in crss.items())
        problems.append(
            f"layers are in different CRSs ({listing}): use `to_crs()` to bring them "
            "into one metric CRS"
        )
    raise_if_any(problems, "layers for siting")


def point_coords(gdf: Any, name: str) -> npt.NDArray[np.float64]:
    """Return the ``(n, 2)`` coordinates of a GeoDataFrame of points.

    Raises
    ------
    SitingInputError
        If some geometries are missing or not points; the message suggests
        :func:`gridmap.siting.cell_points` for polygons such as grid cells.
    """
    geoms = gdf.geometry
    problems: list[str] = []
    if bool(geoms.isna().any()) or bool(geoms.is_empty.any()):
        problems.append(f"{name} has missing or empty geometries: drop or fix them")
    elif not bool((geoms.geom_type == "Point").all()):
        kinds = sorted(set(geoms.geom_type) - {"Point"})
        problems.append(
            f"{name} must hold points, found {', '.join(kinds)}: use "
            "`gridmap.siting.cell_points(gdf)` (representative points) first"
        )
    raise_if_any(problems, name)
    return np.column_stack([geoms.x.to_numpy(), geoms.y.to_numpy()]).astype(np.float64)


def radius_coverage(
    demand_xy: npt.NDArray[np.float64], site_xy: npt.NDArray[np.float64], radius: float
) -> sparse.csr_array:
    """Boolean ``(n_demand, n_sites)`` matrix: True where the distance is <= ``radius``.

    Built from the pairs a KD-tree radius query returns, so a metropolitan
    input with tens of thousands of points stays a few MB.
    """
    shape = (len(demand_xy), len(site_xy))
    if shape[0] == 0 or shape[1] == 0:
        return sparse.csr_array(shape, dtype=bool)
    pairs = cKDTree(demand_xy).sparse_distance_matrix(
        cKDTree(site_xy), radius, output_type="ndarray"
    )
    data = np.ones(len(pairs), dtype=bool)
    return sparse.csr_array((data, (pairs["i"], pairs["j"])), shape=shape)
