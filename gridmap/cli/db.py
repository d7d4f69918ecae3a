"""``gridmap db``: create and migrate the store."""

from __future__ import annotations

from typing import Annotated

import typer

from gridmap.cli._common import console, handle_errors, open_store, settings
from gridmap.errors import mask_secrets

app = typer.Typer(
    help="Create and migrate the store (SpatiaLite file or PostGIS).", no_args_is_help=True
)


@app.command()
@handle_errors
def upgrade(
    revision: Annotated[str, typer.Argument(help="migration revision to upgrade to")] = "head",
) -> None:
    """Create the store if needed and apply every migration (the same on both backends)."""
    from gridmap.store._revision import head_revisions, peek_spatialite_revisions

    config = settings()
    stamped = peek_spatialite_revisions(config.database_url)
    if revision == "head" and stamped and frozenset(stamped) == head_revisions():
        # a SpatiaLite file at the head: nothing to do, said without opening it the full way
        console.print(f"{_shown(config.database_url)} at revision {stamped[0]}")
        return
    with open_store(config, upgrade=False) as store:
        store.upgrade(revision)
        console.print(f"{store!r} at revision {store.current_revision()}")


@app.command()
@handle_errors
def current() -> None:
    """Show which migration revision the store is at."""
    from gridmap.store._revision import peek_spatialite_revisions

    config = settings()
    stamped = peek_spatialite_revisions(config.database_url)
    if stamped is not None and len(stamped) == 1:
        console.print(f"{_shown(config.database_url)} at revision {stamped[0]}")
        return
    with open_store(config, upgrade=False) as store:
        console.print(f"{store!r} at revision {store.current_revision() or '(empty)'}")


def _shown(url: str) -> str:
    """How a store is named in these lines, as ``repr(Store)`` does."""
    return f"Store({mask_secrets(url)!r})"
