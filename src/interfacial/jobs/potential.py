"""Jobs that turn reference MD into a validated potential and improve it by active learning.

reference MD (training + validation runs) -> training sets (.cfg text) -> MTP fit -> active
learning rounds: MD with the fitted potential, MaxVol grades against the training set, the
worst configurations labelled by the reference calculator (any maker whose job returns a task
document with ``structure`` and ``output.energy`` / ``output.forces``, as atomate2's force-field
and VASP static makers do), added to the training set, refit; at most ``max_rounds`` rounds.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.calculators.singlepoint import SinglePointCalculator
from jobflow import Flow, Job, Maker, Response, job
from pydantic import BaseModel, Field

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.routing import route_created, routes_its_children
from interfacial.schemas.roles import Role, tag
from interfacial.schemas.surface import utcnow


def _snapshots_atoms(document: Any) -> list[Atoms]:
    from interfacial.schemas.reference_md import MDSnapshots

    data = document if isinstance(document, dict) else document.model_dump()
    snapshots = data.get("snapshots")
    if not isinstance(snapshots, dict | MDSnapshots):
        raise InterfacialError("the reference MD snapshots were not loaded from the data store")
    return MDSnapshots.model_validate(snapshots).to_atoms()


def cfg_text(configurations: Sequence[Atoms], species_order: list[str]) -> str:
    """MLIP .cfg text of labelled configurations."""
    from interfacial.mtp.cfg import write_cfg

    with tempfile.TemporaryDirectory() as folder:
        return write_cfg(configurations, Path(folder) / "set.cfg", species_order).read_text()


def _temperature_label(document: Any) -> str:
    data = document if isinstance(document, dict) else document.model_dump()
    return f"{data['temperatures']['production']:g} K"


# The .cfg texts are training data: they go to the JobStore's data store, never the docs store.
@job(data=["training_cfg", "validation_cfg"])
def training_sets(
    reference: dict[str, Any], max_training: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Job of :func:`make_training_sets`."""
    return make_training_sets(reference, max_training, seed)


def make_training_sets(
    reference: dict[str, Any], max_training: int | None = None, seed: int = 0
) -> dict[str, Any]:
    """Return the .cfg text of the training run and of each validation run.

    The training run is subsampled once, here, so that configurations added by active learning
    are never dropped by a later subsampling.
    """
    from interfacial.jobs.mtp import subsample

    training = reference["training"]
    data = training if isinstance(training, dict) else training.model_dump()
    order = list(data["species_order"])
    snapshots = _snapshots_atoms(training)
    return {
        "species_order": order,
        "n_snapshots": len(snapshots),
        "training_cfg": cfg_text(subsample(snapshots, max_training, seed), order),
        "validation_cfg": {
            _temperature_label(doc): cfg_text(_snapshots_atoms(doc), order)
            for doc in reference["validation"]
        },
        "start_structure": data["structure"],
    }


class ActiveLearningRound(BaseModel):
    """One round: what MD with the current potential found, what was added, how errors moved."""

    round: int
    potential_sha256: str
    md_temperature: float = Field(description="K")
    md_steps: int
    md_ended: str = Field(description="completed / grade above break threshold / non-finite")
    n_graded: int
    max_grade: float
    grade_threshold: float
    n_selected: int
    selected_steps: list[int] = Field(default_factory=list)
    n_training_before: int
    training_errors: dict[str, Any]
    validation_errors: dict[str, Any]
    converged: bool = Field(description="No configuration above the threshold")
    last_updated: Any = Field(default_factory=utcnow)


# The final fit's training set (.cfg text) is data: it goes to the JobStore's data store.
@job(data=["training_cfg"])
def active_learning_round(
    fit: dict[str, Any],
    sets: dict[str, Any],
    training_cfg: str,
    fit_maker: Maker,
    label_maker: Maker,
    options: dict[str, Any],
    round_index: int,
    history: list[dict[str, Any]],
) -> Response | dict[str, Any]:
    """Explore with the fitted potential; label, add and refit if it extrapolates."""
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.jobs.mtp import configurations_from_cfg
    from interfacial.mtp.potential import MTPPotential
    from interfacial.mtp.selection import select_for_labelling

    fit = fit.model_dump() if hasattr(fit, "model_dump") else fit
    potential = fit["potential"]
    if isinstance(potential, dict):
        potential = MTPPotential.from_dict(potential)
    order = list(sets["species_order"])
    training = configurations_from_cfg(training_cfg, order)
    start = AseAtomsAdaptor.get_atoms(_structure(sets["start_structure"]))
    engine = engines.get("fit", potential.engine).build()
    frames, steps, grades, ended = engine.explore(
        potential,
        training,
        start,
        temperature=options["temperature"],
        time_step=options["time_step"],
        steps=options["steps"],
        interval=options["interval"],
        seed=round_index,
    )
    selected = select_for_labelling(
        list(grades), options["threshold"], options["max_selected"], min_separation=1
    )
    summary = ActiveLearningRound(
        round=round_index,
        potential_sha256=potential.sha256,
        md_temperature=options["temperature"],
        md_steps=options["steps"],
        n_graded=len(grades),
        max_grade=float(np.max(grades)) if len(grades) else 0.0,
        grade_threshold=options["threshold"],
        n_selected=len(selected),
        selected_steps=[steps[i] for i in selected],
        md_ended=ended,
        n_training_before=len(training),
        training_errors=fit["training_errors"],
        validation_errors=fit["validation_errors"],
        converged=not selected,
    ).model_dump()
    history = [*history, summary]
    if not selected or round_index >= options["max_rounds"]:
        return {"rounds": history, "final_fit": {k: v for k, v in fit.items() if k != "parity"}}

    labels = []
    charge = float(_structure(sets["start_structure"]).charge or 0.0)
    for i in selected:
        # A copy carries no calculator: the label job starts from positions only.
        structure = AseAtomsAdaptor.get_structure(frames[i].copy())
        structure.set_charge(charge)  # the labels see the cell the reference MD saw
        label = label_maker.make(structure)
        label.name = f"label {round_index} step {steps[i]}"
        labels.append(tag(label, Role.AL_LABEL, round=round_index))
    merged = merge_labels(training_cfg, [lab.output for lab in labels], order)
    merged.name = f"add labels round {round_index}"
    # The refit starts from this round's potential, as MLIP's active learning does.
    refit = fit_maker.make(
        merged.output, order, fit["system"], sets["validation_cfg"], initial=fit["potential"]
    )
    refit.name = f"{refit.name} round {round_index + 1}"
    following = active_learning_round(
        refit.output,
        sets,
        merged.output,
        fit_maker,
        label_maker,
        options,
        round_index + 1,
        history,
    )
    following.name = f"active learning round {round_index + 1}"
    tag(following, Role.ACTIVE_LEARNING, round=round_index + 1)
    routes_its_children(following)
    jobs: list[Job | Flow] = [*labels, merged, refit, following]
    route_created(jobs)  # labels to the reference calculator's queue, the refit to the fit's
    return Response(replace=Flow(jobs, output=following.output))


@job(data=True)
def merge_labels(training_cfg: str, labels: list[Any], species_order: list[str]) -> str:
    """The training set with the labelled configurations appended (.cfg text)."""
    from pymatgen.io.ase import AseAtomsAdaptor

    added = []
    for label in labels:
        data = label if isinstance(label, dict) else label.model_dump()
        atoms = AseAtomsAdaptor.get_atoms(_structure(data["structure"]))
        energy = float(data["output"]["energy"])
        forces = np.asarray(data["output"]["forces"], dtype=float)
        if not np.all(np.isfinite(forces)) or not np.isfinite(energy):
            raise InterfacialError("a labelling calculation returned non-finite energy or forces")
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        added.append(atoms)
    return training_cfg.rstrip("\n") + "\n\n" + cfg_text(added, species_order)


def _structure(value: Any) -> Any:
    """A pymatgen Structure from a stored dict or an already decoded object."""
    from pymatgen.core import Structure

    return value if isinstance(value, Structure) else Structure.from_dict(value)
