"""Map building, compact encoding, offline export, escaping and the static PNG (no browser)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from test_maps_sample import XSS_NAME, sample_map_data

from gridmap.crs import gcj02_from_wgs84
from gridmap.maps import MapData, UnknownAssetError, build_map, export_html, render_png
from gridmap.maps._encode import encode_column, encode_polygons, polyline
from gridmap.maps.html import inline_assets
from gridmap.maps.image import find_cjk_font


def _decode_ints(text: str) -> list[int]:
    """Python twin of the page's decodeInts."""
    out, i = [], 0
    while i < len(text):
        shift = result = 0
        while True:
            b = ord(text[i]) - 63
            i += 1
            result |= (b & 0x1F) << shift
            shift += 5
            if b < 0x20:
                break
        out.append(~(result >> 1) if result & 1 else result >> 1)
    return out


def _decode_column(col: Any) -> list[Any]:
    """Python twin of the page's decodeColumn."""
    if isinstance(col, list):
        return col
    if "d" in col:
        return [col["d"][i] for i in col["i"]]
    if "v" in col:
        return [str(v).zfill(col["n"]) for v in np.cumsum(col["v"]).tolist()]
    out, prev = [], ""
    flat = col["f"]
    for head, tail, middle in zip(flat[0::3], flat[1::3], flat[2::3], strict=True):
        prev = prev[:head] + middle + (prev[len(prev) - tail :] if tail else "")
        out.append(prev)
    return out


def _specs(page: str) -> dict[str, dict[str, Any]]:
    """Each layer's spec: its head in the addLayer call, geometry and columns in a data block."""
    found = re.findall(
        r"GridMap\.addLayer\([^,]+,\s*[^,]+,\s*(\{.*?\}),\s*\[.*?\],\s*\"(\w+)\"\);",
        page,
        re.S,
    )
    specs = {}
    for head, body_id in found:
        spec = json.loads(head)
        body = re.search(
            rf'<script type="application/json" id="{body_id}">(.*?)</script>', page, re.S
        )
        assert body is not None, body_id
        spec.update(json.loads(body.group(1)))
        specs[spec["id"]] = spec
    return specs


@pytest.fixture(scope="module")
def data() -> MapData:
    return sample_map_data(100)


@pytest.fixture(scope="module")
def page(data: MapData) -> str:
    html: str = build_map(data).get_root().render()
    return html


def test_polyline_roundtrip() -> None:
    values = [0, 1, -1, 15, 16, -400, 123456, -11721000, 2_000_000_000 // 20]
    assert _decode_ints(polyline(values)) == values


def test_polygons_keep_shared_vertices() -> None:
    left = shapely.box(117.2, 28.2, 117.2041234567, 28.21)
    right = shapely.box(117.2041234567, 28.2, 117.21, 28.21)
    encoded = encode_polygons([left, right], precision=5)
    ints = _decode_ints(encoded[0]) + _decode_ints(encoded[1])
    xs = np.cumsum(ints[0::2])
    shared = {int(x) for x in xs[:4]} & {int(x) for x in xs[4:]}
    assert shared == {round(117.2041234567 * 1e5)}


@pytest.mark.parametrize(
    "values",
    [
        ["360681100001001", "360681100001002", "360681100002001"],
        ["上塘村第1网格", "上塘村第2网格", "上塘村第10网格", "下坑村第1网格", ""],
        ["已覆盖", "盲区", "已覆盖", "已覆盖"],
        [1, 2.5, None, 4],
    ],
)
def test_columns_roundtrip(values: list[Any]) -> None:
    decoded = _decode_column(json.loads(json.dumps(encode_column(values))))
    assert decoded == [("" if v is None and isinstance(values[0], str) else v) for v in values]


def test_chinese_labels_by_default(page: str) -> None:
    specs = _specs(page)
    assert set(_decode_column(specs["cells"]["cols"]["status"])) <= {"已覆盖", "部分覆盖", "盲区"}
    assert "网格覆盖状态" in page and "<title>贵溪市网格党建覆盖图</title>" in page
    assert '"网格"' in page  # layer name in the layer control


def test_english_labels(data: MapData) -> None:
    html = build_map(data, lang="en").get_root().render()
    specs = _specs(html)
    assert set(_decode_column(specs["cells"]["cols"]["status"])) <= {
        "covered",
        "partially covered",
        "blind zone",
    }
    assert "Grid cells" in html and "已覆盖" not in html


def test_personal_data_only_when_asked(data: MapData) -> None:
    assert data.workers is not None
    phone = str(data.workers["phone"].iloc[0])
    assert phone not in build_map(data).get_root().render()
    assert phone in build_map(data, include_personal=True).get_root().render()


def test_payloads_are_escaped_data(data: MapData) -> None:
    assert data.units is not None
    units = data.units.copy()
    units.loc[2, "name"] = "{{ 7*7 }}</script><script>window.__xss=2</script>"
    html = build_map(MapData(units=units)).get_root().render()
    names = _decode_column(_specs(html)["units"]["cols"]["name"])
    assert XSS_NAME in names and units.loc[2, "name"] in names
    assert "<img src=x" not in html and "</script><script>window.__xss" not in html


def test_export_inlines_everything(data: MapData, tmp_path: Path) -> None:
    html = export_html(data, tmp_path / "map.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]+src=|<link[^>]+href=", html)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", html)
    assert "L.Control.Search" in html and "L.Control.MiniMap" in html
    assert "data:image/png;base64," in html  # leaflet layers icon, measure icons


def test_unknown_asset_fails_loudly() -> None:
    page = '<script src="https://cdn.example.com/evil.js"></script>'
    with pytest.raises(UnknownAssetError, match="not vendored"):
        inline_assets(page)


def test_amap_overlays_are_gcj02(data: MapData) -> None:
    assert data.stations is not None
    specs = _specs(build_map(data, basemap="amap").get_root().render())
    xy = _decode_ints(specs["stations"]["xy"])
    lon, lat = xy[0] / 1e6, xy[1] / 1e6
    point = data.stations.geometry.iloc[0]
    glon, glat = gcj02_from_wgs84(point.x, point.y)
    assert (lon, lat) == pytest.approx((float(glon), float(glat)), abs=1e-6)
    assert abs(lon - point.x) > 1e-3  # hundreds of metres, not a rounding difference


def test_tianditu_needs_key(data: MapData) -> None:
    with pytest.raises(ValueError, match="tianditu_key"):
        build_map(data, basemap="tianditu_vec")
    html = build_map(data, basemap="tianditu_img", tianditu_key="0123abcd4567ef89")
    rendered = html.get_root().render()
    assert "T=img_w" in rendered and "tk=0123abcd4567ef89" in rendered


def test_crs_checked() -> None:
    cells = sample_map_data(16).cells
    assert cells is not None
    with pytest.raises(ValueError, match="to_crs"):
        MapData(cells=cells.to_crs(32650))


def test_render_png(data: MapData, tmp_path: Path) -> None:
    path = render_png(data, tmp_path / "map.png", dpi=60)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert find_cjk_font() is not None, "install fonts-noto-cjk for Chinese PNG labels"
