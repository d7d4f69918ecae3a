"""Coverage rules that match practice (issue 11, points 2-5), on both stores.

Unknown activity is not idle; hosting is a relationship a hub records, never a
station's or a committee's mere proximity (unless a department turns it on);
an idle own branch is 空转, not 应建未建; a run with no active station says so.
Uses the little town of ``conftest.town``.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TOWN_AS_OF as AS_OF
from conftest import TOWN_LAT as LAT
from conftest import east
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import select, update
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.coverage import ReachOptions, run_coverage
from gridmap.coverage.result import CoverageResult
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models

#: The default rules: hosting only where a hub names the unit, no proximity hosting.
RULES = CoverageSettings()


def _by_name(result: CoverageResult) -> pd.DataFrame:
    return pd.DataFrame(result.units).set_index("name")


def _run(store: Store, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app,
        ["coverage", *args],
        env={
            "GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False),
            "COLUMNS": "120",
            **(env or {}),
        },
    )
    return result.exit_code, result.output


def _add_unit(store: Store, name: str, metres: float, members: int = 1) -> int:
    with store.session() as s:
        cell = s.scalars(select(models.GridCell)).first()
        unit = models.Unit(
            kind="firm",
            name=name,
            party_members=members,
            population=10,
            cell_id=None if cell is None else cell.id,
            geom=from_shape(Point(east(metres), LAT), srid=4326),
            source="t",
            source_id=name,
        )
        s.add(unit)
        s.flush()
        return int(unit.id)


def _clear_dates(store: Store, *, orgs: bool = True) -> None:
    with store.session() as s:
        s.execute(update(models.Station).values(last_activity=None))
        if orgs:
            s.execute(update(models.PartyOrg).values(last_activity=None))


# -- 3. hub hosting a department can defend -----------------------------------------


def test_a_hub_hosts_only_the_units_it_names_by_default(town: Store) -> None:
    _add_unit(town, "near_hub", 10_900)  # 300 m from the hub committee, not named by it
    units = _by_name(run_coverage(town, RULES, ReachOptions(), as_of=AS_OF, save=False))
    assert units.loc["near_hub", "org_status"] == "none"
    assert units.loc["hosted", "org_status"] == "hosted"  # named in the hub's covers
    near = RULES.model_copy(update={"hub_reach_m": 800})  # a department turns proximity on
    units = _by_name(run_coverage(town, near, ReachOptions(), as_of=AS_OF, save=False))
    assert units.loc["near_hub", "org_status"] == "hosted"
    assert units.loc["joint", "org_status"] == "joint"  # a joint branch's naming stays joint


def test_a_service_station_never_gives_organisational_coverage(town: Store) -> None:
    # "none" stands 900 m from an active township centre; even with proximity hosting on
    # over 1 km, a station is a service site, not an organisation.
    rules = RULES.model_copy(update={"hub_reach_m": 1000})
    result = run_coverage(town, rules, ReachOptions(), as_of=AS_OF, save=False)
    units = _by_name(result)
    assert units.loc["none", "org_status"] == "none"
    assert bool(units.loc["none", "service_covered"])  # it is served, not organised
    assert bool(units.loc["none", "must_have_branch"])


def test_a_committee_naming_a_unit_hosts_it_and_rates_are_apart(town: Store) -> None:
    result = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF, save=False)
    units = _by_name(result)
    assert units.loc["hosted", "org_status"] == "hosted"
    hub_id = result.orgs.set_index("name").loc["hub committee", "id"]
    assert units.loc["hosted", "covering_org_id"] == hub_id
    total = result.areas.iloc[-1]
    for kind in ("own", "joint", "hosted"):
        assert total[f"{kind}_covered"] == 1
        assert total[f"{kind}_rate"] == pytest.approx(1 / 6)
    assert total["org_rate"] == pytest.approx(
        total["own_rate"] + total["joint_rate"] + total["hosted_rate"]
    )


# -- 2. unknown is not idle ----------------------------------------------------------


def test_stations_and_orgs_without_dates_count_and_are_reported(town: Store) -> None:
    _clear_dates(town)
    result = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF, save=False)
    units = _by_name(result)
    s = result.summary()
    assert (s["unknown_stations"], s["idle_stations"]) == (3, 0)
    assert (s["unknown_orgs"], s["idle_orgs"]) == (4, 0)  # the future branch does not exist yet
    assert units["service_covered"].sum() == 3  # own, instr (100 m) and none (900 m)
    assert units.loc["idle_own", "org_status"] == "own"  # its branch is unknown, not idle
    assert np.isfinite(units["nearest_station_m"].astype(float)).all()
    assert set(result.stations["activity"]) == {"unknown"}


def test_unknown_can_be_left_out_and_the_nearest_station_is_still_measured(
    town: Store,
) -> None:
    _clear_dates(town)
    rules = RULES.model_copy(update={"unknown_counts": False})
    result = run_coverage(town, rules, ReachOptions(), as_of=AS_OF, save=False)
    units = _by_name(result)
    assert not units["service_covered"].any()
    assert result.summary()["service_rate"] == 0.0
    assert units.loc["own", "nearest_station_m"] == pytest.approx(250, rel=2e-3)
    assert units.loc["instr", "nearest_station_m"] == pytest.approx(100, rel=2e-3)
    assert np.isinf(units["nearest_counting_station_m"].astype(float)).all()
    assert units.loc["own", "org_status"] == "none"
    assert not units.loc["own", "must_have_branch"]  # it has a branch, of unknown activity


def test_cli_reports_unknown_activity_and_warns_once(town: Store) -> None:
    _clear_dates(town)
    code, output = _run(town, "run", "--as-of", AS_OF.isoformat())
    assert code == 0, output
    assert output.count("no activity date") == 1
    assert "GRIDMAP_COVERAGE__UNKNOWN_COUNTS=false" in output
    rows = {line.split("│")[1].strip(): line for line in output.splitlines() if "│" in line}
    assert "│ 3 " in rows["活动未知站点 stations, activity unknown"]
    assert "│ 4 " in rows["活动未知组织 organisations, activity unknown"]


# -- 4. an idle own branch is 空转, not 应建未建 ---------------------------------------


def test_an_idle_own_branch_is_branch_idle_not_must_have_branch(town: Store) -> None:
    result = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF, save=False)
    units = _by_name(result)
    assert bool(units.loc["idle_own", "branch_idle"])
    assert not units.loc["idle_own", "must_have_branch"]
    assert not units.drop(index="idle_own")["branch_idle"].any()
    idle_orgs = result.orgs[result.orgs["idle"]]
    assert list(idle_orgs["own_unit_id"]) == [units.loc["idle_own", "unit_id"]]
    assert list(idle_orgs["activity"]) == ["idle"]
    assert result.summary()["branch_idle"] == 1
    assert result.areas.iloc[-1]["branch_idle"] == 1
    # a branch idle for fewer members than the threshold is not 空转 either
    small = RULES.model_copy(update={"must_have_branch_members": 4})
    units = _by_name(run_coverage(town, small, ReachOptions(), as_of=AS_OF, save=False))
    assert not units["branch_idle"].any()


# -- 5. a run with nothing to measure says so --------------------------------------


def test_no_active_station_warns_and_shows_zero_never_nan(
    town: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    stale = AS_OF.replace(year=AS_OF.year - 2)
    with town.session() as s:
        s.execute(update(models.Station).values(last_activity=stale))
    with caplog.at_level(logging.WARNING, logger="gridmap.coverage.run"):
        result = run_coverage(town, RULES, ReachOptions(), as_of=AS_OF)  # stored, with people
    assert "no station counts as active" in caplog.text
    assert result.summary()["service_rate"] == 0.0
    assert result.summary()["service_population_rate"] == 0.0
    with town.session() as s:
        s.execute(update(models.Unit).values(population=None))  # no population rate now
    code, output = _run(town, "run", "--as-of", AS_OF.isoformat(), "--out", str(tmp_path))
    assert code == 0, output
    assert "nan" not in output.lower()
    assert output.count("no station counts as active") == 1
    assert "0 / 6" in output and "0.0%" in output
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["service_rate"] == 0.0 and summary["counting_stations"] == 0
    assert "nan" not in (tmp_path / "areas.csv").read_text().lower()
    code, listing = _run(town, "runs")
    assert code == 0, listing
    assert "nan" not in listing.lower()


def test_settings_default_to_named_hosting_and_counting_unknown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from gridmap.settings import Settings

    rules = Settings(_env_file=None).coverage
    assert rules.hub_reach_m is None and rules.unknown_counts is True
    monkeypatch.setenv("GRIDMAP_COVERAGE__UNKNOWN_COUNTS", "false")
    monkeypatch.setenv("GRIDMAP_COVERAGE__HUB_REACH_M", "800")
    rules = Settings(_env_file=None).coverage
    assert rules.unknown_counts is False and rules.hub_reach_m == 800
