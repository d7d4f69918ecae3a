"""Excel sheets as departments send them: title rows, merged cells, formulas, several sheets."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from gridmap.cli import app
from gridmap.ingest import IngestError, read_layer
from gridmap.store import Store, models

HEADER = ["单位名称", "类型", "地址", "经度", "纬度", "党员人数"]
FIRMS = [
    ["贵溪铜业", "firm", "工业园", 117.21, 28.28, 5],
    ["东门超市", "firm", None, 117.22, 28.29, 1],
    ["雄石物流", "firm", None, 117.23, 28.27, 0],
]


def _department_sheet(path: Path) -> Path:
    """A sheet as a department fills it in: merged title, a date line, merged addresses."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "企业名单"
    sheet.append(["贵溪市非公企业名单（2026年）"])
    sheet.merge_cells("A1:F1")
    sheet.append(["填报单位：东门街道", None, None, None, "填报日期：2026-11-30"])
    sheet.append(HEADER)
    for row in FIRMS:
        sheet.append(row)
    sheet.merge_cells("C4:C6")  # one address for the three firms of the park
    book.save(path)
    return path


def _run(store: Store, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), env={"GRIDMAP_DATABASE_URL": store.url})
    return result.exit_code, " ".join(result.output.split())


def test_title_rows_are_skipped_and_merged_cells_fill_down(tmp_path: Path) -> None:
    result = read_layer(_department_sheet(tmp_path / "firms.xlsx"), "unit")

    assert result.rejects.empty, result.rejects.to_dict("records")
    assert result.records["name"].tolist() == ["贵溪铜业", "东门超市", "雄石物流"]
    assert result.records["address"].tolist() == ["工业园"] * 3
    assert result.records["_row"].tolist() == [4, 5, 6]  # the rows Excel shows
    assert any("header found in row 3" in note for note in result.notes)


def test_header_row_option_overrides_the_search(tmp_path: Path) -> None:
    path = _department_sheet(tmp_path / "firms.xlsx")

    with pytest.raises(IngestError, match="填报单位"):
        read_layer(path, "unit", header_row=2)  # the wrong row: its cells name no field
    result = read_layer(path, "unit", header_row=3)
    assert len(result.records) == 3


def test_csv_with_a_title_line_is_read_from_its_header(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    lines = ["贵溪市非公企业名单,,,,,", ",".join(HEADER)]
    lines += [",".join("" if v is None else str(v) for v in row) for row in FIRMS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    result = read_layer(path, "unit")

    assert result.records["name"].tolist() == ["贵溪铜业", "东门超市", "雄石物流"]
    assert result.records["_row"].tolist() == [3, 4, 5]


def test_rejects_keep_the_columns_exactly_as_read(store: Store, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["名单"])
    sheet.append([" 单位名称 ", "类型", "联系电话", None, "经度", "纬度", "联系电话"])
    sheet.append(["甲公司", "firm", "0701-1234567", "备注一", 117.2, 28.2, "139"])
    sheet.append(["乙公司", "firm", "0701-7654321", "备注二", None, None, "138"])
    path = tmp_path / "firms.xlsx"
    book.save(path)
    rejects = tmp_path / "out.csv"

    code, output = _run(
        store, "ingest", "layer", str(path), "--kind", "unit", "--reject-file", str(rejects)
    )

    assert code == 0, output
    assert "read 2, loaded 1, rejected 1" in output
    frame = pd.read_csv(rejects, dtype=str, keep_default_na=False)
    assert [c for c in frame.columns if c not in ("_row", "reason")] == [
        " 单位名称 ",
        "类型",
        "联系电话",
        "#4",
        "经度",
        "纬度",
        "联系电话#7",  # a repeated header is told apart by its column number
    ]
    row = frame.iloc[0]
    assert (row[" 单位名称 "], row["联系电话"], row["#4"], row["_row"]) == (
        "乙公司",
        "0701-7654321",
        "备注二",
        "4",
    )
    assert "missing coordinates" in row["reason"]


def test_formulas_without_cached_values_say_how_to_fix_it(tmp_path: Path) -> None:
    book = openpyxl.Workbook()  # openpyxl stores formulas without computing them
    sheet = book.active
    assert sheet is not None
    sheet.append(["简称", "单位名称", "类型", "经度", "纬度"])
    sheet.append(["铜业", '=CONCAT("贵溪",A2)', "firm", 117.21, 28.28])
    sheet.append(["超市", "东门超市", "firm", 117.22, 28.29])
    path = tmp_path / "firms.xlsx"
    book.save(path)

    result = read_layer(path, "unit")

    assert result.records["name"].tolist() == ["东门超市"]
    (reason,) = result.rejects["reason"]
    assert "formula" in reason and "CONCAT" in reason
    assert "Excel or WPS" in reason and "CSV" in reason
    assert "name is empty" not in reason
    assert any("1 formula cells without a computed value (B2)" in n for n in result.notes)


def test_the_sheet_read_is_named_and_another_is_chosen_with_sheet(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "book.xlsx"
    with pd.ExcelWriter(path) as writer:
        pd.DataFrame({"说明": ["本表为填报说明"]}).to_excel(writer, sheet_name="说明", index=False)
        pd.DataFrame(
            [r[:2] + r[3:5] for r in FIRMS], columns=["名称", "类型", "经度", "纬度"]
        ).to_excel(writer, sheet_name="企业", index=False)

    code, output = _run(store, "ingest", "layer", str(path), "--kind", "unit")
    assert code == 2
    assert "'企业'" in output and "--sheet" in output

    code, output = _run(store, "ingest", "layer", str(path), "--kind", "unit", "--sheet", "企业")
    assert code == 0, output
    assert "read sheet '企业'" in output and "'说明'" in output
    with store.session() as s:
        assert len(s.scalars(select(models.Unit)).all()) == 3
    code, output = _run(store, "ingest", "layer", str(path), "--kind", "unit", "--sheet", "无")
    assert code == 2
    assert "no sheet '无'" in output and "'说明', '企业'" in output


def test_columns_named_on_the_command_line_find_their_header(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["2026年名单"])
    sheet.append(["单位全称", "X坐标", "Y坐标"])  # no alias matches these headers
    sheet.append(["贵溪铜业", 117.21, 28.28])
    path = tmp_path / "firms.xlsx"
    book.save(path)

    result = read_layer(
        path, "unit", name_col="单位全称", lon_col="X坐标", lat_col="Y坐标", unit_kind="firm"
    )

    assert result.records["name"].tolist() == ["贵溪铜业"]
    assert result.records["_row"].tolist() == [3]


def test_csv_rows_with_more_fields_than_the_header_are_rejected_not_shifted(
    tmp_path: Path,
) -> None:
    path = tmp_path / "firms.csv"
    path.write_text(
        "name,kind,lon,lat\n甲,firm,117.2,28.2,\n乙,firm,117.3,28.3,备注\n丙,firm,117.4,28.4\n",
        encoding="utf-8",
    )

    result = read_layer(path, "unit")

    assert result.records["name"].tolist() == ["甲", "丙"]  # a trailing comma is harmless
    (reason,) = result.rejects["reason"]
    assert "more fields than the header's 4" in reason and "备注" in reason
    assert result.rejects["name"].tolist() == ["乙"]


def test_a_csv_with_only_its_header_reads_no_rows(tmp_path: Path) -> None:
    path = tmp_path / "firms.csv"
    path.write_text("name,kind,lon,lat\n", encoding="utf-8")

    result = read_layer(path, "unit")

    assert (result.n_read, len(result.records)) == (0, 0)


def test_a_big_workbook_is_streamed_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("gridmap.ingest.excel.FULL_LOAD_BYTES", 0)  # every workbook is "big"

    result = read_layer(_department_sheet(tmp_path / "firms.xlsx"), "unit")

    assert result.records["name"].tolist() == ["贵溪铜业", "东门超市", "雄石物流"]
    assert any("streamed, merged cells not filled down" in note for note in result.notes)
