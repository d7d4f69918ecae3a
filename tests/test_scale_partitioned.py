"""What the workers do instead of the client: read units from the store, count per county.

A real ``LocalCluster`` (2 worker processes) and both stores. The demo's units are
read by the workers county by county in chunks of a few rows (the client only
counts them), and the run made from them is the single-process run; the roll-up
summed from per-partition counts is the roll-up of all units at once, and the blind
zones merged from per-partition pieces are the run's zones.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pytest
from distributed.diagnostics.plugin import SchedulerPlugin
from shapely.geometry import box
from sqlalchemy import event, make_url
from test_scale import _same, _stored

from gridmap.coverage.inputs import read_inputs, representative_points
from gridmap.coverage.reach import ReachOptions
from gridmap.coverage.rules import org_coverage
from gridmap.coverage.run import _org_units, run_coverage
from gridmap.coverage.zones import DEFAULT_POPULATED_RADIUS_M, blind_zones
from gridmap.demo import run_demo
from gridmap.scale import ClusterOptions, connect, distributed_measure
from gridmap.scale.blind import combine_zones, count_zone_units, merge_pieces, zone_pieces
from gridmap.scale.exchange import read_partition
from gridmap.scale.partition import county_keys, export_inputs, split_keys
from gridmap.scale.reduce import combine_rollups, partial_rollup
from gridmap.scale.store_read import (
    PASSWORD_VARIABLE,
    export_county_units,
    export_store_units,
    with_worker_password,
    without_password,
)
from gridmap.settings import CoverageSettings
from gridmap.store import Store

pytestmark = pytest.mark.slow

RULES = CoverageSettings()
CHUNK = 40


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    # the workers find the PostGIS test store's password where gridmap puts it for them
    env = {PASSWORD_VARIABLE: os.environ.get("GRIDMAP_TEST_POSTGIS_URL", "")}
    with connect(ClusterOptions(workers=2, memory_limit="1GiB", worker_env=env)) as c:
        yield c


@pytest.fixture
def demo(store: Store, tmp_path: Path) -> Store:
    run_demo(store, out_dir=tmp_path / "demo")
    return store


def _unit_statements(store: Store) -> tuple[list[str], Any]:
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if " unit" in statement:
            seen.append(" ".join(statement.split()))

    event.listen(store.engine, "before_cursor_execute", record)
    return seen, record


def test_workers_read_the_units_from_the_store_county_by_county_in_chunks(
    demo: Store, client: Any, tmp_path: Path
) -> None:
    inputs = read_inputs(demo)
    assert len(inputs.units) > 3 * CHUNK  # several chunks per county
    statements, listener = _unit_statements(demo)
    try:
        boxes = export_store_units(
            client, demo, tmp_path / "store", inputs.metric_crs, chunk_rows=CHUNK
        )
    finally:
        event.remove(demo.engine, "before_cursor_execute", listener)
    # the client asked the store how many units each county has, and read none of them
    assert len(statements) == 1 and "count(" in statements[0].lower()
    assert "group by" in statements[0].lower()

    reference = export_inputs(inputs, inputs.stations, tmp_path / "client")
    assert sorted(boxes) == reference.partitions
    for key in reference.partitions:
        want = read_partition(tmp_path / "client", "units", key)
        got = read_partition(tmp_path / "store", "units", key)
        pd.testing.assert_index_equal(got.index, want.index)
        assert (got["partition"] == want["partition"]).all()
        assert got["cell_id"].astype("Int64").equals(want["cell_id"].astype("Int64"))
        assert got.geometry.geom_equals_exact(want.geometry, tolerance=0).all()
        np.testing.assert_allclose(boxes[key], reference.boxes["units"][key], rtol=0, atol=1e-6)
        files = sorted((tmp_path / "store" / "units").glob(f"{key}*/part-*.parquet"))
        assert files and all(len(pd.read_parquet(f)) <= CHUNK for f in files)

    # a reused exchange folder (--exchange): the chunks of the earlier run are gone
    export_store_units(client, demo, tmp_path / "store", inputs.metric_crs, chunk_rows=3 * CHUNK)
    for key in reference.partitions:
        got = read_partition(tmp_path / "store", "units", key)
        pd.testing.assert_index_equal(
            got.index, read_partition(tmp_path / "client", "units", key).index
        )


def test_one_county_task_holds_one_chunk_at_a_time(demo: Store, tmp_path: Path) -> None:
    inputs = read_inputs(demo)
    counties = county_keys(inputs)
    county = counties.value_counts().index[0]
    done = export_county_units(
        demo.url, county, tmp_path, inputs.metric_crs.to_string(), chunk_rows=CHUNK
    )
    n = int((counties == county).sum())
    assert done.units == n
    assert done.chunks == math.ceil(n / CHUNK) and done.largest_chunk == CHUNK
    assert len(read_partition(tmp_path, "units", county)) == n


@pytest.mark.parametrize("options", [ReachOptions(), ReachOptions(mode="network")])
def test_dask_run_on_units_the_workers_read_is_the_single_process_run(
    demo: Store, client: Any, options: ReachOptions
) -> None:
    local = run_coverage(demo, RULES, options)
    measure = distributed_measure(client, options, RULES, store=demo, chunk_rows=CHUNK)
    dask = run_coverage(demo, RULES, options, measure=measure)
    _same(local, dask)
    pd.testing.assert_frame_equal(_stored(demo, local.run_id), _stored(demo, dask.run_id))


def test_rollup_summed_from_partition_counts_is_the_whole_rollup(demo: Store) -> None:
    inputs = read_inputs(demo)
    result = run_coverage(demo, RULES, ReachOptions(), save=False)
    points = representative_points(inputs.units).to_crs(inputs.metric_crs)
    keys = split_keys(county_keys(inputs), points, 3)  # 3 partitions of one county
    idle = pd.Series(_org_units(inputs, org_coverage(inputs, RULES).orgs_idle), dtype="int64")
    owner = idle.map(keys)
    parts = [
        partial_rollup(
            result.units[keys == key], inputs.cells, inputs.areas, idle[owner == key].tolist()
        )
        for key in sorted(set(keys))
    ]
    assert len(parts) == 3
    shared = pd.concat(parts).index.value_counts()
    assert (shared > 1).sum() > 1  # areas counted in more than one partition
    combined = combine_rollups(parts, inputs.areas, unplaced_idle_orgs=int(owner.isna().sum()))
    pd.testing.assert_frame_equal(combined, result.areas)
    assert int(combined.iloc[-1]["units"]) == len(inputs.units)


def _strips(frame: gpd.GeoDataFrame, n: int) -> npt.NDArray[np.int64]:
    """A partition of ``frame`` into ``n`` strips west to east by representative point."""
    x = representative_points(frame).x.rank(method="first", pct=True).to_numpy()
    return np.minimum((x * n).astype(np.int64), n - 1)


def test_blind_zones_from_partition_pieces_are_the_whole_runs_zones(demo: Store) -> None:
    """Cells in 4 strips: zones that cross a strip edge are merged back into one."""
    result = run_coverage(demo, RULES, ReachOptions(), save=False)
    metric = result.inputs.metric_crs
    units = result.units.to_crs(metric)
    cells = result.inputs.cells.to_crs(metric)
    service = result.service_areas.geometry.to_crs(metric)
    whole = blind_zones(units, service, cells)
    assert len(whole) > 3

    uncovered = units[~units["service_covered"].astype(bool)]
    cell_part, unit_part = _strips(cells, 4), _strips(units, 4)
    pieces = []
    for part in range(4):
        own = cells[cell_part == part]
        near = box(*own.total_bounds).buffer(DEFAULT_POPULATED_RADIUS_M + 1)
        close = uncovered[uncovered.intersects(near)]
        pieces.append(zone_pieces(close, service[service.intersects(near)], own))
    zones = merge_pieces(pieces)
    assert len(zones) < sum(len(p) for p in pieces)  # some zones cross a strip edge
    uncovered_part = unit_part[~units["service_covered"].astype(bool).to_numpy()]
    counts = [count_zone_units(zones, uncovered[uncovered_part == part]) for part in range(4)]
    combined = combine_zones(zones, counts)

    plain = ["rank", "units", "households", "population", "party_members", "must_have_branch"]
    plain += ["priority", "unit_ids", "cell_codes"]
    pd.testing.assert_frame_equal(pd.DataFrame(combined[plain]), pd.DataFrame(whole[plain]))
    np.testing.assert_allclose(combined["area_m2"], whole["area_m2"], rtol=1e-9)
    gap = combined.geometry.symmetric_difference(whole.geometry, align=True).area
    assert float(gap.max()) < 1e-3  # m²: the same areas, up to rounding


def test_worker_tasks_carry_the_store_url_without_its_password(
    demo: Store, client: Any, tmp_path: Path
) -> None:
    url = demo.url
    bare = without_password(url)
    assert make_url(bare).password is None
    assert make_url(bare).database == make_url(url).database
    # the worker's environment gives the password back, for the same database only
    os.environ[PASSWORD_VARIABLE] = url
    try:
        assert with_worker_password(bare) == url
        other = make_url(bare).set(database="another")
        assert with_worker_password(other.render_as_string(hide_password=False)) != url
    finally:
        os.environ.pop(PASSWORD_VARIABLE)
    if make_url(url).password is None:
        return  # a SpatiaLite file has no password to keep out of the tasks
    seen: list[str] = []
    scheduler = client.cluster.scheduler

    class Record(SchedulerPlugin):  # type: ignore[misc]
        def transition(self, key: Any, start: str, finish: str, *a: Any, **k: Any) -> None:
            task = scheduler.tasks.get(key)
            if task is not None and task.run_spec is not None:
                spec = task.run_spec
                seen.append(repr((getattr(spec, "args", spec), getattr(spec, "kwargs", None))))

    scheduler.add_plugin(Record(), name="record-task-args")
    try:
        inputs = read_inputs(demo)
        export_store_units(client, demo, tmp_path, inputs.metric_crs)
    finally:
        scheduler.remove_plugin(name="record-task-args")
    password = make_url(url).password
    assert seen and password
    assert not any(password in s for s in seen)
