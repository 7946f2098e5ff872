"""Progress of a segmented run: one line per segment (batch logs) or a rich progress bar."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from interfacial.lammps.record import MDRunRecord
    from interfacial.lammps.segments import SegmentedMD


def progress_printer(label: str, console: Any = None) -> Callable[[MDRunRecord], None]:
    """A callback that prints one line per completed segment (for logs of batch jobs).

    The line gives the segment, steps done of the total, the segment's speed (ns/day) and its
    mean temperature (K).
    """
    from rich.console import Console

    out = console or Console(stderr=True)

    def show(record: MDRunRecord) -> None:
        if not record.segments:
            out.print(f"{label}: 0/{record.total_steps} steps, {record.total_segments} segments")
            return
        last = record.segments[-1]
        out.print(
            f"{label}: segment {last.index + 1}/{record.total_segments} ({last.stage}) "
            f"{record.steps_done}/{record.total_steps} steps, {last.ns_per_day:.3g} ns/day, "
            f"{last.mean_temperature:.0f} K"
        )

    return show


@contextmanager
def md_progress(
    md: SegmentedMD, description: str | None = None, console: Any = None
) -> Iterator[Callable[[MDRunRecord], None]]:
    """A rich progress bar for :meth:`SegmentedMD.run` (steps, ns/day, last temperature).

    Examples
    --------
    >>> with md_progress(md) as show:  # doctest: +SKIP
    ...     record = md.run(on_segment=show)

    """
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    total = sum(s.steps for s in md.segments)
    label = description or f"MD {md.segments[-1].end_temperature:g} K"
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("steps  {task.fields[rate]}  {task.fields[temperature]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=console) as progress:
        task = progress.add_task(label, total=total, rate="", temperature="")

        def show(record: MDRunRecord) -> None:
            last = record.segments[-1] if record.segments else None
            progress.update(
                task,
                completed=record.steps_done,
                rate=f"{last.ns_per_day:.3g} ns/day" if last else "",
                temperature=f"{last.mean_temperature:.0f} K ({last.stage})" if last else "",
            )

        yield show
