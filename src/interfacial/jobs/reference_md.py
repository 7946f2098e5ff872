"""Jobs of the reference MD flow (code-agnostic).

One *run* is a ramp to a target temperature followed by NVT production with a labelled snapshot
every ``snapshot_interval`` steps (see :class:`ReferenceMDRun`). An engine maker turns a run into
a Job or a Flow whose output is a :class:`~interfacial.schemas.reference_md.ReferenceMDDocument`
with the snapshots in the "data" store:

- force fields: one job (:mod:`interfacial.forcefields.md`);
- DFT through atomate2 (:class:`StagedMDRunMaker`): a ramp job and a production job made by a
  factory such as :func:`interfacial.vasp.flows.aimd_maker`, then :func:`staged_md_summary`,
  which turns the production trajectory into the same document.

Grouping keys for builders go into each summary job's ``metadata['interfacial']``:
``role`` ("reference_md"), ``purpose`` ("training" / "validation"), ``temperature`` (K),
``system``, ``calculator``. The engine steps of a staged run carry ``role`` "reference_md_ramp"
and "reference_md_production".
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from jobflow import Flow, Job, Maker, job
from pydantic import BaseModel, Field

from interfacial.errors import InterfacialError
from interfacial.schemas.reference_md import (
    SNAPSHOTS_FIELD,
    MDSnapshot,
    MDSnapshots,
    ReferenceMDDocument,
    TemperatureSchedule,
    VacancyInfo,
)
from interfacial.schemas.roles import Role, tag

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Conversion of VASP's stress (kBar, positive under compression) to ASE's (eV/A^3, positive in
#: tension): 1 kBar = 0.1 GPa = 1e-4 / 160.2176634 eV/A^3, with the sign flipped.
KBAR_TO_ASE_STRESS = -0.1 / 160.21766208


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


def _as_pymatgen_trajectory(trajectory: Any) -> Any:
    """A pymatgen Trajectory from what atomate2 stores (emmet or pymatgen object, or a dict)."""
    from monty.json import MontyDecoder

    if isinstance(trajectory, dict):
        trajectory = MontyDecoder().process_decoded(trajectory)
    if hasattr(trajectory, "to_pmg"):  # emmet's Trajectory
        trajectory = trajectory.to_pmg()
    if not hasattr(trajectory, "frame_properties"):
        raise InterfacialError(
            f"cannot read snapshots from a {type(trajectory).__name__}: expected the trajectory "
            "of an atomate2 MD task (store_trajectory must not be 'no')"
        )
    return trajectory


def snapshots_from_trajectory(trajectory: Any, time_step: float, interval: int) -> MDSnapshots:
    """Labelled snapshots from a VASP MD trajectory, one every ``interval`` ionic steps.

    Snapshot k (k = 1, 2, ...) is ionic step ``k x interval`` of the run (1-based), as for the
    force-field engine. Energies are VASP's free energy ``e_fr_energy`` (eV), the quantity its
    forces are derivatives of; stresses are converted from kBar (positive under compression)
    to ASE's eV/A^3 (positive in tension). VASP does not report velocities per ionic step, so
    a snapshot's temperature is NaN unless the frame carries ``temperature`` (K).

    Parameters
    ----------
    trajectory : pymatgen or emmet Trajectory, or its dict
        ``vasp_objects['trajectory']`` of an atomate2 MD task document.
    time_step : float
        Time step (fs).
    interval : int
        Ionic steps between snapshots.

    """
    traj = _as_pymatgen_trajectory(trajectory)
    n_frames = len(traj)
    symbols: list[str] | None = None
    snapshots = []
    for step in range(interval, n_frames + 1, interval):
        structure = traj.get_structure(step - 1)
        props = traj.frame_properties[step - 1]
        energy = props.get("e_fr_energy", props.get("energy", props.get("e_0_energy")))
        if energy is None or "forces" not in props:
            raise InterfacialError(f"ionic step {step} has no energy or forces to train on")
        stress = props.get("stress")
        symbols = symbols or [site.specie.symbol for site in structure]
        snapshots.append(
            MDSnapshot(
                step=step,
                time=step * time_step,
                temperature=float(props.get("temperature", np.nan)),
                cell=structure.lattice.matrix.tolist(),
                positions=structure.cart_coords.tolist(),
                energy=float(energy),
                forces=np.asarray(props["forces"], dtype=float).tolist(),
                stress=None
                if stress is None
                else _voigt(np.asarray(stress, dtype=float) * KBAR_TO_ASE_STRESS),
            )
        )
    if not snapshots:
        raise InterfacialError(f"the trajectory has {n_frames} steps, fewer than one interval")
    assert symbols is not None
    return MDSnapshots(symbols=symbols, snapshots=snapshots)


def _voigt(stress: np.ndarray) -> list[float]:
    """Voigt order xx yy zz yz xz xy of a 3x3 (or already Voigt) stress."""
    if stress.shape == (3, 3):
        return [float(stress[i, j]) for i, j in ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))]
    return [float(x) for x in stress.ravel()]


@job(output_schema=ReferenceMDDocument, data=SNAPSHOTS_FIELD)
def staged_md_summary(
    trajectory: Any,
    structure: Structure,
    run: ReferenceMDRun,
    source_uuids: list[str],
    calculator_meta: dict[str, Any] | None = None,
) -> ReferenceMDDocument:
    """Summary document + data-store snapshots from the production step of a staged run."""
    snapshots = snapshots_from_trajectory(trajectory, run.time_step, run.snapshot_interval)
    return ReferenceMDDocument.from_snapshots(
        snapshots,
        structure,
        calculator_meta=calculator_meta or {},
        source_uuids=source_uuids,
        **run.summary_fields(),
    )


def _factory(path: str) -> Any:
    """Import ``module.function`` (kept as text so that the maker stays JSON-serialisable)."""
    module, _, name = path.rpartition(".")
    try:
        return getattr(importlib.import_module(module), name)
    except (ImportError, AttributeError) as exc:
        raise InterfacialError(f"cannot import the MD stage factory {path!r}: {exc}") from exc


@dataclass
class StagedMDRunMaker(Maker):
    """A run as two engine jobs (ramp, production) and a summary job.

    Parameters
    ----------
    name : str
        Name prefix of the jobs.
    stage_factory : str
        Import path of ``f(start_temperature, end_temperature, n_steps, time_step, **kwargs)
        -> Maker`` whose job returns an atomate2 task document with ``output.structure``,
        ``dir_name`` and ``vasp_objects['trajectory']`` (e.g.
        ``"interfacial.vasp.flows.aimd_maker"``).
    stage_kwargs : dict
        Extra keyword arguments of the factory (e.g. ``vasp_cmd``).
    calculator_meta : dict
        Identity of the reference calculator, copied into the summary.

    """

    name: str = "AIMD"
    stage_factory: str = "interfacial.vasp.flows.aimd_maker"
    stage_kwargs: dict[str, Any] = field(default_factory=dict)
    calculator_meta: dict[str, Any] = field(default_factory=dict)

    def make(self, structure: Structure, run: ReferenceMDRun) -> Flow:
        """Ramp job -> production job (continuing from the ramp's folder) -> summary job."""
        factory = _factory(self.stage_factory)
        jobs: list[Job] = []
        start, prev_dir = structure, None
        if run.ramp_steps:
            ramp = factory(
                run.ramp_start_temperature,
                run.temperature,
                run.ramp_steps,
                run.time_step,
                **self.stage_kwargs,
            ).make(structure)
            ramp.name = f"{self.name} ramp {run.label}"
            tag(ramp, Role.REFERENCE_MD_RAMP, **run.keys())
            jobs.append(ramp)
            start, prev_dir = ramp.output.structure, ramp.output.dir_name
        production = factory(
            run.temperature,
            run.temperature,
            run.production_steps,
            run.time_step,
            **self.stage_kwargs,
        ).make(start, prev_dir=prev_dir)
        production.name = f"{self.name} production {run.label}"
        tag(production, Role.REFERENCE_MD_PRODUCTION, **run.keys())
        jobs.append(production)
        summary = staged_md_summary(
            production.output.vasp_objects["trajectory"],
            structure,
            run,
            [j.uuid for j in jobs],
            self.calculator_meta,
        )
        tag_run(summary, run, self.name)
        return Flow([*jobs, summary], output=summary.output, name=f"{self.name} {run.label}")
