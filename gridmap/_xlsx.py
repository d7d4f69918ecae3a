"""A streaming .xlsx writer for large tables: sheet XML written as text, row by row.

openpyxl (even write-only, without lxml) serialises every cell through a Python
element tree: ~50 us a cell, minutes for a county's worker sheets. A worksheet is
only a list of rows; this module writes them as SpreadsheetML text straight into
the zip (inline strings, one style per number format, a bold frozen header,
column widths), which openpyxl, Excel and LibreOffice read like any workbook.
Formula safety is the caller's (:func:`gridmap._spreadsheet.stream_xlsx`): a cell
given as :class:`Quoted` is stored as text with the quote prefix, and no cell is
ever written as a formula (this writer has no formula cells at all).
"""

from __future__ import annotations

import queue
import threading
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final
from xml.sax.saxutils import quoteattr

from gridmap._threads import threads
from gridmap._xlsx_cells import (
    BOLD,
    BOLD_QUOTED,
    FIRST_FORMAT,
    ILLEGAL,
    Quoted,
    cell,
    sheet_rows,
    text_cell,
)

__all__ = ["Quoted", "SheetData", "write_workbook"]

_MAIN: Final = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL: Final = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL: Final = "http://schemas.openxmlformats.org/package/2006/relationships"
_ROWS_PER_WRITE: Final = 2000
#: zlib level of the parts: at 1M units level 4 writes 39 MB in half the time level 6
#: takes for 36 MB (level 1: 45 MB in a third of it).
_LEVEL: Final = 4


@dataclass(frozen=True)
class SheetData:
    """One sheet: name, header, rows of Python values, per-column formats and widths.

    ``columns`` (the values column by column, all of one length) replaces ``rows``
    when given: a column of one type is then written in one pass
    (:func:`gridmap._xlsx_cells.sheet_rows`), not cell by cell.
    """

    name: str
    header: Sequence[object]
    rows: Iterable[Sequence[object]]
    formats: Sequence[str]
    widths: Sequence[float]
    #: the number of rows, when known: written as the sheet's dimension, which readers
    #: such as openpyxl's read-only mode take as the sheet's size
    n_rows: int | None = None
    columns: Sequence[Sequence[object]] | None = None


def _letters(n: int) -> list[str]:
    out = []
    for i in range(1, n + 1):
        name, k = "", i
        while k:
            k, rest = divmod(k - 1, 26)
            name = chr(65 + rest) + name
        out.append(name)
    return out


def _sheet_xml(sheet: SheetData, styles: dict[str, int]) -> Iterable[str]:
    letters = _letters(max(1, len(sheet.header)))
    cols = "".join(
        f'<col min="{i}" max="{i}" width="{w:.2f}" customWidth="1"/>'
        for i, w in enumerate(sheet.widths, start=1)
    )
    dimension = (
        f'<dimension ref="A1:{letters[-1]}{sheet.n_rows + 1}"/>' if sheet.n_rows is not None else ""
    )
    yield (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{_MAIN}" '
        f'xmlns:r="{_REL}">{dimension}<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" '
        'topLeftCell="A2" activePane="bottomLeft" state="frozen"/><selection '
        'pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
        f'<sheetFormatPr defaultRowHeight="15"/>{"<cols>" + cols + "</cols>" if cols else ""}'
        "<sheetData>"
    )
    head = "".join(
        text_cell(f"{c}1", v.text, BOLD_QUOTED)
        if isinstance(v, Quoted)
        else text_cell(f"{c}1", str(v), BOLD)
        for c, v in zip(letters, sheet.header, strict=False)
    )
    yield f'<row r="1">{head}</row>'
    column_styles = [styles.get(f, 0) for f in sheet.formats]
    if sheet.columns is not None:
        yield from sheet_rows(sheet.columns, letters, column_styles)
        yield "</sheetData></worksheet>"
        return
    parts: list[str] = []
    for number, row in enumerate(sheet.rows, start=2):
        cells = "".join(
            cell(f"{c}{number}", v, s) for c, v, s in zip(letters, row, column_styles, strict=False)
        )
        parts.append(f'<row r="{number}">{cells}</row>')
        if len(parts) >= _ROWS_PER_WRITE:
            yield "".join(parts)
            parts = []
    yield "".join(parts) + "</sheetData></worksheet>"


def _styles_xml(formats: list[str]) -> str:
    num_fmts = "".join(
        f'<numFmt numFmtId="{164 + i}" formatCode={quoteattr(code)}/>'
        for i, code in enumerate(formats)
    )
    base = '<xf numFmtId="0" fontId="{font}" fillId="0" borderId="0" xfId="0"{extra}/>'
    xfs = [
        base.format(font=0, extra=""),
        base.format(font=1, extra=' applyFont="1"'),
        base.format(font=0, extra=' quotePrefix="1"'),
        base.format(font=1, extra=' applyFont="1" quotePrefix="1"'),
    ]
    xfs += [
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" '
        'applyNumberFormat="1"/>'
        for i in range(len(formats))
    ]
    font = '<font>{b}<sz val="11"/><name val="Calibri"/><family val="2"/></font>'
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<styleSheet xmlns="{_MAIN}">'
        f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>'
        f'<fonts count="2">{font.format(b="")}{font.format(b="<b/>")}</fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill>'
        '<fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/>'
        f'</cellStyleXfs><cellXfs count="{len(xfs)}">{"".join(xfs)}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _package(names: list[str]) -> dict[str, str]:
    sheet_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{sheet_type}"/>'
        for i in range(1, len(names) + 1)
    )
    office = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    sheets = "".join(
        f'<sheet name={quoteattr(ILLEGAL.sub("", n))} sheetId="{i}" r:id="rId{i}"/>'
        for i, n in enumerate(names, start=1)
    )
    relation = f"{_REL}/worksheet"
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{relation}" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(names) + 1)
    )
    head = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    return {
        "[Content_Types].xml": (
            f'{head}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{office}.sheet.main+xml"/>'
            f'<Override PartName="/xl/styles.xml" ContentType="{office}.styles+xml"/>'
            f"{overrides}</Types>"
        ),
        "_rels/.rels": (
            f'{head}<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
            f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'{head}<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><bookViews><workbookView/>'
            f"</bookViews><sheets>{sheets}</sheets></workbook>"
        ),
        "xl/_rels/workbook.xml.rels": (
            f'{head}<Relationships xmlns="{_PKG_REL}">{rels}<Relationship Id="rIdStyles" '
            f'Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
        ),
    }


def write_workbook(path: Path | str, sheets: Iterable[SheetData]) -> Path:
    """Write ``sheets`` as one .xlsx file, streaming each sheet's rows into the zip."""
    target = Path(path)
    sheets = list(sheets)
    formats = sorted({f for sheet in sheets for f in sheet.formats if f})
    styles = {f: FIRST_FORMAT + i for i, f in enumerate(formats)}
    with zipfile.ZipFile(
        target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=_LEVEL
    ) as book:
        for name, text in _package([s.name for s in sheets]).items():
            book.writestr(name, text)
        book.writestr("xl/styles.xml", _styles_xml(formats))
        for i, sheet in enumerate(sheets, start=1):
            with book.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as out:
                _write_behind(out, (text.encode("utf-8") for text in _sheet_xml(sheet, styles)))
    return target


def _write_behind(out: IO[bytes], chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to ``out`` in order, compressed on a second thread.

    zlib and the CRC release the GIL, so the deflating of one block (half a
    county workbook's time) runs beside the formatting of the next. The same
    chunks reach ``out`` in the same order: the file is byte for byte the one a
    single thread writes. With ``GRIDMAP_THREADS=1`` it is that single thread.
    """
    if threads() < 2:
        for chunk in chunks:
            out.write(chunk)
        return
    pending: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
    failed: list[BaseException] = []

    def drain() -> None:
        try:
            while (chunk := pending.get()) is not None:
                if not failed:
                    out.write(chunk)
        except BaseException as exc:  # raised again in the caller's thread
            failed.append(exc)
            while pending.get() is not None:  # let the producer finish
                pass

    writer = threading.Thread(target=drain, name="xlsx-deflate", daemon=True)
    writer.start()
    try:
        for chunk in chunks:
            if failed:
                break
            pending.put(chunk)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]
