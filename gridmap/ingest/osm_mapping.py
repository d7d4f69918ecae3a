"""The OSM tag -> gridmap kind mapping, loaded from ``osm_tags.toml``.

The packaged file documents every rule; :func:`load_tag_mapping` reads it and
lets a user file replace any of its sections.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Final

from gridmap.domain import AdminLevel, DomainEnum, UnitKind
from gridmap.ingest.records import IngestError

__all__ = ["Rule", "TagMapping", "load_tag_mapping"]

_SECTIONS: Final = ("units", "sites", "places", "areas", "roads")
_GEOMETRIES: Final = frozenset({"node", "area"})


@dataclass(frozen=True)
class Rule:
    """Objects with any of ``tags`` become ``kind``, read from the ``geometry`` object types."""

    kind: str
    tags: Mapping[str, frozenset[str] | None]
    geometry: frozenset[str] = _GEOMETRIES
    sample_station: bool = False

    def matches(self, tags: Mapping[str, str]) -> bool:
        """True when one of the rule's keys carries an accepted value (``None`` = any but "no")."""
        for key, values in self.tags.items():
            value = tags.get(key)
            if value is not None and (value in values if values is not None else value != "no"):
                return True
        return False


@dataclass(frozen=True)
class TagMapping:
    """All rules of one mapping (see ``osm_tags.toml`` for their meaning)."""

    units: tuple[Rule, ...]
    sites: tuple[Rule, ...]
    places: tuple[Rule, ...]
    areas: Rule
    admin_levels: Mapping[str, AdminLevel]
    code_tags: tuple[str, ...]
    roads: Rule
    keys: frozenset[str] = field(default=frozenset())

    def matching(self, section: str, tags: Mapping[str, str]) -> list[Rule]:
        """Every rule of ``section`` whose tags match, whatever objects it reads, in order."""
        rules: tuple[Rule, ...] = getattr(self, section)
        return [r for r in rules if r.matches(tags)]

    def first(self, section: str, tags: Mapping[str, str], geometry: str) -> Rule | None:
        """The first rule of ``section`` matching ``tags`` for ``geometry`` ("node"/"area")."""
        rules: tuple[Rule, ...] = getattr(self, section)
        return next((r for r in rules if geometry in r.geometry and r.matches(tags)), None)


def _tags(raw: Any, where: str, problems: list[str]) -> dict[str, frozenset[str] | None]:
    if not isinstance(raw, dict) or not raw:
        problems.append(f"{where}: 'tags' must be a table such as {{ place = [\"village\"] }}")
        return {}
    out: dict[str, frozenset[str] | None] = {}
    for key, values in raw.items():
        if values == "*":
            out[str(key)] = None
        elif isinstance(values, list) and all(isinstance(v, str) for v in values):
            out[str(key)] = frozenset(values)
        else:
            problems.append(f'{where}: tag {key!r} must be "*" or a list of strings')
    return out


def _rule(raw: Any, where: str, enum: type[DomainEnum] | None, problems: list[str]) -> Rule:
    if not isinstance(raw, dict):
        problems.append(f"{where}: expected a table")
        return Rule("", {})
    kind = str(raw.get("kind", ""))
    if enum is not None:
        try:
            kind = enum.parse(kind).value
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    geometry = frozenset(raw.get("geometry", sorted(_GEOMETRIES)))
    if not geometry <= _GEOMETRIES:
        problems.append(f"{where}: geometry must list 'node' and/or 'area', got {sorted(geometry)}")
    return Rule(
        kind,
        _tags(raw.get("tags"), where, problems),
        geometry,
        bool(raw.get("sample_station", False)),
    )


def _build(doc: Mapping[str, Any], problems: list[str]) -> TagMapping:
    enums: dict[str, type[DomainEnum] | None] = {
        "units": UnitKind,
        "sites": None,
        "places": AdminLevel,
    }
    lists = {
        name: tuple(
            _rule(r, f"[[{name}]] #{i + 1}", enums[name], problems)
            for i, r in enumerate(doc.get(name, []))
        )
        for name in enums
    }
    areas = doc.get("areas", {})
    levels: dict[str, AdminLevel] = {}
    for level, value in dict(areas.get("admin_level", {})).items():
        try:
            levels[str(level)] = AdminLevel.parse(value)
        except ValueError as exc:
            problems.append(f"[areas.admin_level] {level}: {exc}")
    mapping = TagMapping(
        units=lists["units"],
        sites=lists["sites"],
        places=lists["places"],
        areas=_rule({"kind": "area", **areas}, "[areas]", None, problems),
        admin_levels=levels,
        code_tags=tuple(areas.get("code_tags", ())),
        roads=_rule({"kind": "road", **doc.get("roads", {})}, "[roads]", None, problems),
    )
    keys = {k for rules in lists.values() for r in rules for k in r.tags} | set(mapping.areas.tags)
    return TagMapping(**{**mapping.__dict__, "keys": frozenset(keys)})


def _read(source: Path | Traversable) -> dict[str, Any]:
    try:
        return tomllib.loads(source.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read the OSM tag mapping {source}: {exc}"
        raise IngestError(msg) from exc


def load_tag_mapping(path: str | Path | None = None) -> TagMapping:
    """Load the packaged mapping, with the sections of the user file ``path`` replacing it.

    Raises
    ------
    IngestError
        Listing every problem of the file at once (unknown sections, kinds or levels).
    """
    doc = _read(resources.files("gridmap.ingest") / "osm_tags.toml")
    problems: list[str] = []
    if path is not None:
        user = _read(Path(path))
        unknown = sorted(set(user) - set(_SECTIONS))
        if unknown:
            problems.append(f"unknown sections {unknown}; known: {', '.join(_SECTIONS)}")
        doc.update({k: v for k, v in user.items() if k in _SECTIONS})
    mapping = _build(doc, problems)
    if problems:
        where = path if path is not None else "osm_tags.toml"
        msg = f"bad OSM tag mapping {where}:\n" + "\n".join(f"  - {p}" for p in problems)
        raise IngestError(msg)
    return mapping
