"""The distributed engine gives the single-process run's results, on both stores.

A real ``LocalCluster`` (2 worker processes, 1 GiB each) runs every case. The
two-county store is built so that its results depend on the halo: 边缘单位 in
county 360681 is 311 m from its own county's community station (reach 300 m)
and covered only by a village station (reach 2 km) 1.4 km across the border in
county 360682, along a road that crosses it; 远端单位's nearest station is 3.6 km
away, farther than any reach (the nearest station is certified, not assumed).
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from conftest import TOWN_LAT, east, wkb
from shapely.geometry import LineString, MultiPolygon, Point, box
from sqlalchemy import select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.coverage.inputs import CoverageInputs
from gridmap.coverage.reach import ReachOptions, service_reach
from gridmap.coverage.result import CoverageResult
from gridmap.coverage.run import run_coverage
from gridmap.demo import run_demo
from gridmap.grid import CellIndex
from gridmap.scale import ClusterOptions, connect, distributed_measure, halo_m
from gridmap.scale.exchange import Manifest, read_near
from gridmap.scale.kernel import measure_to_parquet
from gridmap.scale.store_read import PASSWORD_VARIABLE
from gridmap.scale.synthetic import Province, write_county, write_manifest
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

pytestmark = pytest.mark.slow

AS_OF = dt.date(2026, 11, 1)
RULES = CoverageSettings()
MODES = (ReachOptions(), ReachOptions(mode="network"), ReachOptions(mode="network", minutes=8))


def north(metres: float) -> float:
    return TOWN_LAT + metres / 110_900.0


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    # the workers find the PostGIS test store's password where gridmap puts it for them
    env = {PASSWORD_VARIABLE: os.environ.get("GRIDMAP_TEST_POSTGIS_URL", "")}
    with connect(ClusterOptions(workers=2, memory_limit="1GiB", worker_env=env)) as c:
        yield c


@pytest.fixture
def border(store: Store) -> Store:
    """Two counties side by side (x 0-5 km and 5-10 km), one road through both."""
    with store.session() as s:
        areas = [
            models.AdminArea(code=code, name=code, level="village", source="t", source_id=code)
            for code in ("360681001001", "360682001001")
        ]
        s.add_all(areas)
        s.flush()
        cells = [
            models.GridCell(
                code=f"C{i}",
                area_id=area.id,
                geom=wkb(MultiPolygon([box(east(x0), north(0), east(x0 + 5000), north(1000))])),
                source="t",
                source_id=f"C{i}",
            )
            for i, (area, x0) in enumerate(zip(areas, (0, 5000), strict=True))
        ]
        s.add_all(cells)
        s.flush()
        units = {"边缘单位": (4900, 480, 0), "远端单位": (1000, 500, 0), "东部单位": (9000, 500, 1)}
        s.add_all(
            models.Unit(
                kind="firm",
                name=name,
                population=100,
                cell_id=cells[c].id,
                geom=wkb(Point(east(x), north(y))),
                source="t",
                source_id=name,
            )
            for name, (x, y, c) in units.items()
        )
        stations = {
            "社区站": (4590, 500, "community", AS_OF),
            "村站": (6300, 510, "village", AS_OF),
            "闲站": (9800, 500, "village", None),
        }
        s.add_all(
            models.Station(
                tier=tier,
                name=name,
                last_activity=(AS_OF - dt.timedelta(days=10)) if when else dt.date(2020, 1, 1),
                geom=wkb(Point(east(x), north(y))),
                source="t",
                source_id=name,
            )
            for name, (x, y, tier, when) in stations.items()
        )
        line = LineString([(east(x), north(500)) for x in range(0, 10_001, 500)])
        s.add(models.Road(highway="residential", geom=wkb(line), source="t", source_id="R1"))
    return store


def _frame(result: CoverageResult) -> pd.DataFrame:
    return pd.DataFrame(result.units.drop(columns="geometry"))


def _same(a: CoverageResult, b: CoverageResult) -> None:
    pd.testing.assert_frame_equal(_frame(a), _frame(b))
    pd.testing.assert_frame_equal(a.areas, b.areas)
    pd.testing.assert_frame_equal(
        pd.DataFrame(a.cells.drop(columns="geometry")),
        pd.DataFrame(b.cells.drop(columns="geometry")),
    )
    assert a.totals == b.totals
    assert list(a.service_areas["station_id"]) == list(b.service_areas["station_id"])
    metric = a.service_areas.estimate_utm_crs()
    gap = a.service_areas.to_crs(metric).symmetric_difference(b.service_areas.to_crs(metric))
    assert float(gap.area.max() if len(gap) else 0.0) < 1e-3  # m²: the same areas


def _stored(store: Store, run_id: int) -> pd.DataFrame:
    table = table_of(models.CoverageUnit)
    with store.engine.connect() as conn:
        rows = conn.execute(select(table).where(table.c.run_id == run_id)).mappings().all()
    frame = pd.DataFrame(rows).drop(columns=["run_id", "id"], errors="ignore")
    return frame.sort_values("unit_id").reset_index(drop=True)


@pytest.mark.parametrize("options", MODES, ids=["radius", "network", "network-minutes"])
def test_dask_run_is_the_single_process_run_across_a_county_edge(
    border: Store, client: Any, options: ReachOptions
) -> None:
    local = run_coverage(border, RULES, options, as_of=AS_OF)
    measure = distributed_measure(client, options, RULES)
    dask = run_coverage(border, RULES, options, as_of=AS_OF, measure=measure)
    _same(local, dask)
    pd.testing.assert_frame_equal(_stored(border, local.run_id), _stored(border, dask.run_id))
    units = _frame(dask).set_index("name")
    stations = dict(zip(dask.stations["name"], dask.stations.index, strict=True))
    edge = units.loc["边缘单位"]
    assert edge["nearest_station_id"] == stations["社区站"]
    if options.minutes is None:  # 8 minutes on foot reach neither
        assert bool(edge["service_covered"])  # by the station across the edge
        assert edge["covering_station_id"] == stations["村站"]
    assert units.loc["远端单位", "nearest_station_id"] == stations["社区站"]
    assert units.loc["远端单位", "nearest_station_m"] > halo_m(options, RULES)
    assert units.loc["东部单位", "nearest_station_id"] == stations["闲站"]  # idle, yet nearest


@pytest.mark.parametrize("options", MODES[:2], ids=["radius", "network"])
def test_without_the_halo_the_edge_unit_is_wrong(
    border: Store, client: Any, options: ReachOptions
) -> None:
    """The case above needs the halo: with none, the partitioned run differs."""
    measure = distributed_measure(client, options, RULES, halo=0.0)
    broken = _frame(run_coverage(border, RULES, options, as_of=AS_OF, measure=measure, save=False))
    units = broken.set_index("name")
    assert not bool(units.loc["边缘单位", "service_covered"])


@pytest.mark.parametrize("options", MODES[:2], ids=["radius", "network"])
def test_dask_run_on_the_demo_is_the_single_process_run(
    store: Store, tmp_path: Path, client: Any, options: ReachOptions
) -> None:
    run_demo(store, out_dir=tmp_path)
    local = run_coverage(store, RULES, options)
    measure = distributed_measure(client, options, RULES, split=3)  # 3 partitions, 1 county
    dask = run_coverage(store, RULES, options, measure=measure)
    _same(local, dask)
    pd.testing.assert_frame_equal(_stored(store, local.run_id), _stored(store, dask.run_id))
    assert local.totals["service_covered"] > 0


def _cli(store: Store, *args: str) -> tuple[int, str]:
    env = {"GRIDMAP_DATABASE_URL": store.engine.url.render_as_string(False), "COLUMNS": "200"}
    result = CliRunner().invoke(app, ["coverage", "run", "--as-of", str(AS_OF), *args], env=env)
    return result.exit_code, result.output


def test_cli_engine_dask_stores_the_run_like_the_local_engine(border: Store) -> None:
    code, output = _cli(border, "--mode", "network", "--engine", "dask", "--workers", "1")
    assert code == 0, output
    code, local_output = _cli(border, "--mode", "network")
    assert code == 0, local_output
    assert output == local_output.replace("run 2", "run 1")
    pd.testing.assert_frame_equal(_stored(border, 1), _stored(border, 2))


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_cli_unreachable_scheduler_is_one_line_exit_2(border: Store) -> None:
    address = f"tcp://127.0.0.1:{_closed_port()}"
    code, output = _cli(border, "--engine", "dask", "--scheduler", address)
    assert code == 2
    lines = output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in output
    assert f"cannot reach the dask scheduler at {address}" in lines[0]
    code, output = _cli(border, "--scheduler", address)
    assert code == 2 and "--scheduler needs --engine dask" in output


def _single_process(folder: Path, options: ReachOptions) -> tuple[pd.DataFrame, pd.Series]:
    """The whole synthetic province through the single-process kernels, in one process."""
    manifest = Manifest.read(folder)
    extent = manifest.extent()
    assert extent is not None
    layers = {layer: read_near(folder, manifest, layer, extent) for layer in manifest.boxes}
    units = layers["units"]
    stations = layers["stations"]
    empty = gpd.GeoDataFrame(geometry=[], crs="EPSG:4326")
    inputs = CoverageInputs(
        units=units,
        orgs=empty,
        org_units=pd.DataFrame(),
        instructor_units=pd.DataFrame(),
        stations=stations,
        cells=empty,
        areas=empty,
        roads=layers["roads"],
        workers=pd.DataFrame(),
        worker_cells=pd.DataFrame(),
        metric_crs=manifest.crs,
        as_of=AS_OF,
    )
    counting = stations[stations["counting"].astype(bool)]
    reach = service_reach(inputs, counting, options, RULES, every_station=stations).units
    cells = layers["cells"].to_crs(manifest.crs)
    found = CellIndex(cells).locate_points(units.geometry.to_crs(manifest.crs))
    return reach, pd.Series(cells.index.to_numpy()[found], index=units.index)


@pytest.mark.parametrize("options", MODES, ids=["radius", "network", "network-minutes"])
def test_synthetic_province_partitions_match_one_process(
    tmp_path: Path, client: Any, options: ReachOptions
) -> None:
    """4 counties of 3 km, each written in 2 strips: 8 partitions, roads across edges."""
    p = Province(counties=4, units=6000, cells=400, stations=40, county_km=3.0, road_km=0.25)
    folder, out = tmp_path / "province", tmp_path / "results"
    parts = client.gather(client.map(write_county, [folder] * 4, [p] * 4, range(4), split=2))
    manifest = write_manifest(folder, p, parts)
    assert len(manifest.partitions) == 8
    stats = client.gather(
        client.map(
            measure_to_parquet,
            [folder] * 8,
            manifest.partitions,
            options=options,
            rules=RULES,
            out=out,
        )
    )
    assert sum(s["units"] for s in stats) == 6000
    dask = pd.concat(pd.read_parquet(out / f"{k}.parquet") for k in manifest.partitions)
    reach, cells = _single_process(folder, options)
    dask = dask.sort_index()
    dask.index.name = None
    pd.testing.assert_series_equal(dask.pop("cell_id"), cells, check_names=False)
    dask = dask.drop(columns="population")
    pd.testing.assert_frame_equal(dask, reach.sort_index())
    assert 0 < int(dask["service_covered"].sum()) < 6000
    assert np.isfinite(dask["nearest_station_m"]).all()
