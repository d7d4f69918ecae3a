"""Read KML placemarks with :mod:`xml.etree` (KML from Google Earth, Amap/Baidu tools).

GDAL's LIBKML driver replaces non-ASCII ``ExtendedData`` field names with
underscores (``户数`` becomes ``______``), which loses exactly the Chinese
headers gridmap maps, so KML is parsed here instead. Every ``Placemark`` in
the document becomes one row, whatever folder it sits in: columns ``name``,
``description``, ``folder`` and every ``ExtendedData`` field (``Data/value``
and ``SchemaData/SimpleData``). Geometries: ``Point``, ``LineString``,
``LinearRing``, ``Polygon`` (with holes) and ``MultiGeometry`` of those.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import shapely

from gridmap.ingest.records import IngestError

__all__ = ["read_kml"]


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(element: ET.Element, name: str) -> list[ET.Element]:
    return [child for child in element if _local(child.tag) == name]


def _first(element: ET.Element, name: str) -> ET.Element | None:
    return next((e for e in element.iter() if _local(e.tag) == name), None)


def _coordinates(element: ET.Element | None) -> list[tuple[float, float]]:
    node = None if element is None else _first(element, "coordinates")
    if node is None or not (node.text or "").strip():
        return []
    points = []
    for token in (node.text or "").split():
        parts = token.split(",")
        points.append((float(parts[0]), float(parts[1])))
    return points


def _polygon(element: ET.Element) -> shapely.Geometry:
    outer = _first(element, "outerBoundaryIs")
    shell = _coordinates(outer)
    holes = [
        _coordinates(inner) for inner in element.iter() if _local(inner.tag) == "innerBoundaryIs"
    ]
    return shapely.Polygon(shell, holes) if len(shell) >= 4 else shapely.Polygon()


def _geometry(element: ET.Element) -> shapely.Geometry | None:
    name = _local(element.tag)
    if name == "Point":
        coords = _coordinates(element)
        return shapely.Point(coords[0]) if coords else shapely.Point()
    if name == "LineString":
        coords = _coordinates(element)
        return shapely.LineString(coords) if len(coords) >= 2 else shapely.LineString()
    if name == "LinearRing":
        return shapely.Polygon(_coordinates(element))
    if name == "Polygon":
        return _polygon(element)
    if name == "MultiGeometry":
        parts = [g for child in element if (g := _geometry(child)) is not None]
        types = {p.geom_type for p in parts}
        if types == {"Polygon"}:
            return shapely.MultiPolygon(parts)
        if types == {"LineString"}:
            return shapely.MultiLineString(parts)
        if types == {"Point"}:
            return shapely.MultiPoint(parts)
        return shapely.GeometryCollection(parts)
    return None


def _placemark(
    element: ET.Element, folder: str | None
) -> tuple[dict[str, object], shapely.Geometry | None]:
    fields: dict[str, object] = {"name": None, "description": None, "folder": folder}
    geometry = None
    for child in element:
        name = _local(child.tag)
        if name in ("name", "description"):
            fields[name] = (child.text or "").strip() or None
        elif name == "ExtendedData":
            for data in child.iter():
                if _local(data.tag) == "Data":
                    value = _first(data, "value")
                    fields[data.get("name", "")] = None if value is None else value.text
                elif _local(data.tag) == "SimpleData":
                    fields[data.get("name", "")] = data.text
        elif geometry is None:
            geometry = _geometry(child)
    return fields, geometry


def _walk(
    element: ET.Element,
    folder: str | None,
    out: list[tuple[dict[str, object], shapely.Geometry | None]],
) -> None:
    for child in element:
        name = _local(child.tag)
        if name == "Placemark":
            out.append(_placemark(child, folder))
        elif name in ("Folder", "Document", "kml"):
            label = _children(child, "name")
            inner = (label[0].text or "").strip() if name == "Folder" and label else folder
            _walk(child, inner, out)


def read_kml(path: Path) -> tuple[list[dict[str, object]], list[shapely.Geometry | None]]:
    """Return the fields and geometry of every placemark in a KML file.

    Raises
    ------
    IngestError
        When the file is not well-formed XML (truncated or damaged) or a
        coordinate is not a number.
    """
    try:
        root = ET.parse(path).getroot()
        found: list[tuple[dict[str, object], shapely.Geometry | None]] = []
        _walk(_wrap(root), None, found)
    except ET.ParseError as exc:
        msg = f"cannot read {path.name}: not well-formed KML ({exc}); the file may be truncated"
        raise IngestError(msg) from exc
    except (ValueError, IndexError) as exc:
        msg = f"cannot read {path.name}: bad <coordinates> ({exc}); write lon,lat[,alt] tuples"
        raise IngestError(msg) from exc
    return [fields for fields, _ in found], [geometry for _, geometry in found]


def _wrap(root: ET.Element) -> ET.Element:
    wrapper = ET.Element("wrapper")
    wrapper.append(root)
    return wrapper
