"""The workbook departments file upward: roll-up, 应建未建, idle organisations, blind zones,
and one sheet per grid worker with the uncovered units of their cells.

Headers are Simplified Chinese by default (``lang="en"`` for English), from
:data:`COLUMN_LABELS`; enumeration values are written as their labels (社区,
党支部, 未覆盖, ...), yes/no flags as 是/否. The roll-up sheet shows every
column of the run's roll-up (``areas.csv``), so a measure added there appears
without changes here: with its label if the catalogue has one, else under its
key. Rates are fractions shown with a percent format; no text cell is a
formula (:mod:`gridmap._spreadsheet`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from gridmap._spreadsheet import stream_xlsx
from gridmap.coverage.inputs import CoverageInputs
from gridmap.coverage.result import CoverageResult
from gridmap.domain import AdminLevel, DomainEnum, OrgKind, OrgStatus, StationTier, UnitKind
from gridmap.report.labels import COLUMN_LABELS, Lang, column_label

__all__ = [
    "COLUMN_LABELS",
    "PERCENT_FORMAT",
    "UNIT_COLUMNS",
    "column_label",
    "report_tables",
    "write_report",
]

#: The columns of a run's units the workbook reads (``report`` reads only these of a
#: stored run: :func:`gridmap.coverage.outputs.stored_result`).
UNIT_COLUMNS: Final = (
    "name",
    "kind",
    "cell_id",
    "cell_code",
    "party_members",
    "org_status",
    "lon",
    "lat",
    "must_have_branch",
    "service_covered",
    "nearest_station_m",
    "far_from_road",
)

#: Number format of every rate column (rates are fractions 0-1).
PERCENT_FORMAT: Final = "0.0%"

_NUMBER_FORMATS: Final = {"last_activity": "yyyy-mm-dd", "area_m2": "#,##0"}
_ROLLUP_HIDDEN: Final = frozenset({"area_id", "parent_id"})  # store ids, not for people
_TOTAL: Final = ("合计", "total")
_YES_NO: Final = {"zh": ("是", "否"), "en": ("yes", "no")}
_SHEETS: Final[dict[str, tuple[str, str]]] = {
    "rollup": ("汇总", "roll-up"),
    "must": ("应建未建", "must have a branch"),
    "idle": ("闲置组织", "idle"),
    "zones": ("盲区", "blind zones"),
    "worker": ("网格员", "worker"),
}
_ENUMS = {"level": AdminLevel, "kind": UnitKind, "org_status": OrgStatus}


def _is_rate(key: str) -> bool:
    return key.endswith("rate")


def _is_flag(values: pd.Series) -> bool:
    """A yes/no column: booleans, possibly with gaps (counts are numbers, never flags)."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return True
    if values.dtype != object:
        return False
    kinds = set(map(type, values.dropna().to_numpy()))
    return len(kinds) > 0 and all(issubclass(k, bool | np.bool_) for k in kinds)


def _labels(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    """Enumeration values as their labels, flags as yes/no words; counts untouched."""
    out = frame.copy()
    for column, enum in _ENUMS.items():
        if column in out:
            out[column] = _each_distinct(out[column], functools.partial(_label, enum, lang=lang))
    yes, no = _YES_NO[lang]
    for column in out.columns:
        if _is_flag(out[column]):
            out[column] = _yes_no(out[column], yes, no)
    return out


def _yes_no(values: pd.Series, yes: str, no: str) -> pd.Series:
    """A flag as words: ``yes`` where true, ``no`` where false, None where missing."""
    present = np.array(values.notna(), dtype=bool)
    plain = values.to_numpy(dtype=object)
    words = np.full(len(values), None, dtype=object)
    words[present] = np.where(plain[present].astype(bool), yes, no)
    return pd.Series(words, index=values.index, dtype=object)


def _each_distinct(values: pd.Series, convert: Callable[[object], object]) -> pd.Series:
    """``values.map(convert)``, ``convert`` called once per distinct value (missing as is)."""
    codes, distinct = pd.factorize(values)
    table = np.empty(len(distinct) + 1, dtype=object)
    table[:-1] = [convert(v) for v in distinct.tolist()]
    out = table[codes]
    missing = np.flatnonzero(codes < 0)  # converted too, one by one, as Series.map does
    if len(missing):
        out[missing] = [convert(v) for v in values.to_numpy(dtype=object)[missing].tolist()]
    return pd.Series(out, index=values.index, dtype=object)


def _label(enum: type[DomainEnum], value: object, lang: Lang) -> object:
    try:
        return enum(str(value)).label(lang)
    except ValueError:
        return value


def _kind_label(enum: type[OrgKind] | type[StationTier], lang: Lang, value: Any) -> str:
    return enum(value).label(lang)


def _rollup_order(columns: Iterable[str]) -> list[str]:
    """Catalogued keys in catalogue order, then any other keys in roll-up order."""
    rank = {key: i for i, key in enumerate(COLUMN_LABELS)}
    shown = [c for c in columns if c not in _ROLLUP_HIDDEN]
    return sorted(shown, key=lambda c: (rank.get(c, len(rank)), shown.index(c)))


def _rollup(result: CoverageResult, lang: Lang) -> pd.DataFrame:
    """Every roll-up column, the total row labelled 合计 / total."""
    areas = result.areas
    frame = pd.DataFrame(areas[_rollup_order(str(c) for c in areas.columns)]).copy()
    total = frame["level"] == "total"  # code "*", name "合计 / total" in areas.csv
    word = _TOTAL[1] if lang == "en" else _TOTAL[0]
    for column, value in (("level", word), ("name", word), ("code", None)):
        frame[column] = frame[column].astype(object).where(~total, value)
    for column in [c for c in frame.columns if _is_rate(c)]:
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype(float)
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
        idle = frame[frame["idle"].astype(bool)]
        kinds = _each_distinct(idle[enum_col], functools.partial(_kind_label, enum, lang))
        columns = (idle["name"].tolist(), kinds.tolist(), idle["last_activity"].tolist())
        for name, kind, last in zip(*columns, strict=True):
            rows.append(
                {
                    "what": what,
                    "name": name,
                    "kind": kind,
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
        sheets[str(names.get(worker_id, worker_id))] = _worker_rows(mine)
    return sheets


def _worker_rows(units: pd.DataFrame) -> pd.DataFrame:
    columns = [
        "cell_code",
        "name",
        "kind",
        "org_status",
        "service_covered",
        "nearest_station_m",
        "must_have_branch",
        "far_from_road",
    ]
    frame = pd.DataFrame(units[columns]).sort_values(["cell_code", "name"])
    distance = frame["nearest_station_m"].astype(float)
    frame["nearest_station_m"] = distance.where(np.isfinite(distance)).round(1)  # none: empty
    return frame.rename(columns={"service_covered": "served"})  # a flag here, not a count


def _keyed_tables(result: CoverageResult, lang: Lang) -> dict[str, pd.DataFrame]:
    """The sheets by sheet name, values labelled, columns still named by their keys."""
    index = 1 if lang == "en" else 0
    tables = {
        _SHEETS["rollup"][index]: _rollup(result, lang),
        _SHEETS["must"][index]: _must(result),
        _SHEETS["idle"][index]: _idle(result, lang),
        _SHEETS["zones"][index]: _zones(result),
    }
    for name, frame in _worker_sheets(result, result.inputs).items():
        tables[_sheet_name(f"{_SHEETS['worker'][index]}-{name}", tables)] = frame
    return {name: _labels(frame, lang) for name, frame in tables.items()}


def _head(frame: pd.DataFrame, lang: Lang) -> pd.DataFrame:
    return frame.set_axis([column_label(str(c), lang) for c in frame.columns], axis="columns")


def report_tables(result: CoverageResult, *, lang: Lang = "zh") -> dict[str, pd.DataFrame]:
    """The workbook's sheets, by sheet name, with headers and labels in ``lang``."""
    return {name: _head(frame, lang) for name, frame in _keyed_tables(result, lang).items()}


def _sheet_name(name: str, taken: dict[str, pd.DataFrame]) -> str:
    """A valid, unique Excel sheet name (31 characters, none of []:*?/\\)."""
    base = re.sub(r"[\[\]:*?/\\]", "_", name)[:31]
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[:28]}~{n}"
        n += 1
    return candidate


def _number_format(key: str) -> str:
    """Percent on rate columns, dates and areas as people read them, else none."""
    return _NUMBER_FORMATS.get(key, PERCENT_FORMAT if _is_rate(key) else "")


def write_report(result: CoverageResult, path: Path | str, *, lang: Lang = "zh") -> Path:
    """Write the workbook of ``result`` to ``path`` (.xlsx), rows streamed in bulk (write-only).

    The worker sheets come from the result's inputs.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tables = _keyed_tables(result, lang)
    formats = {
        name: [_number_format(str(c)) for c in frame.columns] for name, frame in tables.items()
    }
    return stream_xlsx(
        path,
        {name: _head(frame, lang) for name, frame in tables.items()},
        number_formats=formats,
    )
