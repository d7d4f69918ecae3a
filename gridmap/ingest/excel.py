"""Read one sheet of an Excel workbook as departments fill it in.

* The sheet read is named, and the others listed (choose one with ``--sheet``).
* Merged cells: a vertically merged cell (one firm's address over three rows)
  fills down to every row it spans; a merged title across the top is a title
  row and is skipped with the header search of :mod:`gridmap.ingest.tables`.
* Formula cells without a cached value (workbooks written by a program, never
  opened in Excel) read as empty: the sheet's note says so and how to fix it,
  and a row whose used column holds one is rejected with that reason rather
  than "name is empty".
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import openpyxl
import openpyxl.utils.exceptions
import pandas as pd
import xlrd

from gridmap.ingest.records import IngestError
from gridmap.ingest.rows import RawLayer
from gridmap.ingest.tables import (
    TableOptions,
    cap_fields,
    find_header_row,
    note_header,
    unique_headers,
)

__all__ = ["Sheet", "read_excel_layer", "read_sheet"]

_FORMULA_HINT: Final = (
    "open the workbook in Excel or WPS and save it (that stores the results), "
    "or export the sheet as CSV"
)
_LISTED: Final = 5
_SHEETS: Final = "xl/worksheets/"
#: Worksheets larger than this (uncompressed XML) are streamed rather than loaded whole.
FULL_LOAD_BYTES: Final = 64 * 1024 * 1024


@dataclass(frozen=True)
class Sheet:
    """One sheet's cell values, row by row from its first row, merged cells filled.

    ``uncomputed`` holds the ``(row, column)`` positions (0-based) of formula cells
    without a cached value, with their formula.
    """

    name: str
    others: list[str]
    rows: list[list[object]]
    uncomputed: dict[tuple[int, int], str] = field(default_factory=dict)
    remarks: list[str] = field(default_factory=list)

    def notes(self, file: str) -> list[str]:
        """What the user should know: the sheet read, the others, uncomputed formulas."""
        notes = [f"read sheet {self.name!r} of {file}", *self.remarks]
        if self.others:
            others = ", ".join(repr(n) for n in self.others)
            notes[0] += f"; its other sheets ({others}) were not read: choose one with --sheet"
        if self.uncomputed:
            cells = ", ".join(_cell_name(r, c) for r, c in list(self.uncomputed)[:_LISTED])
            more = "..." if len(self.uncomputed) > _LISTED else ""
            notes.append(
                f"公式无缓存值 / sheet {self.name!r} holds {len(self.uncomputed)} formula cells "
                f"without a computed value ({cells}{more}), read as empty: {_FORMULA_HINT}"
            )
        return notes


def _cell_name(row: int, column: int) -> str:
    return f"{openpyxl.utils.get_column_letter(column + 1)}{row + 1}"


def formula_reason(formula: str) -> str:
    """The reject reason of a row whose used cell is a formula without a value."""
    return f"公式无缓存值 / the cell holds the formula {formula} without a computed value: " + (
        _FORMULA_HINT
    )


def _choose(names: Sequence[str], sheet: str | None, path: Path) -> str:
    if sheet is None:
        return names[0]
    if sheet not in names:
        listed = ", ".join(repr(n) for n in names)
        msg = f"{path.name} has no sheet {sheet!r}; its sheets are: {listed} (choose with --sheet)"
        raise IngestError(msg)
    return sheet


def _fill_down(rows: list[list[object]], ranges: Sequence[tuple[int, int, int, int]]) -> None:
    """Copy each merged range's value down its first column (0-based, inclusive bounds)."""
    for top, left, bottom, _right in ranges:
        value = rows[top][left] if top < len(rows) and left < len(rows[top]) else None
        for row in range(top + 1, min(bottom, len(rows) - 1) + 1):
            if left < len(rows[row]):
                rows[row][left] = value


def _trim(rows: list[list[object]]) -> list[list[object]]:
    while rows and all(v is None or v == "" for v in rows[-1]):
        rows.pop()
    return rows


def _sheet_bytes(path: Path) -> int:
    """Uncompressed size of the workbook's worksheets (cheap: the zip directory only)."""
    with zipfile.ZipFile(path) as archive:
        return sum(i.file_size for i in archive.infolist() if i.filename.startswith(_SHEETS))


def _xlsx(path: Path, sheet: str | None) -> Sheet:
    # a full load (which knows merged cells) holds every sheet's cells as objects;
    # a big workbook is streamed instead, without filling merged cells
    streamed = _sheet_bytes(path) > FULL_LOAD_BYTES
    values = openpyxl.load_workbook(path, data_only=True, read_only=streamed)
    try:
        names = list(values.sheetnames)
        chosen = _choose(names, sheet, path)
        ws = values[chosen]
        rows: list[list[object]] = [list(r) for r in ws.iter_rows(values_only=True)]
        merged = (
            []
            if streamed
            else [
                (r.min_row - 1, r.min_col - 1, r.max_row - 1, r.max_col - 1)
                for r in ws.merged_cells.ranges
            ]
        )
    finally:
        values.close()
    uncomputed = {
        (r, c): formula
        for (r, c), formula in _formulas(path, chosen)
        if r < len(rows) and (c >= len(rows[r]) or rows[r][c] is None)
    }
    _fill_down(rows, merged)
    notes = [f"{path.name} is large: streamed, merged cells not filled down"] if streamed else []
    return Sheet(chosen, [n for n in names if n != chosen], _trim(rows), uncomputed, notes)


def _formulas(path: Path, sheet: str) -> Iterator[tuple[tuple[int, int], str]]:
    """Positions and text of every formula cell of ``sheet`` (a fast read-only pass)."""
    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    try:
        for row in book[sheet].iter_rows():
            for cell in row:
                if getattr(cell, "data_type", None) == "f" and cell.row and cell.column:
                    yield (cell.row - 1, cell.column - 1), str(cell.value)
    finally:
        book.close()


def _xls_value(cell: Any, datemode: int) -> object:
    if cell.ctype == xlrd.XL_CELL_EMPTY or cell.ctype == xlrd.XL_CELL_BLANK:
        return None
    if cell.ctype == xlrd.XL_CELL_DATE:
        return xlrd.xldate.xldate_as_datetime(cell.value, datemode)
    if cell.ctype == xlrd.XL_CELL_NUMBER and float(cell.value).is_integer():
        return int(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return bool(cell.value)
    return cell.value


def _xls(path: Path, sheet: str | None) -> Sheet:
    try:
        book = xlrd.open_workbook(str(path), formatting_info=True)
    except NotImplementedError:  # formatting_info is not implemented for every file
        book = xlrd.open_workbook(str(path))
    names = list(book.sheet_names())
    chosen = _choose(names, sheet, path)
    ws = book.sheet_by_name(chosen)
    rows = [[_xls_value(c, book.datemode) for c in ws.row(r)] for r in range(ws.nrows)]
    merged = [(top, left, bottom - 1, right - 1) for top, bottom, left, right in ws.merged_cells]
    _fill_down(rows, merged)
    return Sheet(chosen, [n for n in names if n != chosen], _trim(rows))


def read_sheet(path: Path, sheet: str | None = None) -> Sheet:
    """Read ``sheet`` (default: the first) of an ``.xlsx``/``.xlsm``/``.xls`` workbook.

    Raises
    ------
    IngestError
        When the workbook cannot be opened or has no such sheet.
    """
    try:
        if path.suffix.lower() == ".xls":
            return _xls(path, sheet)
        return _xlsx(path, sheet)
    except IngestError:
        raise
    except (
        zipfile.BadZipFile,
        OSError,
        ValueError,
        KeyError,
        xlrd.XLRDError,
        openpyxl.utils.exceptions.InvalidFileException,
    ) as exc:
        msg = (
            f"cannot read {path.name}: {exc}. The file may be truncated or damaged, "
            "or not what its extension says; open it in Excel/WPS and save it again"
        )
        raise IngestError(msg) from exc


def as_date(value: object) -> object:
    """A datetime at midnight as the date it shows in the sheet, anything else unchanged."""
    if isinstance(value, dt.datetime) and value.time() == dt.time(0):
        return value.date()
    return value


def read_excel_layer(path: Path, options: TableOptions, notes: list[str]) -> RawLayer:
    """Read a sheet as a layer: header found, merged cells filled, formulas flagged."""
    sheet = read_sheet(path, options.sheet)
    notes.extend(sheet.notes(path.name))
    if not sheet.rows:
        msg = f"sheet {sheet.name!r} of {path.name} is empty; choose another with --sheet"
        raise IngestError(msg)
    skip = find_header_row(sheet.rows, options.kind, options.header_row, options.named)
    if skip >= len(sheet.rows):
        msg = f"sheet {sheet.name!r} of {path.name} has no row {skip + 1}; check --header-row"
        raise IngestError(msg)
    headers = unique_headers(sheet.rows[skip])
    width = len(headers)
    data = [
        (number, [as_date(v) for v in (row + [None] * width)[:width]])
        for number, row in enumerate(sheet.rows[skip + 1 :], start=skip + 2)
    ]
    data = [(n, row) for n, row in data if any(v is not None and v != "" for v in row)]
    table = pd.DataFrame([row for _, row in data], columns=headers, dtype=object)
    rows = [n for n, _ in data]
    position = {n: i for i, n in enumerate(rows)}
    cell_problems = {
        (position[r + 1], headers[c]): formula_reason(formula)
        for (r, c), formula in sheet.uncomputed.items()
        if r + 1 in position and c < width
    }
    note_header(skip + 1, options, notes)
    problems = cap_fields(table, options.max_field_chars)
    return RawLayer(table, None, rows, problems=problems, cell_problems=cell_problems)
