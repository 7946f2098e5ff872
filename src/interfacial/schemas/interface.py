"""Documents of the interface-energetics flow and builder."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from interfacial.analysis.interface import (
    DEFAULT_ADHESION_THRESHOLD,
    adhesion_flags,
    formation_energy,
    interfacial_energy,
    strain_energy,
    work_of_adhesion,
    work_of_adhesion_with_strain,
)
from interfacial.schemas.surface import utcnow

#: Relaxation variants of a model: which atoms move.
RELAXATIONS = {
    "fully-relaxed": "every atom and the cell length along the normal",
    "fix-binary": "middle layers of the compound frozen",
    "fix-metal": "middle layers of the metal frozen",
}


class MatchCandidateDocument(BaseModel):
    """One coincident supercell of a metal facet on a compound facet (strain on the metal)."""

    metal_miller: list[int]
    compound_miller: list[int]
    mismatch: float = Field(description="max_i | |c_i| - |m_i| | / |c_i| (fraction, ARTEMIS)")
    angle_mismatch: float = Field(description="Difference of the supercell angles (degrees)")
    area: float = Field(description="Area of one interface (A^2)")
    n_atoms: int = Field(description="Atoms of the symmetric model at the requested thicknesses")
    metal_matrix: list[list[int]]
    compound_matrix: list[list[int]]
    metal_vectors: list[list[float]] = Field(description="Unstrained metal supercell (2x3, A)")
    compound_vectors: list[list[float]] = Field(description="Compound supercell (2x3, A)")
    n_metal_atoms: int
    n_compound_atoms: int


class MatchReport(BaseModel):
    """Output of the lattice-matching job: every candidate, and the ones the flow computes."""

    interface_key: str = Field(description="<metal>(hkl)|<compound>(hkl)")
    metal: str
    compound: str
    candidates: list[MatchCandidateDocument]
    selected: list[int] = Field(description="Indices into candidates that the flow computes")
    max_area: float
    max_mismatch: float
    max_atoms: int
    last_updated: datetime = Field(default_factory=utcnow)


class InterfaceEnergies(BaseModel):
    """The raw energies (eV) and counts one model's energetics come from."""

    interface_energy: float = Field(description="E_AB, relaxed model (eV)")
    n_metal_atoms: int
    n_compound_formula_units: int
    metal_energy_per_atom: float = Field(description="E_A, relaxed bulk metal (eV/atom)")
    compound_energy_per_formula_unit: float = Field(description="E_B (eV/f.u.)")
    strained_metal_energy_per_atom: float = Field(description="E_A(z) (eV/atom)")
    strained_compound_energy_per_formula_unit: float = Field(description="E_B(z) (eV/f.u.)")
    area: float = Field(description="S, one interface (A^2)")
    gamma_metal: float = Field(description="J/m^2, unstrained relaxed metal surface")
    gamma_compound: float = Field(description="J/m^2, relaxed compound surface")


class InterfaceDocument(BaseModel):
    """One relaxed interface model with its energetics (all J/m^2 per area of one interface)."""

    model_id: str = Field(description="<interface_id>/<model label>/<relaxation>")
    interface_id: str = Field(
        description="<metal bulk uuid>/<compound bulk uuid>/<hkl>/<hkl>/<n>; in a screen "
        "followed by /<metal term>|<compound term>/<settings hash>/<tier>"
    )
    metal: str
    compound: str
    metal_miller: list[int]
    compound_miller: list[int]
    metal_termination: str
    compound_termination: str
    registry: list[float] = Field(description="In-plane shift of the metal (fractional)")
    gap: float = Field(description="Initial distance between the slabs (A)")
    relaxation: str = Field(description=", ".join(f"{k}: {v}" for k, v in RELAXATIONS.items()))
    mismatch: float
    angle_mismatch: float
    area: float
    n_atoms: int
    metal_is_perfect: bool = Field(
        True, description="False when the flip leaves a twin plane in the middle of the metal"
    )
    metal_matrix: list[list[int]]
    compound_matrix: list[list[int]]
    energies: InterfaceEnergies
    E_f: float = Field(description="(E_AB - N_A E_A - N_B E_B) / 2S, strain included")
    sigma: float = Field(description="(E_AB - N_A E_A(z) - N_B E_B(z)) / 2S")
    strain_energy: float = Field(description="E_f - sigma")
    W_adhesion: float = Field(description="Eq. 4: gamma_metal + gamma_compound - sigma")
    W_adhesion_eq5: float = Field(description="Eq. 5: gamma_metal + gamma_compound - E_f")
    gamma_metal: float
    gamma_compound: float
    gamma_source: str = Field(
        "relaxed unstrained surfaces of the terminations at the interface (surface-energy flow)"
    )
    wets: bool = Field(description="W_adhesion > 2 gamma_metal (Young-Dupre)")
    strong_adhesion: bool = Field(description="W_adhesion > adhesion_threshold")
    adhesion_threshold: float = DEFAULT_ADHESION_THRESHOLD
    is_lowest: bool = Field(False, description="Lowest E_f of the models of this interface_id")
    calculator: str
    tier: str | None = Field(None, description="Screening tier; None outside a screen")
    interface_uuid: str
    metal_bulk_uuid: str
    compound_bulk_uuid: str
    strained_metal_uuid: str
    strained_compound_uuid: str
    metal_surface_id: str
    compound_surface_id: str
    source_fingerprint: str | None = None
    last_updated: datetime = Field(default_factory=utcnow)

    @classmethod
    def from_energies(
        cls,
        energies: InterfaceEnergies,
        keys: dict[str, Any],
        adhesion_threshold: float = DEFAULT_ADHESION_THRESHOLD,
    ) -> InterfaceDocument:
        """Compute E_f, sigma, strain energy, both W and the flags; ``keys`` fills the rest."""
        e = energies
        e_f = formation_energy(
            e.interface_energy,
            e.n_metal_atoms,
            e.metal_energy_per_atom,
            e.n_compound_formula_units,
            e.compound_energy_per_formula_unit,
            e.area,
        )
        sigma = interfacial_energy(
            e.interface_energy,
            e.n_metal_atoms,
            e.strained_metal_energy_per_atom,
            e.n_compound_formula_units,
            e.strained_compound_energy_per_formula_unit,
            e.area,
        )
        w = work_of_adhesion(e.gamma_metal, e.gamma_compound, sigma)
        return cls(
            **keys,
            energies=e,
            E_f=e_f,
            sigma=sigma,
            strain_energy=strain_energy(e_f, sigma),
            W_adhesion=w,
            W_adhesion_eq5=work_of_adhesion_with_strain(e.gamma_metal, e.gamma_compound, e_f),
            gamma_metal=e.gamma_metal,
            gamma_compound=e.gamma_compound,
            adhesion_threshold=adhesion_threshold,
            **adhesion_flags(w, e.gamma_metal, adhesion_threshold),
        )


def mark_lowest(docs: list[InterfaceDocument]) -> list[InterfaceDocument]:
    """Set ``is_lowest`` on the lowest-E_f model of each interface_id (and clear it elsewhere)."""
    best: dict[str, InterfaceDocument] = {}
    for doc in docs:
        if doc.interface_id not in best or doc.E_f < best[doc.interface_id].E_f:
            best[doc.interface_id] = doc
    winners = {id(d) for d in best.values()}
    for doc in docs:
        doc.is_lowest = id(doc) in winners
    return docs
