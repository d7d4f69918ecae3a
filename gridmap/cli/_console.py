"""The two consoles every command prints to: results on stdout, messages on stderr."""

from __future__ import annotations

from rich.console import Console

__all__ = ["console", "err_console"]

console = Console()
err_console = Console(stderr=True)
