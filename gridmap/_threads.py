"""Independent geometry jobs on every core: shapely and GEOS release the GIL while they work.

A county's service areas (one buffer-and-union per station) and its blind-zone tiles are
independent of each other; run on a thread per core they take a fraction of the wall
time, with the same results in the same order (each job is computed exactly as it would
be alone). glibc gives each thread its own heap; what the jobs freed there is handed back
to the system after them (``malloc_trim``), so threads do not raise the peak memory of
the later stages.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
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
        results = list(pool.map(function, jobs))
    _trim()
    return results


def _trim() -> None:
    """Hand the memory the threads freed back to the system (glibc only; else nothing)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None
