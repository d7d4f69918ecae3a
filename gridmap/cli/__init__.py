"""The ``gridmap`` command line. Commands parse arguments and call library functions."""

from __future__ import annotations

import os
import sys

try:  # Ctrl-C while the commands load is no traceback either
    import signal
    from types import FrameType
    from typing import Annotated

    import typer

    from gridmap import __version__
    from gridmap.cli import areas, coverage, db, demo, ingest, maps, site, user
    from gridmap.cli import export as export_cli
    from gridmap.cli import grid as grid_cli
    from gridmap.cli._common import (
        EXIT_AT_ONCE,
        OneLineErrorGroup,
        handle_errors,
        setup_logging,
    )
except KeyboardInterrupt:
    sys.stderr.write("interrupted: nothing was changed by the unfinished step\n")
    raise SystemExit(130) from None

__all__ = ["app", "main"]

app = typer.Typer(
    name="gridmap",
    help="gridmap: grid-based party-building coverage (网格化党建覆盖分析).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    cls=OneLineErrorGroup,
)
app.add_typer(db.app, name="db")
app.add_typer(ingest.app, name="ingest")
app.add_typer(coverage.app, name="coverage")
app.add_typer(site.app, name="site")
app.add_typer(maps.app, name="map")
app.command(name="report")(maps.report)
app.command(name="demo")(demo.demo)
app.add_typer(grid_cli.app, name="grid")
app.add_typer(areas.app, name="areas")
app.command(name="export")(export_cli.export)
app.add_typer(user.app, name="user")


@app.command()
@handle_errors
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port", min=1, max=65535)] = 8000,
) -> None:
    """Serve the JSON API (cells and their units for grid workers, stored runs)."""
    import uvicorn

    from gridmap.cli._common import open_store, settings
    from gridmap.web import create_app

    config = settings()
    web_app = create_app(config)
    # open and migrate the store now: a store that cannot be opened ends in one line here,
    # not in a traceback from the app's start-up inside uvicorn
    with open_store(config):
        pass
    uvicorn.run(web_app, host=host, port=port)


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
    debug: Annotated[
        bool,
        typer.Option("--debug", envvar="GRIDMAP_DEBUG", help="show the traceback of any error"),
    ] = False,
) -> None:
    """Set up logging for every command (``--debug`` is read where errors are reported)."""
    setup_logging(verbose)


INTERRUPTED = "interrupted: nothing was changed by the unfinished step\n"


def _importing(frame: FrameType | None) -> bool:
    while frame is not None:
        if frame.f_code.co_filename.startswith("<frozen importlib"):
            return True
        frame = frame.f_back
    return False


def _on_interrupt(signum: int, frame: FrameType | None) -> None:
    """Ctrl-C: KeyboardInterrupt, except while a module is being imported.

    There Python may swallow it (a KeyboardInterrupt raised in importlib's weakref
    callbacks is only reported as "Exception ignored", and the command runs on), so
    the process ends at once instead: nothing an unfinished transaction wrote is
    committed (the store rolls it back, as after a kill), and the user sees the line.
    """
    if _importing(frame):
        os.write(2, INTERRUPTED.encode())
        os._exit(130)
    raise KeyboardInterrupt


def main() -> None:
    """Entry point of the ``gridmap`` script."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
        signal.signal(signal.SIGINT, _on_interrupt)
    try:
        app(obj={EXIT_AT_ONCE: True})
    except KeyboardInterrupt:  # while typer builds the commands, before any of them runs
        sys.stderr.write(INTERRUPTED)
        raise SystemExit(130) from None
