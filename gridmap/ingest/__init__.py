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

from gridmap.ingest.encoding import DetectedEncoding, detect_encoding
from gridmap.ingest.osm import OsmExtract, TagMapping, load_tag_mapping, read_osm
from gridmap.ingest.readers import SUPPORTED_SUFFIXES, read_layer
from gridmap.ingest.records import FIELDS, IngestError, ReadResult, RecordKind

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
