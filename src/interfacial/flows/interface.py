"""Interface energetics of a metal facet on a compound facet.

bulk relax and surface energies of both sides (the surface-energy flow, one facet each) ->
lattice matching (strain on the metal) -> symmetric two-interface models over terminations,
registries and gaps -> relax each (positions and the cell length along the normal) -> both bulks
strained to the interface's in-plane lattice, relaxed along the normal -> E_f, sigma, W.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jobflow import Flow, Job, Maker

from interfacial.analysis.interface import DEFAULT_ADHESION_THRESHOLD
from interfacial.errors import InterfacialError
from interfacial.flows.surface import SurfaceEnergyMaker, bulk_relaxation
from interfacial.jobs.interface import interface_calculations, interface_key, match_interfaces
from interfacial.schemas.interface import RELAXATIONS
from interfacial.schemas.roles import (
    InterfaceFanoutKeys,
    Role,
    read_keys,
    tag,
    tagged_job,
    tagged_jobs,
)
from interfacial.structures.slabs import parse_miller

if TYPE_CHECKING:
    from pymatgen.core import Structure

#: Voigt masks (xx, yy, zz, yz, xz, xy) of ASE's cell filters, a and b in the xy plane.
#: Models: only the length along the normal relaxes; c stays normal, which keeps the two
#: interfaces related by the flip (a sheared c would shift one interface's registry only).
NORMAL_ONLY_MASK = [0, 0, 1, 0, 0, 0]
#: Strained bulks: a and b fixed, the whole of c free (it is one stacking period, often tilted).
FREE_C_MASK = [0, 0, 1, 1, 1, 0]


@dataclass
class InterfaceEnergeticsMaker(Maker):
    """Code-agnostic interface-energetics workflow.

    Parameters
    ----------
    name : str
        Flow name.
    surface_maker : SurfaceEnergyMaker
        Relaxes each bulk and computes gamma of the facet at the interface (every termination).
    interface_relax_maker : Maker
        Relaxes a model: positions and the cell length along the normal, in-plane lattice fixed.
    strained_bulk_relax_maker : Maker
        Relaxes a bulk with its in-plane lattice fixed: positions and the length along the normal.
    calculator : str
        Label stored in every document.
    max_area : float
        Largest area of one interface considered by the lattice matching (A^2).
    max_mismatch : float
        Largest vector mismatch admitted (fraction, compound as reference).
    max_angle_mismatch : float
        Largest angle mismatch admitted (degrees).
    metal_thickness, compound_thickness : float or None
        Slab thicknesses of the model (A); None uses the defaults (Li 12, Na 14, compound 10).
    gaps : list of float
        Initial distances between the slabs (A) sampled.
    registries : list of list of float
        In-plane shifts of the metal (fractional) sampled.
    max_atoms : int
        Largest model computed.
    n_candidates : int
        Lattice-match candidates computed (lowest mismatch first among those within max_atoms).
    relaxations : list of str
        'fully-relaxed' (default), 'fix-binary', 'fix-metal'.
    adhesion_threshold : float
        W_adhesion (J/m^2) above which adhesion is flagged strong.

    """

    name: str = "interface energetics"
    surface_maker: SurfaceEnergyMaker | None = None
    interface_relax_maker: Maker | None = None
    strained_bulk_relax_maker: Maker | None = None
    calculator: str = "unknown"
    max_area: float = 150.0
    max_mismatch: float = 0.15
    max_angle_mismatch: float = 5.0
    metal_thickness: float | None = None
    compound_thickness: float = 10.0
    gaps: list[float] = field(default_factory=lambda: [2.0])
    registries: list[list[float]] = field(
        default_factory=lambda: [[0.0, 0.0], [0.5, 0.0], [0.0, 0.5], [0.5, 0.5]]
    )
    max_atoms: int = 600
    n_candidates: int = 1
    relaxations: list[str] = field(default_factory=lambda: ["fully-relaxed"])
    adhesion_threshold: float = DEFAULT_ADHESION_THRESHOLD
    metadata: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Validate what a job would otherwise trip over hours later."""
        if None in (self.surface_maker, self.interface_relax_maker, self.strained_bulk_relax_maker):
            raise InterfacialError(
                "InterfaceEnergeticsMaker needs surface_maker, interface_relax_maker and "
                "strained_bulk_relax_maker; interfacial.engines.calculator(name)"
                ".interface_energetics_maker(settings) gives ready-made defaults"
            )
        unknown = [r for r in self.relaxations if r not in RELAXATIONS]
        if unknown or not self.relaxations:
            raise InterfacialError(
                f"relaxations {unknown or '[]'} not understood; "
                f"choose from {', '.join(RELAXATIONS)}"
            )
        if not self.gaps or any(not 0.5 <= g <= 5.0 for g in self.gaps):
            raise InterfacialError(f"gaps {self.gaps} must each lie in [0.5, 5] A")
        if not self.registries or any(len(r) != 2 for r in self.registries):
            raise InterfacialError(f"registries {self.registries} must be pairs of fractions")
        if self.max_atoms < 2 or self.n_candidates < 1:
            raise InterfacialError("max_atoms must be >= 2 and n_candidates >= 1")

    def match_options(self) -> dict[str, Any]:
        """Keyword arguments of the lattice matching."""
        return {
            "max_area": self.max_area,
            "max_mismatch": self.max_mismatch,
            "max_angle_mismatch": self.max_angle_mismatch,
            "metal_thickness": self.metal_thickness,
            "compound_thickness": self.compound_thickness,
        }

    def model_options(self) -> dict[str, Any]:
        """Keyword arguments of the model construction."""
        return {
            "metal_thickness": self.metal_thickness,
            "compound_thickness": self.compound_thickness,
            "gaps": [float(g) for g in self.gaps],
            "registries": [[float(x) for x in r] for r in self.registries],
            "max_atoms": self.max_atoms,
        }

    def make(
        self,
        metal: Structure,
        compound: Structure,
        metal_miller: list[int] | tuple[int, int, int],
        compound_miller: list[int] | tuple[int, int, int],
        metal_label: str | None = None,
        compound_label: str | None = None,
    ) -> Flow:
        """Build the flow; Miller indices refer to the conventional standard cells."""
        assert self.surface_maker is not None
        metal_hkl = list(parse_miller(metal_miller))
        compound_hkl = list(parse_miller(compound_miller))
        metal_label = metal_label or metal.composition.reduced_formula
        compound_label = compound_label or compound.composition.reduced_formula
        key = interface_key(metal_label, metal_hkl, compound_label, compound_hkl)
        sides = {}
        for label, structure, hkl in (
            (metal_label, metal, metal_hkl),
            (compound_label, compound, compound_hkl),
        ):
            # A copy with this facet only: makers are never mutated.
            maker = dataclasses.replace(self.surface_maker, millers=[hkl])
            sides[label] = maker.make(structure, label)
        metal_flow, compound_flow = sides[metal_label], sides[compound_label]
        metal_bulk, compound_bulk = bulk_relaxation(metal_flow), bulk_relaxation(compound_flow)
        match = match_interfaces(
            metal_bulk.output.structure,
            compound_bulk.output.structure,
            metal_label,
            compound_label,
            metal_hkl,
            compound_hkl,
            self.match_options(),
            self.max_atoms,
            self.n_candidates,
        )
        match.name = f"match {key}"
        tag(match, Role.MATCH, interface_key=key)
        calculations = interface_calculations(
            match.output,
            metal_bulk.output.structure,
            compound_bulk.output.structure,
            metal_bulk.output.output.energy,
            compound_bulk.output.output.energy,
            metal_bulk.uuid,
            compound_bulk.uuid,
            metal_flow.output,
            compound_flow.output,
            self.interface_relax_maker,
            self.strained_bulk_relax_maker,
            self.calculator,
            self.model_options(),
            list(self.relaxations),
            self.adhesion_threshold,
        )
        calculations.name = f"interface calculations {key}"
        tag(
            calculations,
            Role.INTERFACE_FANOUT,
            interface_key=key,
            metal_bulk_uuid=metal_bulk.uuid,
            compound_bulk_uuid=compound_bulk.uuid,
        )
        return Flow(
            [metal_flow, compound_flow, match, calculations],
            output=calculations.output,
            name=f"{self.name} {key}",
        )


def bulk_relaxations(flow: Flow) -> dict[str, Job]:
    """The two bulk relaxations of an interface-energetics flow, by side ('metal', 'compound').

    Found through the uuids its fan-out job is tagged with, so neither the order of the jobs
    nor the material labels (a metal on itself has one label twice) matter.
    """
    keys = read_keys(tagged_job(flow, Role.INTERFACE_FANOUT), InterfaceFanoutKeys)
    bulks = {job.uuid: job for job in tagged_jobs(flow, Role.BULK)}
    return {"metal": bulks[keys.metal_bulk_uuid], "compound": bulks[keys.compound_bulk_uuid]}
