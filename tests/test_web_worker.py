"""The worker's phone pages through the app on both stores: the cell map's GeoJSON (scoped,
shifted to GCJ-02 under Amap), the basemap in the CSP, the PWA files, and visits from the
form with a reported change, the phone's location and the offline queue's key and time."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_support import CELL_A1, CELL_A2, CELL_B1, World, password, seed, settings_for

from gridmap.crs import gcj02_from_wgs84, wgs84_from_gcj02
from gridmap.errors import InvalidValueError
from gridmap.store import Store
from gridmap.web import create_app

JSON = {"accept": "application/json"}


@pytest.fixture
def world(store: Store) -> World:
    return seed(store)


def _client(world: World, **web: object) -> TestClient:
    return TestClient(create_app(settings_for(world.store, **web)))


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    with _client(world) as c:
        yield c


def _sign_in(client: TestClient, username: str) -> None:
    client.post("/", data={"username": username, "password": password(username)})


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', client.get("/cells").text)
    assert found
    return found.group(1)


def _units(geojson: dict[str, object]) -> dict[int, list[float]]:
    features = geojson["features"]
    assert isinstance(features, list)
    return {
        f["properties"]["unit_id"]: f["geometry"]["coordinates"]
        for f in features
        if f["properties"]["layer"] == "unit"
    }


def test_the_cell_map_holds_the_cell_and_its_units_in_scope(
    client: TestClient, world: World
) -> None:
    assert client.get(f"/cells/{CELL_A1}/map.geojson").status_code == 401
    _sign_in(client, "worker")
    answer = client.get(f"/cells/{CELL_A1}/map.geojson")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    data = answer.json()
    layers = [f["properties"]["layer"] for f in data["features"]]
    assert layers == ["cell", "unit", "unit"]
    assert data["features"][0]["geometry"]["type"] == "MultiPolygon"
    units = _units(data)
    assert units[world.unit_a1] == [117.2101, 28.29]
    assert {f["properties"]["status"] for f in data["features"][1:]} <= {
        "covered", "partial", "blind"
    }  # fmt: skip
    for other in (CELL_A2, CELL_B1, "no-such-cell", "x" * 60):
        refused = client.get(f"/cells/{other}/map.geojson")
        assert refused.status_code == 404, other
        assert "东门企业" not in refused.text and "二号企业" not in refused.text


def test_on_amap_the_overlays_are_shifted_to_gcj02(world: World) -> None:
    with _client(world, basemap="amap") as client:
        _sign_in(client, "worker")
        data = client.get(f"/cells/{CELL_A1}/map.geojson").json()
        page = client.get(f"/cells/{CELL_A1}")
    lon, lat = _units(data)[world.unit_a1]
    want = gcj02_from_wgs84([117.2101], [28.29])
    assert (lon, lat) == pytest.approx((want[0][0], want[1][0]), abs=1e-6)
    back = wgs84_from_gcj02([lon], [lat])
    assert (back[0][0], back[1][0]) == pytest.approx((117.2101, 28.29), abs=1e-6)
    assert data["crs_name"] == "GCJ-02"
    assert "autonavi.com" in page.text  # the tile layer reaches the map script
    assert "https://*.is.autonavi.com" in page.headers["content-security-policy"]


def test_without_a_basemap_the_pages_load_nothing_from_elsewhere(client: TestClient) -> None:
    _sign_in(client, "worker")
    page = client.get(f"/cells/{CELL_A1}")
    csp = page.headers["content-security-policy"]
    assert "img-src 'self' data: blob:;" in csp and "https:" not in csp
    assert "&#34;tiles&#34;: []" in page.text or '"tiles": []' in page.text
    assert not re.search(r'(src|href)="(https?:)?//', page.text)


def test_a_tianditu_basemap_without_a_key_is_refused_at_start(world: World) -> None:
    with pytest.raises(InvalidValueError, match="tianditu_key"):
        create_app(settings_for(world.store, basemap="tianditu_vec"))


def test_the_service_worker_and_manifest(client: TestClient) -> None:
    worker = client.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    assert "__VERSION__" not in worker.text and re.search(r'"[0-9a-f]{12}"', worker.text)
    manifest = client.get("/manifest.webmanifest")
    assert manifest.headers["content-type"].startswith("application/manifest+json")
    assert manifest.json()["start_url"] == "/cells" and manifest.json()["name"] == "网格化党建覆盖"
    for asset in ("/static/pages/app.js", "/static/vendor/leaflet/leaflet.js"):
        assert client.get(asset).status_code == 200
    assert "BSD" in client.get("/static/vendor/leaflet/LICENSE").text


def _visit(client: TestClient, world: World, **fields: str) -> dict[str, object]:
    data = {"unit_id": str(world.unit_a1), "note": "走访", "csrf": _csrf(client), **fields}
    answer = client.post(f"/cells/{CELL_A1}/visits", data=data, headers=JSON)
    return {"status": answer.status_code, **answer.json()}


def test_a_queued_visit_sent_twice_is_stored_once_at_its_time(
    client: TestClient, world: World
) -> None:
    _sign_in(client, "worker")
    recorded = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).replace(microsecond=0)
    fields = {"key": "3f1c-offline-1", "visited_at": recorded.isoformat().replace("+00:00", "Z")}
    first = _visit(client, world, note="无信号村口记录", **fields)
    again = _visit(client, world, note="无信号村口记录", **fields)
    assert (first["status"], first["created"]) == (201, True)
    assert (again["status"], again["created"]) == (200, False)
    assert again["visit_id"] == first["visit_id"]
    visits = client.get(f"/cells/{CELL_A1}").text
    assert visits.count("无信号村口记录") == 1
    beijing = (recorded + dt.timedelta(hours=8)).strftime("%Y-%m-%d %H:%M")
    assert beijing in visits  # the time it was recorded, not the time it arrived
    future = _visit(client, world, key="k-future", visited_at="2999-01-01T00:00:00Z")
    assert future["status"] == 201  # a phone clock far off: the server's time instead


def test_a_visit_reports_a_change_and_where_it_was(client: TestClient, world: World) -> None:
    _sign_in(client, "worker")
    gcj = gcj02_from_wgs84([117.2101], [28.29])
    moved = _visit(
        client, world, key="m1", change_kind="unit_moved",
        lon=str(gcj[0][0]), lat=str(gcj[1][0]), crs="gcj02", accuracy="12.34",
    )  # fmt: skip
    assert moved["status"] == 201
    members = _visit(client, world, key="m2", change_kind="members", party_members="7")
    station = _visit(
        client, world, key="m3", change_kind="station_active", station_id=str(world.station)
    )
    assert members["status"] == station["status"] == 201
    _sign_in(client, "admin")
    changes = client.get("/api/changes").json()["items"]
    payloads = {c["kind"]: c["payload"] for c in changes}
    assert payloads["members"] == {"party_members": 7}
    assert payloads["station_active"] == {"station_id": world.station}
    assert payloads["unit_moved"] == pytest.approx({"lon": 117.2101, "lat": 28.29}, abs=1e-6)
    visits = client.get("/api/visits").json()["items"]
    located = [v for v in visits if v["lon"] is not None]
    assert len(located) == 1  # stored in WGS-84, converted from the phone's GCJ-02
    assert (located[0]["lon"], located[0]["lat"]) == pytest.approx((117.2101, 28.29), abs=1e-6)
    # with the system the phone gave it in, and the accuracy it reported
    assert (located[0]["location_crs"], located[0]["accuracy_m"]) == ("gcj02", 12.3)
    unlocated = [v for v in visits if v["lon"] is None]
    assert {(v["location_crs"], v["accuracy_m"]) for v in unlocated} == {(None, None)}


def test_an_incomplete_change_comes_back_with_the_reason(client: TestClient, world: World) -> None:
    _sign_in(client, "worker")
    for fields in ({"change_kind": "members"}, {"change_kind": "unit_moved"},
                   {"change_kind": "invented"}, {"lon": "nan", "lat": "1"}):  # fmt: skip
        answer = _visit(client, world, key=f"bad-{len(str(fields))}", **fields)
        assert answer["status"] == 400, fields
    data = {"unit_id": str(world.unit_a1), "note": "走访", "csrf": _csrf(client)}
    page = client.post(f"/cells/{CELL_A1}/visits", data=data | {"change_kind": "members"})
    assert page.status_code == 200 and "报告的变化不完整" in page.text
    assert client.get("/api/visits").json()["total"] == 0


def test_my_cells_leaves_room_for_open_tasks(client: TestClient) -> None:
    _sign_in(client, "worker")
    page = client.get("/cells").text
    assert 'id="queue"' in page and 'href="/manifest.webmanifest"' in page
    assert '<script src="/static/pages/app.js" defer></script>' in page
    assert "leaflet" not in page  # the map library loads on a cell page only


def test_every_change_kind_and_unit_status_has_words() -> None:
    from gridmap.query import CHANGE_KINDS
    from gridmap.web.i18n import MESSAGES

    keys = [f"change.{k}" for k in CHANGE_KINDS]
    keys += [f"unitstatus.{s}" for s in ("covered", "partial", "blind")]
    assert [k for k in keys if k not in MESSAGES] == []
