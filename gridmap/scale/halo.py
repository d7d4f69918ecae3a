"""How far beyond a partition a worker must read stations and roads to be exact.

A unit inside a partition is covered by a station at most the reach away: in a
straight line (radius mode), along roads of at most that length (network mode,
metres), or within ``minutes`` at the top speed of the profile (network mode,
minutes: no road is faster). The halo is that distance, and at least
``max_snap_m`` in network mode (a unit's own road, and the stations it may walk
to directly). Stations are read within the halo of the partition's box, roads
within twice the halo: a station in the halo snaps to its nearest road, which
lies within the halo of the station whenever the station can reach anything.
"""

from __future__ import annotations

from gridmap.coverage.reach import ReachOptions, uniform_limit
from gridmap.network._speeds import speed_table
from gridmap.settings import CoverageSettings

__all__ = ["halo_m", "top_speed_ms"]


def top_speed_ms(options: ReachOptions, rules: CoverageSettings) -> float:
    """The fastest a run's travel can go, in metres a second (walking included)."""
    table = speed_table(options.profile, None, walk_kmh=rules.walk_kmh)
    return max([*table.values(), rules.walk_kmh]) / 3.6


def halo_m(options: ReachOptions, rules: CoverageSettings) -> float:
    """The halo of a run, in metres (see the module docstring)."""
    uniform = uniform_limit(options, rules)
    if uniform is None:
        limit = max(float(v) for v in rules.reach_m.values())
    elif options.mode == "network" and options.minutes is not None:
        limit = uniform * top_speed_ms(options, rules)  # seconds at the top speed
    else:
        limit = uniform
    if options.mode == "network":
        return max(limit, float(rules.max_snap_m))
    return limit
