"""Organisational coverage by rule (DOMAIN.md "Coverage rules").

Every unit gets exactly one status, the first that applies:

1. ``own`` — an active organisation names the unit as its own (``own_unit``);
2. ``joint`` — an active organisation names it among the units it covers;
3. ``hosted`` — an active hub is within ``hub_reach_m`` (straight line): a party
   committee or general branch with a location, or a county / township service
   centre (the hub model: 龙头型示范 / 中心型阵地 / 托管型组织);
4. ``instructor`` — an instructor is assigned to it (work coverage only);
5. ``none``.

A unit with ``party_members >= must_have_branch_members`` and neither ``own`` nor
``joint`` is flagged ``must_have_branch`` (应建未建). Organisations and stations
whose last activity is more than ``idle_days`` before the as-of date (or
unknown) are idle; idle ones cover nothing unless ``idle_counts`` is set.
Rates: organisational = own + joint + hosted, work = instructor, combined =
either, each over all units; they are always reported apart.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.spatial import cKDTree

from gridmap.coverage.inputs import CoverageInputs, representative_points
from gridmap.domain import OrgKind, OrgStatus, StationTier
from gridmap.settings import CoverageSettings

__all__ = ["HUB_ORG_KINDS", "HUB_STATION_TIERS", "OrgCoverage", "is_idle", "org_coverage"]

HUB_ORG_KINDS = frozenset({OrgKind.COMMITTEE.value, OrgKind.GENERAL_BRANCH.value})
HUB_STATION_TIERS = frozenset({StationTier.COUNTY.value, StationTier.TOWNSHIP.value})


@dataclass(frozen=True)
class OrgCoverage:
    """Per-unit organisational status and the idle flags of organisations and stations."""

    units: pd.DataFrame  # index unit id: org_status, must_have_branch, covering_org_id
    orgs_idle: pd.Series  # index org id -> bool
    stations_idle: pd.Series  # index station id -> bool


def is_idle(last_activity: pd.Series, as_of: dt.date, idle_days: int) -> pd.Series:
    """True where the last activity is unknown or more than ``idle_days`` before ``as_of``.

    Activity recorded after ``as_of`` is not known yet on that date: such a
    record counts as active (it was established, and its later activity shows it
    was not abandoned).
    """
    cutoff = as_of - dt.timedelta(days=idle_days)
    known = last_activity.notna()
    dates = last_activity.where(known, None)
    return ~known | dates.map(lambda d: d is not None and d < cutoff).astype(bool)


def org_coverage(inputs: CoverageInputs, rules: CoverageSettings) -> OrgCoverage:
    """Apply the coverage rules to every unit (see the module docstring)."""
    units = inputs.units
    orgs_idle = is_idle(inputs.orgs["last_activity"], inputs.as_of, rules.idle_days)
    stations_idle = is_idle(inputs.stations["last_activity"], inputs.as_of, rules.idle_days)
    active_orgs = inputs.orgs[~orgs_idle | rules.idle_counts]
    status = pd.Series(OrgStatus.NONE.value, index=units.index, dtype=object)
    covering = pd.Series(pd.NA, index=units.index, dtype="Int64")

    hosted = _hosted(inputs, active_orgs, stations_idle, rules)
    status[hosted] = OrgStatus.HOSTED.value
    instructed = units.index.isin(inputs.instructor_units["unit_id"])
    status[instructed & ~hosted] = OrgStatus.INSTRUCTOR.value

    links = inputs.org_units[inputs.org_units["org_id"].isin(active_orgs.index)]
    joint = links.drop_duplicates("unit_id").set_index("unit_id")["org_id"]
    joint = joint[joint.index.isin(units.index)]
    status[joint.index] = OrgStatus.JOINT.value
    covering[joint.index] = joint.to_numpy()

    own = active_orgs.dropna(subset=["own_unit_id"])
    own = own[own["own_unit_id"].isin(units.index)].drop_duplicates("own_unit_id")
    own_units = own["own_unit_id"].astype(int).to_numpy()
    status[own_units] = OrgStatus.OWN.value
    covering[own_units] = own.index.to_numpy()

    members = units["party_members"].fillna(0).astype(int)
    must = (members >= rules.must_have_branch_members) & ~status.isin(
        [OrgStatus.OWN.value, OrgStatus.JOINT.value]
    )
    frame = pd.DataFrame(
        {"org_status": status, "must_have_branch": must, "covering_org_id": covering}
    )
    return OrgCoverage(units=frame, orgs_idle=orgs_idle, stations_idle=stations_idle)


def _hosted(
    inputs: CoverageInputs,
    active_orgs: pd.DataFrame,
    stations_idle: pd.Series,
    rules: CoverageSettings,
) -> npt.NDArray[np.bool_]:
    """Units within ``hub_reach_m`` of an active hub organisation or centre."""
    hub_orgs = active_orgs[active_orgs["kind"].isin(HUB_ORG_KINDS) & active_orgs.geometry.notna()]
    stations = inputs.stations
    hub_stations = stations[stations["tier"].isin(HUB_STATION_TIERS) & ~stations_idle]
    hubs = pd.concat([hub_orgs.geometry, hub_stations.geometry])
    if hubs.empty or inputs.units.empty:
        return np.zeros(len(inputs.units), dtype=bool)
    crs = inputs.metric_crs
    hub_points = gpd.GeoSeries(hubs.to_numpy(), crs=inputs.units.crs).to_crs(crs)
    hub_xy = np.column_stack([hub_points.x, hub_points.y])
    points = representative_points(inputs.units).to_crs(crs)
    distance, _ = cKDTree(hub_xy).query(np.column_stack([points.x, points.y]))
    return np.asarray(distance <= rules.hub_reach_m)
