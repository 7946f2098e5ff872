"""The MTP fit job: subsample, fit with an engine, measure errors on training and validation sets.

Training and validation sets travel as MLIP ``.cfg`` text (engine-neutral, explicit species
order); the fitted potential and the parity data go to the JobStore's data store.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import job

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.schemas.mtp import FitErrors, MTPFitDocument, ParitySet

if TYPE_CHECKING:
    from ase import Atoms

    from interfacial.mtp.potential import MTPPotential


def configurations_from_cfg(
    text: str, species_order: Sequence[str], source: str = "the .cfg text"
) -> list[Atoms]:
    """Parse ``.cfg`` text; errors name it ``source`` (never the temporary file it is read from)."""
    from interfacial.mtp.cfg import read_cfg

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "set.cfg"
        path.write_text(text, encoding="utf-8")
        return read_cfg(path, species_order, source=source)


def subsample(configurations: list[Atoms], size: int | None, seed: int) -> list[Atoms]:
    """At most ``size`` configurations drawn without replacement (order kept); all if None."""
    if size is None or size >= len(configurations):
        return list(configurations)
    picked = np.sort(np.random.default_rng(seed).choice(len(configurations), size, replace=False))
    return [configurations[int(i)] for i in picked]


def _errors(reference: list[Atoms], predicted: list[Atoms]) -> tuple[FitErrors, ParitySet]:
    from interfacial.mtp.metrics import errors_between, meets_targets

    errors = errors_between(reference, predicted)
    if not all(math.isfinite(errors[k]) for k in ("energy_rmse", "force_rmse")):
        raise InterfacialError("the fitted potential predicts NaN or infinite values: fit diverged")
    parity = ParitySet(
        energy_reference=[a.get_potential_energy() / len(a) for a in reference],
        energy_predicted=[a.get_potential_energy() / len(a) for a in predicted],
        force_reference=np.concatenate([a.get_forces().ravel() for a in reference]).tolist(),
        force_predicted=np.concatenate([a.get_forces().ravel() for a in predicted]).tolist(),
    )
    return FitErrors(**errors, meets_targets=meets_targets(errors)), parity


@job(output_schema=MTPFitDocument, data=["potential", "parity", "training_cfg"])
def fit_mtp(
    training_cfg: str,
    validation_cfg: dict[str, str],
    species_order: list[str],
    system: str,
    engine_name: str,
    engine_options: dict[str, Any],
    level: int,
    cutoff: float,
    weights: list[float],
    seed: int,
    max_training: int | None,
    initial: dict[str, Any] | MTPPotential | None = None,
) -> MTPFitDocument:
    """Fit a potential and measure it; fails (nothing stored) on bad data or a diverged fit.

    ``initial`` (``MTPPotential.as_dict()``) starts the fit from that potential's coefficients
    (a refit after active learning) when its radial basis covers the training set, else the
    fit starts afresh; the document's ``initial_potential_sha256`` says which.
    """
    from interfacial.mtp.basis import basis_covers
    from interfacial.mtp.cfg import check_training_set
    from interfacial.mtp.metrics import predict
    from interfacial.mtp.potential import MTPPotential
    from interfacial.mtp.progress import fit_display

    available = configurations_from_cfg(training_cfg, species_order, "the training set")
    check_training_set(available, species_order, "the training set")
    training = subsample(available, max_training, seed)
    check_training_set(training, species_order, "the subsampled training set")
    engine = engines.get("fit", engine_name).build(engine_options)
    w = (float(weights[0]), float(weights[1]), float(weights[2]))
    # jobflow hands a potential's dict back as the object (it carries @class).
    start = MTPPotential.from_dict(initial) if isinstance(initial, dict) else initial
    if start is not None and not basis_covers(start, training):
        start = None  # a new pair below its radial basis: the basis must be rebuilt
    # The flow's progress display, when it has one, shows the fit's iterations.
    with fit_display(f"{system} level {level} fit") as progress:
        extra: dict[str, Any] = {"progress": progress} if progress is not None else {}
        if start is not None:
            extra["initial"] = start
        potential = engine.fit(training, species_order, level, cutoff, w, seed, Path.cwd(), **extra)
    calculator = engine.calculator(potential)
    train_errors, train_parity = _errors(training, predict(calculator, training))
    validation, parity = {}, {"train": train_parity}
    for label, text in validation_cfg.items():
        configurations = configurations_from_cfg(text, species_order, f"validation set {label}")
        validation[label], parity[label] = _errors(
            configurations, predict(calculator, configurations)
        )
    return MTPFitDocument(
        system=system,
        species_order=list(potential.species_order),
        level=potential.level,
        cutoff=potential.cutoff,
        weights=list(w),
        seed=potential.seed,
        engine=potential.engine,
        engine_version=potential.engine_version,
        potential_sha256=potential.sha256,
        n_training=len(training),
        n_training_available=len(available),
        training_errors=train_errors,
        validation_errors=validation,
        meets_targets=train_errors.meets_targets
        and all(e.meets_targets for e in validation.values()),
        potential=potential.as_dict(),
        parity=parity,
        training_cfg=training_cfg,
        initial_potential_sha256=start.sha256 if start is not None else None,
    )
