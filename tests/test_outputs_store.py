"""Siting, report and map layers from the demo data in the store, on both backends."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import openpyxl
import pytest

from gridmap.coverage import ReachOptions, reproduce_run
from gridmap.demo import DEMO_AS_OF, run_demo
from gridmap.domain import StationTier
from gridmap.maps.from_coverage import map_data
from gridmap.report import write_report
from gridmap.settings import CoverageSettings
from gridmap.siting.recommend import latest_recommendation, recommend_sites
from gridmap.store import Store

pytestmark = pytest.mark.slow


def test_siting_report_and_map_layers_on_the_demo(store: Store, tmp_path: Path) -> None:
    result = run_demo(store)
    # centres reach 1 km by default, much of the demo area: make them a shorter walk
    reach = {**CoverageSettings().reach_m, StationTier.COUNTY: 800.0, StationTier.TOWNSHIP: 800.0}
    rules = CoverageSettings(reach_m=reach)
    options = ReachOptions(mode="radius", meters=500)

    k3 = recommend_sites(store, rules, options, k=3, weight="units", as_of=DEMO_AS_OF)
    gains = k3.sites["marginal_gain"].to_numpy()
    assert 1 <= len(gains) <= 3 and (np.diff(gains) <= 1e-9).all()
    r = k3.result
    assert r.covered_after == pytest.approx(r.covered_before + gains.sum())
    greedy = recommend_sites(
        store, rules, options, k=3, weight="units", method="greedy", as_of=DEMO_AS_OF, save=False
    )
    assert greedy.result.covered_after <= r.covered_after + 1e-9  # the exact optimum is no worse

    cover_all = recommend_sites(
        store, rules, options, cover_all=True, weight="units", as_of=DEMO_AS_OF
    )
    # every unit a candidate or an existing station reaches is covered; the rest are listed
    total = cover_all.result.total_demand
    assert cover_all.result.covered_after + len(cover_all.uncoverable) == pytest.approx(total)
    latest = latest_recommendation(store)
    assert latest is not None and len(latest) == len(cover_all.sites)

    coverage = reproduce_run(store, CoverageSettings())
    assert coverage.run_id == result.coverage.run_id
    assert coverage.summary()["org_rate"] == result.coverage.summary()["org_rate"]
    data = map_data(coverage, sites=latest)
    assert data.cells is not None and len(data.cells) == len(coverage.inputs.cells)
    assert data.workers is not None and len(data.workers) == 5

    book = write_report(coverage, tmp_path / "r.xlsx")
    workbook = openpyxl.load_workbook(book, read_only=True)
    must = list(workbook["应建未建"].iter_rows(values_only=True))
    assert must[0][:2] == ("名称", "类型")
    assert len(must) - 1 == coverage.summary()["must_have_branch"]
    worker_sheets = [s for s in workbook.sheetnames if s.startswith("网格员-")]
    assert len(worker_sheets) == 5
