"""What every command shares: settings, the store, console output and error exits."""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from gridmap.cli._console import console as console
from gridmap.cli._console import err_console as err_console
from gridmap.cli._errors import EXIT_AT_ONCE as EXIT_AT_ONCE
from gridmap.cli._errors import OneLineErrorGroup as OneLineErrorGroup
from gridmap.cli._errors import handle_errors as handle_errors
from gridmap.cli._errors import require_positive as require_positive
from gridmap.errors import ConfigurationError, GridmapError, mask_secrets

if TYPE_CHECKING:  # loaded by the commands that need them: start-up stays fast
    from pydantic import ValidationError

    from gridmap.settings import Settings
    from gridmap.store import Store

#: Exit code for "the command ran and found problems" (``grid check``).
EXIT_PROBLEMS = 1
#: Exit code for errors the user can fix (bad input, bad settings).
EXIT_ERROR = 2


class _MaskSecrets(logging.Filter):
    """Replace database passwords in every log message by ``***``; drop cancel noise."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if record.name.startswith("psycopg") and message.startswith("error ignored terminating"):
            return False  # psycopg closing the pipeline Ctrl-C cancelled: nothing to report
        record.msg = mask_secrets(message)
        record.args = None
        return True


def setup_logging(verbose: bool) -> None:
    """Log to stderr: warnings by default, everything with ``--verbose``; no passwords."""
    from rich.logging import RichHandler

    handler = RichHandler(console=err_console, show_path=False, show_time=False)
    handler.addFilter(_MaskSecrets())
    handler.addFilter(_NotAfterInterrupt())
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(message)s",
        handlers=[handler],
        force=True,
    )


class _NotAfterInterrupt(logging.Filter):
    """Drop the pool's report of a connection that could not be reset after Ctrl-C: the
    interrupt is reported once, in one line, by the command."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        while error is not None:
            if isinstance(error, KeyboardInterrupt):
                return False
            error = error.__context__
        return True


def settings() -> Settings:
    """Settings from the environment and ``.env``, built once per command."""
    from pydantic import ValidationError

    from gridmap.settings import Settings

    try:
        return Settings()
    except ValidationError as exc:
        raise _settings_error(exc) from exc


def _settings_error(exc: ValidationError) -> ConfigurationError:
    problems = []
    for error in exc.errors():
        name = f"GRIDMAP_{'__'.join(str(part) for part in error['loc']).upper()}"
        secret = any(word in name for word in ("KEY", "SECRET", "PASSWORD"))
        given = "(not shown: a secret)" if secret else repr(error["input"])
        problems.append(f"{name}: {error['msg']}, got {given}")
    return ConfigurationError(
        f"invalid settings (environment or .env): {'; '.join(problems)}; fix or unset them"
    )


@contextmanager
def open_store(config: Settings | None = None, *, upgrade: bool = True) -> Iterator[Store]:
    """Open (and by default migrate) the configured store for one command."""
    from gridmap.store import Store

    store = Store.from_settings(config or settings())
    try:
        if upgrade:
            store.upgrade()
        yield store
    finally:
        store.dispose()


def print_table(title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Print a table; plain text when stdout is not a terminal."""
    from rich.table import Table

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


#: The reach options `coverage run` and `site recommend` share (ReachOptions' fields).
ModeOption = Annotated[
    Literal["radius", "network"],
    typer.Option(help="reach by straight-line radius or along the road network"),
]
ProfileOption = Annotated[
    Literal["walk", "drive"], typer.Option(help="network travel mode (--mode network)")
]
MetersOption = Annotated[
    float | None,
    typer.Option(help="one reach in metres, instead of the per-tier reach of the settings"),
]
MinutesOption = Annotated[
    float | None,
    typer.Option(help="one reach in minutes of travel, instead of a distance"),
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
