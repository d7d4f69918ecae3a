"""Grid cells (网格): generate, code, check, and assign units to them.

The division principle (DOMAIN.md, "Grid cells"): full coverage, clear
boundaries, no gaps, no overlaps, every cell in exactly one village or
community. :func:`generate_cells` builds such a grid, :func:`assign_codes`
numbers it under a :class:`CodeScheme`, :func:`check_grid` finds what breaks
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
from gridmap.grid.check import check_grid
from gridmap.grid.codes import (
    BEIJING_DB11_T_2157_2023,
    CJ_T_349_2010,
    CodePart,
    CodeScheme,
    assign_codes,
    validate_code,
)
from gridmap.grid.generate import GRID_ATTRS_KEY, CellShape, generate_cells

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
    "check_grid",
    "generate_cells",
    "validate_code",
]
