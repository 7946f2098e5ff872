"""Full reduction of an electrolyte by an alkali metal, and its products.

At the metal's chemical potential (the anode side of a cell) every electrolyte element other
than the metal ends up in a binary with the metal. The screen takes, for each such element X,
the most metal-rich known binary M_a X_b (largest a/b): the phase in equilibrium with the metal
when the candidates are the metal's binaries. For Li6PS5Cl:

    Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl

Coefficients per formula unit of electrolyte: n_p = c_X / b_X(p), with c_X the atoms of X per
electrolyte formula unit and b_X(p) the atoms of X per product formula unit; the metal
coefficient balances the metal, n_M = sum_p n_p a_M(p) - c_M. Fractions: molar x_p = n_p / sum n,
volumetric phi_p = n_p V_p / sum n V (V_p the bulk volume per formula unit, A^3).

Everything here is pure (no store, no job): the screening flow, its dry run and the command line
call these functions.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from interfacial.errors import InterfacialError
from interfacial.schemas.screening import ReductionProductDocument

if TYPE_CHECKING:
    from pymatgen.core import Composition, Structure

#: Electrolytes known by name -> their composition formula.
ELECTROLYTE_ALIASES: dict[str, str] = {
    # Sputtered lithium phosphorus oxynitride (LiPON), the thin-film electrolyte made by
    # RF-sputtering Li3PO4 in N2: composition Li2.9PO3.3N0.46 (ionic conductivity 3.3e-6 S/cm at
    # 25 C), J. B. Bates et al., Solid State Ionics 53-56, 647 (1992). The film is amorphous and
    # its N content varies with deposition; give another composition as a formula.
    "LiPON": "Li2.9PO3.3N0.46",
}

#: Alkali metals a screen can be run against.
ALKALI_METALS = ("Li", "Na", "K", "Rb", "Cs")

#: File name endings taken to mean "a structure file was meant" (for the error message).
_STRUCTURE_SUFFIXES = (
    ".cif",
    ".vasp",
    ".poscar",
    ".xyz",
    ".extxyz",
    ".json",
    ".cssr",
    ".xsf",
    ".mcif",
    ".gz",
    ".bz2",
    ".xz",
)
_STRUCTURE_NAMES = ("POSCAR", "CONTCAR")

#: Balance tolerance (atoms per formula unit of electrolyte).
BALANCE_TOL = 1e-9
#: Coefficients within this of an integer print as that integer.
INTEGER_TOL = 1e-6


@dataclass(frozen=True)
class ReductionProduct:
    """One product of the reduction, per formula unit of electrolyte."""

    label: str
    formula: str
    element: str
    coefficient: float
    molar_fraction: float
    volume_fraction: float | None


@dataclass(frozen=True)
class Reduction:
    """The balanced full reduction of one electrolyte by one metal.

    ``products`` are in the order their element first appears in the electrolyte's formula
    (``formula``: as written for a formula or a known name, pymatgen's electronegativity order
    for a structure file), which is the order the equation prints them in.
    """

    electrolyte: str
    formula: str
    metal: str
    metal_coefficient: float
    products: tuple[ReductionProduct, ...]

    def equation(self) -> str:
        """The balanced equation, e.g. ``'Li6PS5Cl + 8 Li -> Li3P + 5 Li2S + LiCl'``.

        Coefficients within 1e-6 of an integer print as that integer, others with up to three
        decimals; a coefficient of 1 is omitted; a metal coefficient of 0 (an electrolyte that
        is already fully reduced) drops the metal from the left side.
        """
        left = self.formula
        if self.metal_coefficient > INTEGER_TOL:
            left += f" + {_term(self.metal_coefficient, self.metal)}"
        right = " + ".join(_term(p.coefficient, p.formula) for p in self.products)
        return f"{left} -> {right}"

    def documents(self) -> list[ReductionProductDocument]:
        """The products as screening documents (stability not checked: ``stable`` null)."""
        return [
            ReductionProductDocument(
                label=p.label,
                formula=p.formula,
                element=p.element,
                coefficient=p.coefficient,
                molar_fraction=p.molar_fraction,
                volume_fraction=p.volume_fraction,
            )
            for p in self.products
        ]


def format_amount(value: float) -> str:
    """An amount as printed in formulas and equations: '8', '3.3', '0.46', '8.08'."""
    nearest = round(value)
    if abs(value - nearest) < INTEGER_TOL:
        return str(int(nearest))
    return f"{value:.3f}".rstrip("0").rstrip(".")


def _term(coefficient: float, formula: str) -> str:
    text = format_amount(coefficient)
    return formula if text == "1" else f"{text} {formula}"


def composition_formula(composition: Composition) -> str:
    """The formula in the composition's own element order, amounts as :func:`format_amount`.

    pymatgen's ``reduced_formula`` reorders by electronegativity and writes fractional amounts
    with a '1' ('Li2.9P1N0.46O3.3'); this keeps the order the user wrote ('Li2.9PO3.3N0.46').
    """
    parts = []
    for element, amount in composition.items():
        text = format_amount(float(amount))
        parts.append(f"{element}{'' if text == '1' else text}")
    return "".join(parts)


# --------------------------------------------------------------------------------------------
# Parsing the electrolyte
# --------------------------------------------------------------------------------------------


def _looks_like_file(text: str) -> bool:
    name = Path(text).name
    return (
        "/" in text
        or "\\" in text
        or text.lower().endswith(_STRUCTURE_SUFFIXES)
        or any(name.upper().startswith(n) for n in _STRUCTURE_NAMES)
    )


def _unknown_electrolyte(text: str) -> InterfacialError:
    names = ", ".join(ELECTROLYTE_ALIASES)
    return InterfacialError(
        f"electrolyte '{text}': not a formula, a known name ({names}) or a structure file; "
        "give its formula, e.g. Li6PS5Cl"
    )


def electrolyte_composition(electrolyte: str | Path) -> tuple[str, Composition]:
    """The electrolyte's label and composition per formula unit.

    Accepted, in this order: a known name (:data:`ELECTROLYTE_ALIASES`, case-insensitive; the
    label is the name), an existing structure file (label: :func:`structure_label`, composition:
    the reduced composition of the cell), a formula pymatgen's ``Composition`` reads, fractional
    amounts allowed (label: the formula as written, stripped).

    Raises
    ------
    InterfacialError
        For anything else, a missing file, an unreadable file, a formula with unknown elements,
        or a formula with fewer than two elements (nothing to reduce).

    """
    from pymatgen.core import Composition

    text = str(electrolyte).strip()
    if not text:
        raise InterfacialError("electrolyte '': empty; give its formula, e.g. Li6PS5Cl")
    alias = {k.lower(): k for k in ELECTROLYTE_ALIASES}.get(text.lower())
    if alias is not None:
        # Checked before formulas: 'LiPON' also parses as the formula LiPON (one atom each).
        return alias, Composition(ELECTROLYTE_ALIASES[alias])
    path = Path(text).expanduser()
    if path.exists():
        from interfacial.structures.library import load_structure, structure_label

        structure = load_structure(path)
        composition = structure.composition.reduced_composition
        label = structure_label(path, structure)
        _check_compound(label, composition)
        return label, Composition(composition.reduced_formula)
    if _looks_like_file(text):
        raise InterfacialError(
            f"electrolyte '{text}': no such file; give an existing structure file or the "
            "electrolyte's formula, e.g. Li6PS5Cl"
        )
    if not re.fullmatch(r"[A-Za-z0-9.()\[\]]+", text):
        raise _unknown_electrolyte(text)
    try:
        composition = Composition(text)
    except (ValueError, KeyError, TypeError):
        raise _unknown_electrolyte(text) from None
    if not composition.valid or composition.num_atoms <= 0:
        raise _unknown_electrolyte(text)
    _check_compound(text, composition)
    return text, composition


def _check_compound(label: str, composition: Composition) -> None:
    if len(composition.elements) < 2:
        raise InterfacialError(
            f"electrolyte '{label}' holds only {composition.elements[0]}: nothing to reduce; "
            "give a compound, e.g. Li6PS5Cl"
        )


# --------------------------------------------------------------------------------------------
# Candidate products
# --------------------------------------------------------------------------------------------


def check_metal(metal: str) -> str:
    """Return the metal's symbol if it is an alkali metal, else raise a one-line error."""
    text = str(metal).strip()
    if text not in ALKALI_METALS:
        raise InterfacialError(
            f"metal '{metal}' is not an alkali metal; give one of {', '.join(ALKALI_METALS)} "
            "(e.g. --metal Li)"
        )
    return text


def binary_partner(metal: str, composition: Composition) -> str | None:
    """The other element of a binary of ``metal`` (None when not such a binary)."""
    symbols = {str(e) for e in composition.elements}
    if metal not in symbols or len(symbols) != 2:
        return None
    (other,) = symbols - {metal}
    return other


def product_structures(
    metal: str, compounds: Sequence[str | Path] | None = None
) -> dict[str, Structure]:
    """The candidate reduction products: label -> bulk structure.

    ``compounds=None`` gives every built-in phase (:mod:`interfacial.structures.library`) that
    is a binary of the metal and one other element (Li: Li2S, Li2O, LiCl, Li3N, Li3P). Given
    entries (built-in names or structure files) are the candidates *instead* of the built-ins:
    list the built-in ones you still want next to your files (``Li2S Li3P Li15Ge4.cif``).
    Labels are :func:`structure_label` (built-in name, else the reduced formula).

    Raises
    ------
    InterfacialError
        For a non-alkali metal, a missing or unreadable file (the reader's own line), an entry
        that is not a binary of the metal, or two entries with the same label.

    """
    from interfacial.structures.library import (
        BUILTIN_PHASES,
        load_structure,
        structure_label,
    )

    metal = check_metal(metal)
    result: dict[str, Structure] = {}
    if compounds is None:
        for name, phase in BUILTIN_PHASES.items():
            structure = phase.structure()
            if binary_partner(metal, structure.composition) is not None:
                result[name] = structure
        return result
    given: dict[str, str] = {}
    for entry in compounds:
        structure = load_structure(entry)
        label = structure_label(entry, structure)
        formula = structure.composition.reduced_formula
        if binary_partner(metal, structure.composition) is None:
            why = (
                f"holds no {metal}"
                if metal not in {str(e) for e in structure.composition.elements}
                else "is not a binary of " + metal + " and one other element"
            )
            raise InterfacialError(
                f"compound '{entry}' ({formula}) {why}; give binaries of {metal} "
                f"(built-in names or structure files), e.g. {_example_binaries(metal)}"
            )
        if label in result:
            raise InterfacialError(
                f"compounds '{given[label]}' and '{entry}' are both {label}; give one structure "
                "per product"
            )
        given[label] = str(entry)
        result[label] = structure
    return result


def _example_binaries(metal: str) -> str:
    from interfacial.structures.library import BUILTIN_PHASES

    names = [
        n
        for n, p in BUILTIN_PHASES.items()
        if binary_partner(metal, p.structure().composition) is not None
    ]
    return " ".join(names[:2]) if names else f"{metal}2S.cif"


# --------------------------------------------------------------------------------------------
# The reduction
# --------------------------------------------------------------------------------------------


def volume_per_formula_unit(structure: Structure) -> float:
    """Bulk volume per formula unit of the reduced formula (A^3): V_cell / Z."""
    _, z = structure.composition.get_reduced_composition_and_factor()
    return float(structure.volume) / float(z)


def reduce_electrolyte(
    electrolyte: str | Path,
    metal: str,
    products: Mapping[str, Structure] | None = None,
) -> Reduction:
    """Balance the full reduction of ``electrolyte`` by ``metal``.

    Rules: the metal must be an alkali metal present in the electrolyte; every other element X
    goes to the most metal-rich binary (largest a_M/b_X atom ratio of the reduced formula)
    among the ``products`` holding X (default :func:`product_structures`; ties keep the first
    given); n_p = c_X / b_X(p); n_M = sum_p n_p a_M(p) - c_M (0: already fully reduced). Every
    element is checked to balance within 1e-9 atoms per formula unit. Only the products used
    are in the result, ordered by their element's first appearance in the formula.

    Raises
    ------
    InterfacialError
        Unknown electrolyte, a non-alkali metal or one absent from the electrolyte, an element
        with no candidate product (the line says which binary to give), a candidate that is
        not a binary of the metal, or a negative metal coefficient (the electrolyte holds more
        metal than its products take).

    """
    label, composition = electrolyte_composition(electrolyte)
    formula = composition_formula(composition)
    metal = check_metal(metal)
    symbols = [str(e) for e in composition]
    if metal not in symbols:
        own = [s for s in symbols if s in ALKALI_METALS]
        fix = (
            f"screen it against its own metal (--metal {own[0]})"
            if own
            else "screen an electrolyte that holds the metal"
        )
        raise InterfacialError(f"{label} holds no {metal}: {fix}")
    candidates = dict(product_structures(metal) if products is None else products)
    compositions = {}
    for name, structure in candidates.items():
        reduced = structure.composition.reduced_composition
        if binary_partner(metal, reduced) is None:
            raise InterfacialError(
                f"product '{name}' ({reduced.reduced_formula}) is not a binary of {metal} and "
                f"one other element; give binaries of {metal}"
            )
        compositions[name] = reduced

    chosen: list[tuple[str, str]] = []  # (element, product label)
    missing: list[str] = []
    for element in symbols:
        if element == metal:
            continue
        holding = [n for n, c in compositions.items() if c[element] > 0]
        if not holding:
            missing.append(element)
            continue
        best = max(holding, key=lambda n: compositions[n][metal] / compositions[n][element])
        chosen.append((element, best))
    if missing:
        raise InterfacialError(
            _no_product_message(label, metal, missing, compositions, [n for _, n in chosen])
        )

    coefficients = {
        name: float(composition[element]) / float(compositions[name][element])
        for element, name in chosen
    }
    metal_coefficient = sum(
        n * float(compositions[name][metal]) for name, n in coefficients.items()
    ) - float(composition[metal])
    if metal_coefficient < -BALANCE_TOL:
        taken = metal_coefficient + float(composition[metal])
        raise InterfacialError(
            f"electrolyte '{label}' holds more {metal} ({format_amount(composition[metal])} per "
            f"formula unit) than its products take ({format_amount(taken)}): no balanced "
            f"reduction by {metal}; check the formula"
        )
    metal_coefficient = max(metal_coefficient, 0.0)
    _check_balance(label, composition, metal, metal_coefficient, coefficients, compositions)

    volumes = {name: volume_per_formula_unit(candidates[name]) for name in coefficients}
    total_n = sum(coefficients.values())
    total_v = sum(n * volumes[name] for name, n in coefficients.items())
    result = tuple(
        ReductionProduct(
            label=name,
            formula=compositions[name].reduced_formula,
            element=element,
            coefficient=coefficients[name],
            molar_fraction=coefficients[name] / total_n,
            volume_fraction=coefficients[name] * volumes[name] / total_v if total_v > 0 else None,
        )
        for element, name in chosen
    )
    return Reduction(
        electrolyte=label,
        formula=formula,
        metal=metal,
        metal_coefficient=metal_coefficient,
        products=result,
    )


def _no_product_message(
    label: str,
    metal: str,
    missing: Sequence[str],
    compositions: Mapping[str, Composition],
    used: Sequence[str],
) -> str:
    known = ", ".join(compositions) or "none"
    binaries = " or ".join(f"{metal}-{element}" for element in missing)
    files = " ".join([*used, *(f"{metal}-{element}.cif" for element in missing)])
    return (
        f"{label}: no known {binaries} product among the candidates ({known}); give its "
        f"structure file with the products still wanted, e.g. --compounds {files}"
    )


def _check_balance(
    label: str,
    composition: Composition,
    metal: str,
    metal_coefficient: float,
    coefficients: Mapping[str, float],
    compositions: Mapping[str, Composition],
) -> None:
    """Every element: electrolyte + metal side equals the products' side within 1e-9."""
    elements = {str(e) for e in composition} | {
        str(e) for name in coefficients for e in compositions[name]
    }
    for element in sorted(elements):
        left = float(composition[element]) + (metal_coefficient if element == metal else 0.0)
        right = sum(n * float(compositions[name][element]) for name, n in coefficients.items())
        if not math.isclose(left, right, rel_tol=0.0, abs_tol=BALANCE_TOL):
            raise InterfacialError(
                f"the reduction of '{label}' does not balance {element} ({left:g} vs "
                f"{right:g}); give binaries of {metal} that hold one electrolyte element each"
            )


# --------------------------------------------------------------------------------------------
# Stability of the products at the metal's chemical potential
# --------------------------------------------------------------------------------------------

#: eV/atom added above the highest computed energy per atom to place an element with no
#: computed elemental phase: high enough that it is never a decomposition product.
ABSENT_ELEMENT_OFFSET = 100.0
#: e_above_hull (eV per non-metal atom) counted as on the hull.
HULL_TOL = 1e-6


def stability_notes(
    reduction: Reduction,
    metal_entry: tuple[Structure, float],
    product_entries: Mapping[str, tuple[Structure, float]],
) -> dict[str, str | None]:
    """Which products are on the grand-potential hull at mu_metal = E(metal)/atom.

    Builds pymatgen ``ComputedEntry`` objects from (structure, total energy in eV) pairs: the
    metal, and every entry of ``product_entries`` (the reduction's products and any competing
    phase the caller computed, e.g. Li2S2 next to Li2S), and a
    ``GrandPotentialPhaseDiagram`` open to the metal at mu_metal = E(metal)/atom, i.e. in
    contact with the metal anode. The grand potential of an entry is
    Phi = E - mu_metal N_metal, per non-metal atom.

    What the check sees: only the phases given. A product is judged against the other given
    phases of its elements; a phase nobody computed (another polymorph, a ternary) cannot make
    it unstable, so "stable" means "stable among these". Elements without a computed elemental
    phase (S, P, Cl...) get a terminal entry at ``ABSENT_ELEMENT_OFFSET`` eV/atom above the
    highest computed energy per atom: the diagram needs a terminal per element, and placed that
    high it is never a decomposition product, so it decides nothing.

    Returns
    -------
    dict
        label -> None when on the hull (within 1e-6 eV per non-metal atom), else one line:
        e_above_hull in meV per non-metal atom and the decomposition. Every label of
        ``product_entries`` is checked.

    """
    from pymatgen.analysis.phase_diagram import GrandPotentialPhaseDiagram, PDEntry
    from pymatgen.core import Composition, Element
    from pymatgen.entries.computed_entries import ComputedEntry

    metal = reduction.metal
    metal_structure, metal_energy = metal_entry
    if {str(e) for e in metal_structure.composition.elements} != {metal}:
        raise InterfacialError(
            f"metal entry {metal_structure.composition.reduced_formula} is not pure {metal}; "
            f"give the relaxed {metal} bulk and its energy"
        )
    mu = float(metal_energy) / metal_structure.composition.num_atoms
    if not product_entries:
        return {}
    entries: list[Any] = [
        ComputedEntry(metal_structure.composition, float(metal_energy), entry_id=metal)
    ]
    labelled: dict[str, ComputedEntry] = {}
    for name, (structure, energy) in product_entries.items():
        entry = ComputedEntry(structure.composition, float(energy), entry_id=name)
        labelled[name] = entry
        entries.append(entry)
    present = {str(e) for entry in entries for e in entry.composition.elements}
    computed_elements = {
        str(entry.composition.elements[0]) for entry in entries if entry.composition.is_element
    }
    ceiling = max(e.energy_per_atom for e in entries) + ABSENT_ELEMENT_OFFSET
    for element in sorted(present - computed_elements):
        entries.append(PDEntry(Composition(element), ceiling, name=f"{element} (placeholder)"))

    diagram = GrandPotentialPhaseDiagram(entries, {Element(metal): mu})
    notes: dict[str, str | None] = {}
    grand_entries: list[Any] = list(diagram.all_entries)
    for name, entry in labelled.items():
        grand = next(g for g in grand_entries if g.original_entry is entry)
        decomp, e_above_hull = diagram.get_decomp_and_e_above_hull(grand, allow_negative=True)
        decomposition: dict[Any, float] = decomp or {}
        e_above = float(e_above_hull or 0.0)
        if e_above <= HULL_TOL:
            notes[name] = None
            continue
        into = " + ".join(
            sorted(
                str(getattr(g.original_entry, "entry_id", None) or g.original_entry.name)
                for g in decomposition
            )
        )
        notes[name] = (
            f"{name}: {1000 * e_above:.0f} meV per non-{metal} atom above the hull of the "
            f"computed phases at mu_{metal} = E({metal}) = {mu:.3f} eV/atom; decomposes to "
            f"{into} (exchanging {metal} with the metal)"
        )
    return notes


__all__ = [
    "ALKALI_METALS",
    "ELECTROLYTE_ALIASES",
    "Reduction",
    "ReductionProduct",
    "check_metal",
    "composition_formula",
    "electrolyte_composition",
    "format_amount",
    "product_structures",
    "reduce_electrolyte",
    "stability_notes",
    "volume_per_formula_unit",
]
