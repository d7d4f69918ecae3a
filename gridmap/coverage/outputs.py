"""One run, many outputs: what maps and reports read back from a stored run.

:func:`save_outputs` (called by :func:`gridmap.coverage.runs.save_run`) keeps, beside
the per-unit and per-cell rows, the run's blind zones and service areas with
their geometries and the organisations and stations it judged. :func:`stored_result`
turns them back into the :class:`~gridmap.coverage.result.CoverageResult` that
``map export`` and ``report`` draw and write, without recomputing anything
(:func:`load_run`; :mod:`gridmap.coverage.run` re-exports it).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Collection
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from sqlalchemy import Connection, Select, Table, insert, select

from gridmap.coverage._options import ReachOptions
from gridmap.coverage.inputs import CoverageInputs, _frame
from gridmap.coverage.result import CoverageResult
from gridmap.crs import metric_crs_for
from gridmap.domain import UnitKind
from gridmap.store import Store, models, table_of
from gridmap.store._columns import fetch_arrays, fetch_columns, paused_gc

if TYPE_CHECKING:
    pass

__all__ = [
    "OUTPUTS_VERSION",
    "plain_columns",
    "plain_records",
    "save_outputs",
    "stored_result",
    "unit_rows",
]

logger = logging.getLogger(__name__)

#: Layout of the stored outputs; runs with another (or none) are recomputed.
OUTPUTS_VERSION: Final = 1
WGS84: Final = "EPSG:4326"

#: Per-unit columns kept for the outputs: stored column -> result column.
_UNIT_COLUMNS: Final = {
    "unit_id": "unit_id",
    "source": "source",
    "source_id": "source_id",
    "name": "name",
    "kind": "kind",
    "cell_id": "cell_id",
    "cell_code": "cell_code",
    "lon": "lon",
    "lat": "lat",
    "households": "households",
    "population": "population",
    "party_members": "party_members",
    "org_status": "org_status",
    "must_have_branch": "must_have_branch",
    "branch_idle": "branch_idle",
    "covering_org_id": "covering_org_id",
    "service_covered": "service_covered",
    "nearest_station_id": "nearest_station_id",
    "nearest_station_m": "nearest_station_m",
    "nearest_counting_station_m": "nearest_counting_station_m",
    "covering_station_id": "covering_station_id",
    "snap_m": "snap_m",
    "far_from_road": "far_from_road",
}
_INT_COLUMNS: Final = (
    "cell_id",
    "households",
    "population",
    "party_members",
    "covering_org_id",
    "nearest_station_id",
    "covering_station_id",
)
_INF_WHEN_MISSING: Final = ("nearest_station_m", "nearest_counting_station_m")
_FLOAT_COLUMNS: Final = ("lon", "lat", "snap_m", *_INF_WHEN_MISSING)
_BOOL_COLUMNS: Final = ("must_have_branch", "branch_idle", "service_covered", "far_from_road")
#: Unit columns every read takes: the index, and what the cells' counts by kind need.
_ALWAYS: Final = ("unit_id", "cell_id", "kind")
_ZONE_COLUMNS: Final = (
    "rank",
    "area_m2",
    "units",
    "households",
    "population",
    "party_members",
    "must_have_branch",
    "priority",
    "unit_ids",
    "cell_codes",
)


def plain_columns(frame: pd.DataFrame) -> dict[str, list[Any]]:
    """One list of plain Python values per column; NaN, NA and ±inf become None.

    Plain numpy columns (ints, booleans, floats) convert in one ``tolist`` call;
    the others go through ``object`` with their missing values replaced.
    """
    return {str(column): _plain(frame[column]) for column in frame.columns}


def _plain(values: pd.Series) -> list[Any]:
    kind = values.dtype
    if isinstance(kind, np.dtype) and kind.kind in "iub":
        plain: list[Any] = values.to_numpy().tolist()
        return plain
    if isinstance(kind, np.dtype) and kind.kind == "f":
        array = values.to_numpy()
        plain = array.tolist()
        for i in np.flatnonzero(~np.isfinite(array)).tolist():
            plain[i] = None
        return plain
    if pd.api.types.is_float_dtype(kind):
        values = values.where(np.isfinite(values.to_numpy(dtype=float, na_value=np.nan)))
    objects = values.astype(object)
    converted: list[Any] = objects.where(values.notna(), None).tolist()
    return converted


def plain_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as dicts of plain Python values; NaN, NA and ±inf become None."""
    out = plain_columns(frame)
    columns = list(out)
    return [dict(zip(columns, row, strict=True)) for row in zip(*out.values(), strict=True)]


def unit_rows(run_id: int, units: gpd.GeoDataFrame) -> dict[str, list[Any]]:
    """The ``coverage_unit`` rows of a run's units, one list of plain values per column."""
    present = {k: v for k, v in _UNIT_COLUMNS.items() if v in units.columns}
    frame = pd.DataFrame({key: units[column] for key, column in present.items()})
    frame["name"] = frame["name"].astype(object).where(frame["name"].notna(), None)
    for column in ("source", "source_id", "org_status"):
        frame[column] = frame[column].astype(str)
    points = units.geometry.values
    if len(points) and shapely.get_type_id(points).max(initial=0) != 0:
        points = shapely.point_on_surface(points)
    frame["point_lon"] = shapely.get_x(points) if len(points) else []
    frame["point_lat"] = shapely.get_y(points) if len(points) else []
    frame.insert(0, "run_id", run_id)
    return plain_columns(frame)


def _wkb(geoms: Any) -> list[bytes | None]:
    encoded = shapely.to_wkb(geoms)
    return [None if g is None else bytes(b) for g, b in zip(geoms, encoded, strict=True)]


def save_outputs(conn: Connection, run_id: int, result: CoverageResult) -> None:
    """Store a run's blind zones, service areas, organisations and stations."""
    zones = result.blind_zones
    if len(zones):
        rows = pd.DataFrame({c: zones[c] for c in _ZONE_COLUMNS})
        rows["geom_wkb"] = _wkb(zones.geometry.values)
        rows.insert(0, "run_id", run_id)
        conn.execute(insert(table_of(models.CoverageZone)), plain_records(rows))
    areas = result.service_areas
    if len(areas):
        rows = pd.DataFrame(
            {c: areas[c] for c in ("station_id", "name", "tier", "limit") if c in areas}
        )
        rows["geom_wkb"] = _wkb(areas.geometry.values)
        rows.insert(0, "run_id", run_id)
        conn.execute(insert(table_of(models.CoverageServiceArea)), plain_records(rows))
    sites = [
        _site_rows(run_id, "org", result.orgs, "kind"),
        _site_rows(run_id, "station", result.stations, "tier"),
    ]
    rows_all = [row for rows_of in sites for row in rows_of]
    if rows_all:
        conn.execute(insert(table_of(models.CoverageSite)), rows_all)


def _site_rows(
    run_id: int, role: str, frame: gpd.GeoDataFrame, kind_column: str
) -> list[dict[str, Any]]:
    if not len(frame):
        return []
    rows = pd.DataFrame(
        {
            "run_id": run_id,
            "role": role,
            "site_id": frame.index.to_numpy(),
            "name": frame["name"],
            "kind": frame[kind_column].astype(str),
            "members": frame.get("members"),
            "last_activity": frame["last_activity"],
            "activity": frame["activity"].astype(str),
        }
    )
    rows["geom_wkb"] = _wkb(frame.geometry.values)
    return plain_records(rows)


# -- reading a run back -------------------------------------------------------------------


def stored_result(
    store: Store, run_id: int | None = None, *, unit_columns: Collection[str] | None = None
) -> CoverageResult | None:
    """A stored run (the latest when ``run_id`` is None) read back, or None.

    None when there is no stored run, or the run was stored before runs kept their
    outputs (``coverage_run.outputs`` not :data:`OUTPUTS_VERSION`). The inputs carry
    only what outputs add from the current records (admin areas, cell geometries,
    grid workers and their cells, and the run's own organisations and stations);
    their units, links and roads are empty.

    ``unit_columns``: the columns of ``units`` the caller reads (``"geometry"`` for
    the units' points), or None for every one. A workbook reads 13 of the 24: at a
    million units each column left out is a million values not fetched.
    """
    with paused_gc(), store.engine.connect() as conn:
        record = _run_row(conn, run_id)
        if record is None or record.get("outputs") != OUTPUTS_VERSION:
            return None
        context = _context(conn, record["as_of"])
        result = _result(conn, int(record["id"]), record, context, unit_columns)
    return replace(result, inputs=_with_sites(context, result))


def _run_row(conn: Connection, run_id: int | None) -> dict[str, Any] | None:
    runs = table_of(models.CoverageRun)
    query = select(runs).order_by(runs.c.id.desc()).limit(1)
    if run_id is not None:
        query = select(runs).where(runs.c.id == run_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else dict(row)


def _context(conn: Connection, as_of: dt.date) -> CoverageInputs:
    """The current records outputs add to a run: areas, cells, workers and their cells."""
    cells = _frame(conn, models.GridCell, "geom")
    areas = _frame(conn, models.AdminArea, "boundary")
    workers = pd.DataFrame(_frame(conn, models.Worker, None).drop(columns="geometry"))
    empty = gpd.GeoDataFrame(geometry=[], crs=WGS84)
    lon, lat = (117.0, 28.0)
    if len(cells):
        west, south, east, north = cells.total_bounds
        lon, lat = (west + east) / 2.0, (south + north) / 2.0
    return CoverageInputs(
        units=empty,
        orgs=empty,
        org_units=_links(conn, models.OrgUnit),
        instructor_units=_links(conn, models.InstructorUnit),
        stations=empty,
        cells=cells,
        areas=areas,
        roads=empty,
        workers=workers,
        worker_cells=_links(conn, models.WorkerCell),
        metric_crs=metric_crs_for(lon, lat),
        as_of=as_of,
    )


def _links(conn: Connection, model: type[models.Base]) -> pd.DataFrame:
    """A link table in key order (what :func:`gridmap.coverage.inputs._links` reads as rows)."""
    table = table_of(model)
    links = _fetched(conn, select(table).order_by(*table.primary_key.columns))
    return links if len(links) else pd.DataFrame([], columns=list(links.columns))


def _with_sites(context: CoverageInputs, result: CoverageResult) -> CoverageInputs:
    return replace(context, orgs=result.orgs, stations=result.stations)


def _rows(conn: Connection, table: Table, run_id: int) -> pd.DataFrame:
    columns = [c for c in table.columns if c.name != "run_id"]
    return _fetched(conn, select(*columns).where(table.c.run_id == run_id))


def _fetched(conn: Connection, query: Select[Any]) -> pd.DataFrame:
    """The rows of ``query`` as a frame, read column by column from the cursor."""
    names = [c.name for c in query.selected_columns]
    values = fetch_columns(conn, query)
    return pd.DataFrame(dict(zip(names, values, strict=True)), columns=names)


def _result(
    conn: Connection,
    run_id: int,
    record: dict[str, Any],
    context: CoverageInputs,
    unit_columns: Collection[str] | None,
) -> CoverageResult:
    units = _units(conn, run_id, unit_columns)
    return CoverageResult(
        as_of=record["as_of"],
        options=ReachOptions(**record["params"]),
        units=units,
        cells=_cells(conn, run_id, context.cells, units),
        areas=pd.DataFrame(record["areas"]),
        blind_zones=_geo_rows(conn, models.CoverageZone, run_id, list(_ZONE_COLUMNS)),
        service_areas=_geo_rows(
            conn, models.CoverageServiceArea, run_id, ["station_id", "name", "tier", "limit"]
        ),
        orgs=_sites(conn, run_id, "org", "kind"),
        stations=_sites(conn, run_id, "station", "tier"),
        totals=record["summary"],
        inputs=context,
        run_id=run_id,
    )


def _units(
    conn: Connection, run_id: int, wanted: Collection[str] | None = None
) -> gpd.GeoDataFrame:
    """The run's units, each column built at its type from the driver's values at once.

    ``wanted``: the result columns to read (``"geometry"`` for the points; None: all);
    ``unit_id`` and what the cells' counts need (``cell_id``, ``kind``) are always read.
    """
    table = table_of(models.CoverageUnit)
    names = [c for c in _UNIT_COLUMNS if wanted is None or c in {*wanted, *_ALWAYS}]
    points = wanted is None or "geometry" in wanted
    stored = [*(table.c[c] for c in names)]
    if points:
        stored += [table.c.point_lon, table.c.point_lat]
    query = select(*stored).where(table.c.run_id == run_id).order_by(table.c.unit_id)
    raw = fetch_arrays(conn, query)
    frame = {_UNIT_COLUMNS[c]: _typed(c, values) for c, values in zip(names, raw, strict=False)}
    units = pd.DataFrame(frame)
    units.index = pd.Index(raw[names.index("unit_id")].astype(np.int64))
    geometry: Any = np.full(len(units), None, dtype=object)  # not read: no points
    if points:
        lon, lat = (values.astype(float) for values in raw[-2:])
        geometry = shapely.points(lon, lat)
    return gpd.GeoDataFrame(units, geometry=geometry, crs=WGS84)


def _typed(column: str, values: np.ndarray[Any, np.dtype[np.object_]]) -> Any:
    """A stored column at its result type: ``Int64``, float (NULL: NaN, or inf where no
    station was found), bool (NULL: False), int64 ids, else text as pandas infers it."""
    if column in _INT_COLUMNS:
        return _optional_ints(values)
    if column in _FLOAT_COLUMNS:
        floats = values.astype(float)  # NULL: NaN
        if column in _INF_WHEN_MISSING:  # no station at all was stored as NULL
            floats[np.isnan(floats)] = np.inf
        return floats
    if column in _BOOL_COLUMNS:
        return _flags(values)
    if column == "unit_id":
        return values.astype(np.int64)
    text = pd.Series(values, dtype=None if len(values) else object)
    return text.astype(object) if column == "org_status" else text


def _optional_ints(values: np.ndarray[Any, np.dtype[np.object_]]) -> pd.arrays.IntegerArray:
    """An ``Int64`` array; NULL is missing."""
    missing = pd.isna(values)
    filled = values
    if missing.any():
        filled = values.copy()
        filled[missing] = 0
    return pd.arrays.IntegerArray(filled.astype(np.int64), missing)


def _flags(values: np.ndarray[Any, np.dtype[np.object_]]) -> np.ndarray[Any, np.dtype[np.bool_]]:
    """Booleans (SQLite's 0/1 or the driver's bools); NULL (a run stored before the
    column existed) is False."""
    missing = pd.isna(values)
    filled = values
    if missing.any():
        filled = values.copy()
        filled[missing] = False
    return filled.astype(bool)


def _cells(
    conn: Connection, run_id: int, current: gpd.GeoDataFrame, units: pd.DataFrame
) -> gpd.GeoDataFrame:
    """The run's cells with the current cell geometry, and unit counts by kind."""
    stored = _rows(conn, table_of(models.CoverageCell), run_id)
    ids = stored["cell_id"]
    stored.index = pd.Index(ids.fillna(-1).astype(np.int64).to_numpy())
    counts = {
        f"units_{kind}": count.reindex(stored.index, fill_value=0).astype(int)
        for kind, count in _kind_counts(units).items()
    }
    frame = stored.drop(columns=["cell_id", "area_code"]).assign(**counts)
    order = [c for c in frame.columns if c != "status"] + ["status"]
    geometry = current.geometry.reindex(frame.index)
    return gpd.GeoDataFrame(frame[order], geometry=geometry.to_numpy(), crs=WGS84)


def _kind_counts(units: pd.DataFrame) -> dict[UnitKind, pd.Series]:
    """Units per cell id, one series per kind (``pd.crosstab(cell_id, kind)``'s columns,
    without its per-group Python: units without a cell or a kind are not counted)."""
    cell_ids = units["cell_id"]
    kinds = units["kind"]
    counted = np.asarray(cell_ids.notna() & kinds.notna(), dtype=bool)
    ids, position = np.unique(cell_ids[counted].to_numpy(dtype=np.int64), return_inverse=True)
    codes, distinct = pd.factorize(kinds[counted].to_numpy(dtype=object))
    code_of = {str(value): code for code, value in enumerate(distinct.tolist())}
    return {
        kind: pd.Series(
            np.bincount(position[codes == code_of.get(kind.value, -1)], minlength=len(ids)), ids
        )
        for kind in UnitKind
    }


def _geo_rows(
    conn: Connection, model: type[models.Base], run_id: int, columns: list[str]
) -> gpd.GeoDataFrame:
    table = table_of(model)
    rows = _rows(conn, table, run_id)
    order = "rank" if "rank" in rows else "station_id"
    rows = rows.sort_values(order).reset_index(drop=True)
    geoms = shapely.from_wkb(rows["geom_wkb"].to_numpy(dtype=object))
    return gpd.GeoDataFrame(rows[columns], geometry=geoms, crs=WGS84)


def _sites(conn: Connection, run_id: int, role: str, kind_column: str) -> gpd.GeoDataFrame:
    table = table_of(models.CoverageSite)
    columns = [c for c in table.columns if c.name not in ("run_id", "role")]
    rows = _fetched(
        conn,
        select(*columns)
        .where(table.c.run_id == run_id, table.c.role == role)
        .order_by(table.c.site_id),
    )
    frame = pd.DataFrame(
        {
            "id": rows["site_id"].astype(np.int64),
            "name": rows["name"],
            kind_column: rows["kind"],
            "last_activity": rows["last_activity"],
            "activity": rows["activity"].astype(object),
        }
    )
    if role == "org":
        frame["members"] = rows["members"].astype("Int64")
        # the organisation's own unit: a record's identity, not something a run judged
        orgs = table_of(models.PartyOrg)
        own = dict(conn.execute(select(orgs.c.id, orgs.c.own_unit_id)).all())
        frame["own_unit_id"] = frame["id"].map(own).astype("Int64")
    frame["idle"] = frame["activity"] == "idle"
    frame.index = pd.Index(frame["id"].to_numpy())
    geoms = shapely.from_wkb(rows["geom_wkb"].to_numpy(dtype=object))
    return gpd.GeoDataFrame(frame, geometry=geoms, crs=WGS84)
