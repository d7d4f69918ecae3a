"""Geometries are written whole (WKB), or rejected with a reason, never dropped (issue 12.4)."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from gridmap.ingest.load import load_records
from gridmap.ingest.records import ReadResult, RecordKind
from gridmap.store import Store, models

VERTICES = 1_000_000


def _result(frame: dict[str, list[object]], geoms: list[object]) -> ReadResult:
    records = gpd.GeoDataFrame(frame, geometry=geoms, crs="EPSG:4326")
    return ReadResult(records=records, rejects=pd.DataFrame(), n_read=len(records))


def _ring(n: int) -> shapely.Polygon:
    t = np.linspace(0.0, 2 * np.pi, n, endpoint=False)
    return shapely.Polygon(np.c_[117.2 + 0.01 * np.cos(t), 28.3 + 0.01 * np.sin(t)])


def _stored(store: Store, model: type[models.Base], column: str) -> list[object]:
    table = model.__table__
    with store.engine.connect() as conn:
        return [to_shape(g) for (g,) in conn.execute(select(table.c[column]))]


@pytest.mark.slow
def test_a_million_vertex_area_keeps_its_boundary(store: Store) -> None:
    area = _ring(VERTICES)
    report = load_records(
        store,
        RecordKind.AREA,
        _result({"source_id": ["big"], "name": ["大村"], "level": ["village"]}, [area]),
        source="test",
    )
    assert (report.inserted, report.rejected) == (1, 0)
    with store.session() as s:
        stored = s.scalar(select(func.count()).where(models.AdminArea.boundary.is_not(None)))
    assert stored == 1
    (boundary,) = _stored(store, models.AdminArea, "boundary")
    assert shapely.get_num_coordinates(boundary) == VERTICES + 1


@pytest.mark.slow
def test_a_million_vertex_road_is_stored_whole(store: Store) -> None:
    x = np.linspace(117.1, 117.3, VERTICES)
    road = shapely.LineString(np.c_[x, 28.3 + 0.01 * np.sin(x * 500)])
    report = load_records(
        store,
        RecordKind.ROAD,
        _result({"source_id": ["w1"], "name": ["长路"], "highway": ["primary"]}, [road]),
        source="test",
    )
    assert (report.inserted, report.rejected) == (1, 0)
    (stored,) = _stored(store, models.Road, "geom")
    assert shapely.get_num_coordinates(stored) == VERTICES


def test_a_geometry_the_store_cannot_take_is_a_rejected_row(store: Store) -> None:
    roads = [
        shapely.LineString([(117.20, 28.30), (117.21, 28.30)]),
        shapely.Point(117.22, 28.30),  # a road table takes lines only
        shapely.LineString([(117.20, 28.31), (117.21, 28.31)]),
    ]
    report = load_records(
        store,
        RecordKind.ROAD,
        _result({"source_id": ["w1", "w2", "w3"], "name": ["甲路", "乙路", "丙路"]}, roads),
        source="test",
    )
    assert (report.n_read, report.inserted, report.rejected) == (3, 2, 1)
    assert report.rejects["source_id"].tolist() == ["w2"]
    assert "Point cannot be stored as road.geom" in report.rejects["reason"].iloc[0]
    assert len(_stored(store, models.Road, "geom")) == 2


def test_a_row_the_database_refuses_is_rejected_and_the_rest_load(store: Store) -> None:
    bow_tie = shapely.MultiPolygon([shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])])
    good = shapely.MultiPolygon([shapely.box(117.2, 28.3, 117.21, 28.31)])
    report = load_records(
        store,
        RecordKind.AREA,
        _result(
            {"source_id": ["a", "b"], "name": ["好村", "坏村"], "level": ["village"] * 2},
            [good, bow_tie],
        ),
        source="test",
    )
    assert (report.inserted, report.rejected) == (1, 1)
    assert report.rejects["source_id"].tolist() == ["b"]
    assert "the store cannot take this record" in report.rejects["reason"].iloc[0]
    assert store.counts()["admin_area"] == 1


def test_a_refused_chunk_among_several_is_retried_and_the_others_load(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gridmap.ingest import _write

    monkeypatch.setattr(_write, "BULK_CHUNK", 2)  # 7 rows in 4 statements (COPYs on PostGIS)
    n = 7
    households = [10, 11, 12, -1, 14, 15, 16]  # the store's check refuses -1
    report = load_records(
        store,
        RecordKind.UNIT,
        _result(
            {
                "source_id": [f"u{i}" for i in range(n)],
                "kind": ["building"] * n,
                "name": [f"楼{i}" for i in range(n)],
                "households": households,
            },
            [shapely.Point(117.2 + i / 1000, 28.3) for i in range(n)],
        ),
        source="test",
    )

    assert (report.n_read, report.inserted, report.rejected) == (7, 6, 1)
    assert report.rejects["source_id"].tolist() == ["u3"]
    assert "the store cannot take this record" in report.rejects["reason"].iloc[0]
    with store.engine.connect() as conn:
        table = models.Unit.__table__
        stored = dict(conn.execute(select(table.c.source_id, table.c.households)).all())
    assert stored == {f"u{i}": h for i, h in enumerate(households) if h >= 0}
