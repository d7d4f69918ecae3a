"""Progress of long work: bars on a terminal, stages for whoever follows a run.

:func:`track` wraps an iterable. When the console it draws on (standard error
by default) is a terminal it shows a rich progress bar, a pulsing one when the
total is unknown; otherwise (a pipe, a log file, the tests) it yields the items
untouched and prints nothing, so output that is read by programs stays clean.

:func:`stage` marks where a long computation has got to (a name and the share
done, 0-1): a coverage run's rules, reach, blind zones, roll-up, saving; a
siting run's candidates and solver. It costs nothing unless someone follows:
:func:`reporting` sets, for the code it wraps (in this thread or task), the
function told of each stage; the web app's jobs store it on the job row (the
dashboard's progress line), and :func:`stage_bar` draws it on a terminal.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
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

__all__ = ["Report", "reporting", "stage", "stage_bar", "track"]

#: Told of each stage: its name and the share of the work done before it (0-1).
Report = Callable[[str, float], None]

_FOLLOWER: ContextVar[Report | None] = ContextVar("gridmap_progress", default=None)

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


def stage(name: str, done: float) -> None:
    """The work has reached stage ``name``, ``done`` (0-1) of the way; tells the follower set
    by :func:`reporting`, if any. A follower that fails is logged, never raised: progress
    must not break the work it reports on."""
    follower = _FOLLOWER.get()
    if follower is None:
        return
    try:
        follower(name, min(max(float(done), 0.0), 1.0))
    except Exception:  # a progress line is not worth a failed run
        logging.getLogger(__name__).exception("progress follower failed at %s", name)


@contextmanager
def reporting(follower: Report) -> Iterator[None]:
    """Within the block, every :func:`stage` is told to ``follower``."""
    token = _FOLLOWER.set(follower)
    try:
        yield
    finally:
        _FOLLOWER.reset(token)


@contextmanager
def stage_bar(description: str, console: Console | None = None) -> Iterator[None]:
    """A bar of the stages reached within the block, on a terminal only (see :func:`track`)."""
    out = console if console is not None else Console(stderr=True)
    if not out.is_terminal:
        yield
        return
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeElapsedColumn(),
        console=out,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=1.0)

        def follow(name: str, done: float) -> None:
            bar.update(task, completed=done, description=f"{description}: {name}")
            bar.refresh()  # a handful of stages: each one drawn when reached

        with reporting(follow):
            yield
