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
from typing import Any, Final

import matplotlib as mpl
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter

from gridmap.maps._layers import ALERT_COLOR, STATUS_COLORS
from gridmap.maps.data import MapData
from gridmap.maps.i18n import Lang, check_lang, status_label, tr

__all__ = ["find_cjk_font", "render_figure", "render_png"]

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
    """The label language and font: the CJK font in English too, for Chinese names and titles."""
    family = find_cjk_font()
    if lang == "en":
        return "en", family
    if family is None:
        logger.warning(
            "no CJK font found (fc-list :lang=zh is empty): PNG labels fall back "
            "to English; install the Debian package fonts-noto-cjk"
        )
        return "en", None
    return "zh", family


_HATCHED: Final[dict[str, Any]] = {
    "facecolor": "none",
    "edgecolor": "#67001f",
    "linewidth": 1.2,
    "hatch": "///",
}
_POLYGON_STYLES: Final[tuple[tuple[str, dict[str, Any]], ...]] = (
    ("service_areas", {"facecolor": "none", "edgecolor": "#2b8cbe", "linewidth": 0.6}),
    ("blind_zones", _HATCHED),
    ("areas", {"facecolor": "none", "edgecolor": "#333333", "linewidth": 1.0}),
)


def _draw_polygons(ax: Any, data: MapData, lang: Lang) -> list[Any]:
    """Cells by status, then service areas, blind zones and areas; their legend entries."""
    handles: list[Any] = []
    cells = data.layer("cells")
    if cells is not None:
        colors = (
            cells["status"].map(STATUS_COLORS).fillna("#777777")
            if ("status" in cells.columns)
            else "#777777"
        )
        cells.plot(ax=ax, color=colors, edgecolor="#555555", linewidth=0.2, alpha=0.6)
        handles += [
            Patch(color=c, alpha=0.6, label=status_label(k, lang)) for k, c in STATUS_COLORS.items()
        ]
    for name, style in _POLYGON_STYLES:
        frame = data.layer(name)
        if frame is not None:
            frame.plot(ax=ax, **style)
            handles.append(Patch(**style, label=tr(f"legend.png.{name}", lang)))
    return handles


class _Degrees(Formatter):
    """Tick labels in plain degrees (117.20°E, 28.30°N), as many decimals as the ticks need.

    Never an offset (``+4e1``) or scientific notation: planners read the numbers off.
    """

    def __init__(self, positive: str, negative: str) -> None:
        self.hemispheres = (positive, negative)
        self.decimals = 2

    def format_ticks(self, values: Any) -> list[str]:
        steps = np.abs(np.diff(np.asarray(values, dtype=float)))
        steps = steps[steps > 0]
        if len(steps):
            self.decimals = max(0, min(6, int(np.ceil(-np.log10(steps.min()) - 1e-9))))
        return [self(v, i) for i, v in enumerate(values)]

    def __call__(self, x: float, pos: int | None = None) -> str:
        hemisphere = self.hemispheres[0] if x >= 0 else self.hemispheres[1]
        return f"{abs(x):.{self.decimals}f}°{hemisphere}"


def _axes(ax: Any, lang: Lang) -> None:
    """Plain degree ticks (no offset notation) and axis titles in ``lang``."""
    ax.xaxis.set_major_formatter(_Degrees("E", "W"))
    ax.yaxis.set_major_formatter(_Degrees("N", "S"))
    ax.set_xlabel(tr("axis.lon", lang), fontsize=8)
    ax.set_ylabel(tr("axis.lat", lang), fontsize=8)
    ax.tick_params(labelsize=7)


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
        if name == "units":
            handles += _draw_must_build(ax, frame, points, lang)
    return handles


def _draw_must_build(ax: Any, units: Any, points: Any, lang: Lang) -> list[Any]:
    """A red ring around every unit flagged 应建未建, as on the HTML map."""
    if "must_have_branch" not in units.columns:
        return []
    must = units["must_have_branch"].fillna(False).astype(bool).to_numpy()
    if not must.any():
        return []
    ax.scatter(
        points.x[must],
        points.y[must],
        s=40,
        marker="o",
        facecolors="none",
        edgecolors=ALERT_COLOR,
        linewidths=1.2,
        zorder=4,
        gid="must_have_branch",
    )
    label = tr("legend.must_build", lang)
    return [
        Line2D(
            [], [], marker="o", linestyle="", markerfacecolor="none", color=ALERT_COLOR, label=label
        )
    ]


def _fonts(family: str | None) -> Any:
    return mpl.rc_context({"font.family": [family or "sans-serif", "sans-serif"]})


def render_figure(data: MapData, *, lang: str = "zh") -> Figure:
    """The map as a matplotlib figure (what :func:`render_png` saves), laid out and drawn.

    Cells by status, service areas, hatched blind zones, area boundaries, units
    (应建未建 ringed red), organisations, stations and sites, each in the legend;
    axes in plain degrees (117.20°E), every label in ``lang`` (``"zh"`` falls
    back to English when no CJK font is installed).
    """
    language, family = _language(check_lang(lang))
    with _fonts(family):
        fig = Figure(figsize=(10, 8))
        FigureCanvasAgg(fig)
        ax = fig.subplots()
        handles = _draw_polygons(ax, data, language)
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
        _axes(ax, language)
        fig.canvas.draw()  # ticks and their labels exist, in the CJK font
    return fig


def render_png(data: MapData, path: str | Path, *, lang: str = "zh", dpi: int = 150) -> Path:
    """Render the map as a PNG (see :func:`render_figure`).

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
    fig = render_figure(data, lang=lang)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    with _fonts(_language(check_lang(lang))[1]):
        fig.savefig(target, dpi=dpi, bbox_inches="tight")
    logger.info("rendered %s", target)
    return target
