"""The static map as saved: its text (axes, legend, title) and its red rings.

The figure is saved through :func:`render_png` as SVG with text kept as text, so the
test reads what the image shows rather than how it was built.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib as mpl
import pytest
from test_maps_sample import sample_map_data

from gridmap.maps import MapData, render_png
from gridmap.maps.image import find_cjk_font

SVG = "{http://www.w3.org/2000/svg}"
TICK = re.compile(r"^\d{1,3}\.\d{1,6}°[ENWS]$")
NUMBER = re.compile(r"^[+\-−]?[\d.]+(e[+\-−]?\d+)?(°[ENWS])?$")  # a tick label or an offset


@pytest.fixture(scope="module")
def data() -> MapData:
    """A small district (36 cells, ~2 km across): ticks 0.005° apart, an offset by default."""
    return sample_map_data(36, n_units=60)


def _saved(data: MapData, path: Path, lang: str) -> ET.Element:
    with mpl.rc_context({"svg.fonttype": "none"}):  # text stays <text>, not glyph outlines
        render_png(data, path, lang=lang, dpi=60)
    return ET.parse(path).getroot()


def _texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()).strip() for t in root.iter(f"{SVG}text")]


@pytest.fixture(scope="module", params=["zh", "en"])
def saved(
    request: pytest.FixtureRequest, data: MapData, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, ET.Element]:
    lang = str(request.param)
    if lang == "zh":
        assert find_cjk_font() is not None, "install fonts-noto-cjk for Chinese PNG labels"
    path = tmp_path_factory.mktemp("png") / f"map-{lang}.svg"
    return lang, _saved(data, path, lang)


def test_axes_show_plain_degrees(saved: tuple[str, ET.Element]) -> None:
    texts = _texts(saved[1])
    ticks = [t for t in texts if NUMBER.match(t)]
    assert len(ticks) >= 6
    assert all(TICK.match(t) for t in ticks), ticks  # 117.2010°E, never "+1.172e2" or "0.001"
    lons = {t for t in ticks if t.endswith("E")}
    lats = {t for t in ticks if t.endswith("N")}
    assert len(lons) >= 3 and len(lats) >= 3  # distinct labels: enough decimals


def test_labels_in_the_chosen_language(saved: tuple[str, ET.Element], data: MapData) -> None:
    lang, root = saved
    texts = _texts(root)
    given = {data.title, data.run_label}  # data, not interface text
    words = [t for t in texts if not TICK.match(t) and t not in given]
    if lang == "zh":
        assert {"经度", "纬度", "图例", "盲区范围（斜线）", "应建未建（红框）"} <= set(words)
        latin = [t for t in words if re.search(r"[A-Za-z]{3,}", t)]
        assert latin == []  # no "Geodetic longitude [degree]", no "network"
    else:
        assert {"Longitude", "Latitude", "Legend", "Blind zones (hatched)"} <= set(words)
        assert not [t for t in words if re.search(r"[\u4e00-\u9fff]", t)]


def test_every_must_have_branch_unit_is_ringed(
    saved: tuple[str, ET.Element], data: MapData
) -> None:
    root = saved[1]
    units = data.layer("units")
    assert units is not None
    must = int(units["must_have_branch"].sum())
    assert 0 < must < len(units)
    rings = [g for g in root.iter(f"{SVG}g") if g.get("id") == "must_have_branch"]
    assert len(rings) == 1
    assert len(list(rings[0].iter(f"{SVG}use"))) == must
