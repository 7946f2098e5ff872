"""Facet selection and candidate ranking of the screening funnel (pure rules).

The surface documents hold the CHGNet surface energies of the demo database (J/m^2); their
Wulff area fractions are computed here with pymatgen's WulffShape on the conventional lattices
of the built-in structures.
"""

from __future__ import annotations

import math

import pytest
from pymatgen.analysis.wulff import WulffShape

from interfacial.errors import InterfacialError
from interfacial.schemas.screening import PRESCREEN, REFINE, ScreeningCandidate, TierResult
from interfacial.schemas.surface import (
    MissingFacet,
    SurfaceMaterialDocument,
    TerminationEnergy,
    WulffFacet,
)
from interfacial.screening.rules import (
    DEFAULT_MAX_GAMMA_RATIO,
    DEFAULT_MIN_AREA_FRACTION,
    DEFAULT_TERMINATION_TOLERANCE,
    candidate_id,
    dominant_by_product,
    facet_label,
    rank_by_adhesion,
    select_facets,
    spearman,
    tier_spearman,
    top_per_product,
    transport_recommendations,
)
from interfacial.structures.library import load_structure

POLAR = (
    "Tasker type 3 (polar): none of the 1 stoichiometric terminations of {} is symmetric; "
    "a reconstruction would be needed"
)

# material -> [(miller, termination, gamma)], and the polar facets (CHGNet, demo database)
GAMMAS = {
    "Li": [
        ((1, 0, 0), "t0-Li", 0.329),
        ((1, 1, 0), "t0-Li", 0.320),
        ((1, 1, 1), "t0-Li", 0.392),
    ],
    "Li2S": [((1, 1, 0), "t0-Li2S", 0.337), ((1, 1, 1), "t1-Li", 0.235)],
    "Li3P": [
        ((0, 0, 1), "t0-Li", 0.381),
        ((0, 0, 1), "t1-Li", 0.381),
        ((1, 0, 0), "t1-Li2P", 0.928),
        ((1, 0, 1), "t0-Li", 0.514),
        ((1, 0, 1), "t3-P", 0.794),
        ((1, 1, 0), "t0-Li3P", 0.524),
        ((1, 1, 1), "t0-Li", 0.575),
    ],
    "LiCl": [((1, 0, 0), "t0-LiCl", 0.104), ((1, 1, 0), "t0-LiCl", 0.221)],
}
POLAR_FACETS = {"Li2S": [(1, 0, 0)], "LiCl": [(1, 1, 1)]}


def surface_document(material: str, *, wulff: bool = True) -> SurfaceMaterialDocument:
    lattice = load_structure(material).lattice
    lowest: dict[tuple[int, ...], tuple[str, float]] = {}
    for miller, term, gamma in GAMMAS[material]:
        if miller not in lowest or gamma < lowest[miller][1]:
            lowest[miller] = (term, gamma)
    millers = list(lowest)
    if wulff:
        shape = WulffShape(lattice, millers, [lowest[m][1] for m in millers])
        fractions = [shape.area_fraction_dict[m] for m in millers]
    else:
        fractions = [None] * len(millers)
    facets = [
        WulffFacet(
            miller_index=list(m),
            termination=lowest[m][0],
            surface_energy=lowest[m][1],
            area_fraction=f,
        )
        for m, f in zip(millers, fractions, strict=True)
    ]
    return SurfaceMaterialDocument(
        bulk_uuid=f"uuid-{material}",
        material=material,
        formula=material,
        calculator="CHGNet",
        lattice=lattice.matrix.tolist(),
        facets=facets,
        missing_facets=[
            MissingFacet(miller_index=list(m), reason=POLAR.format(facet_label(m)))
            for m in POLAR_FACETS.get(material, [])
        ],
        terminations=[
            TerminationEnergy(
                miller_index=list(m), termination=t, surface_energy=g, surface_id=f"{m}/{t}"
            )
            for m, t, g in GAMMAS[material]
        ],
        lowest_facet=list(min(lowest, key=lambda m: lowest[m][1])),
        all_converged=True,
    )


@pytest.fixture(scope="module")
def docs() -> dict[str, SurfaceMaterialDocument]:
    return {m: surface_document(m) for m in GAMMAS}


def chosen(selection) -> dict[tuple[int, ...], list[str]]:
    return {tuple(f.miller_index): f.terminations for f in selection.chosen}


def reasons(selection, miller) -> list[str]:
    return next(f.reasons for f in selection.chosen if tuple(f.miller_index) == miller)


def left_out(selection) -> dict[tuple[int, ...], str]:
    return {
        tuple(e["miller_index"]): e["reason"] for e in selection.left_out if "termination" not in e
    }


def test_defaults_are_the_designed_values():
    assert DEFAULT_MIN_AREA_FRACTION == 0.05
    assert DEFAULT_MAX_GAMMA_RATIO == 1.5
    assert DEFAULT_TERMINATION_TOLERANCE == 0.02


def test_wulff_shapes_of_the_demo_gammas(docs):
    # Li2S(110) has no Wulff area at 0.337/0.235 = 1.43 > 1.22 (the {110} truncation limit of
    # the fcc octahedron); Li3P(111) and LiCl(110) none either.
    area = {(m, tuple(f.miller_index)): f.area_fraction for m, d in docs.items() for f in d.facets}
    assert area["Li2S", (1, 1, 0)] == pytest.approx(0.0, abs=1e-9)
    assert area["Li2S", (1, 1, 1)] == pytest.approx(1.0)
    assert area["LiCl", (1, 0, 0)] == pytest.approx(1.0)
    assert area["Li", (1, 1, 0)] > 0.5
    assert area["Li", (1, 0, 0)] > 0.05


def test_default_selection(docs):
    li = select_facets(docs["Li"])
    assert {(1, 1, 0), (1, 0, 0)} <= set(chosen(li))
    assert "lowest gamma" in reasons(li, (1, 1, 0))
    area_110 = next(f.area_fraction for f in docs["Li"].facets if f.miller_index == [1, 1, 0])
    assert f"Wulff area {100 * area_110:.0f} %" in reasons(li, (1, 1, 0))
    # Li(111): 0.392/0.320 = 1.225 <= 1.5
    assert reasons(li, (1, 1, 1)) == [f"gamma {0.392 / 0.320:.2f}x the lowest"]

    li2s = select_facets(docs["Li2S"])
    assert chosen(li2s) == {(1, 1, 1): ["t1-Li"], (1, 1, 0): ["t0-Li2S"]}
    assert reasons(li2s, (1, 1, 0)) == ["gamma 1.43x the lowest"]
    assert li2s.polar == [[1, 0, 0]]
    assert (1, 0, 0) not in chosen(li2s)

    li3p = select_facets(docs["Li3P"])
    terms = chosen(li3p)
    assert terms[(0, 0, 1)] == ["t0-Li", "t1-Li"]  # equal gamma: both terminations
    assert terms[(1, 0, 1)] == ["t0-Li"]  # t3-P is 0.28 J/m^2 higher
    assert (1, 1, 0) in terms
    assert (1, 0, 0) not in terms and (1, 1, 1) not in terms  # 2.44x and 1.51x the lowest
    dropped = [e for e in li3p.left_out if e.get("termination") == "t3-P"]
    assert len(dropped) == 1 and dropped[0]["miller_index"] == [1, 0, 1]
    assert "0.794" in dropped[0]["reason"]

    licl = select_facets(docs["LiCl"])
    assert chosen(licl) == {(1, 0, 0): ["t0-LiCl"]}
    assert licl.polar == [[1, 1, 1]]
    assert left_out(licl)[(1, 1, 0)].startswith(f"gamma {0.221 / 0.104:.2f}x the lowest > 1.5x")

    assert (li2s.material, li2s.calculator, li2s.bulk_uuid, li2s.reused) == (
        "Li2S",
        "CHGNet",
        "uuid-Li2S",
        False,
    )


def test_selection_from_the_stored_dict(docs):
    as_dict = docs["Li3P"].model_dump(mode="json")
    from_dict = select_facets(as_dict, bulk_uuid="relaxed-bulk", reused=True)
    assert chosen(from_dict) == chosen(select_facets(docs["Li3P"]))
    assert from_dict.bulk_uuid == "relaxed-bulk" and from_dict.reused


def test_narrowing_options(docs):
    # lowest gamma only (ratio 1) still keeps Wulff facets
    li = select_facets(docs["Li"], max_gamma_ratio=1.0)
    assert set(chosen(li)) == {(1, 1, 0), (1, 0, 0)}
    assert set(chosen(select_facets(docs["Li2S"], max_gamma_ratio=1.0))) == {(1, 1, 1)}
    # Wulff area only, 25 % and more
    li3p = select_facets(
        docs["Li3P"], max_gamma_ratio=0.0, include_lowest=False, min_area_fraction=0.25
    )
    areas = {tuple(f.miller_index): f.area_fraction for f in docs["Li3P"].facets}
    assert set(chosen(li3p)) == {m for m, a in areas.items() if a >= 0.25}
    assert all(r[0].startswith("Wulff area") for r in (f.reasons for f in li3p.chosen))
    # a wider termination tolerance pairs Li3P(101) t3-P too
    wide = select_facets(docs["Li3P"], termination_tolerance=0.3)
    assert chosen(wide)[(1, 0, 1)] == ["t0-Li", "t3-P"]


def test_requested_millers(docs):
    li2s = select_facets(docs["Li2S"], millers=[[1, 1, 0]])
    assert chosen(li2s) == {(1, 1, 0): ["t0-Li2S"]}
    assert reasons(li2s, (1, 1, 0))[0] == "requested"
    assert left_out(li2s)[(1, 1, 1)] == "not requested"
    li = select_facets(docs["Li"], millers=["111", (1, 1, 0)])
    assert [tuple(f.miller_index) for f in li.chosen] == [(1, 1, 1), (1, 1, 0)]


def test_requested_polar_or_unknown_facet_is_one_line(docs):
    with pytest.raises(InterfacialError) as error:
        select_facets(docs["Li2S"], millers=[[1, 0, 0]])
    message = str(error.value)
    assert "\n" not in message
    assert "Li2S (100) is polar" in message and "choose among (110), (111)" in message
    with pytest.raises(InterfacialError, match=r"Li \(210\) was not computed .*raise max_index"):
        select_facets(docs["Li"], millers=[[2, 1, 0]])
    with pytest.raises(InterfacialError, match=r"Li \(011\) is stored as \(110\).*give 1,1,0"):
        select_facets(docs["Li"], millers=[[0, 1, 1]])
    # hexagonal Li3P: (0,1,1) is (1,0,1) by the 6-fold axis
    with pytest.raises(InterfacialError, match=r"Li3P \(011\) is stored as \(101\)"):
        select_facets(docs["Li3P"], millers=[[0, 1, 1]])


def test_empty_selection_is_one_line_naming_material_and_options(docs):
    with pytest.raises(InterfacialError) as error:
        select_facets(docs["Li"], max_gamma_ratio=0.0, include_lowest=False, min_area_fraction=0.9)
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith("Li: the facet selection leaves no facet")
    assert "lower min_area_fraction" in message and "raise max_gamma_ratio" in message


def test_option_out_of_range(docs):
    with pytest.raises(InterfacialError, match=r"min_area_fraction 1\.5 is outside"):
        select_facets(docs["Li"], min_area_fraction=1.5)
    with pytest.raises(InterfacialError, match="max_gamma_ratio -1 is outside"):
        select_facets(docs["Li"], max_gamma_ratio=-1)


def test_no_wulff_shape_falls_back_to_gamma_rules():
    doc = surface_document("Li3P", wulff=False)
    selection = select_facets(doc)
    assert set(chosen(selection)) == {(0, 0, 1), (1, 0, 1), (1, 1, 0)}
    for facet in selection.chosen:
        assert facet.area_fraction is None
        assert "no Wulff shape: chosen by the gamma rules" in facet.reasons
        assert not any(r.startswith("Wulff area") for r in facet.reasons)
    assert reasons(selection, (0, 0, 1))[0] == "lowest gamma"


# --------------------------------------------------------------------------------------------
# Candidates
# --------------------------------------------------------------------------------------------


def test_candidate_id():
    assert (
        candidate_id("Li", [1, 1, 0], "t0-Li", "Li2S", (1, 1, 0), "t0-Li2S", 0)
        == "Li(110)t0-Li|Li2S(110)t0-Li2S#0"
    )
    assert candidate_id("Li", (1, -1, 0), "t0-Li", "Li3P", (0, 0, 1), "t1-Li", 2) == (
        "Li(1-10)t0-Li|Li3P(001)t1-Li#2"
    )


def test_rank_by_adhesion():
    assert rank_by_adhesion({"a": 0.5, "b": 0.9, "c": 0.5, "d": -0.1}) == {
        "b": 1,
        "a": 2,
        "c": 3,
        "d": 4,
    }
    assert rank_by_adhesion({"x": math.nan, "y": 0.1}) == {"y": 1, "x": 2}


def test_spearman_without_ties():
    # ranks differ by d = (-1, 1, -1, 1, 0): rho = 1 - 6 sum d^2 / (n (n^2 - 1)) = 1 - 24/120
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    assert spearman([0.1, 0.5, 0.3], [3.0, 1.0, 2.0]) == pytest.approx(-1.0)


def test_spearman_with_ties():
    # average ranks (1, 2.5, 2.5, 4) and (1, 3, 2, 4): Pearson of the ranks =
    # sum dx dy / sqrt(sum dx^2 sum dy^2) = 4.5 / sqrt(4.5 * 5)
    assert spearman([1, 2, 2, 3], [1, 3, 2, 4]) == pytest.approx(4.5 / math.sqrt(22.5))


def test_spearman_needs_three_and_variation():
    assert spearman([1, 2], [2, 1]) is None
    assert spearman([1, 1, 1], [1, 2, 3]) is None
    with pytest.raises(ValueError, match="3 values against 2"):
        spearman([1, 2, 3], [1, 2])


def tier(w: float, name: str = PRESCREEN) -> TierResult:
    return TierResult(
        tier=name,
        calculator="CHGNet",
        interface_id=f"iface/{name}",
        model_id="m0",
        E_f=0.1,
        sigma=0.05,
        strain_energy=0.05,
        W_adhesion=w,
        W_adhesion_eq5=w - 0.05,
        gamma_metal=0.32,
        gamma_compound=0.3,
        wets=w > 0.64,
        strong_adhesion=w > 0.5,
        n_atoms=100,
        n_models=2,
        rank=1,
    )


def candidate(
    product: str, index: int, pre: float | None, ref: float | None = None, mismatch: float = 0.01
) -> ScreeningCandidate:
    return ScreeningCandidate(
        candidate_id=f"{product}#{index}",
        product=product,
        metal_miller=[1, 1, 0],
        compound_miller=[1, 1, 0],
        metal_termination="t0-Li",
        compound_termination="t0",
        cell=index,
        mismatch=mismatch,
        angle_mismatch=0.0,
        area=50.0,
        n_atoms=100,
        prescreen=None if pre is None else tier(pre),
        refine=None if ref is None else tier(ref, REFINE),
    )


@pytest.fixture
def pool() -> list[ScreeningCandidate]:
    return [
        candidate("Li2S", 0, 0.8, 0.60, mismatch=0.02),
        candidate("Li2S", 1, 0.5, 0.70, mismatch=0.08),  # dominant after refining, strained
        candidate("Li2S", 2, 0.3),
        candidate("Li3P", 0, 0.2),
        candidate("Li3P", 1, 0.6, mismatch=0.01),
        candidate("LiCl", 0, -0.2),
        candidate("LiCl", 1, -0.1),
        candidate("Li3N", 0, 0.4, 0.45, mismatch=0.09),
        candidate("Li3N", 1, 0.3, 0.1, mismatch=0.07),
        candidate("Li2O", 0, None),  # failed on every tier
    ]


def test_top_per_product(pool):
    assert top_per_product(pool, 2) == [
        "Li2S#0",
        "Li2S#1",
        "Li3P#1",
        "Li3P#0",
        "LiCl#1",
        "LiCl#0",
        "Li3N#0",
        "Li3N#1",
    ]
    assert top_per_product(pool, 1, tier=REFINE) == ["Li2S#1", "Li3N#0"]
    assert top_per_product(pool, 0) == []


def test_dominant_by_product_uses_the_best_tier(pool):
    # Li2S: refined W 0.70 (#1) beats 0.60 (#0), though #0 led the pre-screen
    assert dominant_by_product(pool) == {
        "Li2S": "Li2S#1",
        "Li3P": "Li3P#1",
        "LiCl": "LiCl#1",
        "Li3N": "Li3N#0",
    }


def test_transport_recommendations(pool):
    recommended = {r["product"]: r for r in transport_recommendations(pool)}
    # Li2S: the dominant #1 has 8 % mismatch -> the best refined candidate under 5 %, #0
    assert recommended["Li2S"]["candidate_id"] == "Li2S#0"
    reason = recommended["Li2S"]["reason"]
    assert "under 5 %" in reason and "Li2S#1" in reason and "8.0 %" in reason
    # Li3P: dominant under 5 %
    assert recommended["Li3P"]["candidate_id"] == "Li3P#1"
    assert recommended["Li3P"]["reason"].startswith("dominant interface of Li3P")
    # LiCl: W < 0, no adhesion, no recommendation
    assert "LiCl" not in recommended
    # Li3N: nothing under 5 %: the dominant, with a caution
    assert recommended["Li3N"]["candidate_id"] == "Li3N#0"
    assert recommended["Li3N"]["reason"].startswith("caution")
    # a looser limit takes the dominant Li2S directly
    loose = {r["product"]: r["candidate_id"] for r in transport_recommendations(pool, 0.1)}
    assert loose["Li2S"] == "Li2S#1"


def test_tier_spearman(pool):
    # only Li2S#0, Li2S#1, Li3N#0, Li3N#1 have both tiers: pre (0.8, 0.5, 0.4, 0.3) ranks
    # (4, 3, 2, 1); refine (0.6, 0.7, 0.45, 0.1) ranks (3, 4, 2, 1): d = (1, -1, 0, 0)
    # rho = 1 - 6 * 2 / (4 * 15) = 0.8
    assert tier_spearman(pool) == pytest.approx(0.8)
    assert tier_spearman(pool[:2]) is None
