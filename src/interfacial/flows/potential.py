"""Learn a moment tensor potential: reference MD -> fit -> validation -> active learning.

Code-agnostic: the reference MD maker, the fit maker (engine) and the labelling maker (the
reference calculator's single point) are fields; a calculator engine's
``learn_potential_maker`` fills them (:mod:`interfacial.engines`), e.g.
``ForceFieldLearnPotentialMaker`` (CHGNet reference, motep fits) or ``VaspLearnPotentialMaker``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobflow import Flow, Maker

from interfacial.errors import InterfacialError
from interfacial.jobs.deferred import deferred_flow
from interfacial.jobs.potential import active_learning_round, training_sets
from interfacial.mtp.defaults import SELECT_THRESHOLD
from interfacial.routing import routes_its_children
from interfacial.schemas.roles import Role, tag

if TYPE_CHECKING:
    from jobflow import OutputReference
    from pymatgen.core import Structure


@dataclass
class LearnPotentialMaker(Maker):
    """Reference MD, an MTP fit validated at other temperatures, then active-learning rounds.

    Parameters
    ----------
    name : str
        Flow name.
    reference_md_maker : Maker
        A ReferenceMDMaker (training run + validation runs).
    fit_maker : Maker
        An MTPFitMaker (engine, level, cutoff, weights, subsampling).
    label_maker : Maker
        Single point of the reference calculator; its job's output has ``structure`` and
        ``output.energy`` (eV) / ``output.forces`` (eV/A).
    max_rounds : int
        Active-learning rounds at most (0: fit only).
    al_temperature : float
        Temperature of the exploring MD with the fitted potential (K).
    al_steps, al_interval : int
        Steps of each exploring run and the interval of the graded snapshots.
    al_time_step : float
        fs.
    grade_threshold : float
        MaxVol grade above which a configuration is labelled (> 1).
    max_selected : int
        Configurations labelled per round at most.

    """

    name: str = "learn potential"
    reference_md_maker: Maker | None = None
    fit_maker: Maker | None = None
    label_maker: Maker | None = None
    max_rounds: int = 2
    al_temperature: float = 1000.0
    al_steps: int = 2000
    al_interval: int = 20
    al_time_step: float = 1.0
    grade_threshold: float = SELECT_THRESHOLD
    max_selected: int = 10
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate before any job exists."""
        if None in (self.reference_md_maker, self.fit_maker, self.label_maker):
            raise InterfacialError(
                "LearnPotentialMaker needs reference_md_maker, fit_maker and label_maker; use "
                "ForceFieldLearnPotentialMaker or VaspLearnPotentialMaker for ready-made defaults"
            )
        if self.max_rounds < 0 or self.al_steps < self.al_interval or self.al_interval < 1:
            raise InterfacialError("max_rounds >= 0 and al_steps >= al_interval >= 1 are needed")
        if self.grade_threshold <= 1.0:
            raise InterfacialError("grade_threshold must exceed 1 (1 is the training domain)")

    def make(self, structure: Structure | OutputReference, label: str | None = None) -> Flow:
        """Build the flow for one system (bulk cell or interface model).

        ``structure`` may be the output of an earlier job (e.g. the lowest relaxed model of an
        interface flow in the same workflow): the flow is then built by a job once that
        structure exists (the supercell and the vacancies need the cell), and ``label`` is
        required.
        """
        from jobflow import OutputReference

        assert self.reference_md_maker is not None and self.fit_maker is not None
        if isinstance(structure, OutputReference):
            if not label:
                raise InterfacialError("a structure made by an earlier job needs a system label")
            return deferred_flow(self, structure, f"{self.name} {label}", label)
        system = label or structure.composition.reduced_formula
        reference = self.reference_md_maker.make(structure, system)
        # Subsample once, before the first fit; later fits keep every configuration.
        sets = training_sets(
            reference.output,
            getattr(self.fit_maker, "max_training", None),
            getattr(self.fit_maker, "seed", 0),
        )
        sets.name = f"training sets {system}"
        tag(sets, Role.TRAINING_SETS, system=system)
        fit_maker = (
            dataclasses.replace(self.fit_maker, max_training=None)  # type: ignore[call-arg]
            if dataclasses.is_dataclass(self.fit_maker) and hasattr(self.fit_maker, "max_training")
            else self.fit_maker
        )
        fit = fit_maker.make(
            sets.output["training_cfg"],
            sets.output["species_order"],
            system,
            sets.output["validation_cfg"],
        )
        options: dict[str, Any] = {
            "temperature": self.al_temperature,
            "steps": self.al_steps,
            "interval": self.al_interval,
            "time_step": self.al_time_step,
            "threshold": self.grade_threshold,
            "max_selected": self.max_selected,
            "max_rounds": self.max_rounds,
        }
        learning = active_learning_round(
            fit.output,
            sets.output,
            sets.output["training_cfg"],
            fit_maker,
            self.label_maker,
            options,
            0,
            [],
        )
        learning.name = f"active learning {system} round 0"
        tag(learning, Role.ACTIVE_LEARNING, system=system, round=0)
        # A round creates labels (reference calculator), a refit and the next round: it routes
        # them by kind itself instead of passing its own route on.
        routes_its_children(learning)
        return Flow(
            [reference, sets, fit, learning], output=learning.output, name=f"{self.name} {system}"
        )
