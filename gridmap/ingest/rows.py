"""Turn a layer as read (original fields + geometry) into canonical records and rejects.

Every row is checked completely (fields, coordinates, geometry, identity) and
a rejected row carries every one of its problems, separated by ``"; "``.

Identity
--------
``source_id`` comes from the mapped id column; areas and cells fall back to
their ``code``. A row without one gets a synthetic id, stable across
re-imports of the same data: ``"h"`` + the first 16 hex digits of the SHA-1
of ``kind|name|lon|lat``, where the name is NFKC-normalised, case-folded and
stripped of whitespace, and lon/lat are the WGS-84 centroid rounded to 5
decimals (about 1 m); kinds without geometry use ``kind|name|phone``. Moving a
point by more than about a metre or renaming it therefore yields a new id.
Two rows with the same id in one file: the first is kept, later ones are
rejected naming the first row.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.crs import SourceCRS
from gridmap.ingest.columns import ColumnMap
from gridmap.ingest.records import (
    FIELDS,
    GEOMETRY_TYPES,
    OPTIONAL_GEOMETRY,
    REQUIRED,
    ReadResult,
    RecordKind,
)
from gridmap.ingest.validate import Region, check_geometries
from gridmap.ingest.values import parse_column, parse_float, plain_floats

__all__ = ["RawLayer", "build_result", "synthetic_id"]


@dataclass(frozen=True)
class RawLayer:
    """A layer as read from a file, before any checking.

    Attributes
    ----------
    table
        The original fields, one row per record, as read.
    geometries
        Source-CRS geometries, or ``None`` when points come from lon/lat
        columns or the kind has no geometry.
    rows
        The row number of each record as the user sees it (see ``ReadResult``).
    problems
        Problems the reader found in a row whatever its columns mean (a field
        over the length limit), by position.
    cell_problems
        Problems of single cells, by ``(position, column)``, that reject the row
        only when the column is used (a formula cell without a cached value).
    """

    table: pd.DataFrame
    geometries: Sequence[shapely.Geometry | None] | None
    rows: Sequence[int]
    problems: Mapping[int, Sequence[str]] = field(default_factory=dict)
    cell_problems: Mapping[tuple[int, str], str] = field(default_factory=dict)


class _Problems(dict[int, list[str]]):
    def add(self, position: int, reason: str) -> None:
        self.setdefault(position, []).append(reason)


def synthetic_id(
    kind: RecordKind, name: str | None, geometry: shapely.Geometry | None, phone: str | None = None
) -> str:
    """Return the stable synthetic ``source_id`` of a row without one (see module doc)."""
    key = re.sub(r"\s+", "", unicodedata.normalize("NFKC", name or "")).casefold()
    if geometry is not None:
        centroid = geometry.centroid
        where = f"{centroid.x:.5f}|{centroid.y:.5f}"
    else:
        where = phone or ""
    digest = hashlib.sha1(f"{kind.value}|{key}|{where}".encode()).hexdigest()
    return f"h{digest[:16]}"


def _parse_fields(
    layer: RawLayer,
    kind: RecordKind,
    columns: ColumnMap,
    unit_kind: str | None,
    problems: _Problems,
) -> dict[str, list[object]]:
    values: dict[str, list[object]] = {}
    n = len(layer.table)
    for spec in FIELDS[kind]:
        column = columns.fields.get(spec.name)
        if spec.name == "kind" and unit_kind is not None:
            values[spec.name] = [unit_kind] * n
            continue
        if column is None:
            values[spec.name] = [[] if spec.value_type == "list" else None for _ in range(n)]
            continue
        parsed, errors = parse_column(spec, layer.table[column])
        for position, message in errors.items():
            problems.add(position, f"column {column!r} ({spec.name}): {message}")
        values[spec.name] = parsed
        if spec.name in REQUIRED[kind]:
            for position, value in enumerate(parsed):
                if value is None and position not in problems:
                    problems.add(position, f"{spec.name} is empty (column {column!r})")
    return values


def _points(
    layer: RawLayer, columns: ColumnMap, problems: _Problems, *, optional: bool = False
) -> list[shapely.Geometry | None]:
    """Points from lon/lat columns; with ``optional``, a row with both empty has none.

    Plain decimal numbers are read for the whole column at once; the other rows (empty,
    text, ...) go through :func:`_point` one by one, which says what is wrong.
    """
    assert columns.lon is not None and columns.lat is not None
    xs, x_ok = plain_floats(layer.table[columns.lon])
    ys, y_ok = plain_floats(layer.table[columns.lat])
    both = x_ok & y_ok
    points: list[shapely.Geometry | None] = list(
        shapely.points(np.where(both, xs, 0.0), np.where(both, ys, 0.0))
    )
    x_raw, y_raw = layer.table[columns.lon].tolist(), layer.table[columns.lat].tolist()
    for position in np.flatnonzero(~both).tolist():
        points[position] = _point(
            position, x_raw[position], y_raw[position], columns, problems, optional=optional
        )
    return points


def _point(
    position: int,
    x: object,
    y: object,
    columns: ColumnMap,
    problems: _Problems,
    *,
    optional: bool,
) -> shapely.Geometry | None:
    if optional and _blank(x) and _blank(y):  # e.g. an organisation placed at its unit
        return None
    parsed: list[float] = []
    for label, column, value in (("longitude", columns.lon, x), ("latitude", columns.lat, y)):
        try:
            number = parse_float(value)
        except ValueError as exc:
            problems.add(position, f"column {column!r} ({label}): {exc}")
            continue
        if number is None:
            problems.add(position, f"missing coordinates: {label} column {column!r} is empty")
        else:
            parsed.append(number)
    return shapely.Point(*parsed) if len(parsed) == 2 else None


def _blank(value: object) -> bool:
    try:
        return parse_float(value) is None
    except ValueError:
        return False


def _geometries(
    layer: RawLayer,
    kind: RecordKind,
    columns: ColumnMap,
    source: SourceCRS,
    region: Region,
    problems: _Problems,
    near: Region | None = None,
) -> tuple[list[shapely.Geometry | None], set[int]]:
    n = len(layer.table)
    if GEOMETRY_TYPES[kind] is None:
        return [None] * n, set()
    if columns.lon is not None:
        geoms = _points(layer, columns, problems, optional=kind in OPTIONAL_GEOMETRY)
        skip = {i for i, g in enumerate(geoms) if g is None}
    else:
        geoms = list(layer.geometries) if layer.geometries is not None else [None] * n
        skip = set()
    check = check_geometries(geoms, kind, source, region, skip=skip, near=near)
    for position, reasons in check.problems.items():
        for reason in reasons:
            problems.add(position, reason)
    return check.geometries, check.repaired


def _identify(
    kind: RecordKind,
    values: dict[str, list[object]],
    geoms: list[shapely.Geometry | None],
    layer: RawLayer,
    problems: _Problems,
) -> list[str | None]:
    n = len(layer.table)
    given = values["source_id"]
    if all(type(v) is str and v for v in given) and len(set(given)) == n:
        return cast("list[str | None]", list(given))  # what the loop below gives them too
    return _identify_one_by_one(kind, values, geoms, layer, problems)


def _identify_one_by_one(
    kind: RecordKind,
    values: dict[str, list[object]],
    geoms: list[shapely.Geometry | None],
    layer: RawLayer,
    problems: _Problems,
) -> list[str | None]:
    """Each row's id, from its id column, its code or :func:`synthetic_id`; a repeated id
    is rejected naming the row that had it first."""
    n = len(layer.table)
    codes, names, phones = (
        [None] * n if key not in values else values[key] for key in ("code", "name", "phone")
    )
    ids: list[str | None] = []
    first_seen: dict[str, int] = {}
    for position in range(n):
        sid = _str(values["source_id"][position]) or _str(codes[position])
        if sid is None and position not in problems:
            sid = synthetic_id(kind, _str(names[position]), geoms[position], _str(phones[position]))
        if sid is not None and sid in first_seen:
            problems.add(
                position,
                (
                    f"duplicate source_id {sid!r}: "
                    f"first seen at row {layer.rows[first_seen[sid]]}; "
                    "give each record its own id"
                ),
            )
        elif sid is not None:
            first_seen[sid] = position
        ids.append(sid)
    return ids


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def build_result(
    layer: RawLayer,
    kind: RecordKind,
    columns: ColumnMap,
    source: SourceCRS,
    region: Region,
    *,
    unit_kind: str | None = None,
    notes: Sequence[str] = (),
    near: Region | None = None,
) -> ReadResult:
    """Check every row of ``layer`` and split it into records and rejects.

    ``near`` is the extent of the store's areas and cells that rows must lie near
    (see :func:`gridmap.ingest.validate.check_geometries`).
    """
    problems = _reader_problems(layer, columns)
    values = _parse_fields(layer, kind, columns, unit_kind, problems)
    geoms, repaired = _geometries(layer, kind, columns, source, region, problems, near)
    values["source_id"] = list(_identify(kind, values, geoms, layer, problems))
    keep = [i for i in range(len(layer.table)) if i not in problems]
    frame = pd.DataFrame(
        {
            spec.name: pd.Series(
                [values[spec.name][i] for i in keep],
                dtype="Int64" if spec.value_type == "count" else object,
            )
            for spec in FIELDS[kind]
        }
    )
    frame["_row"] = [layer.rows[i] for i in keep]
    records = gpd.GeoDataFrame(frame, geometry=[geoms[i] for i in keep], crs="EPSG:4326")
    return ReadResult(
        records=records,
        rejects=_rejects(layer, problems),
        n_read=len(layer.table),
        n_repaired=len(repaired & set(keep)),
        notes=list(notes),
        source_crs=source.name,
    )


def _reader_problems(layer: RawLayer, columns: ColumnMap) -> _Problems:
    """The reader's own findings: whole-row ones, and cell ones in the columns used."""
    problems = _Problems()
    for position, reasons in layer.problems.items():
        for reason in reasons:
            problems.add(position, reason)
    used = {*columns.fields.values(), columns.lon, columns.lat} - {None}
    for (position, column), reason in sorted(layer.cell_problems.items()):
        if column in used:
            problems.add(position, f"column {column!r}: {reason}")
    return problems


def _rejects(layer: RawLayer, problems: _Problems) -> pd.DataFrame:
    order = sorted(problems)
    rejects = layer.table.iloc[order].reset_index(drop=True).copy()
    if layer.geometries is not None:
        rejects["geometry"] = [
            None if layer.geometries[i] is None else layer.geometries[i].wkt  # type: ignore[union-attr]
            for i in order
        ]
    rejects["reason"] = ["; ".join(problems[i]) for i in order]
    rejects["_row"] = [layer.rows[i] for i in order]
    return rejects
