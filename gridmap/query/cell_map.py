"""A cell on a map: its boundary and its units as GeoJSON, scoped like every other read.

Coordinates are WGS-84 as stored; ``gcj02=True`` shifts them for drawing on a GCJ-02
basemap (Amap/Gaode) with :func:`gridmap.crs.gcj02_from_wgs84`, as the map export does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from geoalchemy2.shape import to_shape
from shapely.geometry import mapping

from gridmap.crs import gcj02_from_wgs84
from gridmap.query.results import cell_in_scope, units_of_cell
from gridmap.query.scope import Scope
from gridmap.store import Store, models, table_of

__all__ = ["cell_geojson", "station_names", "unit_status"]

#: Decimal places kept (about 0.1 m): enough for a phone's map, a smaller answer.
_PLACES = 6


def unit_status(unit: dict[str, Any]) -> str:
    """``covered`` (organisation and service), ``partial`` (one of them) or ``blind``."""
    org = unit.get("org_status") not in (None, "none")
    service = bool(unit.get("service_covered"))
    return "covered" if org and service else "partial" if org or service else "blind"


def _gcj02(coords: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    lon, lat = gcj02_from_wgs84(coords[:, 0], coords[:, 1])
    return np.column_stack([lon, lat])


def _boundary(store: Store, cell_id: int | None) -> Any:
    if cell_id is None:
        return None
    cells = table_of(models.GridCell)
    with store.engine.connect() as conn:
        geom = conn.execute(cells.select().where(cells.c.id == cell_id)).mappings().first()
    return None if geom is None else to_shape(geom["geom"])


def _unit_feature(unit: dict[str, Any]) -> dict[str, Any] | None:
    if unit.get("lon") is None or unit.get("lat") is None:
        return None
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [unit["lon"], unit["lat"]]},
        "properties": {
            "layer": "unit",
            "unit_id": int(unit["unit_id"]),
            "name": unit.get("name"),
            "kind": unit.get("kind"),
            "status": unit_status(unit),
            "org_status": unit.get("org_status"),
            "service_covered": bool(unit.get("service_covered")),
            "must_have_branch": bool(unit.get("must_have_branch")),
        },
    }


def _shifted(geom: Any, gcj02: bool) -> dict[str, Any]:
    if gcj02:
        geom = shapely.transform(geom, _gcj02)
    rounded = shapely.set_precision(geom, 10**-_PLACES)
    return dict(mapping(rounded))


def cell_geojson(
    store: Store, scope: Scope, code: str, run_id: int | None = None, *, gcj02: bool = False
) -> dict[str, Any]:
    """The cell ``code`` of a run as a FeatureCollection: its boundary, then its units.

    :class:`NotFoundError` when the cell is absent or outside ``scope`` (the filter is SQL).
    """
    cell = cell_in_scope(store, scope, code, run_id)
    features: list[dict[str, Any]] = []
    boundary = _boundary(store, cell.get("cell_id"))
    if boundary is not None:
        features.append(
            {
                "type": "Feature",
                "geometry": _shifted(boundary, gcj02),
                "properties": {"layer": "cell", "code": code, "status": cell["status"]},
            }
        )
    for unit in units_of_cell(store, scope, code, cell["run"]):
        feature = _unit_feature(unit)
        if feature is None:
            continue
        point = shapely.Point(feature["geometry"]["coordinates"])
        feature["geometry"] = _shifted(point, gcj02)
        features.append(feature)
    crs = "GCJ-02" if gcj02 else "WGS-84"
    return {"type": "FeatureCollection", "crs_name": crs, "run": cell["run"], "features": features}


def station_names(store: Store, ids: Iterable[int | None]) -> dict[int, str]:
    """Names of the stations ``ids`` (the nearest stations of units already in scope)."""
    wanted = sorted({int(i) for i in ids if i is not None})
    if not wanted:
        return {}
    stations = table_of(models.Station)
    query = stations.select().with_only_columns(stations.c.id, stations.c.name)
    with store.engine.connect() as conn:
        rows = conn.execute(query.where(stations.c.id.in_(wanted))).all()
    return {int(i): str(name or f"#{i}") for i, name in rows}
