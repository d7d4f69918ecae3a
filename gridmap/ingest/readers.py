"""Read one layer of a file into canonical records: :func:`read_layer`.

Formats, chosen by file extension:

* ``.shp`` (Shapefile; encoding from :mod:`gridmap.ingest.encoding`),
  ``.gpkg`` (``layer=``), ``.geojson``/``.json``: read with pyogrio;
* ``.kml``: :mod:`gridmap.ingest.kml`;
* ``.csv``/``.txt`` and ``.xlsx``/``.xlsm``/``.xls`` (``layer=`` names the
  sheet): points from longitude/latitude columns.

Coordinates are read in ``crs=`` when given (it overrides the CRS a file
declares: Amap-picked points are often saved as "WGS-84"), else in the file's
own CRS, else EPSG:4326 for CSV, Excel and KML.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import pandas as pd
import pyogrio
import pyogrio.errors

from gridmap.crs import SourceCRS
from gridmap.domain import UnitKind
from gridmap.ingest.columns import resolve_columns
from gridmap.ingest.encoding import detect_encoding, detect_text_encoding
from gridmap.ingest.excel import read_excel_layer
from gridmap.ingest.kml import read_kml
from gridmap.ingest.records import (
    GEOMETRY_TYPES,
    OPTIONAL_GEOMETRY,
    IngestError,
    ReadResult,
    RecordKind,
    parse_record_kind,
)
from gridmap.ingest.rows import RawLayer, build_result
from gridmap.ingest.sniff import check_table_file
from gridmap.ingest.tables import (
    DEFAULT_MAX_FIELD_CHARS,
    TableOptions,
    cap_fields,
    note_header,
    read_csv_table,
)
from gridmap.ingest.validate import Region, default_region

__all__ = ["SUPPORTED_SUFFIXES", "read_layer"]

logger = logging.getLogger(__name__)

_VECTOR: Final = frozenset({".shp", ".gpkg", ".geojson", ".json"})
_TABULAR: Final = frozenset({".csv", ".txt", ".xlsx", ".xlsm", ".xls"})
SUPPORTED_SUFFIXES: Final = _VECTOR | _TABULAR | {".kml"}


def _damaged(path: Path, exc: Exception) -> IngestError:
    return IngestError(
        f"cannot read {path.name}: {exc}. The file may be truncated or damaged, "
        "or not what its extension says; export it again"
    )


def _read_vector(
    path: Path, layer: str | None, encoding: str | None, notes: list[str]
) -> tuple[RawLayer, str | None]:
    try:
        layers = [str(name) for name, _ in pyogrio.list_layers(path)]
        if layer is None and len(layers) > 1:
            msg = (
                f"{path.name} has {len(layers)} layers ({', '.join(layers)}); "
                "choose one with --layer"
            )
            raise IngestError(msg)
        if layer is not None and layer not in layers:
            msg = f"{path.name} has no layer {layer!r}; its layers are: {', '.join(layers)}"
            raise IngestError(msg)
        if path.suffix.lower() == ".shp":
            detected = detect_encoding(path, encoding)
            encoding = detected.encoding
            if detected.note:
                notes.append(detected.note)
        frame = pyogrio.read_dataframe(path, layer=layer, encoding=encoding)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
        raise _damaged(path, exc) from exc
    geometries = [None if g is None else g for g in frame.geometry.tolist()]
    table = pd.DataFrame(frame.drop(columns=frame.geometry.name)).astype(object)
    crs = frame.crs
    crs_text = None if crs is None else (f"EPSG:{crs.to_epsg()}" if crs.to_epsg() else crs.to_wkt())
    rows = list(range(1, len(table) + 1))
    return RawLayer(table.reset_index(drop=True), geometries, rows), crs_text


def _read_csv(path: Path, options: TableOptions, notes: list[str]) -> RawLayer:
    detected = detect_text_encoding(path, options.encoding)
    if detected.note:
        notes.append(detected.note)
    try:
        read = read_csv_table(
            path,
            detected.encoding,
            options.kind,
            header_row=options.header_row,
            max_field_chars=options.max_field_chars,
            named=options.named,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise _damaged(path, exc) from exc
    note_header(read.header_row, options, notes)
    return RawLayer(read.table, None, read.rows, problems=read.problems)


def _read_any(path: Path, options: TableOptions, notes: list[str]) -> tuple[RawLayer, str | None]:
    suffix = path.suffix.lower()
    if suffix in _VECTOR:
        raw, crs = _read_vector(path, options.sheet, options.encoding, notes)
    elif suffix == ".kml":
        fields, geometries = read_kml(path)
        table = pd.DataFrame(fields, dtype=object) if fields else pd.DataFrame({"name": []})
        raw, crs = RawLayer(table, geometries, list(range(1, len(fields) + 1))), "EPSG:4326"
    elif suffix in (".csv", ".txt"):
        return _read_csv(path, options, notes), None
    else:
        return read_excel_layer(path, options, notes), None
    problems = cap_fields(raw.table, options.max_field_chars)
    return RawLayer(raw.table, raw.geometries, raw.rows, problems=problems), crs


def _source_crs(
    crs: str | None, declared: str | None, tabular: bool, notes: list[str]
) -> SourceCRS:
    try:
        if crs is not None:
            source = SourceCRS(crs)
            if declared is not None and SourceCRS(declared).name != source.name:
                notes.append(
                    f"the file declares {SourceCRS(declared).name}; read as {source.name} "
                    "as --crs says"
                )
            return source
        if declared is not None:
            return SourceCRS(declared)
    except ValueError as exc:
        raise IngestError(str(exc)) from exc
    if tabular:
        notes.append(
            "no crs given (--crs): coordinates read as WGS-84 (EPSG:4326); points picked on "
            "Amap/Tencent need --crs gcj02, on Baidu --crs bd09"
        )
        return SourceCRS("EPSG:4326")
    notes.append(
        "the file declares no coordinate system: read as WGS-84 (EPSG:4326); "
        "pass --crs if that is wrong"
    )
    return SourceCRS("EPSG:4326")


def _fixed_unit_kind(kind: RecordKind, unit_kind: UnitKind | str | None) -> str | None:
    if unit_kind is None:
        return None
    if kind is not RecordKind.UNIT:
        msg = f"unit_kind= only applies to unit records, not {kind.value}"
        raise IngestError(msg)
    try:
        return UnitKind.parse(unit_kind).value
    except ValueError as exc:
        raise IngestError(str(exc)) from exc


def read_layer(  # noqa: PLR0913 - one keyword per reader option, like geopandas.read_file
    path: str | Path,
    kind: RecordKind | str,
    *,
    layer: str | None = None,
    crs: str | None = None,
    encoding: str | None = None,
    lon_col: str | None = None,
    lat_col: str | None = None,
    id_col: str | None = None,
    name_col: str | None = None,
    columns: Mapping[str, str] | None = None,
    unit_kind: UnitKind | str | None = None,
    region: Region | None = None,
    sheet: str | None = None,
    header_row: int | None = None,
    max_field_chars: int = DEFAULT_MAX_FIELD_CHARS,
    near: Region | None = None,
) -> ReadResult:
    """Read one layer of a file as records of ``kind``, checking every row.

    Parameters
    ----------
    path
        Shapefile, GeoPackage, GeoJSON, KML, CSV or Excel file.
    kind
        What the layer holds (:class:`RecordKind` or its value).
    layer
        GeoPackage layer or Excel sheet; required when a GeoPackage has several.
    sheet
        Excel sheet (same as ``layer``); default the first, named in the notes
        with the others.
    crs
        Source coordinate system (``"4326"``, ``"EPSG:4547"``, ``"gcj02"``,
        ``"bd09"``); overrides the file's own.
    encoding
        Text encoding of a Shapefile's ``.dbf`` or of a CSV file; guessed if not given.
    lon_col, lat_col, id_col, name_col
        Column names, when the aliases of :mod:`gridmap.ingest.columns` miss them.
    columns
        Further ``canonical field -> source column`` choices.
    unit_kind
        Fixes the kind of every unit (a file of buildings only, say).
    region
        Expected ``(west, south, east, north)`` lon/lat extent; China's by
        default for China-only systems (gcj02, bd09, CGCS2000), else the world.
    header_row
        1-based row of a CSV/Excel header; found among the first rows by default.
    max_field_chars
        Longest text accepted in one field; rows with a longer one are rejected.
    near
        The lon/lat extent where the data should lie (the store's areas and cells,
        :func:`gridmap.ingest.region.store_extent`); rows far outside it are
        rejected, "looks swapped" when exchanging x and y brings them inside.
        Default: the spread of the file's own rows.

    Returns
    -------
    ReadResult
        Accepted records in EPSG:4326 and rejected rows with their reasons.

    Raises
    ------
    IngestError
        For problems with the whole file, all listed in one message: missing,
        truncated or unreadable file, unknown format, kind or CRS, required
        columns not found.
    """
    record_kind = parse_record_kind(kind)
    source_path = Path(path)
    if not source_path.is_file():
        msg = f"no such file: {source_path}"
        raise IngestError(msg)
    suffix = source_path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        msg = f"unknown file type {suffix!r}; supported: {', '.join(sorted(SUPPORTED_SUFFIXES))}"
        raise IngestError(msg)
    check_table_file(source_path, encoding)
    fixed_kind = _fixed_unit_kind(record_kind, unit_kind)
    notes: list[str] = []
    if sheet is not None and layer is not None and sheet != layer:
        msg = f"--sheet {sheet!r} and --layer {layer!r} disagree; give one of them"
        raise IngestError(msg)
    chosen = dict(columns or {})
    chosen.update({k: v for k, v in (("source_id", id_col), ("name", name_col)) if v is not None})
    named = frozenset(chosen.values()) | {c for c in (lon_col, lat_col) if c is not None}
    options = TableOptions(
        record_kind, sheet or layer, encoding, header_row, max_field_chars, named
    )
    raw, declared = _read_any(source_path, options, notes)
    wants_points = suffix in _TABULAR and GEOMETRY_TYPES[record_kind] is not None
    has_geometry = GEOMETRY_TYPES[record_kind] is not None
    source = _source_crs(crs, declared, wants_points, notes if has_geometry else [])
    mapping = resolve_columns(
        raw.table.columns,
        record_kind,
        columns=chosen,
        coordinates=wants_points,
        coordinates_optional=record_kind in OPTIONAL_GEOMETRY,
        lon_col=lon_col,
        lat_col=lat_col,
        fixed={"kind"} if fixed_kind else (),
    )
    if mapping.problems:
        sheets = [n for n in notes if n.startswith("read sheet")]
        problems = "\n".join(f"  - {p}" for p in [*mapping.problems, *sheets])
        msg = f"cannot read {source_path.name} as {record_kind.value} records:\n{problems}"
        raise IngestError(msg)
    if fixed_kind and "kind" in mapping.fields:
        notes.append(f"column {mapping.fields['kind']!r} ignored: every row is a {fixed_kind}")
    if mapping.ignored:
        notes.append(f"columns not used: {', '.join(mapping.ignored)}")
    for note in notes:
        logger.info("%s: %s", source_path.name, note)
    return build_result(
        raw,
        record_kind,
        mapping,
        source,
        default_region(source, region),
        unit_kind=fixed_kind,
        notes=notes,
        near=near,
    )
