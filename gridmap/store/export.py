"""Export stored records of one kind as a table: :func:`export_records`, :func:`write_records`.

Every export has the same leading columns, so any file can be read the same way:

``id``
    The store id.
``kind``
    What the record is within its table: the unit kind, organisation kind,
    station tier, area level or site kind; the record kind (``cell``,
    ``instructor``, ``worker``, ``road``) for the others.
``name``, ``source``, ``source_id``
    The record's name and where it came from (see ``gridmap ingest``).
``lon``, ``lat``
    WGS-84 longitude and latitude of the record's representative point, the
    one coverage measures from (:func:`gridmap.coverage.inputs.representative_points`);
    empty for instructors, workers and organisations without a location.
``cell_code``
    The code of the grid cell the record lies in, for units and cells.

followed by the record's own attributes. List attributes (the units an
organisation or instructor covers, as ``SOURCE:SOURCE_ID``; the cells of a
worker, as codes) are joined with ``;``, which ``gridmap ingest`` splits
again, so an exported CSV of units, organisations, instructors, stations or
workers can be imported back unchanged.

Records an import with ``--sync`` closed (``closed_at`` set: history, left out
of every run) are not exported unless ``include_closed`` asks for them; a last
``closed_at`` column then says when each was closed (empty for open records).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
from geoalchemy2.shape import to_shape
from sqlalchemy import Connection, select

from gridmap._spreadsheet import write_csv, write_xlsx
from gridmap.coverage.inputs import representative_points
from gridmap.domain import UnitKind
from gridmap.errors import GridmapError, UnknownValueError
from gridmap.store import Store, models, table_of

__all__ = ["EXPORT_FORMATS", "EXPORT_KINDS", "export_records", "write_records"]

logger = logging.getLogger(__name__)

WGS84: Final = "EPSG:4326"
#: Leading columns of every export, in order.
LEADING: Final = ("id", "kind", "name", "source", "source_id", "lon", "lat")
#: File extensions :func:`write_records` understands.
EXPORT_FORMATS: Final = (".csv", ".xlsx", ".geojson", ".json", ".gpkg")
_COUNTS: Final = frozenset({"households", "population", "party_members", "members", "capacity"})
_LIST_SEPARATOR: Final = ";"


@dataclass(frozen=True)
class _Spec:
    """How one export kind is read: table, geometry column, attributes, how ``kind`` is set."""

    model: type[models.Base]
    geometry: str | None
    attributes: tuple[str, ...]
    kind_from: str | None  # column giving ``kind``; None: the export kind itself
    kind_value: str


_SPECS: Final[dict[str, _Spec]] = {
    "areas": _Spec(models.AdminArea, "boundary", ("code", "level", "parent_code"), "level", ""),
    "cells": _Spec(
        models.GridCell, "geom", ("code", "area_code", "households", "population"), None, "cell"
    ),
    "units": _Spec(
        models.Unit,
        "geom",
        ("households", "population", "party_members", "address"),
        "kind",
        "",
    ),
    "orgs": _Spec(
        models.PartyOrg,
        "geom",
        ("members", "established", "last_activity", "covers", "own_unit"),
        "kind",
        "",
    ),
    "instructors": _Spec(models.Instructor, None, ("phone", "covers"), None, "instructor"),
    "stations": _Spec(models.Station, "geom", ("tier", "last_activity", "capacity"), "tier", ""),
    "workers": _Spec(models.Worker, None, ("phone", "cells"), None, "worker"),
    "roads": _Spec(models.Road, "geom", ("highway", "oneway"), None, "road"),
    "sites": _Spec(models.CandidateSite, "geom", ("site_kind",), "site_kind", ""),
}

#: Kinds :func:`export_records` accepts (a unit kind such as ``village`` also works).
EXPORT_KINDS: Final = tuple(_SPECS)

_SINGULAR: Final = {
    "area": "areas",
    "cell": "cells",
    "unit": "units",
    "org": "orgs",
    "instructor": "instructors",
    "station": "stations",
    "worker": "workers",
    "road": "roads",
    "site": "sites",
}


def _resolve_kind(kind: str) -> tuple[str, str | None]:
    """The export kind and, for a unit kind, the unit kind to keep."""
    key = kind.strip().lower()
    if key in _SPECS:
        return key, None
    if key in _SINGULAR:
        return _SINGULAR[key], None
    try:
        return "units", UnitKind.parse(kind).value
    except UnknownValueError:
        accepted = ", ".join(EXPORT_KINDS)
        units = ", ".join(k.value for k in UnitKind)
        msg = f"cannot export {kind!r}: give one of {accepted}, or a unit kind ({units})"
        raise GridmapError(msg) from None


def _rows(
    conn: Connection, model: type[models.Base], *, include_closed: bool = True
) -> list[dict[str, Any]]:
    table = table_of(model)
    query = select(table).order_by(table.c.id)
    if not include_closed and "closed_at" in table.c:
        query = query.where(table.c.closed_at.is_(None))
    return [dict(r) for r in conn.execute(query).mappings()]


def _pairs(conn: Connection, model: type[models.Base], own: str, other: str) -> pd.DataFrame:
    table = table_of(model)
    rows = conn.execute(select(table.c[own], table.c[other])).all()
    return pd.DataFrame(rows, columns=[own, other])


def _joined(pairs: pd.DataFrame, own: str, labels: pd.Series) -> dict[int, str]:
    """``own id -> "label;label"`` for a link table, labels sorted for stable output."""
    if pairs.empty:
        return {}
    named = pairs.assign(label=pairs.iloc[:, 1].map(labels)).dropna(subset=["label"])
    grouped = named.groupby(own)["label"].apply(lambda s: _LIST_SEPARATOR.join(sorted(s)))
    return {int(str(k)): str(v) for k, v in grouped.items()}


def _lookups(conn: Connection) -> dict[str, pd.Series]:
    """Labels other records are referred to by: unit ``SOURCE:ID``, cell and area codes."""
    units = pd.DataFrame(_rows(conn, models.Unit), columns=["id", "source", "source_id"])
    cells = pd.DataFrame(_rows(conn, models.GridCell), columns=["id", "code"])
    areas = pd.DataFrame(_rows(conn, models.AdminArea), columns=["id", "code"])
    return {
        "unit": pd.Series(
            (units["source"] + ":" + units["source_id"]).to_numpy(), index=units["id"]
        ),
        "cell": pd.Series(cells["code"].to_numpy(), index=cells["id"]),
        "area": pd.Series(areas["code"].to_numpy(), index=areas["id"]),
    }


def _links(conn: Connection, name: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Fill the reference and list attributes of ``frame`` (export kind ``name``)."""
    labels = _lookups(conn)
    ids = frame["id"]
    if name == "units":
        frame["cell_code"] = frame["cell_id"].map(labels["cell"])
    elif name == "cells":
        frame["cell_code"] = frame["code"]
        frame["area_code"] = frame["area_id"].map(labels["area"])
    elif name == "areas":
        frame["parent_code"] = frame["parent_id"].map(labels["area"])
    elif name == "orgs":
        covers = _joined(
            _pairs(conn, models.OrgUnit, "org_id", "unit_id"), "org_id", labels["unit"]
        )
        frame["covers"] = ids.map(covers)
        frame["own_unit"] = frame["own_unit_id"].map(labels["unit"])
    elif name == "instructors":
        pairs = _pairs(conn, models.InstructorUnit, "instructor_id", "unit_id")
        frame["covers"] = ids.map(_joined(pairs, "instructor_id", labels["unit"]))
    elif name == "workers":
        pairs = _pairs(conn, models.WorkerCell, "worker_id", "cell_id")
        frame["cells"] = ids.map(_joined(pairs, "worker_id", labels["cell"]))
    return frame


def _geometries(rows: list[dict[str, Any]], column: str | None) -> list[Any]:
    if column is None:
        return [None] * len(rows)
    return [None if r[column] is None else to_shape(r[column]) for r in rows]


def _lon_lat(frame: gpd.GeoDataFrame) -> tuple[pd.Series, pd.Series]:
    located = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    points = representative_points(located)
    lon = pd.Series(points.x.round(7), index=located.index).reindex(frame.index)
    lat = pd.Series(points.y.round(7), index=located.index).reindex(frame.index)
    return lon, lat


def export_records(
    store: Store, kind: str, *, out: Path | str | None = None, include_closed: bool = False
) -> gpd.GeoDataFrame:
    """Every stored record of ``kind`` as a frame in WGS-84, with the columns of the module doc.

    Parameters
    ----------
    store
        The store to read.
    kind
        ``areas``, ``cells``, ``units``, ``orgs``, ``instructors``, ``stations``,
        ``workers``, ``roads`` or ``sites`` (the singular forms work too); or a
        unit kind in English or Chinese (``village``, ``社区``, ...) for the units
        of that kind only.
    out
        Also write the frame there, in the format of its suffix (:func:`write_records`).
    include_closed
        Also export the records an import with ``--sync`` closed, with a last
        ``closed_at`` column; by default only the open records, those runs use.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per record, ordered by id; the geometry column holds the
        stored geometry (``None`` for instructors and workers). Counts are
        nullable integers, dates :class:`datetime.date` values.

    Raises
    ------
    GridmapError
        When ``kind`` is none of the above, naming the accepted kinds, or ``out`` has
        an unknown suffix.
    """
    frame = _read_records(store, kind, include_closed=include_closed)
    if out is not None:
        write_records(frame, out)
    return frame


def _read_records(store: Store, kind: str, *, include_closed: bool) -> gpd.GeoDataFrame:
    name, unit_kind = _resolve_kind(kind)
    spec = _SPECS[name]
    with store.engine.connect() as conn:
        rows = _rows(conn, spec.model, include_closed=include_closed)
        geometries = _geometries(rows, spec.geometry)
        table = table_of(spec.model)
        columns = [c.name for c in table.columns if c.name != spec.geometry]
        data = pd.DataFrame(rows, columns=columns).drop(columns=["updated_at"])
        frame = gpd.GeoDataFrame(data, geometry=geometries, crs=WGS84)
        frame = _links(conn, name, frame)
    frame["kind"] = frame[spec.kind_from] if spec.kind_from else spec.kind_value
    if unit_kind is not None:
        frame = frame[frame["kind"] == unit_kind]
    frame["lon"], frame["lat"] = _lon_lat(frame)
    cell = ["cell_code"] if "cell_code" in frame else []
    closed = ["closed_at"] if include_closed and "closed_at" in frame else []
    ordered = [*LEADING, *cell, *spec.attributes, *closed]
    out = frame[[*ordered, "geometry"]].reset_index(drop=True)
    for column in _COUNTS.intersection(out.columns):
        out[column] = out[column].astype("Int64")
    logger.info("exported %d %s", len(out), unit_kind or name)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


# -- writing -------------------------------------------------------------------------------


def _plain_table(frame: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame(frame.drop(columns=frame.geometry.name))


def _dates_as_text(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    out = frame.copy()
    for column in out.columns:
        if column == out.geometry.name or out[column].dtype != object:
            continue
        if out[column].map(lambda v: isinstance(v, dt.date)).any():
            out[column] = out[column].map(lambda v: v.isoformat() if isinstance(v, dt.date) else v)
    return out


def _write_csv(frame: gpd.GeoDataFrame, path: Path) -> None:
    write_csv(_plain_table(frame), path)


def _write_xlsx(frame: gpd.GeoDataFrame, path: Path) -> None:
    write_xlsx(path, {"Sheet1": _plain_table(frame)})


def _write_geojson(frame: gpd.GeoDataFrame, path: Path) -> None:
    _dates_as_text(frame).to_file(path, driver="GeoJSON", engine="pyogrio")


def _write_gpkg(frame: gpd.GeoDataFrame, path: Path) -> None:
    out = _dates_as_text(frame)
    types = set(out.geometry.dropna().geom_type)
    options: dict[str, Any] = {}
    if len(types) != 1:  # mixed points and polygons, or no geometry at all
        options["geometry_type"] = "Unknown"
    out.to_file(path, driver="GPKG", engine="pyogrio", layer=path.stem, **options)


_WRITERS: Final[dict[str, Callable[[gpd.GeoDataFrame, Path], None]]] = {
    ".csv": _write_csv,
    ".xlsx": _write_xlsx,
    ".geojson": _write_geojson,
    ".json": _write_geojson,
    ".gpkg": _write_gpkg,
}


def write_records(frame: gpd.GeoDataFrame, path: Path | str) -> Path:
    """Write an export (or any WGS-84 frame, such as generated cells) in the format of its suffix.

    ``.csv``: UTF-8 with BOM (Excel opens it with the Chinese intact), no
    geometry column (``lon``/``lat`` carry the location); ``.xlsx``: one sheet,
    no geometry. In both, text that a spreadsheet would run as a formula
    (``=...``, ``+``, ``-``, ``@``) is written as text (see
    :mod:`gridmap._spreadsheet`). ``.geojson``/``.json`` and ``.gpkg``: with
    geometries, dates as ISO text. An existing file is replaced.

    Raises
    ------
    GridmapError
        For an unknown suffix, naming the accepted ones.
    """
    target = Path(path)
    writer = _WRITERS.get(target.suffix.lower())
    if writer is None:
        msg = (
            f"cannot write {target.name}: unknown format {target.suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(EXPORT_FORMATS)}"
        )
        raise GridmapError(msg)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    writer(frame, target)
    logger.info("wrote %d records to %s", len(frame), target)
    return target
