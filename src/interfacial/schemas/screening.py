"""Documents of the screening funnel: from an electrolyte to ranked metal||product interfaces.

The funnel (``interfacial screen``): the electrolyte's reduction products at the metal's chemical
potential -> surfaces of the metal and every product -> the facets that matter (Wulff area,
low gamma) -> lattice-matched candidates for every facet and termination pair -> a fast
pre-screen tier for every candidate -> the top candidates per product on the refine tier ->
one :class:`ScreeningDocument` per electrolyte, metal and calculator.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from interfacial.schemas.surface import utcnow

#: Tier names, cheapest first.
PRESCREEN = "prescreen"
REFINE = "refine"
TIERS = (PRESCREEN, REFINE)


class ReductionProductDocument(BaseModel):
    """One product of the electrolyte's full reduction by the metal."""

    label: str = Field(description="Built-in name or structure-file label (e.g. 'Li2S')")
    formula: str = Field(description="Reduced formula")
    element: str = Field(description="The electrolyte element this product carries (S, P, Cl...)")
    coefficient: float = Field(description="Formula units per formula unit of electrolyte")
    molar_fraction: float = Field(description="coefficient / sum of the products' coefficients")
    volume_fraction: float | None = Field(
        None, description="Share of the products' volume (from the bulk volume per formula unit)"
    )
    stable: bool | None = Field(
        None, description="On the grand-potential hull at mu_metal (null: not checked)"
    )
    stability_note: str | None = None


class SelectedFacetDocument(BaseModel):
    """A facet chosen for pairing, and why."""

    material: str
    miller_index: list[int]
    terminations: list[str] = Field(description="Terminations paired (t<i>-<top plane>)")
    surface_energy: float = Field(description="Lowest gamma of the facet (J/m^2)")
    area_fraction: float | None = Field(None, description="Wulff area fraction (null: no shape)")
    reasons: list[str] = Field(description="e.g. 'Wulff area 31 %', 'lowest gamma'")


class FacetSelectionDocument(BaseModel):
    """The facets of one material: chosen, polar (no symmetric stoichiometric slab), left out."""

    material: str
    calculator: str
    bulk_uuid: str
    reused: bool = Field(False, description="Surfaces taken from an earlier run, not recomputed")
    chosen: list[SelectedFacetDocument]
    polar: list[list[int]] = Field(
        default_factory=list, description="Tasker-3 facets: reported, never paired"
    )
    left_out: list[dict[str, Any]] = Field(
        default_factory=list, description="{'miller_index': [...], 'reason': '...'}"
    )


class TierResult(BaseModel):
    """A candidate's energetics on one tier: the lowest-E_f model of its interface_id."""

    tier: str = Field(description="'prescreen' or 'refine'")
    calculator: str
    interface_id: str
    model_id: str
    E_f: float = Field(description="J/m^2, strain included")
    sigma: float = Field(description="J/m^2")
    strain_energy: float = Field(description="E_f - sigma (J/m^2)")
    W_adhesion: float = Field(description="Eq. 4: gamma_metal + gamma_compound - sigma (J/m^2)")
    W_adhesion_eq5: float = Field(description="Eq. 5: gamma_metal + gamma_compound - E_f")
    gamma_metal: float = Field(description="J/m^2")
    gamma_compound: float = Field(description="J/m^2")
    wets: bool = Field(description="W_adhesion > 2 gamma_metal (Young-Dupre)")
    strong_adhesion: bool
    n_atoms: int
    n_models: int = Field(description="Models (registries x gaps x relaxations) computed")
    rank: int = Field(description="1 = largest W_adhesion among its product's candidates here")
    reused: bool = Field(False, description="Taken from an earlier run's stored result")


class ScreeningCandidate(BaseModel):
    """One metal facet/termination x product facet/termination x matched cell."""

    candidate_id: str = Field(
        description="'<metal>(hkl)<term>|<product>(hkl)<term>#<cell>', e.g. "
        "'Li(110)t0-Li|Li2S(110)t0-Li2S#0'"
    )
    product: str
    metal_miller: list[int]
    compound_miller: list[int]
    metal_termination: str
    compound_termination: str
    cell: int = Field(description="Index of the cell among the pair's matches")
    mismatch: float = Field(description="ARTEMIS vector mismatch (fraction)")
    angle_mismatch: float = Field(description="degrees")
    area: float = Field(description="Area of one interface (A^2)")
    n_atoms: int = Field(description="Atoms of the pre-screen model")
    prescreen: TierResult | None = None
    refine: TierResult | None = None
    failed: dict[str, str] = Field(
        default_factory=dict, description="tier -> one line: why its calculation gave no result"
    )

    def best(self) -> TierResult | None:
        """The refined result where there is one, else the pre-screen one."""
        return self.refine or self.prescreen


class ScreeningDocument(BaseModel):
    """The answer for one electrolyte against one metal."""

    screening_id: str = Field(description="'<electrolyte>|<metal>|<calculator>[|<refine calc>]'")
    electrolyte: str = Field(description="As given: formula, alias (LiPON) or file label")
    electrolyte_formula: str
    metal: str
    reaction: str = Field(description="e.g. 'Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl'")
    metal_coefficient: float = Field(description="Metal atoms per electrolyte formula unit")
    products: list[ReductionProductDocument]
    facets: list[FacetSelectionDocument] = Field(description="The metal first, then the products")
    gamma_metal: dict[str, float] = Field(
        default_factory=dict, description="Metal facet label '(110)' -> lowest gamma (J/m^2)"
    )
    candidates: list[ScreeningCandidate]
    skipped_pairs: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Facet pairs with no candidate: {'pair': 'Li(111)|LiCl(100)', 'reason': ...}",
    )
    tier_settings: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="tier -> calculator, thicknesses, registries, gaps..."
    )
    calculator: str = Field(description="Calculator of the surfaces and the pre-screen")
    refine_calculator: str
    n_refine: int = Field(description="Candidates refined per product")
    spearman: float | None = Field(
        None,
        description="Spearman rank correlation of W (Eq. 4) between the tiers over the refined "
        "candidates; null with fewer than 3",
    )
    dominant: dict[str, str] = Field(
        default_factory=dict, description="product -> candidate_id with the largest W (best tier)"
    )
    recommended_for_transport: list[dict[str, str]] = Field(
        default_factory=list, description="{'candidate_id': ..., 'reason': ...}"
    )
    notes: list[str] = Field(default_factory=list)
    flow_completed_at: datetime | None = None
    source_fingerprint: str | None = None
    last_updated: datetime = Field(default_factory=utcnow)


__all__ = [
    "PRESCREEN",
    "REFINE",
    "TIERS",
    "FacetSelectionDocument",
    "ReductionProductDocument",
    "ScreeningCandidate",
    "ScreeningDocument",
    "SelectedFacetDocument",
    "TierResult",
]
