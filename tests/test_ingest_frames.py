"""ingest_layer takes a frame as well as a file: the same checks, rejects and re-import rules."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from sqlalchemy import select

from gridmap import ingest_layer
from gridmap.ingest import IngestError
from gridmap.store import Store, models


def _stations_lonlat() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "source_id": ["S1", "S2", "S3"],
            "name": ["花园社区党群服务站", "雄石党群服务中心", "坐标错了"],
            "tier": ["community", "township", "community"],
            "lon": [117.2077, 117.2390, 500.0],  # S3: not a longitude
            "lat": [28.2970, 28.2905, 28.29],
            "last_activity": ["2026-10-01", "2026-09-01", "2026-10-01"],
        }
    )


def _stored(store: Store) -> dict[str, tuple[float, float]]:
    with store.session() as s:
        rows = s.execute(select(models.Station.source_id, models.Station.geom)).all()
    from geoalchemy2.shape import to_shape

    return {sid: (to_shape(g).x, to_shape(g).y) for sid, g in rows}


def test_a_lon_lat_frame_loads_like_a_csv_with_its_rejects(store: Store, tmp_path: Path) -> None:
    reject_file = tmp_path / "r.csv"
    report = ingest_layer(store, _stations_lonlat(), "station", reject_file=reject_file)
    assert (report.n_read, report.loaded, report.rejected) == (3, 2, 1)
    assert report.reject_file == reject_file
    rejects = pd.read_csv(reject_file, encoding="utf-8-sig")
    assert rejects["source_id"].tolist() == ["S3"] and rejects["reason"].str.len().all()
    assert set(_stored(store)) == {"S1", "S2"}
    again = ingest_layer(store, _stations_lonlat(), "station")
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 2)  # same frame, same source
    assert again.reject_file is None and again.rejected == 1  # on the report, no file asked for


def test_a_projected_geodataframe_is_stored_in_wgs84(store: Store) -> None:
    frame = _stations_lonlat().iloc[:2]
    points = gpd.GeoSeries(gpd.points_from_xy(frame["lon"], frame["lat"]), crs="EPSG:4326")
    metric = gpd.GeoDataFrame(
        frame.drop(columns=["lon", "lat"]), geometry=points.to_crs("EPSG:4547").values
    )
    report = ingest_layer(store, metric, "station")
    assert (report.loaded, report.rejected) == (2, 0)
    stored = _stored(store)
    assert stored["S1"] == pytest.approx((117.2077, 28.2970), abs=1e-6)


def test_a_geodataframe_without_crs_is_refused_before_anything_is_stored(store: Store) -> None:
    bare = gpd.GeoDataFrame(
        {"source_id": ["S1"], "name": ["站"], "tier": ["community"]},
        geometry=[shapely.Point(117.2, 28.29)],
    )
    with pytest.raises(IngestError, match="set_crs"):
        ingest_layer(store, bare, "station")
    assert store.counts()["station"] == 0
