"""Siting runs started from the dashboard, as job rows beside coverage runs
(queued -> running -> done / failed), and the jobs a user started lately."""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import select, update

from gridmap.accounts.audit import utcnow
from gridmap.query.jobs import job_of
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

__all__ = ["SITING", "recent_jobs", "run_siting_job"]

logger = logging.getLogger(__name__)

#: ``params["task"]`` of a siting job (coverage jobs have no task key).
SITING = "siting"


def _set(store: Store, job_id: int, **values: Any) -> None:
    jobs = table_of(models.RunJob)
    with store.engine.begin() as conn:
        conn.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


def run_siting_job(store: Store, job_id: int, rules: CoverageSettings) -> None:
    """Recommend sites for a queued siting job; a failure is stored on the job, never raised."""
    from gridmap.coverage import ReachOptions
    from gridmap.siting.recommend import recommend_sites

    params = dict(job_of(store, job_id, user_id=None)["params"])
    _set(store, job_id, status="running")
    try:
        options = ReachOptions(mode=params.get("mode", "radius"), meters=params.get("meters"))
        recommend_sites(
            store, rules, options, k=int(params["k"]), weight=params.get("weight", "population")
        )
    except Exception as exc:  # the job records any failure; the server stays up
        logger.exception("siting job %d failed", job_id)
        _set(store, job_id, status="failed", error=str(exc)[:2000], finished_at=utcnow())
        return
    _set(store, job_id, status="done", finished_at=utcnow())


def recent_jobs(store: Store, user_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The jobs ``user_id`` started, newest first."""
    jobs = table_of(models.RunJob)
    query = select(jobs).where(jobs.c.created_by == user_id).order_by(jobs.c.id.desc())
    with store.engine.connect() as conn:
        return [dict(r) for r in conn.execute(query.limit(limit)).mappings()]
