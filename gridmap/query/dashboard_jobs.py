"""Siting runs started from the dashboard, as job rows beside coverage runs
(queued -> running -> done / failed), and the jobs a user started lately."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select

from gridmap.query.jobs import finish_job, job_of
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

__all__ = ["SITING", "recent_jobs", "run_siting_job"]

logger = logging.getLogger(__name__)

#: ``params["task"]`` of a siting job (coverage jobs have no task key).
SITING = "siting"


def run_siting_job(store: Store, job_id: int, rules: CoverageSettings) -> None:
    """Recommend sites for a queued siting job; a failure is stored on the job, never raised."""
    from gridmap.coverage import ReachOptions
    from gridmap.siting.recommend import recommend_sites

    params = dict(job_of(store, job_id, user_id=None)["params"])

    def work() -> None:
        options = ReachOptions(mode=params.get("mode", "radius"), meters=params.get("meters"))
        recommend_sites(
            store, rules, options, k=int(params["k"]), weight=params.get("weight", "population")
        )

    finish_job(store, job_id, work)


def recent_jobs(store: Store, user_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The jobs ``user_id`` started, newest first."""
    jobs = table_of(models.RunJob)
    query = select(jobs).where(jobs.c.created_by == user_id).order_by(jobs.c.id.desc())
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]
