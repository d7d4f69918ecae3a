"""Progress bars for long steps (OSM reading, loading rows): on a terminal only.

:func:`track` wraps an iterable. When the console it draws on (standard error
by default) is a terminal it shows a rich progress bar, a pulsing one when the
total is unknown; otherwise (a pipe, a log file, the tests) it yields the items
untouched and prints nothing, so output that is read by programs stays clean.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

__all__ = ["track"]

T = TypeVar("T")

#: Redraws per bar at most; advancing once per item would cost more than the work.
_UPDATES = 200
#: Items between redraws when the total is unknown.
_UNKNOWN_STEP = 1000


def _bar(console: Console) -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def track(
    items: Iterable[T],
    *,
    description: str,
    total: int | None = None,
    console: Console | None = None,
) -> Iterator[T]:
    """Yield ``items``, showing a progress bar while they are consumed, on a terminal only.

    Parameters
    ----------
    items
        What to iterate over; consumed once, lazily.
    description
        The label in front of the bar, e.g. ``"loading unit"``.
    total
        Number of items; taken from ``len(items)`` when it has one. Without
        it the bar pulses and counts.
    console
        Where to draw; default a console on standard error. Nothing is drawn
        unless ``console.is_terminal`` (pass ``Console(force_terminal=True)``
        to force a bar).
    """
    out = console if console is not None else Console(stderr=True)
    if not out.is_terminal:
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    step = max(1, total // _UPDATES) if total else _UNKNOWN_STEP
    with _bar(out) as progress:
        task = progress.add_task(description, total=total)
        done = 0
        for item in items:
            yield item
            done += 1
            if done % step == 0:
                progress.update(task, completed=done)
        progress.update(task, completed=done, total=total if total is not None else done)
