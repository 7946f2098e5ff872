"""Fitting moment tensor potentials: one maker, the engine chosen through a small protocol.

The engines are looked up by name in the registry (:mod:`interfacial.engines`, kind ``fit``), so
the maker has no branch per engine; :class:`MotepFitMaker` (embedded default) and
:class:`MLPFitMaker` (the ``mlp`` binary on clusters) only change defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jobflow import Job, Maker

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.jobs.mtp import fit_mtp
from interfacial.mtp.basis import SUPPORTED_LEVELS
from interfacial.mtp.defaults import DEFAULT_CUTOFF, DEFAULT_LEVEL, DEFAULT_WEIGHTS
from interfacial.schemas.roles import Role, tag


@dataclass
class MTPFitMaker(Maker):
    """Fit an MTP to a training set and measure it on validation sets.

    Parameters
    ----------
    name : str
        Job name prefix.
    engine : str
        Registered engine name ('motep', 'mlp').
    engine_options : dict
        Options of the engine (e.g. ``max_iter`` for motep, ``command`` for mlp).
    level : int
        lev_max of the basis (the study: 10).
    cutoff : float
        Cutoff radius (A; the study: 5).
    weights : list of float
        Energy : force : stress weights (the study: 100 : 10 : 1), recorded as given.
    seed : int
        Random seed of subsampling and of the fit.
    max_training : int or None
        Subsample the training set to at most this many configurations (None: all).

    """

    name: str = "mtp fit"
    engine: str = "motep"
    engine_options: dict[str, Any] = field(default_factory=dict)
    level: int = DEFAULT_LEVEL
    cutoff: float = DEFAULT_CUTOFF
    weights: list[float] = field(default_factory=lambda: list(DEFAULT_WEIGHTS))
    seed: int = 0
    max_training: int | None = None

    def __post_init__(self) -> None:
        """Validate before any job exists."""
        # Unknown engine (listing the registered ones) or option: a clear error, now.
        engines.get("fit", self.engine).build(self.engine_options)
        if self.level not in SUPPORTED_LEVELS:
            raise InterfacialError(
                f"level {self.level} is not available; choose one of {list(SUPPORTED_LEVELS)}"
            )
        if not 2.0 <= self.cutoff <= 10.0:
            raise InterfacialError(f"cutoff {self.cutoff} A is outside [2, 10] A")
        if len(self.weights) != 3 or min(self.weights) < 0 or max(self.weights) <= 0:
            raise InterfacialError(f"weights {self.weights} must be three non-negative numbers")
        if self.max_training is not None and self.max_training < 2:
            raise InterfacialError("max_training must be at least 2 configurations")

    def make(
        self,
        training_cfg: Any,
        species_order: Any,
        system: str,
        validation_cfg: dict[str, Any] | None = None,
        initial: Any = None,
    ) -> Job:
        """A fit job; .cfg texts and the species order may be outputs of earlier jobs.

        ``initial``: a potential (``MTPPotential.as_dict()`` or an earlier fit's output) to
        start from, as a refit after active learning does; None starts afresh.
        """
        job_ = fit_mtp(
            training_cfg,
            validation_cfg or {},
            list(species_order) if isinstance(species_order, list | tuple) else species_order,
            system,
            self.engine,
            dict(self.engine_options),
            self.level,
            self.cutoff,
            list(self.weights),
            self.seed,
            self.max_training,
            initial,
        )
        job_.name = f"{self.name} {system} level {self.level}"
        return tag(job_, Role.MTP_FIT, system=system, engine=self.engine, level=self.level)


@dataclass
class MotepFitMaker(MTPFitMaker):
    """The embedded engine: motep, a Python implementation of MTP (no binary needed)."""

    engine: str = "motep"


@dataclass
class MLPFitMaker(MTPFitMaker):
    """MLIP's ``mlp train`` (clusters); ``engine_options`` = {'command': ..., 'mpi_prefix': ...}."""

    engine: str = "mlp"
