"""The demo store behind a real ``gridmap serve`` process, with users from ``gridmap user add``:
what the end-to-end web tests (API and pages) start once per backend."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager

import pytest
from conftest import _postgis_url, _reset_postgis

GRIDMAP = [sys.executable, "-m", "gridmap"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, "gridmap serve exited"
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("gridmap serve did not start listening within 60 s")


@contextmanager
def demo_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    users: Mapping[str, tuple[str, Sequence[str]]],
) -> Iterator[tuple[int, str]]:
    """Run ``gridmap demo`` on the backend ``request.param`` names, add ``users``
    (name -> password, ``user add`` options) and serve it; yields the port and the store URL."""
    work = tmp_path_factory.mktemp("demo")
    url = f"sqlite:///{work / 'gridmap.sqlite'}"
    if request.param == "postgis":
        url = _postgis_url(request.config) or ""
        _reset_postgis(url)
    env = {**os.environ, "GRIDMAP_DATABASE_URL": url}
    env.pop("GRIDMAP_ENVIRONMENT", None)
    subprocess.run([*GRIDMAP, "demo"], cwd=work, env=env, check=True, capture_output=True)
    for name, (secret, args) in users.items():
        subprocess.run(
            [*GRIDMAP, "user", "add", name, *args, "--password-stdin"],
            cwd=work, env=env, input=f"{secret}\n".encode(), check=True, capture_output=True,
        )  # fmt: skip
    port = _free_port()
    process = subprocess.Popen(
        [*GRIDMAP, "serve", "--port", str(port)],
        cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        _wait(port, process)
        yield port, url
    finally:
        process.terminate()
        process.wait(timeout=30)
