"""What a map shows: the :class:`MapData` contract.

Every layer is an optional GeoDataFrame in WGS-84 (EPSG:4326). The columns
each layer may carry are listed in :data:`LAYER_COLUMNS`; missing columns are
shown as empty, extra columns are ignored (nothing reaches the page unless a
layer lists it). Grid workers' personal fields (``phone``) only reach a map
when the caller asks for them with ``include_personal=True``.
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely

from gridmap.crs import gcj02_from_wgs84

__all__ = ["LAYERS", "LAYER_COLUMNS", "PERSONAL_COLUMNS", "MapData"]

logger = logging.getLogger(__name__)

#: Layer attribute names of :class:`MapData`, in drawing order (bottom first).
LAYERS: Final = (
    "areas",
    "cells",
    "blind_zones",
    "service_areas",
    "units",
    "orgs",
    "stations",
    "sites",
    "workers",
)

#: Columns read from each layer (besides ``geometry``).
LAYER_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "areas": ("code", "name", "level"),
    "cells": ("code", "name", "area_name", "status", "units_total", "units_covered", "population"),
    "blind_zones": ("rank", "area_m2", "units", "population", "priority"),
    "units": (
        "unit_id",
        "name",
        "kind",
        "cell_code",
        "org_status",
        "must_have_branch",
        "service_covered",
        "nearest_station",
        "nearest_station_m",
        "party_members",
    ),
    "orgs": ("name", "kind", "members", "idle"),
    "stations": ("name", "tier", "idle"),
    "service_areas": ("station_name", "tier"),
    "sites": ("rank", "name", "marginal_gain", "source"),
    "workers": ("name", "cell_code", "phone"),
}

#: Columns holding personal data, dropped unless ``include_personal=True``.
PERSONAL_COLUMNS: Final[dict[str, tuple[str, ...]]] = {"workers": ("phone",)}


@dataclasses.dataclass(frozen=True)
class MapData:
    """The layers of one coverage map, all in EPSG:4326 (WGS-84).

    Parameters
    ----------
    areas, cells, blind_zones, units, orgs, stations, service_areas, sites, workers
        One GeoDataFrame per layer, or None. See :data:`LAYER_COLUMNS` for
        the columns each may carry. ``units`` may mix points and polygons
        (parks); polygons are drawn as their representative point.
    title
        Page and map title; defaults to the interface title in the map language.
    run_label
        Which analysis run the map shows (e.g. ``"2024-06 第二批"``), shown under
        the title.
    """

    areas: gpd.GeoDataFrame | None = None
    cells: gpd.GeoDataFrame | None = None
    blind_zones: gpd.GeoDataFrame | None = None
    units: gpd.GeoDataFrame | None = None
    orgs: gpd.GeoDataFrame | None = None
    stations: gpd.GeoDataFrame | None = None
    service_areas: gpd.GeoDataFrame | None = None
    sites: gpd.GeoDataFrame | None = None
    workers: gpd.GeoDataFrame | None = None
    title: str | None = None
    run_label: str | None = None

    def __post_init__(self) -> None:
        problems = [problem for name in LAYERS if (problem := _crs_problem(name, self.layer(name)))]
        if problems:
            msg = "MapData layers must be in EPSG:4326 (WGS-84):\n  " + "\n  ".join(problems)
            raise ValueError(msg)

    def layer(self, name: str) -> gpd.GeoDataFrame | None:
        """Return the layer ``name``, or None when it is missing or empty."""
        frame: gpd.GeoDataFrame | None = getattr(self, name)
        if frame is None or len(frame) == 0:
            return None
        return frame

    def present(self) -> list[str]:
        """Names of the non-empty layers, in drawing order."""
        return [name for name in LAYERS if self.layer(name) is not None]

    def focus_bounds(self) -> tuple[float, float, float, float] | None:
        """Bounds of the working layers (cells, units, stations...), not of enclosing areas.

        A county boundary around a few sub-districts' grid would otherwise set the
        view; falls back to :meth:`total_bounds` when only areas are present.
        """
        working = [n for n in self.present() if n not in ("areas", "service_areas")]
        return self.total_bounds(working) if working else self.total_bounds()

    def total_bounds(
        self, names: list[str] | None = None
    ) -> tuple[float, float, float, float] | None:
        """``(west, south, east, north)`` over the layers ``names`` (default all)."""
        boxes = [
            frame.total_bounds
            for name in (names or self.present())
            if (frame := self.layer(name)) is not None
        ]
        if not boxes:
            return None
        stack = np.vstack(boxes)
        return (
            float(stack[:, 0].min()),
            float(stack[:, 1].min()),
            float(stack[:, 2].max()),
            float(stack[:, 3].max()),
        )

    def to_gcj02(self) -> MapData:
        """Return a copy with every geometry shifted from WGS-84 to GCJ-02.

        Only for drawing on a GCJ-02 basemap (Amap/Gaode): the result keeps the
        EPSG:4326 label because GCJ-02 has no EPSG code.
        """
        changes = {
            name: _shift_frame(frame)
            for name in self.present()
            if (frame := self.layer(name)) is not None
        }
        return dataclasses.replace(self, **changes)


def _crs_problem(name: str, frame: gpd.GeoDataFrame | None) -> str | None:
    if frame is None:
        return None
    if not isinstance(frame, gpd.GeoDataFrame):
        return f"{name}: expected a GeoDataFrame, got {type(frame).__name__}"
    if frame.crs is None:
        return f"{name}: no CRS set; use .set_crs(4326) if the coordinates are WGS-84"
    if frame.crs.to_epsg() != 4326:
        return f"{name}: CRS is {frame.crs.to_string()}; use .to_crs(4326)"
    return None


def _gcj02_coords(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lon, lat = gcj02_from_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _shift_frame(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    shifted = frame.copy()
    shifted.geometry = shapely.transform(frame.geometry.values, _gcj02_coords)
    return shifted
