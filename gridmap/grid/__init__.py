"""Grid cells (网格): generate, code, check, and assign units to them.

The division principle (DOMAIN.md, "Grid cells"): full coverage, clear
boundaries, no gaps, no overlaps, every cell in exactly one village or
community. :func:`compute_grid` builds such a grid, :func:`assign_codes`
numbers it under a :class:`CodeScheme`, :func:`compute_grid_check` finds what breaks
the principle in any grid, and :class:`RegularGrid`, :class:`CellIndex` and
:func:`assign_polygons` put units into cells.
"""

from __future__ import annotations

from gridmap.grid._common import CodeOverflowError, GridError, InvalidCodeError
from gridmap.grid._problems import (
    CodeDuplicate,
    Crossing,
    Gap,
    GridReport,
    Overlap,
    Spill,
    UnfitCell,
)
from gridmap.grid.assign import CellIndex, PolygonShare, RegularGrid, assign_polygons
from gridmap.grid.check import compute_grid_check
from gridmap.grid.codes import (
    BEIJING_DB11_T_2157_2023,
    CJ_T_349_2010,
    CodePart,
    CodeScheme,
    assign_codes,
    validate_code,
)
from gridmap.grid.generate import GRID_ATTRS_KEY, CellShape, compute_grid

__all__ = [
    "BEIJING_DB11_T_2157_2023",
    "CJ_T_349_2010",
    "GRID_ATTRS_KEY",
    "CellIndex",
    "CellShape",
    "CodeDuplicate",
    "CodeOverflowError",
    "CodePart",
    "CodeScheme",
    "Crossing",
    "Gap",
    "GridError",
    "GridReport",
    "InvalidCodeError",
    "Overlap",
    "PolygonShare",
    "RegularGrid",
    "Spill",
    "UnfitCell",
    "assign_codes",
    "assign_polygons",
    "compute_grid",
    "compute_grid_check",
    "validate_code",
]
