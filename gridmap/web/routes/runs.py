"""Stored coverage runs, and runs started from the web as background jobs."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from fastapi import APIRouter, BackgroundTasks, Depends
from pydantic import BaseModel, Field

from gridmap.accounts import Account
from gridmap.query import create_job, job_of, run_in_scope, run_job, runs_in_scope
from gridmap.web.deps import ScopeDep, SettingsDep, StoreDep, UserDep, require
from gridmap.web.errors import ERROR_RESPONSES
from gridmap.web.routes._models import ShortText, UtcDatetime

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)


class RunOut(BaseModel):
    """A stored run, with the headline rates of the caller's scope (none for workers)."""

    id: int
    status: Literal["done"] = "done"
    created_at: UtcDatetime
    as_of: dt.date
    label: str | None
    mode: str | None
    params: dict[str, Any]
    rates: dict[str, Any] | None


class RunPage(BaseModel):
    """Every stored run, newest first."""

    items: list[RunOut]
    total: int


class RunIn(BaseModel):
    """How to measure reach in a new run (as ``gridmap coverage run``)."""

    mode: Literal["radius", "network"] = "radius"
    profile: Literal["walk", "drive"] = "walk"
    meters: float | None = Field(None, gt=0, le=100_000, allow_inf_nan=False)
    minutes: float | None = Field(None, gt=0, le=600, allow_inf_nan=False)
    as_of: dt.date | None = None
    label: ShortText | None = None


class JobOut(BaseModel):
    """A run started from the web: queued -> running -> done (with its run) / failed."""

    id: int
    status: Literal["queued", "running", "done", "failed"]
    params: dict[str, Any]
    created_at: UtcDatetime
    finished_at: UtcDatetime | None
    run_id: int | None
    error: str | None
    stage: str | None = Field(
        None, description="the stage a running job has reached (inputs, rules, reach, ...)"
    )
    progress: float | None = Field(None, ge=0, le=1, description="share of the work done")


@router.get("/api/runs", response_model=RunPage)
def runs(store: StoreDep, scope: ScopeDep) -> RunPage:
    """The stored runs, newest first."""
    items = [RunOut(**r) for r in runs_in_scope(store, scope)]
    return RunPage(items=items, total=len(items))


@router.get("/api/runs/{run_id}", response_model=RunOut)
def run(run_id: int, store: StoreDep, scope: ScopeDep) -> RunOut:
    """One stored run (rates of the caller's scope)."""
    return RunOut(**run_in_scope(store, scope, run_id))


@router.post("/api/runs", response_model=JobOut, status_code=202)
def start_run(
    body: RunIn,
    background: BackgroundTasks,
    store: StoreDep,
    settings: SettingsDep,
    user: Account = Depends(require("admin", "department")),  # noqa: B008
) -> JobOut:
    """Start a coverage run in the background; poll ``GET /api/jobs/{id}``."""
    from gridmap.coverage import ReachOptions

    params = body.model_dump(mode="json", exclude_none=True)
    ReachOptions(**{k: v for k, v in params.items() if k not in ("as_of", "label")})
    job_id = create_job(store, params, user_id=user.id, username=user.username)
    background.add_task(run_job, store, job_id, settings.coverage)
    return JobOut(**job_of(store, job_id, user_id=None))


@router.get("/api/jobs/{job_id}", response_model=JobOut)
def job(job_id: int, store: StoreDep, user: UserDep) -> JobOut:
    """A run job's state; visible to whoever started it, and to admins."""
    return JobOut(**job_of(store, job_id, user_id=None if user.role == "admin" else user.id))
