"""Slab enumeration: stoichiometry, symmetry (checked independently by the dipole), Tasker."""

import numpy as np
import pytest

from interfacial.errors import InterfacialError
from interfacial.structures.library import builtin_names, load_structure
from interfacial.structures.slabs import (
    build_slab,
    check_thickness,
    distinct_facets,
    enumerate_terminations,
    parse_miller,
)

OXIDATION = {"Li": 1, "Na": 1, "S": -2, "O": -2, "Cl": -1, "N": -3, "P": -3}


def dipole_per_area(slab) -> float:
    """Formal-charge dipole along the normal per area (e*A/A^2): zero for a symmetric slab."""
    z = slab.cart_coords[:, 2]
    charges = np.array([OXIDATION[site.specie.symbol] for site in slab])
    assert charges.sum() == 0
    area = np.linalg.norm(np.cross(slab.lattice.matrix[0], slab.lattice.matrix[1]))
    return float(np.dot(charges, z - z.mean()) / area)


def top_and_bottom_layers_match(slab, tol=0.1) -> bool:
    z = slab.cart_coords[:, 2]
    species = np.array([s.specie.symbol for s in slab])
    top = sorted(species[z > z.max() - tol])
    bottom = sorted(species[z < z.min() + tol])
    return top == bottom


@pytest.mark.parametrize("name", builtin_names())
def test_every_usable_slab_is_stoichiometric_and_symmetric(name):
    bulk = load_structure(name)
    for miller in distinct_facets(bulk, 1):
        facet = enumerate_terminations(bulk, miller)
        for termination in facet.usable:
            for n in (1, 2):
                slab = build_slab(bulk, miller, termination.shift, n, 15.0)
                ratio = slab.composition.num_atoms / bulk.composition.num_atoms
                assert slab.composition == bulk.composition * ratio, (name, miller)
                assert slab.composition.reduced_formula == bulk.composition.reduced_formula
                assert top_and_bottom_layers_match(slab), (name, miller, termination.label, n)
                if len(bulk.composition) > 1:
                    assert abs(dipole_per_area(slab)) < 1e-3, (name, miller, termination.label)


def test_li2s_100_is_tasker_3_with_no_slab_and_a_reason():
    facet = enumerate_terminations(load_structure("Li2S"), (1, 0, 0))
    assert facet.tasker_type == 3
    assert facet.usable == []
    assert "Tasker type 3" in facet.reason


def test_li2s_111_is_tasker_2_with_a_li_terminated_slab():
    facet = enumerate_terminations(load_structure("Li2S"), (1, 1, 1))
    assert facet.tasker_type == 2
    assert [t.label for t in facet.usable] == ["t1-Li"]


def test_polar_termination_is_detected_by_the_dipole_test_too():
    # The S-terminated Li2S(111) slab is stoichiometric but not symmetric: it has a dipole.
    bulk = load_structure("Li2S")
    facet = enumerate_terminations(bulk, (1, 1, 1))
    polar = next(t for t in facet.terminations if not t.symmetric)
    slab = build_slab(bulk, (1, 1, 1), polar.shift, 2, 15.0)
    assert abs(dipole_per_area(slab)) > 0.01


def test_slab_vacuum_and_thickness_follow_the_request():
    bulk = load_structure("Li")
    slab = build_slab(bulk, (1, 1, 0), 0.25, 3, 15.0)
    z = slab.cart_coords[:, 2]
    assert slab.lattice.c - (z.max() - z.min()) >= 15.0
    assert len(slab) == 6  # bcc(110) repeat of two atoms, three repeats


@pytest.mark.parametrize(
    ("text", "expected"),
    [("110", (1, 1, 0)), ("1,1,0", (1, 1, 0)), ("-1 0 1", (-1, 0, 1)), ("(0,0,1)", (0, 0, 1))],
)
def test_parse_miller_accepts_common_spellings(text, expected):
    assert parse_miller(text) == expected


@pytest.mark.parametrize("text", ["0,0,0", "1,1", "a,b,c", "1,1,0,1", "1.5,0,0"])
def test_parse_miller_rejects_bad_input(text):
    with pytest.raises(InterfacialError, match="Miller"):
        parse_miller(text)


@pytest.mark.parametrize(
    ("thickness", "vacuum"), [(-3, 15), (500, 15), (10, 2), (10, float("nan"))]
)
def test_absurd_thickness_or_vacuum_is_rejected(thickness, vacuum):
    with pytest.raises(InterfacialError):
        check_thickness(thickness, vacuum)
