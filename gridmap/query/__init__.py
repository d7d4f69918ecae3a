"""The query layer: every read and write the web app (or a notebook) makes, given a Scope.

Each function takes a :class:`Scope` and adds its filter in SQL, so no caller can forget
it; a record outside the scope is reported as missing (:class:`NotFoundError`).
"""

from gridmap.query._common import MAX_PAGE, Page, resolve_run
from gridmap.query.areas import area_in_scope, area_trend, run_in_scope, runs_in_scope
from gridmap.query.audit import audit_entries
from gridmap.query.cell_map import cell_geojson, station_names, unit_status
from gridmap.query.changes import CHANGE_KINDS, changes_in_scope, decide_change
from gridmap.query.jobs import create_job, job_of, run_job
from gridmap.query.results import cell_in_scope, cells_in_scope, unit_in_scope, units_of_cell
from gridmap.query.scope import Scope
from gridmap.query.visits import Actor, NewVisit, record_visit, visits_in_scope

__all__ = [
    "CHANGE_KINDS",
    "MAX_PAGE",
    "Actor",
    "NewVisit",
    "Page",
    "Scope",
    "area_in_scope",
    "area_trend",
    "audit_entries",
    "cell_geojson",
    "cell_in_scope",
    "cells_in_scope",
    "changes_in_scope",
    "create_job",
    "decide_change",
    "job_of",
    "record_visit",
    "resolve_run",
    "run_in_scope",
    "run_job",
    "runs_in_scope",
    "station_names",
    "unit_in_scope",
    "unit_status",
    "units_of_cell",
    "visits_in_scope",
]
