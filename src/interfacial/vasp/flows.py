"""VASP defaults of the code-agnostic flows (the study's DFT settings, see :mod:`.sets`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from atomate2.vasp.jobs.core import RelaxMaker, StaticMaker
from atomate2.vasp.jobs.md import MDMaker
from jobflow import Maker

from interfacial.flows.interface import InterfaceEnergeticsMaker
from interfacial.flows.potential import LearnPotentialMaker
from interfacial.flows.reference_md import ReferenceMDMaker
from interfacial.flows.surface import SurfaceEnergyMaker
from interfacial.vasp.md import StagedMDRunMaker
from interfacial.vasp.sets import (
    StudyAIMDSetGenerator,
    StudyBulkRelaxSetGenerator,
    StudyLabelStaticSetGenerator,
    StudyNormalRelaxSetGenerator,
    StudySlabRelaxSetGenerator,
)


def _run_kwargs(vasp_cmd: str | None) -> dict:
    """run_vasp keyword arguments: the command when given, atomate2's default otherwise."""
    return {"vasp_cmd": vasp_cmd} if vasp_cmd else {}


def bulk_relax_maker(vasp_cmd: str | None = None) -> RelaxMaker:
    """atomate2 RelaxMaker (custodian with its VASP error handlers) for the study's bulk relax."""
    return RelaxMaker(
        name="VASP bulk relax",
        input_set_generator=StudyBulkRelaxSetGenerator(),
        run_vasp_kwargs=_run_kwargs(vasp_cmd),
    )


def slab_relax_maker(vasp_cmd: str | None = None, dipole_correction: bool = False) -> RelaxMaker:
    """atomate2 RelaxMaker for slabs at fixed cell (ISIF 2, one k-point along the normal)."""
    return RelaxMaker(
        name="VASP slab relax",
        input_set_generator=StudySlabRelaxSetGenerator(dipole_correction=dipole_correction),
        run_vasp_kwargs=_run_kwargs(vasp_cmd),
    )


@dataclass
class VaspSurfaceEnergyMaker(SurfaceEnergyMaker):
    """Surface energies with VASP as the study ran them (bulk ISIF 3, slabs ISIF 2)."""

    name: str = "surface energies"
    calculator: str = "VASP"
    bulk_relax_maker: Maker | None = field(default_factory=bulk_relax_maker)
    slab_relax_maker: Maker | None = field(default_factory=slab_relax_maker)


def normal_relax_maker(name: str, vasp_cmd: str | None = None) -> RelaxMaker:
    """atomate2 RelaxMaker relaxing positions and the cell length along the normal only."""
    return RelaxMaker(
        name=name,
        input_set_generator=StudyNormalRelaxSetGenerator(),
        run_vasp_kwargs=_run_kwargs(vasp_cmd),
    )


@dataclass
class VaspInterfaceEnergeticsMaker(InterfaceEnergeticsMaker):
    """Interface energetics with VASP as the study ran them."""

    name: str = "interface energetics"
    calculator: str = "VASP"
    surface_maker: SurfaceEnergyMaker | None = field(default_factory=VaspSurfaceEnergyMaker)
    interface_relax_maker: Maker | None = field(
        default_factory=lambda: normal_relax_maker("VASP interface relax")
    )
    strained_bulk_relax_maker: Maker | None = field(
        default_factory=lambda: normal_relax_maker("VASP strained bulk relax")
    )


def aimd_maker(
    start_temperature: float,
    end_temperature: float,
    n_steps: int,
    time_step: float = 2.0,
    vasp_cmd: str | None = None,
) -> MDMaker:
    """atomate2 MDMaker for the study's reference MD: NVT Nose-Hoover, ENCUT 400 eV, Gamma only.

    A ramp is ``start_temperature != end_temperature`` (K); production keeps both equal.
    ``n_steps`` steps of ``time_step`` fs.
    """
    return MDMaker(
        name=f"VASP AIMD {start_temperature:g}-{end_temperature:g} K",
        input_set_generator=StudyAIMDSetGenerator(
            start_temp=start_temperature,
            end_temp=end_temperature,
            nsteps=n_steps,
            time_step=time_step,
        ),
        run_vasp_kwargs=_run_kwargs(vasp_cmd),
    )


def label_static_maker(vasp_cmd: str | None = None) -> StaticMaker:
    """atomate2 StaticMaker labelling configurations (the reference MD's settings)."""
    return StaticMaker(
        name="VASP label",
        input_set_generator=StudyLabelStaticSetGenerator(),
        run_vasp_kwargs=_run_kwargs(vasp_cmd),
    )


def aimd_run_maker(vasp_cmd: str | None = None) -> StagedMDRunMaker:
    """One reference MD run as VASP ramp and production jobs (:func:`aimd_maker`) and a summary."""
    return StagedMDRunMaker(
        name="VASP AIMD",
        stage_factory=aimd_maker,
        stage_kwargs=_run_kwargs(vasp_cmd),
        calculator_meta={"code": "VASP", "functional": "PBE"},
    )


@dataclass
class VaspReferenceMDMaker(ReferenceMDMaker):
    """AIMD as the study ran it: VASP NVT Nose-Hoover, ENCUT 400 eV, Gamma only.

    A charged cell (ion vacancies) gets NELECT with a compensating background from the VASP
    input set.
    """

    name: str = "reference md"
    calculator: str = "VASP"
    md_maker: Maker | None = field(default_factory=aimd_run_maker)


def mlp_fit_maker(**kwargs: Any) -> Maker:
    """MLPFitMaker with ``kwargs``; the command defaults to the worker's ``mlp_cmd`` setting."""
    from interfacial.flows.mtp import MLPFitMaker

    # Resolved from the settings of the worker that runs the fit (interfacial.commands).
    return MLPFitMaker(**{"engine_options": {"command": "${INTERFACIAL_MLP_CMD}"}, **kwargs})


@dataclass
class VaspLearnPotentialMaker(LearnPotentialMaker):
    """The study's path: VASP AIMD, ``mlp train`` fits, VASP single points for active learning."""

    reference_md_maker: Maker | None = field(default_factory=VaspReferenceMDMaker)
    fit_maker: Maker | None = field(default_factory=mlp_fit_maker)
    label_maker: Maker | None = field(default_factory=label_static_maker)
