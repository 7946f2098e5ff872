"""The runs of the reference MD flow and the naming of their jobs (code-agnostic).

One *run* is a ramp to a target temperature followed by NVT production with a labelled snapshot
every ``snapshot_interval`` steps (see :class:`ReferenceMDRun`). An engine maker turns a run into
a Job or a Flow whose output is a :class:`~interfacial.schemas.reference_md.ReferenceMDDocument`
with the snapshots in the "data" store: one job for a force field
(:mod:`interfacial.forcefields.md`), ramp, production and summary jobs for VASP
(:mod:`interfacial.vasp.md`).

Grouping keys for builders go into each summary job's ``metadata['interfacial']``
(:func:`tag_run`): ``role`` ("reference_md"), ``purpose`` ("training" / "validation"),
``temperature`` (K), ``system``, ``calculator``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from interfacial.schemas.reference_md import TemperatureSchedule, VacancyInfo
from interfacial.schemas.roles import Role, tag

if TYPE_CHECKING:
    from jobflow import Job


class ReferenceMDRun(BaseModel):
    """Settings of one reference MD run (JSON-serialisable: travels through FireWorks).

    Attributes
    ----------
    system : str
        System label (e.g. "Li2S").
    purpose : {"training", "validation"}
        What the snapshots are for.
    temperature : float
        Production temperature (K), reached at the end of the ramp.
    ramp_start_temperature : float
        First ramp target and temperature of the initial velocities (K).
    time_step : float
        Time step (fs).
    ramp_steps, production_steps : int
        Steps of the ramp and of production.
    snapshot_interval : int
        A snapshot every this many production steps.
    velocity_seed : int
        Seed of the initial Maxwell-Boltzmann velocities (engines that accept one).
    calculator : str
        Label of the reference calculator.
    vacancies : list[VacancyInfo]
        Ions removed from the structure before the run.

    """

    system: str
    purpose: Literal["training", "validation"]
    temperature: float
    ramp_start_temperature: float
    time_step: float
    ramp_steps: int = Field(ge=0)
    production_steps: int = Field(ge=1)
    snapshot_interval: int = Field(ge=1)
    velocity_seed: int = 0
    calculator: str = "unknown"
    vacancies: list[VacancyInfo] = Field(default_factory=list)

    @property
    def label(self) -> str:
        """Deterministic, unique within a flow: 'Li2S training 1000 K'."""
        return f"{self.system} {self.purpose} {self.temperature:g} K"

    @property
    def n_snapshots(self) -> int:
        """Snapshots the run yields: ``production_steps // snapshot_interval``."""
        return self.production_steps // self.snapshot_interval

    def summary_fields(self) -> dict[str, Any]:
        """The run's settings as ReferenceMDDocument fields."""
        ramp_start = self.ramp_start_temperature if self.ramp_steps else self.temperature
        return {
            "system": self.system,
            "purpose": self.purpose,
            "temperatures": TemperatureSchedule(
                ramp_start=ramp_start, ramp_end=self.temperature, production=self.temperature
            ),
            "time_step": self.time_step,
            "ramp_steps": self.ramp_steps,
            "production_steps": self.production_steps,
            "snapshot_interval": self.snapshot_interval,
            "calculator": self.calculator,
            "vacancies": list(self.vacancies),
        }

    def keys(self) -> dict[str, Any]:
        """Grouping keys of the run's summary job (``metadata['interfacial']``)."""
        return {
            "purpose": self.purpose,
            "temperature": self.temperature,
            "system": self.system,
            "calculator": self.calculator,
        }


def tag_run(job_: Job, run: ReferenceMDRun, prefix: str) -> Job:
    """Name the summary job of a run ('<prefix> Li2S training 1000 K') and tag it."""
    job_.name = f"{prefix} {run.label}"
    return tag(job_, Role.REFERENCE_MD, **run.keys())
