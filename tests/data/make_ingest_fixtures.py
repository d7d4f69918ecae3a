"""Regenerate the ingest fixtures in this folder (see README.md).

Run from the repository root: ``python tests/data/make_ingest_fixtures.py``.
Points are real features of the 贵溪市 OSM extract (ODbL) in
../shared/data/osm/jiangxi_guixi.osm.pbf; everything else is made up.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import geopandas as gpd
import openpyxl
import osmium
import pandas as pd
import shapely

from gridmap.crs import bd09_from_wgs84, gcj02_from_wgs84

HERE = Path(__file__).parent
PBF = Path(__file__).resolve().parents[3] / "shared/data/osm/jiangxi_guixi.osm.pbf"


def guixi_communities() -> pd.DataFrame:
    rows = [
        {"osm_id": f"n{n.id}", "name": n.tags["name"], "lon": n.location.lon, "lat": n.location.lat}
        for n in osmium.FileProcessor(str(PBF), osmium.osm.NODE)
        if n.tags.get("place") == "quarter"
    ]
    return pd.DataFrame(rows).sort_values("osm_id").reset_index(drop=True)


def shifted_csvs(ref: pd.DataFrame) -> None:
    ref.to_csv(HERE / "guixi_communities_wgs84.csv", index=False)
    for name, forward in (("gcj02", gcj02_from_wgs84), ("bd09", bd09_from_wgs84)):
        lon, lat = forward(ref["lon"].to_numpy(), ref["lat"].to_numpy())
        table = pd.DataFrame(
            {
                "编号": ref["osm_id"],
                "单位名称": ref["name"],
                "类型": "社区",
                "户数": range(300, 300 + len(ref)),
                "经度": [f"{v:.9f}" for v in lon],
                "纬度": [f"{v:.9f}" for v in lat],
            }
        )
        table.to_csv(HERE / f"guixi_communities_{name}.csv", index=False, encoding="utf-8-sig")


def gbk_shapefile() -> None:
    square = lambda x, y: shapely.box(x - 0.01, y - 0.01, x + 0.01, y + 0.01)  # noqa: E731
    frame = gpd.GeoDataFrame(
        {
            "编码": ["360681001", "360681001002"],
            "名称": ["花园街道", "炼厂社区"],
            "级别": ["街道", "社区"],
            "上级编码": ["360681", "360681001"],
        },
        geometry=[square(117.2377, 28.2936), square(117.2290, 28.2890)],
        crs="EPSG:4326",
    )
    target = HERE / "guixi_areas_gbk.shp"
    frame.to_file(target, encoding="GBK", engine="pyogrio")
    target.with_suffix(".cpg").unlink()


def swapped_csv() -> None:
    (HERE / "units_swapped.csv").write_text(
        "名称,类型,户数,经度,纬度\n"
        "炼厂社区,社区,320,117.2290,28.2890\n"
        "花园村,村,210,28.2936,117.2377\n"
        "黄坑村,行政村,150,,\n"
        "柏里村,村,90,abc,28.30\n"
        "大岩苏家,自然村,40,9.52,47.14\n"
        "发电厂社区,bogus,500,117.2100,28.2900\n",
        encoding="utf-8",
    )


def gbk_csv() -> None:
    (HERE / "workers_gbk.csv").write_bytes(
        "姓名,联系电话,负责网格\n王芳,13800000001,360681001002001；360681001002002\n"
        "李强,13800000002,360681001002003\n".encode("gb18030")
    )


def excel_units() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "单位"
    sheet.append(["单位编号", "单位名称", "单位类型", "户数", "党员人数", "地址", "经度", "纬度"])
    sheet.append(["U1", "贵溪发电有限责任公司", "园区", 0, 35, "贵溪市", 117.2301, 28.2702])
    sheet.append(["U2", "炼厂社区", "社区", "十二", 12, None, 117.2290, 28.2890])
    sheet.append(["U3", "花园村", "村", 210, "abc", None, 117.2377, 28.2936])
    sheet.append([None] * 8)
    sheet.append(["U4", "黄坑村", "村", "1,200", 7.0, None, 117.2500, 28.2800])
    book.save(HERE / "units_numbers.xlsx")


def excel_orgs() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "组织编号",
            "党组织名称",
            "组织类型",
            "党员数",
            "成立日期",
            "最近活动日期",
            "覆盖单位",
            "所在单位",
        ]
    )
    sheet.append(
        [
            "O1",
            "贵溪发电有限责任公司党委",
            "党委",
            35,
            dt.datetime(2001, 7, 1),
            "2024年5月1日",
            None,
            "U1",
        ]
    )
    sheet.append(["O2", "城北联合党支部", "联合党支部", 9, "2019/3/8", 45413, "U5；U6、U7", None])
    sheet.append(["O3", "花园村党支部", "支部", 14, "2010-10-01", "2024-13-01", None, "U3"])
    book.save(HERE / "orgs_template.xlsx")


def geojson_cells() -> None:
    def feature(
        fid: str | None, name: str, geometry: dict[str, object] | None
    ) -> dict[str, object]:
        return {
            "type": "Feature",
            "properties": {"网格编码": fid, "网格名称": name, "户数": 400},
            "geometry": geometry,
        }

    def ring(*points: tuple[float, float]) -> dict[str, object]:
        return {"type": "Polygon", "coordinates": [[list(p) for p in points]]}

    x, y = 117.22, 28.28
    d = 0.002
    square = ring((x, y), (x + d, y), (x + d, y + d), (x, y + d), (x, y))
    bowtie = ring((x, y), (x + d, y + d), (x + d, y), (x, y + d), (x, y))
    line = {"type": "LineString", "coordinates": [[x, y], [x + d, y]]}
    features = [
        feature("360681001002001", "炼厂一网格", square),
        feature("360681001002002", "蝴蝶网格", bowtie),
        feature(
            "360681001002003",
            "折叠网格",
            ring(
                (x, y),
                (x + 4 * d, y),
                (x + 4 * d, y + 4 * d),
                (x + d, y + 4 * d),
                (x + d, y + d),
                (x + 3 * d, y + d),
                (x + 3 * d, y + 3 * d),
                (x, y + 3 * d),
                (x, y),
            ),
        ),
        feature("360681001002004", "空网格", None),
        feature("360681001002001", "重复网格", ring((x, y), (x + d, y), (x, y + d), (x, y))),
        feature("360681001002005", "线网格", line),
    ]
    text = json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)
    (HERE / "cells_bad_geometry.geojson").write_text(text, encoding="utf-8")
    (HERE / "cells_truncated.geojson").write_text(text[: len(text) // 2], encoding="utf-8")


def kml_stations() -> None:
    (HERE / "stations.kml").write_text(
        """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2"><Document><Folder><name>党群服务站</name>
<Placemark><name>炼厂社区党群服务站</name>
 <ExtendedData><Data name="站点层级"><value>社区</value></Data>
 <Data name="容纳人数"><value>60</value></Data>
 <Data name="最近活动日期"><value>2024/5/1</value></Data></ExtendedData>
 <Point><coordinates>117.2290,28.2890,0</coordinates></Point></Placemark>
<Placemark><name>东门街道党群服务中心</name>
 <ExtendedData><Data name="站点层级"><value>街道</value></Data></ExtendedData>
 <Point><coordinates>117.2116,28.2874</coordinates></Point></Placemark>
<Placemark><name>沿江路</name>
 <ExtendedData><Data name="站点层级"><value>服务点</value></Data></ExtendedData>
 <LineString><coordinates>117.20,28.28 117.21,28.28</coordinates></LineString></Placemark>
</Folder></Document></kml>
""",
        encoding="utf-8",
    )


def gpkg_two_layers() -> None:
    target = HERE / "guixi_two_layers.gpkg"
    target.unlink(missing_ok=True)
    stations = gpd.GeoDataFrame(
        {"name": ["贵溪市人民政府"], "tier": ["county"]},
        geometry=[shapely.Point(117.2120, 28.2830)],
        crs="EPSG:4490",
    )
    roads = gpd.GeoDataFrame(
        {"name": ["建设路"], "highway": ["primary"]},
        geometry=[shapely.LineString([(117.20, 28.28), (117.21, 28.29)])],
        crs="EPSG:4490",
    )
    stations.to_file(target, layer="stations", engine="pyogrio")
    roads.to_file(target, layer="roads", engine="pyogrio")


if __name__ == "__main__":
    shifted_csvs(guixi_communities())
    gbk_shapefile()
    swapped_csv()
    gbk_csv()
    excel_units()
    excel_orgs()
    geojson_cells()
    kml_stations()
    gpkg_two_layers()
