"""Active learning for moment tensor potentials: extrapolation grades and selection.

The extrapolation grade of a configuration is MLIP's MaxVol grade (Podryabinkin and Shapeev): the
largest |c| of the coefficients expressing the configuration's row of the energy Jacobian (with
respect to the potential's parameters) in the active set, the rows of the training set that
span the largest volume. Grade <= 1: interpolation; > 1: extrapolation, the more the further
from the training domain. motep computes it (``motep.grade.Grader``); the selection of the
configurations to label (MLIP's ``select-add``, which motep lacks) is
:func:`interfacial.mtp.selection.select_for_labelling`.

The fit engines (:mod:`interfacial.mtp.engine`) expose grading and exploration as methods, which
is how code-agnostic jobs reach them (through :mod:`interfacial.engines`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers

from interfacial.ase_md import run_nvt
from interfacial.errors import InterfacialError
from interfacial.mtp.defaults import BREAK_THRESHOLD
from interfacial.mtp.potential import MTPPotential


def grader_for(
    potential: MTPPotential,
    training: Sequence[Atoms],
    seed: int = 0,
    per_neighbourhood: bool = False,
) -> Any:
    """Motep's MaxVol grader with the active set of ``training`` (linear coefficients, as MLIP).

    ``seed`` seeds MaxVol's random initialisation (passed as a generator: motep 0.2.0 replaces a
    seed of 0 by a random one).

    By configuration (default) the rows are derivatives of the total energy, which grow with
    the number of atoms: grades compare only cells of the training cells' size (active
    learning). ``per_neighbourhood`` uses per-atom energies instead (as MLIP's extrapolation
    control in LAMMPS), so cells of any size are graded against the same active set; a
    configuration's grade is then the largest of its atoms'.
    """
    from motep.grade.grader import Grader
    from motep.grade.setting import GradeMode
    from motep.io.mlip.mtp import read_mtp

    with TemporaryDirectory(prefix="interfacial-grade-") as folder:
        data = read_mtp(potential.write(Path(folder) / "potential.mtp"))
    data.species = [atomic_numbers[s] for s in potential.species_order]
    # As MLIP does, the active set spans the linear (moment) coefficients only: one column per
    # basis function, so a training set needs only as many configurations as basis functions.
    data.optimized = ["moment_coeffs"]
    n_basis = int(np.asarray(data.moment_coeffs).size)
    rows = sum(len(a) for a in training) if per_neighbourhood else len(training)
    if rows < n_basis:
        unit = "atoms" if per_neighbourhood else "training configurations"
        raise InterfacialError(
            f"grading needs at least {n_basis} {unit} (one per basis function of level "
            f"{potential.level}); got {rows}"
        )
    mode = GradeMode.NEIGHBORHOOD if per_neighbourhood else GradeMode.CONFIGURATION
    grader = Grader(data, rng=np.random.default_rng(seed), mode=mode)
    grader.update([a.copy() for a in training])
    return grader


def grades_with(grader: Any, potential: MTPPotential, candidates: Sequence[Atoms]) -> np.ndarray:
    """MaxVol extrapolation grade of each candidate (dimensionless; <= 1 interpolates)."""
    missing = {s for a in candidates for s in a.get_chemical_symbols()} - set(
        potential.species_order
    )
    if missing:
        raise InterfacialError(
            f"candidates contain {sorted(missing)}, absent from the potential's species "
            f"{list(potential.species_order)}"
        )
    if not candidates:
        return np.zeros(0)
    graded = grader.grade([a.copy() for a in candidates])
    return np.array([float(a.calc.results["MV_grade"]) for a in graded])


def extrapolation_grades(
    potential: MTPPotential,
    training: Sequence[Atoms],
    candidates: Sequence[Atoms],
    seed: int = 0,
    per_neighbourhood: bool = False,
) -> np.ndarray:
    """MaxVol extrapolation grade of each candidate against the training set (dimensionless).

    Parameters
    ----------
    potential
        The fitted potential (its species order maps elements to types).
    training
        The configurations the potential was fitted on: they define the active set.
    candidates
        Configurations to grade (only their positions, cell and species are used).
    seed
        Seed of MaxVol's random initialisation.
    per_neighbourhood
        Grade per atom (cells of any size), see :func:`grader_for`.

    """
    grader = grader_for(potential, training, seed, per_neighbourhood=per_neighbourhood)
    return grades_with(grader, potential, candidates)


def explore(
    potential: MTPPotential,
    calculator: Any,
    training: Sequence[Atoms],
    start: Atoms,
    *,
    temperature: float,
    time_step: float,
    steps: int,
    interval: int,
    seed: int = 0,
    break_threshold: float = BREAK_THRESHOLD,
) -> tuple[list[Atoms], list[int], np.ndarray, str]:
    """NVT MD with the fitted potential, graded every ``interval`` steps as it runs.

    The run stops early when a snapshot's grade exceeds ``break_threshold`` or the dynamics
    stops being finite: beyond that point the potential is extrapolating so far that the
    trajectory means nothing (MLIP's "break" threshold). Returns the snapshots, their steps,
    their grades and why the run ended ('completed', 'grade above break threshold',
    'non-finite dynamics').
    """
    grader = grader_for(potential, training, seed)
    frames, steps_run, grades, reason = _graded_run(
        lambda frame: float(grades_with(grader, potential, [frame])[0]),
        calculator,
        start,
        temperature=temperature,
        time_step=time_step,
        steps=steps,
        interval=interval,
        seed=seed,
        break_threshold=break_threshold,
    )
    return frames, steps_run, np.array(grades), reason


def explore_neighbourhoods(
    potential: MTPPotential,
    calculator: Any,
    training: Sequence[Atoms],
    start: Atoms,
    *,
    temperature: float,
    time_step: float,
    steps: int,
    interval: int,
    seed: int = 0,
    break_threshold: float = BREAK_THRESHOLD,
) -> tuple[list[Atoms], list[int], list[np.ndarray], str]:
    """NVT MD on a cell of any size, every atom's neighbourhood graded every ``interval`` steps.

    As :func:`explore`, but graded per neighbourhood (:func:`grader_for` with
    ``per_neighbourhood``): a transport cell is larger than the training cells, and the atom of
    largest grade is the centre of the neighbourhood to cut and label
    (:mod:`interfacial.mtp.neighbourhoods`). The run stops early when an atom's grade exceeds
    ``break_threshold`` or the dynamics stops being finite. Returns the snapshots, their steps,
    the grade of each atom of each snapshot and why the run ended.
    """
    grader = grader_for(potential, training, seed, per_neighbourhood=True)

    def atom_grades(frame: Atoms) -> np.ndarray:
        graded = grader.grade([frame.copy()])[0]
        return np.asarray(graded.calc.results["nbh_grades"], dtype=float)

    return _graded_run(
        atom_grades,
        calculator,
        start,
        temperature=temperature,
        time_step=time_step,
        steps=steps,
        interval=interval,
        seed=seed,
        break_threshold=break_threshold,
    )


def _graded_run(
    grade: Callable[[Atoms], Any],
    calculator: Any,
    start: Atoms,
    *,
    temperature: float,
    time_step: float,
    steps: int,
    interval: int,
    seed: int,
    break_threshold: float,
) -> tuple[list[Atoms], list[int], list[Any], str]:
    """NVT MD from ``start`` at ``temperature``; each snapshot graded, stopped past the break."""
    grades: list[Any] = []

    def too_far(frame: Atoms) -> bool:
        grades.append(grade(frame))
        return bool(np.max(grades[-1]) > break_threshold)

    from interfacial.mtp.engine import ShortContacts

    with ShortContacts(f"exploring MD at {temperature:g} K"):
        run = run_nvt(
            start,
            calculator,
            temperature=temperature,
            ramp_start_temperature=temperature,
            time_step=time_step,
            ramp_steps=0,
            production_steps=steps,
            snapshot_interval=interval,
            seed=seed,
            on_snapshot=too_far,
            stop_on_nonfinite=True,
        )
    reason = {"stopped by on_snapshot": "grade above break threshold"}.get(run.ended, run.ended)
    return run.frames, run.steps, grades, reason
