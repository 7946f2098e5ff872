"""Benchmark: the MTP fit through interfacial's motep engine vs the same motep calls made directly.

Run on demand: ``.venv/bin/python benchmarks/bench_mtp_fit.py``. Both fits use the same labelled
configurations (a Morse pair potential on S/Li cells, tests/mtp_data.py), level, weights, steps
and seed, measured in the same run. Prints the overhead of the engine (file round trips,
read-back check) relative to motep alone (goal <= 5 %) and the time of one loss + gradient
evaluation per atom, so that later changes can be compared.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parents[1] / "tests"))

LEVEL, MAX_ITER, N_CONFIGURATIONS = 8, 100, 48


def direct_fit(images: list, order: list[str], workdir: Path) -> float:
    """motep alone: the same loss, optimiser steps and seed as the engine; return seconds."""
    from ase.data import atomic_numbers
    from motep.io.mlip.mtp import read_mtp
    from motep.loss import LossFunction, LossSetting
    from motep.optimizers import make_optimizer

    from interfacial.mtp.engine import MotepEngine

    start = time.perf_counter()
    data = read_mtp(workdir / "init.mtp")  # the untrained file the engine wrote
    data.species = [atomic_numbers[s] for s in order]
    loss = LossFunction(
        images, data, LossSetting(energy_weight=100.0, forces_weight=10.0, stress_weight=1.0)
    )
    rng = np.random.default_rng(0)
    for step in MotepEngine(max_iter=MAX_ITER)._steps():
        data.initialize(rng)
        optimizer = make_optimizer(step["method"])(loss, **step)
        optimizer.optimize(**step.get("kwargs", {}))
    return time.perf_counter() - start


def loss_gradient_time(images: list, order: list[str], workdir: Path, repeats: int = 20) -> float:
    """Seconds per loss + gradient evaluation per atom of the training set."""
    from ase.data import atomic_numbers
    from motep.io.mlip.mtp import read_mtp
    from motep.loss import LossFunction, LossSetting

    data = read_mtp(workdir / "fitted.mtp")
    data.species = [atomic_numbers[s] for s in order]
    loss = LossFunction(
        images, data, LossSetting(energy_weight=100.0, forces_weight=10.0, stress_weight=1.0)
    )
    parameters = data.parameters
    start = time.perf_counter()
    for _ in range(repeats):
        loss(parameters)
        loss.jac(parameters)
    return (time.perf_counter() - start) / repeats / sum(len(a) for a in images)


def main() -> None:
    """Print both timings, their ratio and the loss + gradient cost."""
    from interfacial.mtp.cfg import read_cfg
    from interfacial.mtp.engine import MotepEngine
    from mtp_data import SPECIES_ORDER, configurations

    training = configurations(N_CONFIGURATIONS, seed=1)
    with tempfile.TemporaryDirectory() as folder:
        workdir = Path(folder)
        MotepEngine(max_iter=5).fit(
            training, SPECIES_ORDER, LEVEL, seed=0, workdir=workdir
        )  # warm-up
        start = time.perf_counter()
        MotepEngine(max_iter=MAX_ITER).fit(training, SPECIES_ORDER, LEVEL, seed=0, workdir=workdir)
        engine_seconds = time.perf_counter() - start
        images = read_cfg(workdir / "train.cfg", SPECIES_ORDER)
        direct_seconds = direct_fit(images, SPECIES_ORDER, workdir)
        per_atom = loss_gradient_time(images, SPECIES_ORDER, workdir)
    print(f"{N_CONFIGURATIONS} configurations, level {LEVEL}, {MAX_ITER} L-BFGS-B iterations")
    print(f"interfacial MotepEngine.fit: {engine_seconds:.2f} s")
    print(f"motep called directly:       {direct_seconds:.2f} s")
    print(f"overhead: {100 * (engine_seconds / direct_seconds - 1):+.1f} % (goal <= 5 %)")
    print(f"loss + gradient: {1e6 * per_atom:.1f} us per atom")


if __name__ == "__main__":
    main()
