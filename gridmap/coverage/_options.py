"""How reach is measured in one run (:class:`ReachOptions`), without the reach machinery.

A stored run keeps its options; reading it back (``report``, ``map export``) builds
them again here without loading the road network :mod:`gridmap.coverage.reach` needs.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Literal

from gridmap.errors import GridmapError, InvalidValueError

__all__ = ["Mode", "Profile", "ReachOptions"]

Mode = Literal["radius", "network"]
Profile = Literal["walk", "drive"]


@dataclass(frozen=True)
class ReachOptions:
    """How reach is measured in one run."""

    mode: Mode = "radius"
    profile: Profile = "walk"
    meters: float | None = None
    minutes: float | None = None

    def __post_init__(self) -> None:
        _require_positive(meters=self.meters, minutes=self.minutes)
        if self.meters is not None and self.minutes is not None:
            msg = "give meters or minutes (--meters / --minutes), not both"
            raise GridmapError(msg)
        if self.mode == "radius" and self.profile == "drive" and self.minutes is not None:
            msg = "radius mode has no driving time: use --mode network with --profile drive"
            raise GridmapError(msg)


def _require_positive(**values: object) -> None:
    """Refuse a reach that is not a finite number above 0 (None: not given).

    >>> ReachOptions(minutes=-5)
    Traceback (most recent call last):
    gridmap.errors.InvalidValueError: minutes=: must be a number above 0, got -5
    """
    for parameter, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            msg = f"must be a number above 0, got {value!r}"
            raise InvalidValueError(msg, parameter=parameter)
        if not (math.isfinite(value) and float(value) > 0):
            msg = f"must be a number above 0, got {float(value):g}"
            raise InvalidValueError(msg, parameter=parameter)
