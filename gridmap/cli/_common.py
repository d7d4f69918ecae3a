"""What every command shares: settings, the store, console output and error exits."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.table import Table

from gridmap.errors import GridmapError
from gridmap.settings import Settings
from gridmap.store import Store

P = ParamSpec("P")
R = TypeVar("R")

console = Console()
err_console = Console(stderr=True)

#: Exit code for "the command ran and found problems" (``grid check``).
EXIT_PROBLEMS = 1
#: Exit code for errors the user can fix (bad input, bad settings).
EXIT_ERROR = 2


def setup_logging(verbose: bool) -> None:
    """Log to stderr: warnings by default, everything with ``--verbose``."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[RichHandler(console=err_console, show_path=False, show_time=False)],
        force=True,
    )


def settings() -> Settings:
    """Settings from the environment and ``.env``, built once per command."""
    return Settings()


@contextmanager
def open_store(config: Settings | None = None, *, upgrade: bool = True) -> Iterator[Store]:
    """Open (and by default migrate) the configured store for one command."""
    store = Store.from_settings(config or settings())
    try:
        if upgrade:
            store.upgrade()
        yield store
    finally:
        store.dispose()


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn gridmap's domain errors into a clear message and exit code 2."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except GridmapError as exc:
            err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
            raise typer.Exit(EXIT_ERROR) from exc
        except KeyboardInterrupt:
            err_console.print("interrupted: nothing was changed by the unfinished step")
            raise typer.Exit(130) from None

    return wrapper


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table; plain text when stdout is not a terminal."""
    table = Table(title=title, show_lines=False)
    for column in columns:
        table.add_column(
            column,
            justify="right" if column.endswith(("数", "%", "率")) else "left",
            overflow="fold",  # wrap long values onto more lines; never cut them off
        )
    for row in rows:
        table.add_row(*("" if v is None else str(v) for v in row))
    console.print(table)


def print_counts(title: str, counts: Mapping[str, int]) -> None:
    """Print a two-column table of counts."""
    print_table(title, ["kind", "count"], [(k, v) for k, v in counts.items()])


#: Options every layer-reading command shares.
CrsOption = Annotated[
    str | None,
    typer.Option(help="source coordinates: EPSG code (4326, 4490, 4547...), gcj02 or bd09"),
]
EncodingOption = Annotated[
    str | None, typer.Option(help="text encoding, e.g. gbk, when it cannot be detected")
]
LayerOption = Annotated[str | None, typer.Option(help="layer name in a GeoPackage")]
SourceOption = Annotated[
    str | None,
    typer.Option(help="source name records are matched on (default: the kind, e.g. firm)"),
]
RejectOption = Annotated[
    Path | None, typer.Option(help="where rejected rows go (default: STEM.rejects.csv)")
]


def parse_mapping(pairs: list[str] | None) -> dict[str, str] | None:
    """``FIELD=COLUMN`` options as a mapping (None when none were given)."""
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        field, sep, column = pair.partition("=")
        if not sep or not field.strip() or not column.strip():
            msg = f"--map takes FIELD=COLUMN (e.g. party_members=党员人数), got {pair!r}"
            raise GridmapError(msg)
        mapping[field.strip()] = column.strip()
    return mapping or None


def is_tty() -> bool:
    """Whether stderr is a terminal (progress bars show only then)."""
    return sys.stderr.isatty()
