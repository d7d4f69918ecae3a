"""The workbook departments file upward: roll-up, 应建未建, idle organisations, blind zones,
and one sheet per grid worker with the uncovered units of their cells.

Headers are Simplified Chinese by default (``lang="en"`` for English); enumeration
values are written as their labels (社区, 党支部, 未覆盖, ...).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import pandas as pd

from gridmap.coverage import CoverageInputs, CoverageResult
from gridmap.domain import AdminLevel, OrgKind, OrgStatus, StationTier, UnitKind

__all__ = ["report_tables", "write_report"]

Lang = Literal["zh", "en"]

_HEADERS: dict[str, tuple[str, str]] = {
    "level": ("级别", "level"),
    "code": ("代码", "code"),
    "name": ("名称", "name"),
    "units": ("单位数", "units"),
    "org_covered": ("组织覆盖数", "organisational"),
    "org_rate": ("组织覆盖率", "organisational rate"),
    "work_covered": ("工作覆盖数", "work"),
    "work_rate": ("工作覆盖率", "work rate"),
    "combined_covered": ("综合覆盖数", "combined"),
    "combined_rate": ("综合覆盖率", "combined rate"),
    "service_covered": ("服务覆盖单位数", "service covered"),
    "service_rate": ("服务覆盖率（单位）", "service rate (units)"),
    "population": ("人口", "population"),
    "population_covered": ("覆盖人口", "population covered"),
    "service_population_rate": ("服务覆盖率（人口）", "service rate (population)"),
    "must_have_branch": ("应建未建", "must have a branch"),
    "idle_orgs": ("闲置组织数", "idle orgs"),
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
    "far_from_road": ("远离道路", "far from road"),
}
_SHEETS: dict[str, tuple[str, str]] = {
    "rollup": ("汇总", "roll-up"),
    "must": ("应建未建", "must have a branch"),
    "idle": ("闲置组织", "idle"),
    "zones": ("盲区", "blind zones"),
    "worker": ("网格员", "worker"),
}
_ENUMS = {"level": AdminLevel, "kind": UnitKind, "org_status": OrgStatus}


def _head(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    index = 1 if lang == "en" else 0
    return frame.rename(columns={c: _HEADERS[c][index] for c in frame.columns if c in _HEADERS})


def _labels(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    out = frame.copy()
    for column, enum in _ENUMS.items():
        if column in out:
            out[column] = out[column].map(lambda v, e=enum: _label(e, v, lang))
    for column in ("must_have_branch", "service_covered", "far_from_road"):
        if column in out and lang == "zh":
            out[column] = out[column].map({True: "是", False: "否"})
    return out


def _label(
    enum: type[AdminLevel] | type[UnitKind] | type[OrgStatus], value: object, lang: Lang
) -> object:
    try:
        return enum(str(value)).label(lang)
    except ValueError:
        return value  # e.g. the "total" row


def _rollup(result: CoverageResult) -> pd.DataFrame:
    columns = [
        "level",
        "code",
        "name",
        "units",
        "org_covered",
        "org_rate",
        "work_covered",
        "work_rate",
        "combined_covered",
        "combined_rate",
        "service_covered",
        "service_rate",
        "population",
        "population_covered",
        "service_population_rate",
        "must_have_branch",
        "idle_orgs",
    ]
    frame = result.areas[columns].copy()
    for column in [c for c in columns if c.endswith("rate")]:
        frame[column] = frame[column].astype(float).round(4)
    return frame


def _must(result: CoverageResult) -> pd.DataFrame:
    units = result.units[result.units["must_have_branch"].astype(bool)]
    return pd.DataFrame(
        units[["name", "kind", "cell_code", "party_members", "org_status", "lon", "lat"]]
    )


def _idle(result: CoverageResult, lang: Lang) -> pd.DataFrame:
    rows = []
    day = pd.Timestamp(result.as_of)
    org_label, station_label = (
        ("党组织", "服务站点") if lang == "zh" else ("organisation", "station")
    )
    for frame, what, enum_col, enum in (
        (result.orgs, org_label, "kind", OrgKind),
        (result.stations, station_label, "tier", StationTier),
    ):
        for _, row in frame[frame["idle"].astype(bool)].iterrows():
            last = row["last_activity"]
            rows.append(
                {
                    "what": what,
                    "name": row["name"],
                    "kind": enum(row[enum_col]).label(lang),
                    "last_activity": last,
                    "idle_days": None if pd.isna(last) else int((day - pd.Timestamp(last)).days),
                }
            )
    return pd.DataFrame(rows, columns=["what", "name", "kind", "last_activity", "idle_days"])


def _zones(result: CoverageResult) -> pd.DataFrame:
    zones = result.blind_zones
    columns = [
        "rank",
        "area_m2",
        "units",
        "households",
        "population",
        "party_members",
        "must_have_branch",
        "priority",
        "cell_codes",
    ]
    frame = pd.DataFrame(zones[columns]) if len(zones) else pd.DataFrame(columns=columns)
    frame["area_m2"] = frame["area_m2"].astype(float).round(0)
    return frame


def _worker_sheets(result: CoverageResult, inputs: CoverageInputs) -> dict[str, pd.DataFrame]:
    """For each worker, the units of their cells that are not fully covered."""
    units = result.units
    uncovered = units[
        ~units["service_covered"].astype(bool)
        | (units["org_status"] == "none")
        | units["must_have_branch"].astype(bool)
    ]
    sheets: dict[str, pd.DataFrame] = {}
    names = inputs.workers.set_index("id")["name"]
    for worker_id, links in inputs.worker_cells.groupby("worker_id"):
        mine = uncovered[uncovered["cell_id"].isin(links["cell_id"])]
        sheets[str(names.get(worker_id, worker_id))] = pd.DataFrame(
            mine[
                [
                    "cell_code",
                    "name",
                    "kind",
                    "org_status",
                    "service_covered",
                    "nearest_station_m",
                    "must_have_branch",
                    "far_from_road",
                ]
            ].sort_values(["cell_code", "name"])
        )
    return sheets


def report_tables(
    result: CoverageResult, inputs: CoverageInputs, *, lang: Lang = "zh"
) -> dict[str, pd.DataFrame]:
    """The workbook's sheets, by sheet name, with headers and labels in ``lang``."""
    index = 1 if lang == "en" else 0
    tables = {
        _SHEETS["rollup"][index]: _rollup(result),
        _SHEETS["must"][index]: _must(result),
        _SHEETS["idle"][index]: _idle(result, lang),
        _SHEETS["zones"][index]: _zones(result),
    }
    for name, frame in _worker_sheets(result, inputs).items():
        tables[_sheet_name(f"{_SHEETS['worker'][index]}-{name}", tables)] = frame
    return {name: _head(_labels(frame, lang), lang) for name, frame in tables.items()}


def _sheet_name(name: str, taken: dict[str, pd.DataFrame]) -> str:
    """A valid, unique Excel sheet name (31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[:28]}~{n}"
        n += 1
    return candidate


def write_report(
    result: CoverageResult, inputs: CoverageInputs, path: Path | str, *, lang: Lang = "zh"
) -> Path:
    """Write the workbook to ``path`` (.xlsx)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in report_tables(result, inputs, lang=lang).items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            for column in sheet.columns:
                width = max(len(str(c.value or "")) for c in column)
                sheet.column_dimensions[column[0].column_letter].width = min(40, 4 + 1.6 * width)
            sheet.freeze_panes = "A2"
    return path
