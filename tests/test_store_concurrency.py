"""One SpatiaLite file, several processes: writers take turns and say so, readers never fail.

Every case runs real ``gridmap`` processes on one store file, as two users (or
a user and the web app) would on one machine. SpatiaLite only, but for Ctrl-C,
which is tested on both stores: PostGIS has had concurrent writers and readers
all along.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import pytest
from sqlalchemy import text

from gridmap.store import Store
from gridmap.store._engine import WAIT_MESSAGE

pytestmark = pytest.mark.slow

GRIDMAP = Path(sys.executable).parent / "gridmap"


def _units_csv(path: Path, rows: int, prefix: str) -> Path:
    rng = random.Random(rows)
    lines = ["id,name,kind,lon,lat"]
    lines += [
        f"{prefix}{i},{prefix}单位{i},building,"
        f"{117.1 + 0.2 * rng.random():.6f},{28.2 + 0.2 * rng.random():.6f}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def store_file(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "gridmap.sqlite"
    store = Store(f"sqlite:///{path}")
    store.upgrade()
    store.dispose()
    yield path


def _start_import(
    store_file: Path, csv: Path, log: Path, *extra: str
) -> tuple[subprocess.Popen[bytes], IO[bytes]]:
    env = {**os.environ, "GRIDMAP_DATABASE_URL": f"sqlite:///{store_file}", "COLUMNS": "200"}
    err = log.open("wb")
    process = subprocess.Popen(
        [str(GRIDMAP), *extra, "ingest", "layer", str(csv), "--kind", "unit", "--crs", "4326"],
        env=env,
        cwd=store_file.parent,
        stdout=subprocess.DEVNULL,
        stderr=err,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    return process, err


def _units(store_file: Path) -> int:
    with sqlite3.connect(store_file) as conn:
        return int(conn.execute("SELECT count(*) FROM unit").fetchone()[0])


def _wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_two_imports_wait_their_turn_and_both_load(store_file: Path, tmp_path: Path) -> None:
    holder = sqlite3.connect(store_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a third writer holds the store while both start
    started = [
        _start_import(store_file, _units_csv(tmp_path / f"{n}.csv", 2000, n), tmp_path / f"{n}.log")
        for n in ("a", "b")
    ]
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    both_wait = _wait_for(lambda: all(WAIT_MESSAGE in p.read_text() for p in logs), 120)
    holder.execute("ROLLBACK")
    holder.close()
    for process, err in started:
        process.wait(timeout=300)
        err.close()
    texts = [p.read_text() for p in logs]
    assert both_wait, texts
    assert [p.returncode for p, _ in started] == [0, 0], texts
    assert not any("Traceback" in t or "locked" in t for t in texts), texts
    assert _units(store_file) == 4000


def test_two_imports_at_once_both_load(store_file: Path, tmp_path: Path) -> None:
    started = [
        _start_import(store_file, _units_csv(tmp_path / f"{n}.csv", 3000, n), tmp_path / f"{n}.log")
        for n in ("a", "b")
    ]
    for process, err in started:
        process.wait(timeout=300)
        err.close()
    texts = [(tmp_path / f"{n}.log").read_text() for n in ("a", "b")]
    assert [p.returncode for p, _ in started] == [0, 0], texts
    assert _units(store_file) == 6000


def _writing(store_file: Path, empty_size: int, megabytes: float = 1.0) -> bool:
    """Whether an import is in its write phase: its WAL, or (rollback journal) the file, grew."""
    wal = store_file.with_name(store_file.name + "-wal")
    grown = wal.exists() and wal.stat().st_size > megabytes * 1e6
    return grown or store_file.stat().st_size > empty_size + megabytes * 1e6


def test_reads_answer_at_once_while_an_import_writes(store_file: Path, tmp_path: Path) -> None:
    empty_size = store_file.stat().st_size
    process, err = _start_import(
        store_file, _units_csv(tmp_path / "big.csv", 60_000, "u"), tmp_path / "big.log"
    )
    try:
        assert _wait_for(lambda: _writing(store_file, empty_size), 300), "the import never wrote"
        store = Store(f"sqlite:///{store_file}")
        try:
            for _ in range(3):
                started = time.monotonic()
                counts = store.counts()  # raised "database is locked" after 5 s before WAL
                assert time.monotonic() - started < 2.0
                assert counts["unit"] == 0  # the import's rows show only once it commits
        finally:
            store.dispose()
        assert process.poll() is None, "the import ended before the reads ran: enlarge it"
    finally:
        process.wait(timeout=600)
        err.close()
    assert process.returncode == 0, (tmp_path / "big.log").read_text()
    assert _units(store_file) == 60_000


def _inserting_units(store: Store, empty_size: int) -> bool:
    """Whether an import is in its write phase on ``store`` (either backend)."""
    if store.backend == "spatialite":
        return _writing(Path(store.engine.url.database or ""), empty_size)
    sql = (  # rows go in by COPY (bulk), or INSERT (the row-by-row retry)
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' "
        "AND (query ILIKE 'INSERT INTO unit%' OR query ILIKE 'COPY \"unit\"%')"
    )
    with store.engine.connect() as conn:
        return bool(conn.scalar(text(sql)))


def test_ctrl_c_during_a_write_exits_within_a_second(store: Store, tmp_path: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)
    csv = _units_csv(tmp_path / "big.csv", 60_000, "u")
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url, "COLUMNS": "200"}
    log = tmp_path / "big.log"
    empty_size = (
        Path(store.engine.url.database or "").stat().st_size
        if store.url.startswith("sqlite")
        else 0
    )
    with log.open("wb") as err:
        process = subprocess.Popen(
            [str(GRIDMAP), "ingest", "layer", str(csv), "--kind", "unit", "--crs", "4326"],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=err,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
        assert _wait_for(lambda: _inserting_units(store, empty_size), 300), "the import never wrote"
        time.sleep(0.5)  # well inside the statement
        assert process.poll() is None, "the import ended before Ctrl-C: enlarge it"
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        waited = time.monotonic() - sent
    lines = log.read_text().splitlines()
    assert process.returncode == 130, lines
    assert lines == ["interrupted: nothing was changed by the unfinished step"], lines
    assert waited < 1.0, f"took {waited:.2f} s to stop"
    assert store.counts()["unit"] == 0


def test_ctrl_c_while_waiting_for_the_write_lock(store_file: Path, tmp_path: Path) -> None:
    holder = sqlite3.connect(store_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        csv = _units_csv(tmp_path / "a.csv", 500, "a")
        process, err = _start_import(store_file, csv, tmp_path / "a.log")
        log = tmp_path / "a.log"
        assert _wait_for(lambda: WAIT_MESSAGE in log.read_text(), 120), log.read_text()
        sent = time.monotonic()
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)
        waited = time.monotonic() - sent
        err.close()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    lines = log.read_text().splitlines()
    assert process.returncode == 130, lines
    assert lines[-1] == "interrupted: nothing was changed by the unfinished step", lines
    assert waited < 1.0, f"took {waited:.2f} s to stop"
    assert _units(store_file) == 0


def test_a_writer_that_never_finishes_is_a_one_line_busy_error(store_file: Path) -> None:
    from gridmap.errors import StoreBusyError, outcome_of
    from gridmap.store._engine import begin_write

    holder = sqlite3.connect(store_file, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    waiter = sqlite3.connect(store_file, isolation_level=None)
    try:
        started = time.monotonic()
        with pytest.raises(StoreBusyError, match="another gridmap process") as caught:
            begin_write(waiter, wait_s=0.6)
        assert 0.6 <= time.monotonic() - started < 5
        assert outcome_of(caught.value).exit_code == 2
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        waiter.close()
