"""Run flows locally with a live progress display, and run builders.

jobflow's ``run_locally`` logs "Starting job - <name>" and "Finished job - <name>" through the
``jobflow`` logger; a logging handler turns those into a rich progress line (flows grow at run time,
so the display counts finished jobs and names the running one rather than a fixed total).

Jobs that run long inside the flow show their own progress through the same display:
:func:`current_progress` gives them the flow's rich progress (on a terminal: they add a task
to it, so that two live displays never fight over the screen) or its console (otherwise: they
print lines), and None when the flow runs without progress (``--json``).
"""

from __future__ import annotations

import logging
import re
import sys
import warnings
from contextlib import contextmanager, redirect_stdout
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from jobflow import Flow, JobStore
    from rich.progress import Progress, TaskID

_START = re.compile(r"^Starting job - (?P<name>.+) \([0-9a-f-]{36}")
_FINISH = re.compile(r"^Finished job - (?P<name>.+) \([0-9a-f-]{36}")
_FAILED = re.compile(r"^(?P<name>.+) failed with exception:\n(?P<trace>.*)", re.DOTALL)


@dataclass(frozen=True)
class FlowProgress:
    """The progress display of a running flow, for jobs that report progress of their own.

    Attributes
    ----------
    console
        rich Console on stderr (print lines to it when ``progress`` is None).
    progress
        The flow's live rich Progress on a terminal (add a task to it), else None.

    """

    console: Any
    progress: Progress | None


_CURRENT: ContextVar[FlowProgress | None] = ContextVar("interfacial_flow_progress", default=None)


def current_progress() -> FlowProgress | None:
    """The progress display of the flow running in this process; None when progress is off.

    Jobs run by :func:`run_flow` (in this process) use it to show how far a long step is (an
    MTP fit's iterations); outside a flow, or with ``show_progress=False``, it is None.
    """
    return _CURRENT.get()


class _ProgressHandler(logging.Handler):
    """Feed jobflow's log records into a rich progress bar; remember failures."""

    def __init__(self, progress: Progress | None, task: TaskID | None) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.task = task
        self.finished = 0
        self.failures: list[tuple[str, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        if match := _FAILED.match(message):
            last = match["trace"].strip().splitlines()[-1] if match["trace"].strip() else ""
            self.failures.append((match["name"], last))
        elif match := _START.match(message):
            self._update(f"running: {match['name']}")
        elif (match := _FINISH.match(message)) and match["name"] != "store_inputs":
            self.finished += 1
            self._update(None)

    def _update(self, text: str | None) -> None:
        if self.progress is None or self.task is None:
            return
        kwargs: dict[str, Any] = {
            "completed": self.finished,
            "count": f"{self.finished} jobs done",
        }
        if text is not None:
            kwargs["description"] = text
        self.progress.update(self.task, **kwargs)


@contextmanager
def _jobflow_log(handler: logging.Handler) -> Iterator[None]:
    logger = logging.getLogger("jobflow")
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def run_flow(
    flow: Flow, store: JobStore, run_dir: Path, *, show_progress: bool = True
) -> dict[str, Any]:
    """Run ``flow`` locally into ``store``; raise InterfacialError naming the failed jobs.

    Each job runs in its own folder under ``run_dir`` (engines write files: VASP inputs and
    outputs, ASE's final structures), recorded as the job's directory in its document.
    Jobs that finished before a failure keep their documents (they are complete and valid);
    builders only derive properties from complete groups.
    """
    from jobflow import run_locally
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = Console(stderr=True)
    if show_progress and console.is_terminal:
        # Tasks added by jobs (a fit: iterations of max_iter) have a total, hence a bar and a
        # remaining time; the jobs line has none.
        progress: Progress | None = Progress(
            SpinnerColumn(),
            TextColumn("{task.fields[count]}"),
            BarColumn(bar_width=None),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
    else:
        progress = None
    handler = _ProgressHandler(progress, None)
    if progress is not None:
        handler.task = progress.add_task("starting", total=None, count="0 jobs done")
        progress.start()
    elif show_progress:
        # Not a terminal (CI, logs): one line per finished job still shows progress.
        handler.emit = _plain_emit(handler, console)  # type: ignore[method-assign]
    token = _CURRENT.set(FlowProgress(console, progress) if show_progress else None)
    try:
        # Engines print banners to stdout (CHGNet does); stdout is reserved for results (--json).
        with _jobflow_log(handler), redirect_stdout(sys.stderr), warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=FutureWarning, module="jobflow")
            warnings.filterwarnings("ignore", message=".*requires_grad.*", category=UserWarning)
            # ASE's cell filters take matrix logarithms; scipy warns at 1e-13 relative error.
            warnings.filterwarnings("ignore", message="logm result may be inaccurate")
            # Cells with charge-compensated vacancies carry a charge on purpose.
            warnings.filterwarnings("ignore", message="Structure charge .* is set to be not equal")
            run_dir.mkdir(parents=True, exist_ok=True)
            responses = run_locally(
                flow,
                store=store,
                log=False,
                ensure_success=False,
                create_folders=True,
                root_dir=run_dir,
            )
    finally:
        _CURRENT.reset(token)
        if progress is not None:
            progress.stop()
    if handler.failures:
        listing = "; ".join(f"{name}: {err}" for name, err in handler.failures[:3])
        raise InterfacialError(
            f"{len(handler.failures)} job(s) failed ({listing}); finished jobs are stored, "
            "rerun after fixing the cause"
        )
    return responses


def _plain_emit(handler: _ProgressHandler, console: Any) -> Any:
    original = _ProgressHandler.emit

    def emit(record: logging.LogRecord) -> None:
        original(handler, record)
        match = _FINISH.match(record.getMessage())
        if match and match["name"] != "store_inputs":  # jobflow's internal output binding
            console.print(f"[{handler.finished}] done: {match['name']}", highlight=False)

    return emit
