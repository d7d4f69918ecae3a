"""``gridmap demo``: the shipped 贵溪市 sample, end to end."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli._common import console, handle_errors, open_store, print_table, settings
from gridmap.cli.coverage import print_summary
from gridmap.cli.site import print_recommendation
from gridmap.domain import UnitKind


@handle_errors
def demo(
    data: Annotated[
        Path | None, typer.Option(help="demo data folder (default: the data in the package)")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for the map, workbook and tables")] = Path(
        "demo-out"
    ),
) -> None:
    """Load the 贵溪市 sample into the store and run every stage on it.

    The coverage rules come from the settings (``GRIDMAP_COVERAGE__IDLE_DAYS=90`` ...).
    """
    from gridmap.demo import run_demo

    config = settings()
    with open_store(config, upgrade=False) as store:
        result = run_demo(store, data_dir=data, out_dir=out, rules=config.coverage)
        console.print(f"store: {store!r}")
    print_table(
        "导入 / imports",
        ["file", "read", "loaded", "rejected", "inserted", "updated", "unchanged"],
        [
            (name, r.n_read, r.loaded, r.rejected, r.inserted, r.updated, r.unchanged)
            for name, r in result.reports
        ],
    )
    rows = [(k, v) for k, v in result.counts.items()]
    rows += [
        (f"unit: {UnitKind(kind).label()} ({kind})", n) for kind, n in result.unit_counts.items()
    ]
    print_table("数据量 / counts per kind", ["kind", "count"], rows)
    console.print(str(result.assignment))
    print_summary(result.coverage)
    print_recommendation(result.sites)
    for name, path in result.outputs.items():
        console.print(f"{name}: {path}")
