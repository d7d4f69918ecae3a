"""Administrative areas and codes: official codes by name, areas derived from place points.

Two things users need before they can grid an area:

* **Codes.** :func:`load_divisions` reads the Ministry of Civil Affairs code list
  (GB/T 2260 counties + 9-digit township codes) and :func:`township_codes`
  finds the official code of each township / sub-district of a county by name.
  Where none is known, gridmap generates codes that keep the layout and are
  recognisable by their digits (:func:`code_origin`, see ``_codes.py``).
* **Areas.** Community and village boundaries are rarely published; OSM often
  has only a point per place. :func:`areas_from_points` divides a boundary
  among its places: each gets the part of the boundary nearer to it than to any
  other place (Voronoi cells, clipped). :func:`derive_areas` does it for a whole
  county or township in the store (``gridmap areas derive``). These areas are
  approximations, stored with source ``derived``.
"""

from __future__ import annotations

from gridmap.admin._codes import DERIVED_SOURCE, code_level, code_origin, is_generated
from gridmap.admin._divisions import Division, child_divisions, load_divisions, township_codes
from gridmap.admin._points import areas_from_points, child_codes
from gridmap.admin._stored import list_areas
from gridmap.admin.derive import (
    DeriveError,
    DeriveReport,
    boundary_problem,
    derive_areas,
    parent_code_problem,
)

__all__ = [
    "DERIVED_SOURCE",
    "DeriveError",
    "DeriveReport",
    "Division",
    "areas_from_points",
    "boundary_problem",
    "child_codes",
    "child_divisions",
    "code_level",
    "code_origin",
    "derive_areas",
    "is_generated",
    "list_areas",
    "load_divisions",
    "parent_code_problem",
    "township_codes",
]
