"""Build the interactive coverage map (:func:`build_map`)."""

from __future__ import annotations

import logging
from typing import Final

import folium
from branca.element import Element, Figure
from folium import plugins

from gridmap.domain import UnitKind
from gridmap.maps import _assets
from gridmap.maps._basemaps import BasemapName, TileSpec, basemap_tiles
from gridmap.maps._elements import (
    DataLayer,
    Legend,
    LocateControl,
    MiniMapControl,
    Runtime,
    SearchControl,
    StartLoader,
    TitleBox,
)
from gridmap.maps._escape import html_text
from gridmap.maps._layers import (
    STATUS_COLORS,
    UNIT_KIND_COLORS,
    EncodeOptions,
    LayerSpec,
    layer_specs,
)
from gridmap.maps.data import MapData
from gridmap.maps.i18n import Lang, check_lang, status_label, tr, yes_no

__all__ = ["build_map"]

logger = logging.getLogger(__name__)

_CHINA_VIEW: Final = ((35.0, 105.0), 4)
_MAX_ZOOM: Final = 19


def build_map(
    data: MapData,
    *,
    lang: str = "zh",
    basemap: BasemapName = "none",
    tianditu_key: str | None = None,
    include_personal: bool = False,
    encode: EncodeOptions | None = None,
) -> folium.Map:
    """Build the coverage map of ``data``.

    Parameters
    ----------
    data
        The layers, in WGS-84.
    lang
        ``"zh"`` (Simplified Chinese, default) or ``"en"`` for every label.
    basemap
        ``"none"`` (default: works offline), ``"osm"``, ``"tianditu_vec"``,
        ``"tianditu_img"`` (both need ``tianditu_key``) or ``"amap"``. With
        ``"amap"`` every overlay is shifted to GCJ-02 before drawing.
    tianditu_key
        Tianditu browser key, written into the tile URLs (``tk=``).
    include_personal
        Draw grid workers and their phone numbers; off by default.
    encode
        Coordinate precision, simplification and clustering threshold.

    Returns
    -------
    folium.Map
        Saved with ``.save()`` it loads its libraries from CDNs; use
        :func:`gridmap.maps.export_html` for one self-contained offline file.
    """
    language = check_lang(lang)
    tiles = basemap_tiles(basemap, tianditu_key)
    drawn = data.to_gcj02() if basemap == "amap" else data
    specs = layer_specs(
        drawn, language, encode or EncodeOptions(), include_personal=include_personal
    )
    fmap = _new_map(drawn)
    title = data.title or tr("title", language)
    root = fmap.get_root()
    assert isinstance(root, Figure)
    root.header.add_child(Element(f"<title>{html_text(title)}</title>"), name="gridmap_title")
    root.header.add_child(Runtime(), name="gridmap_runtime")
    _add_basemap(fmap, tiles, basemap, language)
    _add_layers(fmap, specs, language)
    _add_controls(fmap, tiles, language)
    TitleBox(title, data.run_label).add_to(fmap)
    Legend(tr("legend.title", language), _legend_entries(specs, language)).add_to(fmap)
    StartLoader().add_to(fmap)
    logger.info("built map: %d layers, basemap %s, lang %s", len(specs), basemap, language)
    return fmap


def _new_map(data: MapData) -> folium.Map:
    bounds = data.focus_bounds()
    center, zoom = (
        _CHINA_VIEW
        if bounds is None
        else (((bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2), 12)
    )
    fmap = folium.Map(
        location=center, zoom_start=zoom, tiles=None, prefer_canvas=True, control_scale=True
    )
    fmap.options["max_zoom"] = _MAX_ZOOM  # MarkerCluster needs it when there are no tiles
    # Only Leaflet itself: no jQuery, Bootstrap, icon fonts or awesome-markers.
    fmap.default_js = [("leaflet", _assets.LEAFLET_JS)]
    fmap.default_css = [("leaflet_css", _assets.LEAFLET_CSS)]
    if bounds is not None:
        fmap.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return fmap


def _add_basemap(fmap: folium.Map, tiles: list[TileSpec], basemap: str, lang: Lang) -> None:
    for i, tile in enumerate(tiles):
        name = tr(f"basemap.{basemap}", lang) + (f" ({i})" if tile.overlay else "")
        folium.TileLayer(
            tiles=tile.url,
            attr=tile.attribution,
            name=name,
            subdomains=tile.subdomains or "abc",
            max_zoom=tile.max_zoom,
            overlay=tile.overlay,
            control=True,
        ).add_to(fmap)


def _add_layers(fmap: folium.Map, specs: list[LayerSpec], lang: Lang) -> None:
    words = yes_no(lang)
    for spec in specs:
        DataLayer(
            html_text(spec.name), spec.spec, words=words, show=spec.show, cluster=spec.cluster
        ).add_to(fmap)


def _add_controls(fmap: folium.Map, tiles: list[TileSpec], lang: Lang) -> None:
    plugins.Fullscreen(  # type: ignore[no-untyped-call]
        position="topleft",
        title=tr("ctl.fullscreen", lang),
        title_cancel=tr("ctl.fullscreen_exit", lang),
        force_separate_button=True,
    ).add_to(fmap)
    plugins.MeasureControl(  # type: ignore[no-untyped-call]
        position="topleft",
        primary_length_unit="meters",
        secondary_length_unit="kilometers",
        primary_area_unit="sqmeters",
        secondary_area_unit="hectares",
        localization="cn" if lang == "zh" else "en",
    ).add_to(fmap)
    LocateControl(tr("ctl.locate", lang)).add_to(fmap)
    SearchControl(tr("ctl.search", lang), tr("ctl.search_none", lang)).add_to(fmap)
    base = next((t for t in tiles if not t.overlay), None)
    MiniMapControl(
        base.url if base else None,
        {"subdomains": base.subdomains or "abc", "attribution": ""} if base else None,
    ).add_to(fmap)
    folium.LayerControl(position="topright", collapsed=True).add_to(fmap)


def _legend_entries(specs: list[LayerSpec], lang: Lang) -> list[dict[str, str]]:
    present = {s.layer_id for s in specs}
    entries: list[dict[str, str]] = []
    if "cells" in present:
        entries.append({"h": tr("legend.cells", lang)})
        entries += [
            {"sw": "fill", "c": c, "t": status_label(k, lang)} for k, c in STATUS_COLORS.items()
        ]
    if "units" in present:
        entries.append({"h": tr("legend.units", lang)})
        entries += [
            {"sw": "dot", "c": c, "t": UnitKind(k).label(lang)} for k, c in UNIT_KIND_COLORS.items()
        ]
        entries.append({"sw": "ring", "t": tr("legend.must_build", lang)})
    symbols = [
        ("orgs", {"sym": "flag"}),
        ("stations", {"sym": "square"}),
        ("sites", {"sym": "star"}),
        ("blind_zones", {"sw": "fill", "c": "rgba(103,0,31,0.25)", "b": "#67001f"}),
        ("service_areas", {"sw": "fill", "c": "rgba(43,140,190,0.15)", "b": "#2b8cbe"}),
        ("areas", {"sw": "line"}),
    ]
    shown = [
        {**entry, "t": tr(f"layer.{layer}", lang)} for layer, entry in symbols if layer in present
    ]
    if any(s.cluster for s in specs):  # cluster bubbles: a neutral colour, explained
        shown.append({"sw": "cluster", "t": tr("legend.cluster", lang)})
    if any("byCell" in s.spec for s in specs):  # units drawn per cell when zoomed in
        shown.append({"sw": "cluster", "t": tr("legend.by_cell", lang)})
    if shown:
        entries.append({"h": tr("legend.symbols", lang)})
        entries += shown
    return entries
