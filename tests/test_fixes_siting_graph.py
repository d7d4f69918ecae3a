"""``site recommend --mode network`` builds the road graph once, for what existing stations
reach and for what candidates would reach; a graph passed in gives the same coverage."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from geoalchemy2.shape import from_shape
from test_coverage_offroad import AS_OF, at, offroad  # noqa: F401 - the fixture

from gridmap.coverage import ReachOptions, compute_coverage, read_inputs
from gridmap.coverage.reach import road_graph
from gridmap.errors import InvalidValueError
from gridmap.network import RoadGraph
from gridmap.settings import CoverageSettings
from gridmap.siting.recommend import recommend_sites
from gridmap.store import Store, models


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """The profile of every road graph built from lines (the real build, counted)."""
    real = RoadGraph.from_lines
    profiles: list[str | None] = []

    def counted(*args: Any, **kwargs: Any) -> RoadGraph:
        profiles.append(kwargs.get("profile"))
        return real(*args, **kwargs)

    monkeypatch.setattr(RoadGraph, "from_lines", staticmethod(counted))
    return profiles


def _with_candidate(store: Store) -> Store:
    with store.session() as s:
        s.add(
            models.CandidateSite(
                name="路边候选点",
                site_kind="community_centre",
                geom=from_shape(at(2600, 20), srid=4326),
                source="t",
                source_id="C1",
            )
        )
    return store


def test_network_siting_builds_the_road_graph_once(
    offroad: Store,  # noqa: F811 - the imported fixture
    builds: list[str | None],
) -> None:
    store = _with_candidate(offroad)
    options = ReachOptions(mode="network", meters=1500)
    found = recommend_sites(
        store, CoverageSettings(), options, k=1, weight="units", as_of=AS_OF, save=False
    )
    # the farm 900 m from the road is routed by neither; the others are already covered
    assert list(found.uncoverable["name"]) == ["lonely"]
    assert builds == ["walk"]
    builds.clear()
    recommend_sites(
        store,
        CoverageSettings(),
        ReachOptions(meters=1500),
        k=1,
        weight="units",
        as_of=AS_OF,
        save=False,
    )
    assert builds == []  # radius mode needs no roads


def test_a_prebuilt_graph_gives_the_same_coverage(
    offroad: Store,  # noqa: F811 - the imported fixture
) -> None:
    inputs = read_inputs(offroad, as_of=AS_OF)
    rules = CoverageSettings()
    for options in (ReachOptions(mode="network"), ReachOptions(mode="network", minutes=4)):
        graph = road_graph(inputs, options.profile, walk_kmh=rules.walk_kmh)
        given = compute_coverage(inputs, rules, options, graph=graph).units
        built = compute_coverage(inputs, rules, options).units
        pd.testing.assert_frame_equal(pd.DataFrame(given), pd.DataFrame(built))
    with pytest.raises(InvalidValueError, match=r"^graph=: the road graph was built for 'drive'"):
        compute_coverage(
            inputs,
            rules,
            ReachOptions(mode="network"),
            graph=road_graph(inputs, "drive", walk_kmh=rules.walk_kmh),
        )
