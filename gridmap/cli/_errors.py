"""How a command ends when something goes wrong: ONE line on stderr, the exit code from
:data:`gridmap.errors.OUTCOMES`, the traceback only with ``gridmap --debug``."""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from functools import wraps
from typing import Any, ParamSpec, TypeVar

import typer
from rich.text import Text
from typer import Abort, Exit, TyperException
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.globals import get_current_context
from typer.core import TyperGroup, TyperOption

from gridmap.cli._console import err_console
from gridmap.errors import GridmapError, InvalidValueError, mask_secrets, outcome_of

__all__ = [
    "EXIT_AT_ONCE",
    "OneLineErrorGroup",
    "handle_errors",
    "print_error_line",
    "report_error",
    "require_positive",
]

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """End every failure of a command with ONE line on stderr and the exit code of its type.

    Domain errors name the flag at fault; Ctrl-C says nothing was changed; any other
    exception is an internal error. The traceback shows only with ``gridmap --debug``.
    """

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (Exit, Abort, TyperException):
            raise  # exits and usage errors: the root command reports them
        except (Exception, KeyboardInterrupt) as caught:
            exc = _interrupt_behind(caught)
            code = report_error(exc)
            if isinstance(exc, KeyboardInterrupt):
                exit_at_once(code)
            raise typer.Exit(code) from None

    return wrapper


def _interrupt_behind(exc: BaseException) -> BaseException:
    """``KeyboardInterrupt`` when Ctrl-C is behind ``exc`` (a connection that failed to reset
    after the interrupt raises its own error while the interrupt unwinds), else ``exc``."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, KeyboardInterrupt):
            return seen
        seen = seen.__context__
    return exc


#: Key of the root context's ``obj`` that :func:`gridmap.cli.main` sets: the process is ours.
EXIT_AT_ONCE = "gridmap.exit_at_once"


def exit_at_once(code: int) -> None:
    """End the process now when it is the ``gridmap`` program (not a test's runner).

    After Ctrl-C the store is already rolled back and closed; freeing a large import's
    frames and the interpreter's modules would take seconds more that the user waits.
    """
    ctx = get_current_context(silent=True)
    obj = ctx.find_root().obj if ctx is not None else None
    if isinstance(obj, dict) and obj.get(EXIT_AT_ONCE):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def report_error(exc: BaseException) -> int:
    """Print ``exc`` as one line (after its traceback with ``--debug``); return its exit code."""
    if debug_enabled():
        err_console.print_exception(show_locals=False)
    print_error_line(error_line(exc))
    return outcome_of(exc).exit_code


def error_line(exc: BaseException) -> Text:
    """The one line a user sees for ``exc``, the flag or argument named the CLI's way."""
    if isinstance(exc, GridmapError):
        text = exc.render(flag_for(exc.parameter)) if exc.parameter else exc.render(None)
        return Text.assemble(("error:", "bold red"), " ", one_line(text))
    if isinstance(exc, KeyboardInterrupt):
        return Text("interrupted: nothing was changed by the unfinished step")
    detail = one_line(mask_secrets(f"{type(exc).__name__}: {exc}"))
    return Text.assemble(
        ("internal error:", "bold red"),
        f" {detail} (a bug in gridmap, not in your input; re-run with "
        "`gridmap --debug ...` to see the traceback, and report it)",
    )


def print_error_line(line: Text | str) -> None:
    """Print ``line`` on stderr, never wrapped, whatever the terminal width."""
    err_console.print(line, soft_wrap=True, highlight=False, markup=False, emoji=False)


def one_line(text: str) -> str:
    """``text`` on one line: ``- item`` lines become ``; `` separated, other breaks spaces."""
    joined = ""
    for line in (raw.strip() for raw in text.splitlines()):
        if not line:
            continue
        separator = " " if joined else ""
        if line.startswith("- ") and joined:
            separator = " " if joined.endswith(":") else "; "
            line = line[2:]
        joined += separator + line
    return joined


def flag_for(parameter: str) -> str:
    """How the running command spells the Python ``parameter``: ``--crs``, ``FILE``, or the
    environment variable of a setting (``GRIDMAP_TIANDITU_KEY``)."""
    ctx = get_current_context(silent=True)
    while ctx is not None:
        for param in ctx.command.params:
            if param.name == parameter:
                if isinstance(param, TyperOption):
                    return max(param.opts, key=len)
                return str(getattr(param, "human_readable_name", parameter)).upper()
        ctx = ctx.parent
    from gridmap.settings import Settings  # only when an error names a setting

    if parameter in Settings.model_fields:
        return f"GRIDMAP_{parameter.upper()}"
    return "--" + parameter.replace("_", "-")


def debug_enabled() -> bool:
    """Whether ``gridmap --debug`` (or ``GRIDMAP_DEBUG=1``) asked for tracebacks."""
    ctx = get_current_context(silent=True)
    if ctx is not None and ctx.find_root().params.get("debug"):
        return True
    return os.environ.get("GRIDMAP_DEBUG", "").lower() in {"1", "true", "yes"}


class OneLineErrorGroup(TyperGroup):
    """The root command: usage errors (a bad flag or value) also end in ONE line and exit 2,
    and Ctrl-C while the arguments are parsed or a command is being found says so."""

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().make_context(*args, **kwargs)
        except KeyboardInterrupt:
            raise Abort from None  # typer would exit 130 without a word

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise Abort from None

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except NoArgsIsHelpError as exc:  # the help was printed already
            sys.exit(exc.exit_code)
        except TyperException as exc:
            print_error_line(_usage_line(exc))
            sys.exit(exc.exit_code)
        except Abort:
            print_error_line(error_line(KeyboardInterrupt()))
            sys.exit(outcome_of(KeyboardInterrupt()).exit_code)
        sys.exit(result if isinstance(result, int) else 0)


def _usage_line(exc: TyperException) -> Text:
    message = one_line(exc.format_message()).replace("Value error, ", "")
    ctx = getattr(exc, "ctx", None)
    if ctx is not None:
        message += f" (see `{ctx.command_path} --help`)"
    return Text.assemble(("error:", "bold red"), " ", message)


def require_positive(**values: float | None) -> None:
    """Refuse, before any work, options that must be finite and above 0 (None: not given).

    >>> require_positive(minutes=-5.0)
    Traceback (most recent call last):
    gridmap.errors.InvalidValueError: minutes=: must be a number above 0, got -5
    """
    for parameter, value in values.items():
        if value is not None and not (math.isfinite(value) and value > 0):
            msg = f"must be a number above 0, got {value:g}"
            raise InvalidValueError(msg, parameter=parameter)
