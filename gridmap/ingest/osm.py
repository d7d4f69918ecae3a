"""Read an OpenStreetMap extract (``.osm.pbf``/``.osm``) into gridmap records.

One streaming pass with pyosmium; closed ways and multipolygon/boundary
relations are assembled into polygons by libosmium's area handler. What
becomes what is set by a :class:`~gridmap.ingest.osm_mapping.TagMapping`
(default: the packaged ``osm_tags.toml``):

* ``units``: villages and communities (place nodes or areas), building
  footprints, parks (landuse areas), in the canonical unit columns;
* ``sites``: candidate service sites with ``site_kind`` and ``sample_station``
  (points; areas become their point on surface);
* ``places``: settlement points above village level (``place=town``: 镇/街道);
* ``areas``: ``boundary=administrative`` relations as polygons, ``admin_level``
  mapped to :class:`~gridmap.domain.AdminLevel`;
* ``roads``: ``highway`` ways as LineStrings.

``source_id`` is ``"n<id>"``, ``"w<id>"`` or ``"r<id>"`` and ``source`` is
``"osm"``. A feature whose geometry cannot be built (a way that is not closed,
a relation incomplete in the extract) is rejected with the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import osmium
import pandas as pd
import shapely

from gridmap.ingest.osm_mapping import Rule, TagMapping, load_tag_mapping
from gridmap.ingest.records import IngestError, ReadResult
from gridmap.progress import track

__all__ = ["OsmExtract", "TagMapping", "load_tag_mapping", "parent_code", "read_osm"]

logger = logging.getLogger(__name__)

_COLUMNS: Final[dict[str, tuple[str, ...]]] = {
    "units": ("source_id", "kind", "name", "households", "population", "party_members", "address"),
    "sites": ("source_id", "site_kind", "name", "sample_station"),
    "places": ("source_id", "level", "name"),
    "areas": ("source_id", "name", "code", "level", "parent_code", "admin_level"),
    "roads": ("source_id", "name", "highway", "oneway"),
}
_REJECT_COLUMNS: Final = ("source_id", "section", "kind", "name", "reason")
_OBJECT: Final = {"node": "a point (node)", "area": "an area (closed way or multipolygon)"}


@dataclass(frozen=True)
class OsmExtract:
    """What :func:`read_osm` made of an extract; every frame is in EPSG:4326.

    ``n_read`` counts features (an object in one section; a town hall building
    is two features), and always equals the sum of the frames' lengths plus
    ``len(rejects)``.
    """

    units: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    places: gpd.GeoDataFrame
    areas: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame
    rejects: pd.DataFrame
    n_read: int
    notes: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Accepted features per section, plus ``units.<kind>`` and ``rejects``."""
        counts = {name: len(getattr(self, name)) for name in _COLUMNS}
        for kind, n in self.units["kind"].value_counts().items():
            counts[f"units.{kind}"] = int(n)
        counts["rejects"] = len(self.rejects)
        return counts

    def result(self, section: str) -> ReadResult:
        """One section as a :class:`ReadResult`, for loaders written against :func:`read_layer`.

        ``_row`` numbers the features of the section (accepted first, then rejected).
        """
        records = getattr(self, section).copy()
        records["_row"] = range(1, len(records) + 1)
        rejects = self.rejects[self.rejects["section"] == section].reset_index(drop=True)
        rejects["_row"] = range(len(records) + 1, len(records) + len(rejects) + 1)
        return ReadResult(
            records=records,
            rejects=rejects,
            n_read=len(records) + len(rejects),
            notes=list(self.notes),
            source_crs="EPSG:4326",
        )


def _name(tags: Mapping[str, str]) -> str | None:
    return tags.get("name") or tags.get("name:zh")


def _address(tags: Mapping[str, str]) -> str | None:
    full = tags.get("addr:full")
    parts = [tags[k] for k in ("addr:street", "addr:housenumber") if k in tags]
    return full or (" ".join(parts) if parts else None)


class _Collector:
    """Accumulates rows per section while the file streams past."""

    def __init__(self, mapping: TagMapping) -> None:
        self.mapping = mapping
        self.rows: dict[str, list[dict[str, Any]]] = {name: [] for name in _COLUMNS}
        self.pending: dict[str, list[tuple[str, dict[str, Any]]]] = {}
        self.rejects: list[dict[str, Any]] = []
        self.skipped_levels: dict[str, set[str]] = {}
        self.built: set[str] = set()

    def features(
        self, tags: Mapping[str, str], geometry: str, sid: str
    ) -> tuple[list[tuple[str, dict[str, Any]]], list[tuple[str, dict[str, Any], str]]]:
        """Rows (without geometry) of every section and kind the tags belong to.

        Returns the rows, and ``(section, row, reason)`` for rules whose tags match
        but that do not read this object type (a ``landuse=industrial`` node).
        A unit matching several kinds is one unit of each: the first keeps
        ``sid``, the others get ``sid:kind`` (a building on ``landuse=retail``
        is a building and a park).
        """
        found: list[tuple[str, dict[str, Any]]] = []
        mismatched: list[tuple[str, dict[str, Any], str]] = []
        name = _name(tags)
        for index, rule in enumerate(self.mapping.matching("units", tags)):
            unit: dict[str, Any] = {"kind": rule.kind, "name": name, "address": _address(tags)}
            if index:
                unit["source_id"] = f"{sid}:{rule.kind}"
            self._route("units", rule, unit, geometry, found, mismatched)
        site = self._one("sites", tags, geometry)
        if site:
            row = {"site_kind": site.kind, "name": name, "sample_station": site.sample_station}
            self._route("sites", site, row, geometry, found, mismatched)
        place = self._one("places", tags, geometry)
        if place:
            row = {"level": place.kind, "name": name}
            self._route("places", place, row, geometry, found, mismatched)
        return found, mismatched

    def _one(self, section: str, tags: Mapping[str, str], geometry: str) -> Rule | None:
        """The first rule reading this object type, else the first whose tags match."""
        rules = self.mapping.matching(section, tags)
        return next((r for r in rules if geometry in r.geometry), rules[0] if rules else None)

    @staticmethod
    def _route(
        section: str,
        rule: Rule,
        row: dict[str, Any],
        geometry: str,
        found: list[tuple[str, dict[str, Any]]],
        mismatched: list[tuple[str, dict[str, Any], str]],
    ) -> None:
        if geometry in rule.geometry:
            found.append((section, row))
            return
        wanted = " or ".join(_OBJECT[g] for g in sorted(rule.geometry))
        mismatched.append(
            (
                section,
                row,
                f"tagged as {rule.kind} but it is {_OBJECT[geometry]}; the [{section}] rule "
                f"{rule.kind!r} reads {wanted} (add {geometry!r} to its geometry in a tag "
                "file, --tags, to read it)",
            )
        )

    def admin(self, tags: Mapping[str, str], sid: str) -> dict[str, Any] | None:
        """The area row of an administrative boundary at a mapped level, else None."""
        if not self.mapping.areas.matches(tags):
            return None
        level = tags.get("admin_level", "")
        if level not in self.mapping.admin_levels:
            self.skipped_levels.setdefault(level, set()).add(sid)
            return None
        code = next(
            (tags[t].strip() for t in self.mapping.code_tags if tags.get(t, "").strip().isdigit()),
            None,
        )
        return {
            "name": _name(tags),
            "code": code,
            "parent_code": None,
            "level": self.mapping.admin_levels[level].value,
            "admin_level": level,
        }

    def add(self, section: str, sid: str, row: dict[str, Any], geom: shapely.Geometry) -> None:
        if section == "sites" and geom.geom_type != "Point":
            geom = geom.point_on_surface()
        self.rows[section].append({"source_id": sid, **row, "geometry": geom})

    def reject_all(self, sid: str, mismatched: list[tuple[str, dict[str, Any], str]]) -> None:
        """Reject the features whose tags match a rule that does not read their type."""
        for section, row, reason in mismatched:
            self.reject(section, sid, row, reason)

    def reject(self, section: str, sid: str, row: Mapping[str, Any], reason: str) -> None:
        kind = row.get("kind") or row.get("site_kind") or row.get("level") or section
        self.rejects.append(
            {
                "source_id": row.get("source_id") or sid,
                "section": section,
                "kind": kind,
                "name": row.get("name"),
                "reason": reason,
            }
        )


class _Reader:
    """Routes every OSM object of the stream to the collector."""

    def __init__(self, collector: _Collector) -> None:
        self.c = collector
        self.wkb = osmium.geom.WKBFactory()

    def node(self, node: Any) -> None:
        tags = dict(node.tags)
        sid = f"n{node.id}"
        found, mismatched = self.c.features(tags, "node", sid)
        self.c.reject_all(sid, mismatched)
        for section, row in found:
            self.c.add(section, sid, row, shapely.from_wkb(self.wkb.create_point(node)))

    def way(self, way: Any) -> None:
        tags = dict(way.tags)
        sid = f"w{way.id}"
        if self.c.mapping.roads.matches(tags):
            self._road(way, sid, tags)
        found, mismatched = self.c.features(tags, "area", sid)
        self.c.reject_all(sid, mismatched)
        if found and way.is_closed() and len(way.nodes) >= 4:
            self.c.pending[sid] = found
            return
        for section, row in found:
            self.c.reject(section, sid, row, "way is not closed, so it cannot be an area")

    def _road(self, way: Any, sid: str, tags: Mapping[str, str]) -> None:
        row = {"name": _name(tags), "highway": tags.get("highway"), "oneway": tags.get("oneway")}
        try:
            geom = shapely.from_wkb(self.wkb.create_linestring(way))
        except (osmium.InvalidLocationError, RuntimeError) as exc:
            self.c.reject("roads", sid, row, f"cannot build the line: {exc}")
            return
        self.c.add("roads", sid, row, geom)

    def relation(self, relation: Any) -> None:
        tags = dict(relation.tags)
        if tags.get("type") in ("multipolygon", "boundary"):
            sid = f"r{relation.id}"
            found = self._area_features(tags, sid, first_seen=True)
            if found:
                self.c.pending[sid] = found

    def _area_features(
        self, tags: Mapping[str, str], sid: str, *, first_seen: bool = False
    ) -> list[tuple[str, dict[str, Any]]]:
        found, mismatched = self.c.features(tags, "area", sid)
        admin = self.c.admin(tags, sid)
        if first_seen:
            # a township boundary tagged place=town is read as its admin area, not lost
            ignored = {"places"} if admin is not None else set()
            self.c.reject_all(sid, [m for m in mismatched if m[0] not in ignored])
        return [*found, ("areas", admin)] if admin is not None else found

    def area(self, area: Any) -> None:
        """Add an assembled area; it may arrive before or after its way or relation."""
        from_way = area.from_way()
        sid = f"{'w' if from_way else 'r'}{area.orig_id()}"
        tags = dict(area.tags)
        found = (
            self.c.features(tags, "area", sid)[0] if from_way else self._area_features(tags, sid)
        )
        if not found:
            return
        self.c.built.add(sid)
        try:
            geom = shapely.from_wkb(self.wkb.create_multipolygon(area))
        except RuntimeError as exc:
            for section, row in found:
                self.c.reject(section, sid, row, f"cannot build the polygon: {exc}")
            return
        if len(shapely.get_parts(geom)) == 1:
            geom = shapely.get_parts(geom)[0]
        for section, row in found:
            self.c.add(section, sid, row, geom)


def _frame(rows: list[dict[str, Any]], section: str) -> gpd.GeoDataFrame:
    columns = [*_COLUMNS[section], "source", "geometry"]
    frame = pd.DataFrame(rows, columns=[c for c in columns if c != "source"])
    frame["source"] = "osm"
    if section == "units":
        for name in ("households", "population", "party_members"):
            frame[name] = frame[name].astype("Int64")
    return gpd.GeoDataFrame(frame[columns], geometry="geometry", crs="EPSG:4326")


def _unbuilt(collector: _Collector) -> None:
    for sid, found in collector.pending.items():
        if sid in collector.built:
            continue
        reason = (
            "relation is incomplete in this extract or its rings do not close: "
            "cannot build the polygon"
            if sid.startswith("r")
            else "closed way whose ring is invalid or lacks node locations: "
            "cannot build the polygon"
        )
        for section, row in found:
            collector.reject(section, sid, row, reason)
    collector.pending.clear()


def read_osm(path: str | Path, *, tags: TagMapping | str | Path | None = None) -> OsmExtract:
    """Read an OSM extract into units, sites, places, administrative areas and roads.

    Parameters
    ----------
    path
        An ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    tags
        The tag mapping, or the path of a user TOML file whose sections replace
        the packaged ones; default :func:`load_tag_mapping` (``osm_tags.toml``).

    Raises
    ------
    IngestError
        When the file is missing, truncated or not OSM data.
    """
    source = Path(path)
    if not source.is_file():
        msg = f"no such file: {source}"
        raise IngestError(msg)
    mapping = tags if isinstance(tags, TagMapping) else load_tag_mapping(tags)
    collector = _Collector(mapping)
    reader = _Reader(collector)
    area_filter = osmium.filter.KeyFilter(*sorted(mapping.keys))
    route = {"n": reader.node, "w": reader.way, "r": reader.relation, "a": reader.area}
    try:
        objects = osmium.FileProcessor(str(source)).with_areas(area_filter)
        for obj in track(objects, description=f"reading {source.name}"):
            handler = route.get(obj.type_str())
            if handler is not None:
                handler(obj)
    except RuntimeError as exc:
        msg = f"cannot read {source.name}: {exc}; the file may be truncated or not OSM data"
        raise IngestError(msg) from exc
    _unbuilt(collector)
    return _result(collector)


def parent_code(code: str | None) -> str | None:
    """The code of the level above, from the code itself (GB/T 2260 + 3 + 3 digits).

    ``360681001001`` (village) -> ``360681001`` (township) -> ``360681`` (county)
    -> ``360600`` (prefecture) -> ``360000`` (province) -> ``None``.
    """
    if code is None or not code.isdigit():
        return None
    if len(code) in (9, 12):
        return code[: len(code) - 3]
    if len(code) != 6 or code.endswith("0000"):
        return None
    return code[:2] + "0000" if code.endswith("00") else code[:4] + "00"


def _result(collector: _Collector) -> OsmExtract:
    for row in collector.rows["areas"]:
        row["parent_code"] = parent_code(row.get("code"))
    frames = {section: _frame(rows, section) for section, rows in collector.rows.items()}
    rejects = pd.DataFrame(collector.rejects, columns=list(_REJECT_COLUMNS))
    notes = [
        f"skipped {len(ids)} administrative boundaries at admin_level={level or '(none)'}: "
        "not mapped in [areas.admin_level]"
        for level, ids in sorted(collector.skipped_levels.items())
    ]
    if len(rejects):
        notes.append(
            f"{len(rejects)} features rejected (geometry that cannot be built, or tags on an "
            "object type their rule does not read): each reason is in the reject file"
        )
    n_read = sum(len(f) for f in frames.values()) + len(rejects)
    for note in notes:
        logger.info("%s", note)
    return OsmExtract(**frames, rejects=rejects, n_read=n_read, notes=notes)
