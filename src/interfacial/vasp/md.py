"""Reference MD with VASP through atomate2: a run as ramp and production jobs, then a summary.

:class:`StagedMDRunMaker` is the ``md_maker`` of
:class:`~interfacial.flows.reference_md.ReferenceMDMaker` for an engine whose MD runs as
atomate2 jobs (VASP's MDMaker): a ramp job and a production job continuing from the ramp's
folder, then :func:`staged_md_summary`, which turns the production trajectory (VASP's free
energies, forces and kBar stresses) into the same ReferenceMDDocument as the force-field engine.
The engine steps carry ``role`` "reference_md_ramp" and "reference_md_production"; the summary
job the grouping keys of the run (:meth:`ReferenceMDRun.keys`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from jobflow import Flow, Job, Maker, job

from interfacial.errors import InterfacialError
from interfacial.jobs.reference_md import ReferenceMDRun, tag_run
from interfacial.schemas.reference_md import (
    SNAPSHOTS_FIELD,
    MDSnapshot,
    MDSnapshots,
    ReferenceMDDocument,
)
from interfacial.schemas.roles import Role, tag

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Conversion of VASP's stress (kBar, positive under compression) to ASE's (eV/A^3, positive in
#: tension): 1 kBar = 0.1 GPa = 1e-4 / 160.2176634 eV/A^3, with the sign flipped.
KBAR_TO_ASE_STRESS = -0.1 / 160.21766208


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


@dataclass
class StagedMDRunMaker(Maker):
    """A run as two engine jobs (ramp, production) and a summary job.

    Parameters
    ----------
    name : str
        Name prefix of the jobs.
    stage_factory : callable
        ``f(start_temperature, end_temperature, n_steps, time_step, **kwargs) -> Maker`` whose
        job returns an atomate2 task document with ``output.structure``, ``dir_name`` and
        ``vasp_objects['trajectory']``, e.g. :func:`interfacial.vasp.flows.aimd_maker` (a
        function reference serialises as its import path, so the maker travels through
        FireWorks).
    stage_kwargs : dict
        Extra keyword arguments of the factory (e.g. ``vasp_cmd``).
    calculator_meta : dict
        Identity of the reference calculator, copied into the summary.

    """

    name: str = "AIMD"
    stage_factory: Callable[..., Any] | None = None
    stage_kwargs: dict[str, Any] = field(default_factory=dict)
    calculator_meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Refuse a maker without its engine before any job exists."""
        if self.stage_factory is None:
            raise InterfacialError(
                "StagedMDRunMaker needs stage_factory, e.g. interfacial.vasp.flows.aimd_maker; "
                "VaspReferenceMDMaker has it ready-made"
            )

    def make(self, structure: Structure, run: ReferenceMDRun) -> Flow:
        """Ramp job -> production job (continuing from the ramp's folder) -> summary job."""
        assert self.stage_factory is not None
        factory = self.stage_factory
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
