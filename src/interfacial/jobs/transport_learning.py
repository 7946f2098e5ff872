"""Active learning on the transport cell itself, before production MD.

A potential validated on small reference cells can still meet, in a transport cell of hundreds
of atoms, environments it never saw (the demo's potential lost atoms within 2 ps at 1000 K in a
95-atom cell). Each round of :func:`transport_learning_round`:

1. runs a short NVT MD of the transport cell with the current potential, grading every atom's
   neighbourhood (MaxVol, :func:`interfacial.mtp.active.explore_neighbourhoods`);
2. picks the worst neighbourhoods (:func:`interfacial.mtp.neighbourhoods.select_neighbourhoods`)
   and cuts each into a cluster the reference calculator can afford
   (:func:`interfacial.mtp.neighbourhoods.cut_neighbourhood`, as MLIP's
   ``cut_extrapolative_nbh``);
3. labels the clusters with the reference calculator (role ``al_label``), appends them to the
   potential's training set, refits (role ``mtp_fit``, system ``<system>-al``, with the
   potential's own level, cutoff and weights) and runs the next round.

It stops when the exploring MD completes with no grade above the threshold, or after
``max_rounds`` refits; its output is the potential production uses, its training set and the
record stored with every D* document. An exploring MD that breaks off (non-finite dynamics)
with no grade above the threshold has its last frame's worst neighbourhood labelled: the
failure itself shows the potential extrapolates there.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import Flow, Job, Maker, Response, job

from interfacial import engines
from interfacial.errors import InterfacialError
from interfacial.routing import route_created, routes_its_children
from interfacial.schemas.diffusion import (
    LabelledNeighbourhood,
    TransportLearning,
    TransportLearningRound,
)
from interfacial.schemas.roles import Role, tag

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Suffix of the system label under which refitted potentials are stored (``store:SYS-al``).
REFIT_SUFFIX = "-al"


def refit_maker(fit_maker: Maker, potential: Any) -> Maker:
    """``fit_maker`` with the potential's level, cutoff and weights: a refit, not a new model.

    The refit starts from the potential's coefficients (``make(..., initial=)``).

    The fit engine and its options stay the maker's (the worker's ``mlp`` on clusters, motep
    embedded); the training set is never subsampled again (labels must not be dropped).
    """
    if not dataclasses.is_dataclass(fit_maker) or not hasattr(fit_maker, "level"):
        return fit_maker
    changes: dict[str, Any] = {
        "level": potential.level,
        "cutoff": potential.cutoff,
        "max_training": None,
    }
    if potential.weights is not None:
        changes["weights"] = list(potential.weights)
    return dataclasses.replace(fit_maker, **changes)


# The training set (.cfg text) is data: it goes to the JobStore's data store.
@job(data=["training"])
def transport_learning_round(
    structure: Structure,
    potential: Any,
    training: dict[str, Any],
    *,
    system: str,
    options: dict[str, Any],
    label_maker: Maker,
    fit_maker: Maker,
    round_index: int = 0,
    history: list[dict[str, Any]] | None = None,
) -> Response | dict[str, Any]:
    """Explore the transport cell with ``potential``; label, add and refit if it extrapolates.

    Parameters
    ----------
    structure : Structure
        The transport cell (after supercell and vacancies).
    potential : dict or MTPPotential
        The potential to explore with (``MTPPotential.as_dict()`` or the object).
    training : dict
        ``{"cfg": .cfg text, "source": str}``: the potential's training set (labelled).
    system : str
        System label of the transport documents.
    options : dict
        temperature (K), time_step (fs), steps, interval (steps between graded frames),
        threshold (grade), max_selected, max_rounds, margin and vacuum (A), whole_cell
        (label selected frames whole instead of cut clusters), seed.
    label_maker, fit_maker : Maker
        The reference calculator's single point and the MTP fit maker.
    round_index : int
        This round (0 first).
    history : list of dict
        The records of the earlier rounds.

    Returns
    -------
    dict or Response
        ``{"potential", "training", "record"}`` when done; else a replacement flow of labels,
        the merged training set, the refit and the next round.

    """
    from ase import Atoms
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.jobs.mtp import configurations_from_cfg
    from interfacial.jobs.potential import merge_labels
    from interfacial.mtp.neighbourhoods import cut_neighbourhood, select_neighbourhoods
    from interfacial.mtp.potential import MTPPotential

    mtp = potential if isinstance(potential, MTPPotential) else MTPPotential.from_dict(potential)
    order = list(mtp.species_order)
    missing = sorted({el.symbol for el in structure.composition.elements} - set(order))
    if missing:
        raise InterfacialError(
            f"the potential knows {order} but the cell has {missing}: fit a potential on this "
            "chemistry"
        )
    configurations = configurations_from_cfg(training["cfg"], order, "the training set")
    start = Atoms(
        symbols=[site.specie.symbol for site in structure],
        positions=structure.cart_coords,
        cell=structure.lattice.matrix,
        pbc=True,
    )
    # motep explores and grades a potential of any fit engine (the .mtp layout is the same).
    explorer = engines.get("fit", "motep").build()
    frames, steps, grades, ended = explorer.explore(
        mtp,
        configurations,
        start,
        temperature=options["temperature"],
        time_step=options["time_step"],
        steps=options["steps"],
        interval=options["interval"],
        seed=options.get("seed", 0) + round_index,
        per_neighbourhood=True,
    )
    selected = select_neighbourhoods(
        grades, frames, options["threshold"], options["max_selected"], exclusion=mtp.cutoff
    )
    if not selected and ended != "completed" and grades:
        # The MD broke off between graded frames with no grade above the threshold: the last
        # frame before it is the evidence of extrapolation, so its worst atom is labelled.
        selected = [(len(grades) - 1, int(np.argmax(grades[-1])))]
    if options.get("whole_cell"):
        # A reference that affords the transport cell labels each selected frame whole.
        clusters = [frames[f] for f, _ in selected]
    else:
        clusters = [
            cut_neighbourhood(frames[f], a, mtp.cutoff, options["margin"], options["vacuum"])
            for f, a in selected
        ]
    record = TransportLearningRound(
        round=round_index,
        potential_sha256=mtp.sha256,
        temperature=options["temperature"],
        md_steps=steps[-1] if steps else 0,
        md_ended=ended,
        n_graded=len(grades),
        max_grade=max((float(np.max(g)) for g in grades), default=0.0),
        grade_threshold=options["threshold"],
        n_training=len(configurations),
        n_labelled=len({f for f, _ in selected}) if options.get("whole_cell") else len(selected),
        labelled=[
            LabelledNeighbourhood(
                step=steps[f], atom=a, grade=float(grades[f][a]), n_atoms=len(cluster)
            )
            for (f, a), cluster in zip(selected, clusters, strict=True)
        ],
    )
    history = [*(history or []), record.model_dump()]
    if not selected or round_index >= options["max_rounds"]:
        return {
            "potential": mtp.as_dict(),
            "training": training,
            "record": TransportLearning(
                rounds=[TransportLearningRound.model_validate(r) for r in history],
                max_rounds=options["max_rounds"],
                converged=not selected and ended == "completed",
                initial_potential_sha256=history[0]["potential_sha256"],
                production_potential_sha256=mtp.sha256,
                refit_system=f"{system}{REFIT_SUFFIX}",
            ).model_dump(),
        }

    labels = []
    labelled_frames: set[int] = set()
    for (f, a), cluster in zip(selected, clusters, strict=True):
        if options.get("whole_cell"):
            if f in labelled_frames:
                continue  # two neighbourhoods of one frame: the frame is labelled once
            labelled_frames.add(f)
            where = f"step {steps[f]} (whole cell)"
        else:
            where = f"step {steps[f]} atom {a}"
        label = label_maker.make(AseAtomsAdaptor.get_structure(cluster))
        label.name = f"label {system} transport round {round_index} {where}"
        labels.append(tag(label, Role.AL_LABEL, round=round_index))
    merged = merge_labels(training["cfg"], [lab.output for lab in labels], order)
    merged.name = f"add labels {system} transport round {round_index}"
    refit = refit_maker(fit_maker, mtp).make(
        merged.output, order, f"{system}{REFIT_SUFFIX}", {}, initial=mtp.as_dict()
    )
    refit.name = f"{refit.name} round {round_index + 1}"
    following = transport_learning_round(
        structure,
        refit.output.potential,
        {
            "cfg": merged.output,
            "source": f"{training.get('source', 'given')} + {len(selected)} neighbourhoods of "
            f"the {system} transport cell (round {round_index})",
        },
        system=system,
        options=options,
        label_maker=label_maker,
        fit_maker=fit_maker,
        round_index=round_index + 1,
        history=history,
    )
    following.name = f"transport learning {system} round {round_index + 1}"
    tag(following, Role.TRANSPORT_LEARNING, system=system, round=round_index + 1)
    routes_its_children(following)
    jobs: list[Job | Flow] = [*labels, merged, refit, following]
    route_created(jobs)  # labels to the reference calculator's queue, the refit to the fit's
    return Response(replace=Flow(jobs, output=following.output))
