"""Turn a coverage run (and a siting result) into the layers of a map."""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from gridmap.coverage import CoverageInputs, CoverageResult
from gridmap.maps.data import MapData
from gridmap.maps.i18n import Lang, tr

__all__ = ["map_data"]

WGS84 = "EPSG:4326"


def _frame(data: dict[str, object], geometry: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(data, geometry=geometry, crs=WGS84)


def _workers(inputs: CoverageInputs) -> gpd.GeoDataFrame | None:
    """One feature per grid worker: the union of their cells, named by their codes."""
    links = inputs.worker_cells
    if links.empty:
        return None
    cells = inputs.cells
    rows = []
    for worker_id, group in links.groupby("worker_id"):
        mine = cells.loc[cells.index.intersection(group["cell_id"])]
        if mine.empty:
            continue
        worker = inputs.workers.set_index("id").loc[worker_id]
        rows.append(
            {
                "name": worker["name"],
                "phone": worker["phone"],
                "cell_code": ",".join(sorted(mine["code"])),
                "geometry": mine.union_all(),
            }
        )
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=WGS84) if rows else None


def _run_label(result: CoverageResult, lang: Lang) -> str:
    """``批次 3 · 2026-11-01 · 路网（步行）``: run, as-of date and how reach was measured."""
    options = result.options
    mode = tr(f"mode.{options.mode}", lang)
    if options.mode == "network":
        mode += tr(f"profile.{options.profile}", lang)
    label = f"{result.as_of.isoformat()} · {mode}"
    if result.run_id is not None:
        label = f"{tr('ctl.run', lang)} {result.run_id} · {label}"
    return label


def map_data(
    result: CoverageResult,
    *,
    sites: gpd.GeoDataFrame | None = None,
    title: str | None = None,
    lang: Lang = "zh",
) -> MapData:
    """The map layers of one coverage run.

    Parameters
    ----------
    result
        The coverage run (its ``inputs`` give the areas and the workers).
    sites
        Recommended new sites (``rank``, ``name``, ``marginal_gain``, ``source``), if any.
    title
        Map title; defaults to the interface title.
    lang
        Language of the run label under the title (``"zh"`` or ``"en"``).
    """
    inputs = result.inputs
    areas = inputs.areas[inputs.areas.geometry.notna()]
    area_names = inputs.areas["name"].to_dict()
    cells = result.cells
    station_names = inputs.stations["name"].to_dict()
    units = result.units
    orgs = result.orgs[result.orgs.geometry.notna()]
    label = _run_label(result, lang)
    return MapData(
        areas=_frame(
            {"code": areas["code"], "name": areas["name"], "level": areas["level"]}, areas.geometry
        ),
        cells=_frame(
            {
                "code": cells["code"],
                "name": cells["name"],
                "area_name": inputs.cells["area_id"].map(area_names).reindex(cells.index),
                "status": cells["status"],
                "units_total": cells["units_total"],
                "units_covered": cells["units_covered"],
                "population": cells["population_total"],
            },
            cells.geometry,
        ),
        blind_zones=result.blind_zones[
            ["rank", "area_m2", "units", "population", "priority", result.blind_zones.geometry.name]
        ],
        units=_frame(
            {
                "unit_id": units["unit_id"],
                "name": units["name"],
                "kind": units["kind"],
                "cell_code": units["cell_code"],
                "org_status": units["org_status"],
                "must_have_branch": units["must_have_branch"],
                "service_covered": units["service_covered"],
                "nearest_station": units["nearest_station_id"].map(station_names),
                "nearest_station_m": pd.to_numeric(units["nearest_station_m"]).round(0),
                "party_members": units["party_members"],
            },
            units.geometry,
        ),
        orgs=_frame(
            {
                "name": orgs["name"],
                "kind": orgs["kind"],
                "members": orgs["members"],
                "idle": orgs["idle"],
            },
            orgs.geometry,
        ),
        stations=_frame(
            {
                "name": result.stations["name"],
                "tier": result.stations["tier"],
                "idle": result.stations["idle"],
            },
            result.stations.geometry,
        ),
        service_areas=_frame(
            {"station_name": result.service_areas["name"], "tier": result.service_areas["tier"]},
            result.service_areas.geometry,
        ),
        sites=sites,
        workers=_workers(inputs),
        title=title,
        run_label=label,
    )
