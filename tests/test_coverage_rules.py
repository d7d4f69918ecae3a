"""Coverage rules, statuses, rates, runs and what-if, on hand-made cases, on both stores.

The little town used here: units on a line running east at latitude 28.30,
stations and organisations placed at known distances from them.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

import pandas as pd
import pytest
from conftest import TOWN_AS_OF, TOWN_LAT, TOWN_RECENT, TOWN_STALE, east, wkb
from shapely.geometry import Point
from sqlalchemy import select

from gridmap.coverage import (
    ReachOptions,
    compare_runs,
    read_inputs,
    reproduce_run,
    run_coverage,
)
from gridmap.coverage.rules import org_coverage
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models

AS_OF, LAT, RECENT, STALE = TOWN_AS_OF, TOWN_LAT, TOWN_RECENT, TOWN_STALE
#: The default rules: hosting only where a hub names the unit, no proximity hosting.
RULES = CoverageSettings()


def _by_name(result: Any) -> Any:
    return result.units.set_index("name")


def test_every_unit_gets_the_first_status_that_applies(town: Store) -> None:
    result = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF, save=False)
    units = _by_name(result)
    assert units["org_status"].to_dict() == {
        "own": "own",
        "joint": "joint",
        "hosted": "hosted",
        "instr": "instructor",
        "none": "none",
        "idle_own": "none",
    }
    # 应建未建: >= 3 members and no own branch at all, nor a joint one
    assert units["must_have_branch"].to_dict() == {
        "own": False,
        "joint": False,
        "hosted": False,
        "instr": True,
        "none": True,
        "idle_own": False,  # its own branch exists and is idle: 空转, not 应建未建
    }
    assert units.loc[units["branch_idle"]].index.tolist() == ["idle_own"]
    s = result.summary()
    assert (s["org_covered"], s["work_covered"], s["combined_covered"], s["units"]) == (3, 1, 4, 6)
    assert (s["own_covered"], s["joint_covered"], s["hosted_covered"]) == (1, 1, 1)
    assert s["own_rate"] == s["joint_rate"] == s["hosted_rate"] == pytest.approx(1 / 6)
    assert s["org_rate"] == pytest.approx(3 / 6)
    assert s["work_rate"] == pytest.approx(1 / 6)
    assert (s["must_have_branch"], s["branch_idle"]) == (2, 1)
    assert s["idle_orgs"] == 1
    assert s["idle_stations"] == 1


def test_idle_organisations_count_when_configured(town: Store) -> None:
    rules = RULES.model_copy(update={"idle_counts": True})
    result = run_coverage(town, rules, ReachOptions(), as_of=AS_OF, save=False)
    assert _by_name(result).loc["idle_own", "org_status"] == "own"
    longer = RULES.model_copy(update={"idle_days": 500})
    result = run_coverage(town, longer, ReachOptions(), as_of=AS_OF, save=False)
    assert _by_name(result).loc["idle_own", "org_status"] == "own"


def test_members_threshold_is_configurable(town: Store) -> None:
    rules = RULES.model_copy(update={"must_have_branch_members": 5})
    units = _by_name(run_coverage(town, rules, ReachOptions(), as_of=AS_OF, save=False))
    assert units["must_have_branch"].to_dict()["instr"] is False  # 4 members < 5
    assert units["must_have_branch"].to_dict()["none"] is True  # 6 members


def test_as_of_before_an_organisation_was_established(town: Store) -> None:
    later = AS_OF + dt.timedelta(days=20)
    units = _by_name(run_coverage(town, RULES, ReachOptions(), as_of=later, save=False))
    assert units.loc["none", "org_status"] == "own"  # the future branch exists by then


def test_radius_reach_per_tier(town: Store) -> None:
    result = run_coverage(town, RULES, ReachOptions(mode="radius"), as_of=AS_OF, save=False)
    units = _by_name(result)
    # own: community station 250 m away (reach 300) -> covered
    # instr: idle community station 100 m away -> not covered
    # none: township centre 900 m away (reach 1000) -> covered
    assert units["service_covered"].to_dict() == {
        "own": True,
        "joint": False,
        "hosted": False,
        "instr": False,
        "none": True,
        "idle_own": False,
    }
    assert units.loc["own", "nearest_station_m"] == pytest.approx(250, rel=2e-3)
    assert units.loc["none", "nearest_station_m"] == pytest.approx(900, rel=2e-3)
    # the nearest station whatever its state: the idle one 100 m away; the nearest that
    # counts is the township centre, 10.9 km east
    assert units.loc["instr", "nearest_station_m"] == pytest.approx(100, rel=2e-3)
    assert units.loc["instr", "nearest_counting_station_m"] == pytest.approx(10_900, rel=2e-3)
    forced = run_coverage(town, RULES, ReachOptions(meters=200), as_of=AS_OF, save=False)
    assert not _by_name(forced)["service_covered"].any()
    minutes = run_coverage(
        town,
        RULES.model_copy(update={"walk_kmh": 6.0}),
        ReachOptions(minutes=3),
        as_of=AS_OF,
        save=False,
    )
    assert _by_name(minutes)["service_covered"].sum() == 1  # 3 min at 6 km/h = 300 m


def test_what_if_adds_and_removes_stations_without_touching_the_store(town: Store) -> None:
    import geopandas as gpd

    before = town.counts()
    added = gpd.GeoDataFrame(
        {"name": ["新站"], "tier": ["community"], "source_id": ["X"], "last_activity": [None]},
        geometry=[Point(east(5100), LAT)],
        crs="EPSG:4326",
    )
    result = run_coverage(
        town,
        RULES,
        ReachOptions(),
        as_of=AS_OF,
        add_stations=added,
        remove_stations=["S1"],
        save=False,
    )
    covered = _by_name(result)["service_covered"].to_dict()
    assert covered["joint"] is True and covered["own"] is False
    assert town.counts() == before


def test_runs_are_stored_and_compared(town: Store) -> None:
    first = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF, label="a")
    second = run_coverage(town, RULES, ReachOptions(meters=5000), as_of=AS_OF, label="b")
    assert first.run_id is not None and second.run_id is not None
    comparison = compare_runs(town, first.run_id, second.run_id)
    rates = comparison.rates.set_index("key")
    assert rates.loc["service_rate", "a"] == pytest.approx(2 / 6)
    assert rates.loc["service_rate", "delta"] == pytest.approx(
        rates.loc["service_rate", "b"] - 2 / 6
    )
    changed = comparison.changed_units
    assert set(changed.loc[changed["change"] == "service_covered", "name"]) == {
        "joint",
        "hosted",
        "instr",
        "idle_own",
    } - {
        n
        for n in ("joint", "hosted", "instr", "idle_own")
        if not _by_name(second).loc[n, "service_covered"]
    }


def test_reproducing_a_run_warns_when_records_changed(
    town: Store, caplog: pytest.LogCaptureFixture
) -> None:
    stored = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF)
    assert stored.run_id is not None
    with caplog.at_level(logging.WARNING, logger="gridmap.coverage.run"):
        again = reproduce_run(town, CoverageSettings(), stored.run_id)
    assert caplog.records == []  # same records, same rules (taken from the run): no warning
    assert again.summary()["org_rate"] == stored.summary()["org_rate"]
    with town.session() as s:
        s.add(
            models.Unit(
                kind="firm",
                name="new",
                party_members=0,
                geom=wkb(Point(east(60_000), LAT)),
                source="t",
                source_id="new",
            )
        )
    with caplog.at_level(logging.WARNING, logger="gridmap.coverage.run"):
        changed = reproduce_run(town, CoverageSettings(), stored.run_id)
    assert changed.summary()["units"] == 7
    assert f"run {stored.run_id}: records changed" in caplog.text
    assert "units 6 -> 7" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="gridmap.coverage.run"):
        reproduce_run(town, CoverageSettings(), stored.run_id, warn=False)
    assert caplog.records == []


def test_org_coverage_is_pure_and_matches_the_run(town: Store) -> None:
    """The rules are a function of the inputs alone, and the stored run holds what they give."""
    inputs = read_inputs(town, as_of=AS_OF)
    before = {name: frame.copy() for name, frame in vars(inputs).items() if hasattr(frame, "copy")}
    first, second = org_coverage(inputs, RULES), org_coverage(inputs, RULES)
    pd.testing.assert_frame_equal(first.units, second.units)
    pd.testing.assert_series_equal(first.orgs_activity, second.orgs_activity)
    for name, frame in before.items():  # the inputs are not touched
        assert frame.equals(getattr(inputs, name)), name
    run_id = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF).run_id
    assert run_id is not None
    with town.engine.connect() as conn:
        stored = (
            pd.read_sql(
                select(
                    models.CoverageUnit.unit_id,
                    models.CoverageUnit.org_status,
                    models.CoverageUnit.must_have_branch,
                ).where(models.CoverageUnit.run_id == run_id),
                conn,
            )
            .set_index("unit_id")
            .sort_index()
        )
    pure = first.units[["org_status", "must_have_branch"]].sort_index()
    assert stored.index.tolist() == pure.index.tolist()
    assert stored["org_status"].tolist() == pure["org_status"].tolist()
    assert stored["must_have_branch"].astype(bool).tolist() == pure["must_have_branch"].tolist()
    assert dict(zip(inputs.units["name"], first.units["org_status"], strict=True))["hosted"] == (
        "hosted"
    )
