"""The streaming workbook writer the report uses: typed cells, formats, no live formula."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest

from gridmap._spreadsheet import stream_xlsx
from gridmap._xlsx import Quoted, SheetData, write_workbook


def test_cells_keep_their_types_formats_and_stay_text(tmp_path: Path) -> None:
    frame = pd.DataFrame(
        {
            "=名称": ['=HYPERLINK("http://x","点我")', "-5", " 前后空格 ", "a<b&c\x07"],
            "rate": [0.25, np.nan, 1.0, np.inf],
            "n": pd.array([1, None, 3, 4], dtype="Int64"),
            "flag": [True, False, True, False],
            "day": [dt.date(2026, 11, 1), None, dt.date(2026, 1, 2), dt.date(2026, 1, 3)],
        }
    )
    path = stream_xlsx(
        tmp_path / "t.xlsx",
        {"表": frame},
        number_formats={"表": ["", "0.0%", "", "", "yyyy-mm-dd"]},
    )
    sheet = openpyxl.load_workbook(path)["表"]
    header = sheet[1]
    assert header[0].value == "=名称" and header[0].data_type == "s" and header[0].quotePrefix
    assert header[1].font.b and sheet.freeze_panes == "A2"
    rows = list(sheet.iter_rows(min_row=2))
    evil = rows[0][0]
    assert evil.value.startswith("=HYPERLINK") and evil.data_type == "s" and evil.quotePrefix
    assert [r[0].value for r in rows[1:]] == ["-5", " 前后空格 ", "a<b&c"]  # text, kept
    assert rows[1][0].quotePrefix  # "-5" is text that looks like a formula
    assert [r[1].value for r in rows] == [0.25, None, 1.0, None]  # NaN and inf: empty
    assert rows[0][1].number_format == "0.0%"
    assert [r[2].value for r in rows] == [1, None, 3, 4]
    assert [r[3].value for r in rows] == [True, False, True, False]
    assert rows[0][4].value == dt.datetime(2026, 11, 1) and rows[0][4].number_format == "yyyy-mm-dd"
    assert not any(c.data_type == "f" for r in sheet.iter_rows() for c in r)
    assert sheet.column_dimensions["A"].width > sheet.column_dimensions["D"].width


def test_read_only_readers_see_the_sheets_size(tmp_path: Path) -> None:
    """openpyxl's read-only mode (how big workbooks are read) takes the size as written."""
    frame = pd.DataFrame({"名称": [f"单位{i}" for i in range(7)], "n": range(7)})
    path = stream_xlsx(tmp_path / "t.xlsx", {"盲区": frame})
    sheet = openpyxl.load_workbook(path, read_only=True)["盲区"]
    assert (sheet.max_row, sheet.max_column) == (8, 2)


def _tricky_columns(n: int, seed: int) -> list[list[object]]:
    rng = np.random.default_rng(seed)
    texts: list[object] = [" 前后 ", "a<b&c>\x07", "名称", "", "x\x00y", "=SUM(A1)", None]
    pick = lambda values: [values[i] for i in rng.integers(0, len(values), n)]  # noqa: E731
    return [
        [Quoted(v) if isinstance(v, str) and v.startswith("=") else v for v in pick(texts)],
        pick([0.25, float("nan"), 1 / 3, 1e20, -0.0, float("inf"), 12.0, None]),
        pick([-(10**12), 0, 7, None]),
        pick([True, False, None]),
        pick([dt.date(2026, 1, 2), dt.datetime(2026, 3, 4, 5, 6), None]),
        pick([1, 2.5, "t", None, True]),
        [None] * n,
    ]


def _sheet_xml(path: Path) -> bytes:
    with zipfile.ZipFile(path) as book:
        return book.read("xl/worksheets/sheet1.xml")


def test_a_sheet_written_by_columns_has_the_cells_written_one_by_one(tmp_path: Path) -> None:
    n = 20_005  # more than one block of rows
    columns = _tricky_columns(n, seed=3)
    header = [f"列{i}" for i in range(len(columns))]
    formats = ["", "0.0%", "#,##0", "", "yyyy-mm-dd", "", ""]
    widths = [10.0] * len(columns)
    by_rows = SheetData("表", header, list(zip(*columns, strict=True)), formats, widths, n)
    by_columns = SheetData("表", header, (), formats, widths, n, columns)
    one_by_one = write_workbook(tmp_path / "rows.xlsx", [by_rows])
    at_once = write_workbook(tmp_path / "columns.xlsx", [by_columns])
    assert _sheet_xml(at_once) == _sheet_xml(one_by_one)
    cells = list(openpyxl.load_workbook(at_once)["表"].iter_rows(min_row=2, values_only=True))
    assert len(cells) == n and cells[0][6] is None


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as book:
        return {name: book.read(name) for name in book.namelist()}


def test_parts_deflated_on_a_second_thread_are_those_one_thread_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rng = np.random.default_rng(16)
    frame = pd.DataFrame(
        {
            "name": [f"单位{i}" for i in rng.integers(0, 10_000, 50_000)],
            "m": rng.uniform(0, 5000, 50_000),
            "n": rng.integers(0, 100, 50_000),
        }
    )
    monkeypatch.setenv("GRIDMAP_THREADS", "1")
    one = _parts(stream_xlsx(tmp_path / "one.xlsx", {"a": frame, "b": frame[:10]}))
    monkeypatch.setenv("GRIDMAP_THREADS", "2")
    two = _parts(stream_xlsx(tmp_path / "two.xlsx", {"a": frame, "b": frame[:10]}))
    assert one == two and len(one["xl/worksheets/sheet1.xml"]) > 1_000_000


def test_an_error_while_the_rows_are_written_behind_is_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRIDMAP_THREADS", "2")

    def rows() -> object:
        yield from ([i, "x"] for i in range(50_000))
        raise RuntimeError("row 50000")

    sheet = SheetData("s", ["n", "t"], rows(), ["", ""], [8.0, 8.0])  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="row 50000"):
        write_workbook(tmp_path / "bad.xlsx", [sheet])
