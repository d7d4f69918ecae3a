"""gridmap: grid-based community management GIS.

Finds which villages, communities, buildings, parks and organisations no party
branch (党支部) or party-mass service station (党群服务站) covers, along the
road network as well as by rule, and recommends where new sites close the gaps.

Everything a notebook needs is one import away (``docs/api.md`` has the names)::

    from gridmap import Store, ingest_osm, generate_grid, run_coverage, recommend_sites

The names are loaded on first use: ``import gridmap`` alone imports neither pandas
nor geopandas, so the ``gridmap`` command starts quickly.
"""

from __future__ import annotations

import importlib

# ``typing`` is not imported at run time: the ``gridmap`` command imports this package
# before its Ctrl-C guard is in place, so what runs here must take no time to speak of.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__version__ = "0.1.0"

#: public name -> the module that defines it (read on first access, PEP 562)
_PUBLIC: dict[str, str] = {
    # store and settings
    "Store": "gridmap.store",
    "Settings": "gridmap.settings",
    "CoverageSettings": "gridmap.settings",
    # files into frames, frames and files into the store
    "RecordKind": "gridmap.ingest",
    "read_layer": "gridmap.ingest",
    "read_osm": "gridmap.ingest",
    "ingest_layer": "gridmap.ingest.pipeline",
    "LoadReport": "gridmap.ingest.load",
    "IngestReport": "gridmap.ingest.pipeline",
    "ingest_osm": "gridmap.ingest.pipeline",
    # admin areas
    "derive_areas": "gridmap.admin",
    "DeriveReport": "gridmap.admin",
    "list_areas": "gridmap.admin",
    "load_divisions": "gridmap.admin",
    # grid cells
    "BEIJING_DB11_T_2157_2023": "gridmap.grid",
    "CJ_T_349_2010": "gridmap.grid",
    "CodeScheme": "gridmap.grid",
    "compute_grid": "gridmap.grid",
    "compute_grid_check": "gridmap.grid",
    "assign_codes": "gridmap.grid",
    "generate_grid": "gridmap.grid.stored_generate",
    "GridGenerated": "gridmap.grid.stored_generate",
    "generate_grid_over": "gridmap.grid.stored",
    "generate_grid_in": "gridmap.grid.stored",
    "save_cells": "gridmap.grid.stored",
    "assign_units": "gridmap.grid.stored",
    "AssignReport": "gridmap.grid.stored",
    "check_grid": "gridmap.grid.stored_check",
    # stored records out
    "export_records": "gridmap.store.export",
    "write_records": "gridmap.store.export",
    # coverage
    "ReachOptions": "gridmap.coverage",
    "CoverageInputs": "gridmap.coverage",
    "CoverageResult": "gridmap.coverage",
    "read_inputs": "gridmap.coverage",
    "compute_coverage": "gridmap.coverage",
    "run_coverage": "gridmap.coverage",
    "reproduce_run": "gridmap.coverage",
    "list_runs": "gridmap.coverage",
    "compare_runs": "gridmap.coverage",
    "write_results": "gridmap.coverage",
    # siting
    "SitingProblem": "gridmap.siting",
    "solve_mclp": "gridmap.siting",
    "solve_lscp": "gridmap.siting",
    "Recommendation": "gridmap.siting.recommend",
    "recommend_sites": "gridmap.siting.recommend",
    # maps and the workbook
    "MapData": "gridmap.maps",
    "map_data": "gridmap.maps.from_coverage",
    "build_map": "gridmap.maps",
    "export_html": "gridmap.maps",
    "render_png": "gridmap.maps",
    "write_report": "gridmap.report",
    # the demo, accounts, the web app
    "DEMO_AS_OF": "gridmap.demo",
    "demo_data_dir": "gridmap.demo",
    "derive_demo_areas": "gridmap.demo",
    "run_demo": "gridmap.demo",
    "add_user": "gridmap.accounts.users",
    "list_users": "gridmap.accounts.users",
    "set_password": "gridmap.accounts.users",
    "disable_user": "gridmap.accounts.users",
    "create_app": "gridmap.web.app",
}

# the same names as _PUBLIC, written out for linters and `from gridmap import *`
__all__ = [
    "BEIJING_DB11_T_2157_2023",
    "CJ_T_349_2010",
    "DEMO_AS_OF",
    "AssignReport",
    "CodeScheme",
    "CoverageInputs",
    "CoverageResult",
    "CoverageSettings",
    "DeriveReport",
    "GridGenerated",
    "IngestReport",
    "LoadReport",
    "MapData",
    "ReachOptions",
    "Recommendation",
    "RecordKind",
    "Settings",
    "SitingProblem",
    "Store",
    "__version__",
    "add_user",
    "assign_codes",
    "assign_units",
    "build_map",
    "check_grid",
    "compare_runs",
    "compute_coverage",
    "compute_grid",
    "compute_grid_check",
    "create_app",
    "demo_data_dir",
    "derive_areas",
    "derive_demo_areas",
    "disable_user",
    "export_html",
    "export_records",
    "generate_grid",
    "generate_grid_in",
    "generate_grid_over",
    "ingest_layer",
    "ingest_osm",
    "list_areas",
    "list_runs",
    "list_users",
    "load_divisions",
    "map_data",
    "read_inputs",
    "read_layer",
    "read_osm",
    "recommend_sites",
    "render_png",
    "reproduce_run",
    "run_coverage",
    "run_demo",
    "save_cells",
    "set_password",
    "solve_lscp",
    "solve_mclp",
    "write_records",
    "write_report",
    "write_results",
]


def __getattr__(name: str) -> Any:
    """Import the module of a public name on first use and cache the name here."""
    try:
        module = _PUBLIC[name]
    except KeyError:
        msg = f"module 'gridmap' has no attribute {name!r}"
        raise AttributeError(msg) from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_PUBLIC})


if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ does it
    from gridmap.accounts.users import add_user, disable_user, list_users, set_password
    from gridmap.admin import DeriveReport, derive_areas, list_areas, load_divisions
    from gridmap.coverage import (
        CoverageInputs,
        CoverageResult,
        ReachOptions,
        compare_runs,
        compute_coverage,
        list_runs,
        read_inputs,
        reproduce_run,
        run_coverage,
        write_results,
    )
    from gridmap.demo import DEMO_AS_OF, demo_data_dir, derive_demo_areas, run_demo
    from gridmap.grid import (
        BEIJING_DB11_T_2157_2023,
        CJ_T_349_2010,
        CodeScheme,
        assign_codes,
        compute_grid,
        compute_grid_check,
    )
    from gridmap.grid.stored import (
        AssignReport,
        assign_units,
        generate_grid_in,
        generate_grid_over,
        save_cells,
    )
    from gridmap.grid.stored_check import check_grid
    from gridmap.grid.stored_generate import GridGenerated, generate_grid
    from gridmap.ingest import RecordKind, read_layer, read_osm
    from gridmap.ingest.load import LoadReport
    from gridmap.ingest.pipeline import IngestReport, ingest_layer, ingest_osm
    from gridmap.maps import MapData, build_map, export_html, render_png
    from gridmap.maps.from_coverage import map_data
    from gridmap.report import write_report
    from gridmap.settings import CoverageSettings, Settings
    from gridmap.siting import SitingProblem, solve_lscp, solve_mclp
    from gridmap.siting.recommend import Recommendation, recommend_sites
    from gridmap.store import Store
    from gridmap.store.export import export_records, write_records
    from gridmap.web.app import create_app
