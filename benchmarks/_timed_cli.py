"""Run one ``gridmap`` command with its kernel timed inside the same process.

``python -m benchmarks._timed_cli KERNELS OUT [--profile FILE] -- ARGS...`` wraps each
function in ``KERNELS`` (comma-separated ``module:attribute`` or ``module:Class.method``,
patched where the command looks them up), runs ``gridmap ARGS...`` as ``python -m
gridmap`` does, and writes ``{"kernel_s": ..., "calls": ...}`` (the seconds spent inside
the wrapped functions, nested calls counted once) to ``OUT`` as the process exits. The
kernel is timed in the very run the stage is timed in, so both see the same load.

Only the standard library is imported before the command runs; importing a kernel's
module early costs nothing the command would not pay anyway.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_spent = {"kernel_s": 0.0, "calls": 0}
_depth = [0]


def _timed(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if _depth[0]:
            return func(*args, **kwargs)
        _depth[0] += 1
        start = time.perf_counter()
        try:
            return func(*args, **kwargs)
        finally:
            _spent["kernel_s"] += time.perf_counter() - start
            _spent["calls"] += 1
            _depth[0] -= 1

    return wrapper


def _patch(spec: str) -> None:
    module_name, _, path = spec.partition(":")
    owner: Any = importlib.import_module(module_name)
    *parents, name = path.split(".")
    for parent in parents:
        owner = getattr(owner, parent)
    setattr(owner, name, _timed(getattr(owner, name)))


def main(argv: list[str]) -> None:
    split = argv.index("--")
    head, command = argv[:split], argv[split + 1 :]
    kernels, out = head[0], Path(head[1])
    profile = head[head.index("--profile") + 1] if "--profile" in head else None
    for spec in filter(None, kernels.split(",")):
        _patch(spec)
    atexit.register(lambda: out.write_text(json.dumps(_spent)))
    sys.argv = ["gridmap", *command]
    from gridmap.cli import main as gridmap_main

    if profile is None:
        gridmap_main()
        return
    import cProfile

    profiler = cProfile.Profile()
    atexit.register(lambda: profiler.dump_stats(profile))
    profiler.enable()
    gridmap_main()


if __name__ == "__main__":
    main(sys.argv[1:])
