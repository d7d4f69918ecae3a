"""Maps that scale: units summed per grid cell, each cell's units loaded when zoomed in.

Above :attr:`EncodeOptions.aggregate_threshold` units the map no longer builds one
marker per unit at start. The cells layer carries each cell's unit counts by kind
and by coverage (its fill stays the cell's status, its label the number of units);
the units layer carries every unit as typed columns sorted by cell, one chunk per cell
(:mod:`gridmap.maps._unit_pack`, gzip-compressed), which the page decodes and draws only
for the cells in view from ``unit_zoom`` on, or for a cell that is clicked. The file
stays one offline HTML page.

:func:`unit_chunks` and :func:`packed` wrote the units as JSON chunks (the column and
point encodings of a whole layer, :mod:`gridmap.maps._encode`) until the typed columns
replaced them (25.5 -> 17.6 MB at a million units); they stay as the reference the
typed columns are tested against (``tests/test_maps_unit_pack.py``).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from gridmap.domain import UnitKind
from gridmap.maps import _encode
from gridmap.maps._columns import encode_chunks
from gridmap.maps.i18n import Lang, tr

__all__ = ["cell_counts", "count_fields", "packed", "unit_chunks"]

ObjectArray = np.ndarray[Any, np.dtype[np.object_]]


def cell_counts(cells: gpd.GeoDataFrame, units: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``cells`` with each cell's units by kind, not served, without organisation, 应建未建."""
    code = units["cell_code"].astype(object)
    frame = pd.DataFrame(
        {
            "code": code,
            "kind": units["kind"].astype(object),
            "unserved": ~units["service_covered"].fillna(False).astype(bool),
            "no_org": units["org_status"].astype(object) == "none",
            "must": units["must_have_branch"].fillna(False).astype(bool),
        }
    )
    kinds = frame.groupby(["code", "kind"]).size().unstack(fill_value=0)
    sums = frame.groupby("code")[["unserved", "no_org", "must"]].sum()
    out = cells.copy()
    for kind in UnitKind:
        column = kinds[kind.value] if kind.value in kinds else pd.Series(dtype=int)
        out[f"units_{kind.value}"] = cells["code"].map(column).fillna(0).astype(int)
    for key, name in (
        ("unserved", "units_unserved"),
        ("no_org", "units_no_org"),
        ("must", "units_must"),
    ):
        out[name] = cells["code"].map(sums[key]).fillna(0).astype(int)
    return out


def count_fields(lang: Lang) -> list[list[str]]:
    """Popup rows of the counts :func:`cell_counts` adds (label in ``lang``)."""
    rows = [
        [f"units_{k.value}", f"{tr('f.units_of', lang)}{k.label(lang)}", "int"] for k in UnitKind
    ]
    rows += [
        ["units_unserved", tr("f.units_unserved", lang), "int"],
        ["units_no_org", tr("f.units_no_org", lang), "int"],
        ["units_must", tr("f.units_must", lang), "int"],
    ]
    return rows


def unit_chunks(
    codes: Sequence[object] | ObjectArray,
    columns: Mapping[str, Sequence[object] | ObjectArray],
    lon: np.ndarray[Any, np.dtype[np.float64]],
    lat: np.ndarray[Any, np.dtype[np.float64]],
    precision: int,
) -> dict[str, Any]:
    """One encoded chunk of points and columns per cell code, in first-seen code order.

    ``codes``, ``columns``, ``lon`` and ``lat`` are per unit, already sorted by code.
    Each column is encoded once for all chunks (:func:`gridmap.maps._columns.encode_chunks`).
    """
    keys = _keys(codes)
    if len(keys) == 0:
        return {"codes": [], "chunks": []}
    change = np.flatnonzero(keys[1:] != keys[:-1]) + 1
    bounds = np.concatenate([[0], change, [len(keys)]]).astype(np.int64)
    points = _encode.encode_point_chunks(lon, lat, bounds, precision)
    encoded = {k: encode_chunks(v, bounds) for k, v in columns.items()}
    chunks = [
        {"n": int(b - a), "xy": xy, "cols": {k: v[i] for k, v in encoded.items()}}
        for i, (a, b, xy) in enumerate(zip(bounds[:-1], bounds[1:], points, strict=True))
    ]
    return {"codes": keys[bounds[:-1]].tolist(), "chunks": chunks}


def _keys(codes: Sequence[object] | ObjectArray) -> ObjectArray:
    """Each code as text, a missing one (None, NaN) as ``""``."""
    keys = np.empty(len(codes), dtype=object)
    keys[:] = codes if isinstance(codes, np.ndarray) else list(codes)
    missing = np.asarray(pd.isna(keys), dtype=bool)
    keys[missing] = ""
    if not all(k is str for k in set(map(type, keys))):
        keys = np.array([str(k) for k in keys.tolist()], dtype=object)
    return keys


def packed(chunks: dict[str, Any]) -> str:
    """The chunks as gzip-compressed JSON in base64: what the page inflates on load.

    Names and labels repeat from cell to cell; compressed, a million units fit the
    20 MB a planner's laptop opens in seconds (the page inflates them with the
    browser's own ``DecompressionStream``, no library needed). Base64 keeps the block
    inert inside the page whatever the names hold.
    """
    text = json.dumps(chunks, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return base64.b64encode(gzip.compress(text.encode("utf-8"), compresslevel=6)).decode("ascii")
