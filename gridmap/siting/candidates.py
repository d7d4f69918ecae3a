"""Candidate sites for new stations: where they come from and where they may not go.

Candidates come from three sources, kept apart in the ``source`` column so a
planner can see why a site was proposed:

* ``cell_centroid``: one point inside each grid cell (:func:`cell_points`);
* ``osm_public_building``: public buildings from OpenStreetMap (town halls,
  community centres, schools...), reusable rooms rather than new builds;
* ``user``: sites the organisation department proposes itself.

:func:`combine_candidates` stacks them into one layer with stable ids and
:func:`exclude` removes the ones inside areas where no station may go (water,
military land, construction sites...).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.siting._validate import raise_if_any

__all__ = ["CANDIDATE_SOURCES", "ExclusionReport", "cell_points", "combine_candidates", "exclude"]

logger = logging.getLogger(__name__)

#: The values the ``source`` column may take.
CANDIDATE_SOURCES: Final = ("cell_centroid", "osm_public_building", "user")

_COLUMNS: Final = ["candidate_id", "source", "name", "geometry"]


def cell_points(cells_gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Return one representative point per grid cell, keeping the attributes.

    A representative point always lies inside its polygon, unlike the
    centroid of an L- or U-shaped cell, which may fall in the neighbouring
    cell. The caller may snap these points to the road network afterwards.
    """
    points = cells_gdf.copy()
    points[points.geometry.name] = cells_gdf.geometry.representative_point()
    return points


def _frame_problems(position: int, frame: Any) -> list[str]:
    where = f"frame {position}"
    if not isinstance(frame, gpd.GeoDataFrame):
        return [f"{where} is a {type(frame).__name__}, expected a GeoDataFrame"]
    if "source" not in frame.columns:
        return [f"{where} has no 'source' column: add one, e.g. gdf.assign(source='user')"]
    unknown = sorted(set(frame["source"].astype(str)) - set(CANDIDATE_SOURCES))
    problems = (
        [f"{where} has unknown source(s) {unknown}; use {CANDIDATE_SOURCES}"] if unknown else []
    )
    if bool(frame.geometry.isna().any()) or bool(frame.geometry.is_empty.any()):
        problems.append(f"{where} has missing or empty geometries: drop them first")
    return problems


def _standardise(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    names = frame["name"] if "name" in frame.columns else pd.Series(pd.NA, index=frame.index)
    points = frame.geometry.where(
        frame.geometry.geom_type == "Point", frame.geometry.representative_point()
    )
    ids = frame["source"].astype(str) + "/" + frame.index.astype(str)
    data = {"candidate_id": ids.to_numpy(), "source": frame["source"].astype(str).to_numpy(),
            "name": names.to_numpy()}  # fmt: skip
    return gpd.GeoDataFrame(data, geometry=points.to_numpy(), crs=frame.crs)


def combine_candidates(*frames: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Stack candidate layers into one, with ``candidate_id``, ``source``, ``name``.

    Parameters
    ----------
    *frames
        GeoDataFrames in one CRS, each with a ``source`` column holding one of
        :data:`CANDIDATE_SOURCES` (``gdf.assign(source="user")``) and
        optionally a ``name`` column. Polygons (buildings) are replaced by a
        representative point inside them.

    Returns
    -------
    geopandas.GeoDataFrame
        Columns ``candidate_id`` (``"<source>/<index in its frame>"``: stable
        across runs when the inputs' indices are, e.g. OSM ids or cell codes),
        ``source``, ``name`` and point ``geometry``, with a fresh 0..n-1 index.

    Raises
    ------
    SitingInputError
        Listing every frame without a known source, with bad geometries, in
        another CRS, or with duplicate ids.
    """
    problems = [p for i, frame in enumerate(frames) for p in _frame_problems(i, frame)]
    crss = {str(frame.crs) for frame in frames if isinstance(frame, gpd.GeoDataFrame)}
    if len(crss) > 1:
        problems.append(f"frames are in different CRSs {sorted(crss)}: use `to_crs()` first")
    raise_if_any(problems, "candidate layers")
    if not frames:
        return gpd.GeoDataFrame({c: [] for c in _COLUMNS[:-1]}, geometry=[], crs=None)
    combined = pd.concat([_standardise(frame) for frame in frames], ignore_index=True)
    duplicated = combined["candidate_id"][combined["candidate_id"].duplicated()].unique()
    if len(duplicated) > 0:
        raise_if_any(
            [f"duplicate candidate ids {list(duplicated[:5])}: give each frame a unique index"],
            "candidate layers",
        )
    return gpd.GeoDataFrame(combined[_COLUMNS], geometry="geometry", crs=frames[0].crs)


@dataclass(frozen=True)
class ExclusionReport:
    """Candidates kept and removed by :func:`exclude`."""

    kept: gpd.GeoDataFrame
    removed: gpd.GeoDataFrame

    @property
    def n_removed(self) -> int:
        """How many candidates lay inside an exclusion area."""
        return len(self.removed)


def exclude(
    candidates: gpd.GeoDataFrame, exclusion_polygons: gpd.GeoDataFrame | gpd.GeoSeries
) -> ExclusionReport:
    """Remove candidates inside (or on the edge of) any exclusion area.

    Uses the spatial index of ``exclusion_polygons``, so it scales to many
    candidates and areas.

    Raises
    ------
    SitingInputError
        If the two layers are in different CRSs (use ``to_crs()``).
    """
    if candidates.crs != exclusion_polygons.crs:
        raise_if_any(
            [f"candidates are in {candidates.crs} but exclusion areas in "
             f"{exclusion_polygons.crs}: use `to_crs()` to match them"],
            "exclusion inputs",
        )  # fmt: skip
    areas = exclusion_polygons.geometry
    hits = areas.sindex.query(candidates.geometry, predicate="intersects")
    inside = np.zeros(len(candidates), dtype=bool)
    inside[np.unique(hits[0])] = True
    report = ExclusionReport(kept=candidates[~inside].copy(), removed=candidates[inside].copy())
    logger.info(
        "excluded %d of %d candidates inside %d exclusion areas",
        report.n_removed, len(candidates), len(areas),
    )  # fmt: skip
    return report
