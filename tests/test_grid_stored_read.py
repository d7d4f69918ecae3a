"""The narrow read of units for assignment (issue 16) against the full read it replaced."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from gridmap.coverage.inputs import read_frame, representative_points
from gridmap.grid._stored_units import _point_coordinates, read_unit_points
from gridmap.grid.stored import assign_units
from gridmap.ingest.pipeline import ingest_layer
from gridmap.store import Store, models, table_of

WEST, SOUTH, SIDE = 117.20, 28.29, 0.01  # a 10 x 10 grid of 0.001-degree cells


def test_point_coordinates_read_plain_points_and_leave_the_rest_to_shapely() -> None:
    geoms = [
        shapely.Point(117.1234567, 28.7654321),
        shapely.Point(-1.5, 2.25),
        shapely.Point(1.0, 2.0, 3.0),  # Z: not the fast path
        shapely.Point(),  # empty
        shapely.box(0, 0, 1, 1),
        shapely.MultiPoint([(0, 0), (1, 1)]),
    ]
    blobs = [shapely.to_wkb(g) for g in geoms]
    blobs[1] = shapely.to_wkb(geoms[1], byte_order=0)  # big-endian
    x, y, points = _point_coordinates(blobs)
    assert points.tolist() == [True, True, False, False, False, False]
    assert x[:2].tolist() == [117.1234567, -1.5]
    assert y[:2].tolist() == [28.7654321, 2.25]
    assert np.isnan(x[2:]).all()
    assert np.isnan(y[2:]).all()


def _write_inputs(tmp_path: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(7)
    n = 400
    lon = WEST + rng.uniform(-0.002, SIDE + 0.002, n)  # some outside the grid
    lat = SOUTH + rng.uniform(-0.002, SIDE + 0.002, n)
    geoms: list[shapely.Geometry] = list(shapely.points(lon, lat))
    for i in range(0, 40, 4):  # parks: polygons, some across cells, one outside
        geoms[i] = shapely.box(lon[i], lat[i], lon[i] + 0.0015, lat[i] + 0.0007)
    units = gpd.GeoDataFrame(
        {
            "id": [f"U{i}" for i in range(n)],
            "name": [f"单位{i}" for i in range(n)],
            "kind": ["park" if i < 40 and i % 4 == 0 else "building" for i in range(n)],
        },
        geometry=geoms,
        crs=4326,
    )
    units_file = tmp_path / "units.geojson"
    units.to_file(units_file, driver="GeoJSON")
    step = SIDE / 10
    features = [
        {
            "type": "Feature",
            "properties": {"code": f"C{i:02d}{j:02d}"},
            "geometry": shapely.geometry.mapping(
                shapely.box(
                    WEST + i * step, SOUTH + j * step, WEST + (i + 1) * step, SOUTH + (j + 1) * step
                )
            ),
        }
        for i in range(10)
        for j in range(10)
    ]
    cells_file = tmp_path / "cells.geojson"
    cells_file.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return units_file, cells_file


def test_narrow_read_and_report_match_the_full_read(store: Store, tmp_path: Path) -> None:
    units_file, cells_file = _write_inputs(tmp_path)
    ingest_layer(store, units_file, "unit")
    ingest_layer(store, cells_file, "cell")
    unit = table_of(models.Unit)
    columns = ("id", "source_id", "kind", "name", "cell_id")
    with store.engine.connect() as conn:
        full = read_frame(conn, unit, columns, "geom")
        narrow = read_unit_points(conn)

    # the reference: the whole rows, as assignment read them before
    assert narrow.ids.tolist() == full["id"].tolist()
    assert narrow.cells.tolist() == full["cell_id"].fillna(-1).astype("int64").tolist()
    polygonal = full.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
    assert polygonal.sum() == 10
    assert narrow.polygonal.tolist() == polygonal.tolist()
    assert narrow.points.tolist() == (~polygonal).tolist()
    assert narrow.x[~polygonal].tolist() == full.geometry[~polygonal].x.tolist()
    assert narrow.y[~polygonal].tolist() == full.geometry[~polygonal].y.tolist()
    assert shapely.equals_exact(
        narrow.polygons.values, full.geometry[polygonal].values, tolerance=0
    ).all()

    report = assign_units(store)
    with store.engine.connect() as conn:
        after = read_frame(conn, unit, columns, "geom")
    outside = after[after["cell_id"].isna()]
    assert 0 < len(outside) < len(after)
    where = representative_points(outside)
    expected = pd.DataFrame(
        {
            "id": outside["id"].astype("int64"),
            "source_id": outside["source_id"],
            "kind": outside["kind"],
            "name": outside["name"],
            "lon": where.x.round(7),
            "lat": where.y.round(7),
        }
    ).reset_index(drop=True)
    pd.testing.assert_frame_equal(report.outside, expected, check_exact=True)
    assert report.units == len(after)
    assert report.assigned == len(after) - len(outside)
