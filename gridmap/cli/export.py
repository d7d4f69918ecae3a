"""``gridmap export``: stored records of one kind as CSV, Excel, GeoJSON or GeoPackage."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from gridmap.cli._common import console, handle_errors, open_store
from gridmap.store.export import EXPORT_FORMATS, EXPORT_KINDS, export_records, write_records

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
    with open_store() as store:
        frame = export_records(store, kind, include_closed=include_closed)
    path = write_records(frame, out)
    console.print(f"{len(frame)} {kind}: {path}")
