"""The vendored JavaScript/CSS and the CDN addresses they replace.

folium and gridmap's own elements name their libraries by CDN URL, so a map
saved with :meth:`folium.Map.save` works online. :mod:`gridmap.maps.html`
replaces each URL by the file listed here (``assets/README.md`` records the
package, exact version, licence and registry of each).
"""

from __future__ import annotations

from importlib import resources
from importlib.resources.abc import Traversable
from typing import Final

__all__ = [
    "ASSETS",
    "CLUSTER_CSS",
    "CLUSTER_JS",
    "LOCATE_CSS",
    "LOCATE_JS",
    "MINIMAP_CSS",
    "MINIMAP_JS",
    "SEARCH_CSS",
    "SEARCH_JS",
    "asset_bytes",
    "asset_text",
]

_JSD: Final = "https://cdn.jsdelivr.net/npm"
_CDNJS: Final = "https://cdnjs.cloudflare.com/ajax/libs"
_FULLSCREEN: Final = f"{_JSD}/leaflet.fullscreen@3.0.0"
_MEASURE: Final = "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist"

LEAFLET_JS: Final = f"{_JSD}/leaflet@1.9.3/dist/leaflet.js"
LEAFLET_CSS: Final = f"{_JSD}/leaflet@1.9.3/dist/leaflet.css"
CLUSTER_JS: Final = f"{_JSD}/leaflet.markercluster@1.5.3/dist/leaflet.markercluster.js"
CLUSTER_CSS: Final = (
    f"{_JSD}/leaflet.markercluster@1.5.3/dist/MarkerCluster.css",
    f"{_JSD}/leaflet.markercluster@1.5.3/dist/MarkerCluster.Default.css",
)
MINIMAP_JS: Final = f"{_CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.js"
MINIMAP_CSS: Final = f"{_CDNJS}/leaflet-minimap/3.6.1/Control.MiniMap.css"
SEARCH_JS: Final = f"{_JSD}/leaflet-search@2.9.7/dist/leaflet-search.min.js"
SEARCH_CSS: Final = f"{_JSD}/leaflet-search@2.9.7/dist/leaflet-search.min.css"
LOCATE_JS: Final = f"{_JSD}/leaflet.locatecontrol@0.79.0/dist/L.Control.Locate.min.js"
LOCATE_CSS: Final = f"{_JSD}/leaflet.locatecontrol@0.79.0/dist/L.Control.Locate.min.css"

#: CDN URL -> file under ``gridmap/maps/assets``. folium's own defaults come first.
ASSETS: Final[dict[str, str]] = {
    LEAFLET_JS: "leaflet/leaflet.js",
    LEAFLET_CSS: "leaflet/leaflet.css",
    f"{_FULLSCREEN}/Control.FullScreen.min.js": "leaflet.fullscreen/Control.FullScreen.js",
    f"{_FULLSCREEN}/Control.FullScreen.css": "leaflet.fullscreen/Control.FullScreen.css",
    f"{_MEASURE}/leaflet-measure.min.js": "leaflet-measure/leaflet-measure.min.js",
    f"{_MEASURE}/leaflet-measure.min.css": "leaflet-measure/leaflet-measure.css",
    MINIMAP_JS: "leaflet-minimap/Control.MiniMap.min.js",
    MINIMAP_CSS: "leaflet-minimap/Control.MiniMap.min.css",
    SEARCH_JS: "leaflet-search/dist/leaflet-search.min.js",
    SEARCH_CSS: "leaflet-search/dist/leaflet-search.min.css",
    LOCATE_JS: "leaflet.locatecontrol/L.Control.Locate.min.js",
    LOCATE_CSS: "leaflet.locatecontrol/L.Control.Locate.min.css",
    CLUSTER_JS: "leaflet.markercluster/leaflet.markercluster.js",
    CLUSTER_CSS[0]: "leaflet.markercluster/MarkerCluster.css",
    CLUSTER_CSS[1]: "leaflet.markercluster/MarkerCluster.Default.css",
}


def _path(relative: str) -> Traversable:
    node = resources.files("gridmap.maps").joinpath("assets")
    for part in relative.split("/"):
        node = node.joinpath(part)
    return node


def asset_text(relative: str) -> str:
    """Text of a vendored file, e.g. ``"leaflet/leaflet.css"``."""
    return _path(relative).read_text(encoding="utf-8")


def asset_bytes(relative: str) -> bytes:
    """Bytes of a vendored file (images referenced from CSS)."""
    return _path(relative).read_bytes()
