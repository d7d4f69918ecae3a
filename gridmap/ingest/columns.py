"""Map source column headers to canonical fields, with Chinese aliases.

Headers are matched after normalisation (:func:`normalise_header`): Unicode
NFKC (full-width letters become ASCII), case folded, spaces, ``_`` and ``-``
removed, and a trailing unit in brackets dropped, so ``"人口（人）"``,
``" Party_Members "`` and ``"经度(GCJ-02)"`` match ``人口``, ``partymembers`` and
``经度``. Explicit choices always win over aliases: ``columns={"name": "单位全称"}``,
``id_col=``, ``name_col=``, ``lon_col=``, ``lat_col=``.

Aliases per canonical field (the English field name itself always matches):

=============== ================================================================
field           aliases
=============== ================================================================
source_id       id, 标识, 唯一标识, 单位编号, 组织编号, 站点编号, 人员编号; and
                编号/编码/代码 for kinds without a ``code`` field
code            编号, 编码, 代码, 网格编码, 网格编号, 区划代码, 行政区划代码
name            名称, 名字, 单位名称, 组织名称, 党组织名称, 站点名称, 网格名称,
                区划名称, 道路名称, 姓名
level           层级, 级别, 行政级别, admin_level
parent_code     上级编码, 上级代码, 上级区划代码
area_code       所属社区, 所属村, 所属村社区, 所属社区编码, 社区编码, 所属区划代码
kind            type, 类型, 类别, 单位类型, 组织类型
tier            层级, 级别, 站点层级, 站点级别
households      户数, 住户数
population      人口, 人口数, 常住人口, 人数
party_members   党员数, 党员人数, 党员
members         党员数, 党员人数, 成员数
address         地址, 详细地址, 单位地址
established     成立日期, 成立时间
last_activity   最近活动日期, 最后活动时间, 最近活动时间, 最后活动日期
covers          覆盖单位, 联系单位, 指导单位
own_unit        所在单位, 所属单位, 本单位
phone           电话, 联系电话, 手机, 手机号
cells           负责网格, 所辖网格, 网格
capacity        容量, 容纳人数
highway         道路等级
oneway          单行, 单行道
=============== ================================================================

Longitude columns: lon, lng, long, longitude, x, 经度, 东经; latitude columns:
lat, latitude, y, 纬度, 北纬.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from gridmap.ingest.records import FIELDS, REQUIRED, RecordKind

__all__ = [
    "ALIASES",
    "LAT_ALIASES",
    "LON_ALIASES",
    "ColumnMap",
    "normalise_header",
    "resolve_columns",
]

ALIASES: Final[dict[str, tuple[str, ...]]] = {
    "source_id": ("id", "标识", "唯一标识", "单位编号", "组织编号", "站点编号", "人员编号"),
    "code": ("编号", "编码", "代码", "网格编码", "网格编号", "区划代码", "行政区划代码"),
    "name": (
        "名称",
        "名字",
        "单位名称",
        "组织名称",
        "党组织名称",
        "站点名称",
        "网格名称",
        "区划名称",
        "道路名称",
        "姓名",
    ),
    "level": ("层级", "级别", "行政级别", "admin_level"),
    "parent_code": ("上级编码", "上级代码", "上级区划代码"),
    "area_code": ("所属社区", "所属村", "所属村社区", "所属社区编码", "社区编码", "所属区划代码"),
    "kind": ("type", "类型", "类别", "单位类型", "组织类型"),
    "tier": ("层级", "级别", "站点层级", "站点级别"),
    "households": ("户数", "住户数"),
    "population": ("人口", "人口数", "常住人口", "人数"),
    "party_members": ("党员数", "党员人数", "党员"),
    "members": ("党员数", "党员人数", "成员数"),
    "address": ("地址", "详细地址", "单位地址"),
    "established": ("成立日期", "成立时间"),
    "last_activity": ("最近活动日期", "最后活动时间", "最近活动时间", "最后活动日期"),
    "covers": ("覆盖单位", "联系单位", "指导单位"),
    "own_unit": ("所在单位", "所属单位", "本单位"),
    "phone": ("电话", "联系电话", "手机", "手机号"),
    "cells": ("负责网格", "所辖网格", "网格"),
    "capacity": ("容量", "容纳人数"),
    "highway": ("道路等级",),
    "oneway": ("单行", "单行道"),
}

#: Generic identifier words; they mean ``code`` where the kind has one.
_ID_WORDS: Final = ("编号", "编码", "代码")

LON_ALIASES: Final = ("lon", "lng", "long", "longitude", "x", "经度", "东经")
LAT_ALIASES: Final = ("lat", "latitude", "y", "纬度", "北纬")

_UNIT_SUFFIX: Final = re.compile(r"[(（\[【][^)）\]】]*[)）\]】]$")


def normalise_header(header: object) -> str:
    """Normalise a header for alias matching (see the module docstring)."""
    text = unicodedata.normalize("NFKC", str(header)).strip()
    text = _UNIT_SUFFIX.sub("", text)
    return re.sub(r"[\s_\-]+", "", text).casefold()


@dataclass
class ColumnMap:
    """The source column chosen for each canonical field, and what was left over."""

    fields: dict[str, str] = field(default_factory=dict)
    lon: str | None = None
    lat: str | None = None
    ignored: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _aliases_for(kind: RecordKind, name: str) -> tuple[str, ...]:
    names = {spec.name for spec in FIELDS[kind]}
    aliases = (name, *ALIASES.get(name, ()))
    if name == "source_id" and "code" not in names:
        aliases = (*aliases, *_ID_WORDS)
    return aliases


def _find(headers: Iterable[str], aliases: Iterable[str], taken: set[str]) -> str | None:
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), header)
    for alias in aliases:
        match = by_norm.get(normalise_header(alias))
        if match is not None and match not in taken:
            return match
    return None


def _explicit(
    kind: RecordKind, headers: list[str], chosen: Mapping[str, str], result: ColumnMap
) -> None:
    names = {spec.name for spec in FIELDS[kind]}
    for canonical, source in chosen.items():
        if canonical not in names:
            result.problems.append(
                f"columns= names field {canonical!r}, which {kind.value} records do not have; "
                f"their fields are: {', '.join(sorted(names))}"
            )
        elif source not in headers:
            result.problems.append(
                f"column {source!r} given for {canonical!r} is not in the file; "
                f"its columns are: {', '.join(headers)}"
            )
        else:
            result.fields[canonical] = source


def resolve_columns(
    headers: Iterable[object],
    kind: RecordKind,
    *,
    columns: Mapping[str, str] | None = None,
    coordinates: bool = False,
    coordinates_optional: bool = False,
    lon_col: str | None = None,
    lat_col: str | None = None,
    fixed: Iterable[str] = (),
) -> ColumnMap:
    """Choose the source column of every canonical field of ``kind``.

    Parameters
    ----------
    headers
        The file's column names, in file order.
    kind
        Which canonical fields to look for.
    columns
        Explicit ``canonical -> source column`` choices; they win over aliases.
    coordinates
        Whether point coordinates come from longitude/latitude columns.
    coordinates_optional
        Coordinates may be absent altogether (organisations); a file with only
        one of the two columns is still a problem.
    lon_col, lat_col
        Explicit coordinate columns.
    fixed
        Fields whose value the caller fixes (``unit_kind=``): not required.

    Returns
    -------
    ColumnMap
        ``problems`` lists every whole-file problem at once (unknown explicit
        columns, missing required fields, coordinates not found).
    """
    names = [str(h) for h in headers]
    result = ColumnMap()
    _explicit(kind, names, columns or {}, result)
    taken = set(result.fields.values())
    if coordinates:
        coords = ColumnMap()
        _coordinates(names, lon_col, lat_col, taken, coords)
        absent = coords.lon is None and coords.lat is None and lon_col is None and lat_col is None
        if not (coordinates_optional and absent):
            result.lon, result.lat = coords.lon, coords.lat
            result.problems.extend(coords.problems)
        taken |= {c for c in (result.lon, result.lat) if c}
    for spec in FIELDS[kind]:
        if spec.name in result.fields:
            continue
        found = _find(names, _aliases_for(kind, spec.name), taken)
        if found is not None:
            result.fields[spec.name] = found
            taken.add(found)
    missing = sorted(REQUIRED[kind] - set(result.fields) - set(fixed))
    for name in missing:
        result.problems.append(
            f"no column for required field {name!r} (tried {', '.join(_aliases_for(kind, name))}); "
            f"the file's columns are: {', '.join(names)}; "
            f"map one with columns={{{name!r}: '<column>'}}"
        )
    result.ignored = [h for h in names if h not in taken and h != "geometry"]
    return result


def _coordinates(
    names: list[str], lon_col: str | None, lat_col: str | None, taken: set[str], result: ColumnMap
) -> None:
    for label, explicit, aliases in (
        ("longitude", lon_col, LON_ALIASES),
        ("latitude", lat_col, LAT_ALIASES),
    ):
        if explicit is not None and explicit not in names:
            result.problems.append(
                f"{label} column {explicit!r} is not in the file; "
                f"its columns are: {', '.join(names)}"
            )
            continue
        found = explicit or _find(names, aliases, taken)
        if found is None:
            result.problems.append(
                f"no {label} column (tried {', '.join(aliases)}); the file's columns are: "
                f"{', '.join(names)}; name it with --{label[:3]}-col"
            )
        elif label == "longitude":
            result.lon = found
        else:
            result.lat = found
