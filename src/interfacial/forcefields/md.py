"""Reference MD with a force field (CHGNet) through ASE: ramp, then NVT production with snapshots.

Why not atomate2's ``ForceFieldMDMaker`` (atomate2 0.1.5, ``atomate2/ase/md.py``): it does take a
temperature schedule, but its NVT Nose-Hoover preset is ASE's older ``ase.md.npt.NPT`` (which
ASE and atomate2 both advise against) rather than the Nose-Hoover chain, it records every
``traj_interval`` steps of the whole run (ramp included) into one trajectory instead of labelled
production snapshots, and it builds a new calculator in every job (a CHGNet reload per run).
The loop, :func:`interfacial.ase_md.run_nvt`, is short (ASE's ``NoseHooverChainNVT``, a ramp by
stepping the thermostat target, labelled production snapshots) and takes any ASE calculator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from atomate2.forcefields.utils import ForceFieldMixin
from jobflow import Job, Maker, job

from interfacial.ase_md import DEFAULT_TDAMP_STEPS, run_nvt
from interfacial.flows.reference_md import ReferenceMDMaker
from interfacial.forcefields.makers import cached_calculator
from interfacial.jobs.reference_md import ReferenceMDRun, tag_run
from interfacial.schemas.reference_md import (
    SNAPSHOTS_FIELD,
    MDSnapshots,
    ReferenceMDDocument,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure


@job(output_schema=ReferenceMDDocument, data=SNAPSHOTS_FIELD)
def forcefield_reference_md(
    structure: Structure,
    run: ReferenceMDRun,
    calculator_meta: Any,
    calculator_kwargs: dict[str, Any],
    tdamp: float | None = None,
) -> ReferenceMDDocument:
    """One reference MD run with a (cached) force-field calculator.

    The snapshots go to the "data" store (``data="snapshots"``); the docs store keeps the
    summary. ``structure.charge`` is recorded but has no effect on a force field.
    """
    calculator = cached_calculator(calculator_meta, calculator_kwargs)
    result = run_nvt(
        structure.to_ase_atoms(),
        calculator,
        temperature=run.temperature,
        ramp_start_temperature=run.ramp_start_temperature,
        time_step=run.time_step,
        ramp_steps=run.ramp_steps,
        production_steps=run.production_steps,
        snapshot_interval=run.snapshot_interval,
        seed=run.velocity_seed,
        tdamp=tdamp,
    )
    snapshots = MDSnapshots.from_atoms(result.frames, result.steps, run.time_step)
    return ReferenceMDDocument.from_snapshots(
        snapshots,
        structure,
        calculator_meta={
            "calculator_meta": str(calculator_meta),
            "calculator_kwargs": calculator_kwargs,
            "integrator": "ase.md.nose_hoover_chain.NoseHooverChainNVT",
            "tdamp_fs": tdamp if tdamp is not None else DEFAULT_TDAMP_STEPS * run.time_step,
        },
        elapsed_time=result.elapsed_time,
        **run.summary_fields(),
    )


@dataclass
class ForceFieldMDRunMaker(ForceFieldMixin, Maker):
    """Runs one reference MD segment (ramp + production) with a force field, in one job.

    Parameters
    ----------
    name : str
        Job name prefix.
    force_field_name : str
        atomate2 force-field name (default CHGNet, whose weights ship with its wheel).
    tdamp : float, optional
        Nose-Hoover time constant (fs); default 100 time steps.

    """

    name: str = "CHGNet reference MD"
    force_field_name: str = "CHGNet"
    tdamp: float | None = None
    calculator_kwargs: dict[str, Any] = field(default_factory=dict)

    def make(self, structure: Structure, run: ReferenceMDRun) -> Job:
        """The job of one run, named and tagged from ``run``."""
        md = forcefield_reference_md(
            structure, run, self.calculator_meta, self.calculator_kwargs, self.tdamp
        )
        return tag_run(md, run, self.name)


@dataclass
class ForceFieldReferenceMDMaker(ReferenceMDMaker):
    """Reference MD with CHGNet in this process (the embedded path; no DFT needed).

    The cell charge of ion vacancies is recorded but ignored: a force field has no electrons.
    """

    name: str = "reference md"
    calculator: str = "CHGNet"
    md_maker: Maker | None = field(default_factory=ForceFieldMDRunMaker)
