"""Independent geometry jobs on every core: shapely and GEOS release the GIL while they work.

A county's service areas (one buffer-and-union per station) and its blind-zone tiles are
independent of each other; run on a thread per core they take a fraction of the wall
time, with the same results in the same order (each job is computed exactly as it would
be alone).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

__all__ = ["thread_map", "threads"]

T = TypeVar("T")
R = TypeVar("R")


def threads() -> int:
    """The cores this process may run on (``GRIDMAP_THREADS`` overrides, 1 turns threads off)."""
    given = os.environ.get("GRIDMAP_THREADS", "").strip()
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def thread_map(function: Callable[[T], R], items: Iterable[T]) -> list[R]:
    """``[function(item) for item in items]``, on :func:`threads` threads, in order."""
    jobs = list(items)
    workers = min(threads(), len(jobs))
    if workers <= 1:
        return [function(item) for item in jobs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="gridmap-geom") as pool:
        return list(pool.map(function, jobs))
