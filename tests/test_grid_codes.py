"""Cell codes: presets, numbering order, validation and overflow."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from gridmap.grid import (
    BEIJING_DB11_T_2157_2023,
    CJ_T_349_2010,
    CodeOverflowError,
    CodePart,
    CodeScheme,
    GridError,
    InvalidCodeError,
    assign_codes,
    validate_code,
)

GK_117E = CRS.from_epsg(4548)
VILLAGE = "360681100201"  # 贵溪市 (360681), a town (100), a village committee (201)
X0, Y0, SIZE = 500_000.0, 3_120_000.0, 100.0


def three_by_three(order: list[int], *, parent: str = VILLAGE) -> gpd.GeoDataFrame:
    """A hand-made 3 x 3 grid of 100 m squares; ``name`` is "row,col" (row 0 = north)."""
    cells = {
        f"{r},{c}": shapely.box(
            X0 + c * SIZE, Y0 - (r + 1) * SIZE, X0 + (c + 1) * SIZE, Y0 - r * SIZE
        )
        for r in range(3)
        for c in range(3)
    }
    names = [list(cells)[i] for i in order]
    return gpd.GeoDataFrame(
        {"name": names, "area_code": [parent] * 9},
        geometry=[cells[n] for n in names],
        crs=GK_117E,
    )


SHUFFLED = [4, 8, 0, 2, 6, 1, 7, 3, 5]
READING_ORDER = ["0,0", "0,1", "0,2", "1,0", "1,1", "1,2", "2,0", "2,1", "2,2"]


def test_beijing_codes_run_west_to_east_then_north_to_south() -> None:
    coded = assign_codes(three_by_three(SHUFFLED), BEIJING_DB11_T_2157_2023)
    by_name = dict(zip(coded["name"], coded["code"], strict=True))
    assert [by_name[n] for n in READING_ORDER] == [f"360681100201{i:03d}" for i in range(1, 10)]
    assert all(len(code) == 15 for code in coded["code"])
    assert coded.index.equals(three_by_three(SHUFFLED).index)  # rows keep their order


def test_cj_t_349_codes_have_20_digits_with_class_prefix_and_2_digit_sequence() -> None:
    scheme = CJ_T_349_2010.with_fixed(object_class="123456")
    coded = assign_codes(three_by_three(SHUFFLED), scheme)
    by_name = dict(zip(coded["name"], coded["code"], strict=True))
    assert [by_name[n] for n in READING_ORDER] == [
        f"123456360681100201{i:02d}" for i in range(1, 10)
    ]
    assert all(len(code) == 20 for code in coded["code"])
    assert CJ_T_349_2010.width == 20 and BEIJING_DB11_T_2157_2023.width == 15
    assert validate_code(by_name["1,1"], scheme) == {
        "object_class": "123456",
        "county": "360681",
        "township": "100",
        "community": "201",
        "sequence": "05",
    }


def test_numbering_does_not_depend_on_row_order_and_rows_tolerate_jitter() -> None:
    frame = three_by_three(list(range(9)))
    # clip the north-west cell so its representative point moves 20 m south: still row 0
    first = frame.index[frame["name"] == "0,0"][0]
    frame.loc[first, "geometry"] = shapely.box(X0, Y0 - SIZE, X0 + SIZE, Y0 - 40.0)
    a = assign_codes(frame, BEIJING_DB11_T_2157_2023)
    b = assign_codes(frame.iloc[::-1], BEIJING_DB11_T_2157_2023)
    assert dict(zip(a["name"], a["code"], strict=True)) == dict(
        zip(b["name"], b["code"], strict=True)
    )
    assert a.loc[first, "code"].endswith("001")


def test_each_community_is_numbered_from_one() -> None:
    west = three_by_three(list(range(9)), parent="360681100201")
    east = three_by_three(list(range(9)), parent="360681100202")
    east["geometry"] = east.geometry.translate(xoff=1_000.0)
    coded = assign_codes(
        gpd.GeoDataFrame(np.concatenate([west, east]), columns=west.columns, crs=GK_117E),
        BEIJING_DB11_T_2157_2023,
    )
    codes = sorted(coded["code"])
    assert codes[0] == "360681100201001" and codes[9] == "360681100202001"
    assert len(set(codes)) == 18


def test_sequence_overflow_is_a_domain_error_naming_the_community() -> None:
    narrow = dataclasses.replace(
        BEIJING_DB11_T_2157_2023,
        name="narrow",
        parts=(*BEIJING_DB11_T_2157_2023.parts[:3], CodePart("sequence", 1, "sequence")),
    )
    frame = three_by_three(list(range(9)))
    assign_codes(frame, narrow)  # 9 cells fit in one digit
    ten = gpd.GeoDataFrame(
        np.concatenate([frame, frame.iloc[:1]]), columns=frame.columns, crs=GK_117E
    )
    with pytest.raises(CodeOverflowError, match=r"at most 9 cells.*360681100201 \(10 cells\)"):
        assign_codes(ten, narrow)
    assert issubclass(CodeOverflowError, ValueError)
    with pytest.raises(CodeOverflowError, match=r"1\.\.99"):
        CJ_T_349_2010.format(VILLAGE, 100)


def test_missing_or_malformed_parent_codes_are_listed() -> None:
    frame = three_by_three(list(range(9)))
    frame.loc[2, "area_code"] = None
    frame.loc[5, "area_code"] = "36068110020"
    with pytest.raises(GridError, match=r"2 cell\(s\).*row 2: None.*row 5: '36068110020'"):
        assign_codes(frame, BEIJING_DB11_T_2157_2023)
    with pytest.raises(GridError, match="no column 'village'"):
        assign_codes(frame, BEIJING_DB11_T_2157_2023, parent_code_col="village")


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("36068110020100", "expects 15 digits .*got '36068110020100': 14 characters"),
        ("3606811002010A1", r"non-digits at position\(s\) \[14\]"),
        ("360681100201000", "sequence 0"),
        (360681100201001, "got int"),
    ],
)
def test_validate_code_says_what_was_expected_and_given(code: object, message: str) -> None:
    with pytest.raises(InvalidCodeError, match=message):
        validate_code(code, BEIJING_DB11_T_2157_2023)


def test_validate_code_checks_fixed_parts_and_returns_parts() -> None:
    with pytest.raises(InvalidCodeError, match="object_class 999999 instead of 000000"):
        validate_code("99999936068110020101", CJ_T_349_2010)
    assert validate_code("360681100201007", BEIJING_DB11_T_2157_2023) == {
        "county": "360681",
        "township": "100",
        "village": "201",
        "sequence": "007",
    }


def test_schemes_are_validated_when_built() -> None:
    with pytest.raises(GridError, match="exactly one sequence part, got 2"):
        CodeScheme("x", (CodePart("a", 2, "sequence"), CodePart("b", 2, "sequence")))
    with pytest.raises(GridError, match="needs 3 digits as value"):
        CodeScheme("x", (CodePart("c", 3, "fixed", "12"), CodePart("s", 2, "sequence")))
    with pytest.raises(GridError, match="no fixed part"):
        BEIJING_DB11_T_2157_2023.with_fixed(object_class="123456")
    assert BEIJING_DB11_T_2157_2023.layout() == "6 county + 3 township + 3 village + 3 sequence"
