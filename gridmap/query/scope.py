"""What a signed-in user may see: everything, an admin area and all below it, or own cells.

Admin codes nest by prefix (GB/T 2260 county ``360681``, township ``360681001``, village
``360681001001``), so "an area and below" is a prefix match on the area code of a cell.
A worker's scope is the cells assigned to their worker record (``worker_cell``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from sqlalchemy import ColumnElement, Select, false, select, true

from gridmap.store import models, table_of

__all__ = ["Scope"]

_AREA_CODE = frozenset("0123456789")


@dataclass(frozen=True)
class Scope:
    """A data scope. Build one with :meth:`everything`, :meth:`area` or :meth:`worker`."""

    kind: Literal["all", "area", "worker"]
    area_code: str | None = None
    worker_id: int | None = None

    @classmethod
    def everything(cls) -> Scope:
        """Every record (admins, the CLI)."""
        return cls("all")

    @classmethod
    def area(cls, code: str) -> Scope:
        """An admin area and everything below it (department and planner users)."""
        if not code or not set(code) <= _AREA_CODE:
            msg = f"an area scope needs a numeric admin code such as 360681001, got {code!r}"
            raise ValueError(msg)
        return cls("area", area_code=code)

    @classmethod
    def worker(cls, worker_id: int) -> Scope:
        """The cells assigned to one grid worker."""
        return cls("worker", worker_id=worker_id)

    def __str__(self) -> str:
        if self.kind == "all":
            return "everything"
        if self.kind == "area":
            return f"area {self.area_code} and below"
        return f"the cells of worker {self.worker_id}"

    def covers_area(self, code: str) -> bool:
        """Whether the admin area ``code`` (and so its roll-up) lies inside this scope."""
        if self.kind == "all":
            return True
        return self.kind == "area" and code.startswith(str(self.area_code))

    def area_filter(self, area_code: ColumnElement[str | None]) -> ColumnElement[bool]:
        """SQL condition on a column holding an admin area code."""
        if self.kind == "all":
            return true()
        if self.kind == "area":
            return area_code.startswith(str(self.area_code), autoescape=True)
        return false()  # workers are scoped by their cells, never by an area

    def cell_ids(self) -> Select[tuple[int]]:
        """SQL: ids of the live grid cells in scope (for units, visits, changes)."""
        cells = table_of(models.GridCell)
        if self.kind == "worker":
            assigned = table_of(models.WorkerCell)
            return select(assigned.c.cell_id).where(assigned.c.worker_id == self.worker_id)
        areas = table_of(models.AdminArea)
        query = select(cells.c.id)
        if self.kind == "area":
            query = query.join(areas, cells.c.area_id == areas.c.id).where(
                self.area_filter(areas.c.code)
            )
        return query

    def cell_codes(self) -> Select[tuple[str]]:
        """SQL: codes of the live grid cells in scope (stored results are keyed by code)."""
        cells = table_of(models.GridCell)
        return select(cells.c.code).where(cells.c.id.in_(self.cell_ids()))
