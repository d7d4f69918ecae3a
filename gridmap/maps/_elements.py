"""folium elements for gridmap's layers and controls.

Each element declares the CDN URLs of the libraries it needs (see
:mod:`gridmap.maps._assets`); the data it writes into the page is JSON made by
:func:`gridmap.maps._escape.script_json`, and the page's loader puts data
values into the DOM as text only.
"""

from __future__ import annotations

from typing import Any

from branca.element import Element, MacroElement
from folium.elements import JSCSSMixin
from folium.map import Layer
from folium.template import Template

from gridmap.maps import _assets
from gridmap.maps._escape import script_json

__all__ = [
    "DataLayer",
    "Legend",
    "LocateControl",
    "MiniMapControl",
    "Runtime",
    "SearchControl",
    "StartLoader",
    "TitleBox",
]


class Runtime(Element):
    """gridmap's own loader JS and CSS, inlined in the page header."""

    def __init__(self) -> None:
        super().__init__()
        css = _assets.asset_text("gridmap/gridmap.css")
        js = _assets.asset_text("gridmap/gridmap.js").replace("</script", "<\\/script")
        self._html = f"<style>{css}</style>\n<script>{js}</script>"

    def render(self, **kwargs: Any) -> str:
        """Return the inline style and script."""
        return self._html


#: Bulky parts of a spec (geometry, attribute columns): a JSON data block, not script.
_BODY_KEYS = ("g", "xy", "cols", "byCell")


class DataLayer(JSCSSMixin, Layer):
    """One overlay built in the browser from a compact spec.

    Polygons become one canvas layer (``GridMap.polygonLayer``), points a feature group
    or a MarkerCluster. The geometry and columns go into a ``<script
    type="application/json">`` block that the loader parses in its own task: as part
    of the page script, V8 would compile megabytes of literals in one long task.
    """

    _data_template = Template("""
        {% macro html(this, kwargs) %}
            <script type="application/json" id="{{ this.get_name() }}_data">
                {{- this.body_json -}}
            </script>
        {% endmacro %}
    """)
    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = {{ this.factory }}({{ this.group_options|tojavascript }});
            GridMap.addLayer({{ this._parent.get_name() }}, {{ this.get_name() }},
                {{ this.spec_json }}, {{ this.words_json }}, "{{ this.get_name() }}_data");
        {% endmacro %}
    """)

    def __init__(
        self,
        name: str,
        spec: dict[str, Any],
        *,
        words: tuple[str, str],
        show: bool = True,
        cluster: bool = False,
    ) -> None:
        super().__init__(name=name, overlay=True, control=True, show=show)
        self._name = "GridmapLayer"
        self.spec_json = script_json({k: v for k, v in spec.items() if k not in _BODY_KEYS})
        self.body_json = script_json({k: spec[k] for k in _BODY_KEYS if k in spec})
        self.words_json = script_json(list(words))
        if spec.get("type") == "polygon":  # one canvas for all features (see gridmap.js)
            self.factory = "GridMap.polygonLayer"
        else:
            self.factory = "L.markerClusterGroup" if cluster else "L.featureGroup"
        self.group_options: dict[str, Any] = (
            {
                "chunkedLoading": True,
                "chunkInterval": 50,  # ms of clustering per slice: keeps the page responsive
                "disableClusteringAtZoom": 17,
                "maxClusterRadius": 50,
            }
            if cluster
            else {}
        )
        if cluster:
            self.default_js = [("markercluster", _assets.CLUSTER_JS)]
            self.default_css = [
                ("markercluster_css", _assets.CLUSTER_CSS[0]),
                ("markercluster_default_css", _assets.CLUSTER_CSS[1]),
            ]

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Render as folium does; the data block goes into the page as it is.

        folium would wrap the block in an ``Element``, whose text Jinja then parses
        as a template: seconds of lexing for the megabytes of a county's units.
        """
        block = self._data_template.module.html(self, kwargs)
        figure: Any = self.get_root()
        figure.html.add_child(_Text(str(block)), name=self.get_name())
        super().render(**kwargs)  # type: ignore[no-untyped-call]


class _Text(Element):
    """Finished page text: written as it is, never parsed as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        """Return the text."""
        return self._text


class StartLoader(MacroElement):
    """Starts building the registered layers; must be the map's last data child."""

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridmapStart"

    _template = Template("""
        {% macro script(this, kwargs) %}
            if ({{ this._parent.get_name() }}.attributionControl) {
                {{ this._parent.get_name() }}.attributionControl.setPrefix('Leaflet');
            }
            GridMap.start();
        {% endmacro %}
    """)


class Legend(MacroElement):
    """Categorical legend; entries are JSON, written into the page as text."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            GridMap.legend({{ this._parent.get_name() }}, {{ this.title_json }},
                {{ this.entries_json }});
        {% endmacro %}
    """)

    def __init__(self, title: str, entries: list[dict[str, str]]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridmapLegend"
        self.title_json = script_json(title)
        self.entries_json = script_json(entries)


class TitleBox(MacroElement):
    """Map title and run label."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            GridMap.title({{ this._parent.get_name() }}, {{ this.title_json }},
                {{ this.subtitle_json }});
        {% endmacro %}
    """)

    def __init__(self, title: str, subtitle: str | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridmapTitle"
        self.title_json = script_json(title)
        self.subtitle_json = script_json(subtitle)


class SearchControl(JSCSSMixin, MacroElement):
    """leaflet-search over the decoded search columns of the layers; tips are built as text.

    ``sourceData`` searches the attribute arrays, so no Leaflet object per feature is needed.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = new L.Control.Search({
                sourceData: GridMap.searchSource,
                formatData: GridMap.searchFormat,
                initial: false,
                zoom: 17,
                marker: false,
                position: 'topleft',
                textPlaceholder: {{ this.placeholder_json }},
                textErr: {{ this.not_found_json }},
                buildTip: GridMap.searchTip
            });
            {{ this.get_name() }}.on('search:locationfound', function (e) {
                GridMap.openFound({{ this._parent.get_name() }}, e.layer, e.latlng);
            });
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
    """)

    default_js = [("leaflet_search_js", _assets.SEARCH_JS)]  # noqa: RUF012 - folium's API
    default_css = [("leaflet_search_css", _assets.SEARCH_CSS)]  # noqa: RUF012 - folium's API

    def __init__(self, placeholder: str, not_found: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridmapSearch"
        self.placeholder_json = script_json(placeholder)
        self.not_found_json = script_json(not_found)


class MiniMapControl(JSCSSMixin, MacroElement):
    """Overview map: the basemap's tiles, or area outlines when there is no basemap."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }}_layer = {% if this.tiles %}L.tileLayer(
                {{ this.tiles|tojavascript }}, {{ this.tile_options|tojavascript }})
                {% else %}GridMap.outlineLayer('areas'){% endif %};
            var {{ this.get_name() }} = new L.Control.MiniMap({{ this.get_name() }}_layer,
                {toggleDisplay: true, position: 'bottomleft', zoomLevelOffset: -4,
                 width: 140, height: 140});
            {{ this._parent.get_name() }}.addControl({{ this.get_name() }});
        {% endmacro %}
    """)

    default_js = [("leaflet_minimap_js", _assets.MINIMAP_JS)]  # noqa: RUF012 - folium's API
    default_css = [("leaflet_minimap_css", _assets.MINIMAP_CSS)]  # noqa: RUF012 - folium's API

    def __init__(self, tiles: str | None, tile_options: dict[str, Any] | None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridmapMiniMap"
        self.tiles = tiles
        self.tile_options = tile_options or {}


class LocateControl(JSCSSMixin, MacroElement):
    """ "Where am I" button for grid workers on phones (leaflet.locatecontrol 0.79)."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            L.control.locate({position: 'topleft', flyTo: false,
                strings: {title: {{ this.title_json }}}}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    default_js = [("leaflet_locate_js", _assets.LOCATE_JS)]  # noqa: RUF012 - folium's API
    default_css = [("leaflet_locate_css", _assets.LOCATE_CSS)]  # noqa: RUF012 - folium's API

    def __init__(self, title: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self._name = "GridmapLocate"
        self.title_json = script_json(title)
