"""The coverage engine: who is covered by rule, by distance and along the roads.

>>> result = run_coverage(store, settings.coverage, ReachOptions(mode="network")) # doctest: +SKIP
>>> result.summary()["org_rate"], result.blind_zones.head()                         # doctest: +SKIP

Names load on first use (PEP 562): ``import gridmap.coverage.outputs`` (what ``report``
and ``map export`` read a stored run with) does not pay for the road network, the
zones or the file writers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridmap._lazy import lazy_names

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ does it
    from gridmap.coverage._options import ReachOptions
    from gridmap.coverage.files import write_results
    from gridmap.coverage.inputs import CoverageInputs, read_inputs, representative_points
    from gridmap.coverage.reach import ServiceReach, service_reach
    from gridmap.coverage.result import CoverageResult
    from gridmap.coverage.rules import OrgCoverage, org_coverage
    from gridmap.coverage.run import compute_coverage, reproduce_run, run_coverage
    from gridmap.coverage.runs import RunComparison, compare_runs, list_runs
    from gridmap.coverage.stored_run import load_run
    from gridmap.coverage.summary import cell_summary, rates, rollup
    from gridmap.coverage.zones import blind_zones

#: Each public name and the module that defines it.
_HOMES = {
    "CoverageInputs": "inputs",
    "CoverageResult": "result",
    "OrgCoverage": "rules",
    "ReachOptions": "_options",
    "RunComparison": "runs",
    "ServiceReach": "reach",
    "blind_zones": "zones",
    "cell_summary": "summary",
    "compare_runs": "runs",
    "compute_coverage": "run",
    "list_runs": "runs",
    "load_run": "stored_run",
    "org_coverage": "rules",
    "rates": "summary",
    "read_inputs": "inputs",
    "representative_points": "inputs",
    "reproduce_run": "run",
    "rollup": "summary",
    "run_coverage": "run",
    "service_reach": "reach",
    "write_results": "files",
}

__all__ = [
    "CoverageInputs",
    "CoverageResult",
    "OrgCoverage",
    "ReachOptions",
    "RunComparison",
    "ServiceReach",
    "blind_zones",
    "cell_summary",
    "compare_runs",
    "compute_coverage",
    "list_runs",
    "load_run",
    "org_coverage",
    "rates",
    "read_inputs",
    "representative_points",
    "reproduce_run",
    "rollup",
    "run_coverage",
    "service_reach",
    "write_results",
]


__getattr__, __dir__ = lazy_names(__name__, _HOMES, globals())
