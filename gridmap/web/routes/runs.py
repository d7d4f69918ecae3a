"""Stored coverage runs and their headline rates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from gridmap.coverage import list_runs
from gridmap.coverage.runs import run_record
from gridmap.web.deps import StoreDep

router = APIRouter(prefix="/api/runs", tags=["runs"])


class RunOut(BaseModel):
    """A run's identity and summary."""

    run: int
    as_of: str
    label: str | None
    summary: dict[str, Any]


@router.get("", response_model=list[int])
def runs(store: StoreDep) -> list[int]:
    """Ids of the stored runs, newest first."""
    frame = list_runs(store)
    return [] if frame.empty else [int(r) for r in frame["run"]]


@router.get("/{run_id}", response_model=RunOut)
def run(run_id: int, store: StoreDep) -> RunOut:
    """One run's summary (rates, counts, parameters)."""
    record = run_record(store, run_id)
    return RunOut(
        run=run_id, as_of=str(record["as_of"]), label=record["label"], summary=record["summary"]
    )
