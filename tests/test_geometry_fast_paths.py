"""The fast geometry paths of a coverage run against their plain references.

Each optimised step (zone of a point, snapping to the nearest road, ...) is compared with
the plain computation it replaced, on real roads (Shenzhen Futian, OSM) and on the tie and
edge cases where a faster path could pick another answer.
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely
from pyproj import Transformer

from gridmap.coverage.zones import _zone_of
from gridmap.crs import metric_crs_for
from gridmap.network import RoadGraph

SHENZHEN = Path(__file__).resolve().parents[2] / "shared/data/osm/shenzhen_futian_roads.graphml"


@pytest.fixture(scope="module")
def shenzhen() -> RoadGraph:
    raw = nx.read_graphml(SHENZHEN)
    to_metric = Transformer.from_crs(4326, metric_crs_for(114.05, 22.54), always_xy=True)
    for _, data in raw.nodes(data=True):
        data["x"], data["y"] = to_metric.transform(float(data["x"]), float(data["y"]))
    return RoadGraph.from_networkx(raw, weight="length", crs=to_metric.target_crs)


def _zone_of_reference(points: np.ndarray, zones: np.ndarray) -> np.ndarray:
    """The lowest zone holding each point, else the lowest of the nearest zones: pair by pair."""
    which = np.full(len(points), -1)
    for i, point in enumerate(points):
        holding = np.flatnonzero(shapely.intersects(zones, point))
        if holding.size:
            which[i] = holding[0]
            continue
        distance = shapely.distance(zones, point)
        which[i] = np.flatnonzero(distance == distance.min())[0]
    return which


def test_zone_of_equals_the_pairwise_reference_on_real_roads(shenzhen: RoadGraph) -> None:
    # zones: discs round the road nodes, cut by corridors along some roads (as service
    # areas cut blind zones), so that many nodes end up outside every zone
    rng = np.random.default_rng(11)
    nodes = shapely.points(shenzhen.node_xy)
    discs = shapely.buffer(nodes, 60.0, quad_segs=16)
    roads = shenzhen.link_geometry[rng.choice(shenzhen.n_links, 300, replace=False)]
    cut = shapely.difference(shapely.union_all(discs), shapely.union_all(shapely.buffer(roads, 20)))
    zones = shapely.get_parts(cut)
    zones = zones[rng.permutation(len(zones))]  # an order that is not the tree's
    points = np.concatenate([nodes, shapely.points(shapely.get_coordinates(zones)[::7])])
    got = _zone_of(points, zones)
    expected = _zone_of_reference(points, zones)
    inside = shapely.intersects(zones[expected], points)
    assert inside.any() and not inside.all()  # both paths (inside, nearest) are exercised
    np.testing.assert_array_equal(got, expected)


def test_zone_of_ties_go_to_the_first_zone() -> None:
    # two squares sharing an edge, a third overlapping the second
    zones = np.array(
        [shapely.box(1, 0, 2, 1), shapely.box(0, 0, 1, 1), shapely.box(0.5, 0, 1.5, 1)]
    )
    points = shapely.points(
        [
            (1.0, 0.5),  # on the shared edge of 0 and 1, inside 2: zone 0
            (0.2, 0.5),  # inside 1 only
            (0.7, 0.5),  # inside 1 and 2: zone 1
            (1.0, 3.0),  # outside, as near to 0 as to 1 and 2: zone 0
            (-1.0, 0.5),  # outside, nearest 1
            (1.0, 1.0),  # a shared corner of all three
        ]
    )
    np.testing.assert_array_equal(_zone_of(points, zones), [0, 1, 1, 0, 1, 0])
