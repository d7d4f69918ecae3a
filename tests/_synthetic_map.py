"""A synthetic county's map layers (square cells, clustered units), no store needed."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from gridmap.maps.data import MapData

WGS84 = "EPSG:4326"
KINDS = np.array(["village", "community", "building", "park", "firm", "social_org"])
STATUSES = np.array(["own", "joint", "hosted", "work", "none"])


def synthetic_map(n_units: int, n_side: int = 60, *, seed: int = 7) -> MapData:
    """``n_side`` x ``n_side`` cells of about 500 m, ``n_units`` units among them."""
    rng = np.random.default_rng(seed)
    step = 0.005
    x0, y0 = 117.0, 28.0
    ix, iy = np.meshgrid(np.arange(n_side), np.arange(n_side))
    ix, iy = ix.ravel(), iy.ravel()
    boxes = shapely.box(x0 + ix * step, y0 + iy * step, x0 + (ix + 1) * step, y0 + (iy + 1) * step)
    codes = np.array([f"3606810010{i:05d}" for i in range(len(boxes))])
    weight = rng.gamma(0.6, size=len(boxes))
    cell = rng.choice(len(boxes), size=n_units, p=weight / weight.sum())
    lon = x0 + (ix[cell] + rng.random(n_units)) * step
    lat = y0 + (iy[cell] + rng.random(n_units)) * step
    served = rng.random(n_units) < 0.7
    units = gpd.GeoDataFrame(
        {
            "unit_id": np.arange(n_units),
            "name": [f"单位{i}" for i in range(n_units)],
            "kind": KINDS[rng.integers(0, len(KINDS), n_units)],
            "cell_code": codes[cell],
            "org_status": STATUSES[rng.integers(0, len(STATUSES), n_units)],
            "must_have_branch": rng.random(n_units) < 0.02,
            "service_covered": served,
            "nearest_station": "站点1",
            "nearest_station_m": np.round(rng.random(n_units) * 3000),
            "party_members": rng.integers(0, 10, n_units),
        },
        geometry=shapely.points(lon, lat),
        crs=WGS84,
    )
    totals = np.bincount(cell, minlength=len(boxes))
    covered = np.bincount(cell, weights=served, minlength=len(boxes)).astype(int)
    status = np.where(totals == 0, "empty", np.where(covered == totals, "covered", "partial"))
    status = np.where((totals > 0) & (covered == 0), "blind", status)
    cells = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [f"网格{i}" for i in range(len(boxes))],
            "area_name": "测试社区",
            "status": status,
            "units_total": totals,
            "units_covered": covered,
            "population": totals * 3,
        },
        geometry=boxes,
        crs=WGS84,
    )
    return MapData(cells=cells, units=units, title="合成县 synthetic county")
