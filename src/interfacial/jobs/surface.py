"""Jobs of the surface-energy flow: enumerate slabs, converge thickness, build the Wulff shape.

Grouping keys for builders go into each job's ``metadata['interfacial']``, typed by
:mod:`interfacial.schemas.roles` (roles bulk / facets / slab / surface / surface_material).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jobflow import Flow, Job, Maker, Response, job

from interfacial.schemas.roles import Role, SlabKeys, output_job, read_keys, tag
from interfacial.schemas.surface import (
    FacetInfo,
    FacetReport,
    SurfaceEnergyDocument,
    SurfaceMaterialDocument,
    TerminationInfo,
    ThicknessPoint,
)
from interfacial.structures.slabs import (
    build_slab,
    enumerate_terminations,
    miller_label,
    repeats_for_thickness,
    slab_area,
    slab_thickness,
)

if TYPE_CHECKING:
    from pymatgen.core import Structure


def named(job_or_flow: Job | Flow, name: str) -> Job | Flow:
    """Name a maker's job, or a maker's flow and every job in it ('<name> <job name>').

    Job names must be unique within a run (routing, powerups and tests key on them); the jobs
    of a flow-returning maker (atomate2's DoubleRelaxMaker names its two 'relax 1', 'relax 2')
    get the flow's name in front.
    """
    if isinstance(job_or_flow, Flow):
        job_or_flow.append_name(f"{name} ", prepend=True)
    job_or_flow.name = name
    return job_or_flow


@job(output_schema=FacetReport)
def enumerate_facets(
    bulk_structure: Structure,
    material: str,
    bulk_uuid: str,
    calculator: str,
    millers: list[list[int]],
    min_thickness: float,
    max_index: int | None = None,
) -> FacetReport:
    """List every facet's stoichiometric terminations and Tasker type (no calculation)."""
    facets = []
    for miller in millers:
        hkl = (int(miller[0]), int(miller[1]), int(miller[2]))
        facet = enumerate_terminations(bulk_structure, hkl)
        facets.append(
            FacetInfo(
                miller_index=list(hkl),
                tasker_type=facet.tasker_type,
                repeat_height=facet.repeat_height,
                n_repeats_start=repeats_for_thickness(bulk_structure, hkl, min_thickness),
                terminations=[
                    TerminationInfo(
                        label=t.label,
                        shift=t.shift,
                        symmetric=t.symmetric,
                        n_atoms_per_repeat=t.n_atoms_per_repeat,
                    )
                    for t in facet.terminations
                ],
                reason=facet.reason,
            )
        )
    return FacetReport(
        material=material,
        formula=bulk_structure.composition.reduced_formula,
        bulk_uuid=bulk_uuid,
        calculator=calculator,
        max_index=max_index,
        facets=facets,
    )


def slab_relax_job(
    slab_relax_maker: Maker,
    bulk_structure: Structure,
    report: FacetReport,
    facet: FacetInfo,
    termination: TerminationInfo,
    n_repeats: int,
    vacuum: float,
    convergence_tol: float,
) -> Job | Flow:
    """A fixed-cell relaxation of one slab, named and tagged for routing and builders."""
    hkl = (facet.miller_index[0], facet.miller_index[1], facet.miller_index[2])
    slab = build_slab(bulk_structure, hkl, termination.shift, n_repeats, vacuum)
    relax = named(
        slab_relax_maker.make(slab),
        f"slab relax {report.material} {miller_label(hkl)} {termination.label.split('-')[0]} "
        f"n{n_repeats}",
    )
    return tag(
        relax,
        Role.SLAB,
        material=report.material,
        formula=report.formula,
        bulk_uuid=report.bulk_uuid,
        calculator=report.calculator,
        miller_index=list(hkl),
        termination=termination.label,
        shift=termination.shift,
        tasker_type=facet.tasker_type,
        n_repeats=n_repeats,
        n_atoms=len(slab),
        area=slab_area(slab),
        slab_thickness=slab_thickness(slab, bulk_structure),
        vacuum=vacuum,
        convergence_tol=convergence_tol,
    )


def thickness_chain(
    slab_relax_maker: Maker,
    bulk_structure: Structure,
    bulk_energy_per_atom: float,
    report: FacetReport,
    facet: FacetInfo,
    termination: TerminationInfo,
    n_repeats: int,
    series: list[ThicknessPoint],
    vacuum: float,
    convergence_tol: float,
    max_repeats: int,
) -> Flow:
    """Relax a slab of ``n_repeats`` then decide (in :func:`thickness_step`) whether to go on."""
    relax = slab_relax_job(
        slab_relax_maker,
        bulk_structure,
        report,
        facet,
        termination,
        n_repeats,
        vacuum,
        convergence_tol,
    )
    step = thickness_step(
        relax.output.output.energy,
        output_job(relax).uuid,
        read_keys(output_job(relax), SlabKeys),
        slab_relax_maker,
        bulk_structure,
        bulk_energy_per_atom,
        report,
        facet,
        termination,
        series,
        max_repeats,
    )
    step.name = relax.name.replace("slab relax", "surface energy")
    tag(
        step,
        Role.SURFACE,
        material=report.material,
        bulk_uuid=report.bulk_uuid,
        miller_index=facet.miller_index,
        termination=termination.label,
        n_repeats=n_repeats,
    )
    return Flow([relax, step], output=step.output, name=f"{step.name} chain")


# No output_schema here: jobflow copies it onto the "store_inputs" job that carries a replacing
# flow's output reference, and that job would then fail schema validation.
@job
def thickness_step(
    slab_energy: float,
    slab_uuid: str,
    slab_keys: SlabKeys,
    slab_relax_maker: Maker,
    bulk_structure: Structure,
    bulk_energy_per_atom: float,
    report: FacetReport,
    facet: FacetInfo,
    termination: TerminationInfo,
    series: list[ThicknessPoint],
    max_repeats: int,
) -> SurfaceEnergyDocument | Response:
    """Compute gamma for this thickness; stop when converged, else add one repeat."""
    series = [
        *series,
        ThicknessPoint.from_slab(slab_energy, slab_uuid, slab_keys, bulk_energy_per_atom),
    ]
    doc = SurfaceEnergyDocument.from_series(series, slab_keys, bulk_energy_per_atom)
    n_next = series[-1].n_repeats + 1
    if doc.converged or n_next > max_repeats:
        return doc
    chain = thickness_chain(
        slab_relax_maker,
        bulk_structure,
        bulk_energy_per_atom,
        report,
        facet,
        termination,
        n_next,
        series,
        slab_keys.vacuum,
        slab_keys.convergence_tol,
        max_repeats,
    )
    return Response(replace=chain)


@job(output_schema=SurfaceMaterialDocument)
def wulff_shape(
    bulk_structure: Structure, report: FacetReport, surfaces: list[SurfaceEnergyDocument]
) -> SurfaceMaterialDocument | None:
    """Wulff shape from the lowest gamma of each facet."""
    return SurfaceMaterialDocument.from_surfaces(bulk_structure.lattice, report, surfaces)


@job
def surface_calculations(
    report: FacetReport,
    bulk_structure: Structure,
    bulk_energy: float,
    slab_relax_maker: Maker,
    vacuum: float,
    convergence_tol: float,
    max_thickness: float,
) -> Response:
    """Fan out: one thickness chain per usable termination, then the Wulff shape."""
    bulk_energy_per_atom = bulk_energy / len(bulk_structure)
    chains: list[Flow] = []
    for facet in report.facets:
        max_repeats = max(facet.n_repeats_start + 1, int(max_thickness // facet.repeat_height))
        chains.extend(
            thickness_chain(
                slab_relax_maker,
                bulk_structure,
                bulk_energy_per_atom,
                report,
                facet,
                termination,
                facet.n_repeats_start,
                [],
                vacuum,
                convergence_tol,
                max_repeats,
            )
            for termination in facet.terminations
            if termination.symmetric
        )
    wulff = wulff_shape(bulk_structure, report, [c.output for c in chains])
    wulff.name = f"wulff shape {report.material}"
    tag(wulff, Role.SURFACE_MATERIAL, material=report.material, bulk_uuid=report.bulk_uuid)
    return Response(replace=Flow([*chains, wulff], output=wulff.output))
