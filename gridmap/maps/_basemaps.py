"""Basemaps: none, OpenStreetMap, Tianditu (vector, imagery) and Amap/Gaode.

Tianditu is CGCS2000, within centimetres of WGS-84, so overlays are drawn as
stored. Amap is GCJ-02: :func:`gridmap.maps.build.build_map` shifts every
overlay to GCJ-02 before drawing on it (see DOMAIN.md, "Coordinates in China").
Tile URLs are the only network addresses an exported map contains; offline,
the tiles simply do not load and the overlays still work.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Final, Literal

from gridmap.errors import InvalidValueError, UnknownValueError

__all__ = ["BASEMAPS", "BasemapName", "TileSpec", "basemap_tiles", "check_basemap"]

BasemapName = Literal["none", "osm", "tianditu_vec", "tianditu_img", "amap"]

#: Accepted basemap names.
BASEMAPS: Final = ("none", "osm", "tianditu_vec", "tianditu_img", "amap")

_TIANDITU: Final = "https://t{s}.tianditu.gov.cn/DataServer?T={layer}_w&x={x}&y={y}&l={z}&tk={key}"
_TIANDITU_KEY: Final = re.compile(r"[0-9A-Za-z]{8,64}")


@dataclasses.dataclass(frozen=True)
class TileSpec:
    """One tile layer: URL template, attribution (plain text), subdomains, max zoom."""

    url: str
    attribution: str
    subdomains: str = "abc"
    max_zoom: int = 18
    overlay: bool = False


def _tianditu(kind: str, key: str | None) -> list[TileSpec]:
    if key is None or not _TIANDITU_KEY.fullmatch(key):
        given = "nothing" if key is None else f"{len(key)} characters that are not such a key"
        msg = (
            f"basemap {'tianditu_' + kind!r} needs a Tianditu key (tianditu_key): the browser "
            "key from https://console.tianditu.gov.cn, 8-64 letters and digits; got "
            f"{given}. Set it, or choose another basemap (none, osm, amap)"
        )
        raise InvalidValueError(msg, parameter="tianditu_key")
    labels = "cva" if kind == "vec" else "cia"
    attribution = "天地图 © 国家地理信息公共服务平台"
    fill = {"s": "{s}", "x": "{x}", "y": "{y}", "z": "{z}", "key": key}
    return [
        TileSpec(_TIANDITU.format(layer=kind, **fill), attribution, "01234567"),
        TileSpec(_TIANDITU.format(layer=labels, **fill), attribution, "01234567", overlay=True),
    ]


def basemap_tiles(name: str, tianditu_key: str | None = None) -> list[TileSpec]:
    """Tile layers of basemap ``name`` (empty for ``"none"``).

    Raises
    ------
    UnknownValueError
        For an unknown name (``parameter="basemap"``).
    InvalidValueError
        For a Tianditu basemap without a usable key (``parameter="tianditu_key"``).
    """
    if name == "none":
        return []
    if name == "osm":
        return [
            TileSpec(
                "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
                "© OpenStreetMap contributors",
                "",
                19,
            )
        ]
    if name in ("tianditu_vec", "tianditu_img"):
        return _tianditu(name.removeprefix("tianditu_"), tianditu_key)
    if name == "amap":
        return [
            TileSpec(
                "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1"
                "&scale=1&style=8&x={x}&y={y}&z={z}",
                "© 高德地图 AutoNavi",
                "1234",
            )
        ]
    msg = f"unknown basemap {name!r}; use one of {', '.join(BASEMAPS)}"
    raise UnknownValueError(msg, parameter="basemap")


def check_basemap(name: str, tianditu_key: str | None = None) -> None:
    """Refuse, before any work, a basemap that :func:`basemap_tiles` would refuse."""
    basemap_tiles(name, tianditu_key)
