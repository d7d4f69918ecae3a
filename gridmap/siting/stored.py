"""Stored recommendations read back: what ``map export`` draws, without the solver."""

from __future__ import annotations

import geopandas as gpd
from sqlalchemy import select

from gridmap.store import Store, models, table_of

__all__ = ["latest_recommendation"]


def latest_recommendation(store: Store) -> gpd.GeoDataFrame | None:
    """The sites of the newest stored recommendation, for maps; None when there is none."""
    table = table_of(models.SitingRun)
    with store.engine.connect() as conn:
        row = conn.execute(select(table.c.sites).order_by(table.c.id.desc()).limit(1)).first()
    if row is None or not row[0]["features"]:
        return None
    return gpd.GeoDataFrame.from_features(row[0]["features"], crs="EPSG:4326")
