"""A stored run read back for its maps and reports, recomputed only when it is too old.

Apart from :mod:`gridmap.coverage.outputs` (what a run stores) so that reading a run
imports none of the engine, and the engine (``run`` saving through ``runs``, which
writes ``outputs``) imports nothing of this.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from gridmap.coverage.outputs import stored_result
from gridmap.coverage.result import CoverageResult
from gridmap.settings import CoverageSettings
from gridmap.store import Store

__all__ = ["load_run"]

logger = logging.getLogger(__name__)


def load_run(
    store: Store,
    rules: CoverageSettings,
    run_id: int | None = None,
    *,
    unit_columns: Collection[str] | None = None,
) -> CoverageResult:
    """A stored run (the latest when ``run_id`` is None) as its maps and reports need it.

    Read back, not recomputed (:func:`stored_result`): units, cells, roll-up, blind
    zones, service areas, organisations and stations as the run found them; the inputs
    carry only what outputs add from the current records. A run stored before runs
    kept their outputs is recomputed (:func:`~gridmap.coverage.run.reproduce_run`, with
    a warning); with no stored run at all, a default radius run is computed.
    ``unit_columns``: see :func:`stored_result` (a recomputed run has every column).
    """
    found = stored_result(store, run_id, unit_columns=unit_columns)
    if found is not None:
        return found
    from gridmap.coverage.run import reproduce_run  # the whole engine: only for old runs
    from gridmap.coverage.runs import latest_run_id

    chosen = run_id if run_id is not None else latest_run_id(store)
    if chosen is not None:
        logger.warning(
            "run %d was stored before runs kept their outputs: recomputing it from the "
            "current records (run 'gridmap coverage run' again to store a run that maps "
            "and reports read directly)",
            chosen,
        )
    return reproduce_run(store, rules, chosen)
