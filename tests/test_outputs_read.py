"""Reading a stored run back in bulk gives what SQLAlchemy's rows give, on both stores.

:func:`gridmap.coverage.outputs.stored_result` reads the run's units column by column
from the driver's values (:func:`gridmap.store._columns.fetch_arrays`), typed at once
per column, and only the columns a caller names. Each test holds that fast path
against a reference built from SQLAlchemy ``Row`` objects the way runs were read
before: the same values, dtypes, NULLs and order.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import openpyxl
import pandas as pd
import pytest
import shapely
from sqlalchemy import select, update

from gridmap.cli.maps import MAP_UNIT_COLUMNS
from gridmap.coverage.outputs import stored_result
from gridmap.demo import DemoResult, run_demo
from gridmap.domain import UnitKind
from gridmap.maps._layers import EncodeOptions, layer_specs
from gridmap.maps.from_coverage import map_data
from gridmap.report import UNIT_COLUMNS, write_report
from gridmap.siting.stored import latest_recommendation
from gridmap.store import Store, models, table_of
from gridmap.store._columns import fetch_arrays

pytestmark = pytest.mark.slow

_INTS = (
    "cell_id",
    "households",
    "population",
    "party_members",
    "covering_org_id",
    "nearest_station_id",
    "covering_station_id",
)
_FLOATS = ("lon", "lat", "snap_m", "nearest_station_m", "nearest_counting_station_m")
_FLAGS = ("must_have_branch", "branch_idle", "service_covered", "far_from_road")
_UNIT = (
    "unit_id",
    "source",
    "source_id",
    "name",
    "kind",
    "cell_id",
    "cell_code",
    "lon",
    "lat",
    "households",
    "population",
    "party_members",
    "org_status",
    "must_have_branch",
    "branch_idle",
    "covering_org_id",
    "service_covered",
    "nearest_station_id",
    "nearest_station_m",
    "nearest_counting_station_m",
    "covering_station_id",
    "snap_m",
    "far_from_road",
)


@pytest.fixture
def demo(store: Store) -> DemoResult:
    return run_demo(store)


def _reference_units(store: Store, run_id: int) -> gpd.GeoDataFrame:
    """The run's units from SQLAlchemy rows, typed value by value (the old reader)."""
    table = table_of(models.CoverageUnit)
    query = select(table).where(table.c.run_id == run_id).order_by(table.c.unit_id)
    with store.engine.connect() as conn:
        rows = conn.execute(query).mappings().all()
    frame: dict[str, Any] = {}
    for column in _UNIT:
        values = [row[column] for row in rows]
        if column in _INTS:
            frame[column] = pd.array(values, dtype="Int64")
        elif column in _FLOATS:
            floats = np.array([np.nan if v is None else v for v in values], dtype=float)
            if column.startswith("nearest"):
                floats[np.isnan(floats)] = np.inf
            frame[column] = floats
        elif column in _FLAGS:
            frame[column] = np.array([bool(v) for v in values], dtype=bool)
        else:
            frame[column] = pd.Series(values, dtype=None if values else object)
    frame["org_status"] = frame["org_status"].astype(object)
    units = pd.DataFrame(frame)
    units.index = pd.Index(np.array(frame["unit_id"], dtype=np.int64))
    points = shapely.points([r["point_lon"] for r in rows], [r["point_lat"] for r in rows])
    return gpd.GeoDataFrame(units, geometry=points, crs="EPSG:4326")


def _same_frames(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    if isinstance(expected, gpd.GeoDataFrame):
        assert isinstance(got, gpd.GeoDataFrame) and got.crs == expected.crs
        a, b = got.geometry.to_numpy(), expected.geometry.to_numpy()
        assert shapely.to_wkb(a).tolist() == shapely.to_wkb(b).tolist()
        got, expected = pd.DataFrame(got).iloc[:, :-1], pd.DataFrame(expected).iloc[:, :-1]
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_a_stored_runs_units_are_what_sqlalchemy_rows_give(store: Store, demo: DemoResult) -> None:
    run_id = demo.coverage.run_id
    assert run_id is not None
    table = table_of(models.CoverageUnit)
    with store.engine.begin() as conn:  # as a run stored before these columns existed
        first = select(table.c.unit_id).order_by(table.c.unit_id).limit(7).scalar_subquery()
        nulls = dict.fromkeys(("branch_idle", "far_from_road", "snap_m", "covering_org_id"))
        conn.execute(update(table).where(table.c.unit_id.in_(first)).values(**nulls))
    result = stored_result(store, run_id)
    assert result is not None
    expected = _reference_units(store, run_id)
    assert len(expected) > 100 and expected["households"].isna().any()  # NULLs read back
    assert expected["covering_org_id"].isna().sum() >= 7 and expected["snap_m"].isna().any()
    assert expected["nearest_station_m"].notna().all()
    _same_frames(result.units, expected)
    # the cells' counts by kind: what pd.crosstab(cell_id, kind) counts
    kinds = pd.crosstab(expected["cell_id"], expected["kind"])
    for kind in UnitKind:
        counted = kinds.get(kind.value, pd.Series(dtype=int))
        want = counted.reindex(result.cells.index, fill_value=0).astype(int)
        assert result.cells[f"units_{kind}"].tolist() == want.tolist(), kind
    assert result.cells[[f"units_{k}" for k in UnitKind]].to_numpy().sum() == len(expected)


def test_the_units_read_by_column_name_are_those_of_the_whole_run(
    store: Store, demo: DemoResult
) -> None:
    whole = stored_result(store)
    some = stored_result(store, unit_columns=["name", "service_covered"])
    assert whole is not None and some is not None
    # the index, and what the cells' counts need, are always read; no points unless asked
    always = ["unit_id", "name", "kind", "cell_id"]
    assert list(some.units.columns) == [*always, "service_covered", "geometry"]
    assert some.units.geometry.isna().all()
    kept = [c for c in some.units.columns if c != "geometry"]
    pd.testing.assert_frame_equal(
        pd.DataFrame(some.units[kept]), pd.DataFrame(whole.units[kept]), check_exact=True
    )
    _same_frames(some.cells, whole.cells)
    for name in ("org_units", "instructor_units", "worker_cells", "workers"):
        pd.testing.assert_frame_equal(getattr(some.inputs, name), getattr(whole.inputs, name))


_LINKS = {
    "org_units": models.OrgUnit,
    "instructor_units": models.InstructorUnit,
    "worker_cells": models.WorkerCell,
}


def _same_links(store: Store) -> list[int]:
    """Each link table of the stored run against SQLAlchemy's rows; their lengths."""
    result = stored_result(store)
    assert result is not None
    for name, model in _LINKS.items():
        table = table_of(model)
        with store.engine.connect() as conn:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).mappings()
            expected = pd.DataFrame(rows.all(), columns=[c.name for c in table.columns])
        pd.testing.assert_frame_equal(getattr(result.inputs, name), expected, obj=name)
    return [len(getattr(result.inputs, name)) for name in _LINKS]


def test_link_tables_read_in_bulk_are_the_rows_sqlalchemy_gives(
    store: Store, demo: DemoResult
) -> None:
    assert min(_same_links(store)) > 0


def test_empty_link_tables_read_back_as_sqlalchemy_rows_give_them(town: Store) -> None:
    from conftest import TOWN_AS_OF

    from gridmap.coverage._options import ReachOptions
    from gridmap.coverage.run import run_coverage
    from gridmap.settings import CoverageSettings

    run_coverage(town, CoverageSettings(), ReachOptions(), as_of=TOWN_AS_OF)
    assert 0 in _same_links(town)


def _cells(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True)
    return {name: list(book[name].iter_rows(values_only=True)) for name in book.sheetnames}


def test_the_workbook_and_map_of_the_columns_they_read_are_those_of_the_whole_run(
    store: Store, demo: DemoResult, tmp_path: Path
) -> None:
    """What ``report`` and ``map export`` read of a run is all their outputs need."""
    whole = stored_result(store)
    for_report = stored_result(store, unit_columns=UNIT_COLUMNS)
    for_map = stored_result(store, unit_columns=MAP_UNIT_COLUMNS)
    assert whole is not None and for_report is not None and for_map is not None
    assert len(for_report.units.columns) < len(whole.units.columns)
    a = _cells(write_report(for_report, tmp_path / "some.xlsx"))
    b = _cells(write_report(whole, tmp_path / "whole.xlsx"))
    assert a == b and len(a) >= 9
    sites = latest_recommendation(store)

    def specs(result: Any) -> list[object]:
        data = map_data(result, sites=sites)
        return [s.spec for s in layer_specs(data, "zh", EncodeOptions(), include_personal=True)]

    assert specs(for_map) == specs(whole)


def test_driver_values_come_as_one_object_array_per_column(town: Store) -> None:
    table = table_of(models.Unit)
    query = select(table.c.id, table.c.name, table.c.population).order_by(table.c.id)
    with town.engine.connect() as conn:
        rows = conn.execute(query).all()
        arrays = fetch_arrays(conn, query)
        empty = fetch_arrays(conn, query.where(table.c.id < 0))
    assert [a.dtype for a in arrays] == [np.dtype(object)] * 3
    assert [a.tolist() for a in arrays] == [list(c) for c in zip(*rows, strict=True)]
    assert [len(a) for a in empty] == [0, 0, 0]
