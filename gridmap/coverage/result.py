"""One coverage run's result (:class:`CoverageResult`): the run makes it, stored runs keep it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from gridmap.coverage._options import ReachOptions
from gridmap.coverage.inputs import CoverageInputs

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
    totals
        The total row's rates and counts, with the run's parameters
        (:meth:`summary` returns a copy).
    inputs
        The records the run was computed on (the maps' areas and workers, the
        workbook's worker sheets), with any what-if change applied.
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
    totals: dict[str, Any]
    inputs: CoverageInputs = field(repr=False)
    run_id: int | None = None

    def summary(self) -> dict[str, Any]:
        """The total row's rates and counts with the run's ``as_of``, ``options`` and ``rules``."""
        return dict(self.totals)

    def __str__(self) -> str:
        """One line: the run, its units and its headline rates."""
        t = self.totals
        run = f"run {self.run_id}, " if self.run_id is not None else ""
        return (
            f"coverage as of {self.as_of} ({run}{self.options.mode}): {t['units']} units, "
            f"org {_pct(t.get('org_rate'))}, service {_pct(t.get('service_rate'))}, "
            f"must have a branch {t.get('must_have_branch', 0)}, "
            f"blind zones {t.get('blind_zones', 0)}"
        )


def _pct(rate: float | None) -> str:
    return "-" if rate is None else f"{100 * rate:.1f}%"
