"""A cell request against a real ``gridmap serve`` on a 10k-cell store, against ``/health``.

Input (seeded): one stored run of 10,000 cells (100 in ``--quick``) with three units
each, written straight into the result tables, and a department account whose area
holds every cell (so the scope filter runs on each request). The server is a real
``gridmap serve`` process on loopback; requests go one at a time over a kept-alive
connection, signed in with a Bearer token. Target: the cell page (status and units,
from stored results) within 20x of ``/health`` at the median and under 50 ms at p95.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sqlalchemy import insert

from benchmarks._harness import Result
from gridmap.accounts import add_user
from gridmap.store import Store, models

AREA = "360681001"
PASSWORD = "benchmark-password-1"
SEED = 20261201


def _fill(store: Store, n_cells: int) -> None:
    rng = np.random.default_rng(SEED)
    with store.session() as s:
        s.add(models.AdminArea(code=AREA, name="雄石街道", level="township", source_id="a"))
    run = models.CoverageRun.__table__
    cells = models.CoverageCell.__table__
    units = models.CoverageUnit.__table__
    with store.engine.begin() as conn:
        run_id = conn.execute(
            insert(run)
            .values(as_of=dt.date(2026, 12, 1), params={"mode": "radius"}, summary={}, areas=[])
            .returning(run.c.id)
        ).scalar_one()
        codes = [f"{AREA}{i // 100:03d}{i:06d}" for i in range(n_cells)]
        conn.execute(
            insert(cells),
            [
                {
                    "run_id": run_id,
                    "code": code,
                    "cell_id": i + 1,
                    "name": f"第{i + 1}网格",
                    "area_code": f"{AREA}{i % 30:03d}",
                    "status": "partial",
                    "units_total": 3,
                    "units_covered": 2,
                    "org_covered": 1,
                    "must_have_branch": 0,
                    "population_total": 300,
                    "population_covered": 200,
                }
                for i, code in enumerate(codes)
            ],
        )
        conn.execute(
            insert(units),
            [
                {
                    "run_id": run_id,
                    "unit_id": 3 * i + k + 1,
                    "source": "bench",
                    "source_id": f"u{3 * i + k}",
                    "name": f"单位{3 * i + k}",
                    "org_status": "none",
                    "must_have_branch": False,
                    "service_covered": bool(k),
                    "nearest_station_id": 1,
                    "nearest_station_m": float(rng.uniform(0, 900)),
                    "kind": "firm",
                    "cell_code": code,
                    "lon": 117.2,
                    "lat": 28.3,
                    "population": 100,
                    "party_members": 2,
                }
                for i, code in enumerate(codes)
                for k in range(3)
            ],
        )
    add_user(store, "dept", PASSWORD, role="department", area=AREA)


def _serve(url: str, port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    process = subprocess.Popen(
        [sys.executable, "-m", "gridmap", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    msg = "gridmap serve did not start within 60 s"
    raise RuntimeError(msg)


def _times(conn: http.client.HTTPConnection, paths: list[str], token: str) -> list[float]:
    out = []
    for path in paths:
        start = time.perf_counter()
        conn.request("GET", path, headers={"authorization": f"Bearer {token}"})
        response = conn.getresponse()
        response.read()
        out.append(time.perf_counter() - start)
        if response.status != 200:
            msg = f"{path} answered {response.status}"
            raise RuntimeError(msg)
    return sorted(out)


def _login(conn: http.client.HTTPConnection) -> str:
    body = json.dumps({"username": "dept", "password": PASSWORD})
    conn.request("POST", "/api/auth/login", body=body, headers={"content-type": "application/json"})
    answer = json.loads(conn.getresponse().read())
    if "access_token" not in answer:
        msg = f"login refused: {answer}"
        raise RuntimeError(msg)
    return str(answer["access_token"])


def run(quick: bool) -> list[Result]:
    n_cells, n_requests = (100, 100) if quick else (10_000, 1_000)
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'bench.sqlite'}"
        store = Store(url)
        store.upgrade()
        _fill(store, n_cells)
        with store.engine.connect() as conn:  # closed before the server writes sessions
            codes = [r[0] for r in conn.exec_driver_sql("SELECT code FROM coverage_cell")]
        store.dispose()
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        process = _serve(url, port)
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            token = _login(conn)
            rng = np.random.default_rng(SEED)
            picks = rng.choice(len(codes), size=n_requests)
            _times(conn, ["/health"] * 50 + [f"/api/cells/{codes[0]}"] * 50, token)  # warm up
            health = _times(conn, ["/health"] * n_requests, token)
            cell = _times(conn, [f"/api/cells/{codes[i]}" for i in picks], token)
            conn.close()
        finally:
            process.terminate()
            process.wait(timeout=30)
    p50_h, p50_c = statistics.median(health), statistics.median(cell)
    p95_c = cell[int(0.95 * len(cell))]
    return [
        Result(
            benchmark="web",
            case=f"GET /api/cells/CODE, {n_cells:,} cells, department scope (median)",
            gridmap_s=p50_c,
            baseline="GET /health (median)",
            baseline_s=p50_h,
            target="cell median within 20x of /health; cell p95 < 50 ms",
            met=p50_c <= 20 * p50_h and p95_c < 0.050,
            extra={
                "cell_p95_ms": round(1000 * p95_c, 2),
                "health_p95_ms": round(1000 * health[int(0.95 * len(health))], 2),
                "requests": n_requests,
            },
        )
    ]
