"""Cell codes (网格编码) that extend the administrative codes.

A :class:`CodeScheme` is a sequence of fixed-width digit parts of three kinds:

* ``parent``: digits copied from the code of the village/community the cell
  belongs to (12 digits = 6 county (GB/T 2260) + 3 township + 3 village/
  community, the statistical division code); several parent parts split that
  code in order, so their widths add up to its length;
* ``fixed``: constant digits, such as an object-class prefix;
* ``sequence``: the cell's number inside its community, from 1, zero-padded.

Two presets:

``BEIJING_DB11_T_2157_2023`` (15 digits)
    ``county(6) township(3) village(3) sequence(3)``, e.g. ``110105001001001``.
``CJ_T_349_2010`` (20 digits)
    ``object_class(6) county(6) township(3) community(3) sequence(2)``. DOMAIN.md
    gives the frame (a 6-digit object-class prefix, a 2-digit sub-grid
    sequence); the 12 digits between are the community code. The class value
    is set locally: the preset's ``000000`` is a placeholder, replace it with
    ``CJ_T_349_2010.with_fixed(object_class="......")``.

Another place's scheme is a new :class:`CodeScheme` with its own parts.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import shapely

from gridmap.grid._common import (
    CodeOverflowError,
    GridError,
    InvalidCodeError,
    frame_in_metric,
    reading_order,
)

__all__ = [
    "BEIJING_DB11_T_2157_2023",
    "CJ_T_349_2010",
    "CodePart",
    "CodeScheme",
    "assign_codes",
    "validate_code",
]

logger = logging.getLogger(__name__)

PartKind = Literal["parent", "fixed", "sequence"]


@dataclass(frozen=True)
class CodePart:
    """One fixed-width run of digits in a cell code.

    Parameters
    ----------
    name
        Used in error messages and by :meth:`CodeScheme.parse`.
    width
        Number of digits.
    kind
        ``"parent"``, ``"fixed"`` or ``"sequence"`` (see the module docstring).
    value
        The digits of a ``fixed`` part.
    """

    name: str
    width: int
    kind: PartKind = "parent"
    value: str = ""


@dataclass(frozen=True)
class CodeScheme:
    """A cell-code layout: its parts, in order, and exactly one sequence part."""

    name: str
    parts: tuple[CodePart, ...]

    def __post_init__(self) -> None:
        problems = [p for part in self.parts for p in _part_problems(part)]
        n_seq = sum(part.kind == "sequence" for part in self.parts)
        if n_seq != 1:
            problems.append(f"a scheme needs exactly one sequence part, got {n_seq}")
        if problems:
            raise GridError(f"invalid code scheme {self.name!r}: " + "; ".join(problems))

    @property
    def width(self) -> int:
        """Total number of digits."""
        return sum(part.width for part in self.parts)

    @property
    def parent_width(self) -> int:
        """Number of digits of the parent (community) code."""
        return sum(part.width for part in self.parts if part.kind == "parent")

    @property
    def sequence_part(self) -> CodePart:
        """The part that numbers cells within their community."""
        return next(part for part in self.parts if part.kind == "sequence")

    @property
    def max_sequence(self) -> int:
        """The largest cell number the sequence width can hold."""
        return int(10**self.sequence_part.width - 1)

    def layout(self) -> str:
        """Describe the parts, e.g. ``"6 county + 3 township + 3 village + 3 sequence"``."""
        return " + ".join(f"{part.width} {part.name}" for part in self.parts)

    def with_fixed(self, **values: str) -> CodeScheme:
        """Return a copy with new digits for the named fixed parts."""
        unknown = set(values) - {p.name for p in self.parts if p.kind == "fixed"}
        if unknown:
            raise GridError(f"scheme {self.name!r} has no fixed part(s) {sorted(unknown)}")
        parts = tuple(
            dataclasses.replace(p, value=values[p.name]) if p.name in values else p
            for p in self.parts
        )
        return dataclasses.replace(self, parts=parts)

    def format(self, parent_code: str, sequence: int) -> str:
        """Build the code of cell number ``sequence`` (from 1) in community ``parent_code``."""
        if not 1 <= sequence <= self.max_sequence:
            msg = (
                f"cell number {sequence} in community {parent_code} does not fit the "
                f"{self.sequence_part.width}-digit sequence of {self.name} (1..{self.max_sequence})"
            )
            raise CodeOverflowError(msg)
        out, offset = [], 0
        for part in self.parts:
            if part.kind == "parent":
                out.append(parent_code[offset : offset + part.width])
                offset += part.width
            elif part.kind == "fixed":
                out.append(part.value)
            else:
                out.append(f"{sequence:0{part.width}d}")
        return "".join(out)

    def parse(self, code: str) -> dict[str, str]:
        """Split a valid code into its named parts (see :func:`validate_code`)."""
        return validate_code(code, self)


def _part_problems(part: CodePart) -> list[str]:
    problems = []
    if part.width < 1:
        problems.append(f"part {part.name!r} needs width >= 1, got {part.width}")
    if part.kind == "fixed" and not (len(part.value) == part.width and part.value.isdigit()):
        problems.append(
            f"fixed part {part.name!r} needs {part.width} digits as value, got {part.value!r}"
        )
    return problems


BEIJING_DB11_T_2157_2023 = CodeScheme(
    "DB11/T 2157-2023",
    (
        CodePart("county", 6),
        CodePart("township", 3),
        CodePart("village", 3),
        CodePart("sequence", 3, "sequence"),
    ),
)

CJ_T_349_2010 = CodeScheme(
    "CJ/T 349-2010",
    (
        CodePart("object_class", 6, "fixed", "000000"),
        CodePart("county", 6),
        CodePart("township", 3),
        CodePart("community", 3),
        CodePart("sequence", 2, "sequence"),
    ),
)


def validate_code(code: object, scheme: CodeScheme) -> dict[str, str]:
    """Check ``code`` against ``scheme`` and return its parts by name.

    Raises
    ------
    InvalidCodeError
        Saying what the scheme expects and what was given: the length, the
        positions of non-digits, a fixed part with other digits, a zero
        sequence.
    """
    expected = f"{scheme.name} expects {scheme.width} digits ({scheme.layout()})"
    if not isinstance(code, str):
        raise InvalidCodeError(f"{expected}; got {type(code).__name__} {code!r}")
    problems: list[str] = []
    if len(code) != scheme.width:
        problems.append(f"{len(code)} characters")
    bad = [i + 1 for i, ch in enumerate(code) if ch not in "0123456789"]
    if bad:
        problems.append(f"non-digits at position(s) {bad}")
    parts: dict[str, str] = {}
    offset = 0
    for part in scheme.parts:
        parts[part.name] = code[offset : offset + part.width]
        offset += part.width
    if not problems:
        problems += _value_problems(parts, scheme)
    if problems:
        raise InvalidCodeError(f"{expected}; got {code!r}: " + ", ".join(problems))
    return parts


def _value_problems(parts: dict[str, str], scheme: CodeScheme) -> list[str]:
    problems = [
        f"{part.name} {parts[part.name]} instead of {part.value}"
        for part in scheme.parts
        if part.kind == "fixed" and parts[part.name] != part.value
    ]
    if int(parts[scheme.sequence_part.name]) == 0:
        problems.append("sequence 0 (cells are numbered from 1)")
    return problems


def assign_codes(
    cells: gpd.GeoDataFrame,
    scheme: CodeScheme,
    *,
    parent_code_col: str = "area_code",
    row_tolerance_m: float | None = None,
) -> gpd.GeoDataFrame:
    """Number cells within each community and return a copy with the ``code`` column set.

    Within a community, cells are numbered west to east, north to south: their
    representative points (``point_on_surface``, in the metric CRS) are cut
    into rows by northing, descending, a new row starting when a point lies
    more than ``row_tolerance_m`` south of the row's first point; each row is
    read by easting. Ties fall back to the row position, so the result is
    deterministic.

    Parameters
    ----------
    cells
        Cells with a geometry and the ``parent_code_col`` column.
    scheme
        The code layout.
    parent_code_col
        Column with the 12-digit (``scheme.parent_width``) community code.
    row_tolerance_m
        Row height tolerance; default half the median cell side (``sqrt`` of area).

    Raises
    ------
    GridError
        Listing the cells whose parent code is missing or malformed.
    CodeOverflowError
        Listing every community with more cells than the sequence width allows.
    """
    parents = _parent_codes(cells, scheme, parent_code_col)
    x, y, sides = _representative_points(cells)
    tolerance = row_tolerance_m if row_tolerance_m is not None else 0.5 * float(np.median(sides))
    _check_capacity(parents, scheme)
    codes = np.empty(len(cells), dtype=object)
    for parent in sorted(set(parents)):
        members = np.flatnonzero(parents == parent)
        order = members[reading_order(x[members], y[members], tolerance)]
        for number, pos in enumerate(order, start=1):
            codes[pos] = scheme.format(parent, number)
    out = cells.copy()
    out["code"] = codes
    logger.info(
        "coded %d cells in %d communities with %s", len(out), len(set(parents)), scheme.name
    )
    return out


def _parent_codes(cells: gpd.GeoDataFrame, scheme: CodeScheme, column: str) -> np.ndarray:
    if column not in cells.columns:
        raise GridError(
            f"cells have no column {column!r} with community codes; "
            f"columns are {list(cells.columns)}"
        )
    values = np.asarray([None if _missing(v) else str(v) for v in cells[column]], dtype=object)
    bad = [
        (i, v)
        for i, v in enumerate(values)
        if v is None or len(v) != scheme.parent_width or not v.isdigit()
    ]
    if bad:
        shown = ", ".join(f"row {i}: {v!r}" for i, v in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        raise GridError(
            f"{scheme.name} needs a {scheme.parent_width}-digit community code in {column!r} "
            f"for every cell; {len(bad)} cell(s) have none or a malformed one ({shown}{more}). "
            "Generate the cells with communities=, or fill the column."
        )
    return values


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _representative_points(
    cells: gpd.GeoDataFrame,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Metric eastings/northings of each cell's representative point, and cell sides."""
    geoms, _ = frame_in_metric(cells)
    reps = shapely.point_on_surface(geoms)
    return shapely.get_x(reps), shapely.get_y(reps), np.sqrt(shapely.area(geoms))


def _check_capacity(parents: np.ndarray, scheme: CodeScheme) -> None:
    names, counts = np.unique(parents.astype(str), return_counts=True)
    over = [(str(n), int(c)) for n, c in zip(names, counts, strict=True) if c > scheme.max_sequence]
    if over:
        listed = ", ".join(f"{name} ({count} cells)" for name, count in over)
        raise CodeOverflowError(
            f"the {scheme.sequence_part.width}-digit sequence of {scheme.name} numbers at most "
            f"{scheme.max_sequence} cells per community; too many in {listed}. Use larger "
            "cells, split the community, or a scheme with a wider sequence part."
        )
