"""``gridmap grid generate`` in one call: cells over an area or a polygon, saved, units assigned.

:func:`generate_grid` checks that the area can be gridded (villages / communities with
codes the scheme extends, no stored grid it would overlap), derives the villages /
communities a polygon overlaps when none is stored, generates and codes the cells
(:func:`~gridmap.grid.stored.generate_grid_over` / :func:`~gridmap.grid.stored.generate_grid_in`,
unsaved), saves them and puts every unit in its cell in the save's transaction.
Messages name the CLI's flags (``--area``, ``--replace``, ...), as the command does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd

from gridmap.errors import GridmapError
from gridmap.grid import BEIJING_DB11_T_2157_2023, CellShape, CodeScheme
from gridmap.grid.assign import AssignReport
from gridmap.ingest.load import LoadReport

if TYPE_CHECKING:
    from shapely.geometry.base import BaseGeometry

    from gridmap.admin import DeriveReport, Division
    from gridmap.store import Store

logger = logging.getLogger(__name__)

#: Stored cells sharing less than this with an area (m²) are its neighbours, not its grid.
OVERLAP_M2 = 1.0

__all__ = ["GridGenerated", "codes_unique", "generate_grid"]


@dataclass(frozen=True)
class GridGenerated:
    """What :func:`generate_grid` did: the cells it saved, the save, the assignment."""

    label: str  # how the area is called: its code, the polygon file's name, "bbox"
    scheme: str  # the cell-code preset's name
    cells: gpd.GeoDataFrame  # the generated cells (WGS-84), as saved
    load: LoadReport  # the save (``source`` is ``grid-<label>``)
    assignment: AssignReport  # units put in cells, in the save's transaction
    derived: DeriveReport | None = None  # villages / communities derived for a polygon first
    out: Path | None = None  # where the cells were also written, if anywhere

    def summary(self) -> dict[str, Any]:
        """The counts of the save, the assignment and any derivation, for tables and JSON."""
        return {
            "label": self.label,
            "scheme": self.scheme,
            "cells": len(self.cells),
            "load": self.load.summary(),
            "assignment": self.assignment.summary(),
            "derived": None if self.derived is None else self.derived.summary(),
            "out": None if self.out is None else str(self.out),
        }

    def __str__(self) -> str:
        """One line: where, which scheme, what the save did."""
        return f"cells over {self.label} ({self.scheme}): {self.load}"


@contextmanager
def codes_unique(what: str) -> Iterator[None]:
    """Turn the store's unique-code violation into a message; the load was rolled back."""
    from sqlalchemy.exc import IntegrityError

    try:
        yield
    except IntegrityError as exc:
        msg = (
            f"{what}: a cell code is already stored under another source, and codes are "
            f"unique in the store ({exc.orig}); nothing was saved. Re-import under that "
            "source (--source) to update those cells, or fix the codes"
        )
        raise GridmapError(msg) from exc


def generate_grid(  # noqa: PLR0913 - the options of `gridmap grid generate`, spelled out
    store: Store,
    area_code: str | None = None,
    *,
    boundary: BaseGeometry | None = None,
    shape: CellShape,
    size_m: float | None = None,
    resolution: int | None = None,
    scheme: CodeScheme = BEIJING_DB11_T_2157_2023,
    parent_code: str | None = None,
    replace: bool = False,
    out: Path | str | None = None,
    label: str | None = None,
    flag: str | None = None,
    divisions: Sequence[Division] | Callable[[], Sequence[Division]] = (),
) -> GridGenerated:
    """Generate, code and save cells over a stored area or a polygon; put units in them.

    Parameters
    ----------
    store
        Holds the areas; receives the cells.
    area_code
        A stored county / township area with a boundary and villages / communities
        below it; or give ``boundary``.
    boundary
        A WGS-84 polygon: the cells go to the villages / communities it overlaps;
        where none is stored they are derived first (:func:`gridmap.admin.derive_areas`,
        with ``parent_code`` and ``divisions``).
    shape, size_m, resolution
        ``square`` / ``hex`` with ``size_m`` (the side in metres), or ``h3`` with
        ``resolution`` (:func:`gridmap.grid.compute_grid`).
    scheme
        The cell-code preset (default Beijing DB11/T 2157-2023).
    replace
        With ``area_code``: replace the area's stored cells (workers keep the cells
        whose code survives); without it a stored grid there is refused.
    out
        Also write the cells there (:func:`gridmap.store.export.write_records`).
    divisions
        The MCA code list for derived areas' codes, or a function giving it (called
        only when areas are derived: the list is large).
    label, flag
        How the source name (``grid-<label>``) and messages call the area: default
        the code and ``--area CODE``, or ``boundary`` for a polygon.

    Raises
    ------
    GridmapError
        When the area cannot be gridded as asked, saying why and what to do; nothing
        is saved then (areas derived for a polygon stay).
    """
    if (area_code is None) == (boundary is None):
        msg = "give an area code or a boundary polygon to grid, one of them"
        raise GridmapError(msg)
    if area_code is None and replace:
        msg = "--replace works with --area only; remove the old cells first, or use --area"
        raise GridmapError(msg)
    if area_code is not None:
        if parent_code is not None:
            raise GridmapError("--parent-code goes with --boundary or --bbox, not --area")
        name = label or area_code
        cells, load = _in_area(store, area_code, name, shape, size_m, resolution, scheme, replace)
        derived = None
    else:
        assert boundary is not None  # one of the two, checked above
        name = label or "boundary"
        polygon = _Polygon(boundary, name, flag or name)
        cells, load, derived = _in_polygon(
            store, polygon, shape, size_m, resolution, scheme, parent_code, divisions
        )
    written = None
    if out is not None:
        from gridmap.store.export import write_records

        written = write_records(cells, out)
    assert load.assignment is not None  # save_cells puts the units in the cells
    return GridGenerated(name, scheme.name, cells, load, load.assignment, derived, written)


@dataclass(frozen=True)
class _Polygon:
    boundary: BaseGeometry
    label: str
    flag: str


def _community_count(store: Store, area: str) -> int:
    from gridmap.grid.stored import communities_within

    try:
        return len(communities_within(store, area))
    except KeyError:
        # communities_within indexes an empty frame by columns when the store holds no
        # village-level area at all; that means none below this area either.
        return 0


def _require_communities(count: int, area: str, scheme: CodeScheme) -> None:
    if count:
        return
    msg = (
        f"--area {area} has no village/community areas with a boundary below it, and "
        f"{scheme.name} codes every cell under its village or community "
        f"({scheme.layout()}): a cell never belongs directly to a township. Derive them "
        f"from the place points (`gridmap areas derive --area {area}`) or import them "
        "(`gridmap ingest layer FILE --kind area`, level village, parent_code "
        f"{area}), then generate again"
    )
    raise GridmapError(msg)


def _refuse_stored_cells(store: Store, what: str, boundary: BaseGeometry, advice: str) -> None:
    """Refuse to add a second grid over cells already stored there.

    Saving upserts by code: a grid of another size would leave the old cells that
    the new one does not renumber beside it, overlapping.
    """
    from gridmap.crs import metric_crs_for
    from gridmap.store.export import export_records

    cells = export_records(store, "cells")
    near = cells[cells.intersects(boundary)]
    if near.empty:
        return
    centre = boundary.centroid
    shared = near.intersection(boundary).to_crs(metric_crs_for(centre.x, centre.y)).area
    inside = near[(shared > OVERLAP_M2).to_numpy()]  # neighbours' edges may graze the boundary
    if inside.empty:
        return
    sources = ", ".join(sorted(set(inside["source"])))
    msg = (
        f"{what} already has {len(inside)} stored cells (source {sources}); a new grid "
        f"would be saved beside them and overlap. {advice}"
    )
    raise GridmapError(msg)


def _check_community_codes(communities: Any, scheme: CodeScheme) -> None:
    """Every community needs a code of the length the scheme extends."""
    width = scheme.parent_width
    bad = [
        f"{name} ({code})"
        for code, name in zip(communities["code"], communities["name"], strict=True)
        if not (isinstance(code, str) and len(code) == width and code.isdigit())
    ]
    if bad:
        msg = (
            f"--scheme {scheme.name} extends {width}-digit village/community codes, and "
            f"{len(bad)} areas have none or another one: {', '.join(bad[:5])}. Fix their codes "
            "(`gridmap ingest layer FILE --kind area`) or derive them (`gridmap areas derive`)"
        )
        raise GridmapError(msg)


def _in_area(
    store: Store,
    area: str,
    label: str,
    shape: CellShape,
    size_m: float | None,
    resolution: int | None,
    scheme: CodeScheme,
    replace: bool,
) -> tuple[gpd.GeoDataFrame, LoadReport]:
    from gridmap.grid.stored import (
        area_boundary,
        communities_within,
        generate_grid_over,
        save_cells,
    )

    boundary = area_boundary(store, area)
    _require_communities(_community_count(store, area), area, scheme)
    _check_community_codes(communities_within(store, area), scheme)
    if not replace:
        advice = (
            f"Check them with `gridmap grid check --area {area}`, or give --replace to replace them"
        )
        _refuse_stored_cells(store, f"--area {area}", boundary, advice)
    cells = generate_grid_over(
        store, area, shape=shape, size_m=size_m, resolution=resolution, scheme=scheme
    )
    with codes_unique(f"cells over {area}"):
        saved = save_cells(
            store, cells, source=f"grid-{label}", replace_area=area if replace else None
        )
    return cells, saved


def _derive(
    store: Store,
    polygon: _Polygon,
    parent_code: str | None,
    divisions: Sequence[Division] | Callable[[], Sequence[Division]],
) -> DeriveReport:
    from gridmap.admin import derive_areas, parent_code_problem

    if parent_code is not None:
        problem = parent_code_problem(parent_code, flag="--parent-code")
        if problem:
            raise GridmapError(problem)
    listed = divisions() if callable(divisions) else divisions
    return derive_areas(store, boundary=polygon.boundary, parent_code=parent_code, divisions=listed)


def _in_polygon(
    store: Store,
    polygon: _Polygon,
    shape: CellShape,
    size_m: float | None,
    resolution: int | None,
    scheme: CodeScheme,
    parent_code: str | None,
    divisions: Sequence[Division] | Callable[[], Sequence[Division]],
) -> tuple[gpd.GeoDataFrame, LoadReport, DeriveReport | None]:
    from gridmap.grid.stored import communities_intersecting, generate_grid_in, save_cells

    derived = None
    communities = communities_intersecting(store, polygon.boundary)
    if communities.empty:
        derived = _derive(store, polygon, parent_code, divisions)
        communities = communities_intersecting(store, polygon.boundary)
    elif parent_code is not None:
        msg = (
            f"--parent-code applies when villages/communities are derived, and {polygon.flag} "
            "already overlaps stored ones: drop --parent-code"
        )
        raise GridmapError(msg)
    _check_community_codes(communities, scheme)
    advice = "Check them with `gridmap grid check`"
    _refuse_stored_cells(store, polygon.flag, polygon.boundary, advice)
    cells = generate_grid_in(
        store,
        polygon.boundary,
        shape=shape,
        size_m=size_m,
        resolution=resolution,
        scheme=scheme,
    )
    with codes_unique(f"cells in {polygon.flag}"):
        saved = save_cells(store, cells, source=f"grid-{polygon.label}")
    return cells, saved, derived
