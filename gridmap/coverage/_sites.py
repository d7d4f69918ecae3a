"""What both reach modes share: the stations measured, and the frames they fill."""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.coverage.inputs import CoverageInputs

__all__ = ["ServiceReach", "Sites", "areas_frame", "empty_frame", "make_sites", "xy"]


@dataclass(frozen=True)
class ServiceReach:
    """Per-unit service coverage and per-station service areas (both in WGS-84)."""

    units: pd.DataFrame  # service_covered, nearest_station_id, nearest_station_m, snap_m, ...
    service_areas: gpd.GeoDataFrame  # station_id, tier, name, limit, geometry


@dataclass(frozen=True)
class Sites:
    """The counting stations with their reach limits, and every station, in metres."""

    counting: gpd.GeoDataFrame
    everyone: gpd.GeoDataFrame
    xy: npt.NDArray[np.float64]
    every_xy: npt.NDArray[np.float64]
    limits: npt.NDArray[np.float64]


def make_sites(
    counting: gpd.GeoDataFrame,
    everyone: gpd.GeoDataFrame,
    inputs: CoverageInputs,
    limits: npt.NDArray[np.float64],
) -> Sites:
    """The stations in the run's metric CRS."""
    crs = inputs.metric_crs
    return Sites(
        counting=counting,
        everyone=everyone,
        xy=xy(counting.geometry.to_crs(crs)),
        every_xy=xy(everyone.geometry.to_crs(crs)),
        limits=limits,
    )


def empty_frame(units: pd.Index) -> pd.DataFrame:
    """Per-unit reach columns before anything is measured: nothing reached."""
    return pd.DataFrame(
        {
            "service_covered": False,
            "nearest_station_id": pd.array([pd.NA] * len(units), dtype="Int64"),
            "nearest_station_m": np.inf,
            "nearest_counting_station_m": np.inf,
            "covering_station_id": pd.array([pd.NA] * len(units), dtype="Int64"),
            "snap_m": np.nan,
            "far_from_road": False,
        },
        index=units,
    )


def xy(series: gpd.GeoSeries) -> npt.NDArray[np.float64]:
    """An ``(n, 2)`` array of the points' coordinates."""
    return np.column_stack([series.x.to_numpy(), series.y.to_numpy()]).reshape(-1, 2)


def areas_frame(
    stations: gpd.GeoDataFrame,
    limits: npt.NDArray[np.float64],
    geoms: npt.ArrayLike,
    inputs: CoverageInputs,
) -> gpd.GeoDataFrame:
    """One service area per counting station, in WGS-84."""
    frame = gpd.GeoDataFrame(
        {
            "station_id": stations.index.to_numpy(),
            "name": stations["name"].to_numpy(),
            "tier": stations["tier"].to_numpy(),
            "limit": limits,
        },
        geometry=gpd.GeoSeries(np.asarray(geoms, dtype=object), crs=inputs.metric_crs).values,
        crs=inputs.metric_crs,
    )
    return frame.to_crs("EPSG:4326")
