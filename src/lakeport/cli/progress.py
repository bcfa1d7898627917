"""Progress bars for long transfers (shown on a terminal, on standard error, never in JSON output)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from lakeport.cli.output import stderr

SHOW_FROM_BYTES = 1024 * 1024


@contextlib.contextmanager
def transfer_bar(description: str, total: int | None, *, enabled: bool) -> Iterator[Callable[[int], None]]:
    """Yield a ``progress(nbytes)`` callback driving one bar (a no-op when disabled or for small jobs)."""
    if not enabled or not stderr.is_terminal or (total is not None and total < SHOW_FROM_BYTES):
        yield lambda _n: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(binary_units=True),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=stderr,
        transient=False,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda n: bar.advance(task, n)


@contextlib.contextmanager
def stage_bar(description: str, *, enabled: bool) -> Iterator[Callable[[str, int, int], None]]:
    """Yield a ``progress(stage, done, total)`` callback driving one bar per stage (a no-op when disabled)."""
    if not enabled or not stderr.is_terminal:
        yield lambda _stage, _done, _total: None
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:,}/{task.total:,}"),
        TimeRemainingColumn(),
        console=stderr,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(f"{description} {stage}", total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update
