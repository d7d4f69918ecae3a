"""Read what putting units into cells needs from the store, and nothing more.

Assignment reads every unit, and a unit row is wide (names, addresses, provenance):
only the id, the stored cell and the geometry (as WKB) are fetched here, points are
decoded straight into coordinate arrays, and the names of the units left outside
every cell are read afterwards, for those units only. This module does not import
:mod:`gridmap.coverage` (a grid import has no use for its kernels' start-up).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely
from sqlalchemy import Connection, func, select

from gridmap.grid._common import WGS84, FloatArray, IntArray
from gridmap.store import models, table_of
from gridmap.store._columns import fetch_columns, paused_gc, read_frame

__all__ = ["UnitPoints", "read_outside", "read_unit_points"]

BoolArray = npt.NDArray[np.bool_]

#: Geometry type ids (shapely) of the units assigned by area.
_POLYGONAL = (3, 6)  # Polygon, MultiPolygon

#: Bytes of a 2-D point in WKB: byte order, geometry type, x, y.
_POINT_WKB_BYTES = 21

#: Ids per ``IN (...)`` when the units outside every cell are read back.
_OUTSIDE_BATCH = 5_000


@dataclass(frozen=True)
class UnitPoints:
    """Every stored unit: id, stored cell (-1: none) and location, in the order read.

    ``x`` and ``y`` hold the coordinates of point units (``points``; NaN for the
    others); polygons and multipolygons (``polygonal``) are kept as shapely objects
    in ``polygons``, in order.
    """

    ids: IntArray
    cells: IntArray
    x: FloatArray
    y: FloatArray
    points: BoolArray
    polygonal: BoolArray
    polygons: gpd.GeoSeries


def read_unit_points(conn: Connection) -> UnitPoints:
    """Id, stored cell and location of every stored unit (closed ones too)."""
    unit = table_of(models.Unit)
    query = select(unit.c.id, unit.c.cell_id, func.ST_AsBinary(unit.c.geom))
    with paused_gc():
        ids, cells, blobs = fetch_columns(conn, query)
        n_rows = len(ids)
        stored = np.fromiter((-1 if c is None else c for c in cells), np.int64, n_rows)
        x, y, points = _point_coordinates(blobs)
        rest = np.flatnonzero(~points)
        others: Any = shapely.from_wkb(
            np.asarray([bytes(blobs[i]) for i in rest.tolist()], dtype=object)
        )
    kinds = shapely.get_type_id(others)
    # points the fast path leaves (with Z or M, empty): located by shapely's x and y
    single = rest[kinds == 0]
    x[single] = shapely.get_x(others[kinds == 0])
    y[single] = shapely.get_y(others[kinds == 0])
    points[single] = True
    polygonal = np.zeros(n_rows, dtype=bool)
    polygonal[rest[np.isin(kinds, _POLYGONAL)]] = True
    polygons = gpd.GeoSeries(others[np.isin(kinds, _POLYGONAL)], crs=WGS84)
    return UnitPoints(np.asarray(ids, dtype=np.int64), stored, x, y, points, polygonal, polygons)


def _point_coordinates(blobs: Sequence[Any]) -> tuple[FloatArray, FloatArray, BoolArray]:
    """x, y of every plain 2-D point WKB in ``blobs``, and which entries they are.

    The other entries (polygons, points with Z or M, empty points) get NaN and are
    decoded by shapely; a point's coordinates are the very doubles of its WKB.
    """
    n_rows = len(blobs)
    x = np.full(n_rows, np.nan)
    y = np.full(n_rows, np.nan)
    lengths = np.fromiter((len(b) for b in blobs), np.int64, n_rows)
    short = lengths == _POINT_WKB_BYTES
    if not short.any():
        return x, y, short
    raw = np.frombuffer(
        b"".join(bytes(b) for b, s in zip(blobs, short.tolist(), strict=True) if s), np.uint8
    ).reshape(-1, _POINT_WKB_BYTES)
    little = raw[:, 0] == 1
    kinds = np.where(
        little,
        raw[:, 1:5].copy().view("<u4").ravel(),
        raw[:, 1:5].copy().view(">u4").ravel(),
    )
    xy = np.where(
        little[:, None], raw[:, 5:].copy().view("<f8"), raw[:, 5:].copy().view(">f8")
    ).astype(np.float64)
    plain = (kinds == 1) & (raw[:, 0] <= 1) & np.isfinite(xy).all(axis=1)
    where = np.flatnonzero(short)[plain]
    x[where] = xy[plain, 0]
    y[where] = xy[plain, 1]
    points = np.zeros(n_rows, dtype=bool)
    points[where] = True
    return x, y, points


def read_outside(conn: Connection, unit_ids: IntArray) -> pd.DataFrame:
    """The report of the units in no cell: id, source_id, kind, name, lon, lat.

    In the order of ``unit_ids``; lon/lat is the unit's point or a point on its
    surface, rounded to 7 decimals.
    """
    unit = table_of(models.Unit)
    columns = ("id", "source_id", "kind", "name")
    parts = [
        read_frame(conn, unit, columns, "geom", where=unit.c.id.in_(chunk.tolist()))
        for chunk in np.array_split(unit_ids, max(1, -(-len(unit_ids) // _OUTSIDE_BATCH)))
        if len(chunk)
    ]
    if parts:
        found = pd.concat(parts, ignore_index=True)
        frame = found.set_index(pd.Index(found["id"].to_numpy(), dtype="int64")).loc[unit_ids]
        geoms = frame.geometry.values
    else:
        frame = pd.DataFrame({c: pd.Series(dtype=object) for c in columns[1:]})
        geoms = gpd.GeoSeries([], crs=WGS84).values
    points = shapely.point_on_surface(geoms)
    return pd.DataFrame(
        {
            "id": pd.Index(np.asarray(unit_ids, dtype=np.int64)),
            "source_id": frame["source_id"].to_numpy(),
            "kind": frame["kind"].to_numpy(),
            "name": frame["name"].to_numpy(),
            "lon": np.round(shapely.get_x(points), 7),
            "lat": np.round(shapely.get_y(points), 7),
        }
    )
