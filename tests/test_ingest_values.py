"""Cell parsers, header aliases and the polygon repair rule."""

from __future__ import annotations

import datetime as dt

import pytest
import shapely

from gridmap.ingest.columns import normalise_header, resolve_columns
from gridmap.ingest.records import RecordKind
from gridmap.ingest.validate import repair_polygon
from gridmap.ingest.values import parse_count, parse_date, parse_list


@pytest.mark.parametrize(
    ("value", "expected"),
    [("12", 12), (12.0, 12), ("1,200", 1200), ("", None), (None, None), (float("nan"), None)],
)
def test_counts(value: object, expected: int | None) -> None:
    assert parse_count(value) == expected


@pytest.mark.parametrize("value", ["十二", "abc", "3.5", -1, 2.5, True])
def test_counts_are_strict(value: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        parse_count(value)


@pytest.mark.parametrize(
    "value",
    [
        "2024-05-01",
        "2024/5/1",
        "2024.5.1",
        "2024年5月1日",
        "20240501",
        45413,
        dt.datetime(2024, 5, 1, 9, 30),
        "2024-05-01 09:30:00",
    ],
)
def test_dates(value: object) -> None:
    assert parse_date(value) == dt.date(2024, 5, 1)


def test_lists_split_on_chinese_and_ascii_separators() -> None:
    assert parse_list("U1；U2、U3，U4;U5") == ["U1", "U2", "U3", "U4", "U5"]
    assert parse_list(None) == []


def test_headers_match_aliases_case_and_width_insensitively() -> None:
    assert normalise_header(" Party_Members ") == "partymembers"
    assert normalise_header("人口（人）") == "人口"
    mapping = resolve_columns(
        ["ＩＤ", "名称", "LNG", "Lat", "党员数", "备注"],
        RecordKind.UNIT,
        coordinates=True,
        fixed={"kind"},
    )
    assert mapping.problems == []
    assert mapping.fields == {"source_id": "ＩＤ", "name": "名称", "party_members": "党员数"}
    assert (mapping.lon, mapping.lat) == ("LNG", "Lat")
    assert mapping.ignored == ["备注"]


def test_generic_id_words_mean_code_for_cells_and_id_for_units() -> None:
    cells = resolve_columns(["编号", "名称"], RecordKind.CELL)
    units = resolve_columns(["编号", "名称", "类型"], RecordKind.UNIT)
    assert cells.fields["code"] == "编号"
    assert units.fields["source_id"] == "编号"


def test_repair_accepts_a_bowtie_and_a_spike_but_not_a_folded_ring() -> None:
    bowtie = shapely.from_wkt("POLYGON((0 0,2 2,2 0,0 2,0 0))")
    spike = shapely.from_wkt("POLYGON((0 0,2 0,2 2,2 3,2 2,0 2,0 0))")
    folded = shapely.from_wkt("POLYGON((0 0,4 0,4 4,1 4,1 1,3 1,3 3,0 3,0 0))")

    repaired, reason = repair_polygon(bowtie)
    assert reason is None and repaired is not None
    assert repaired.geom_type == "MultiPolygon" and repaired.area == pytest.approx(2.0)
    repaired, reason = repair_polygon(spike)
    assert reason is None and repaired is not None and repaired.area == pytest.approx(4.0)
    repaired, reason = repair_polygon(folded)
    assert repaired is None and reason is not None and "ambiguous" in reason
