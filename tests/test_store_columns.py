"""Bulk column reads and writes of coverage runs, on both stores.

Runs read their records and write their per-unit rows a column at a time through
the driver's cursor (:mod:`gridmap.store._columns`); what they read and store must
be what SQLAlchemy's rows would give: the same values, types and NULLs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import TOWN_AS_OF, TOWN_LAT, east, wkb
from shapely.geometry import LineString, Point, Polygon
from sqlalchemy import select

from gridmap.coverage import ReachOptions, read_inputs
from gridmap.coverage.outputs import stored_result
from gridmap.coverage.run import run_coverage
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of
from gridmap.store._columns import fetch_columns, geometries_from_wkb

_MODELS = (models.Unit, models.PartyOrg, models.Station, models.GridCell, models.OrgUnit)


def test_fetched_columns_hold_what_sqlalchemy_rows_hold(town: Store) -> None:
    """Dates, datetimes, JSON, booleans and NULLs come out as SQLAlchemy converts them."""
    for model in _MODELS:
        table = table_of(model)
        columns = [c for c in table.columns if c.name != "geom"]
        query = select(*columns).order_by(*table.primary_key.columns)
        with town.engine.connect() as conn:
            rows = conn.execute(query).all()
            got = fetch_columns(conn, query)
        expected = [list(column) for column in zip(*rows, strict=True)]
        assert got == expected, model.__name__
        types = [[type(v) for v in column] for column in got]
        assert types == [[type(v) for v in column] for column in expected], model.__name__
    orgs = table_of(models.PartyOrg)
    with town.engine.connect() as conn:
        established, last = fetch_columns(conn, select(orgs.c.established, orgs.c.last_activity))
    assert None in established and all(v is not None for v in last)  # NULL stays None


def test_a_stored_run_keeps_every_float_exact_and_every_null(town: Store) -> None:
    run = run_coverage(town, CoverageSettings(), ReachOptions(), as_of=TOWN_AS_OF)
    table = table_of(models.CoverageUnit)
    with town.engine.connect() as conn:
        rows = conn.execute(
            select(table).where(table.c.run_id == run.run_id).order_by(table.c.unit_id)
        ).all()
    units = run.units.sort_values("unit_id")
    assert len(rows) == len(units) == 6
    for row, (_, unit) in zip(rows, units.iterrows(), strict=True):
        assert row.households is None  # the town's units give no households
        assert row.population == unit["population"] and isinstance(row.population, int)
        assert isinstance(row.must_have_branch, bool)
        for column in ("nearest_station_m", "nearest_counting_station_m", "lon", "lat"):
            value = float(unit[column])
            assert row._mapping[column] == (value if math.isfinite(value) else None), column
    back = stored_result(town, run.run_id)
    assert back is not None
    again = back.units.sort_values("unit_id")
    for column in ("nearest_station_m", "nearest_counting_station_m", "lon", "lat"):
        assert again[column].tolist() == units[column].astype(float).tolist(), column
    assert again["households"].dtype == "Int64" and again["households"].isna().all()


def test_radius_runs_read_no_roads_network_inputs_do(town: Store) -> None:
    with town.session() as s:
        road = LineString([(east(0), TOWN_LAT), (east(30_000), TOWN_LAT)])
        s.add(models.Road(highway="primary", geom=wkb(road), source="t", source_id="R1"))
    full = read_inputs(town, as_of=TOWN_AS_OF)
    without = read_inputs(town, as_of=TOWN_AS_OF, roads=False)
    assert len(full.roads) == 1
    assert without.roads.empty and list(without.roads.columns) == list(full.roads.columns)
    pd.testing.assert_frame_equal(pd.DataFrame(without.units), pd.DataFrame(full.units))
    run = run_coverage(town, CoverageSettings(), ReachOptions(), as_of=TOWN_AS_OF, save=False)
    assert run.inputs.roads.empty


def test_point_columns_decode_to_the_doubles_their_wkb_holds() -> None:
    """The fast path for 2-D points gives what ``shapely.from_wkb`` gives, else steps aside."""
    rng = np.random.default_rng(16)
    points = shapely.points(rng.uniform(-180, 180, (1000, 2)))
    for order in (0, 1):  # big- and little-endian WKB
        blobs = shapely.to_wkb(points, byte_order=order).tolist()
        decoded = geometries_from_wkb(blobs)
        assert (shapely.to_wkb(decoded) == shapely.to_wkb(points)).all()
    mixed = [Point(1, 2), None, Polygon([(0, 0), (1, 0), (1, 1)]), Point(), Point(1, 2, 3)]
    blobs = [None if g is None else shapely.to_wkb(g) for g in mixed]
    decoded = geometries_from_wkb([*blobs, memoryview(blobs[0])])
    assert decoded[1] is None and decoded[3].is_empty and decoded[4].has_z
    assert all(
        a.equals(b) for a, b in zip(decoded[[0, 2, 5]], [mixed[0], mixed[2], mixed[0]], strict=True)
    )


def test_column_inserts_share_the_transaction_and_raise_integrity_errors(town: Store) -> None:
    """The rows go through the connection's own cursor: a failure rolls them back with the rest."""
    from sqlalchemy import func, insert
    from sqlalchemy.exc import IntegrityError

    from gridmap.store._columns import insert_columns

    runs, table = table_of(models.CoverageRun), table_of(models.CoverageUnit)
    rows = {
        "run_id": [None, None],
        "unit_id": [1, 1],  # the same key twice
        "source": ["s", "s"],
        "source_id": ["a", "b"],
        "org_status": ["none", "none"],
        "must_have_branch": [False, True],
        "service_covered": [True, False],
    }
    with pytest.raises(IntegrityError), town.engine.begin() as conn:
        run_id = conn.execute(
            insert(runs)
            .values(as_of=TOWN_AS_OF, params={}, summary={}, areas=[])
            .returning(runs.c.id)
        ).scalar_one()
        insert_columns(conn, table, rows | {"run_id": [run_id, run_id]})
    with town.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(runs)).scalar() == 0
        assert conn.execute(select(func.count()).select_from(table)).scalar() == 0
