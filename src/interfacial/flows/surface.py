"""Surface energies of every facet and termination, converged with thickness, and the Wulff shape.

bulk relax -> enumerate facets and terminations (Tasker 1/2 kept, 3 reported) -> per termination:
slab relax at fixed cell -> gamma -> add one repeat until |d gamma| < tol -> Wulff shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jobflow import Flow, Job, Maker

from interfacial.analysis.surface import DEFAULT_CONVERGENCE_TOL
from interfacial.errors import InterfacialError
from interfacial.jobs.surface import enumerate_facets, named, surface_calculations
from interfacial.schemas.roles import Role, output_job, tag, tagged_job
from interfacial.structures.slabs import (
    MAX_MILLER_INDEX,
    THICKNESS_BOUNDS,
    check_thickness,
    distinct_facets,
    parse_miller,
)
from interfacial.validation import check_number

if TYPE_CHECKING:
    from pymatgen.core import Structure


@dataclass
class SurfaceEnergyMaker(Maker):
    """Code-agnostic surface-energy workflow.

    Parameters
    ----------
    name : str
        Flow name.
    bulk_relax_maker : Maker
        Relaxes the bulk (cell and positions). Its task document must have ``output.energy``
        (eV) and ``structure`` (final), as atomate2's VASP and force-field task documents do.
        It may return a Flow (atomate2's ``DoubleRelaxMaker``): the job whose output is the
        flow's output is then the bulk relaxation (see :func:`bulk_relaxation`).
    slab_relax_maker : Maker
        Relaxes a slab at fixed cell.
    calculator : str
        Label of the calculator stored in every document (e.g. 'CHGNet', 'VASP').
    max_index : int
        Largest |h|, |k|, |l| of the facets (ignored when ``millers`` is given).
    millers : list of list of int or None
        Explicit facets instead of all distinct ones up to ``max_index``.
    min_thickness : float
        Thickness (A, bulk-equivalent) of the thinnest slab.
    max_thickness : float
        Thickness (A) at which convergence stops even if not reached (flagged ``converged=False``).
    vacuum : float
        Minimum vacuum between periodic images (A); >= 15 A recommended.
    convergence_tol : float
        Thickness convergence criterion on gamma (J/m^2).

    """

    name: str = "surface energies"
    bulk_relax_maker: Maker | None = None
    slab_relax_maker: Maker | None = None
    calculator: str = "unknown"
    max_index: int = 1
    millers: list[list[int]] | None = None
    min_thickness: float = 8.0
    max_thickness: float = 30.0
    vacuum: float = 15.0
    convergence_tol: float = DEFAULT_CONVERGENCE_TOL
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate everything a job would otherwise trip over hours later."""
        check_thickness(self.min_thickness, self.vacuum)
        check_number(self.max_index, "max_index", minimum=1, maximum=MAX_MILLER_INDEX, integer=True)
        check_number(self.max_thickness, "max_thickness", minimum=THICKNESS_BOUNDS[0], unit="A")
        if self.max_thickness < self.min_thickness:
            raise InterfacialError(
                f"max_thickness {self.max_thickness} A is below min_thickness "
                f"{self.min_thickness} A"
            )
        if not 1e-4 <= self.convergence_tol <= 1.0:
            raise InterfacialError(
                f"convergence_tol {self.convergence_tol} J/m^2 is outside [1e-4, 1]; "
                "the study uses 0.01"
            )
        if self.millers is not None:
            self.millers = [list(parse_miller(m)) for m in self.millers]
        if self.bulk_relax_maker is None or self.slab_relax_maker is None:
            raise InterfacialError(
                "SurfaceEnergyMaker needs bulk_relax_maker and slab_relax_maker; use "
                "ForceFieldSurfaceEnergyMaker or VaspSurfaceEnergyMaker for ready-made defaults"
            )

    def facets(self, structure: Structure) -> list[list[int]]:
        """The facets this maker computes for ``structure``."""
        if self.millers is not None:
            return [list(m) for m in self.millers]
        return [list(m) for m in distinct_facets(structure, self.max_index)]

    def make(self, structure: Structure, material: str | None = None) -> Flow:
        """Build the flow for one bulk structure (conventional cell recommended)."""
        from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

        assert self.bulk_relax_maker is not None and self.slab_relax_maker is not None
        material = material or structure.composition.reduced_formula
        # Miller indices refer to the conventional standard cell, as everywhere in pymatgen.
        conventional = SpacegroupAnalyzer(structure).get_conventional_standard_structure()
        millers = self.facets(conventional)
        bulk = named(self.bulk_relax_maker.make(conventional), f"bulk relax {material}")
        tag(
            bulk,
            Role.BULK,
            material=material,
            formula=conventional.composition.reduced_formula,
            calculator=self.calculator,
        )
        bulk_job = output_job(bulk)  # the relaxed bulk, also when the maker returned a Flow
        report = enumerate_facets(
            bulk_job.output.structure,
            material,
            bulk_job.uuid,
            self.calculator,
            millers,
            self.min_thickness,
            None if self.millers is not None else self.max_index,
        )
        report.name = f"enumerate slabs {material}"
        tag(report, Role.FACETS, material=material, bulk_uuid=bulk_job.uuid)
        fan_out = surface_calculations(
            report.output,
            bulk_job.output.structure,
            bulk_job.output.output.energy,
            self.slab_relax_maker,
            self.vacuum,
            self.convergence_tol,
            self.max_thickness,
        )
        fan_out.name = f"surface calculations {material}"
        tag(fan_out, Role.SURFACE_FANOUT, material=material, bulk_uuid=bulk_job.uuid)
        return Flow(
            [bulk, report, fan_out],
            output=fan_out.output,
            name=f"{self.name} {material}",
        )


def bulk_relaxation(flow: Flow) -> Job:
    """The bulk relaxation of a surface-energy flow: the job tagged ``Role.BULK``.

    Its output is the relaxed bulk (``structure``, ``output.energy``) and its uuid is the
    ``bulk_uuid`` of every surface document. With a flow-returning bulk maker it is that flow's
    output job. Found by role, so it does not depend on the order of the flow's jobs.
    """
    return tagged_job(flow, Role.BULK)
