"""The basemap under the worker's cell map, from settings, and the tile hosts the CSP allows.

The tile layers come from :func:`gridmap.maps._basemaps.basemap_tiles` (the export's list),
imported only when a basemap is set, so a server without one never loads the map stack.
"""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from gridmap.settings import Settings

__all__ = ["tile_layers", "tile_origins"]


@functools.cache
def _layers(name: str, key: str | None) -> tuple[dict[str, Any], ...]:
    if name == "none":
        return ()
    from gridmap.maps._basemaps import basemap_tiles  # the map stack, only when needed

    return tuple(
        {
            "url": t.url,
            "attribution": t.attribution,
            "subdomains": t.subdomains,
            "maxZoom": t.max_zoom,
        }
        for t in basemap_tiles(name, key)
    )


def tile_layers(settings: Settings) -> list[dict[str, Any]]:
    """Leaflet tile layers of ``settings.web.basemap`` (none: an empty list).

    Raises the export's error for an unknown basemap or a Tianditu one without a key.
    """
    key = settings.tianditu_key.get_secret_value() if settings.tianditu_key else None
    return list(_layers(settings.web.basemap, key))


def tile_origins(settings: Settings) -> tuple[str, ...]:
    """CSP host sources of the tiles (``https://*.example.com`` for ``{s}`` subdomains)."""
    origins = []
    for layer in tile_layers(settings):
        parts = urlsplit(layer["url"])
        host = parts.hostname or ""
        if "{s}" in parts.netloc:
            host = "*" + parts.netloc.split("{s}", 1)[1]  # webrd0{s}.is.x.com: *.is.x.com
        origins.append(f"{parts.scheme}://{host}")
    return tuple(dict.fromkeys(origins))
