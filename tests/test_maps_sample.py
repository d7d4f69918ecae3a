"""Synthetic but realistic map data around 贵溪市 (Guixi, Jiangxi; 117.21E, 28.24N).

:func:`sample_map_data` is the fixture factory of the ``test_maps_*`` modules:
a jittered lattice of grid cells (shared edges stay exactly shared), grouped
into villages and townships with GB/T 2260-style codes (360681 = 贵溪市),
units, party organisations, stations with service areas, blind zones,
recommended sites and grid workers. One unit carries an XSS payload as name.
"""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import shapely

from gridmap.maps import MapData

XSS_NAME = '<img src=x onerror="window.__xss=1">'
SEARCH_UNIT = "贵溪信江铜业有限公司"
CENTER = (117.21, 28.24)
STEP = 0.004  # degrees, ~400 m
_TOWNSHIPS = [
    "雄石街道",
    "花园街道",
    "东门街道",
    "罗河镇",
    "志光镇",
    "流口镇",
    "鸿塘镇",
    "泗沥镇",
    "河潭镇",
    "周坊镇",
    "耳口乡",
    "金屯镇",
    "塘湾镇",
    "文坊镇",
    "彭湾乡",
    "白田乡",
    "滨江镇",
    "天禄镇",
    "樟坪畲族乡",
    "冷水镇",
]
_FIRST = list("上下东西南北新老大小石高黄罗江胡")
_SECOND = list("塘坑源溪岭山桥湾田埠畈港垄坪")
_WORDS = ["鑫达", "华丰", "恒通", "赣东", "瑞丰", "光远", "宏源", "龙虎", "象山", "白鹤"]
_SURNAMES = list("王李张刘陈杨黄吴周徐")
_GIVEN = ["建华", "秀英", "海燕", "志强", "丽娟", "国平", "小红", "伟", "敏", "军"]


def _lattice(nrows: int, ncols: int, rng: np.random.Generator) -> np.ndarray:
    west = CENTER[0] - ncols * STEP / 2
    north = CENTER[1] + nrows * STEP / 2
    cols, rows = np.meshgrid(np.arange(ncols + 1), np.arange(nrows + 1))
    nodes = np.stack([west + cols * STEP, north - rows * STEP], axis=-1).astype(float)
    jitter = np.asarray(rng.uniform(-0.25, 0.25, nodes.shape), dtype=float) * STEP
    jitter[[0, -1], :, :] = 0
    jitter[:, [0, -1], :] = 0
    result: np.ndarray = nodes + jitter
    return result


def _village_names(count: int) -> list[str]:
    names: list[str] = []
    for i in range(count):
        base = _FIRST[i % len(_FIRST)] + _SECOND[(i // len(_FIRST)) % len(_SECOND)]
        lap = i // (len(_FIRST) * len(_SECOND))
        names.append(f"{base}{'' if lap == 0 else lap + 1}村")
    return names


def _cells(n_cells: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    ncols = math.ceil(math.sqrt(n_cells))
    nrows = math.ceil(n_cells / ncols)
    nodes = _lattice(nrows, ncols, rng)
    vcols = math.ceil(ncols / 4)
    rows: list[dict[str, object]] = []
    seq: dict[int, int] = {}
    for k in range(n_cells):
        r, c = divmod(k, ncols)
        ring = [nodes[r, c], nodes[r, c + 1], nodes[r + 1, c + 1], nodes[r + 1, c]]
        village = (r // 4) * vcols + c // 4
        town = village // 25
        seq[village] = seq.get(village, 0) + 1
        rows.append(
            {
                "village": village,
                "town": town,
                "seq": seq[village],
                "geometry": shapely.Polygon(ring),
            }
        )
    frame = gpd.GeoDataFrame(rows, crs=4326)
    names = _village_names(int(frame["village"].max()) + 1)
    frame["area_name"] = [names[v] for v in frame["village"]]
    frame["area_code"] = [
        f"360681{100 + t:03d}{v % 25 + 1:03d}"
        for t, v in zip(frame["town"], frame["village"], strict=True)
    ]
    frame["code"] = [f"{a}{s:03d}" for a, s in zip(frame["area_code"], frame["seq"], strict=True)]
    frame["name"] = [f"{a}第{s}网格" for a, s in zip(frame["area_name"], frame["seq"], strict=True)]
    frame["status"] = rng.choice(["covered", "partial", "blind"], n_cells, p=[0.6, 0.25, 0.15])
    frame["units_total"] = rng.integers(3, 40, n_cells)
    share = frame["status"].map({"covered": 1.0, "partial": 0.6, "blind": 0.0})
    frame["units_covered"] = (frame["units_total"] * share).round().astype(int)
    frame["population"] = rng.integers(800, 2500, n_cells)
    return frame


def _areas(cells: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    rows = []
    for (code, name), group in cells.groupby(["area_code", "area_name"]):
        rows.append(
            {
                "code": code,
                "name": name,
                "level": "village",
                "geometry": shapely.coverage_union_all(group.geometry.values),
            }
        )
    for town, group in cells.groupby("town"):
        name = _TOWNSHIPS[town % len(_TOWNSHIPS)] + ("" if town < len(_TOWNSHIPS) else str(town))
        rows.append(
            {
                "code": f"360681{100 + town:03d}",
                "name": name,
                "level": "township",
                "geometry": shapely.coverage_union_all(group.geometry.values),
            }
        )
    return gpd.GeoDataFrame(rows, crs=4326)


def _blind_zones(cells: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    blind = cells[cells["status"] == "blind"]
    parts = shapely.get_parts(shapely.coverage_union_all(blind.geometry.values))
    zones = gpd.GeoDataFrame(geometry=list(parts), crs=4326)
    zones["area_m2"] = zones.to_crs(32650).area.round()
    zones = zones.sort_values("area_m2", ascending=False).reset_index(drop=True)
    zones["rank"] = np.arange(1, len(zones) + 1)
    zones["units"] = rng.integers(1, 30, len(zones))
    zones["population"] = rng.integers(500, 6000, len(zones))
    zones["priority"] = np.where(zones["rank"] <= max(1, len(zones) // 5), "高", "中")
    return zones


def _points_in(
    cells: gpd.GeoDataFrame, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    pick = rng.integers(0, len(cells), n)
    centers = shapely.centroid(np.asarray(cells.geometry.values)[pick])
    lon = shapely.get_x(centers) + rng.uniform(-0.2, 0.2, n) * STEP
    lat = shapely.get_y(centers) + rng.uniform(-0.2, 0.2, n) * STEP
    return pick, lon, lat


def _unit_name(kind: str, i: int, cells: gpd.GeoDataFrame, cell: int) -> str:
    word = _WORDS[i % len(_WORDS)]
    return {
        "firm": f"贵溪{word}实业有限公司{i}",
        "building": f"{word}商务大厦{i}号楼",
        "social_org": f"贵溪市{word}协会{i}",
        "park": f"{word}工业园{i}",
        "village": str(cells["area_name"].iloc[cell]),
        "community": f"{word}社区{i}",
    }[kind]


def _units(
    cells: gpd.GeoDataFrame, n: int, stations: gpd.GeoDataFrame, rng: np.random.Generator
) -> gpd.GeoDataFrame:
    pick, lon, lat = _points_in(cells, n, rng)
    kinds = rng.choice(
        ["firm", "building", "social_org", "park", "village", "community"],
        n,
        p=[0.45, 0.15, 0.15, 0.05, 0.1, 0.1],
    )
    geoms = [
        shapely.box(x - 0.001, y - 0.0008, x + 0.001, y + 0.0008)
        if k == "park"
        else shapely.Point(x, y)
        for k, x, y in zip(kinds, lon, lat, strict=True)
    ]
    members = rng.integers(0, 15, n)
    units = gpd.GeoDataFrame(
        {
            "unit_id": [f"U{i:06d}" for i in range(n)],
            "name": [
                _unit_name(k, i, cells, c) for i, (k, c) in enumerate(zip(kinds, pick, strict=True))
            ],
            "kind": kinds,
            "cell_code": cells["code"].to_numpy()[pick],
            "org_status": rng.choice(["own", "joint", "hosted", "instructor", "none"], n),
            "must_have_branch": members >= 3,
            "service_covered": rng.random(n) < 0.7,
            "nearest_station": stations["name"].to_numpy()[rng.integers(0, len(stations), n)],
            "nearest_station_m": rng.uniform(50, 3000, n).round(1),
            "party_members": members,
        },
        geometry=geoms,
        crs=4326,
    )
    units.loc[0, ["name", "kind", "org_status"]] = [XSS_NAME, "firm", "none"]
    units.loc[0, "must_have_branch"] = True
    units.loc[1, "name"] = SEARCH_UNIT
    return units


def _stations(cells: gpd.GeoDataFrame, n: int, rng: np.random.Generator) -> gpd.GeoDataFrame:
    pick, lon, lat = _points_in(cells, n, rng)
    names = [f"{cells['area_name'].iloc[c]}党群服务站{i}" for i, c in enumerate(pick)]
    return gpd.GeoDataFrame(
        {
            "name": names,
            "tier": rng.choice(["village", "community", "township"], n, p=[0.6, 0.3, 0.1]),
            "idle": rng.random(n) < 0.05,
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def _service_areas(stations: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    metric = stations.to_crs(32650)
    reach = np.where(stations["tier"] == "township", 1000.0, 500.0)
    areas = gpd.GeoDataFrame(
        {"station_name": stations["name"], "tier": stations["tier"]},
        geometry=metric.buffer(reach, quad_segs=4),
        crs=32650,
    )
    return areas.to_crs(4326)


def _orgs(units: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    chosen = units.iloc[1 : max(2, len(units) // 3)]
    return gpd.GeoDataFrame(
        {
            "name": [f"{name}党支部" for name in chosen["name"]],
            "kind": rng.choice(
                ["branch", "joint_branch", "general_branch", "committee"],
                len(chosen),
                p=[0.6, 0.25, 0.1, 0.05],
            ),
            "members": rng.integers(3, 60, len(chosen)),
            "idle": rng.random(len(chosen)) < 0.1,
        },
        geometry=chosen.geometry.representative_point().values,
        crs=4326,
    )


def _sites(zones: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    top = zones.head(5)
    return gpd.GeoDataFrame(
        {
            "rank": np.arange(1, len(top) + 1),
            "name": [f"建议新建服务站{i + 1}" for i in range(len(top))],
            "marginal_gain": top["units"].to_numpy(),
            "source": "greedy",
        },
        geometry=top.geometry.representative_point().values,
        crs=4326,
    )


def _workers(cells: gpd.GeoDataFrame, rng: np.random.Generator) -> gpd.GeoDataFrame:
    n = max(3, len(cells) // 10)
    pick, lon, lat = _points_in(cells, n, rng)
    return gpd.GeoDataFrame(
        {
            "name": [f"{_SURNAMES[i % 10]}{_GIVEN[(i // 10) % 10]}" for i in range(n)],
            "cell_code": cells["code"].to_numpy()[pick],
            "phone": [f"139{rng.integers(10**7, 10**8)}" for _ in range(n)],
        },
        geometry=gpd.points_from_xy(lon, lat),
        crs=4326,
    )


def sample_map_data(n_cells: int = 400, *, n_units: int | None = None, seed: int = 7) -> MapData:
    """Build synthetic layers of ``n_cells`` cells (units default to a tenth, min 40)."""
    rng = np.random.default_rng(seed)
    cells = _cells(n_cells, rng)
    stations = _stations(cells, max(3, n_cells // 25), rng)
    units = _units(cells, n_units or max(40, n_cells // 10), stations, rng)
    zones = _blind_zones(cells, rng)
    return MapData(
        areas=_areas(cells),
        cells=cells[
            [
                "code",
                "name",
                "area_name",
                "status",
                "units_total",
                "units_covered",
                "population",
                "geometry",
            ]
        ],
        blind_zones=zones,
        units=units,
        orgs=_orgs(units, rng),
        stations=stations,
        service_areas=_service_areas(stations),
        sites=_sites(zones),
        workers=_workers(cells, rng),
        title="贵溪市网格党建覆盖图",
        run_label="2024年第二季度",
    )


def test_sample_cells_share_edges() -> None:
    data = sample_map_data(64)
    assert data.cells is not None
    assert len(data.cells) == 64
    assert bool(shapely.coverage_is_valid(data.cells.geometry.values))
    assert data.cells["code"].str.fullmatch(r"360681\d{9}").all()


def test_sample_has_payload_and_personal_data() -> None:
    data = sample_map_data(64)
    assert data.units is not None and data.workers is not None
    assert data.units["name"].iloc[0] == XSS_NAME
    assert data.workers["phone"].str.fullmatch(r"139\d{8}").all()
