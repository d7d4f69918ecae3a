"""The department's dashboard on both stores (the small web store of web_support): the
roll-up equals the run's, drill-down to a cell, scope kept in HTML, GeoJSON and workbooks,
runs started from the page, the trend, and the cell GeoJSON of a 10k-cell grid bounded."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from typing import Any

from fastapi.testclient import TestClient
from geoalchemy2.shape import from_shape
from openpyxl import load_workbook
from shapely.geometry import MultiPolygon, box
from sqlalchemy import insert
from web_support import CELL_A1, CELL_A2, CELL_B1, TOWN_A, World, password, settings_for

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.settings import Settings
from gridmap.store import Store, models, table_of
from gridmap.web import create_app

FOREIGN = (CELL_B1, "东门企业", "东门街道")  # township B's cell, unit and name


def _sign_in(client: TestClient, username: str) -> None:
    answer = client.post("/", data={"username": username, "password": password(username)})
    assert answer.status_code == 200, answer.text


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def _row(page: str, code: str) -> dict[str, str]:
    """The cells of the roll-up row of ``code``, by their data-key."""
    found = re.search(rf'<tr class="[a-z]+" data-code="{re.escape(code)}">(.*?)</tr>', page, re.S)
    assert found is not None, f"no roll-up row {code}"
    return dict(re.findall(r'<td data-key="([a-z_]+)">([^<]*)</td>', found.group(1)))


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def test_the_rollup_is_the_runs_own(client: TestClient) -> None:
    _sign_in(client, "department")
    page = client.get("/dashboard").text
    for label in ("组织覆盖率", "工作覆盖率", "综合覆盖率", "服务覆盖率", "应建未建"):
        assert label in page
    api = client.get("/api/runs").json()["items"][0]["rates"]  # the stored roll-up row
    area = client.get(f"/api/areas/{TOWN_A}").json()
    assert api["code"] == TOWN_A and all(api[k] == v for k, v in area.items() if k in api)
    row = _row(page, TOWN_A)
    for key in ("org_rate", "own_rate", "joint_rate", "hosted_rate", "work_rate",
                "combined_rate", "service_rate", "service_population_rate"):  # fmt: skip
        assert row[key] == _pct(api[key]), key
    for key in ("units", "must_have_branch", "branch_idle", "idle_orgs"):
        assert row[key] == str(api[key]), key
    english = client.get("/dashboard?lang=en").text
    assert "Organisational coverage rate" in english and "组织覆盖率" not in english


def test_drill_down_to_the_cells_and_a_cell(client: TestClient, world: World) -> None:
    _sign_in(client, "admin")
    top = client.get("/dashboard").text
    assert 'data-code="*"' in top and 'data-code="360681"' in top
    county = client.get("/dashboard?area=360681").text
    assert f"/dashboard?area={TOWN_A}" in county.replace("&amp;", "&")
    town = client.get(f"/dashboard?area={TOWN_A}").text
    assert _row(town, CELL_A1)["units"] == "2" and _row(town, CELL_A2)["units"] == "1"
    assert town.index(f'data-code="{CELL_A1}"') < town.index(f'data-code="{CELL_A2}"')
    assert CELL_B1 not in town
    narrowed = client.get(f"/dashboard/cells.geojson?area={TOWN_A}").json()["features"]
    assert {f["properties"]["code"] for f in narrowed} == {CELL_A1, CELL_A2}
    cell = client.get(f"/dashboard?area={TOWN_A}&cell={CELL_A1}").text
    assert "<b>近的企业" not in cell  # escaped, never raw markup
    assert "&lt;b&gt;近的企业&lt;/b&gt;" in cell and 'data-unit="' in cell
    assert "王芳" in cell  # the cell's worker


def _workbook_text(body: bytes) -> str:
    book = load_workbook(io.BytesIO(body))
    return " ".join(
        str(v) for sheet in book.worksheets for row in sheet.iter_rows(values_only=True)
        for v in row if v is not None
    )  # fmt: skip


def test_a_department_never_sees_another_township(client: TestClient, world: World) -> None:
    _sign_in(client, "department")
    pages = [
        client.get("/dashboard").text,
        client.get(f"/dashboard?area={TOWN_A}&cell={CELL_A1}").text,
    ]
    for page in pages:
        assert not any(word in page for word in FOREIGN)
    for path in (
        "/dashboard?area=360681002",
        "/dashboard?area=360681",
        f"/dashboard?area={TOWN_A}&cell={CELL_B1}",
        "/dashboard/lists/must.xlsx?area=360681002",
    ):
        assert client.get(path).status_code == 404, path
    geo = client.get("/dashboard/cells.geojson").json()
    assert {f["properties"]["code"] for f in geo["features"]} == {CELL_A1, CELL_A2}
    layers = client.get("/dashboard/layers.json").text
    assert "东门" not in layers
    assert client.get("/dashboard/cells.geojson?area=360681002").status_code == 404
    assert client.get("/dashboard/layers.json?area=360681").status_code == 404
    for which in ("must", "idle", "zones"):
        body = client.get(f"/dashboard/lists/{which}.xlsx").content
        assert not any(word in _workbook_text(body) for word in FOREIGN), which
    report = _workbook_text(client.get(f"/dashboard/runs/{world.run}/report.xlsx").content)
    assert "近的企业" in report and not any(word in report for word in FOREIGN)
    offline = client.get(f"/dashboard/runs/{world.run}/map.html").text
    assert CELL_A1 in offline and CELL_B1 not in offline and "东门企业" not in offline


def test_a_worker_has_no_dashboard(client: TestClient) -> None:
    _sign_in(client, "worker")
    answer = client.get("/dashboard", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/cells"
    for path in (
        "/dashboard/cells.geojson",
        "/dashboard/lists/must.xlsx",
        "/dashboard/layers.json",
    ):
        assert client.get(path).status_code == 404


def test_the_must_list_and_its_workbook(client: TestClient, world: World) -> None:
    """Township A's firms have 4 members each: 3 or more and no branch is 应建未建."""
    _sign_in(client, "department")
    page = client.get("/dashboard").text
    listed = re.search(r'id="list-must".*?</section>', page, re.S)
    assert listed is not None
    assert listed.group(0).count("<tr data-unit=") == 3  # both A1 units and A2's firm
    book = load_workbook(io.BytesIO(client.get("/dashboard/lists/must.xlsx").content))
    rows = list(book.active.iter_rows(values_only=True))
    assert rows[0][:4] == ("名称", "类型", "网格", "网格员")
    assert sorted(r[2] for r in rows[1:]) == sorted([CELL_A1, CELL_A1, CELL_A2])
    assert {r[3] for r in rows[1:] if r[2] == CELL_A1} == {"王芳"}
    english = load_workbook(io.BytesIO(client.get("/dashboard/lists/must.xlsx?lang=en").content))
    assert next(english.active.iter_rows(values_only=True))[0] == "Name"


def test_a_name_that_looks_like_a_formula_stays_text(store: Store, world: World) -> None:
    units = table_of(models.Unit)
    with store.engine.begin() as conn:
        conn.execute(units.update().where(units.c.id == world.unit_a2).values(name="=HYPERLINK(1)"))
    run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 11, 2)
    )
    with TestClient(create_app(settings_for(store))) as client:
        _sign_in(client, "department")
        book = load_workbook(io.BytesIO(client.get("/dashboard/lists/must.xlsx").content))
    cells = [row[0] for row in book.active.iter_rows(min_row=2) if row[0].value == "=HYPERLINK(1)"]
    assert len(cells) == 1 and cells[0].data_type == "s" and cells[0].quotePrefix


def _job_status(client: TestClient, page: str) -> str:
    found = re.search(r'class="job-status">([^<]+)<', page)
    assert found is not None, "no progress line"
    return found.group(1)


def test_a_coverage_run_from_the_page_joins_the_trend(client: TestClient) -> None:
    _sign_in(client, "department")
    page = client.get("/dashboard").text
    assert 'id="trend-one"' in page and 'data-runs="1"' in page
    answer = client.post(
        "/dashboard/runs",
        data={"csrf": _csrf(page), "mode": "radius", "reach": "800", "unit": "meters",
              "as_of": "2026-11-20", "label": "复查"},
        follow_redirects=False,
    )  # fmt: skip
    assert answer.status_code == 303 and "job=" in answer.headers["location"]
    after = client.get(answer.headers["location"]).text  # the test client ran the job
    assert _job_status(client, after) == "已完成"
    assert 'data-runs="2"' in after and 'id="trend-one"' not in after
    runs = client.get("/api/runs").json()["items"]
    assert runs[0]["label"] == "复查" and runs[0]["params"]["meters"] == 800
    assert str(runs[0]["as_of"]) == "2026-11-20"


def test_bad_form_values_come_back_as_messages(client: TestClient) -> None:
    _sign_in(client, "department")
    csrf = _csrf(client.get("/dashboard").text)
    for data, message in (
        ({"reach": "-5"}, "服务半径须大于 0"),
        ({"as_of": "2026-13-45"}, "YYYY-MM-DD"),
        ({"mode": "radius", "profile": "drive", "reach": "10", "unit": "minutes"}, "不匹配"),
    ):
        page = client.post("/dashboard/runs", data={"csrf": csrf, **data}).text
        assert message in page, data
    assert "1 到 200" in client.post("/dashboard/siting", data={"csrf": csrf, "k": "0"}).text
    refused = client.post("/dashboard/runs", data={"csrf": "forged"})
    assert refused.status_code == 403


def test_a_planner_reads_but_does_not_run(client: TestClient) -> None:
    _sign_in(client, "planner")
    page = client.get("/dashboard").text
    assert 'id="run-form"' not in page and "report.xlsx" in page
    assert client.post("/dashboard/runs", data={"csrf": _csrf(page)}).status_code == 403


def test_a_siting_run_from_the_page(client: TestClient, store: Store) -> None:
    _sign_in(client, "department")
    csrf = _csrf(client.get("/dashboard").text)
    answer = client.post("/dashboard/siting", data={"csrf": csrf, "k": "1", "weight": "units"})
    assert answer.status_code == 200
    status = _job_status(client, answer.text)
    sites = table_of(models.SitingRun)
    with store.engine.connect() as conn:
        stored = conn.execute(sites.select()).all()
    assert status == "已完成" and len(stored) == 1 and stored[0].params["k"] == 1


def _grid(store: Store, side: int = 100) -> None:
    """A side x side grid of 300 m cells in one village, with a run holding every cell."""
    areas, cells = table_of(models.AdminArea), table_of(models.GridCell)
    runs, results = table_of(models.CoverageRun), table_of(models.CoverageCell)
    step = 0.003
    with store.engine.begin() as conn:
        area = conn.execute(
            insert(areas).values(code="360681009001", name="大村", level="village",
                                 source="t", source_id="big").returning(areas.c.id)
        ).scalar_one()  # fmt: skip
        rows = [
            {"code": f"360681009001{i:05d}", "name": None, "area_id": area, "source": "t",
             "source_id": f"g{i}", "geom": from_shape(MultiPolygon([box(
                 116.0 + (i % side) * step, 27.0 + (i // side) * step,
                 116.0 + (i % side + 1) * step, 27.0 + (i // side + 1) * step)]), 4326)}
            for i in range(side * side)
        ]  # fmt: skip
        conn.execute(insert(cells), rows)
        run = conn.execute(
            insert(runs).values(as_of=dt.date(2026, 11, 3), params={}, summary={},
                                areas=[]).returning(runs.c.id)
        ).scalar_one()  # fmt: skip
        conn.execute(
            insert(results),
            [{"run_id": run, "code": r["code"], "area_code": "360681009001", "status": "blind",
              "units_total": 0, "units_covered": 0, "org_covered": 0, "must_have_branch": 0,
              "population_total": 0, "population_covered": 0} for r in rows],
        )  # fmt: skip


def _geo(client: TestClient, query: str) -> tuple[dict[str, Any], int]:
    answer = client.get(f"/dashboard/cells.geojson?{query}")
    assert answer.status_code == 200
    return json.loads(answer.content), len(answer.content)


def test_ten_thousand_cells_stay_light(client: TestClient, store: Store) -> None:
    _grid(store)
    _sign_in(client, "admin")  # the newest run has no roll-up: the page says so
    assert "最新分析批次中没有您所在区域的数据" in client.get("/dashboard").text
    whole, size = _geo(client, "zoom=8&bbox=115.9,26.9,116.4,27.4")
    assert whole["total"] == 10_000 and whole["truncated"]
    print(f"10k cells: zoom 8 whole grid {size} bytes")
    assert len(whole["features"]) == 2500 and size < 600_000, size
    view, small = _geo(client, "zoom=16&bbox=116.0,27.0,116.0299,27.0299")
    assert view["total"] == 100 and not view["truncated"] and small < 60_000  # 10 x 10 touched
    ring = view["features"][0]["geometry"]["coordinates"][0]
    assert len(ring) == 5  # a square stays a square
    _sign_in(client, "department")  # township A: none of the big village's cells
    assert _geo(client, "zoom=8&bbox=115.9,26.9,116.4,27.4")[0]["total"] == 0


def test_lists_are_the_runs_own_until_the_next_run(client: TestClient, store: Store) -> None:
    """Like the roll-up, the idle list is the stored run's; a new run brings the change."""
    _sign_in(client, "department")
    assert 'data-what="station"' not in client.get("/dashboard").text
    stations = table_of(models.Station)
    with store.engine.begin() as conn:  # no activity for a year before the run's date
        conn.execute(
            stations.update().values(
                last_activity=dt.date(2025, 10, 1), updated_at=dt.datetime(2026, 11, 5)
            )
        )
    assert 'data-what="station"' not in client.get("/dashboard").text
    run_coverage(
        store, Settings(_env_file=None).coverage, ReachOptions(), as_of=dt.date(2026, 11, 1)
    )
    page = client.get("/dashboard").text
    assert 'data-what="station"' in page and "站" in page
