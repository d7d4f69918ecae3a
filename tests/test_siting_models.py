"""Siting models on hand-made instances whose optimum is known by hand."""

from __future__ import annotations

import dataclasses
import tracemalloc
from typing import Literal

import geopandas as gpd
import numpy as np
import pytest
from scipy import sparse
from scipy.spatial.distance import cdist
from shapely.geometry import Point, box

from gridmap.siting import (
    SitingInfeasibleError,
    SitingInputError,
    SitingProblem,
    solve_lscp,
    solve_mclp,
)

MethodName = Literal["exact", "greedy"]
METHODS: tuple[MethodName, ...] = ("exact", "greedy")


def _reach(columns: list[list[int]], n_demand: int) -> sparse.csr_array:
    """Reach matrix from, per candidate, the demand rows it covers."""
    rows = [i for col in columns for i in col]
    cols = [j for j, col in enumerate(columns) for _ in col]
    return sparse.csr_array(
        (np.ones(len(rows), bool), (rows, cols)), shape=(n_demand, len(columns))
    )


@pytest.fixture
def greedy_trap() -> SitingProblem:
    """Greedy takes the middle site (8) first and ends at 12; the optimum is 0 + 2 = 14."""
    weights = [4, 3, 3, 4, 2]
    return SitingProblem.from_coverage(_reach([[0, 1], [1, 2, 4], [2, 3]], 5), weights)


@pytest.fixture
def cover_trap() -> SitingProblem:
    """Set cover: greedy takes the 4-element set and needs 3 sets; 2 suffice."""
    return SitingProblem.from_coverage(_reach([[0, 1, 2], [3, 4, 5], [0, 1, 3, 4]], 6), [1] * 6)


def test_exact_beats_greedy_on_the_classic_trap(greedy_trap: SitingProblem) -> None:
    exact = solve_mclp(greedy_trap, 2)
    greedy = solve_mclp(greedy_trap, 2, method="greedy")
    assert exact.objective == 14 and sorted(exact.selected.tolist()) == [0, 2]
    assert exact.status == "optimal" and exact.gap == 0.0
    assert greedy.objective == 12 and greedy.selected[0] == 1
    assert greedy.status == "heuristic"
    assert greedy.lp_bound is not None and greedy.lp_bound >= 14 - 1e-9
    assert greedy.gap == pytest.approx((greedy.lp_bound - 12) / 12)


def test_exact_set_cover_uses_fewer_sites_than_greedy(cover_trap: SitingProblem) -> None:
    exact = solve_lscp(cover_trap)
    greedy = solve_lscp(cover_trap, method="greedy")
    assert exact.objective == 2 and sorted(exact.selected.tolist()) == [0, 1]
    assert greedy.objective == 3 and greedy.selected[0] == 2
    assert exact.covered_after == greedy.covered_after == 6


def test_exact_sites_come_in_order_of_marginal_gain() -> None:
    weights = [5, 1, 1, 9, 2]
    problem = SitingProblem.from_coverage(_reach([[0], [1, 2], [3, 4], [4]], 5), weights)
    result = solve_mclp(problem, 3)
    assert result.selected.tolist() == [2, 0, 1]
    assert result.marginal_gain.tolist() == [11, 5, 2]
    assert result.objective == 18


def test_sites_that_gain_nothing_are_not_recommended() -> None:
    problem = SitingProblem.from_coverage(_reach([[0, 1], [0], [1]], 2), [3, 4])
    for method in METHODS:
        result = solve_mclp(problem, 3, method=method)
        assert result.selected.tolist() == [0], method
        assert result.objective == 7


@pytest.mark.parametrize("method", METHODS)
def test_existing_stations_count_as_covered_but_add_no_gain(method: MethodName) -> None:
    # Site 0 would gain 10 + 6, but 10 is already covered; site 1 gains 8.
    problem = SitingProblem.from_coverage(
        _reach([[0, 1], [2]], 3), [10, 6, 8], already_covered=[True, False, False]
    )
    result = solve_mclp(problem, 1, method=method)
    assert result.selected.tolist() == [1]
    assert result.covered_before == 10 and result.objective == 8
    assert result.covered_after == 18 and result.total_demand == 24
    assert result.coverage_after == pytest.approx(0.75)


@pytest.mark.parametrize("method", METHODS)
def test_uncoverable_demand_is_reported_not_dropped(method: MethodName) -> None:
    # Row 2 is reached by nobody, row 3 only by an existing station.
    problem = SitingProblem.from_coverage(
        _reach([[0], [1]], 4), [1, 1, 5, 2], already_covered=[False, False, False, True]
    )
    result = solve_lscp(problem, method=method)
    assert result.uncoverable.tolist() == [2]
    assert result.objective == 2
    assert result.covered_after == 4 and result.total_demand == 9


def test_zero_weight_demand_needs_no_site() -> None:
    problem = SitingProblem.from_coverage(_reach([[0], [1]], 2), [3, 0])
    assert solve_lscp(problem).selected.tolist() == [0]


def test_nothing_to_do_is_optimal_and_empty() -> None:
    problem = SitingProblem.from_coverage(_reach([[0]], 1), [3], already_covered=[True])
    for result in (solve_mclp(problem, 2), solve_lscp(problem)):
        assert result.n_sites == 0 and result.objective == 0
        assert result.status == "optimal" and result.covered_after == 3


@pytest.mark.parametrize("method", METHODS)
def test_capacity_limits_what_one_site_serves(method: MethodName) -> None:
    # One site reaches both points (20 in all) but serves at most 15.
    problem = SitingProblem.from_coverage(_reach([[0, 1], [1]], 2), [10, 10], capacities=[15, 4])
    one = solve_mclp(problem, 1, method=method)
    assert one.selected.tolist() == [0] and one.objective == pytest.approx(15)
    two = solve_mclp(problem, 2, method=method)
    assert two.objective == pytest.approx(19)
    assert two.marginal_gain.tolist() == pytest.approx([15, 4])


@pytest.mark.parametrize("method", METHODS)
def test_capacitated_set_cover_needs_enough_capacity(method: MethodName) -> None:
    # Three sites each reach all three points (30 in all) but serve 15 each.
    coverage = _reach([[0, 1, 2]] * 3, 3)
    uncapacitated = solve_lscp(SitingProblem.from_coverage(coverage, [10] * 3), method=method)
    assert uncapacitated.objective == 1
    problem = SitingProblem.from_coverage(coverage, [10] * 3, capacities=[15, 15, 15])
    result = solve_lscp(problem, method=method)
    assert result.objective == 2 and result.covered_after == pytest.approx(30)


@pytest.mark.parametrize("method", METHODS)
def test_capacities_too_small_are_reported(method: MethodName) -> None:
    problem = SitingProblem.from_coverage(_reach([[0, 1]], 2), [10, 10], capacities=[15])
    with pytest.raises(SitingInfeasibleError, match="capacit"):
        solve_lscp(problem, method=method)


def test_sparse_and_dense_cost_matrices_agree() -> None:
    cost = np.array([[0.0, 600.0, 300.0], [np.inf, 100.0, 900.0], [450.0, np.nan, 20.0]])
    dense = SitingProblem.from_cost_matrix(cost, [1, 2, 3], max_cost=500)
    # In the sparse form a stored zero is "in reach at distance 0"; missing = unreachable.
    rows, cols = np.nonzero(np.isfinite(cost))
    stored = sparse.coo_array((cost[rows, cols], (rows, cols)), shape=cost.shape)
    from_sparse = SitingProblem.from_cost_matrix(stored, [1, 2, 3], max_cost=500)
    expected = [[True, False, True], [False, True, False], [True, False, True]]
    assert dense.coverage.toarray().tolist() == expected
    assert from_sparse.coverage.toarray().tolist() == expected


def test_existing_cost_marks_demand_as_covered() -> None:
    problem = SitingProblem.from_cost_matrix(
        np.array([[100.0], [100.0]]), [1, 1], max_cost=200, existing_cost=np.array([[50.0], [900]])
    )
    assert problem.already_covered.tolist() == [True, False]
    assert problem.covered_before == 1


def test_to_frame_is_a_build_order_table() -> None:
    problem = SitingProblem.from_coverage(
        _reach([[0], [1, 2]], 4), [1, 2, 3, 4], candidate_ids=["a", "b"]
    )
    frame = solve_mclp(problem, 2).to_frame()
    assert frame.columns.tolist() == [
        "rank", "candidate", "candidate_id", "marginal_gain", "covered_after", "coverage_rate"
    ]  # fmt: skip
    assert frame["candidate_id"].tolist() == ["b", "a"]
    assert frame["covered_after"].tolist() == [5, 6]
    assert frame["coverage_rate"].tolist() == pytest.approx([0.5, 0.6])
    assert frame.attrs["status"] == "optimal" and frame.attrs["uncoverable"] == 1


def test_results_and_problems_are_frozen(greedy_trap: SitingProblem) -> None:
    result = solve_mclp(greedy_trap, 1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.objective = 0.0  # type: ignore[misc]
    with pytest.raises(ValueError, match="read-only"):
        result.selected[0] = 2
    with pytest.raises(ValueError, match="read-only"):
        greedy_trap.weights[0] = 100


def test_time_limit_returns_the_best_solution_with_its_gap() -> None:
    rng = np.random.default_rng(7)
    demand = rng.uniform(0, 20_000, size=(3_000, 2))
    sites = rng.uniform(0, 20_000, size=(400, 2))
    weights = rng.integers(1, 500, size=3_000)
    problem = SitingProblem.from_cost_matrix(cdist(demand, sites), weights, max_cost=1_500)
    greedy = solve_mclp(problem, 40, method="greedy")
    limited = solve_mclp(problem, 40, time_limit_s=0.05)
    assert limited.status == "time_limit"
    assert limited.objective >= greedy.objective
    assert limited.gap is not None and limited.gap > 0
    assert limited.lp_bound is not None and limited.lp_bound >= limited.objective


def test_bad_inputs_are_reported_together() -> None:
    with pytest.raises(SitingInputError) as info:
        SitingProblem.from_coverage(_reach([[0]], 2), [1, -1, 3], capacities=[1, 2])
    message = str(info.value)
    assert "weights has 3 values" in message and "negative" in message
    assert "capacities has 2 values" in message
    problem = SitingProblem.from_coverage(_reach([[0]], 1), [1])
    with pytest.raises(SitingInputError, match="method must be one of"):
        solve_mclp(problem, 1, method="fast")  # type: ignore[arg-type]
    with pytest.raises(SitingInputError, match="integer >= 0"):
        solve_mclp(problem, -1)
    with pytest.raises(SitingInputError, match="max_cost"):
        SitingProblem.from_cost_matrix(np.zeros((1, 1)), [1], max_cost=float("nan"))


def _points(xy: np.ndarray, crs: str, **columns: object) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(columns, geometry=[Point(x, y) for x, y in xy], crs=crs)


def test_geodataframe_door_matches_the_cost_matrix_door() -> None:
    rng = np.random.default_rng(3)
    demand_xy, site_xy, existing_xy = rng.uniform(0, 5_000, size=(3, 200, 2))
    weights = rng.integers(1, 50, size=200)
    demand = _points(demand_xy, "EPSG:32632", pop=weights)
    sites = _points(site_xy[:30], "EPSG:32632", cap=np.full(30, 100.0))
    existing = _points(existing_xy[:3], "EPSG:32632")
    from_geo = SitingProblem.from_geodataframe(
        demand, sites, weight_col="pop", max_distance_m=800, existing_gdf=existing,
        capacity_col="cap",
    )  # fmt: skip
    from_cost = SitingProblem.from_cost_matrix(
        cdist(demand_xy, site_xy[:30]), weights, max_cost=800,
        existing_cost=cdist(demand_xy, existing_xy[:3]), capacities=np.full(30, 100.0),
    )  # fmt: skip
    assert (from_geo.coverage != from_cost.coverage).nnz == 0
    assert from_geo.already_covered.tolist() == from_cost.already_covered.tolist()
    assert from_geo.candidate_ids is not None and from_geo.candidate_ids.tolist() == list(range(30))
    assert solve_mclp(from_geo, 5).objective == pytest.approx(solve_mclp(from_cost, 5).objective)


def test_geodataframe_door_refuses_degrees_and_mixed_crs() -> None:
    demand = _points(np.array([[9.5, 47.1]]), "EPSG:4326", pop=[1])
    with pytest.raises(SitingInputError, match=r"degrees.*to_crs\(\)"):
        SitingProblem.from_geodataframe(demand, demand, weight_col="pop", max_distance_m=500)
    metric = _points(np.array([[0.0, 0.0]]), "EPSG:32632", pop=[1])
    other = _points(np.array([[0.0, 0.0]]), "EPSG:3857")
    with pytest.raises(SitingInputError, match=r"different CRSs.*to_crs\(\)"):
        SitingProblem.from_geodataframe(metric, other, weight_col="pop", max_distance_m=500)
    with pytest.raises(SitingInputError, match="no column 'people'"):
        SitingProblem.from_geodataframe(metric, metric, weight_col="people", max_distance_m=500)


def test_geodataframe_door_asks_for_points() -> None:
    cells = gpd.GeoDataFrame({"pop": [1]}, geometry=[box(0, 0, 10, 10)], crs="EPSG:32632")
    with pytest.raises(SitingInputError, match="cell_points"):
        SitingProblem.from_geodataframe(cells, cells, weight_col="pop", max_distance_m=5)


def test_radius_reach_stays_sparse_for_large_inputs() -> None:
    rng = np.random.default_rng(11)
    demand = _points(rng.uniform(0, 50_000, size=(40_000, 2)), "EPSG:32650", pop=np.ones(40_000))
    sites = _points(rng.uniform(0, 50_000, size=(4_000, 2)), "EPSG:32650")
    tracemalloc.start()
    problem = SitingProblem.from_geodataframe(demand, sites, weight_col="pop", max_distance_m=300)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    dense_bool_mb = 40_000 * 4_000 / 2**20  # 153 MB for a dense boolean matrix
    assert peak / 2**20 < dense_bool_mb / 5
    assert problem.coverage.nnz < 40_000 * 4_000 / 100
