"""The ``gridmap`` command line. Commands parse arguments and call library functions."""

from __future__ import annotations

from typing import Annotated

import typer

from gridmap import __version__
from gridmap.cli import coverage, db, demo, ingest, maps, site, user
from gridmap.cli import export as export_cli
from gridmap.cli import grid as grid_cli
from gridmap.cli._common import setup_logging

__all__ = ["app", "main"]

app = typer.Typer(
    name="gridmap",
    help="gridmap: grid-based party-building coverage (网格化党建覆盖分析).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(ingest.app, name="ingest")
app.add_typer(coverage.app, name="coverage")
app.add_typer(site.app, name="site")
app.add_typer(maps.app, name="map")
app.command(name="report")(maps.report)
app.command(name="demo")(demo.demo)
app.add_typer(grid_cli.app, name="grid")
app.command(name="export")(export_cli.export)
app.add_typer(user.app, name="user")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
) -> None:
    """Serve the JSON API (cells and their units for grid workers, stored runs)."""
    import uvicorn

    from gridmap.cli._common import settings
    from gridmap.web import create_app

    uvicorn.run(create_app(settings()), host=host, port=port)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"gridmap {__version__}")
        raise typer.Exit


@app.callback()
def _root(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="log what each step does")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="print the version"),
    ] = False,
) -> None:
    """Set up logging for every command."""
    setup_logging(verbose)


def main() -> None:
    """Entry point of the ``gridmap`` script."""
    app()
