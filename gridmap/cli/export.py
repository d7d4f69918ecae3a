"""``gridmap export``: stored records of one kind as CSV, Excel, GeoJSON or GeoPackage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli._common import console, handle_errors, open_store

#: What ``gridmap export`` writes, as :data:`gridmap.store.export.EXPORT_KINDS` and
#: :data:`~gridmap.store.export.EXPORT_FORMATS` (a test keeps them equal); written out so that
#: ``--help`` loads no analysis module.
EXPORT_KINDS = (
    "areas", "cells", "units", "orgs", "instructors", "stations", "workers", "roads", "sites"
)  # fmt: skip
EXPORT_FORMATS = (".csv", ".xlsx", ".geojson", ".json", ".gpkg")

KIND_HELP = (
    f"what to export: {', '.join(EXPORT_KINDS)}; or a unit kind "
    "(village, community, building, park, firm, social_org) for those units only"
)


@handle_errors
def export(
    kind: Annotated[str, typer.Argument(help=KIND_HELP)],
    out: Annotated[
        Path,
        typer.Option(help=f"the file; its suffix sets the format ({', '.join(EXPORT_FORMATS)})"),
    ],
    include_closed: Annotated[
        bool,
        typer.Option(
            "--include-closed",
            help="also the records `ingest --sync` closed, with a closed_at column",
        ),
    ] = False,
) -> None:
    """Write every stored record of KIND with id, kind, name, source, lon/lat and attributes.

    Records an import with --sync closed are left out unless --include-closed is given.
    """
    from gridmap.store.export import export_records

    with open_store() as store:
        frame = export_records(store, kind, out=out, include_closed=include_closed)
    console.print(f"{len(frame)} {kind}: {out}")
