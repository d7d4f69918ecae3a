"""Coverage runs started from the web: a job row goes queued -> running -> done / failed."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, select, update

from gridmap.accounts.audit import record, utcnow
from gridmap.errors import NotFoundError
from gridmap.progress import Report, reporting
from gridmap.query._common import check_id
from gridmap.settings import CoverageSettings
from gridmap.store import Store, models, table_of

__all__ = ["create_job", "finish_job", "follow_job", "job_of", "run_job"]

logger = logging.getLogger(__name__)


def _jobs() -> Table:
    return table_of(models.RunJob)


def create_job(
    store: Store, params: dict[str, Any], *, user_id: int | None, username: str = "-"
) -> int:
    """Queue a coverage run; return the job's id (audited)."""
    with store.engine.begin() as conn:
        job = conn.execute(
            _jobs()
            .insert()
            .values(status="queued", params=params, created_by=user_id, created_at=utcnow())
            .returning(_jobs().c.id)
        ).scalar_one()
        record(
            conn,
            actor=username,
            action="run.start",
            entity="run_job",
            entity_id=int(job),
            after=params,
        )
    return int(job)


def job_of(store: Store, job_id: int, *, user_id: int | None) -> dict[str, Any]:
    """A job, seen by its creator (or by anyone when ``user_id`` is None: admins)."""
    where = _jobs().c.id == check_id(job_id, "run job")
    if user_id is not None:
        where = where & (_jobs().c.created_by == user_id)
    with store.engine.connect() as conn:
        row = conn.execute(select(_jobs()).where(where)).first()
    if row is None:
        msg = f"no run job {job_id}"
        raise NotFoundError(msg)
    return dict(row._mapping)


def _set(store: Store, job_id: int, **values: Any) -> None:
    with store.engine.begin() as conn:
        conn.execute(update(_jobs()).where(_jobs().c.id == job_id).values(**values))


def follow_job(store: Store, job_id: int) -> Report:
    """A :mod:`gridmap.progress` follower that stores each stage reached on the job row
    (what the dashboard's progress line shows)."""

    def follow(stage: str, done: float) -> None:
        _set(store, job_id, stage=stage, progress=round(done, 3))

    return follow


def finish_job(store: Store, job_id: int, work: Callable[[], int | None]) -> None:
    """Run ``work`` for a queued job, following its stages; store its end: ``done`` with
    the run it made, or ``failed`` with the error. Never raises: the server stays up."""
    _set(store, job_id, status="running", stage="queued", progress=0.0)
    try:
        with reporting(follow_job(store, job_id)):
            run_id = work()
    except Exception as exc:  # the job records any failure
        logger.exception("job %d failed", job_id)
        _set(store, job_id, status="failed", error=str(exc)[:2000], finished_at=utcnow())
        return
    _set(
        store, job_id, status="done", run_id=run_id, stage="done", progress=1.0,
        finished_at=utcnow(),
    )  # fmt: skip


def run_job(store: Store, job_id: int, rules: CoverageSettings) -> None:
    """Run a queued coverage job to its end; a failure is stored on the job, never raised."""
    from gridmap.coverage import ReachOptions, run_coverage

    params = dict(job_of(store, job_id, user_id=None)["params"])

    def work() -> int | None:
        label = params.pop("label", None)
        as_of = params.pop("as_of", None)
        result = run_coverage(
            store, rules, ReachOptions(**params), as_of=as_of and _date(as_of), label=label
        )
        return result.run_id

    finish_job(store, job_id, work)


def _date(value: str) -> Any:
    import datetime as dt

    return dt.date.fromisoformat(value)
