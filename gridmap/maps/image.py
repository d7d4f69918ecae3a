"""Static PNG of a coverage map with matplotlib (:func:`render_png`), no network.

Chinese labels need a CJK font. The first font fontconfig lists for
``:lang=zh`` is used (Debian: package ``fonts-noto-cjk``); without one the
labels fall back to English and a warning is logged.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from gridmap.maps._layers import STATUS_COLORS
from gridmap.maps.data import MapData
from gridmap.maps.i18n import Lang, check_lang, status_label, tr

__all__ = ["find_cjk_font", "render_png"]

logger = logging.getLogger(__name__)

_PREFERRED = ("Noto Sans CJK SC", "Source Han Sans SC", "WenQuanYi", "Noto Serif CJK SC")


@functools.cache
def find_cjk_font() -> str | None:
    """Family name of an installed font with Simplified Chinese glyphs, or None."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return None
    listing = subprocess.run(
        [fc_list, ":lang=zh", "file", "family"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    ).stdout
    fonts: dict[str, str] = {}
    for line in listing.splitlines():
        path, _, families = line.partition(": ")
        for family in families.split(","):
            fonts.setdefault(family.strip(), path.strip())
    for wanted in _PREFERRED:
        for family, path in fonts.items():
            if family.startswith(wanted):
                font_manager.fontManager.addfont(path)
                return font_manager.FontProperties(fname=path).get_name()
    return None


def _language(lang: Lang) -> tuple[Lang, str | None]:
    if lang == "en":
        return "en", None
    family = find_cjk_font()
    if family is None:
        logger.warning(
            "no CJK font found (fc-list :lang=zh is empty): PNG labels fall back "
            "to English; install the Debian package fonts-noto-cjk"
        )
        return "en", None
    return "zh", family


def _draw_polygons(ax: Any, data: MapData) -> list[Any]:
    handles: list[Any] = []
    cells = data.layer("cells")
    if cells is not None:
        colors = (
            cells["status"].map(STATUS_COLORS).fillna("#777777")
            if ("status" in cells.columns)
            else "#777777"
        )
        cells.plot(ax=ax, color=colors, edgecolor="#555555", linewidth=0.2, alpha=0.6)
    for name, style in (
        ("service_areas", {"facecolor": "none", "edgecolor": "#2b8cbe", "linewidth": 0.6}),
        (
            "blind_zones",
            {"facecolor": "none", "edgecolor": "#67001f", "linewidth": 1.2, "hatch": "///"},
        ),
        ("areas", {"facecolor": "none", "edgecolor": "#333333", "linewidth": 1.0}),
    ):
        frame = data.layer(name)
        if frame is not None:
            frame.plot(ax=ax, **style)
    return handles


def _draw_points(ax: Any, data: MapData, lang: Lang) -> list[Any]:
    handles: list[Any] = []
    for name, marker, color, size in (
        ("units", "o", "#542788", 6),
        ("orgs", "^", "#d7191c", 18),
        ("stations", "s", "#2b8cbe", 22),
        ("sites", "*", "#ff7f00", 90),
    ):
        frame = data.layer(name)
        if frame is None:
            continue
        points = frame.geometry.representative_point()
        ax.scatter(
            points.x,
            points.y,
            s=size,
            marker=marker,
            c=color,
            edgecolors="white",
            linewidths=0.4,
            zorder=3,
        )
        handles.append(
            Line2D(
                [], [], marker=marker, color=color, linestyle="", label=tr(f"layer.{name}", lang)
            )
        )
    return handles


def render_png(data: MapData, path: str | Path, *, lang: str = "zh", dpi: int = 150) -> Path:
    """Render the map as a PNG: cells by status, zones, areas, units, orgs, stations, sites.

    Parameters
    ----------
    data
        The layers, in WGS-84 (drawn in plain longitude/latitude, aspect
        corrected for the latitude).
    path
        Output file; parent folders are created.
    lang
        ``"zh"`` (default) or ``"en"``; ``"zh"`` falls back to English when
        no CJK font is installed.
    dpi
        Resolution.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    language, family = _language(check_lang(lang))
    with mpl.rc_context({"font.family": [family or "sans-serif", "sans-serif"]}):
        fig = Figure(figsize=(10, 8))
        ax = fig.subplots()
        _draw_polygons(ax, data)
        handles = [
            Patch(color=c, alpha=0.6, label=status_label(k, language))
            for k, c in STATUS_COLORS.items()
        ]
        handles += _draw_points(ax, data, language)
        bounds = data.focus_bounds()
        if bounds is not None:
            ax.set_aspect(1 / max(0.01, float(np.cos(np.radians((bounds[1] + bounds[3]) / 2)))))
            pad_x = 0.03 * (bounds[2] - bounds[0]) or 0.001
            pad_y = 0.03 * (bounds[3] - bounds[1]) or 0.001
            ax.set_xlim(bounds[0] - pad_x, bounds[2] + pad_x)
            ax.set_ylim(bounds[1] - pad_y, bounds[3] + pad_y)
        ax.legend(
            handles=handles,
            title=tr("legend.title", language),
            loc="lower right",
            fontsize=8,
            framealpha=0.9,
        )
        title = data.title or tr("title", language)
        ax.set_title(title + (f"\n{data.run_label}" if data.run_label else ""), fontsize=12)
        ax.tick_params(labelsize=7)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(target, dpi=dpi, bbox_inches="tight")
    logger.info("rendered %s", target)
    return target
