"""Reference MD: the training and validation data of MTP fits ("AIMD" when the engine is DFT).

structure -> optional near-cubic supercell -> optional ion vacancies (seeded, charged cell) ->
one training run (ramp to ``temperature``, then NVT production) and one validation run per
validation temperature. Each run is made by the nested ``md_maker`` (one job for a force field,
ramp + production + summary for VASP) and ends in a ReferenceMDDocument whose snapshots sit in
the JobStore's "data" store.

Defaults are the study's: 1000 K, 2 fs, 2 ps ramp (1000 steps), 14 ps production (7000 steps,
one snapshot per step), validation at 300 K and 500 K for 4 ps (2000 steps).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from jobflow import Flow, Job, Maker

from interfacial.errors import InterfacialError
from interfacial.jobs.reference_md import ReferenceMDRun
from interfacial.schemas.reference_md import VacancyInfo
from interfacial.structures.defects import check_cell_options, maker_cell

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass
class ReferenceMDMaker(Maker):
    """Code-agnostic reference MD workflow.

    Parameters
    ----------
    name : str
        Flow name.
    md_maker : Maker
        Engine maker: ``md_maker.make(structure, run)`` returns a Job or Flow whose output is a
        ReferenceMDDocument (see :mod:`interfacial.jobs.reference_md`).
    calculator : str
        Label of the reference calculator stored in every document.
    temperature : float
        Training temperature (K).
    ramp_start_temperature : float
        Start of every ramp and temperature of the initial velocities (K).
    time_step : float
        Time step (fs).
    ramp_steps : int
        Ramp steps of the training run (2 ps / 2 fs = 1000).
    production_steps : int
        Production steps of the training run (14 ps = 7000).
    snapshot_interval : int
        A snapshot every this many production steps (training and validation).
    validation_temperatures : list of float
        One validation run per temperature (K).
    validation_steps : int
        Production steps of each validation run (4 ps = 2000).
    validation_ramp_steps : int, optional
        Ramp steps of the validation runs; default ``ramp_steps``.
    vacancy_element : str, optional
        Element whose ions are removed (e.g. "Li"); None: no vacancies.
    vacancy_count, vacancy_fraction : int or float, optional
        Exactly one when ``vacancy_element`` is given (see
        :func:`~interfacial.structures.defects.remove_ions`).
    vacancy_seed : int
        Seed of the vacancy positions.
    vacancy_region : {None, "interface"}
        Restrict vacancies to the interface region of an interface model.
    region_width : float, optional
        Half-width of the interface region (A).
    supercell_atoms : int, optional
        Repeat the structure to a near-cubic supercell of about this many atoms first.
    velocity_seed : int
        Seed of the initial velocities (run i uses ``velocity_seed + i``).

    """

    name: str = "reference md"
    md_maker: Maker | None = None
    calculator: str = "unknown"
    temperature: float = 1000.0
    ramp_start_temperature: float = 300.0
    time_step: float = 2.0
    ramp_steps: int = 1000
    production_steps: int = 7000
    snapshot_interval: int = 1
    validation_temperatures: list[float] = field(default_factory=lambda: [300.0, 500.0])
    validation_steps: int = 2000
    validation_ramp_steps: int | None = None
    vacancy_element: str | None = None
    vacancy_count: int | None = None
    vacancy_fraction: float | None = None
    vacancy_seed: int = 0
    vacancy_region: Literal["interface"] | None = None
    region_width: float | None = None
    supercell_atoms: int | None = None
    velocity_seed: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate what a run would otherwise trip over hours later."""
        if self.md_maker is None:
            raise InterfacialError(
                "ReferenceMDMaker needs md_maker; use ForceFieldReferenceMDMaker or "
                "VaspReferenceMDMaker for ready-made defaults"
            )
        temperatures = [
            self.temperature,
            self.ramp_start_temperature,
            *self.validation_temperatures,
        ]
        if not all(math.isfinite(t) and t > 0 for t in temperatures):
            raise InterfacialError(f"temperatures must be positive (K), got {temperatures}")
        if not (math.isfinite(self.time_step) and 0 < self.time_step <= 10):
            raise InterfacialError(f"time_step {self.time_step} fs is outside (0, 10]")
        if self.snapshot_interval < 1:
            raise InterfacialError("snapshot_interval must be at least 1 step")
        for label, steps in (
            ("production_steps", self.production_steps),
            ("validation_steps", self.validation_steps),
        ):
            if steps < self.snapshot_interval:
                raise InterfacialError(
                    f"{label} {steps} is below snapshot_interval {self.snapshot_interval}: "
                    "the run would yield no snapshot"
                )
        if self.ramp_steps < 0 or (self.validation_ramp_steps or 0) < 0:
            raise InterfacialError("ramp steps cannot be negative")
        check_cell_options(self)

    def prepare(self, structure: Structure) -> tuple[Structure, list[VacancyInfo]]:
        """The simulated cell: supercell, then vacancies (pure and seeded)."""
        cell, vacancy = maker_cell(self, structure)
        return cell, [] if vacancy is None else [VacancyInfo(**vacancy)]

    def runs(self, system: str, vacancies: list[VacancyInfo]) -> list[ReferenceMDRun]:
        """The training run then one validation run per validation temperature."""
        common = {
            "system": system,
            "ramp_start_temperature": self.ramp_start_temperature,
            "time_step": self.time_step,
            "snapshot_interval": self.snapshot_interval,
            "calculator": self.calculator,
            "vacancies": vacancies,
        }
        validation_ramp = (
            self.ramp_steps if self.validation_ramp_steps is None else self.validation_ramp_steps
        )
        runs = [
            ReferenceMDRun(
                purpose="training",
                temperature=self.temperature,
                ramp_steps=self.ramp_steps,
                production_steps=self.production_steps,
                velocity_seed=self.velocity_seed,
                **common,
            )
        ]
        runs.extend(
            ReferenceMDRun(
                purpose="validation",
                temperature=float(t),
                ramp_steps=validation_ramp,
                production_steps=self.validation_steps,
                velocity_seed=self.velocity_seed + i,
                **common,
            )
            for i, t in enumerate(self.validation_temperatures, start=1)
        )
        return runs

    def make(self, structure: Structure, label: str | None = None) -> Flow:
        """Build the flow for one structure (a bulk cell or an interface model).

        Parameters
        ----------
        structure : Structure
            Start configuration (relaxed with the reference calculator, ideally).
        label : str, optional
            System label; default the reduced formula.

        Returns
        -------
        Flow
            Output ``{"training": doc, "validation": [doc, ...]}`` (ReferenceMDDocuments).

        """
        assert self.md_maker is not None
        system = label or structure.composition.reduced_formula
        cell, vacancies = self.prepare(structure)
        steps: list[Job | Flow] = [
            self.md_maker.make(cell, run) for run in self.runs(system, vacancies)
        ]
        return Flow(
            steps,
            output={"training": steps[0].output, "validation": [s.output for s in steps[1:]]},
            name=f"{self.name} {system}",
        )
