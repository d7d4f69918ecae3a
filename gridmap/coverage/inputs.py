"""Everything a coverage run reads, taken from the store in one go as frames.

Geometries come back in WGS-84 and are also projected to the metric CRS of the
data (:func:`gridmap.crs.metric_crs_for` at the units' centre), in which every
distance and area of the run is computed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2.shape import to_shape
from pyproj import CRS
from sqlalchemy import Connection, select

from gridmap.crs import metric_crs_for
from gridmap.store import Store, models, table_of

__all__ = ["CoverageInputs", "load_inputs", "representative_points"]

WGS84 = "EPSG:4326"


@dataclass(frozen=True)
class CoverageInputs:
    """The records of one coverage run, in WGS-84, plus the metric CRS to measure in.

    Frames are indexed by the store id of their records. ``org_units`` and
    ``instructor_units`` are link tables (``org_id``/``instructor_id``, ``unit_id``).
    """

    units: gpd.GeoDataFrame
    orgs: gpd.GeoDataFrame
    org_units: pd.DataFrame
    instructor_units: pd.DataFrame
    stations: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    workers: pd.DataFrame
    worker_cells: pd.DataFrame
    metric_crs: CRS
    as_of: dt.date

    def with_stations(self, stations: gpd.GeoDataFrame) -> CoverageInputs:
        """The same inputs with another set of stations (what-if runs)."""
        return replace(self, stations=stations)


def representative_points(frame: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """A point per feature: the point itself, or a point on a polygon's surface.

    This is the location used for reach and the lon/lat that exports write.
    """
    geoms = frame.geometry.values
    points = shapely.point_on_surface(geoms)
    return gpd.GeoSeries(points, index=frame.index, crs=frame.crs)


def _frame(conn: Connection, model: type[models.Base], geometry: str | None) -> gpd.GeoDataFrame:
    table = table_of(model)
    query = select(table).order_by(*table.primary_key.columns)  # same order on every backend
    if "closed_at" in table.c:  # records closed by an import with --sync are history only
        query = query.where(table.c.closed_at.is_(None))
    rows = conn.execute(query).mappings().all()
    columns = [c.name for c in table.columns]
    data: dict[str, list[Any]] = {c: [r[c] for r in rows] for c in columns if c != geometry}
    geoms = (
        [None if r[geometry] is None else to_shape(r[geometry]) for r in rows] if geometry else None
    )
    frame = gpd.GeoDataFrame(data, geometry=geoms if geometry else [None] * len(rows), crs=WGS84)
    if "id" in frame:
        frame = frame.set_index("id", drop=False)
        frame.index.name = None
    return frame


def _links(conn: Connection, model: type[models.Base]) -> pd.DataFrame:
    table = table_of(model)
    rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in table.columns])


def load_inputs(store: Store, *, as_of: dt.date | None = None) -> CoverageInputs:
    """Read every record a coverage run needs.

    Parameters
    ----------
    store
        The store.
    as_of
        Evaluate as of this date (default today): organisations established
        after it do not exist yet, and activity is measured back from it.
    """
    day = as_of or dt.date.today()
    with store.engine.connect() as conn:
        units = _frame(conn, models.Unit, "geom")
        orgs = _frame(conn, models.PartyOrg, "geom")
        stations = _frame(conn, models.Station, "geom")
        cells = _frame(conn, models.GridCell, "geom")
        areas = _frame(conn, models.AdminArea, "boundary")
        roads = _frame(conn, models.Road, "geom")
        workers = pd.DataFrame(_frame(conn, models.Worker, None).drop(columns="geometry"))
        org_units = _links(conn, models.OrgUnit)
        instructor_units = _links(conn, models.InstructorUnit)
        worker_cells = _links(conn, models.WorkerCell)
    orgs = orgs[orgs["established"].isna() | (orgs["established"] <= day)]
    centre = units if len(units) else cells
    if len(centre):
        lon, lat = _centre(centre)
    else:
        lon, lat = 117.0, 28.0
    return CoverageInputs(
        units=units,
        orgs=orgs,
        org_units=org_units,
        instructor_units=instructor_units,
        stations=stations,
        cells=cells,
        areas=areas,
        roads=roads,
        workers=workers,
        worker_cells=worker_cells,
        metric_crs=metric_crs_for(lon, lat),
        as_of=day,
    )


def _centre(frame: gpd.GeoDataFrame) -> tuple[float, float]:
    west, south, east, north = frame.total_bounds
    return (west + east) / 2.0, (south + north) / 2.0
