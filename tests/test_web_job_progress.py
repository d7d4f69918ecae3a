"""How far a job started from the web has got, on both stores: a coverage run and a siting run
report their stages in order, the job row holds the stage reached and the share done, the
API and the dashboard's progress line show them (Chinese first), and a progress follower
that fails never fails the run."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import text
from web_support import World, password

from gridmap.coverage import ReachOptions, run_coverage
from gridmap.progress import reporting, stage
from gridmap.query.jobs import create_job, follow_job, job_of, run_job
from gridmap.settings import CoverageSettings
from gridmap.siting.recommend import recommend_sites

COVERAGE_STAGES = ["inputs", "rules", "reach", "cells", "zones", "saving"]
SITING_STAGES = ["inputs", "reach", "candidates", "solving", "saving"]


def _followed(work: object) -> list[tuple[str, float]]:
    seen: list[tuple[str, float]] = []
    with reporting(lambda name, done: seen.append((name, done))):
        assert callable(work)
        work()
    return seen


def test_a_coverage_run_reports_its_stages_in_order(world: World) -> None:
    seen = _followed(
        lambda: run_coverage(world.store, CoverageSettings(), ReachOptions(meters=800.0))
    )
    assert [name for name, _ in seen] == COVERAGE_STAGES
    shares = [done for _, done in seen]
    assert shares == sorted(shares) and shares[0] == 0.0 and shares[-1] < 1.0


def test_a_siting_run_reports_its_stages_in_order(world: World) -> None:
    seen = _followed(
        lambda: recommend_sites(
            world.store, CoverageSettings(), ReachOptions(meters=800.0), k=1, weight="units"
        )
    )
    assert [name for name, _ in seen] == SITING_STAGES


def test_nobody_following_costs_nothing_and_a_failing_follower_breaks_nothing(
    world: World,
) -> None:
    stage("reach", 0.5)  # no follower: nothing happens

    def broken(name: str, done: float) -> None:
        raise RuntimeError("the progress line is gone")

    with reporting(broken):
        result = run_coverage(world.store, CoverageSettings(), ReachOptions(meters=800.0))
    assert result.run_id is not None


def test_the_job_row_holds_the_stage_reached_then_done(world: World) -> None:
    store = world.store
    job = create_job(store, {"meters": 800.0}, user_id=None)
    follow_job(store, job)("zones", 0.7)
    running = job_of(store, job, user_id=None)
    assert (running["stage"], running["progress"]) == ("zones", 0.7)
    run_job(store, job, CoverageSettings())
    done = job_of(store, job, user_id=None)
    assert (done["status"], done["stage"], done["progress"]) == ("done", "done", 1.0)
    assert done["run_id"] is not None


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_the_progress_line_shows_the_stage_and_share(client: TestClient, world: World) -> None:
    answer = client.post("/", data={"username": "department", "password": password("department")})
    assert answer.status_code == 200
    with world.store.engine.begin() as conn:
        (me,) = conn.execute(text("SELECT id FROM \"user\" WHERE username = 'department'")).one()
    job = create_job(world.store, {"meters": 800.0}, user_id=me)
    with world.store.engine.begin() as conn:
        conn.execute(text("UPDATE run_job SET status = 'running' WHERE id = :j"), {"j": job})
    follow_job(world.store, job)("reach", 0.2)

    state = client.get(f"/api/jobs/{job}").json()
    assert (state["status"], state["stage"], state["progress"]) == ("running", "reach", 0.2)
    page = client.get(f"/dashboard?job={job}").text
    line = re.search(r'<p class="job job-running".*?</p>', page, re.S)
    assert line is not None, "no progress line"
    assert '<progress class="job-bar" max="1" value="0.2"' in line.group(0)
    assert ">20%<" in line.group(0) and ">服务可达范围<" in line.group(0)
    english = client.get(f"/dashboard?job={job}&lang=en").text
    assert ">service reach<" in english
