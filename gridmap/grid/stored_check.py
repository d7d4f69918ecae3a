"""Check every grid cell in the store, area by area (``gridmap grid check`` without ``--area``).

Cells are grouped by the township of their village / community (or by the
village when it has no township; cells of no village form one group). Each
group is checked with :func:`gridmap.grid.compute_grid_check`: overlaps, duplicate
codes, cells across communities, invalid or uncoded cells, and gaps and spills
against the boundaries that are known, those of the group's villages. Overlaps
between cells of different groups are found in one more pass over all cells.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import select

from gridmap.grid import GridReport, Overlap, compute_grid_check
from gridmap.grid._common import WGS84, polygon_parts
from gridmap.grid.check import find_overlaps
from gridmap.grid.stored import check_area_grid
from gridmap.store import Store, models, table_of

__all__ = ["AreaCheck", "StoreGridReport", "check_all_grids", "check_grid"]

logger = logging.getLogger(__name__)

TABLE_COLUMNS = ("area", *GridReport.TABLE_COLUMNS)


@dataclass(frozen=True)
class AreaCheck:
    """The check of the cells of one area (a township, or a village without one)."""

    code: str | None  # None: the cells that belong to no village / community
    name: str
    n_cells: int
    report: GridReport

    @property
    def label(self) -> str:
        """``CODE 名称`` for tables; the no-area group reads 无所属社区."""
        return f"{self.code} {self.name}" if self.code else "无所属社区 / no community"


@dataclass(frozen=True)
class StoreGridReport:
    """Every stored cell checked: one :class:`AreaCheck` per area, and cross-area overlaps."""

    areas: tuple[AreaCheck, ...]
    between: tuple[Overlap, ...]

    @property
    def ok(self) -> bool:
        """True when no area has a problem and no cells of two areas overlap."""
        return not self.between and all(a.report.ok for a in self.areas)

    @property
    def n_cells(self) -> int:
        """Number of cells checked."""
        return sum(a.n_cells for a in self.areas)

    def to_table(self) -> list[tuple[str, ...]]:
        """Rows for a CLI table, in the order of :data:`TABLE_COLUMNS`."""
        rows = [(a.label, *row) for a in self.areas for row in a.report.to_table()]
        rows += [
            ("(between areas)", "overlap", " ".join(o.cells), f"{o.area_m2:.1f}", "cells overlap")
            for o in self.between
        ]
        return rows

    def to_geodataframe(self) -> gpd.GeoDataFrame:
        """One row per problem with its ``area``, EPSG:4326."""
        frames = [a.report.to_geodataframe().assign(area=a.label) for a in self.areas]
        between = gpd.GeoDataFrame(
            {
                "problem": ["overlap"] * len(self.between),
                "cells": [" ".join(o.cells) for o in self.between],
                "area_m2": [o.area_m2 for o in self.between],
                "detail": ["cells of two areas overlap"] * len(self.between),
                "area": ["(between areas)"] * len(self.between),
            },
            geometry=[o.geometry for o in self.between],
            crs=WGS84,
        )
        frame = pd.concat([*frames, between], ignore_index=True)
        return gpd.GeoDataFrame(frame[[*TABLE_COLUMNS, "geometry"]], crs=WGS84)


def _table(store: Store, model: type[models.Base], geometry: str) -> gpd.GeoDataFrame:
    table = table_of(model)
    with store.engine.connect() as conn:
        rows = conn.execute(select(table)).mappings().all()
    data = {c.name: [r[c.name] for r in rows] for c in table.columns if c.name != geometry}
    geoms = [None if r[geometry] is None else to_shape(r[geometry]) for r in rows]
    return gpd.GeoDataFrame(data, geometry=geoms, crs=WGS84)


def _group_of(areas: gpd.GeoDataFrame) -> dict[int, int]:
    """Area id -> id of the area its cells are reported under (the village's township)."""
    by_id = areas.set_index("id")
    groups: dict[int, int] = {}
    for area_id, row in by_id.iterrows():
        parent: Any = row["parent_id"]
        village = row["level"] == "village"
        groups[int(area_id)] = int(parent) if village and not pd.isna(parent) else int(area_id)
    return groups


def _union(geoms: Any) -> Any:
    return shapely.union_all(polygon_parts(shapely.make_valid(shapely.union_all(geoms))))


def check_all_grids(store: Store, *, overlap_tolerance_m2: float = 1.0) -> StoreGridReport:
    """Check every stored cell, grouped by area (see the module docstring)."""
    cells = _table(store, models.GridCell, "geom")
    areas = _table(store, models.AdminArea, "boundary")
    if cells.empty:
        return StoreGridReport((), ())
    group_of = _group_of(areas)
    cells["group"] = [group_of.get(int(a), -1) if not pd.isna(a) else -1 for a in cells["area_id"]]
    villages = areas[(areas["level"] == "village") & areas.geometry.notna()]
    names = dict(zip(areas["id"], zip(areas["code"], areas["name"], strict=True), strict=True))
    checks = []
    for group, members in cells.groupby("group", sort=False):
        known = villages[villages["id"].isin(set(members["area_id"].dropna().astype(int)))]
        boundary = _union(known.geometry.values if len(known) else members.geometry.values)
        near = villages[villages.intersects(shapely.box(*members.total_bounds))]
        report = compute_grid_check(
            members[["code", "geometry"]].reset_index(drop=True),
            boundary,
            communities=near[["code", "geometry"]] if len(near) else None,
            overlap_tolerance_m2=overlap_tolerance_m2,
        )
        code, name = names.get(int(group), (None, ""))
        checks.append(AreaCheck(code, str(name), len(members), report))
    checks.sort(key=lambda c: (c.code is None, c.code or ""))
    group_by_code = dict(zip(cells["code"].astype(str), cells["group"], strict=True))
    between = tuple(
        o
        for o in find_overlaps(
            cells[["code", "geometry"]], overlap_tolerance_m2=overlap_tolerance_m2
        )
        if group_by_code.get(o.cells[0]) != group_by_code.get(o.cells[1])
    )
    result = StoreGridReport(tuple(checks), between)
    logger.info("checked %d cells in %d areas", result.n_cells, len(checks))
    return result


def check_grid(
    store: Store, area_code: str | None = None, *, overlap_tolerance_m2: float = 1.0
) -> GridReport | StoreGridReport:
    """Check the stored cells (``gridmap grid check``): of one area, or every cell area by area.

    With ``area_code`` the cells are checked against that area's boundary and its
    communities (:class:`GridReport`); without, every stored cell is checked, grouped
    by area (:class:`StoreGridReport`). Both have ``ok`` and ``to_geodataframe()``.
    """
    if area_code is None:
        return check_all_grids(store, overlap_tolerance_m2=overlap_tolerance_m2)
    return check_area_grid(store, area_code, overlap_tolerance_m2=overlap_tolerance_m2)
