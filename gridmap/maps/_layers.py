"""Turn each :class:`~gridmap.maps.data.MapData` layer into the spec the page's loader draws.

A spec is plain JSON (see :mod:`gridmap.maps._encode` for the geometry and
column encodings) plus drawing instructions: Leaflet path style, colour by a
column, popup fields with their translated labels, tooltip and search columns.
Enumerated values are translated here, so the page only shows strings.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Final

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import shapely

from gridmap.domain import AdminLevel, DomainEnum, OrgKind, OrgStatus, StationTier, UnitKind
from gridmap.maps import _by_cell, _encode, _unit_pack
from gridmap.maps.data import PERSONAL_COLUMNS, MapData
from gridmap.maps.i18n import Lang, status_label, tr

__all__ = [
    "ALERT_COLOR",
    "STATUS_COLORS",
    "UNIT_KIND_COLORS",
    "EncodeOptions",
    "LayerSpec",
    "layer_specs",
]

#: Fill colour of a cell by status (colour-blind safe green / amber / red).
STATUS_COLORS: Final = {
    "covered": "#1a9850",
    "partial": "#fdae61",
    "blind": "#d73027",
    "empty": "#bdbdbd",
}
#: Marker colour of a unit by kind.
UNIT_KIND_COLORS: Final = {
    "village": "#8c510a",
    "community": "#bf812d",
    "building": "#2166ac",
    "park": "#35978f",
    "firm": "#542788",
    "social_org": "#c51b7d",
}
_OTHER_COLOR: Final = "#777777"
#: Decimals of degrees of units drawn per cell (about 1 m: they are drawn zoomed in).
_UNIT_PRECISION: Final = 5
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]
#: Ring of units flagged 应建未建 (``must_have_branch``).
ALERT_COLOR: Final = "#e31a1c"


@dataclasses.dataclass(frozen=True)
class EncodeOptions:
    """How geometry is written: decimals of degrees, simplification, clustering."""

    polygon_precision: int = 5
    point_precision: int = 6
    simplify_m: float = 0.0
    cluster_threshold: int = 300
    #: More units than this: units summed per cell, drawn per cell when zoomed in.
    aggregate_threshold: int = 20_000
    #: The zoom from which a summed map draws the units of the cells in view.
    unit_zoom: int = 15

    def __post_init__(self) -> None:
        # The page decodes with 32-bit integer arithmetic: 180e6 * 2 < 2**31 holds to 6.
        for name in ("polygon_precision", "point_precision"):
            value = getattr(self, name)
            if not 0 <= value <= 6:
                msg = f"{name} must be 0-6 decimals of degrees (6 is ~0.1 m), got {value}"
                raise ValueError(msg)


@dataclasses.dataclass(frozen=True)
class LayerSpec:
    """One overlay: its id, translated name, whether it starts visible, and the JSON spec."""

    layer_id: str
    name: str
    show: bool
    cluster: bool
    spec: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class _Field:
    column: str
    label_key: str
    fmt: str = ""  # "", "m" (metres), "bool", "int"
    enum: type[DomainEnum] | None = None


@dataclasses.dataclass(frozen=True)
class _Def:
    kind: str  # "polygon" or "point"
    fields: tuple[_Field, ...]
    style: dict[str, Any]
    symbol: str = "circle"
    tooltip: tuple[str, ...] = ("name",)
    search: tuple[str, ...] = ()
    show: bool = True
    coverage: bool = False


_F = _Field
_DEFS: Final[dict[str, _Def]] = {
    "areas": _Def(
        "polygon",
        (_F("name", "f.name"), _F("code", "f.area_code"), _F("level", "f.level", enum=AdminLevel)),
        {"color": "#333333", "weight": 2.2, "fill": False, "dashArray": "6 3"},
        coverage=True,
    ),
    "cells": _Def(
        "polygon",
        (
            _F("code", "f.code"),
            _F("name", "f.name"),
            _F("area_name", "f.area_name"),
            _F("status", "f.status"),
            _F("units_total", "f.units_total", "int"),
            _F("units_covered", "f.units_covered", "int"),
            _F("population", "f.population", "int"),
        ),
        {"color": "#555555", "weight": 0.6, "fillOpacity": 0.45},
        tooltip=("name", "code"),
        search=("code", "name"),
        coverage=True,
    ),
    "blind_zones": _Def(
        "polygon",
        (
            _F("rank", "f.rank", "int"),
            _F("area_m2", "f.area_m2", "int"),
            _F("units", "f.units", "int"),
            _F("population", "f.population", "int"),
            _F("priority", "f.priority"),
        ),
        {
            "color": "#67001f",
            "weight": 2.5,
            "fillOpacity": 0.12,
            "fillColor": "#67001f",
            "dashArray": "4 3",
        },
        tooltip=("rank",),
    ),
    "service_areas": _Def(
        "polygon",
        (_F("station_name", "f.station_name"), _F("tier", "f.tier", enum=StationTier)),
        {"color": "#2b8cbe", "weight": 1, "fillOpacity": 0.06, "interactive": False},
        tooltip=(),
    ),
    "units": _Def(
        "point",
        (
            _F("name", "f.name"),
            _F("kind", "f.kind", enum=UnitKind),
            _F("cell_code", "f.cell_code"),
            _F("org_status", "f.org_status", enum=OrgStatus),
            _F("must_have_branch", "f.must_have_branch", "bool"),
            _F("service_covered", "f.service_covered", "bool"),
            _F("nearest_station", "f.nearest_station"),
            _F("nearest_station_m", "f.nearest_station_m", "m"),
            _F("party_members", "f.party_members", "int"),
        ),
        {"radius": 5, "color": "#ffffff", "weight": 1, "fillOpacity": 0.9},
        search=("name",),
    ),
    "orgs": _Def(
        "point",
        (
            _F("name", "f.name"),
            _F("kind", "f.kind", enum=OrgKind),
            _F("members", "f.members", "int"),
            _F("idle", "f.idle", "bool"),
        ),
        {},
        symbol="flag",
    ),
    "stations": _Def(
        "point",
        (
            _F("name", "f.name"),
            _F("tier", "f.tier", enum=StationTier),
            _F("idle", "f.idle", "bool"),
        ),
        {},
        symbol="square",
    ),
    "sites": _Def(
        "point",
        (
            _F("rank", "f.rank", "int"),
            _F("name", "f.name"),
            _F("marginal_gain", "f.marginal_gain"),
            _F("source", "f.source"),
        ),
        {},
        symbol="star",
    ),
    "workers": _Def(
        "point",
        (_F("name", "f.name"), _F("cell_code", "f.cell_code"), _F("phone", "f.phone")),
        {"radius": 4, "color": "#ffffff", "weight": 1, "fillColor": "#6a3d9a", "fillOpacity": 0.9},
        show=False,
    ),
}


def _column(frame: gpd.GeoDataFrame, field: _Field, lang: Lang) -> ObjectArray:
    """The values the page shows: enumerations and statuses translated, missing as None."""
    if field.column not in frame.columns:
        return np.full(len(frame), None, dtype=object)
    values = frame[field.column]
    if field.enum is not None:
        enum = field.enum
        out = _each_distinct(values, lambda v: _enum_label(enum, v, lang))
    elif field.column == "status":
        out = _each_distinct(values, lambda v: status_label(str(v), lang))
    elif field.fmt == "bool":
        out = _each_distinct(values, bool)
    else:
        out = np.empty(len(values), dtype=object)
        out[:] = values.tolist()
        if any(issubclass(k, np.generic) for k in set(map(type, out))):
            out[:] = [_plain(v) for v in out.tolist()]
    out[_missing(values)] = None
    return out


def _each_distinct(values: pd.Series, convert: Callable[[Any], object]) -> ObjectArray:
    """``convert`` applied once per distinct value (None where missing)."""
    codes, distinct = pd.factorize(values)
    converted = np.empty(len(distinct) + 1, dtype=object)
    converted[:-1] = [convert(v) for v in distinct.tolist()]
    converted[-1] = None  # code -1: missing
    out: ObjectArray = converted[codes]
    return out


def _enum_label(enum: type[DomainEnum], value: object, lang: Lang) -> object:
    try:
        return enum.parse(value).label(lang)
    except ValueError:
        return str(value)


def _missing(values: pd.Series) -> BoolArray:
    """None, NaN, ±inf (e.g. a unit no station reaches), NaT or pandas.NA: shown as empty."""
    missing = np.array(values.isna(), dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values):
        missing |= ~np.isfinite(values.to_numpy(dtype=np.float64, na_value=np.nan))
    elif values.dtype == object:
        missing |= np.array(values.isin([np.inf, -np.inf]), dtype=bool)
    return missing


def _plain(value: object) -> object:
    return value.item() if isinstance(value, np.generic) else value


def _points(frame: gpd.GeoDataFrame) -> tuple[FloatArray, FloatArray, BoolArray]:
    """Longitude, latitude (a point on the surface of a polygon) and which are drawable."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    points = geoms.copy()
    polygonal = present & (shapely.get_type_id(geoms) != 0)
    points[polygonal] = shapely.point_on_surface(geoms[polygonal])
    points[~present] = None
    lon: FloatArray = np.where(present, shapely.get_x(points), np.nan)
    lat: FloatArray = np.where(present, shapely.get_y(points), np.nan)
    keep = ~(np.isnan(lon) | np.isnan(lat))
    return lon, lat, keep


def _geometry(frame: gpd.GeoDataFrame, d: _Def, opts: EncodeOptions) -> dict[str, Any]:
    geoms = np.asarray(frame.geometry.values, dtype=object)
    if d.kind == "point":
        lon, lat, keep = _points(frame)
        return {
            "p": opts.point_precision,
            "keep": keep,
            "xy": _encode.encode_points(lon[keep], lat[keep], opts.point_precision),
        }
    if opts.simplify_m > 0:
        lat0 = float(frame.total_bounds[1])
        tolerance = _encode.metres_to_degrees(opts.simplify_m, lat0)
        geoms = _encode.simplify_coverage(geoms, tolerance, coverage=d.coverage)
    return {
        "p": opts.polygon_precision,
        "g": _encode.encode_polygons(list(geoms), opts.polygon_precision),
    }


def _color_by(name: str, frame: gpd.GeoDataFrame, lang: Lang) -> dict[str, Any] | None:
    if name == "cells":
        colors = {status_label(k, lang): v for k, v in STATUS_COLORS.items()}
        return {"col": "status", "colors": colors, "other": _OTHER_COLOR}
    if name == "units":
        colors = {UnitKind(k).label(lang): v for k, v in UNIT_KIND_COLORS.items()}
        return {"col": "kind", "colors": colors, "other": _OTHER_COLOR}
    return None


def _alert_column(name: str, frame: gpd.GeoDataFrame) -> list[int] | None:
    """Units flagged 应建未建 (``must_have_branch``: enough members, no own or joint branch,
    whatever other coverage they have) get a red ring."""
    if name != "units" or "must_have_branch" not in frame.columns:
        return None
    flags: list[int] = frame["must_have_branch"].fillna(False).astype(bool).astype(int).tolist()
    return flags


def _fields(name: str, include_personal: bool) -> tuple[_Field, ...]:
    hidden = () if include_personal else PERSONAL_COLUMNS.get(name, ())
    return tuple(f for f in _DEFS[name].fields if f.column not in hidden)


def _spec(
    name: str, frame: gpd.GeoDataFrame, lang: Lang, opts: EncodeOptions, include_personal: bool
) -> LayerSpec:
    d = _DEFS[name]
    if "code" in frame.columns:  # neighbours share code prefixes, names and vertices
        frame = frame.sort_values("code", kind="stable")
    geometry = _geometry(frame, d, opts)
    keep = geometry.pop("keep", None)
    if keep is not None:
        frame = frame[keep]
    fields = _fields(name, include_personal)
    cols = {f.column: _encode.encode_column(_column(frame, f, lang)) for f in fields}
    alert = _alert_column(name, frame)
    if alert is not None:
        cols["_alert"] = alert
    # Thousands of DOM markers (flags, squares) cost seconds of style and layout per zoom.
    cluster = d.kind == "point" and len(frame) > opts.cluster_threshold
    title = tr(f"layer.{name}", lang)
    spec: dict[str, Any] = {
        "id": name,
        "title": title,
        "type": d.kind,
        "n": len(frame),
        **geometry,
        "cols": cols,
        "fields": [[f.column, tr(f.label_key, lang), f.fmt] for f in fields],
        "style": d.style,
        "symbol": d.symbol,
        "colorBy": _color_by(name, frame, lang),
        "alert": {"color": ALERT_COLOR, "weight": 2.5} if alert is not None else None,
        "tooltip": list(d.tooltip),
        "search": list(d.search),
        "cluster": cluster,
        "coverage": d.coverage,  # tiles without overlaps: the page may fill it pixel by pixel
    }
    return LayerSpec(name, title, d.show, cluster, spec)


def unit_columns(
    frame: gpd.GeoDataFrame, lang: Lang, opts: EncodeOptions, include_personal: bool
) -> tuple[list[object], dict[str, ObjectArray], FloatArray, FloatArray, int]:
    """What a summed map writes of its units, sorted by cell: cell codes, the shown
    columns (translated, no ``cell_code``: a cell's chunk is one code), lon, lat and
    decimals of degrees."""
    fields = _fields("units", include_personal)
    wanted = [f.column for f in fields] + ["cell_code", "must_have_branch"]
    shown = [c for c in dict.fromkeys(wanted) if c in frame.columns]  # sorted, not the rest
    frame = frame[[*shown, frame.geometry.name]]
    frame = frame.sort_values("cell_code", kind="stable", na_position="last")
    lon, lat, keep = _points(frame)
    frame, lon, lat = frame[keep], lon[keep], lat[keep]
    columns = {f.column: _column(frame, f, lang) for f in fields if f.column != "cell_code"}
    alert = _alert_column("units", frame)
    if alert is not None:
        columns["_alert"] = np.array(alert, dtype=object)
    codes: list[object] = frame["cell_code"].tolist()
    return codes, columns, lon, lat, min(opts.point_precision, _UNIT_PRECISION)


def _by_cell_units(
    frame: gpd.GeoDataFrame, lang: Lang, opts: EncodeOptions, include_personal: bool
) -> LayerSpec:
    """The units layer as typed columns sorted by cell (:mod:`gridmap.maps._unit_pack`),
    for the page to decode and draw cell by cell on zoom."""
    codes, columns, lon, lat, precision = unit_columns(frame, lang, opts, include_personal)
    base = _spec("units", frame.iloc[:0], lang, opts, include_personal)
    spec = {
        **{k: v for k, v in base.spec.items() if k not in ("xy", "cols")},
        "n": len(codes),
        "search": [],  # the units are not decoded up front; cells are searched instead
        "cluster": False,
        "p": precision,
        "byCell": {
            "bin": _unit_pack.pack_units(codes, columns, lon, lat, precision),
            "zoom": opts.unit_zoom,
        },
    }
    return LayerSpec("units", base.name, base.show, False, spec)


def _summed_cells(
    frame: gpd.GeoDataFrame, units: gpd.GeoDataFrame, lang: Lang, opts: EncodeOptions
) -> LayerSpec:
    """The cells layer with each cell's unit counts in its popup and as its label."""
    summed = _by_cell.cell_counts(frame, units)
    base = _spec("cells", summed, lang, opts, False)
    counts = _by_cell.count_fields(lang)
    summed = summed.sort_values("code", kind="stable")  # the order _spec wrote them in
    cols = dict(base.spec["cols"])
    for column, _, _ in counts:
        cols[column] = _encode.encode_column(summed[column].tolist())
    spec = {**base.spec, "cols": cols, "fields": base.spec["fields"] + counts}
    spec["label"] = "units_total"
    return dataclasses.replace(base, spec=spec)


def layer_specs(
    data: MapData, lang: Lang, opts: EncodeOptions, *, include_personal: bool
) -> list[LayerSpec]:
    """Specs of the non-empty layers in drawing order; workers only with personal data.

    With more units than ``opts.aggregate_threshold`` and a cells layer, units are
    summed per cell and drawn per cell when zoomed in (:mod:`gridmap.maps._by_cell`).
    """
    wanted: Callable[[str], bool] = lambda n: n != "workers" or include_personal  # noqa: E731
    units, cells = data.layer("units"), data.layer("cells")
    summed = units is not None and cells is not None and len(units) > opts.aggregate_threshold
    specs = []
    for name in data.present():
        frame = data.layer(name)
        if not wanted(name) or frame is None:
            continue
        if summed and name == "cells" and units is not None:
            specs.append(_summed_cells(frame, units, lang, opts))
        elif summed and name == "units":
            specs.append(_by_cell_units(frame, lang, opts, include_personal))
        else:
            specs.append(_spec(name, frame, lang, opts, include_personal))
    return specs
