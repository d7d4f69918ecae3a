"""Organisational coverage by rule (DOMAIN.md "Coverage rules").

Every organisation and station has an *activity*: ``active`` (activity within
``idle_days`` before the as-of date, or later), ``idle`` (older: 空转 / 僵尸组织)
or ``unknown`` (no activity date at all). Active ones always count; unknown ones
count unless ``unknown_counts`` is off; idle ones count only with
``idle_counts``. A list imported without dates therefore does not read as 0 %.

Every unit gets exactly one status, the first that applies, from a counting
organisation:

1. ``own`` — the organisation names the unit as its own (``own_unit``);
2. ``joint`` — a branch or joint branch names it among the units it covers
   (``covers`` / ``org_unit``);
3. ``hosted`` — a hub (party committee or general branch: 龙头型示范 /
   托管型组织) names it among the units it covers; or, only when a department
   turns proximity hosting on with ``hub_reach_m``, a located hub lies within
   that many metres (straight line). Service stations never give
   organisational coverage: they are service sites, not organisations;
4. ``instructor`` — an instructor is assigned to it (work coverage only);
5. ``none``.

Flags, for units with ``party_members >= must_have_branch_members``:

* ``branch_idle`` (空转) — the unit has its own organisation, and every own
  organisation it has is idle;
* ``must_have_branch`` (应建未建) — it has no own organisation at all and no
  joint branch. An idle own branch is 空转, never 应建未建.

Rates: own, joint, hosted, organisational (their sum), work (instructor) and
combined, each over all units; they are always reported apart
(:func:`gridmap.coverage.summary.rates`).
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
from gridmap.domain import OrgKind, OrgStatus
from gridmap.settings import CoverageSettings

__all__ = [
    "ACTIVE",
    "HUB_ORG_KINDS",
    "IDLE",
    "UNKNOWN",
    "OrgCoverage",
    "activity",
    "counts",
    "is_idle",
    "org_coverage",
]

HUB_ORG_KINDS = frozenset({OrgKind.COMMITTEE.value, OrgKind.GENERAL_BRANCH.value})

ACTIVE = "active"
IDLE = "idle"
UNKNOWN = "unknown"


@dataclass(frozen=True)
class OrgCoverage:
    """Per-unit organisational status and the activity of organisations and stations."""

    units: pd.DataFrame  # index unit id: org_status, must_have_branch, branch_idle, covering_org_id
    orgs_activity: pd.Series  # index org id -> "active" / "idle" / "unknown"
    stations_activity: pd.Series  # index station id -> "active" / "idle" / "unknown"

    @property
    def orgs_idle(self) -> pd.Series:
        """True for idle organisations (a known activity date older than ``idle_days``)."""
        return self.orgs_activity == IDLE

    @property
    def stations_idle(self) -> pd.Series:
        """True for idle stations."""
        return self.stations_activity == IDLE


def activity(last_activity: pd.Series, as_of: dt.date, idle_days: int) -> pd.Series:
    """``active``, ``idle`` or ``unknown`` for each last-activity date.

    Activity recorded after ``as_of`` is not known yet on that date: such a
    record counts as active (it was established, and its later activity shows it
    was not abandoned). No date at all is ``unknown``, not idle.
    """
    cutoff = as_of - dt.timedelta(days=idle_days)
    known = last_activity.notna()
    stale = last_activity.where(known, None).map(lambda d: d is not None and d < cutoff)
    state = np.where(~known, UNKNOWN, np.where(stale.astype(bool), IDLE, ACTIVE))
    return pd.Series(state, index=last_activity.index, dtype=object)


def is_idle(last_activity: pd.Series, as_of: dt.date, idle_days: int) -> pd.Series:
    """True where the last activity is known and more than ``idle_days`` before ``as_of``."""
    return activity(last_activity, as_of, idle_days) == IDLE


def counts(state: pd.Series, rules: CoverageSettings) -> pd.Series:
    """True for the organisations or stations whose activity lets them cover."""
    return (
        (state == ACTIVE)
        | ((state == UNKNOWN) & rules.unknown_counts)
        | ((state == IDLE) & rules.idle_counts)
    )


def org_coverage(inputs: CoverageInputs, rules: CoverageSettings) -> OrgCoverage:
    """Apply the coverage rules to every unit (see the module docstring)."""
    units = inputs.units
    orgs_state = activity(inputs.orgs["last_activity"], inputs.as_of, rules.idle_days)
    stations_state = activity(inputs.stations["last_activity"], inputs.as_of, rules.idle_days)
    counting = inputs.orgs[counts(orgs_state, rules)]
    status = pd.Series(OrgStatus.NONE.value, index=units.index, dtype=object)
    covering = pd.Series(pd.NA, index=units.index, dtype="Int64")

    named = _named_links(inputs, counting)
    proximity = _near_hub(inputs, counting, rules)
    instructed = units.index.isin(inputs.instructor_units["unit_id"])
    status[instructed] = OrgStatus.INSTRUCTOR.value
    status[proximity] = OrgStatus.HOSTED.value
    for kind in (OrgStatus.HOSTED, OrgStatus.JOINT):  # later ones win
        links = named[named["status"] == kind.value]
        status[links.index] = kind.value
        covering[links.index] = links["org_id"].to_numpy()

    own = counting.dropna(subset=["own_unit_id"])
    own = own[own["own_unit_id"].isin(units.index)].drop_duplicates("own_unit_id")
    own_units = own["own_unit_id"].astype(int).to_numpy()
    status[own_units] = OrgStatus.OWN.value
    covering[own_units] = own.index.to_numpy()

    big = units["party_members"].fillna(0).astype(int) >= rules.must_have_branch_members
    has_own, all_own_idle = _own_branches(inputs, orgs_state)
    frame = pd.DataFrame(
        {
            "org_status": status,
            "must_have_branch": big & ~has_own & (status != OrgStatus.JOINT.value),
            "branch_idle": big & all_own_idle,
            "covering_org_id": covering,
        }
    )
    return OrgCoverage(units=frame, orgs_activity=orgs_state, stations_activity=stations_state)


def _named_links(inputs: CoverageInputs, counting: pd.DataFrame) -> pd.DataFrame:
    """Units named by a counting organisation: ``org_id`` and ``joint`` or ``hosted``.

    Indexed by unit id, one row per unit: a joint branch's (or a branch's)
    naming wins over a hub's, then the lowest organisation id.
    """
    links = inputs.org_units[
        inputs.org_units["org_id"].isin(counting.index)
        & inputs.org_units["unit_id"].isin(inputs.units.index)
    ]
    kinds = links["org_id"].map(counting["kind"])
    status = np.where(kinds.isin(HUB_ORG_KINDS), OrgStatus.HOSTED.value, OrgStatus.JOINT.value)
    frame = pd.DataFrame({"unit_id": links["unit_id"], "org_id": links["org_id"], "status": status})
    frame["_order"] = (frame["status"] == OrgStatus.HOSTED.value).astype(int)
    frame = frame.sort_values(["_order", "org_id"]).drop_duplicates("unit_id")
    return frame.set_index("unit_id")[["org_id", "status"]]


def _own_branches(inputs: CoverageInputs, orgs_state: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Per unit: whether it has an own organisation, and whether every one it has is idle."""
    own = inputs.orgs.dropna(subset=["own_unit_id"])
    unit_ids = own["own_unit_id"].astype(int)
    idle = (orgs_state.reindex(own.index) == IDLE).groupby(unit_ids).all()
    has_own = pd.Series(inputs.units.index.isin(unit_ids), index=inputs.units.index)
    all_idle = idle.reindex(inputs.units.index, fill_value=False).astype(bool)
    return has_own, all_idle


def _near_hub(
    inputs: CoverageInputs, counting: pd.DataFrame, rules: CoverageSettings
) -> npt.NDArray[np.bool_]:
    """Units within ``hub_reach_m`` of a counting, located hub (proximity hosting, opt-in)."""
    none = np.zeros(len(inputs.units), dtype=bool)
    if rules.hub_reach_m is None:
        return none
    hubs = counting[counting["kind"].isin(HUB_ORG_KINDS) & counting.geometry.notna()]
    if hubs.empty or inputs.units.empty:
        return none
    crs = inputs.metric_crs
    hub_points = gpd.GeoSeries(hubs.geometry.to_numpy(), crs=inputs.units.crs).to_crs(crs)
    hub_xy = np.column_stack([hub_points.x, hub_points.y])
    points = representative_points(inputs.units).to_crs(crs)
    distance, _ = cKDTree(hub_xy).query(np.column_stack([points.x, points.y]))
    return np.asarray(distance <= rules.hub_reach_m)
