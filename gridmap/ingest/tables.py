"""Tables as departments send them: title rows above the header, over-long fields.

* :func:`find_header_row` picks the header among a sheet's first rows: the
  row whose cells name the most fields of the kind (``名称``, ``经度``, ...), so
  one or several title rows above it (``贵溪市非公企业名单（2026年）``) are
  skipped; ``header_row=`` (1-based, as the sheet shows it) overrides it.
* :func:`unique_headers` keeps the headers as the file has them, only telling
  apart empty or repeated ones, so reject files carry the original columns.
* :func:`cap_fields` rejects rows with a field longer than the limit
  (``GRIDMAP_INGEST__MAX_FIELD_CHARS``) and keeps only the start of that field.
* :func:`read_csv_table` streams a CSV file in chunks: memory grows with the
  rows kept, not with the size of the file.
"""

from __future__ import annotations

import csv
import itertools
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final, TextIO

import numpy as np
import pandas as pd

from gridmap.ingest.columns import resolve_columns
from gridmap.ingest.records import IngestError, RecordKind

__all__ = [
    "DEFAULT_MAX_FIELD_CHARS",
    "HEADER_SEARCH_ROWS",
    "CsvTable",
    "TableOptions",
    "cap_fields",
    "find_header_row",
    "note_header",
    "read_csv_table",
    "unique_headers",
]

#: Rows searched for the header.
HEADER_SEARCH_ROWS: Final = 30
#: Default of ``GRIDMAP_INGEST__MAX_FIELD_CHARS``.
DEFAULT_MAX_FIELD_CHARS: Final = 4000
#: Characters of an over-long field kept in the reject file.
_KEPT_CHARS: Final = 200
_CHUNK_ROWS: Final = 20_000
#: Columns read beyond the header, to catch rows with more fields than it has.
_SPARE_COLUMNS: Final = 16
_SPARE: Final = "\x00spare"
#: Characters of a line looked at in the header search.
_LINE_CHARS: Final = 64 * 1024


@dataclass(frozen=True)
class TableOptions:
    """How to read a table: what its rows hold, where its header is, the limits."""

    kind: RecordKind
    sheet: str | None
    encoding: str | None
    header_row: int | None
    max_field_chars: int
    named: frozenset[str] = frozenset()


def note_header(header: int, options: TableOptions, notes: list[str]) -> None:
    """Say where the header was found when it was searched for and not in row 1."""
    if header > 1 and options.header_row is None:
        notes.append(
            f"header found in row {header} (rows above it read as a title); "
            "pass --header-row if that is wrong"
        )


def _cell_text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and value != value) else str(value)


def _score(row: Sequence[object], kind: RecordKind, named: Collection[str]) -> int:
    """How many fields of ``kind`` (and coordinate columns) the cells of ``row`` name.

    A column the user named (``--name-col 单位全称``) counts as two.
    """
    texts = [_cell_text(v).strip() for v in row]
    headers = list(dict.fromkeys(t for t in texts if t))  # a repeated header counts once
    if not headers:
        return 0
    mapping = resolve_columns(headers, kind, coordinates=True, coordinates_optional=True)
    found = len(mapping.fields) + (mapping.lon is not None) + (mapping.lat is not None)
    return found + 2 * sum(1 for t in texts if t in named)


def find_header_row(
    rows: Iterable[Sequence[object]],
    kind: RecordKind,
    header_row: int | None = None,
    named: Collection[str] = (),
) -> int:
    """The 0-based position of the header among ``rows`` (the first rows of a sheet).

    Parameters
    ----------
    rows
        The sheet's rows from its first; only :data:`HEADER_SEARCH_ROWS` are read.
    kind
        What the rows hold, whose field names the header should carry.
    header_row
        The header's 1-based row number, as the user gives it (``--header-row``).
    named
        Column names the user gave (``--map``, ``--name-col``, ...).
    """
    if header_row is not None:
        if header_row < 1:
            msg = f"--header-row counts from 1 (the sheet's first row), got {header_row}"
            raise IngestError(msg)
        return header_row - 1
    best, best_score = 0, 0
    for position, row in enumerate(itertools.islice(rows, HEADER_SEARCH_ROWS)):
        score = _score(row, kind, named)
        if score > best_score:
            best, best_score = position, score
    return best


def unique_headers(cells: Sequence[object]) -> list[str]:
    """Headers as the file writes them; an empty or repeated one gets ``#<column number>``."""
    headers: list[str] = []
    seen: set[str] = set()
    for number, cell in enumerate(cells, start=1):
        text = _cell_text(cell)
        label = text if text and text not in seen else f"{text}#{number}"
        seen.add(label)
        headers.append(label)
    return headers


def cap_fields(table: pd.DataFrame, limit: int, first_position: int = 0) -> dict[int, list[str]]:
    """Reject rows with a text field over ``limit`` characters; shorten that field in place.

    Returns the problems by row position (``first_position`` + the row's index in ``table``).
    """
    problems: dict[int, list[str]] = {}
    for number, column in enumerate(table.columns):
        values = table.iloc[:, number]
        lengths = _text_lengths(values)
        for found in (lengths > limit).to_numpy().nonzero()[0]:
            index = int(found)
            text = str(values.iat[index])
            problems.setdefault(first_position + index, []).append(
                f"字段过长 / column {column!r} holds {len(text):,} characters, more than the "
                f"{limit:,} allowed (GRIDMAP_INGEST__MAX_FIELD_CHARS): shorten it, or raise "
                "the limit if such values are real"
            )
            table.iat[index, number] = f"{text[:_KEPT_CHARS]}… ({len(text):,} characters, cut)"
    return problems


def _text_lengths(values: pd.Series) -> pd.Series:
    """The length of each text value (0 for anything else), at once for a text column."""
    if pd.api.types.infer_dtype(values, skipna=True) == "string":  # texts and missing values
        texts = values.astype(object).where(values.notna(), "").tolist()
        return pd.Series(list(map(len, texts)), index=values.index, dtype=np.int64)
    return values.map(lambda v: len(v) if isinstance(v, str) else 0)


@dataclass(frozen=True)
class CsvTable:
    """A CSV file as read: its table, each row's line number, the reader's findings and
    the line the header was read from."""

    table: pd.DataFrame
    rows: list[int]
    problems: dict[int, list[str]]
    header_row: int = 1


def _line(handle: TextIO) -> str:
    """The next line, cut at :data:`_LINE_CHARS` (the rest of a longer line is skipped)."""
    line = handle.readline(_LINE_CHARS)
    rest = line
    while rest and not rest.endswith(("\n", "\r")):
        rest = handle.readline(_LINE_CHARS)
    return line


def _parse_line(line: str) -> list[str]:
    try:
        return next(csv.reader([line]), [])
    except csv.Error:
        return []


def _first_rows(path: Path, encoding: str, count: int) -> list[list[str]]:
    """The first lines of a CSV file as rows, for the header search (memory stays small)."""
    rows: list[list[str]] = []
    with path.open(encoding=encoding, newline="") as handle:
        while len(rows) < count and (line := _line(handle)):
            rows.append(_parse_line(line))
    return rows


def read_csv_table(
    path: Path,
    encoding: str,
    kind: RecordKind,
    *,
    header_row: int | None,
    max_field_chars: int,
    named: Collection[str] = (),
) -> CsvTable:
    """Read a CSV file chunk by chunk, finding its header and capping field lengths.

    A row with more fields than the header is rejected naming them (a trailing empty
    field is ignored), rather than shifting its values under the wrong headers.
    """
    first = _first_rows(path, encoding, max(HEADER_SEARCH_ROWS, header_row or 0))
    skip = find_header_row(first, kind, header_row, named)
    if skip >= len(first):
        msg = f"{path.name} has no row {skip + 1} to read the header from; check --header-row"
        raise IngestError(msg)
    headers = unique_headers(first[skip])
    spare = [f"{_SPARE}{i}" for i in range(1, _SPARE_COLUMNS + 1)]
    chunks: list[pd.DataFrame] = []
    problems: dict[int, list[str]] = {}
    start = 0
    reader = pd.read_csv(
        path,
        encoding=encoding,
        dtype=object,  # Python strings at once: no Arrow strings to convert back
        keep_default_na=False,
        header=None,
        names=headers + spare,
        index_col=False,
        skiprows=skip + 1,
        chunksize=_CHUNK_ROWS,
        skip_blank_lines=True,
    )
    with reader:
        try:
            for chunk in reader:
                chunk = _without_spare(
                    chunk.reset_index(drop=True), spare, len(headers), start, problems
                )
                problems.update(cap_fields(chunk, max_field_chars, start))
                chunks.append(chunk)
                start += len(chunk)
        except pd.errors.EmptyDataError:
            pass  # a header without rows
    table = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame(columns=headers)
    # the header is line skip + 1, so data starts at skip + 2
    rows = [skip + 2 + i for i in range(len(table))]
    return CsvTable(table.astype(object), rows, problems, header_row=skip + 1)


def _without_spare(
    chunk: pd.DataFrame, spare: list[str], width: int, start: int, problems: dict[int, list[str]]
) -> pd.DataFrame:
    """Drop the spare columns, rejecting the rows that have values there.

    The rows with a value there are found for the whole chunk at once; only theirs are
    turned into text for the message.
    """
    cells = chunk[spare].to_numpy(dtype=object)
    filled = (cells != "") & ~pd.isna(cells)
    for index in filled.any(axis=1).nonzero()[0]:
        row = chunk[spare].iloc[[int(index)]].fillna("").astype(str).iloc[0]
        values = [v for v in row.tolist() if v != ""]
        problems.setdefault(start + int(index), []).append(
            f"行字段多于表头 / the row has more fields than the header's {width} "
            f"(extra values {values!r}): add headers for them or remove them"
        )
    return chunk.drop(columns=spare)
