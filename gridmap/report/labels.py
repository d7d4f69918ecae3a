"""Headers of the workbook's columns, Simplified Chinese and English (:data:`COLUMN_LABELS`)."""

from __future__ import annotations

from typing import Final, Literal

__all__ = ["COLUMN_LABELS", "Lang", "column_label"]

Lang = Literal["zh", "en"]

#: ``column key -> (Chinese, English)`` header. The roll-up keys come first, in the
#: order the roll-up sheet shows them; keys a run adds later go after them.
COLUMN_LABELS: Final[dict[str, tuple[str, str]]] = {
    "level": ("级别", "level"),
    "code": ("代码", "code"),
    "name": ("名称", "name"),
    "units": ("单位数", "units"),
    "org_covered": ("组织覆盖数", "organisational"),
    "org_rate": ("组织覆盖率", "organisational rate"),
    "own_covered": ("单独建立数", "own branch"),
    "own_rate": ("单独建立率", "own branch rate"),
    "joint_covered": ("联合建立数", "joint branch"),
    "joint_rate": ("联合建立率", "joint branch rate"),
    "hosted_covered": ("托管覆盖数", "hosted"),
    "hosted_rate": ("托管覆盖率", "hosted rate"),
    "work_covered": ("工作覆盖数", "work"),
    "work_rate": ("工作覆盖率", "work rate"),
    "instructor_covered": ("党建指导员覆盖数", "instructor"),
    "instructor_rate": ("党建指导员覆盖率", "instructor rate"),
    "combined_covered": ("综合覆盖数", "combined"),
    "combined_rate": ("综合覆盖率", "combined rate"),
    "service_covered": ("服务覆盖单位数", "service covered"),
    "service_rate": ("服务覆盖率（单位）", "service rate (units)"),
    "population": ("人口", "population"),
    "population_covered": ("覆盖人口", "population covered"),
    "service_population_rate": ("服务覆盖率（人口）", "service rate (population)"),
    "must_have_branch": ("应建未建", "must have a branch"),
    "branch_idle": ("空转", "idle branch"),
    "idle_orgs": ("闲置组织数", "idle orgs"),
    "idle_stations": ("闲置站点数", "idle stations"),
    "unknown_activity_orgs": ("活动情况不明组织数", "orgs, activity unknown"),
    "unknown_activity_stations": ("活动情况不明站点数", "stations, activity unknown"),
    "orgs_unknown_activity": ("活动情况不明组织数", "orgs, activity unknown"),
    "stations_unknown_activity": ("活动情况不明站点数", "stations, activity unknown"),
    "unknown_orgs": ("活动情况不明组织数", "orgs, activity unknown"),
    "unknown_stations": ("活动情况不明站点数", "stations, activity unknown"),
    "stations": ("站点数", "stations"),
    "counting_stations": ("计入覆盖站点数", "stations counted"),
    "kind": ("类型", "kind"),
    "cell_code": ("网格编码", "cell code"),
    "party_members": ("党员数", "party members"),
    "org_status": ("组织覆盖状态", "org status"),
    "lon": ("经度", "longitude"),
    "lat": ("纬度", "latitude"),
    "what": ("类别", "what"),
    "last_activity": ("最近活动日期", "last activity"),
    "idle_days": ("未活动天数", "days idle"),
    "rank": ("排名", "rank"),
    "area_m2": ("面积（平方米）", "area (m²)"),
    "households": ("户数", "households"),
    "priority": ("优先级", "priority"),
    "cell_codes": ("网格编码", "cell codes"),
    "nearest_station_m": ("最近站点距离（米）", "nearest station (m)"),
    "nearest_counting_station_m": ("最近计入覆盖站点距离（米）", "nearest counting station (m)"),
    "far_from_road": ("远离道路", "far from road"),
    "served": ("服务覆盖", "service covered"),
}


def column_label(key: str, lang: Lang = "zh") -> str:
    """The header of column ``key`` in ``lang``; the key itself when the catalogue lacks it."""
    labels = COLUMN_LABELS.get(key)
    if labels is None:
        return key
    return labels[1] if lang == "en" else labels[0]
