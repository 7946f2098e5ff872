"""Progress of an MTP fit: what the engines report, and how it is shown on stderr.

A fit engine reports a :class:`FitStatus` after every optimiser iteration to the ``progress``
callable given to its ``fit`` (motep through its optimiser's log, ``mlp train`` through the
lines it prints). :func:`fit_display` turns those into the display of the running flow
(:func:`interfacial.runner.current_progress`): a line of the flow's rich progress bar on a
terminal, otherwise plain lines for logs (the first and last of every stage, and one every
:data:`LINE_INTERVAL` seconds in between). When the flow runs without progress (``--json``),
it gives None and the engine reports nothing.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

LINE_INTERVAL = 5.0
"""Seconds between two plain progress lines of the same stage (logs, not a terminal)."""


@dataclass(frozen=True)
class FitStatus:
    """Where a fit is.

    Attributes
    ----------
    stage
        What runs: ``"pair potential"``, ``"L-BFGS-B"``, ``"linear solve"`` (motep),
        ``"mlp train"``.
    iteration
        Optimiser iterations done in this stage (0 is the starting point).
    max_iter
        Iteration limit of this stage, None if unknown (the optimiser may stop earlier).
    loss
        The engine's loss function at the iteration (dimensionless, as the engine defines it).
    energy_rmse, force_rmse
        Training-set RMSE at the last evaluated coefficients (meV/atom, meV/A), when cheap.

    """

    stage: str
    iteration: int
    max_iter: int | None = None
    loss: float | None = None
    energy_rmse: float | None = None
    force_rmse: float | None = None

    def describe(self) -> str:
        """One line: ``L-BFGS-B iteration 12/1000, loss 1.234e-03, energy RMSE ...``."""
        total = f"/{self.max_iter}" if self.max_iter is not None else ""
        parts = [f"{self.stage} iteration {self.iteration}{total}"]
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4e}")
        if self.energy_rmse is not None:
            parts.append(f"energy RMSE {self.energy_rmse:.3g} meV/atom")
        if self.force_rmse is not None:
            parts.append(f"force RMSE {self.force_rmse:.3g} meV/A")
        return ", ".join(parts)


FitReporter = Callable[[FitStatus], None]
"""What a fit engine calls after every iteration."""


def _clock(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class FitLines:
    """A :data:`FitReporter` printing plain lines (logs, pipes): elapsed and remaining time.

    The remaining time assumes the stage runs to its iteration limit at the speed so far (an
    upper estimate: L-BFGS-B may converge earlier).
    """

    def __init__(self, label: str, console: Any, interval: float = LINE_INTERVAL) -> None:
        self.label = label
        self.console = console
        self.interval = interval
        self.start = time.monotonic()
        self.stage_start = self.start
        self.last: FitStatus | None = None
        self.last_printed: FitStatus | None = None
        self.printed_at = -math.inf

    def __call__(self, status: FitStatus) -> None:
        """Print ``status`` if it starts or ends a stage, or the last line is old enough."""
        now = time.monotonic()
        if self.last is not None and status.stage != self.last.stage:
            self.flush()
            self.stage_start = now
        self.last = status
        first = self.last_printed is None or self.last_printed.stage != status.stage
        at_limit = status.max_iter is not None and status.iteration >= status.max_iter
        if first or at_limit or now - self.printed_at >= self.interval:
            self._print(status, now)

    def flush(self) -> None:
        """Print the last status if it was not printed (the end of a stage)."""
        if self.last is not None and self.last is not self.last_printed:
            self._print(self.last, time.monotonic())

    def _print(self, status: FitStatus, now: float) -> None:
        text = f"{self.label}: {status.describe()}, elapsed {_clock(now - self.start)}"
        if status.max_iter and 0 < status.iteration < status.max_iter:
            per_iteration = (now - self.stage_start) / status.iteration
            left = per_iteration * (status.max_iter - status.iteration)
            text += f", at most {_clock(left)} left"
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)
        self.last_printed = status
        self.printed_at = now


class FitBar:
    """A :data:`FitReporter` drawing one task of the flow's rich progress display."""

    def __init__(self, label: str, progress: Any) -> None:
        self.label = label
        self.progress = progress
        self.task = progress.add_task(f"{label}: starting", total=None, count="fit")

    def __call__(self, status: FitStatus) -> None:
        """Show ``status`` on the task."""
        self.progress.update(
            self.task,
            description=f"{self.label}: {status.describe()}",
            total=status.max_iter,
            completed=status.iteration,
        )

    def close(self) -> None:
        """Remove the task (the flow's own line stays)."""
        self.progress.remove_task(self.task)


@contextmanager
def fit_display(label: str) -> Iterator[FitReporter | None]:
    """The reporter to give a fit engine in a running flow; None when progress is off.

    Parameters
    ----------
    label
        Names the fit on the display (e.g. ``"Li2S level 10 fit"``).

    """
    from interfacial.runner import current_progress

    display = current_progress()
    if display is None:
        yield None
        return
    if display.progress is not None:
        bar = FitBar(label, display.progress)
        try:
            yield bar
        finally:
            bar.close()
        return
    lines = FitLines(label, display.console)
    try:
        yield lines
    finally:
        lines.flush()


def training_rmse(images: Sequence[Any]) -> tuple[float | None, float | None]:
    """Energy (meV/atom) and force (meV/A) RMSE of motep's loss images at their last evaluation.

    motep's calculators keep the reference labels in ``calc.targets`` and the last computed
    values in ``calc.results``; reading them costs no evaluation.
    """
    energies, forces = [], []
    for atoms in images:
        calc = getattr(atoms, "calc", None)
        results, targets = getattr(calc, "results", {}), getattr(calc, "targets", {})
        if "energy" in results and "energy" in targets:
            energies.append((results["energy"] - targets["energy"]) / len(atoms))
        if "forces" in results and "forces" in targets:
            forces.append(np.ravel(np.asarray(results["forces"]) - np.asarray(targets["forces"])))
    energy = 1000 * float(np.sqrt(np.mean(np.square(energies)))) if energies else None
    force = 1000 * float(np.sqrt(np.mean(np.square(np.concatenate(forces))))) if forces else None
    return energy, force


#: A line of ``mlp train``: ``BFGS iter 12: f=0.0123`` (MLIP 2 and 3 print it after every step).
MLP_ITERATION = re.compile(r"BFGS iter\s+(?P<iteration>\d+):\s*f\s*=\s*(?P<loss>\S+)")


def mlp_line_reporter(progress: FitReporter, max_iter: int | None) -> Callable[[str], None]:
    """A callback for the lines ``mlp train`` prints that reports its BFGS iterations."""

    def on_line(line: str) -> None:
        match = MLP_ITERATION.search(line)
        if match is None:
            return
        try:
            loss: float | None = float(match["loss"])
        except ValueError:
            loss = None
        progress(FitStatus("mlp train", int(match["iteration"]), max_iter, loss))

    return on_line


class MotepLog(logging.Handler):
    """Reports motep's per-iteration log record as :class:`FitStatus`.

    motep 0.2.0 has no progress callback of its own; every optimiser (L-BFGS-B after each
    iteration, the linear solves once) logs ``"loss %d: %s"`` (iteration, loss) through the
    ``motep.optimizers.scipy`` logger. The engine sets :attr:`stage` and :attr:`max_iter`
    before each step.
    """

    MESSAGE = "loss %d: %s"

    def __init__(self, progress: FitReporter, images: Sequence[Any]) -> None:
        super().__init__(level=logging.INFO)
        self.progress = progress
        self.images = images
        self.stage = ""
        self.max_iter: int | None = None

    def emit(self, record: logging.LogRecord) -> None:
        """Report an iteration record; ignore motep's other messages."""
        args: Any = record.args
        if record.msg != self.MESSAGE or not isinstance(args, tuple) or len(args) != 2:
            return
        energy, force = training_rmse(self.images)
        loss = float(args[1])
        self.progress(FitStatus(self.stage, int(args[0]), self.max_iter, loss, energy, force))


@contextmanager
def motep_log(progress: FitReporter | None, images: Sequence[Any]) -> Iterator[MotepLog | None]:
    """Listen to motep's optimiser log while a fit runs; None (no listening) without progress.

    The logger is set to INFO and kept from propagating for the duration, so that nothing
    reaches the root logger's handlers (the display is the only output).
    """
    if progress is None:
        yield None
        return
    logger = logging.getLogger(MOTEP_LOGGER)
    handler = MotepLog(progress, images)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


MOTEP_LOGGER = "motep.optimizers.scipy"
"""The logger motep's optimisers report their iterations through."""
