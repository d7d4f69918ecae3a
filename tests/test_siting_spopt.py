"""gridmap's covering models give the same optimum as spopt's on the same inputs.

spopt (pysal) builds the textbook models with pulp; it is a test-only
dependency. Each instance goes through both libraries and the optimal objective
must agree: the covered weight for maximal covering, the number of sites for
set covering (plain and capacitated, spopt's CLSCP-SO).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pytest
from scipy.spatial.distance import cdist

from gridmap.siting import SitingInfeasibleError, SitingProblem, solve_lscp, solve_mclp

pulp = pytest.importorskip("pulp")
spopt_locate = pytest.importorskip("spopt.locate")

pytestmark = [
    # spopt's solution mixins still call deprecated numpy/pandas helpers.
    pytest.mark.filterwarnings("ignore::DeprecationWarning:spopt.*"),
    pytest.mark.filterwarnings("ignore::FutureWarning:spopt.*"),
]

FloatArray = npt.NDArray[np.float64]
SEEDS = (0, 1, 2, 3)


def _solver() -> object:
    """pulp's HiGHS (in-process, exact gap) when available, else CBC."""
    if "HiGHS" in pulp.listSolvers(onlyAvailable=True):
        return pulp.HiGHS(msg=False, gapRel=0.0)
    return pulp.PULP_CBC_CMD(msg=False, gapRel=0.0)


def _instance(seed: int) -> tuple[FloatArray, FloatArray]:
    """Clustered demand (60-140 points) and 15-30 candidate sites in a 6 km square."""
    rng = np.random.default_rng(seed)
    n_demand, n_sites = int(rng.integers(60, 140)), int(rng.integers(15, 30))
    centres = rng.uniform(0, 6_000, size=(6, 2))
    demand = centres[rng.integers(0, 6, n_demand)] + rng.normal(scale=500, size=(n_demand, 2))
    cost = cdist(demand, rng.uniform(0, 6_000, size=(n_sites, 2)))
    return cost, rng.integers(1, 300, size=n_demand).astype(np.float64)


def _spopt_mclp(cost: FloatArray, weights: FloatArray, radius: float, k: int) -> float:
    model = spopt_locate.MCLP.from_cost_matrix(
        cost, weights, service_radius=radius, p_facilities=k
    ).solve(_solver())
    return float(pulp.value(model.problem.objective))


def _spopt_lscp(cost: FloatArray, radius: float, **capacity: FloatArray) -> int:
    model = spopt_locate.LSCP.from_cost_matrix(cost, service_radius=radius, **capacity)
    model.solve(_solver())
    return round(float(pulp.value(model.problem.objective)))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("k", [3, 6])
def test_mclp_matches_spopt(seed: int, k: int) -> None:
    cost, weights = _instance(seed)
    result = solve_mclp(SitingProblem.from_cost_matrix(cost, weights, max_cost=900), k)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(_spopt_mclp(cost, weights, 900, k), rel=1e-9)
    greedy = solve_mclp(SitingProblem.from_cost_matrix(cost, weights, max_cost=900), k,
                        method="greedy")  # fmt: skip
    assert greedy.objective <= result.objective + 1e-6
    assert greedy.lp_bound is not None and greedy.lp_bound >= result.objective - 1e-6


@pytest.mark.parametrize("seed", SEEDS)
def test_lscp_matches_spopt_on_the_coverable_demand(seed: int) -> None:
    cost, weights = _instance(seed)
    result = solve_lscp(SitingProblem.from_cost_matrix(cost, weights, max_cost=900))
    coverable = (cost <= 900).any(axis=1)
    # spopt has no notion of uncoverable demand (its model would be infeasible),
    # so it gets only the rows gridmap did not report.
    assert result.uncoverable.tolist() == np.flatnonzero(~coverable).tolist()
    assert result.objective == _spopt_lscp(cost[coverable], 900)


@pytest.mark.parametrize("seed", [0, 1, 3])
def test_capacitated_lscp_matches_spopt(seed: int) -> None:
    cost, weights = _coverable(*_instance(seed), radius=1_500)
    capacities = np.full(cost.shape[1], weights.sum() / 6)
    problem = SitingProblem.from_cost_matrix(cost, weights, max_cost=1_500, capacities=capacities)
    expected = _spopt_lscp(
        cost, 1_500, demand_quantity_arr=weights, facility_capacity_arr=capacities
    )
    assert solve_lscp(problem).objective == expected
    assert expected > _spopt_lscp(cost, 1_500)  # the capacities really bind


def test_capacities_too_small_are_infeasible_for_both() -> None:
    cost, weights = _coverable(*_instance(0), radius=1_500)
    capacities = np.full(cost.shape[1], weights.sum() / 10)
    problem = SitingProblem.from_cost_matrix(cost, weights, max_cost=1_500, capacities=capacities)
    with pytest.raises(SitingInfeasibleError):
        solve_lscp(problem)
    with pytest.raises(RuntimeError, match="Infeasible"):
        _spopt_lscp(cost, 1_500, demand_quantity_arr=weights, facility_capacity_arr=capacities)


def _coverable(
    cost: FloatArray, weights: FloatArray, radius: float
) -> tuple[FloatArray, FloatArray]:
    keep = (cost <= radius).any(axis=1)
    return cost[keep], weights[keep]


def _liechtenstein(seed: int) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Random settlements in Liechtenstein's extent, UTM 32N; candidates on a 1 km grid."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(9.48, 9.62, 150)
    lat = rng.uniform(47.05, 47.24, 150)
    demand = gpd.GeoDataFrame(
        {"pop": rng.integers(5, 400, 150), "demand_id": np.arange(150)},
        geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326",
    ).to_crs("EPSG:32632")  # fmt: skip
    xmin, ymin, xmax, ymax = demand.total_bounds
    gx, gy = np.meshgrid(np.arange(xmin, xmax, 1_000), np.arange(ymin, ymax, 1_000))
    sites = gpd.GeoDataFrame(
        {"site_id": np.arange(gx.size)},
        geometry=gpd.points_from_xy(gx.ravel(), gy.ravel()), crs="EPSG:32632",
    )  # fmt: skip
    return demand, sites


def test_real_coordinates_match_spopt_through_both_geodataframe_doors() -> None:
    demand, sites = _liechtenstein(5)
    problem = SitingProblem.from_geodataframe(demand, sites, weight_col="pop", max_distance_m=1_000)
    mclp = spopt_locate.MCLP.from_geodataframe(
        demand, sites, "geometry", "geometry", "pop", service_radius=1_000, p_facilities=8
    ).solve(_solver())
    assert solve_mclp(problem, 8).objective == pytest.approx(
        pulp.value(mclp.problem.objective), rel=1e-9
    )
    coverable = demand[~np.isin(np.arange(len(demand)), problem.uncoverable)]
    lscp = spopt_locate.LSCP.from_geodataframe(
        coverable, sites, "geometry", "geometry", service_radius=1_000
    ).solve(_solver())
    assert solve_lscp(problem).objective == round(pulp.value(lscp.problem.objective))
