"""``gridmap db``: create and migrate the store."""

from __future__ import annotations

from typing import Annotated

import typer

from gridmap.cli._common import console, handle_errors, open_store

app = typer.Typer(
    help="Create and migrate the store (SpatiaLite file or PostGIS).", no_args_is_help=True
)


@app.command()
@handle_errors
def upgrade(
    revision: Annotated[str, typer.Argument(help="migration revision to upgrade to")] = "head",
) -> None:
    """Create the store if needed and apply every migration (the same on both backends)."""
    with open_store(upgrade=False) as store:
        store.upgrade(revision)
        console.print(f"{store!r} at revision {store.current_revision()}")


@app.command()
@handle_errors
def current() -> None:
    """Show which migration revision the store is at."""
    with open_store(upgrade=False) as store:
        console.print(f"{store!r} at revision {store.current_revision() or '(empty)'}")
