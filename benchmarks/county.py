"""A synthetic county, seeded: areas, an irregular grid, units, organisations, stations, roads.

:func:`make_county` builds it in memory with vectorised numpy/shapely; :func:`write_county`
writes it as files ``gridmap ingest layer`` and ``gridmap grid import`` read:

========================  =====================================================
``areas.gpkg``            the county, 12 townships and 300 villages/communities
                          (``code``, ``name``, ``level``, ``parent_code``; GB/T 2260
                          + 3 + 3 digit codes); each village is the union of its cells
``cells.gpkg``            about 10,000 irregular cells (Voronoi of seeded points),
                          coded DB11/T 2157-2023 (village code + 3-digit sequence,
                          west to east, north to south), ``area_code`` = their village
``units.csv``             ``N`` units clustered around the 300 settlements
                          (``id, name, kind, households, population, party_members,
                          lon, lat``), kinds village/community/building/park/firm
``orgs.csv``              a party branch for 5 % of the units (``own_unit``, ``covers``)
``stations.csv``          2,000 service stations (``tier``, ``capacity``)
``roads.gpkg``            a perturbed lattice of roads, rows and columns sharing
                          their crossing vertices (~250,000 nodes)
========================  =====================================================

The county lies in a 60 x 60 km square of CGCS2000 / 3-degree Gauss-Kruger CM 117E
(EPSG:4548) around Guixi, Jiangxi; files are in WGS-84 lon/lat. The same seed gives
the same files. ``python -m benchmarks.county FOLDER --units N`` writes them.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd
import pyogrio
import shapely
from pyproj import Transformer

logger = logging.getLogger(__name__)

__all__ = ["County", "make_county", "write_county"]

METRIC = "EPSG:4548"
#: South-west corner (m, EPSG:4548) and side (m) of the county square.
ORIGIN = (470_000.0, 3_110_000.0)
SIDE = 60_000.0
COUNTY_CODE = "360681"
SETTLEMENTS = 300
TOWNSHIPS = 12  # 4 x 3 blocks
CELLS = 10_000
STATIONS = 2_000
ORG_SHARE = 0.05
ROAD_LATTICE = 500  # 500 x 500 = 250,000 road nodes

FloatArray = npt.NDArray[np.float64]

_KINDS = np.array(["building", "firm", "park", "village", "community"])
_KIND_P = np.array([0.78, 0.17, 0.01, 0.02, 0.02])
_KIND_LABEL = {
    "building": "号楼",
    "firm": "有限公司",
    "park": "产业园",
    "village": "村民小组",
    "community": "小区",
}
_TIERS = np.array(["township", "village", "community", "building", "park", "point"])
_TIER_P = np.array([0.01, 0.14, 0.15, 0.3, 0.1, 0.3])
_SYLLABLES = list("东西南北上下前后新老大小金银石桥塘湖山岭坪坑溪港田园林竹桃李杨柳梅松安康")


@dataclass(frozen=True)
class County:
    """The county's layers as GeoDataFrames in WGS-84."""

    areas: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    units: gpd.GeoDataFrame
    orgs: pd.DataFrame
    stations: gpd.GeoDataFrame
    roads: gpd.GeoDataFrame


def _to_wgs84() -> Transformer:
    return Transformer.from_crs(METRIC, "EPSG:4326", always_xy=True)


def _lonlat(x: FloatArray, y: FloatArray) -> tuple[FloatArray, FloatArray]:
    lon, lat = _to_wgs84().transform(x, y)
    return np.round(np.asarray(lon), 7), np.round(np.asarray(lat), 7)


def _place_names(rng: np.random.Generator, n: int) -> list[str]:
    """``n`` distinct two- or three-syllable place names."""
    names: list[str] = []
    seen: set[str] = set()
    while len(names) < n:
        size = int(rng.integers(2, 4))
        name = "".join(rng.choice(_SYLLABLES, size=size))
        if name not in seen:
            seen.add(name)
            names.append(name)
    return names


def _settlements(rng: np.random.Generator) -> tuple[FloatArray, FloatArray]:
    """Settlement centres (m) and their spread (sigma, m)."""
    x0, y0 = ORIGIN
    margin = 2_000.0
    centres = rng.uniform(
        (x0 + margin, y0 + margin), (x0 + SIDE - margin, y0 + SIDE - margin), size=(SETTLEMENTS, 2)
    )
    sigma = rng.uniform(250.0, 1_200.0, size=SETTLEMENTS)
    return centres, sigma


def _cells(
    rng: np.random.Generator, centres: FloatArray
) -> tuple[npt.NDArray[np.object_], FloatArray, np.ndarray]:
    """Voronoi cells of seeded points over the square (metric), with their village."""
    x0, y0 = ORIGIN
    seeds = rng.uniform((x0, y0), (x0 + SIDE, y0 + SIDE), size=(CELLS, 2))
    box = shapely.box(x0, y0, x0 + SIDE, y0 + SIDE)
    regions = shapely.get_parts(shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=box))
    regions = shapely.intersection(regions, box)
    # voronoi_polygons does not keep the input order: match each region to its seed
    tree = shapely.STRtree(regions)
    which = tree.query(shapely.points(seeds), predicate="intersects")
    order = np.full(len(seeds), -1, dtype=np.int64)
    order[which[0]] = which[1]
    cells = regions[order]
    # each cell belongs to the village of its nearest settlement
    village = shapely.STRtree(shapely.points(centres)).query_nearest(
        shapely.points(seeds), return_distance=False
    )[1]
    return cells, seeds, village


def _codes(seeds: FloatArray, village: np.ndarray, village_codes: list[str]) -> list[str]:
    """DB11/T 2157-2023 codes: village code + sequence, west to east, north to south."""
    order = np.lexsort((seeds[:, 0], -np.round(seeds[:, 1], -2), village))
    sequence = np.empty(len(seeds), dtype=np.int64)
    grouped = village[order]
    starts = np.r_[0, np.flatnonzero(np.diff(grouped)) + 1]
    counts = np.diff(np.r_[starts, len(grouped)])
    sequence[order] = np.arange(len(grouped)) - np.repeat(starts, counts) + 1
    if sequence.max() > 999:
        raise ValueError("a village has more than 999 cells")
    return [
        f"{village_codes[v]}{s:03d}"
        for v, s in zip(village.tolist(), sequence.tolist(), strict=True)
    ]


def _areas(
    cells: np.ndarray, village: np.ndarray, centres: FloatArray, names: list[str]
) -> tuple[gpd.GeoDataFrame, list[str]]:
    x0, y0 = ORIGIN
    bx = np.minimum(((centres[:, 0] - x0) / (SIDE / 4)).astype(int), 3)
    by = np.minimum(((centres[:, 1] - y0) / (SIDE / 3)).astype(int), 2)
    township = by * 4 + bx
    township_codes = [f"{COUNTY_CODE}{100 + t + 1:03d}" for t in range(TOWNSHIPS)]
    counters = np.zeros(TOWNSHIPS, dtype=int)
    village_codes: list[str] = []
    for t in township.tolist():
        counters[t] += 1
        village_codes.append(f"{township_codes[t]}{200 + counters[t]:03d}")
    boundaries = [shapely.union_all(cells[village == v]) for v in range(SETTLEMENTS)]
    levels = ["county"] + ["township"] * TOWNSHIPS + ["village"] * SETTLEMENTS
    codes = [COUNTY_CODE, *township_codes, *village_codes]
    area_names = (
        ["模拟县"]
        + [f"{names[t]}镇" for t in range(TOWNSHIPS)]
        + [f"{n}{'社区' if i % 3 == 0 else '村'}" for i, n in enumerate(names[:SETTLEMENTS])]
    )
    parents = [None, *[COUNTY_CODE] * TOWNSHIPS, *(township_codes[t] for t in township.tolist())]
    townships = [
        shapely.union_all(np.asarray(boundaries, dtype=object)[township == t])
        for t in range(TOWNSHIPS)
    ]
    county = shapely.box(x0, y0, x0 + SIDE, y0 + SIDE)
    geoms = np.asarray([county, *townships, *boundaries], dtype=object)
    frame = gpd.GeoDataFrame(
        {"code": codes, "name": area_names, "level": levels, "parent_code": parents},
        geometry=geoms,
        crs=METRIC,
    )
    return frame, village_codes


def _units(
    rng: np.random.Generator, n: int, centres: FloatArray, sigma: FloatArray, names: list[str]
) -> gpd.GeoDataFrame:
    x0, y0 = ORIGIN
    which = rng.integers(0, SETTLEMENTS, size=n)
    xy = centres[which] + rng.normal(size=(n, 2)) * sigma[which, None]
    xy = np.clip(xy, (x0 + 1.0, y0 + 1.0), (x0 + SIDE - 1.0, y0 + SIDE - 1.0))
    kind = _KINDS[rng.choice(len(_KINDS), size=n, p=_KIND_P)]
    households = np.where(kind == "building", rng.integers(12, 120, size=n), 0)
    households = np.where(
        np.isin(kind, ["village", "community"]), rng.integers(20, 400, size=n), households
    )
    population = np.where(
        kind == "firm",
        rng.integers(5, 800, size=n),
        (households * rng.uniform(2.2, 3.4, size=n)).astype(np.int64),
    )
    members = (population * rng.uniform(0.0, 0.08, size=n)).astype(np.int64)
    settlement = np.asarray(names, dtype=object)[which]
    label = pd.Series(kind).map(_KIND_LABEL).to_numpy(dtype=object)
    ids = np.char.add("U", np.char.zfill(np.arange(1, n + 1).astype(str), 7))
    name = settlement + np.arange(1, n + 1).astype(str).astype(object) + label
    lon, lat = _lonlat(xy[:, 0], xy[:, 1])
    frame = pd.DataFrame(
        {
            "id": ids,
            "name": name,
            "kind": kind,
            "households": households,
            "population": population,
            "party_members": members,
            "lon": lon,
            "lat": lat,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _orgs(rng: np.random.Generator, units: gpd.GeoDataFrame) -> pd.DataFrame:
    n = max(1, int(len(units) * ORG_SHARE))
    picked = np.sort(rng.choice(len(units), size=n, replace=False))
    own = units["id"].to_numpy()[picked]
    kind = np.where(rng.uniform(size=n) < 0.1, "general_branch", "branch")
    days = rng.integers(0, 3_000, size=n)
    established = (np.datetime64("2015-01-01") + days.astype("timedelta64[D]")).astype(str)
    recent = rng.integers(0, 400, size=n)
    last = (np.datetime64("2026-11-30") - recent.astype("timedelta64[D]")).astype(str)
    return pd.DataFrame(
        {
            "id": np.char.add("O", np.char.zfill(np.arange(1, n + 1).astype(str), 6)),
            "name": units["name"].to_numpy()[picked] + "党支部",
            "kind": kind,
            "members": rng.integers(3, 60, size=n),
            "established": established,
            "last_activity": last,
            "covers": own,
            "own_unit": own,
            "lon": units["lon"].to_numpy()[picked],
            "lat": units["lat"].to_numpy()[picked],
        }
    )


def _stations(rng: np.random.Generator, centres: FloatArray, sigma: FloatArray) -> gpd.GeoDataFrame:
    which = rng.integers(0, SETTLEMENTS, size=STATIONS)
    xy = centres[which] + rng.normal(size=(STATIONS, 2)) * sigma[which, None] * 0.7
    lon, lat = _lonlat(xy[:, 0], xy[:, 1])
    tier = _TIERS[rng.choice(len(_TIERS), size=STATIONS, p=_TIER_P)]
    frame = pd.DataFrame(
        {
            "id": np.char.add("S", np.char.zfill(np.arange(1, STATIONS + 1).astype(str), 5)),
            "name": np.char.add(
                np.char.add("党群服务站", np.arange(1, STATIONS + 1).astype(str)), "号"
            ),
            "tier": tier,
            "capacity": rng.integers(10, 200, size=STATIONS),
            "last_activity": "2026-11-01",
            "lon": lon,
            "lat": lat,
        }
    )
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")


def _roads(rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Rows and columns of a perturbed lattice; crossings are shared vertices."""
    x0, y0 = ORIGIN
    k = ROAD_LATTICE
    step = SIDE / (k - 1)
    gx, gy = np.meshgrid(np.arange(k) * step + x0, np.arange(k) * step + y0)
    gx = np.clip(gx + rng.uniform(-0.3, 0.3, size=gx.shape) * step, x0, x0 + SIDE)
    gy = np.clip(gy + rng.uniform(-0.3, 0.3, size=gy.shape) * step, y0, y0 + SIDE)
    lon, lat = _lonlat(gx.ravel(), gy.ravel())
    lon, lat = lon.reshape(k, k), lat.reshape(k, k)
    coords = np.concatenate(
        [np.stack([lon, lat], axis=-1), np.stack([lon.T, lat.T], axis=-1)]
    ).reshape(-1, 2)
    lines = shapely.linestrings(coords, indices=np.repeat(np.arange(2 * k), k))
    highway = np.where(np.arange(2 * k) % 25 == 0, "primary", "residential")
    return gpd.GeoDataFrame(
        {
            "id": [f"R{i:04d}" for i in range(2 * k)],
            "name": [f"{'横' if i < k else '纵'}{i % k + 1}路" for i in range(2 * k)],
            "highway": highway,
        },
        geometry=lines,
        crs="EPSG:4326",
    )


def make_county(units: int = 100_000, seed: int = 0) -> County:
    """The county with ``units`` units, the same for the same ``seed``."""
    rng = np.random.default_rng(seed)
    centres, sigma = _settlements(rng)
    names = _place_names(rng, SETTLEMENTS)
    cells, seeds, village = _cells(rng, centres)
    areas, village_codes = _areas(cells, village, centres, names)
    codes = _codes(seeds, village, village_codes)
    cell_frame = gpd.GeoDataFrame(
        {
            "code": codes,
            "name": [
                f"{areas['name'].iloc[1 + TOWNSHIPS + v]}第{c[-3:]}网格"
                for v, c in zip(village.tolist(), codes, strict=True)
            ],
            "area_code": [village_codes[v] for v in village.tolist()],
        },
        geometry=cells,
        crs=METRIC,
    ).to_crs("EPSG:4326")
    unit_frame = _units(rng, units, centres, sigma, names)
    return County(
        areas=areas.to_crs("EPSG:4326"),
        cells=cell_frame,
        units=unit_frame,
        orgs=_orgs(rng, unit_frame),
        stations=_stations(rng, centres, sigma),
        roads=_roads(rng),
    )


def write_county(folder: str | Path, units: int = 100_000, seed: int = 0) -> dict[str, Path]:
    """Write the county's files into ``folder``; return them by layer name."""
    start = time.perf_counter()
    county = make_county(units, seed)
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    paths = {
        name: out / file
        for name, file in (
            ("areas", "areas.gpkg"),
            ("cells", "cells.gpkg"),
            ("units", "units.csv"),
            ("orgs", "orgs.csv"),
            ("stations", "stations.csv"),
            ("roads", "roads.gpkg"),
        )
    }
    for name in ("areas", "cells", "roads"):
        pyogrio.write_dataframe(getattr(county, name), paths[name], layer=name)
    pd.DataFrame(county.units.drop(columns="geometry")).to_csv(paths["units"], index=False)
    county.orgs.to_csv(paths["orgs"], index=False)
    pd.DataFrame(county.stations.drop(columns="geometry")).to_csv(paths["stations"], index=False)
    logger.info(
        "county with %d units written to %s in %.1f s", units, out, time.perf_counter() - start
    )
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--units", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    write_county(args.folder, units=args.units, seed=args.seed)


if __name__ == "__main__":
    main()
