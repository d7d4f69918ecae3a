"""Read source data into canonical gridmap records, checking every row.

Two doors:

* :func:`read_layer` reads one layer of a Shapefile, GeoPackage, GeoJSON, KML,
  CSV or Excel file as records of one :class:`RecordKind`;
* :func:`read_osm` reads an OpenStreetMap extract into units, service sites,
  administrative areas and roads, driven by a configurable tag mapping.

Both return frozen results whose rejected rows carry the reason; problems
with a whole input raise :class:`IngestError` before anything is returned.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from gridmap.ingest.encoding import DetectedEncoding, detect_encoding
    from gridmap.ingest.osm import OsmExtract, TagMapping, load_tag_mapping, read_osm
    from gridmap.ingest.readers import SUPPORTED_SUFFIXES, read_layer
    from gridmap.ingest.records import FIELDS, IngestError, ReadResult, RecordKind

#: Where each public name lives: imported on first use, so that ``gridmap.ingest.sniff``
#: refuses a binary file before pandas, GDAL or GEOS are loaded.
_PUBLIC = {
    "DetectedEncoding": "encoding",
    "detect_encoding": "encoding",
    "OsmExtract": "osm",
    "TagMapping": "osm",
    "load_tag_mapping": "osm",
    "read_osm": "osm",
    "SUPPORTED_SUFFIXES": "readers",
    "read_layer": "readers",
    "FIELDS": "records",
    "IngestError": "records",
    "ReadResult": "records",
    "RecordKind": "records",
}

__all__ = [
    "FIELDS",
    "SUPPORTED_SUFFIXES",
    "DetectedEncoding",
    "IngestError",
    "OsmExtract",
    "ReadResult",
    "RecordKind",
    "TagMapping",
    "detect_encoding",
    "load_tag_mapping",
    "read_layer",
    "read_osm",
]


def __getattr__(name: str) -> object:
    if name in _PUBLIC:
        return getattr(importlib.import_module(f"gridmap.ingest.{_PUBLIC[name]}"), name)
    msg = f"module {__name__!r} has no attribute {name!r}"
    raise AttributeError(msg)


def __dir__() -> list[str]:
    return sorted([*globals(), *_PUBLIC])
