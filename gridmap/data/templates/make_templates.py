"""Write the import templates and their README from one description of every column.

Run from the checkout: ``.venv/bin/python gridmap/data/templates/make_templates.py``. It
rewrites, next to itself, for each record kind ``KIND.csv`` / ``KIND.xlsx``
(English headers) and ``KIND_zh.csv`` / ``KIND_zh.xlsx`` (Chinese headers), each
with one fictional example row marked （样例）, and ``README.md``, which
documents every column. ``tests/test_templates.py`` checks the files load and
that the README covers them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from gridmap.domain import _ALIASES as ENUM_ALIASES
from gridmap.domain import DomainEnum, OrgKind, StationTier, UnitKind
from gridmap.ingest.columns import _ID_WORDS, ALIASES, LAT_ALIASES, LON_ALIASES
from gridmap.ingest.records import REQUIRED, RecordKind

HERE = Path(__file__).resolve().parent

#: 炼厂社区, 贵溪市 (OSM node 5217402618): where every example row is placed.
LON, LAT = 117.23912, 28.318058


@dataclass(frozen=True)
class Column:
    """One template column: canonical field, Chinese header, type, meaning, example values."""

    field: str
    zh: str
    value_type: str
    meaning: str
    example: object
    example_zh: object = None
    enum: type[DomainEnum] | None = None

    @property
    def zh_example(self) -> object:
        return self.example if self.example_zh is None else self.example_zh


@dataclass(frozen=True)
class Template:
    name: str
    kind: RecordKind
    title: str
    columns: tuple[Column, ...]


_ID = (
    "your own identifier, unique in the file: re-importing the file updates records by it; "
    "left empty, an id is derived from the name and location (phone for people)"
)


def _lon() -> Column:
    return Column(
        "lon", "经度", "number", "longitude in decimal degrees, WGS-84 unless --crs says", LON
    )


def _lat() -> Column:
    return Column(
        "lat", "纬度", "number", "latitude in decimal degrees, WGS-84 unless --crs says", LAT
    )


_LAST = "date of the latest recorded activity; none for 180 days (default) = idle"
_DATE = dt.date(2026, 10, 15)

TEMPLATES: tuple[Template, ...] = (
    Template(
        "units",
        RecordKind.UNIT,
        "单位 units: villages, communities, buildings, parks, firms, social organisations",
        (
            Column("source_id", "单位编号", "text", _ID, "T-U01"),
            Column("name", "单位名称", "text", "name of the unit", "炼厂社区示范商务楼（样例）"),
            Column(
                "kind", "单位类型", "enum", "kind of unit", "building", "商务楼宇", enum=UnitKind
            ),
            _lon(),
            _lat(),
            Column("households", "户数", "count", "households (for villages, communities)", 0),
            Column("population", "人口", "count", "residents or employees", 320),
            Column(
                "party_members",
                "党员数",
                "count",
                "full party members; 3 or more and no own branch = 应建未建",
                4,
            ),
            Column("address", "地址", "text", "postal address", "贵溪市炼厂社区（样例地址）"),
        ),
    ),
    Template(
        "party_orgs",
        RecordKind.ORG,
        "党组织 party organisations, with the units each covers",
        (
            Column("source_id", "组织编号", "text", _ID, "T-O01"),
            Column(
                "name",
                "组织名称",
                "text",
                "name of the organisation",
                "炼厂社区示范商务楼联合党支部（样例）",
            ),
            Column(
                "kind",
                "组织类型",
                "enum",
                "kind of party organisation",
                "joint_branch",
                "联合党支部",
                enum=OrgKind,
            ),
            Column("members", "党员数", "count", "party members in the organisation", 12),
            Column(
                "established",
                "成立日期",
                "date",
                "date the organisation was set up",
                dt.date(2024, 3, 1),
            ),
            Column("last_activity", "最近活动日期", "date", _LAST, _DATE),
            Column(
                "covers",
                "覆盖单位",
                "list",
                "units the organisation covers: their source_id (or SOURCE:ID when two "
                "sources share an id), separated by ; ； , ， or 、; they must be imported first",
                "T-U01",
            ),
            Column(
                "own_unit",
                "所在单位",
                "text",
                "the unit the organisation belongs to (its source_id), empty for joint branches",
                "",
            ),
            _lon(),
            _lat(),
        ),
    ),
    Template(
        "instructors",
        RecordKind.INSTRUCTOR,
        "党建指导员 party-building instructors (work coverage)",
        (
            Column("source_id", "人员编号", "text", _ID, "T-I01"),
            Column("name", "姓名", "text", "the instructor's name", "李明（样例）"),
            Column("phone", "联系电话", "text", "phone number", "13900000000"),
            Column(
                "covers",
                "指导单位",
                "list",
                "units the instructor is assigned to: source_id (or SOURCE:ID) list, "
                "separated by ; ； , ， or 、; they must be imported first",
                "T-U01",
            ),
        ),
    ),
    Template(
        "stations",
        RecordKind.STATION,
        "党群服务站点 party-mass service centres, stations and points",
        (
            Column("source_id", "站点编号", "text", _ID, "T-S01"),
            Column("name", "站点名称", "text", "name of the site", "炼厂社区党群服务站（样例）"),
            Column(
                "tier",
                "站点层级",
                "enum",
                "tier of the site; sets its default reach",
                "community",
                "社区党群服务站",
                enum=StationTier,
            ),
            Column("last_activity", "最近活动日期", "date", _LAST, _DATE),
            Column("capacity", "容纳人数", "count", "people the site can hold", 60),
            _lon(),
            _lat(),
        ),
    ),
    Template(
        "workers",
        RecordKind.WORKER,
        "网格员 grid workers and their cells",
        (
            Column("source_id", "人员编号", "text", _ID, "T-W01"),
            Column("name", "姓名", "text", "the worker's name", "王小红（样例）"),
            Column("phone", "联系电话", "text", "phone number", "13800000000"),
            Column(
                "cells",
                "负责网格",
                "list",
                "codes of the cells the worker is responsible for, separated by ; ； , ， or 、; "
                "the cells must be in the store (gridmap grid generate / import)",
                "360681001001001",
            ),
        ),
    ),
)

_TYPES = {
    "text": "text",
    "number": "decimal number",
    "count": "whole number >= 0 (12, 1,200)",
    "date": "date: 2026-10-15, 2026/10/15, 2026年10月15日 or an Excel date",
    "list": "list of text",
    "enum": "one of the values below",
}


def _aliases(field: str) -> tuple[str, ...]:
    if field == "lon":
        return LON_ALIASES
    if field == "lat":
        return LAT_ALIASES
    if field == "source_id":  # none of these kinds has a code, so 编号/编码/代码 mean the id
        return (field, *ALIASES[field], *_ID_WORDS)
    return (field, *ALIASES.get(field, ()))


def _frame(template: Template, *, chinese: bool) -> pd.DataFrame:
    row = {
        (c.zh if chinese else c.field): (c.zh_example if chinese else c.example)
        for c in template.columns
    }
    return pd.DataFrame([row])


def _write(template: Template) -> None:
    for chinese, suffix in ((False, ""), (True, "_zh")):
        frame = _frame(template, chinese=chinese)
        frame.to_csv(HERE / f"{template.name}{suffix}.csv", index=False, encoding="utf-8-sig")
        with pd.ExcelWriter(HERE / f"{template.name}{suffix}.xlsx", engine="openpyxl") as book:
            frame.to_excel(book, sheet_name=template.name, index=False)
            _column_sheet(template).to_excel(book, sheet_name="说明 columns", index=False)


def _column_sheet(template: Template) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "column": c.field,
                "中文列名": c.zh,
                "type": _TYPES[c.value_type],
                "required": "yes" if _required(template, c) else "",
                "meaning": c.meaning,
            }
            for c in template.columns
        ]
    )


def _required(template: Template, column: Column) -> bool:
    if column.field in ("lon", "lat"):
        return template.kind in (RecordKind.UNIT, RecordKind.STATION)
    return column.field in REQUIRED[template.kind]


def _enum_lines(enum: type[DomainEnum]) -> list[str]:
    lines = [
        "",
        f"Accepted `{enum.__name__}` values (English name, Chinese term, other spellings):",
        "",
        "| value | 中文 | English label | also accepted |",
        "|---|---|---|---|",
    ]
    for member in enum:
        also = [k for k, v in ENUM_ALIASES[enum].items() if v == member.value]
        lines.append(
            f"| `{member.value}` | {member.label('zh')} | {member.label('en')} | "
            f"{', '.join(also) or '-'} |"
        )
    return lines


_INTRO = """# Import templates (导入模板)

Fill in a copy, delete the example row, and load it with `gridmap ingest layer FILE --kind
KIND` (`unit`, `org`, `instructor`, `station`, `worker`). Every template comes four times:
`KIND.csv` / `KIND.xlsx` with English column names and `KIND_zh.csv` / `KIND_zh.xlsx`
with Chinese ones; both load the same way (CSV files are UTF-8 with BOM, so Excel opens
them with the Chinese intact). The Excel files have a second sheet, `说明 columns`, with
the table of this page for the template.

The example row of every template is **fictional** and marked （样例）; it sits on the
real location of 炼厂社区, 贵溪市 (117.23912, 28.318058, WGS-84). The rows refer to each
other (`T-U01` is the example unit), so the five files load in the order units,
party_orgs, instructors, stations, workers, after the cells the worker example names.

Column names are matched loosely: case, spaces, `_`, `-`, full-width letters and a
trailing unit in brackets (`人口（人）`) do not matter, and every alias listed below is
accepted in place of the template's name. A column that matches nothing is reported and
ignored; `--map FIELD=COLUMN` names one explicitly. Coordinates are read as WGS-84
unless `--crs` says otherwise: points picked on Amap/Tencent maps need `--crs gcj02`, on
Baidu `--crs bd09`. Rows with problems are rejected with the reason, never half loaded.

Enumerations accept the short English name, the Chinese term, or one of the other
spellings listed with each.

Files are regenerated by `make_templates.py` in this folder (gridmap, MIT).
"""


def readme() -> str:
    """The README text: every column of every template, with types, values and aliases."""
    lines = [_INTRO]
    for template in TEMPLATES:
        files = ", ".join(f"`{template.name}{s}.{e}`" for s in ("", "_zh") for e in ("csv", "xlsx"))
        lines += [
            f"## {template.title}",
            "",
            f"Files: {files}. Load with `--kind {template.kind.value}`.",
            "",
            "| column | 中文列名 | type | required | meaning | aliases accepted |",
            "|---|---|---|---|---|---|",
        ]
        for c in template.columns:
            aliases = ", ".join(a for a in _aliases(c.field) if a not in (c.field, c.zh))
            lines.append(
                f"| `{c.field}` | {c.zh} | {_TYPES[c.value_type]} | "
                f"{'yes' if _required(template, c) else ''} | {c.meaning} | {aliases or '-'} |"
            )
        for c in template.columns:
            if c.enum is not None:
                lines += ["", f"`{c.field}` / {c.zh}:", *_enum_lines(c.enum)]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    """Write every template and the README."""
    for template in TEMPLATES:
        _write(template)
    (HERE / "README.md").write_text(readme(), encoding="utf-8")


if __name__ == "__main__":
    main()
