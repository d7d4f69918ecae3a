"""Road classes, default speeds and OSM tag parsing for the road graph.

The defaults follow common routing practice (OSMnx, OSRM car/foot profiles)
adjusted to Chinese urban design speeds (CJJ 37: expressway 60-100 km/h,
arterial 40-60, secondary arterial 30-50, branch road 20-40):

* ``walk``: one speed on every walkable class, given by the caller (gridmap's
  is ``Settings().coverage.walk_kmh``); motorways and trunk roads (and their
  ramps) are excluded.
* ``drive``: a speed per class; footways, paths, steps, pedestrian streets,
  cycleways, bridleways and corridors are excluded. A parseable ``maxspeed``
  tag overrides the class speed for driving.

Any class not listed for a profile (``construction``, ``proposed``,
``raceway``, ...) is excluded from it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Final, Literal

Profile = Literal["walk", "drive"]

#: Class given to a line whose ``highway`` is missing or empty.
DEFAULT_CLASS: Final = "unclassified"

#: Road classes a walker may use (all at the one walking speed).
WALKABLE_CLASSES: Final = (
    "primary",
    "primary_link",
    "secondary",
    "secondary_link",
    "tertiary",
    "tertiary_link",
    "unclassified",
    "residential",
    "living_street",
    "service",
    "road",
    "track",
    "pedestrian",
    "footway",
    "path",
    "steps",
    "cycleway",
    "bridleway",
    "corridor",
)

#: Default driving speeds in km/h per road class.
DRIVE_SPEEDS_KMH: Final[Mapping[str, float]] = {
    "motorway": 100.0,
    "motorway_link": 60.0,
    "trunk": 80.0,
    "trunk_link": 50.0,
    "primary": 60.0,
    "primary_link": 40.0,
    "secondary": 50.0,
    "secondary_link": 40.0,
    "tertiary": 40.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "living_street": 10.0,
    "service": 20.0,
    "track": 15.0,
}

_FORWARD: Final = frozenset({"yes", "true", "1"})
_BACKWARD: Final = frozenset({"-1", "reverse"})
_MPH_TO_KMH: Final = 1.609344
_NUMBER: Final = re.compile(r"\d+(?:\.\d+)?")


def speed_table(
    profile: Profile, speeds: Mapping[str, float] | None, *, walk_kmh: float | None = None
) -> dict[str, float]:
    """Return the default speeds of ``profile`` updated with ``speeds``.

    ``walk`` needs ``walk_kmh`` (every walkable class at that speed); ``drive``
    uses :data:`DRIVE_SPEEDS_KMH`. A class given a speed of 0 (or less) in
    ``speeds`` is excluded.
    """
    table = _base_table(profile, walk_kmh)
    table.update(speeds or {})
    return {name: float(kmh) for name, kmh in table.items() if kmh > 0}


def _base_table(profile: Profile, walk_kmh: float | None) -> dict[str, float]:
    if profile not in ("walk", "drive"):
        msg = f"profile must be 'walk' or 'drive', got {profile!r}"
        raise ValueError(msg)
    if profile == "drive":
        return dict(DRIVE_SPEEDS_KMH)
    if walk_kmh is None or walk_kmh <= 0:
        msg = (
            f"the walk profile needs a walking speed above 0 km/h, got {walk_kmh!r}; "
            "pass walk_kmh=Settings().coverage.walk_kmh"
        )
        raise ValueError(msg)
    return dict.fromkeys(WALKABLE_CLASSES, float(walk_kmh))


def _first(value: object) -> object:
    """OSMnx stores merged tags as lists: keep the first element."""
    if isinstance(value, list | tuple):
        return value[0] if value else None
    return value


def _is_missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value == ""


def road_class(value: object) -> str:
    """Normalise a ``highway`` value; missing values become :data:`DEFAULT_CLASS`."""
    value = _first(value)
    return DEFAULT_CLASS if _is_missing(value) else str(value).strip().lower()


def parse_oneway(value: object) -> int:
    """Return +1 (digitised direction only), -1 (reverse only) or 0 (both ways).

    Accepts OSM strings (``yes``/``-1``/``no``/``reversible``...), booleans and
    missing values; anything unrecognised is two-way.
    """
    value = _first(value)
    if _is_missing(value):
        return 0
    if isinstance(value, bool):
        return 1 if value else 0
    text = str(value).strip().lower()
    if text in _FORWARD:
        return 1
    return -1 if text in _BACKWARD else 0


def parse_maxspeed(value: object) -> float | None:
    """Return the first speed in a ``maxspeed`` tag in km/h, or None.

    ``"50"``, ``"50 mph"``, ``"30;50"`` and numbers are understood; symbolic
    values such as ``"CN:urban"`` or ``"walk"`` give None.
    """
    value = _first(value)
    if _is_missing(value):
        return None
    if isinstance(value, int | float):
        return float(value) if value > 0 else None
    text = str(value).lower()
    match = _NUMBER.search(text)
    if match is None:
        return None
    kmh = float(match.group()) * (_MPH_TO_KMH if "mph" in text else 1.0)
    return kmh if kmh > 0 else None
