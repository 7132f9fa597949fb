"""Progress bars for the long stages (answering, judging, teacher calls, training, features), via rich.

Bars are transient and go to stderr; `enabled=False` (tests, or `adapt(..., show_bars=False)`) turns them
into no-ops, so library code never prints otherwise.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], None]
"""Called with the number of items just finished."""
Step = Callable[[int, int, float], None]
"""Called with (steps done, total steps, latest loss): the shape of `Student.train`'s `on_step`."""


@contextmanager
def progress_bar(description: str, total: int, *, enabled: bool, done: int = 0) -> Iterator[Advance]:
    """A bar for `total` items of which `done` were finished by an earlier (interrupted) process."""
    if not enabled or total <= 0:
        yield lambda n: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=total, completed=done)
        yield lambda n: bar.update(task, advance=n)


@contextmanager
def working(description: str, *, enabled: bool) -> Iterator[None]:
    """An indeterminate bar (spinner and elapsed time) for a stage that reports no progress of its own."""
    if not enabled:
        yield
        return
    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        bar.add_task(description, total=None)
        yield


@contextmanager
def step_bar(description: str, *, enabled: bool) -> Iterator[Step]:
    """A bar over optimiser steps showing the latest loss; its total is learnt from the first report, since
    only the student knows how many steps its schedule takes."""
    if not enabled:
        yield lambda done, total, loss: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
               TextColumn("loss {task.fields[loss]}"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None, loss="-")
        yield lambda done, total, loss: bar.update(task, completed=done, total=total, loss=f"{loss:.4f}")
