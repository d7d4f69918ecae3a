"""Interactive and static coverage maps: one offline HTML file, or a PNG.

>>> from gridmap.maps import MapData, build_map, export_html   # doctest: +SKIP
>>> export_html(MapData(cells=cells, units=units), "map.html")  # doctest: +SKIP
"""

from gridmap.maps._basemaps import BASEMAPS
from gridmap.maps._layers import EncodeOptions
from gridmap.maps.build import build_map
from gridmap.maps.data import LAYER_COLUMNS, MapData
from gridmap.maps.html import UnknownAssetError, export_html
from gridmap.maps.image import render_figure, render_png

__all__ = [
    "BASEMAPS",
    "LAYER_COLUMNS",
    "EncodeOptions",
    "MapData",
    "UnknownAssetError",
    "build_map",
    "export_html",
    "render_figure",
    "render_png",
]
