"""Run every benchmark: ``python -m benchmarks [--quick] [name ...]``."""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from pathlib import Path

from benchmarks._harness import QUICK_RESULTS_DIR, RESULTS_DIR, write_results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small inputs, for a smoke run")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    here = Path(__file__).parent
    names = args.names or sorted(
        m.name.removeprefix("bench_")
        for m in pkgutil.iter_modules([str(here)])
        if m.name.startswith("bench_")
    )
    failed = []
    for name in names:
        module = importlib.import_module(f"benchmarks.bench_{name}")
        results = module.run(quick=args.quick)
        # a smoke run's small inputs never replace the tracked results of a full run
        path = write_results(name, results, QUICK_RESULTS_DIR if args.quick else RESULTS_DIR)
        sys.stdout.write(f"\n## {name}\n\n{path.read_text()}")
        failed += [r for r in results if not r.met]
    if failed:
        sys.stdout.write(f"\n{len(failed)} target(s) not met\n")
    return 1 if failed and not args.quick else 0


if __name__ == "__main__":
    raise SystemExit(main())
