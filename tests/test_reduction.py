"""The electrolyte's full reduction by the metal: balances, fractions, errors, stability.

Every coefficient is checked against a balance written out by hand in the test, and every
volume fraction against volumes computed from the built-in lattice constants (not from the
structures the code reads).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from pymatgen.core import Lattice, Structure

from interfacial.errors import InterfacialError
from interfacial.schemas.screening import ReductionProductDocument
from interfacial.screening.reduction import (
    ELECTROLYTE_ALIASES,
    electrolyte_composition,
    format_amount,
    product_structures,
    reduce_electrolyte,
    stability_notes,
)
from interfacial.structures.library import load_structure

# Volumes per formula unit from the library's lattice constants (A^3), by hand:
# antifluorite / rocksalt: a^3 / 4 (Z = 4); Na3As type (P6_3/mmc): sqrt(3)/2 a^2 c / 2 (Z = 2);
# alpha-Li3N (P6/mmm): sqrt(3)/2 a^2 c (Z = 1).
V_LI2S = 5.708**3 / 4
V_LI2O = 4.611**3 / 4
V_LICL = 5.130**3 / 4
V_LI3P = math.sqrt(3) / 2 * 4.273**2 * 7.594 / 2
V_LI3N = math.sqrt(3) / 2 * 3.648**2 * 3.875
V_NA2S = 6.537**3 / 4
V_NA3P = math.sqrt(3) / 2 * 4.988**2 * 8.826 / 2


def coefficients(reduction) -> dict[str, float]:
    return {p.label: p.coefficient for p in reduction.products}


def check_fractions(reduction, volumes: dict[str, float]) -> None:
    n = coefficients(reduction)
    total_n = sum(n.values())
    total_v = sum(n[k] * volumes[k] for k in n)
    for p in reduction.products:
        assert p.molar_fraction == pytest.approx(n[p.label] / total_n, rel=1e-12)
        assert p.volume_fraction == pytest.approx(n[p.label] * volumes[p.label] / total_v, rel=1e-9)


def one_line(error: pytest.ExceptionInfo) -> str:
    message = str(error.value)
    assert "\n" not in message
    assert "Traceback" not in message
    return message


# --------------------------------------------------------------------------------------------
# The four electrolytes of the design and Li3PO4
# --------------------------------------------------------------------------------------------


def test_argyrodite():
    r = reduce_electrolyte("Li6PS5Cl", "Li")
    # P: 1 -> 1 Li3P; S: 5 -> 5 Li2S; Cl: 1 -> 1 LiCl; Li: 3*1 + 2*5 + 1*1 - 6 = 8
    assert coefficients(r) == pytest.approx({"Li3P": 1.0, "Li2S": 5.0, "LiCl": 1.0})
    assert r.metal_coefficient == pytest.approx(3 + 10 + 1 - 6)
    assert r.equation() == "Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl"
    assert [p.element for p in r.products] == ["P", "S", "Cl"]
    assert (r.electrolyte, r.formula, r.metal) == ("Li6PS5Cl", "Li6PS5Cl", "Li")
    check_fractions(r, {"Li3P": V_LI3P, "Li2S": V_LI2S, "LiCl": V_LICL})
    # molar fractions 1/7, 5/7, 1/7
    assert [p.molar_fraction for p in r.products] == pytest.approx([1 / 7, 5 / 7, 1 / 7])


def test_li3ps4():
    r = reduce_electrolyte("Li3PS4", "Li")
    # P: 1 Li3P; S: 4 Li2S; Li: 3 + 8 - 3 = 8
    assert coefficients(r) == pytest.approx({"Li3P": 1.0, "Li2S": 4.0})
    assert r.metal_coefficient == pytest.approx(8.0)
    assert r.equation() == "Li3PS4 + 8 Li -> Li3P + 4 Li2S"
    check_fractions(r, {"Li3P": V_LI3P, "Li2S": V_LI2S})


def test_na3ps4_against_sodium():
    r = reduce_electrolyte("Na3PS4", "Na")
    # P: 1 Na3P; S: 4 Na2S; Na: 3 + 8 - 3 = 8
    assert coefficients(r) == pytest.approx({"Na3P": 1.0, "Na2S": 4.0})
    assert r.metal_coefficient == pytest.approx(8.0)
    assert r.equation() == "Na3PS4 + 8 Na -> Na3P + 4 Na2S"
    check_fractions(r, {"Na3P": V_NA3P, "Na2S": V_NA2S})


def test_lipon_alias_is_the_cited_composition_with_fractional_coefficients():
    assert ELECTROLYTE_ALIASES["LiPON"] == "Li2.9PO3.3N0.46"
    r = reduce_electrolyte("LiPON", "Li")
    # P: 1 -> 1 Li3P; O: 3.3 -> 3.3 Li2O; N: 0.46 -> 0.46 Li3N;
    # Li: 3*1 + 2*3.3 + 3*0.46 - 2.9 = 3 + 6.6 + 1.38 - 2.9 = 8.08
    assert coefficients(r) == pytest.approx({"Li3P": 1.0, "Li2O": 3.3, "Li3N": 0.46})
    assert r.metal_coefficient == pytest.approx(8.08)
    assert r.electrolyte == "LiPON"
    assert r.formula == "Li2.9PO3.3N0.46"
    assert r.equation() == "Li2.9PO3.3N0.46 + 8.08 Li -> Li3P + 3.3 Li2O + 0.46 Li3N"
    check_fractions(r, {"Li3P": V_LI3P, "Li2O": V_LI2O, "Li3N": V_LI3N})
    # case-insensitive name
    assert coefficients(reduce_electrolyte("lipon", "Li")) == pytest.approx(coefficients(r))


def test_li3po4():
    r = reduce_electrolyte("Li3PO4", "Li")
    # P: 1 Li3P; O: 4 Li2O; Li: 3 + 8 - 3 = 8
    assert r.equation() == "Li3PO4 + 8 Li -> Li3P + 4 Li2O"
    assert coefficients(r) == pytest.approx({"Li3P": 1.0, "Li2O": 4.0})
    check_fractions(r, {"Li3P": V_LI3P, "Li2O": V_LI2O})


def test_fractional_formula_other_lipon():
    # Li3.3PO3.9N0.17: Li = 3 + 2*3.9 + 3*0.17 - 3.3 = 8.01
    r = reduce_electrolyte("Li3.3PO3.9N0.17", "Li")
    assert coefficients(r) == pytest.approx({"Li3P": 1.0, "Li2O": 3.9, "Li3N": 0.17})
    assert r.metal_coefficient == pytest.approx(8.01)
    assert r.equation() == "Li3.3PO3.9N0.17 + 8.01 Li -> Li3P + 3.9 Li2O + 0.17 Li3N"


def test_already_reduced_electrolyte_needs_no_metal():
    r = reduce_electrolyte("Li2S", "Li")
    assert r.metal_coefficient == 0.0
    assert r.equation() == "Li2S -> Li2S"


def test_documents_carry_the_products():
    r = reduce_electrolyte("Li6PS5Cl", "Li")
    docs = r.documents()
    assert all(isinstance(d, ReductionProductDocument) for d in docs)
    assert [(d.label, d.formula, d.element, d.coefficient) for d in docs] == [
        ("Li3P", "Li3P", "P", 1.0),
        ("Li2S", "Li2S", "S", 5.0),
        ("LiCl", "LiCl", "Cl", 1.0),
    ]
    assert sum(d.volume_fraction for d in docs) == pytest.approx(1.0)
    assert all(d.stable is None for d in docs)


def test_format_amount():
    assert format_amount(8.0000000001) == "8"
    assert format_amount(8.08) == "8.08"
    assert format_amount(1 / 3) == "0.333"
    assert format_amount(2.5) == "2.5"


def test_default_products_are_the_builtin_binaries():
    assert set(product_structures("Li")) == {"Li2S", "Li2O", "LiCl", "Li3N", "Li3P"}
    assert set(product_structures("Na")) == {"Na2S", "Na2O", "Na3P"}


# --------------------------------------------------------------------------------------------
# Structure files
# --------------------------------------------------------------------------------------------


def grid_structure(species: list[str], a: float = 10.0) -> Structure:
    """A cubic cell with the atoms on a coarse grid (>= 2.5 A apart): only the composition
    and the volume matter for the reduction."""
    n = math.ceil(len(species) ** (1 / 3))
    coords = [[(i % n) / n, (i // n % n) / n, (i // (n * n)) / n] for i in range(len(species))]
    return Structure(Lattice.cubic(a), species, coords)


def write(structure: Structure, path: Path) -> Path:
    structure.to(filename=str(path))
    return path


def test_electrolyte_from_a_structure_file(tmp_path):
    path = write(grid_structure(["Li"] * 6 + ["P"] * 2 + ["S"] * 8), tmp_path / "lps.cif")
    label, composition = electrolyte_composition(path)
    assert label == "Li3PS4"
    assert composition.reduced_formula == "Li3PS4"
    r = reduce_electrolyte(path, "Li")
    assert r.equation() == "Li3PS4 + 8 Li -> Li3P + 4 Li2S"
    assert r.electrolyte == "Li3PS4"


def test_product_from_a_structure_file_and_the_most_metal_rich_choice(tmp_path):
    # Li10GeP2S12 with a (made-up) Li4Ge binary from a file:
    # Ge: 1 -> 1 Li4Ge; P: 2 -> 2 Li3P; S: 12 -> 12 Li2S; Li: 4 + 6 + 24 - 10 = 24
    li4ge = write(grid_structure(["Li"] * 4 + ["Ge"]), tmp_path / "POSCAR_Li4Ge")
    li2s2 = write(grid_structure(["Li", "Li", "S", "S"], a=6.0), tmp_path / "li2s2.cif")
    products = product_structures("Li", ["Li2S", "Li3P", li4ge, li2s2])
    assert set(products) == {"Li2S", "Li3P", "Li4Ge", "LiS"}
    r = reduce_electrolyte("Li10GeP2S12", "Li", products)
    assert r.equation() == "Li10GeP2S12 + 24 Li -> Li4Ge + 2 Li3P + 12 Li2S"
    # Li2S (Li/S = 2) beats Li2S2 (Li/S = 1); only the products used are returned
    assert [p.label for p in r.products] == ["Li4Ge", "Li3P", "Li2S"]
    volume_li4ge = 10.0**3  # one formula unit in the 10 A cell
    check_fractions(r, {"Li4Ge": volume_li4ge, "Li3P": V_LI3P, "Li2S": V_LI2S})
    # Without Li2S the disulfide carries S: per LiS formula unit n = 12 / 1, Li = 4 + 6 + 12 - 10
    r2 = reduce_electrolyte("Li10GeP2S12", "Li", product_structures("Li", ["Li3P", li4ge, li2s2]))
    assert r2.equation() == "Li10GeP2S12 + 12 Li -> Li4Ge + 2 Li3P + 12 LiS"


# --------------------------------------------------------------------------------------------
# Errors: one line, naming the input, saying what to give
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["Xyz", "li6ps5cl", "Li6PS5Cl!", "LiX2"])
def test_unknown_electrolyte(text):
    with pytest.raises(InterfacialError) as error:
        reduce_electrolyte(text, "Li")
    message = one_line(error)
    assert message == (
        f"electrolyte '{text}': not a formula, a known name (LiPON) or a structure file; "
        "give its formula, e.g. Li6PS5Cl"
    )


def test_missing_electrolyte_file(tmp_path):
    with pytest.raises(InterfacialError) as error:
        reduce_electrolyte(tmp_path / "nothere.cif", "Li")
    message = one_line(error)
    assert "nothere.cif" in message and "no such file" in message and "give" in message


def test_single_element_electrolyte():
    with pytest.raises(InterfacialError, match=r"'S' holds only S: nothing to reduce; give"):
        reduce_electrolyte("S", "Li")


def test_metal_absent_from_the_electrolyte():
    with pytest.raises(InterfacialError) as error:
        reduce_electrolyte("Li3PS4", "Na")
    assert one_line(error) == "Li3PS4 holds no Na: screen it against its own metal (--metal Li)"


def test_metal_not_alkali():
    with pytest.raises(InterfacialError) as error:
        reduce_electrolyte("Li3PS4", "Fe")
    message = one_line(error)
    assert "'Fe'" in message and "alkali" in message and "--metal Li" in message


def test_element_without_a_known_product():
    with pytest.raises(InterfacialError) as error:
        reduce_electrolyte("Li10GeP2S12", "Li")
    message = one_line(error)
    assert "Li10GeP2S12" in message
    assert "no known Li-Ge product" in message
    assert "--compounds Li3P Li2S Li-Ge.cif" in message


def test_unbalanceable_electrolyte():
    # Li4S: the products (Li2S) take 2 Li per S; the metal coefficient would be -2
    with pytest.raises(InterfacialError) as error:
        reduce_electrolyte("Li4S", "Li")
    message = one_line(error)
    assert "'Li4S'" in message and "more Li (4" in message and "(2)" in message


def test_compound_of_another_metal():
    with pytest.raises(InterfacialError) as error:
        product_structures("Li", ["Na2S"])
    message = one_line(error)
    assert "'Na2S'" in message and "holds no Li" in message and "give binaries of Li" in message


def test_compound_that_is_not_a_binary(tmp_path):
    path = write(grid_structure(["Li"] * 3 + ["P"] + ["S"] * 4), tmp_path / "Li3PS4.cif")
    with pytest.raises(InterfacialError) as error:
        product_structures("Li", [path])
    message = one_line(error)
    assert "Li3PS4.cif" in message and "not a binary of Li" in message


def test_compound_missing_file_keeps_the_readers_words(tmp_path):
    missing = tmp_path / "Li15Ge4.cif"
    with pytest.raises(InterfacialError) as error:
        product_structures("Li", ["Li2S", missing])
    with pytest.raises(InterfacialError) as direct:
        load_structure(missing)
    assert one_line(error) == str(direct.value)


def test_two_compounds_with_the_same_label(tmp_path):
    path = write(grid_structure(["Li", "Li", "S"]), tmp_path / "my_li2s.cif")
    with pytest.raises(InterfacialError) as error:
        product_structures("Li", ["Li2S", path])
    message = one_line(error)
    assert "'Li2S'" in message and "my_li2s.cif" in message and "one structure" in message


def test_products_mapping_with_a_non_binary():
    ternary = grid_structure(["Li"] * 3 + ["P"] + ["S"] * 4)
    with pytest.raises(InterfacialError, match=r"product 'LPS' \(Li3PS4\) is not a binary of Li"):
        reduce_electrolyte("Li3PS4", "Li", {"LPS": ternary, "Li2S": load_structure("Li2S")})


# --------------------------------------------------------------------------------------------
# Stability at the metal's chemical potential
# --------------------------------------------------------------------------------------------

MU_LI = -1.9  # eV/atom: the metal's energy per atom sets mu_Li


def stability_case(e_li2s: float, e_li2s2: float) -> dict[str, str | None]:
    """Energies per formula unit (eV); the cells hold 4 Li2S and 1 Li2S2 formula units."""
    li = load_structure("Li")
    li2s = load_structure("Li2S")
    li3p = load_structure("Li3P")
    li2s2 = grid_structure(["Li", "Li", "S", "S"], a=6.0)
    reduction = reduce_electrolyte("Li3PS4", "Li")
    return stability_notes(
        reduction,
        (li, MU_LI * len(li)),
        {
            "Li2S": (li2s, 4 * e_li2s),
            "Li2S2": (li2s2, e_li2s2),
            "Li3P": (li3p, 2 * -8.0),
        },
    )


def grand_potential_per_s(energy: float, n_li: int, n_s: int) -> float:
    """Phi / N_S = (E - mu_Li N_Li) / N_S, the closed form at the Li vertex."""
    return (energy - MU_LI * n_li) / n_s


def test_product_above_the_grand_potential_hull():
    e_li2s, e_li2s2 = -7.5, -12.0
    notes = stability_case(e_li2s, e_li2s2)
    # Li open at mu_Li: every Li-S phase sits at the S vertex; the lowest Phi per S wins.
    expected = grand_potential_per_s(e_li2s, 2, 1) - grand_potential_per_s(e_li2s2, 2, 2)
    assert expected == pytest.approx(0.4)
    note = notes["Li2S"]
    assert note is not None and "\n" not in note
    assert int(re.search(r"(\d+) meV", note).group(1)) == round(1000 * expected)
    assert "Li2S2" in note
    assert notes["Li2S2"] is None
    assert notes["Li3P"] is None


def test_all_products_stable():
    e_li2s, e_li2s2 = -8.5, -12.0
    notes = stability_case(e_li2s, e_li2s2)
    assert notes["Li2S"] is None
    assert notes["Li3P"] is None
    expected = grand_potential_per_s(e_li2s2, 2, 2) - grand_potential_per_s(e_li2s, 2, 1)
    assert int(re.search(r"(\d+) meV", notes["Li2S2"]).group(1)) == round(1000 * expected)


def test_stability_of_the_reduction_products_alone():
    li = load_structure("Li")
    reduction = reduce_electrolyte("Li6PS5Cl", "Li")
    entries = {
        name: (load_structure(name), -3.0 * len(load_structure(name)))
        for name in ("Li3P", "Li2S", "LiCl")
    }
    notes = stability_notes(reduction, (li, MU_LI * len(li)), entries)
    assert notes == {"Li3P": None, "Li2S": None, "LiCl": None}


def test_stability_rejects_an_impure_metal_entry():
    reduction = reduce_electrolyte("Li3PS4", "Li")
    li2s = load_structure("Li2S")
    with pytest.raises(InterfacialError, match="not pure Li"):
        stability_notes(reduction, (li2s, -20.0), {})


def test_stability_without_product_entries_checks_nothing():
    li = load_structure("Li")
    assert stability_notes(reduce_electrolyte("Li3PS4", "Li"), (li, -3.8), {}) == {}
