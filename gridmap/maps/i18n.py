"""User-interface text of the maps, Simplified Chinese first, English second.

Every label shown on a map (layer names, legend entries, popup field names,
control tooltips) comes from :data:`TEXT`; data values never do, so this table
is the only place to translate. Enumerated data values (unit kinds, station
tiers, ...) are translated through :meth:`gridmap.domain.DomainEnum.label`.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["LANGS", "TEXT", "Lang", "check_lang", "status_label", "tr", "yes_no"]

Lang = Literal["zh", "en"]

#: Supported interface languages.
LANGS: Final = ("zh", "en")

#: ``key -> (Simplified Chinese, English)``.
TEXT: Final[dict[str, tuple[str, str]]] = {
    # page and layers
    "title": ("网格党建覆盖地图", "Grid party-building coverage map"),
    "layer.areas": ("行政区划", "Administrative areas"),
    "layer.cells": ("网格", "Grid cells"),
    "layer.blind_zones": ("盲区", "Blind zones"),
    "layer.units": ("单位", "Units"),
    "layer.orgs": ("党组织", "Party organisations"),
    "layer.stations": ("党群服务站", "Service stations"),
    "layer.service_areas": ("服务范围", "Service areas"),
    "layer.sites": ("推荐选址", "Recommended sites"),
    "layer.workers": ("网格员", "Grid workers"),
    "basemap.none": ("无底图", "No basemap"),
    "basemap.osm": ("OpenStreetMap", "OpenStreetMap"),
    "basemap.tianditu_vec": ("天地图矢量", "Tianditu vector"),
    "basemap.tianditu_img": ("天地图影像", "Tianditu imagery"),
    "basemap.amap": ("高德地图", "Amap (Gaode)"),
    # cell status
    "status.covered": ("已覆盖", "covered"),
    "status.partial": ("部分覆盖", "partially covered"),
    "status.blind": ("盲区", "blind zone"),
    "status.empty": ("无单位", "no units"),
    # legend
    "legend.title": ("图例", "Legend"),
    "legend.cells": ("网格覆盖状态", "Cell coverage"),
    "legend.units": ("单位类型", "Unit kinds"),
    "legend.symbols": ("符号", "Symbols"),
    "legend.must_build": ("应建未建（红框）", "should have a branch, has none (red ring)"),
    "legend.cluster": ("聚合点（数字为点数）", "cluster (number of points)"),
    "legend.by_cell": (
        "单位按网格汇总（数字为单位数），放大或点击网格显示单位",
        "units summed per cell (number of units); zoom in or click a cell to see them",
    ),
    "legend.png.blind_zones": ("盲区范围（斜线）", "Blind zones (hatched)"),
    "legend.png.service_areas": ("服务范围", "Service areas"),
    "legend.png.areas": ("行政区划界线", "Administrative boundaries"),
    # static image axes
    "axis.lon": ("经度", "Longitude"),
    "axis.lat": ("纬度", "Latitude"),
    # fields
    "f.code": ("网格编码", "cell code"),
    "f.area_code": ("区划代码", "area code"),
    "f.name": ("名称", "name"),
    "f.level": ("级别", "level"),
    "f.area_name": ("所属村（社区）", "village / community"),
    "f.status": ("覆盖状态", "coverage status"),
    "f.units_total": ("单位数", "units"),
    "f.units_covered": ("已覆盖单位", "units covered"),
    "f.units_of": ("单位：", "units: "),
    "f.units_unserved": ("未获服务覆盖单位", "units not served"),
    "f.units_no_org": ("无党组织覆盖单位", "units without an organisation"),
    "f.units_must": ("应建未建单位", "units that must have a branch"),
    "f.population": ("人口", "population"),
    "f.rank": ("序号", "rank"),
    "f.area_m2": ("面积（平方米）", "area (m²)"),
    "f.units": ("单位数", "units"),
    "f.priority": ("优先级", "priority"),
    "f.kind": ("类型", "kind"),
    "f.cell_code": ("网格编码", "cell code"),
    "f.org_status": ("组织覆盖状态", "organisational status"),
    "f.must_have_branch": ("应单独建支部", "must have own branch"),
    "f.service_covered": ("服务覆盖", "service covered"),
    "f.nearest_station": ("最近服务站", "nearest station"),
    "f.nearest_station_m": ("距离（米）", "distance (m)"),
    "f.party_members": ("党员数", "party members"),
    "f.members": ("党员数", "members"),
    "f.idle": ("空转", "idle"),
    "f.tier": ("层级", "tier"),
    "f.station_name": ("服务站", "station"),
    "f.marginal_gain": ("新增覆盖", "marginal gain"),
    "f.source": ("来源", "source"),
    "f.phone": ("电话", "phone"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # controls
    "ctl.search": ("搜索名称或网格编码", "Search a name or cell code"),
    "ctl.search_none": ("未找到", "Not found"),
    "ctl.fullscreen": ("全屏", "Full screen"),
    "ctl.fullscreen_exit": ("退出全屏", "Exit full screen"),
    "ctl.locate": ("显示我的位置", "Show my location"),
    "ctl.run": ("批次", "run"),
    # how a run measured reach
    "mode.radius": ("直线距离", "straight line"),
    "mode.network": ("路网", "road network"),
    "profile.walk": ("（步行）", " (walking)"),
    "profile.drive": ("（驾车）", " (driving)"),
}


def check_lang(lang: str) -> Lang:
    """Return ``lang`` if supported, else raise a ValueError naming the choices."""
    if lang == "zh":
        return "zh"
    if lang == "en":
        return "en"
    msg = f"unsupported lang {lang!r}: use 'zh' (Simplified Chinese, default) or 'en'"
    raise ValueError(msg)


def tr(key: str, lang: Lang) -> str:
    """Translate an interface key; unknown keys raise KeyError (a bug, not data)."""
    zh, en = TEXT[key]
    return en if lang == "en" else zh


def status_label(status: str, lang: Lang) -> str:
    """Label of a cell status (``covered``/``partial``/``blind``), or the raw value."""
    key = f"status.{status}"
    return tr(key, lang) if key in TEXT else status


def yes_no(lang: Lang) -> tuple[str, str]:
    """The words for true and false."""
    return tr("yes", lang), tr("no", lang)
