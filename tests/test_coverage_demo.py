"""The demo's coverage under the rules of issue 11, on both stores.

黄坑村 (801 m from the nearest road) and 炼厂社区 (279 m from it) each have
their own active station at the very same point; 化肥厂社区's own branch is
idle; the demo's hubs name only their own units.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest

from gridmap.demo import run_demo
from gridmap.store import Store


@pytest.fixture
def demo(store: Store, tmp_path: Path) -> tuple[pd.DataFrame, dict[str, Any], Path]:
    """The demo run into ``store``, its per-unit results, summary and output folder."""
    result = run_demo(store, out_dir=tmp_path)
    units = pd.DataFrame(result.coverage.units).set_index("name")
    return units, result.coverage.summary(), tmp_path


def test_demo_coverage_follows_the_rules(
    demo: tuple[pd.DataFrame, dict[str, Any], Path],
) -> None:
    """One demo run per store (it takes seconds), checked for every rule."""
    _villages_with_their_own_station_are_covered(*demo)
    _rates_are_apart_and_an_idle_branch_is_not_must_have(*demo)


def _villages_with_their_own_station_are_covered(
    units: pd.DataFrame, summary: dict[str, Any], out: Path
) -> None:
    for name in ("黄坑村", "炼厂社区"):
        unit = units.loc[name]
        assert bool(unit["service_covered"]), name
        assert not unit["far_from_road"], name
        assert unit["nearest_station_m"] == pytest.approx(0, abs=0.5), name
    assert units.loc["黄坑村", "snap_m"] > 500  # farther from a road than max_snap_m
    zones = gpd.read_file(out / "blind_zones.geojson")
    in_zones = {int(u) for ids in zones["unit_ids"] for u in str(ids).split(",") if u}
    for name in ("黄坑村", "炼厂社区"):
        assert int(units.loc[name, "unit_id"]) not in in_zones, name
    csv = pd.read_csv(out / "units.csv").set_index("name")
    assert bool(csv.loc["炼厂社区", "service_covered"])
    assert summary["far_from_road"] == int(units["far_from_road"].sum())


def _rates_are_apart_and_an_idle_branch_is_not_must_have(
    units: pd.DataFrame, summary: dict[str, Any], out: Path
) -> None:
    unit = units.loc["化肥厂社区"]  # 31 members, own branch last active 2025-12-01
    assert bool(unit["branch_idle"]) and not unit["must_have_branch"]
    assert summary["branch_idle"] == 1
    # hosting comes only from the hubs' own lists (their covers column), never by proximity
    # and never from a station: 23 buildings named by 花园社区党委, 信江社区党委, 花园村党总支
    hosted = units[units["org_status"] == "hosted"]
    assert summary["hosted_covered"] == len(hosted) == 23
    assert set(hosted["kind"]) == {"building"}
    parts = [summary[f"{kind}_covered"] for kind in ("own", "joint", "hosted")]
    assert summary["org_covered"] == sum(parts)
    areas = pd.read_csv(out / "areas.csv", dtype={"code": str})
    for column in ("own_rate", "joint_rate", "hosted_rate", "branch_idle"):
        assert column in areas.columns
    total = areas[areas["code"] == "*"].iloc[0]
    assert total["own_covered"] == summary["own_covered"]
    assert total["branch_idle"] == 1
    assert "nan" not in (out / "areas.csv").read_text().lower()
