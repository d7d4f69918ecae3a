"""Write a map as ONE self-contained HTML file that works offline (:func:`export_html`).

folium renders ``<script src=CDN>`` and ``<link href=CDN>`` tags. Each CDN URL
is looked up in :data:`gridmap.maps._assets.ASSETS` and replaced by the
vendored file's content; images that CSS refers to become ``data:`` URIs. An
unknown external asset raises :class:`UnknownAssetError` instead of producing a
page that silently breaks offline. Afterwards the page is checked: no
``src``/``href``/``url()`` may point at http(s) (basemap tile URL templates
live in JavaScript strings and are the only addresses left).
"""

from __future__ import annotations

import base64
import logging
import mimetypes
import posixpath
import re
from pathlib import Path
from typing import Final

import folium

from gridmap.maps import _assets
from gridmap.maps._basemaps import BasemapName
from gridmap.maps._layers import EncodeOptions
from gridmap.maps.build import build_map
from gridmap.maps.data import MapData

__all__ = ["UnknownAssetError", "export_html", "inline_assets"]

logger = logging.getLogger(__name__)

_SCRIPT_TAG: Final = re.compile(
    r"""<script\b[^>]*\bsrc=["']([^"']+)["'][^>]*>\s*</script>""", re.IGNORECASE
)
_LINK_TAG: Final = re.compile(r"""<link\b[^>]*\bhref=["']([^"']+)["'][^>]*/?>""", re.IGNORECASE)
_INLINE_SCRIPT: Final = re.compile(r"<script\b[^>]*>.*?</script>", re.IGNORECASE | re.DOTALL)
_CSS_URL: Final = re.compile(r"""url\(\s*(["']?)([^"')]+)\1\s*\)""")
_REMOTE_REFERENCE: Final = re.compile(
    r"""(?:\b(?:src|href)\s*=\s*["']?\s*|url\(\s*["']?\s*|@import\s+["']?)(?:https?:)?//""",
    re.IGNORECASE,
)


class UnknownAssetError(ValueError):
    """A page refers to a JS/CSS file that is not vendored under ``gridmap/maps/assets``."""


def _asset_for(url: str) -> str:
    try:
        return _assets.ASSETS[url]
    except KeyError:
        msg = (
            f"external asset {url!r} is not vendored, so the exported map would not work "
            "offline. Vendor it under gridmap/maps/assets (npm pack <pkg>@<version>), "
            "list it in assets/README.md and map the URL in gridmap/maps/_assets.py"
        )
        raise UnknownAssetError(msg) from None


def _data_uri(relative: str) -> str:
    mime = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    payload = base64.b64encode(_assets.asset_bytes(relative)).decode("ascii")
    return f"data:{mime};base64,{payload}"


def _inline_css(relative: str) -> str:
    folder = posixpath.dirname(relative)

    def replace(match: re.Match[str]) -> str:
        target = match.group(2).strip()
        if target.startswith(("data:", "#")):
            return match.group(0)
        if re.match(r"(?:https?:)?//", target):
            msg = f"{relative} refers to the remote file {target!r}; vendor it and inline it"
            raise UnknownAssetError(msg)
        return f'url("{_data_uri(posixpath.normpath(posixpath.join(folder, target)))}")'

    css = _CSS_URL.sub(replace, _assets.asset_text(relative))
    return css.replace("</style", "<\\/style")


def _script(match: re.Match[str]) -> str:
    js = _assets.asset_text(_asset_for(match.group(1))).replace("</script", "<\\/script")
    return f"<script>{js}\n</script>"


def _style(match: re.Match[str]) -> str:
    tag, href = match.group(0), match.group(1)
    if "stylesheet" not in tag.lower():
        if re.match(r"(?:https?:)?//", href):
            msg = f"unexpected external <link> {tag!r}"
            raise UnknownAssetError(msg)
        return tag
    return f"<style>{_inline_css(_asset_for(href))}\n</style>"


def inline_assets(page: str) -> str:
    """Replace every CDN ``<script src>``/``<link href>`` in ``page`` by vendored content.

    The HTML around the inlined libraries and outside inline scripts is then
    checked for remote ``src``/``href``/``url()``/``@import`` references. Data
    and tile URL templates live inside scripts as JSON/JS strings; the
    libraries' own source text (licence comments) is not rewritten.

    Raises
    ------
    UnknownAssetError
        When the page refers to a file that is not vendored, or still has a
        remote reference.
    """
    blocks: list[str] = []

    def hold(text: str) -> str:
        blocks.append(text)
        return f"\x00gridmap-asset-{len(blocks) - 1}\x00"

    skeleton = _SCRIPT_TAG.sub(lambda m: hold(_script(m)), page)
    skeleton = _LINK_TAG.sub(lambda m: hold(_style(m)), skeleton)
    leftover = _REMOTE_REFERENCE.search(_INLINE_SCRIPT.sub("", skeleton))
    if leftover:
        start = max(0, leftover.start() - 80)
        context = leftover.string[start : leftover.end() + 80]
        msg = f"remote reference left after inlining: {context!r}"
        raise UnknownAssetError(msg)
    return re.sub("\x00gridmap-asset-(\\d+)\x00", lambda m: blocks[int(m.group(1))], skeleton)


_MAP_DEFAULTS: Final[dict[str, object]] = {
    "lang": "zh",
    "basemap": "none",
    "tianditu_key": None,
    "include_personal": False,
    "encode": None,
}


def export_html(
    map_or_data: folium.Map | MapData,
    path: str | Path,
    *,
    lang: str = "zh",
    basemap: BasemapName = "none",
    tianditu_key: str | None = None,
    include_personal: bool = False,
    encode: EncodeOptions | None = None,
) -> Path:
    """Write one self-contained HTML file, with every script and style inlined.

    Parameters
    ----------
    map_or_data
        A map from :func:`gridmap.maps.build_map`, or :class:`MapData` to build
        one from with the options below.
    path
        Output file; parent folders are created.
    lang, basemap, tianditu_key, include_personal, encode
        As :func:`gridmap.maps.build_map`; only with :class:`MapData` (a built map
        already has them: giving one with a map is a ``TypeError``).

    Returns
    -------
    pathlib.Path
        The written file.
    """
    options = {
        "lang": lang,
        "basemap": basemap,
        "tianditu_key": tianditu_key,
        "include_personal": include_personal,
        "encode": encode,
    }
    if isinstance(map_or_data, MapData):
        fmap = build_map(
            map_or_data,
            lang=lang,
            basemap=basemap,
            tianditu_key=tianditu_key,
            include_personal=include_personal,
            encode=encode,
        )
    else:
        given = sorted(k for k, v in options.items() if v != _MAP_DEFAULTS[k])
        if given:
            msg = f"build options {given} only apply when given MapData, not a built map"
            raise TypeError(msg)
        fmap = map_or_data
    page = inline_assets(fmap.get_root().render())
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page, encoding="utf-8")
    logger.info("exported %s (%.0f kB)", target, target.stat().st_size / 1024)
    return target
