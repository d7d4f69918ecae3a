"""The result of :func:`gridmap.grid.compute_grid_check`: one frozen record per problem."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

import geopandas as gpd
from shapely.geometry.base import BaseGeometry

from gridmap.grid._common import WGS84

__all__ = ["CodeDuplicate", "Crossing", "Gap", "GridReport", "Overlap", "Spill", "UnfitCell"]


@dataclass(frozen=True)
class Gap:
    """Part of the boundary that no cell covers (不留空白 violated)."""

    geometry: BaseGeometry
    area_m2: float


@dataclass(frozen=True)
class Spill:
    """Part of the cells lying outside the boundary."""

    geometry: BaseGeometry
    area_m2: float


@dataclass(frozen=True)
class Overlap:
    """Two cells covering the same ground (不交叉重叠 violated)."""

    cells: tuple[str, str]
    geometry: BaseGeometry
    area_m2: float


@dataclass(frozen=True)
class Crossing:
    """A cell lying in several communities, with its area in each (community code, m²)."""

    cell: str
    areas: tuple[tuple[str, float], ...]
    geometry: BaseGeometry


@dataclass(frozen=True)
class CodeDuplicate:
    """A code given to more than one cell (``rows`` are row positions)."""

    code: str
    rows: tuple[int, ...]
    geometry: BaseGeometry


@dataclass(frozen=True)
class UnfitCell:
    """A cell without a code (``uncoded``) or with an invalid geometry (``invalid``)."""

    cell: str
    problem: Literal["uncoded", "invalid"]
    detail: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class GridReport:
    """Everything wrong with a grid; geometries in WGS-84, areas in m² of ``metric_crs``."""

    gaps: tuple[Gap, ...]
    spills: tuple[Spill, ...]
    overlaps: tuple[Overlap, ...]
    crossings: tuple[Crossing, ...]
    duplicates: tuple[CodeDuplicate, ...]
    unfit: tuple[UnfitCell, ...]
    boundary_area_m2: float
    cell_area_m2: float
    metric_crs: str

    TABLE_COLUMNS: ClassVar[tuple[str, ...]] = ("problem", "cells", "area_m2", "detail")

    @property
    def ok(self) -> bool:
        """True when the grid has no problem of any kind."""
        return not (
            self.gaps
            or self.spills
            or self.overlaps
            or self.crossings
            or self.duplicates
            or self.unfit
        )

    def _rows(self) -> list[tuple[str, str, float | None, str, BaseGeometry]]:
        rows: list[tuple[str, str, float | None, str, BaseGeometry]] = []
        rows += [("gap", "", g.area_m2, "not covered by any cell", g.geometry) for g in self.gaps]
        rows += [
            ("spill", "", s.area_m2, "cells outside the boundary", s.geometry) for s in self.spills
        ]
        rows += [
            ("overlap", " ".join(o.cells), o.area_m2, "cells overlap", o.geometry)
            for o in self.overlaps
        ]
        for c in self.crossings:
            detail = ", ".join(f"{code}: {area:.1f} m²" for code, area in c.areas)
            rows.append(("crossing", c.cell, sum(a for _, a in c.areas), detail, c.geometry))
        rows += [
            (
                "duplicate_code",
                d.code,
                None,
                f"{len(d.rows)} cells, rows {list(d.rows)}",
                d.geometry,
            )
            for d in self.duplicates
        ]
        rows += [(u.problem, u.cell, None, u.detail, u.geometry) for u in self.unfit]
        return rows

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One row per problem (``problem``, ``cells``, ``area_m2``, ``detail``), EPSG:4326."""
        rows = self._rows()
        return gpd.GeoDataFrame(
            {name: [row[i] for row in rows] for i, name in enumerate(self.TABLE_COLUMNS)},
            geometry=[row[4] for row in rows],
            crs=WGS84,
        )

    def to_table(self) -> list[tuple[str, ...]]:
        """Rows of strings for a CLI table, in the order of :attr:`TABLE_COLUMNS`."""
        return [
            (problem, cells, "" if area is None else f"{area:.1f}", detail)
            for problem, cells, area, detail, _ in self._rows()
        ]
