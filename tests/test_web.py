"""The JSON API on both stores: bodies match the response models, 404 and 422 paths."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Point, box

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.settings import Settings
from gridmap.store import Store, models
from gridmap.web import create_app
from gridmap.web.routes.cells import CellOut
from gridmap.web.routes.runs import RunOut


@pytest.fixture
def client(store: Store) -> Iterator[TestClient]:
    with store.session() as s:
        cell = models.GridCell(
            code="360681002001001",
            source="t",
            source_id="c",
            geom=from_shape(MultiPolygon([box(117.20, 28.28, 117.22, 28.30)]), 4326),
        )
        s.add(cell)
        s.flush()
        s.add_all(
            [
                models.Unit(
                    kind="firm",
                    name="<b>近的企业</b>",
                    cell_id=cell.id,
                    party_members=4,
                    geom=from_shape(Point(117.2101, 28.2901), 4326),
                    source="t",
                    source_id="u1",
                ),
                models.Unit(
                    kind="firm",
                    name="远的企业",
                    cell_id=cell.id,
                    geom=from_shape(Point(117.2190, 28.2990), 4326),
                    source="t",
                    source_id="u2",
                ),
                models.Station(
                    tier="community",
                    name="站",
                    last_activity=dt.date(2026, 10, 1),
                    geom=from_shape(Point(117.2100, 28.2900), 4326),
                    source="t",
                    source_id="s",
                ),
            ]
        )
    run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 11, 1)
    )
    settings = Settings(_env_file=None, database_url=store.url)
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_cell_lists_its_units_with_coverage(client: TestClient) -> None:
    response = client.get("/api/cells/360681002001001")
    assert response.status_code == 200
    body = CellOut.model_validate(response.json())
    assert (body.status, body.units_total, body.units_covered) == ("partial", 2, 1)
    by_name = {u.name: u for u in body.units}
    assert by_name["<b>近的企业</b>"].service_covered is True
    assert by_name["<b>近的企业</b>"].must_have_branch is True
    assert by_name["远的企业"].service_covered is False
    only = CellOut.model_validate(
        client.get("/api/cells/360681002001001?uncovered_only=true").json()
    )
    # both lack a branch (org_status none), so both count as not fully covered
    assert {u.name for u in only.units} == {"<b>近的企业</b>", "远的企业"}


def test_unknown_cell_is_404_with_a_message(client: TestClient) -> None:
    response = client.get("/api/cells/999")
    assert response.status_code == 404
    assert "999" in response.json()["detail"]


def test_runs(client: TestClient) -> None:
    ids = client.get("/api/runs").json()
    assert len(ids) == 1
    run = RunOut.model_validate(client.get(f"/api/runs/{ids[0]}").json())
    assert run.summary["units"] == 2
    assert client.get("/api/runs/999").status_code == 404
    assert client.get("/api/runs/abc").status_code == 422
    assert client.get("/api/cells/360681002001001?uncovered_only=maybe").status_code == 422


def test_health(client: TestClient) -> None:
    assert client.get("/health").json()["status"] == "ok"
