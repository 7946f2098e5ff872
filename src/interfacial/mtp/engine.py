"""Engines that fit a moment tensor potential: motep (embedded) and MLIP's ``mlp`` binary.

Both take the same inputs and leave the same files in the work directory, so a fit on a laptop
and a fit on a cluster are interchangeable:

- ``train.cfg``: the training set (MLIP ``.cfg``, types in the potential's species order);
- ``init.mtp``: the untrained level-N potential (:mod:`interfacial.mtp.basis`); its radial basis
  runs from ``min_dist`` (the shortest interatomic distance of the training set, rounded down to
  0.1 A) to the cutoff;
- ``fitted.mtp``: the fitted potential in MLIP's layout, which ``mlp``, motep and LAMMPS'
  ``pair_style mlip`` all read.

Both are registered fit engines of :mod:`interfacial.engines`: ``engines.get("fit", name)`` is the
engine class, and its :meth:`FitEngine.build` the one way to make an engine from options and the
project's settings. Code that fits, evaluates or grades a potential depends only on the
:class:`MTPEngine` protocol: fit, calculator, MaxVol grades and the graded exploring MD of active
learning (motep's, for potentials of either engine: the file layout is the same).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import logging
import math
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, Self, runtime_checkable

import numpy as np
from ase import Atoms
from ase.calculators.calculator import Calculator
from ase.data import atomic_numbers

from interfacial.commands import expand_command, require_executable, run_captured
from interfacial.errors import InterfacialError
from interfacial.mtp.basis import (
    SUPPORTED_LEVELS,
    basis_min_dist,
    untrained_mtp_text,
)
from interfacial.mtp.cfg import check_species_order, check_training_set, read_cfg, write_cfg
from interfacial.mtp.defaults import (
    BREAK_THRESHOLD,
    DEFAULT_CUTOFF,
    DEFAULT_LEVEL,
    DEFAULT_WEIGHTS,
)
from interfacial.mtp.metrics import fit_neighbour_list
from interfacial.mtp.mtpfile import first_difference, format_mtp
from interfacial.mtp.potential import MTPPotential, parse_mtp_header
from interfacial.mtp.progress import FitReporter, mlp_line_reporter, motep_log

_STAGES = {"Level2MTP": "pair potential", "minimize": "L-BFGS-B", "LLS": "linear solve"}
"""Display names of motep's optimisation steps."""
TRAINING_FILE = "train.cfg"
INITIAL_FILE = "init.mtp"
FITTED_FILE = "fitted.mtp"
RADIAL_BASIS_SIZE = 8
"""Chebyshev polynomials per radial function (as in MLIP's templates)."""
READBACK_TOLERANCE = 1e-10
"""Largest allowed difference between the energies (forces) of the fitted potential in memory
and of the same potential read back from its file, relative to the largest energy (force) and
at least 1 eV (eV/A). The file holds the coefficients exactly (:mod:`interfacial.mtp.mtpfile`),
so the two evaluations agree to the bit (measured: 0 for levels 2 to 20); a wrong file or
species order is off by meV or more."""


@runtime_checkable
class MTPEngine(Protocol):
    """Fits moment tensor potentials and evaluates them."""

    @property
    def name(self) -> str:
        """Short name, recorded with every potential (``"motep"``, ``"mlp"``)."""
        ...

    def version(self) -> str:
        """Version (or identity) of the fitting code, recorded with every potential."""
        ...

    def fit(
        self,
        training: Sequence[Atoms],
        species_order: Sequence[str],
        level: int = DEFAULT_LEVEL,
        cutoff: float = DEFAULT_CUTOFF,
        weights: tuple[float, float, float] = DEFAULT_WEIGHTS,
        seed: int = 0,
        workdir: str | Path = ".",
        *,
        progress: FitReporter | None = None,
        initial: MTPPotential | None = None,
    ) -> MTPPotential:
        """Fit a potential to labelled configurations (energy eV, forces eV/A, stress).

        ``progress``, when given, is called after every optimiser iteration
        (:class:`interfacial.mtp.progress.FitStatus`). ``initial``, a potential of the same
        species order, level and cutoff whose radial basis covers every training pair
        (:func:`basis_covers`), is the starting point instead of random coefficients (a refit
        after active learning added configurations, as ``mlp train current.mtp``).
        """
        ...

    def calculator(self, potential: MTPPotential) -> Calculator:
        """An ASE calculator of ``potential``."""
        ...

    def extrapolation_grades(
        self,
        potential: MTPPotential,
        training: Sequence[Atoms],
        candidates: Sequence[Atoms],
        seed: int = 0,
        per_neighbourhood: bool = False,
    ) -> np.ndarray:
        """MaxVol extrapolation grade of each candidate against the training set."""
        ...

    def explore(
        self,
        potential: MTPPotential,
        training: Sequence[Atoms],
        start: Atoms,
        *,
        temperature: float,
        time_step: float,
        steps: int,
        interval: int,
        seed: int = 0,
        break_threshold: float = BREAK_THRESHOLD,
        per_neighbourhood: bool = False,
    ) -> tuple[list[Atoms], list[int], Any, str]:
        """NVT MD with the potential, graded as it runs (active learning's exploration).

        ``per_neighbourhood``: every atom graded (cells of any size, e.g. transport cells).
        """
        ...


class FitEngine:
    """What the registered fit engines share: construction and motep's evaluation.

    An engine is built from options and the project's settings (:meth:`build`); a fitted
    potential is graded and explored with motep (both need only its file).

    Subclasses are dataclasses whose fields are the engine's options; they implement ``fit``
    and ``calculator``.
    """

    name: ClassVar[str]
    #: Options taken from the project's settings when not given: option -> settings field.
    settings_options: ClassVar[dict[str, str]] = {}

    @classmethod
    def build(cls, options: Mapping[str, Any] | None = None, settings: Any = None) -> Self:
        """The engine with ``options`` (its dataclass fields).

        Options not in ``options`` are taken from ``settings`` when given (e.g. mlp's command
        from ``settings.mlp_cmd``).

        Raises
        ------
        InterfacialError
            For an option the engine does not have.

        """
        given = dict(options or {})
        if settings is not None:
            for option, field in cls.settings_options.items():
                given.setdefault(option, getattr(settings, field))
        try:
            return cls(**given)
        except TypeError as err:
            raise InterfacialError(f"bad option for the {cls.name} engine: {err}") from None

    @classmethod
    def options_from_settings(cls, settings: Any) -> dict[str, Any]:
        """The engine options that come from the project's settings (e.g. mlp's command)."""
        return {option: getattr(settings, field) for option, field in cls.settings_options.items()}

    def calculator(self, potential: MTPPotential) -> Calculator:
        """An ASE calculator of ``potential``."""
        raise NotImplementedError

    def extrapolation_grades(
        self,
        potential: MTPPotential,
        training: Sequence[Atoms],
        candidates: Sequence[Atoms],
        seed: int = 0,
        per_neighbourhood: bool = False,
    ) -> np.ndarray:
        """MaxVol extrapolation grade of each candidate (dimensionless; <= 1 interpolates).

        See :func:`interfacial.mtp.active.extrapolation_grades`; ``per_neighbourhood`` grades
        cells of any size against the same active set (transport cells).
        """
        from interfacial.mtp.active import extrapolation_grades

        return extrapolation_grades(
            potential, training, candidates, seed, per_neighbourhood=per_neighbourhood
        )

    def explore(
        self,
        potential: MTPPotential,
        training: Sequence[Atoms],
        start: Atoms,
        *,
        temperature: float,
        time_step: float,
        steps: int,
        interval: int,
        seed: int = 0,
        break_threshold: float = BREAK_THRESHOLD,
        per_neighbourhood: bool = False,
    ) -> tuple[list[Atoms], list[int], Any, str]:
        """NVT MD with this engine's calculator, graded every ``interval`` steps.

        See :func:`interfacial.mtp.active.explore` and, with ``per_neighbourhood`` (every
        atom graded), :func:`interfacial.mtp.active.explore_neighbourhoods` (K, fs, steps);
        returns the snapshots, their steps, their grades and why the run ended.
        """
        from interfacial.mtp.active import explore, explore_neighbourhoods

        run = explore_neighbourhoods if per_neighbourhood else explore
        return run(
            potential,
            self.calculator(potential),
            training,
            start,
            temperature=temperature,
            time_step=time_step,
            steps=steps,
            interval=interval,
            seed=seed,
            break_threshold=break_threshold,
        )


@dataclass(frozen=True)
class _FitInputs:
    """The files written for a fit, shared by every engine."""

    workdir: Path
    training: Path
    initial: Path
    order: list[str]
    min_dist: float
    warm: bool = False


def _prepare(
    training: Sequence[Atoms],
    species_order: Sequence[str],
    level: int,
    cutoff: float,
    weights: tuple[float, float, float],
    workdir: str | Path,
    initial: MTPPotential | None = None,
) -> _FitInputs:
    """Check the inputs of a fit and write ``train.cfg`` and ``init.mtp`` in ``workdir``.

    ``init.mtp`` is ``initial`` (a warm start) when given, else an untrained template.
    """
    order = check_species_order(species_order)
    check_training_set(training, order)
    if level not in SUPPORTED_LEVELS:
        raise InterfacialError(
            f"MTP level {level} is not available: choose one of {list(SUPPORTED_LEVELS)} "
            f"(the study uses {DEFAULT_LEVEL})"
        )
    if not (math.isfinite(cutoff) and cutoff > 0):
        raise InterfacialError(f"the cutoff must be a positive length in A, got {cutoff}")
    if len(weights) != 3 or not all(math.isfinite(w) and w >= 0 for w in weights):
        raise InterfacialError(
            f"weights are (energy, force, stress), finite and >= 0, got {tuple(weights)}"
        )
    if weights[0] == 0 and weights[1] == 0:
        raise InterfacialError("energy and force weights are both 0: nothing would be fitted")
    # The radial basis starts at the shortest distance seen, rounded down to 0.1 A, so that no
    # training pair falls below it.
    min_dist = basis_min_dist(training, cutoff)
    if min_dist <= 0.0:
        raise InterfacialError("two atoms of the training set are closer than 0.1 A")
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    training_path = write_cfg(training, workdir / TRAINING_FILE, order)
    if initial is not None:
        _check_starting_point(initial, order, level, cutoff, min_dist)
    initial_path = workdir / INITIAL_FILE
    initial_path.write_text(
        initial.text
        if initial is not None
        else untrained_mtp_text(level, len(order), min_dist, cutoff, RADIAL_BASIS_SIZE),
        encoding="utf-8",
    )
    return _FitInputs(workdir, training_path, initial_path, order, min_dist, initial is not None)


def _check_starting_point(
    initial: MTPPotential, order: list[str], level: int, cutoff: float, min_dist: float
) -> None:
    """Refuse a starting potential that is another model or does not cover the training set."""
    if list(initial.species_order) != order or initial.level != level:
        raise InterfacialError(
            f"the starting potential ({list(initial.species_order)}, level {initial.level}) is "
            f"not the model being fitted ({order}, level {level}): refit with its own "
            "species order and level"
        )
    if not math.isclose(initial.cutoff, cutoff, rel_tol=1e-9):
        raise InterfacialError(
            f"the starting potential's cutoff {initial.cutoff} A is not the fit's {cutoff} A"
        )
    if initial.header.min_dist > min_dist:
        raise InterfacialError(
            f"a training pair at {min_dist:.2f} A lies below the starting potential's min_dist "
            f"{initial.header.min_dist:.2f} A: fit afresh (no starting potential)"
        )


class ShortContacts(logging.Filter):
    """Condense motep's per-call "closer than min_dist" warnings to one line per run.

    Used around LAMMPS segments with motep forces and active learning's exploring MD.

    motep warns at every force call in which two atoms are closer than the potential's
    min_dist (the potential extrapolates there). In MD that is thousands of identical lines;
    the count and the shortest distance say the same and point at active learning.
    """

    LOGGER = "motep.potentials.mtp.base"

    def __init__(self, label: str) -> None:
        super().__init__()
        self.label = label
        self.count = 0
        self.shortest = math.inf
        self.limit: str | None = None

    def filter(self, record: logging.LogRecord) -> bool:
        """Count motep's short-contact warnings (dropped); let every other record through."""
        if record.getMessage().startswith("Nearest-neighbor distance"):
            self.count += 1
            if record.args and isinstance(record.args, tuple):
                with contextlib.suppress(TypeError, ValueError):
                    self.shortest = min(self.shortest, float(str(record.args[0])))
                    self.limit = str(record.args[1])
            return False
        return True

    def __enter__(self) -> ShortContacts:
        logging.getLogger(self.LOGGER).addFilter(self)
        return self

    def __exit__(self, *_exc: object) -> None:
        logger = logging.getLogger(self.LOGGER)
        logger.removeFilter(self)
        if self.count:
            logger.warning(
                "%s: %d force calls had atoms closer than the potential's min_dist (%s A), "
                "shortest %.3f A: the MTP extrapolates there; add such configurations by active "
                "learning if the run misbehaves",
                self.label,
                self.count,
                self.limit,
                self.shortest,
            )


def motep_calculator(potential: MTPPotential, backend: str = "cext") -> Calculator:
    """A motep calculator of ``potential`` (any engine's: the file layout is the same).

    Parameters
    ----------
    potential
        The fitted potential; its species order maps elements to MLIP types.
    backend
        motep's evaluation backend (``"cext"``, compiled and fastest; ``"numpy"``).

    Returns
    -------
    ase.calculators.calculator.Calculator
        Energy (eV), forces (eV/A), stress (eV/A^3). Structures with an element outside the
        species order cannot be evaluated.

    """
    from motep.calculator import make_calculator
    from motep.io.mlip.mtp import read_mtp

    # motep reads potentials from paths only.
    with tempfile.TemporaryDirectory(prefix="interfacial-mtp-") as tmp:
        data = read_mtp(potential.write(Path(tmp) / "potential.mtp"))
    data.species = [atomic_numbers[s] for s in potential.species_order]
    return make_calculator(data, engine=backend)


def _energies_and_forces(
    calculator: Calculator, configurations: Sequence[Atoms]
) -> tuple[np.ndarray, list[np.ndarray]]:
    energies, forces = [], []
    for atoms in configurations:
        fit_neighbour_list(calculator, atoms)
        probe = atoms.copy()
        probe.calc = calculator
        energies.append(probe.get_potential_energy())
        forces.append(probe.get_forces())
    return np.array(energies), forces


@dataclass
class MotepEngine(FitEngine):
    """Fits with motep's Python API (the embedded default; no binary needed).

    The optimisation, with the seed drawing the starting coefficients:

    1. the best pair potential (motep's linear ``Level2MTP`` solve on energies and forces; skipped
       when the fit starts from a potential, whose coefficients it would replace; the
       stress rows are left out because motep 0.2.0 orders their columns wrongly when there is
       more than one species);
    2. L-BFGS-B on all coefficients for at most ``max_iter`` iterations;
    3. a final linear solve of the species and moment coefficients (energies, forces, stress).

    Attributes
    ----------
    max_iter
        Iteration limit of the L-BFGS-B stage.
    backend
        motep's evaluation backend for fitting and for the calculators.

    """

    name: ClassVar[str] = "motep"
    max_iter: int = 1000
    backend: str = "cext"

    def version(self) -> str:
        """The installed motep version."""
        return importlib.metadata.version("motep")

    def _steps(self, warm: bool = False) -> list[dict[str, Any]]:
        # A warm start keeps its coefficients: no pair-potential solve from scratch first.
        start = [] if warm else [{"method": "Level2MTP", "minimized": ["energy", "forces"]}]
        return [
            *start,
            {
                "method": "minimize",
                "kwargs": {
                    "method": "L-BFGS-B",
                    # The loss is small in absolute terms, so scipy's default ftol would stop
                    # early; the iteration limit decides instead.
                    "options": {"maxiter": self.max_iter, "ftol": 1e-14, "gtol": 1e-10},
                },
            },
            {"method": "LLS"},
        ]

    def fit(
        self,
        training: Sequence[Atoms],
        species_order: Sequence[str],
        level: int = DEFAULT_LEVEL,
        cutoff: float = DEFAULT_CUTOFF,
        weights: tuple[float, float, float] = DEFAULT_WEIGHTS,
        seed: int = 0,
        workdir: str | Path = ".",
        *,
        progress: FitReporter | None = None,
        initial: MTPPotential | None = None,
    ) -> MTPPotential:
        """Fit a level-``level`` potential with motep.

        Parameters
        ----------
        training
            At least 2 configurations labelled with energy (eV) and forces (eV/A), optionally
            stress (eV/A^3).
        species_order
            Element of each MLIP type.
        level
            Level of the basis (even, 2 ... 20).
        cutoff
            Cutoff radius (A).
        weights
            Energy, force and stress weights of motep's loss (energy per atom, forces, stress x
            volume per atom; the same normalisation as ``mlp train``).
        seed
            Seed of the random starting coefficients (the fit is deterministic for a seed).
        workdir
            Directory for ``train.cfg``, ``init.mtp`` and ``fitted.mtp``.
        progress
            Called after every iteration of each stage with its loss and the training-set
            RMSE (:class:`interfacial.mtp.progress.FitStatus`); None reports nothing.
        initial
            A potential of the same species order, level and cutoff whose radial basis
            covers the training set (:func:`basis_covers`): the fit starts from its
            coefficients (no pair-potential stage); None: from random ones.

        Returns
        -------
        MTPPotential
            The fitted potential, written in MLIP's layout with every digit and checked to
            read back with the same coefficients, energies and forces.

        Raises
        ------
        InterfacialError
            For bad input, a fit that produced non-finite coefficients, or a written file that
            does not reproduce the fitted potential.

        """
        from motep.io.mlip.mtp import read_mtp
        from motep.loss import LossFunction, LossSetting
        from motep.optimizers import make_optimizer

        inputs = _prepare(training, species_order, level, cutoff, weights, workdir, initial)
        # Train on exactly what the file holds, as mlp would.
        images = read_cfg(inputs.training, inputs.order)
        data = read_mtp(inputs.initial)
        data.species = [atomic_numbers[s] for s in inputs.order]
        setting = LossSetting(
            energy_weight=weights[0], forces_weight=weights[1], stress_weight=weights[2]
        )
        loss = LossFunction(images, data, setting, engine=self.backend)
        # An explicit generator: motep's Trainer treats seed=0 as "no seed".
        rng = np.random.default_rng(seed)
        # A diverging fit is reported below, not warned about.
        with np.errstate(all="ignore"), motep_log(progress, loss.images) as log:
            for step in self._steps(inputs.warm):
                if log is not None:
                    log.stage = _STAGES[step["method"]]
                    log.max_iter = self.max_iter if step["method"] == "minimize" else 1
                data.initialize(rng)
                optimizer = make_optimizer(step["method"])(loss, **step)
                optimizer.optimize(**step.get("kwargs", {}))
                loss.broadcast_results()
            final_loss = float(loss(data.parameters))
        if not (np.all(np.isfinite(data.parameters)) and math.isfinite(final_loss)):
            raise InterfacialError(
                "the motep fit diverged (non-finite coefficients or loss): check the training "
                "set for unphysical energies or forces, or lower the weights"
            )
        from motep.calculator import make_calculator

        in_memory = _energies_and_forces(make_calculator(data, engine=self.backend), images)
        # motep's default layout cannot be read back by mlp or motep, and its legacy writer
        # rounds the coefficients: MLIP's layout with every digit.
        fitted = inputs.workdir / FITTED_FILE
        fitted.write_text(format_mtp(data), encoding="utf-8")
        text = fitted.read_text(encoding="utf-8")
        parse_mtp_header(text, source=f"the written potential {fitted}")
        potential = MTPPotential(
            text=text,
            species_order=tuple(inputs.order),
            level=level,
            cutoff=cutoff,
            engine=self.name,
            engine_version=self.version(),
            weights=weights,
            seed=seed,
        )
        _check_readback(data, fitted, in_memory, lambda: self.calculator(potential), images)
        return potential

    def calculator(self, potential: MTPPotential) -> Calculator:
        """A motep calculator of ``potential``."""
        return motep_calculator(potential, self.backend)


def _check_readback(
    data: Any,
    path: Path,
    expected: tuple[np.ndarray, list[np.ndarray]],
    calculator: Callable[[], Calculator],
    images: Sequence[Atoms],
) -> None:
    """Check that the file at ``path`` is the fitted potential ``data``; name what differs.

    The coefficients must read back identical (the file holds every digit); the energies and
    forces of the read-back potential, through the species order, must then agree with
    ``expected`` within :data:`READBACK_TOLERANCE`.
    """
    from motep.io.mlip.mtp import read_mtp

    try:
        written = read_mtp(path)
    except Exception as exc:  # motep's parser raises bare ValueError/KeyError/StopIteration
        raise InterfacialError(
            f"the written potential {path} cannot be read back by motep "
            f"({type(exc).__name__}: {exc}); the file is not usable: fit again"
        ) from None
    difference = first_difference(data, written)
    if difference is not None:
        raise InterfacialError(
            f"the written potential {path} does not hold the fitted coefficients: "
            f"{difference}; the file is not usable: check the disk and fit again"
        )
    found = _energies_and_forces(calculator(), images)
    energy = float(np.max(np.abs(expected[0] - found[0])))
    force = max(float(np.max(np.abs(a - b))) for a, b in zip(expected[1], found[1], strict=True))
    energy_scale = max(1.0, float(np.max(np.abs(expected[0]))))
    force_scale = max(1.0, *(float(np.max(np.abs(f), initial=0.0)) for f in expected[1]))
    if energy > READBACK_TOLERANCE * energy_scale or force > READBACK_TOLERANCE * force_scale:
        raise InterfacialError(
            f"the potential read back from {path} holds the fitted coefficients but its "
            f"energies differ from the fit's by {energy:.2e} eV (forces by {force:.2e} eV/A): "
            "the species order given with it does not map onto the file's types as in the fit"
        )


@dataclass
class MLPBinaryEngine(FitEngine):
    """Fits with MLIP's ``mlp train`` (clusters), optionally under an MPI launcher.

    Runs, in the work directory::

        <mpi_prefix> <command> train init.mtp train.cfg --trained-pot-name=fitted.mtp
            --energy-weight=<w_E> --force-weight=<w_F> --stress-weight=<w_S> [--max-iter=N]

    ``mlp train`` takes no seed: the seed given to :meth:`fit` is not passed, and the potential
    records ``seed=None``. The fitted file is evaluated with motep (same layout).

    Attributes
    ----------
    command
        The ``mlp`` command (e.g. ``settings.mlp_cmd``; may hold a path or a wrapper).
    mpi_prefix
        Launcher put before the command, e.g. ``"mpirun -np 16"``; empty for a serial run.
    max_iter
        Passed as ``--max-iter`` when set.
    timeout
        Seconds before the run is stopped; None waits.

    """

    name: ClassVar[str] = "mlp"
    settings_options: ClassVar[dict[str, str]] = {"command": "mlp_cmd"}
    command: str = "mlp"
    mpi_prefix: str = ""
    max_iter: int | None = None
    timeout: float | None = None

    def _argv(self) -> list[str]:
        # Environment variables expand here, on the machine that runs the fit, so that submitted
        # jobs can carry "${INTERFACIAL_MLP_CMD}" and use each worker's own command.
        return expand_command(self.mpi_prefix, "the MPI launcher") + expand_command(
            self.command, "the mlp command"
        )

    def version(self) -> str:
        """Identity of the ``mlp`` executable: ``sha256:`` and the first 16 hex digits."""
        path = require_executable(
            expand_command(self.command, "the mlp command"),
            "the mlp command",
            "mlp_cmd",
        )
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
        return f"sha256:{digest[:16]}"

    def fit(
        self,
        training: Sequence[Atoms],
        species_order: Sequence[str],
        level: int = DEFAULT_LEVEL,
        cutoff: float = DEFAULT_CUTOFF,
        weights: tuple[float, float, float] = DEFAULT_WEIGHTS,
        seed: int = 0,
        workdir: str | Path = ".",
        *,
        progress: FitReporter | None = None,
        initial: MTPPotential | None = None,
    ) -> MTPPotential:
        """Fit with ``mlp train`` (same parameters as :meth:`MotepEngine.fit`; seed unused).

        ``progress`` gets every ``BFGS iter N: f=LOSS`` line ``mlp`` prints, as it prints it;
        ``initial`` is the file ``mlp train`` starts from (else an untrained template).

        Raises
        ------
        InterfacialError
            For bad input, a missing executable, a non-zero exit (its stderr is shown), a run
            that leaves no potential, or a potential with non-finite coefficients.

        """
        if self.mpi_prefix:
            require_executable(
                expand_command(self.mpi_prefix, "the MPI launcher"),
                "the MPI launcher",
                "mpi_cmd",
            )
        version = self.version()  # also checks that the executable exists, before any work
        inputs = _prepare(training, species_order, level, cutoff, weights, workdir, initial)
        fitted = inputs.workdir / FITTED_FILE
        fitted.unlink(missing_ok=True)  # a stale file must not pass for this run's output
        argv = [
            *self._argv(),
            "train",
            INITIAL_FILE,
            TRAINING_FILE,
            f"--trained-pot-name={FITTED_FILE}",
            f"--energy-weight={weights[0]:g}",
            f"--force-weight={weights[1]:g}",
            f"--stress-weight={weights[2]:g}",
        ]
        if self.max_iter is not None:
            argv.append(f"--max-iter={self.max_iter}")
        run = run_captured(
            argv,
            cwd=inputs.workdir,
            timeout=self.timeout,
            what="mlp train",
            advice="raise the timeout or lower max_iter",
            on_line=mlp_line_reporter(progress, self.max_iter) if progress is not None else None,
        )
        (inputs.workdir / "mlp_train.log").write_text(run.stdout + run.stderr, encoding="utf-8")
        if run.returncode != 0:
            tail = "\n".join((run.stderr or run.stdout).strip().splitlines()[-20:])
            raise InterfacialError(
                f"mlp train failed (exit code {run.returncode}) in {inputs.workdir}: "
                f"{shlex.join(argv)}\n{tail}"
            )
        if not fitted.is_file():
            raise InterfacialError(
                f"mlp train exited normally but wrote no {FITTED_FILE} in {inputs.workdir}"
            )
        return MTPPotential(
            text=fitted.read_text(encoding="utf-8"),
            species_order=tuple(inputs.order),
            level=level,
            cutoff=cutoff,
            engine=self.name,
            engine_version=version,
            weights=weights,
            seed=None,
        )

    def calculator(self, potential: MTPPotential) -> Calculator:
        """A motep calculator of ``potential`` (``mlp`` has no ASE interface)."""
        return motep_calculator(potential)
