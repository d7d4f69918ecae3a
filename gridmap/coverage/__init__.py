"""The coverage engine: who is covered by rule, by distance and along the roads.

>>> result = run_coverage(store, settings.coverage, ReachOptions(mode="network")) # doctest: +SKIP
>>> result.summary()["org_rate"], result.blind_zones.head()                         # doctest: +SKIP
"""

from __future__ import annotations

from gridmap.coverage.files import write_results
from gridmap.coverage.inputs import CoverageInputs, read_inputs, representative_points
from gridmap.coverage.reach import ReachOptions, ServiceReach, service_reach
from gridmap.coverage.result import CoverageResult
from gridmap.coverage.rules import OrgCoverage, org_coverage
from gridmap.coverage.run import compute_coverage, reproduce_run, run_coverage
from gridmap.coverage.runs import RunComparison, compare_runs, list_runs
from gridmap.coverage.summary import cell_summary, rates, rollup
from gridmap.coverage.zones import blind_zones

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
