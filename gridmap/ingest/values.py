"""Parse single cell values strictly: counts, dates, lists, enumerations, text.

Each parser returns ``None`` for an empty cell and raises :class:`ValueError`
with a message that names the value and the accepted forms; the row checker
turns that into the reason a row is rejected.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from gridmap.ingest.records import FieldSpec

__all__ = [
    "is_blank",
    "parse_column",
    "parse_count",
    "parse_date",
    "parse_float",
    "parse_list",
    "parse_text",
    "parse_value",
    "plain_floats",
]

#: Separators between items of a list cell such as 覆盖单位.
LIST_SEPARATORS: Final = re.compile(r"[;；,，、]")

_DATE_PATTERNS: Final = (
    re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
)
_EXCEL_EPOCH: Final = dt.date(1899, 12, 30)
#: Excel serial day numbers accepted as dates: 1927-05-18 .. 2173-10-14.
_EXCEL_SERIALS: Final = (10_000, 100_000)
_COUNT: Final = re.compile(r"^[+]?\d{1,3}(,\d{3})+$|^[+]?\d+(\.0*)?$")


def is_blank(value: object) -> bool:
    """True for None, NaN, NaT and strings of whitespace."""
    if value is None or value is pd.NaT:
        return True
    if isinstance(value, float):
        return math.isnan(value)
    return isinstance(value, str) and not value.strip()


def parse_text(value: object) -> str | None:
    """Return a trimmed string; whole floats from spreadsheets lose their ``.0``."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value).strip()


def parse_count(value: object) -> int | None:
    """Parse a non-negative whole number: ``12``, ``"12"``, ``"1,200"``, ``12.0``."""
    if is_blank(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a whole number")
    if isinstance(value, int | float):
        number = float(value)
        if not number.is_integer() or number < 0:
            raise ValueError(f"{value!r} is not a non-negative whole number")
        return int(number)
    text = str(value).strip()
    if not _COUNT.match(text):
        raise ValueError(f"{text!r} is not a whole number (write digits, such as 12)")
    return int(float(text.replace(",", "")))


def parse_float(value: object) -> float | None:
    """Parse a finite decimal number such as a coordinate."""
    if is_blank(value):
        return None
    try:
        number = float(str(value).strip())
    except ValueError:
        raise ValueError(f"{value!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _date_from_text(text: str) -> dt.date:
    for pattern in _DATE_PATTERNS:
        match = pattern.match(text)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return dt.date(year, month, day)
            except ValueError as exc:
                raise ValueError(f"{text!r} is not a real date ({exc})") from None
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return _date_from_serial(float(text))
    raise ValueError(f"{text!r} is not a date; write 2024-05-01, 2024/5/1 or 2024年5月1日")


def _date_from_serial(serial: float) -> dt.date:
    low, high = _EXCEL_SERIALS
    if not low <= serial < high:
        raise ValueError(f"{serial!r} is not a date (nor an Excel date serial {low}..{high})")
    return _EXCEL_EPOCH + dt.timedelta(days=int(serial))


def parse_date(value: object) -> dt.date | None:
    """Parse a date: text forms, Excel serial numbers, datetime cells."""
    if is_blank(value):
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _date_from_serial(float(value))
    return _date_from_text(str(value).strip())


def parse_list(value: object) -> list[str]:
    """Split a list cell on ``;`` ``；`` ``,`` ``，`` or ``、``; an empty cell is ``[]``."""
    text = parse_text(value)
    if text is None:
        return []
    return [item.strip() for item in LIST_SEPARATORS.split(text) if item.strip()]


def parse_value(spec: FieldSpec, value: object) -> object:
    """Parse one cell according to its canonical field."""
    if spec.value_type == "count":
        return parse_count(value)
    if spec.value_type == "date":
        return parse_date(value)
    if spec.value_type == "list":
        return parse_list(value)
    if spec.value_type == "enum" and spec.enum is not None:
        text = parse_text(value)
        return None if text is None else spec.enum.parse(text).value
    return parse_text(value)


#: Decimal numbers written plainly (ASCII digits): ``float()`` reads these exactly as
#: :func:`parse_float` does, so a whole column of them is read at once.
_PLAIN_FLOAT: Final = r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]{1,3})?"
_PLAIN_COUNT: Final = r"[0-9]{1,15}"
_PLAIN_FLOAT_RE: Final = re.compile(_PLAIN_FLOAT)
_PLAIN_COUNT_RE: Final = re.compile(_PLAIN_COUNT)


def _texts(series: pd.Series) -> pd.Series | None:
    """The column stripped, when every value is text or missing; else None.

    Only the values that start or end with whitespace are stripped one by one
    (:func:`_padded` finds them for the whole column); the others are kept as they are,
    which is what ``str.strip`` gives for them.
    """
    if pd.api.types.infer_dtype(series, skipna=True) not in ("string", "empty"):
        return None
    values = series.astype(object).where(series.notna(), "").to_numpy(dtype=object, copy=True)
    padded = _padded(values)
    if padded is None:  # not representable in Arrow (a lone surrogate): strip each
        values[:] = [v.strip() for v in values.tolist()]
    elif padded.any():
        values[padded] = [v.strip() for v in values[padded].tolist()]
    return pd.Series(values, index=series.index, dtype=object)


def _arrow(values: npt.NDArray[np.object_]) -> Any | None:
    """Texts as an Arrow string array; None without pyarrow (an optional dependency) or
    when a text cannot be encoded as UTF-8 (then the callers go text by text)."""
    try:
        import pyarrow as pa
    except ImportError:
        return None
    try:
        return pa.array(values, type=pa.large_string(), from_pandas=False)
    except (pa.ArrowException, UnicodeEncodeError, TypeError):
        return None


def _padded(values: npt.NDArray[np.object_]) -> npt.NDArray[np.bool_] | None:
    """Where a text starts or ends with a character ``str.strip`` removes (``isspace``).

    The first and last characters of every text are cut at once (Arrow); whether one is
    whitespace is asked of Python, once per distinct character. None when the texts
    cannot go to Arrow.
    """
    texts = _arrow(values)
    if texts is None:
        return None
    import pyarrow as pa
    import pyarrow.compute as pc

    padded = np.zeros(len(values), dtype=np.bool_)
    for edge in (pc.utf8_slice_codeunits(texts, 0, 1), pc.utf8_slice_codeunits(texts, -1, _END)):
        chars = [c for c in pc.unique(edge).to_pylist() if c and c.isspace()]
        if chars:
            found = pc.is_in(edge, value_set=pa.array(chars, type=edge.type))
            padded |= found.to_numpy(zero_copy_only=False)
    return padded


#: Past the end of any text (Arrow's slice takes a 64-bit stop).
_END: Final = 2**62

#: The patterns above for Arrow's RE2, anchored: ASCII classes only, so RE2 and Python's
#: ``re.fullmatch`` accept the same texts.
_ARROW_PATTERNS: Final = {
    _PLAIN_FLOAT_RE: f"^(?:{_PLAIN_FLOAT})$",
    _PLAIN_COUNT_RE: f"^(?:{_PLAIN_COUNT})$",
}


def _matches(texts: pd.Series, pattern: re.Pattern[str]) -> npt.NDArray[np.bool_]:
    """Where each text matches ``pattern`` whole (Arrow's RE2 over the whole column)."""
    arrow = _arrow(texts.to_numpy(dtype=object)) if len(texts) else None
    if arrow is None:
        return _matches_one_by_one(texts, pattern)
    import pyarrow.compute as pc

    found = pc.match_substring_regex(arrow, _ARROW_PATTERNS[pattern])
    return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.bool_)


def _matches_one_by_one(texts: pd.Series, pattern: re.Pattern[str]) -> npt.NDArray[np.bool_]:
    """:func:`_matches` with Python's ``re``, text by text: the reference."""
    match = pattern.fullmatch
    return np.fromiter((match(v) is not None for v in texts.tolist()), np.bool_, len(texts))


def plain_floats(series: pd.Series) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """Each value as a float where it is a plain finite decimal number, and where it is.

    Other values (empty, text, infinite, Excel numbers...) are left to :func:`parse_float`.
    """
    n = len(series)
    out = np.zeros(n, dtype=np.float64)
    texts = _texts(series)
    if texts is None:
        return out, np.zeros(n, dtype=np.bool_)
    ok = _matches(texts, _PLAIN_FLOAT_RE)
    out[ok] = np.asarray(texts[ok].tolist(), dtype=np.str_).astype(np.float64)
    finite = np.isfinite(out)
    return out, ok & finite


def parse_column(spec: FieldSpec, series: pd.Series) -> tuple[list[object], dict[int, str]]:
    """:func:`parse_value` over a column: the values, and the error message by position.

    Text columns are stripped as a whole; counts written as plain digits are converted
    at once; enumerations, dates and lists parse each distinct text once. Anything else
    goes value by value, so the results and messages are those of :func:`parse_value`.
    """
    texts = _texts(series)
    if texts is None:
        return _one_by_one(spec, series.tolist())
    if spec.value_type == "text":
        return texts.where(texts != "", None).tolist(), {}
    if spec.value_type == "count":
        digits = _matches(texts, _PLAIN_COUNT_RE)
        values = np.empty(len(series), dtype=object)
        values[digits] = np.asarray(texts[digits].tolist(), dtype=np.str_).astype(np.int64).tolist()
        others = np.flatnonzero(~digits)
        parsed, failed = _one_by_one(spec, series.iloc[others].tolist())
        values[others] = parsed
        positions = others.tolist()
        return list(values.tolist()), {positions[k]: message for k, message in failed.items()}
    return _by_distinct(spec, texts)


def _one_by_one(spec: FieldSpec, cells: list[object]) -> tuple[list[object], dict[int, str]]:
    values: list[object] = []
    errors: dict[int, str] = {}
    for position, cell in enumerate(cells):
        try:
            values.append(parse_value(spec, cell))
        except ValueError as exc:
            errors[position] = str(exc)
            values.append(None)
    return values, errors


def _by_distinct(spec: FieldSpec, texts: pd.Series) -> tuple[list[object], dict[int, str]]:
    codes, uniques = pd.factorize(texts)
    parsed, failed = _one_by_one(spec, list(uniques))
    if spec.value_type == "list":  # each row its own list
        values: list[object] = [list(parsed[code]) for code in codes.tolist()]  # type: ignore[call-overload]
    else:
        distinct = np.empty(len(parsed), dtype=object)
        distinct[:] = parsed
        values = list(distinct[codes].tolist())
    errors: dict[int, str] = {}
    if failed:
        bad = np.flatnonzero(np.isin(codes, list(failed)))
        errors = {position: failed[int(codes[position])] for position in bad.tolist()}
    return values, errors
