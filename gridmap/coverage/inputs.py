"""Everything a coverage run reads, taken from the store in one go as frames.

Geometries come back in WGS-84 and are also projected to the metric CRS of the
data (:func:`gridmap.crs.metric_crs_for` at the units' centre), in which every
distance and area of the run is computed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from pyproj import CRS
from sqlalchemy import ColumnElement, Connection, false, select

from gridmap.crs import metric_crs_for
from gridmap.store import Store, models, table_of
from gridmap.store._columns import paused_gc, read_frame

__all__ = [
    "CoverageInputs",
    "read_frame",
    "read_inputs",
    "representative_points",
    "surface_points",
]

WGS84 = "EPSG:4326"
#: Columns no run, map or report uses: field provenance is JSON decoded row by row
#: (2 s of a 100k-unit run).
_NOT_READ = ("provenance",)
#: Unit columns no run, map or report uses either: a unit's address, the time of
#: its last import (a text parsed into a datetime per row on SQLite: 1 s of a
#: 1M-unit read) and ``closed_at`` (always NULL: only open records are read).
_UNIT_NOT_READ = ("address", "updated_at", "closed_at")


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
    points = surface_points(np.asarray(frame.geometry.values, dtype=object))
    return gpd.GeoSeries(points, index=frame.index, crs=frame.crs)


def surface_points(geoms: npt.NDArray[np.object_]) -> npt.NDArray[np.object_]:
    """:func:`shapely.point_on_surface` of each geometry (None stays None).

    The point on a point's surface is the point itself: when every geometry is a
    point (every unit of a county), the same points are returned without asking
    GEOS for a million copies of them.
    """
    if not len(geoms) or shapely.get_type_id(geoms).max() <= 0:  # points, empty or None
        return geoms.copy()
    points: npt.NDArray[np.object_] = shapely.point_on_surface(geoms)
    return points


def _frame(
    conn: Connection,
    model: type[models.Base],
    geometry: str | None,
    *,
    rows: bool = True,
    skip: Sequence[str] = (),
) -> gpd.GeoDataFrame:
    """The open records of ``model`` (or, with ``rows=False``, its empty frame), without
    the columns in ``skip``."""
    table = table_of(model)
    # records closed by an import with --sync are history only
    where: ColumnElement[bool] | None = None
    if not rows:
        where = false()
    elif "closed_at" in table.c:
        where = table.c.closed_at.is_(None)
    columns = [c.name for c in table.columns if c.name not in (geometry, *_NOT_READ, *skip)]
    order = list(table.primary_key.columns)  # the same order on every backend
    frame = read_frame(conn, table, columns, geometry, where=where, order_by=order)
    if "id" in frame:
        frame = frame.set_index("id", drop=False)
        frame.index.name = None
    return frame


def _links(conn: Connection, model: type[models.Base]) -> pd.DataFrame:
    table = table_of(model)
    rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings().all()
    return pd.DataFrame(rows, columns=[c.name for c in table.columns])


def read_inputs(
    store: Store, *, as_of: dt.date | None = None, roads: bool = True
) -> CoverageInputs:
    """Read every record a coverage run needs.

    Parameters
    ----------
    store
        The store.
    as_of
        Evaluate as of this date (default today): organisations established
        after it do not exist yet, and activity is measured back from it.
    roads
        Read the roads (only network mode measures along them); False leaves
        ``roads`` an empty frame with the road columns.
    """
    day = as_of or dt.date.today()
    with paused_gc(), store.engine.connect() as conn:
        units = _frame(conn, models.Unit, "geom", skip=_UNIT_NOT_READ)
        orgs = _frame(conn, models.PartyOrg, "geom")
        stations = _frame(conn, models.Station, "geom")
        cells = _frame(conn, models.GridCell, "geom")
        areas = _frame(conn, models.AdminArea, "boundary")
        road_frame = _frame(conn, models.Road, "geom", rows=roads)
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
        roads=road_frame,
        workers=workers,
        worker_cells=worker_cells,
        metric_crs=metric_crs_for(lon, lat),
        as_of=day,
    )


def _centre(frame: gpd.GeoDataFrame) -> tuple[float, float]:
    west, south, east, north = frame.total_bounds
    return (west + east) / 2.0, (south + north) / 2.0
