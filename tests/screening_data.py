"""Hand-built screening documents for the command line, report and campaign tests.

Numbers are chosen by hand (not computed) so that each test knows the expected order, ranks and
marks without running the code under test: W values are distinct, one product has a refined
candidate that the pre-screen ranked second, one candidate failed on every tier.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from interfacial.schemas.screening import (
    FacetSelectionDocument,
    ReductionProductDocument,
    ScreeningCandidate,
    ScreeningDocument,
    SelectedFacetDocument,
    TierResult,
)

GAMMA_LI = {"(110)": 0.320, "(100)": 0.329}


def tier(
    tier_name: str,
    cid: str,
    w: float,
    *,
    gamma_metal: float = 0.320,
    calculator: str = "CHGNet",
    rank: int = 1,
    n_atoms: int = 60,
) -> TierResult:
    """A tier result with W = gamma_m + gamma_c - sigma exactly (gamma_c 0.3, E_f - sigma 0.05)."""
    gamma_compound = 0.3
    sigma = gamma_metal + gamma_compound - w
    e_f = sigma + 0.05
    return TierResult(
        tier=tier_name,
        calculator=calculator,
        interface_id=f"{cid}/{tier_name}",
        model_id=f"{cid}/{tier_name}/m0",
        E_f=e_f,
        sigma=sigma,
        strain_energy=e_f - sigma,
        W_adhesion=w,
        W_adhesion_eq5=gamma_metal + gamma_compound - e_f,
        gamma_metal=gamma_metal,
        gamma_compound=gamma_compound,
        wets=w > 2 * gamma_metal,
        strong_adhesion=w > 0.7,
        n_atoms=n_atoms,
        n_models=2,
        rank=rank,
    )


def candidate(
    product: str,
    metal_hkl: str,
    compound_hkl: str,
    cell: int,
    *,
    pre: float | None,
    ref: float | None = None,
    mismatch: float = 0.02,
    metal: str = "Li",
    refine_calculator: str = "CHGNet",
    pre_rank: int = 1,
    ref_rank: int = 1,
) -> ScreeningCandidate:
    """A candidate with W (J/m^2) ``pre`` on the pre-screen and ``ref`` on the refine tier."""
    cid = f"{metal}({metal_hkl})t0-{metal}|{product}({compound_hkl})t0-{product}#{cell}"
    gamma = GAMMA_LI[f"({metal_hkl})"] if metal == "Li" else 0.22
    failed = {}
    if pre is None:
        failed["prescreen"] = "relaxation did not converge"
    return ScreeningCandidate(
        candidate_id=cid,
        product=product,
        metal_miller=[int(c) for c in metal_hkl],
        compound_miller=[int(c) for c in compound_hkl],
        metal_termination=f"t0-{metal}",
        compound_termination=f"t0-{product}",
        cell=cell,
        mismatch=mismatch,
        angle_mismatch=0.0,
        area=25.0 + cell,
        n_atoms=60,
        prescreen=None
        if pre is None
        else tier("prescreen", cid, pre, gamma_metal=gamma, rank=pre_rank),
        refine=None
        if ref is None
        else tier(
            "refine",
            cid,
            ref,
            gamma_metal=gamma + 0.01,
            calculator=refine_calculator,
            rank=ref_rank,
            n_atoms=120,
        ),
        failed=failed,
    )


def selection(material: str, facets: list[str], polar: list[list[int]] | None = None):
    return FacetSelectionDocument(
        material=material,
        calculator="CHGNet",
        bulk_uuid=f"bulk-{material}",
        reused=material == "Li",
        chosen=[
            SelectedFacetDocument(
                material=material,
                miller_index=[int(c) for c in f],
                terminations=[f"t0-{material}"],
                surface_energy=0.3,
                area_fraction=0.5,
                reasons=["Wulff area 50 %"],
            )
            for f in facets
        ],
        polar=polar or [],
    )


def li6ps5cl(refine_calculator: str = "CHGNet", completed: int = 1) -> dict[str, Any]:
    """A screening of Li6PS5Cl against Li: 3 products, 7 candidates, one failed, one skip."""
    products = [
        ReductionProductDocument(
            label="Li3P",
            formula="Li3P",
            element="P",
            coefficient=1,
            molar_fraction=1 / 7,
            volume_fraction=0.13,
        ),
        ReductionProductDocument(
            label="Li2S",
            formula="Li2S",
            element="S",
            coefficient=5,
            molar_fraction=5 / 7,
            volume_fraction=0.74,
            stable=True,
        ),
        ReductionProductDocument(
            label="LiCl",
            formula="LiCl",
            element="Cl",
            coefficient=1,
            molar_fraction=1 / 7,
            volume_fraction=0.13,
            stable=False,
            stability_note="12 meV/atom above the hull",
        ),
    ]
    rc = refine_calculator
    candidates = [
        # Li2S: the pre-screen's second (0.50) is the refine tier's first (0.42): dominant. The
        # third (pre-screen only, 0.45) has a larger W than both refined ones, on another tier.
        candidate("Li2S", "110", "110", 0, pre=0.55, ref=0.38, refine_calculator=rc, ref_rank=2),
        candidate("Li2S", "110", "111", 0, pre=0.50, ref=0.42, refine_calculator=rc, pre_rank=2),
        candidate("Li2S", "100", "111", 0, pre=0.45, pre_rank=3),
        # Li3P: pre-screen only; the best wets (W 0.70 > 2 x 0.329).
        candidate("Li3P", "100", "001", 0, pre=0.70, mismatch=0.071),
        candidate("Li3P", "110", "001", 1, pre=0.40, pre_rank=2),
        # LiCl: one result, one candidate that failed.
        candidate("LiCl", "110", "100", 0, pre=0.05, mismatch=0.027),
        candidate("LiCl", "100", "100", 0, pre=None),
    ]
    doc = ScreeningDocument(
        screening_id=f"Li6PS5Cl|Li|CHGNet|{rc}",
        electrolyte="Li6PS5Cl",
        electrolyte_formula="Li6PS5Cl",
        metal="Li",
        reaction="Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl",
        metal_coefficient=8,
        products=products,
        facets=[
            selection("Li", ["110", "100"]),
            selection("Li3P", ["001"]),
            selection("Li2S", ["111", "110"], polar=[[1, 0, 0]]),
            selection("LiCl", ["100"], polar=[[1, 1, 1]]),
        ],
        gamma_metal=GAMMA_LI,
        candidates=candidates,
        skipped_pairs=[{"pair": "Li(111)|LiCl(110)", "reason": "no match within 15 %"}],
        tier_settings={
            "prescreen": {"calculator": "CHGNet", "metal_thickness": 6.0, "gaps": [2.0]},
            "refine": {"calculator": rc, "metal_thickness": 12.0, "gaps": [2.0, 2.5]},
        },
        calculator="CHGNet",
        refine_calculator=rc,
        n_refine=2,
        spearman=None,
        dominant={
            "Li2S": candidates[1].candidate_id,
            "Li3P": candidates[3].candidate_id,
            "LiCl": candidates[5].candidate_id,
        },
        recommended_for_transport=[
            {"candidate_id": candidates[1].candidate_id, "reason": "largest W of Li2S"},
            {"candidate_id": candidates[4].candidate_id, "reason": "dominant mismatch 7.1 % > 5 %"},
        ],
        notes=["LiCl: 12 meV/atom above the hull of the computed phases"],
        flow_completed_at=datetime(2025, 1, completed, tzinfo=UTC),
    )
    return doc.model_dump()


def na3ps4() -> dict[str, Any]:
    """A screening of Na3PS4 against Na with two metal facets of different gamma."""
    products = [
        ReductionProductDocument(
            label="Na3P",
            formula="Na3P",
            element="P",
            coefficient=1,
            molar_fraction=0.2,
            volume_fraction=0.22,
        ),
        ReductionProductDocument(
            label="Na2S",
            formula="Na2S",
            element="S",
            coefficient=4,
            molar_fraction=0.8,
            volume_fraction=0.78,
        ),
    ]
    cands = [
        candidate("Na2S", "110", "111", 0, pre=0.3, metal="Na"),
        candidate("Na3P", "100", "001", 0, pre=0.2, metal="Na"),
    ]
    # Two different metal gammas: the wetting marks must then be per bar.
    cands[1].prescreen.gamma_metal = 0.25  # type: ignore[union-attr]
    doc = ScreeningDocument(
        screening_id="Na3PS4|Na|CHGNet",
        electrolyte="Na3PS4",
        electrolyte_formula="Na3PS4",
        metal="Na",
        reaction="Na3PS4 + 8 Na -> Na3P + 4 Na2S",
        metal_coefficient=8,
        products=products,
        facets=[selection("Na", ["110"]), selection("Na2S", ["111"]), selection("Na3P", ["001"])],
        candidates=cands,
        calculator="CHGNet",
        refine_calculator="CHGNet",
        n_refine=2,
        dominant={"Na2S": cands[0].candidate_id, "Na3P": cands[1].candidate_id},
        recommended_for_transport=[],
        flow_completed_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    return doc.model_dump()


SURFACES_FILE = Path(__file__).parent / "reference" / "screen_surfaces.json"


def store_surfaces(data_dir: Path) -> Path:
    """An embedded store holding real CHGNet surfaces of Li, Li2S, Li3P and LiCl (index <= 1).

    What a screen reuses: the ``surface_materials`` documents and the bulk relaxations' task
    outputs (tests/reference/screen_surfaces.json, taken from a run of the demo's surfaces).
    """
    from interfacial.settings import InterfacialSettings
    from interfacial.stores import SURFACE_MATERIALS, derived_store, get_job_store

    data = json.loads(SURFACES_FILE.read_text())
    settings = InterfacialSettings(data_dir=data_dir)
    materials = derived_store(SURFACE_MATERIALS, "bulk_uuid", settings)
    materials.connect()
    try:
        materials.update(data["surface_materials"], key="bulk_uuid")
    finally:
        materials.close()
    jobs = get_job_store(settings).docs_store
    jobs.connect()
    try:
        jobs.update(data["bulk_tasks"], key=["uuid", "index"])
    finally:
        jobs.close()
    return data_dir
