"""One coverage run's result (:class:`CoverageResult`): the run makes it, stored runs keep it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from gridmap.coverage.reach import ReachOptions

__all__ = ["CoverageResult"]


@dataclass(frozen=True)
class CoverageResult:
    """Everything one run found. Frames are in WGS-84; ids are store ids.

    Attributes
    ----------
    units
        One row per unit: identity, cell code, lon/lat of its representative
        point, ``org_status``, ``must_have_branch``, ``service_covered``,
        ``nearest_station_id``/``_m``, ``covering_station_id``, ``snap_m``,
        ``far_from_road``.
    cells
        Per-cell status and counts.
    areas
        The roll-up: one row per admin area at every level, plus the total.
    blind_zones
        Ranked blind zones.
    service_areas
        One polygon per active station.
    orgs, stations
        The organisations and stations with their ``idle`` flag.
    summary
        The total row's rates and counts, with the run's parameters.
    """

    as_of: dt.date
    options: ReachOptions
    units: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    areas: pd.DataFrame
    blind_zones: gpd.GeoDataFrame
    service_areas: gpd.GeoDataFrame
    orgs: gpd.GeoDataFrame
    stations: gpd.GeoDataFrame
    summary: dict[str, Any]
    run_id: int | None = None
