"""Worksheet cells as SpreadsheetML text: one cell (:func:`cell`) or a sheet's rows at once.

:func:`sheet_rows` writes the rows of a table given column by column. A column of
one type (text, integers, floats, yes/no) is written in one pass: its texts are
escaped once per distinct text, in one string, and its cells formatted by one
comprehension per block of rows, the same ``<c>`` elements :func:`cell` writes
one by one. Columns of mixed or other types (dates) go through :func:`cell`.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Final
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd

__all__ = ["BOLD", "BOLD_QUOTED", "FIRST_FORMAT", "ILLEGAL", "QUOTED", "Quoted", "cell"]
__all__ += ["sheet_rows", "text_cell"]

ILLEGAL: Final = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # not allowed in XML 1.0
_ILLEGAL_BUT_NUL: Final = re.compile(r"[\x01-\x08\x0b\x0c\x0e-\x1f]")
_EPOCH: Final = dt.datetime(1899, 12, 30)
# cellXfs: 0 plain, 1 bold (header), 2 quoted text, 3 bold quoted; then one per format
BOLD, QUOTED, BOLD_QUOTED, FIRST_FORMAT = 1, 2, 3, 4
#: Rows formatted at once (bounds the memory of a sheet's cell texts).
_ROWS_PER_BLOCK: Final = 20_000
Cells = Callable[[list[str], int, int], list[str]]


@dataclass(frozen=True)
class Quoted:
    """Text stored with Excel's quote prefix (shown as typed, never evaluated)."""

    text: str


def _inline_of(clean: str) -> str:
    space = ' xml:space="preserve"' if clean != clean.strip() else ""
    return f"<is><t{space}>{clean}</t></is>"


@functools.lru_cache(maxsize=1 << 16)
def _inline(value: str) -> str:
    """``<is>`` of a text (labels repeat down a column: each is escaped once)."""
    return _inline_of(escape(ILLEGAL.sub("", value)))


def text_cell(ref: str, value: str, style: int) -> str:
    """An inline-string ``<c>`` of ``value`` at ``ref``."""
    s = f' s="{style}"' if style else ""
    return f'<c r="{ref}" t="inlineStr"{s}>{_inline(value)}</c>'


def cell(ref: str, value: object, style: int) -> str:
    """One ``<c>`` element, or '' for an empty cell."""
    s = f' s="{style}"' if style else ""
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(ref, value, style)
    if isinstance(value, Quoted):
        return text_cell(ref, value.text, QUOTED)
    if isinstance(value, bool | np.bool_):
        return f'<c r="{ref}" t="b"{s}><v>{int(value)}</v></c>'
    if isinstance(value, int | np.integer):
        return f'<c r="{ref}"{s}><v>{int(value)}</v></c>'
    if isinstance(value, float | np.floating):
        number = float(value)
        return f'<c r="{ref}"{s}><v>{number!r}</v></c>' if math.isfinite(number) else ""
    if isinstance(value, dt.datetime | dt.date):
        moment = value if isinstance(value, dt.datetime) else dt.datetime.combine(value, dt.time())
        serial = (moment.replace(tzinfo=None) - _EPOCH) / dt.timedelta(days=1)
        return f'<c r="{ref}"{s}><v>{serial!r}</v></c>'
    return text_cell(ref, str(value), style)


def sheet_rows(
    columns: Sequence[Sequence[object]], letters: Sequence[str], styles: Sequence[int]
) -> Iterator[str]:
    """``<row>`` elements from row 2 on, in blocks, of the values given column by column."""
    n = len(columns[0]) if columns else 0
    writers = [
        _column_cells(list(values), letter, style)
        for values, letter, style in zip(columns, letters, styles, strict=False)
    ]
    for a in range(0, n, _ROWS_PER_BLOCK):
        b = min(n, a + _ROWS_PER_BLOCK)
        refs = [str(r) for r in range(a + 2, b + 2)]
        opens = [f'<row r="{r}">' for r in refs]
        cells = [write(refs, a, b) for write in writers]
        yield "".join(map("".join, zip(opens, *cells, itertools.repeat("</row>"), strict=False)))


def _column_cells(values: list[Any], letter: str, style: int) -> Cells:
    """A function of (row numbers, start, stop) giving the cells of ``values[start:stop]``."""
    kinds = set(map(type, values)) - {type(None)}
    s = f' s="{style}"' if style else ""
    if kinds and kinds <= {str, Quoted}:
        return _text_cells(values, letter, style)
    if kinds == {int}:
        return lambda refs, a, b: [
            "" if v is None else f'<c r="{letter}{r}"{s}><v>{v}</v></c>'
            for r, v in zip(refs, values[a:b], strict=True)
        ]
    if kinds == {float}:  # v - v is 0.0 only for a finite number: NaN and inf stay empty
        return lambda refs, a, b: [
            f'<c r="{letter}{r}"{s}><v>{v!r}</v></c>' if v is not None and v - v == 0 else ""
            for r, v in zip(refs, values[a:b], strict=True)
        ]
    if kinds == {bool}:
        return lambda refs, a, b: [
            "" if v is None else f'<c r="{letter}{r}" t="b"{s}><v>{1 if v else 0}</v></c>'
            for r, v in zip(refs, values[a:b], strict=True)
        ]
    return lambda refs, a, b: [
        cell(f"{letter}{r}", v, style) for r, v in zip(refs, values[a:b], strict=True)
    ]


def _text_cells(values: list[object], letter: str, style: int) -> Cells:
    """Texts (and quoted texts): each distinct one escaped once, all in one string."""
    codes, distinct = pd.factorize(np.array(values, dtype=object))
    given: list[str | Quoted] = distinct.tolist()
    texts = [v.text if isinstance(v, Quoted) else v for v in given]
    s = f' s="{style}"' if style else ""
    quoted = f' s="{QUOTED}"'
    tails = np.empty(len(texts) + 1, dtype=object)
    tails[:-1] = [
        f' t="inlineStr"{quoted if isinstance(v, Quoted) else s}>{inline}</c>'
        for v, inline in zip(given, _inlines(texts), strict=True)
    ]
    tails[-1] = None  # code -1: an empty cell
    return lambda refs, a, b: [
        "" if t is None else f'<c r="{letter}{r}"{t}'
        for r, t in zip(refs, tails[codes[a:b]].tolist(), strict=True)
    ]


def _inlines(texts: list[str]) -> list[str]:
    """``<is>`` of each text, escaped together when no text holds a NUL (the separator)."""
    joined = "\x00".join(texts)
    if joined.count("\x00") != max(0, len(texts) - 1):
        return [_inline(t) for t in texts]
    cleaned = escape(_ILLEGAL_BUT_NUL.sub("", joined)).split("\x00")
    return [_inline_of(c) for c in cleaned]
