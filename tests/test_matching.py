"""Lattice matching: closed-form mismatches, surface meshes, study cells, bad input."""

import json
import math
from functools import cache

import numpy as np
import pytest
from pymatgen.core import Lattice, Structure

from interfacial.analysis.matching import angle_mismatch, mesh_area, vector_mismatch
from interfacial.errors import InterfacialError
from interfacial.structures.library import load_structure as _load_structure
from interfacial.structures.matching import MatchCandidate, NoMatchError, find_matches
from interfacial.structures.meshes import surface_mesh
from interfacial.structures.slabs import (
    DEFAULT_METAL_THICKNESS,
    build_slab,
    enumerate_terminations,
)


@cache
def _cached(name: str) -> Structure:
    return _load_structure(name)


def load_structure(name: str) -> Structure:
    """Built-in bulk, built once per test session (from_spacegroup takes ~0.3 s)."""
    return _cached(name).copy()


STUDY_PAIRS = [
    ("Li", (1, 1, 0), "Li2S", (1, 1, 0)),
    ("Li", (1, 0, 0), "Li3P", (0, 0, 1)),
    ("Li", (1, 1, 0), "LiCl", (1, 0, 0)),
]


def rocksalt(a: float) -> Structure:
    return Structure.from_spacegroup(
        "Fm-3m", Lattice.cubic(a), ["Li", "Cl"], [[0, 0, 0], [0.5, 0.5, 0.5]]
    )


def simple_cubic_li(a: float) -> Structure:
    return Structure(Lattice.cubic(a), ["Li"], [[0, 0, 0]])


def is_same_lattice(m1, m2) -> bool:
    """Two 2x2 integer bases span the same lattice iff m1 inv(m2) is integer and unimodular."""
    t = np.asarray(m1, float) @ np.linalg.inv(np.asarray(m2, float))
    return bool(np.allclose(t, np.round(t), atol=1e-8) and abs(abs(np.linalg.det(t)) - 1) < 1e-8)


@pytest.fixture(scope="module")
def study_candidates() -> dict:
    return {
        pair: find_matches(load_structure(pair[0]), load_structure(pair[2]), pair[1], pair[3])
        for pair in STUDY_PAIRS
    }


# ---------------------------------------------------------------------------------------------
# Pure functions
# ---------------------------------------------------------------------------------------------


def test_vector_mismatch_is_relative_to_the_compound():
    metal = [[3.0, 0, 0], [0, 4.0, 0]]
    compound = [[3.3, 0, 0], [0, 4.0, 0]]
    assert vector_mismatch(metal, compound) == pytest.approx(0.3 / 3.3, abs=1e-12)
    # Not symmetric in its arguments: the reference is the compound.
    assert vector_mismatch(compound, metal) == pytest.approx(0.3 / 3.0, abs=1e-12)
    assert vector_mismatch([[3, 0], [0, 4]], [[3, 0], [0, 4]]) == 0.0


def test_angle_mismatch_square_on_hexagon_is_30_degrees_and_area_formula():
    square = [[1, 0, 0], [0, 1, 0]]
    hexagon = [[1, 0, 0], [-0.5, math.sqrt(3) / 2, 0]]
    assert angle_mismatch(square, hexagon) == pytest.approx(30.0, abs=1e-9)
    assert mesh_area(hexagon) == pytest.approx(math.sqrt(3) / 2, abs=1e-12)
    with pytest.raises(ValueError, match="shape"):
        mesh_area([[1, 0, 0]])


# ---------------------------------------------------------------------------------------------
# Closed-form matches
# ---------------------------------------------------------------------------------------------


def unit_candidate(candidates, metal_det, compound_det):
    found = [
        c
        for c in candidates
        if round(np.linalg.det(c.metal_matrix)) == metal_det
        and round(np.linalg.det(c.compound_matrix)) == compound_det
    ]
    assert found, f"no candidate with metal x{metal_det} on compound x{compound_det}"
    return min(found, key=lambda c: c.mismatch)


def test_bcc_100_on_rocksalt_100_one_by_one_mismatch_is_analytic():
    a_m, a_c = 3.51, 5.13
    candidates = find_matches(
        load_structure("Li"), rocksalt(a_c), (1, 0, 0), (1, 0, 0), max_area=60
    )
    c = unit_candidate(candidates, 1, 1)
    mesh_c = a_c / math.sqrt(2)  # fcc (100): square of side a / sqrt(2)
    assert c.mismatch == pytest.approx(abs(mesh_c - a_m) / mesh_c, abs=1e-6)
    assert c.angle_mismatch == pytest.approx(0.0, abs=1e-6)
    assert c.area == pytest.approx(mesh_c**2, abs=1e-6)


def test_two_by_two_metal_on_one_by_one_compound():
    a_m = 3.51
    mesh_c = 2 * a_m * 1.01  # compound mesh just above twice the metal's
    candidates = find_matches(
        load_structure("Li"), rocksalt(mesh_c * math.sqrt(2)), (1, 0, 0), (1, 0, 0), max_area=60
    )
    c = unit_candidate(candidates, 4, 1)
    assert is_same_lattice(c.metal_matrix, [[2, 0], [0, 2]])
    assert c.mismatch == pytest.approx(abs(mesh_c - 2 * a_m) / mesh_c, abs=1e-6)
    assert c.mismatch == pytest.approx(0.01 / 1.01, abs=1e-6)


def test_square_metal_on_hexagonal_compound_angle_mismatch():
    # Simple cubic "Li" (100) with a = 3 on a Li3P-type (001) with a = 3: equal lengths, 30 deg.
    a = 3.0
    li3p = load_structure("Li3P")
    hexagonal = Structure(
        Lattice.hexagonal(a, li3p.lattice.c * a / li3p.lattice.a),
        li3p.species,
        li3p.frac_coords,
    )
    candidates = find_matches(
        simple_cubic_li(a), hexagonal, (1, 0, 0), (0, 0, 1), max_area=20, max_angle_mismatch=31
    )
    c = unit_candidate(candidates, 1, 1)
    assert c.mismatch == pytest.approx(0.0, abs=1e-9)
    assert c.angle_mismatch == pytest.approx(30.0, abs=1e-6)
    # With the default angle tolerance (5 deg) nothing that small fits.
    with pytest.raises(NoMatchError, match="max_angle_mismatch=5"):
        find_matches(simple_cubic_li(a), hexagonal, (1, 0, 0), (0, 0, 1), max_area=20)


# ---------------------------------------------------------------------------------------------
# Surface meshes
# ---------------------------------------------------------------------------------------------

SQRT2, SQRT3, SQRT6 = math.sqrt(2), math.sqrt(3), math.sqrt(6)
MESH_AREAS = {
    # bcc (110): centred rectangle a x a sqrt2 with two lattice points -> a^2 / sqrt2.
    ("Li", (1, 1, 0)): lambda a, c: a**2 / SQRT2,
    ("Li", (1, 0, 0)): lambda a, c: a**2,
    ("Na", (1, 1, 0)): lambda a, c: a**2 / SQRT2,
    # fcc (110): rectangle a / sqrt2 x a.
    ("Li2S", (1, 1, 0)): lambda a, c: a**2 / SQRT2,
    # fcc (100): square a / sqrt2.
    ("LiCl", (1, 0, 0)): lambda a, c: a**2 / 2,
    ("Li3P", (0, 0, 1)): lambda a, c: SQRT3 / 2 * a**2,
    # bcc (211): planes a / sqrt6 apart, V_prim = a^3 / 2. pymatgen's slab cell is 4x larger.
    ("Li", (2, 1, 1)): lambda a, c: SQRT6 / 2 * a**2,
}


@pytest.mark.parametrize(("name", "miller"), list(MESH_AREAS))
def test_surface_mesh_is_the_primitive_plane_cell(name, miller):
    bulk = load_structure(name)
    mesh = surface_mesh(bulk, miller)
    expected = MESH_AREAS[name, miller](bulk.lattice.a, bulk.lattice.c)
    assert mesh.shape == (2, 3)
    assert np.allclose(mesh[:, 2], 0.0)
    assert mesh_area(mesh) == pytest.approx(expected, rel=1e-6)
    v1, v2 = mesh[0], mesh[1]
    assert np.cross(v1, v2)[2] > 0  # right-handed, normal +z
    assert np.linalg.norm(v1) <= np.linalg.norm(v2) + 1e-9  # Gauss-reduced
    assert abs(v1 @ v2) <= v1 @ v1 / 2 + 1e-9
    # The mesh is a lattice of the slabs build_slab makes (same frame): every mesh translation
    # maps the slab's atoms onto atoms of the same species.
    term = enumerate_terminations(bulk, miller).terminations[0]
    slab = build_slab(bulk, miller, term.shift, 1, 10.0)
    cart = slab.cart_coords
    species = np.array([s.species_string for s in slab])
    for t in mesh:
        moved = slab.lattice.get_fractional_coords(cart + t)
        d = slab.lattice.get_all_distances(moved, slab.frac_coords)
        nearest = d.argmin(axis=1)
        assert d[np.arange(len(slab)), nearest].max() < 1e-3
        assert (species[nearest] == species).all()


def test_li_110_mesh_is_not_doubled():
    li = load_structure("Li")
    assert mesh_area(surface_mesh(li, (1, 1, 0))) == pytest.approx(3.51**2 / SQRT2, rel=1e-9)


# ---------------------------------------------------------------------------------------------
# Study cells
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", STUDY_PAIRS)
def test_study_cells_exist_sorted_consistent_and_unique(study_candidates, pair):
    candidates = study_candidates[pair]
    assert candidates
    assert all(c.mismatch <= 0.15 + 1e-12 and c.angle_mismatch <= 5 + 1e-9 for c in candidates)
    assert all(c.area <= 150 + 1e-9 for c in candidates)
    keys = [(c.n_atoms, round(c.mismatch, 9)) for c in candidates]
    assert keys == sorted(keys)
    metal_mesh = surface_mesh(load_structure(pair[0]), pair[1])
    compound_mesh = surface_mesh(load_structure(pair[2]), pair[3])
    for c in candidates:
        m = np.asarray(c.metal_matrix) @ metal_mesh
        s = np.asarray(c.compound_matrix) @ compound_mesh
        assert np.allclose(m, c.metal_vectors) and np.allclose(s, c.compound_vectors)
        assert c.mismatch == pytest.approx(vector_mismatch(m, s), abs=1e-12)
        assert c.angle_mismatch == pytest.approx(angle_mismatch(m, s), abs=1e-9)
        assert c.area == pytest.approx(mesh_area(s), abs=1e-9)
        assert np.cross(m[0], m[1])[2] > 0 and np.cross(s[0], s[1])[2] > 0
        assert c.n_atoms == c.n_metal_atoms + c.n_compound_atoms
        assert c.metal_miller == list(pair[1]) and c.compound_miller == list(pair[3])
    # No two candidates with the same pair of supercell lattices.
    for i, a in enumerate(candidates):
        for b in candidates[i + 1 :]:
            assert not (
                is_same_lattice(a.metal_matrix, b.metal_matrix)
                and is_same_lattice(a.compound_matrix, b.compound_matrix)
            ), (a.tag, b.tag)


def test_small_strongly_strained_cell_is_listed(study_candidates):
    # Li(110) 2-atom cell on Li2S(110) 1x1: 13 % mismatch, the smallest model of the pair.
    first = study_candidates[STUDY_PAIRS[0]][0]
    assert round(np.linalg.det(first.compound_matrix)) == 1
    assert first.mismatch == pytest.approx(1 - 3.51 / 4.036, abs=2e-3)


def test_no_better_match_than_pymatgen_zsl_finds():
    """Every ZSL match within our tolerances is matched or beaten by our list."""
    from pymatgen.analysis.interfaces.zsl import ZSLGenerator

    metal, compound = load_structure("Li"), load_structure("Li2S")
    ours = find_matches(metal, compound, (1, 1, 0), (1, 1, 0), max_area=100)
    m_mesh = surface_mesh(metal, (1, 1, 0))
    c_mesh = surface_mesh(compound, (1, 1, 0))
    zsl = ZSLGenerator(max_area_ratio_tol=1.0, max_area=100, max_length_tol=0.25, max_angle_tol=0.2)
    admitted = []
    for match in zsl(m_mesh, c_mesh):
        f = np.array(match.film_sl_vectors, float)
        s = np.array(match.substrate_sl_vectors, float)
        if np.sign(np.cross(f[0], f[1])[2]) != np.sign(np.cross(s[0], s[1])[2]):
            continue  # would mirror the metal
        if mesh_area(s) > 100 + 1e-6:
            continue
        if vector_mismatch(f, s) <= 0.15 and angle_mismatch(f, s) <= 5.0:
            admitted.append(vector_mismatch(f, s))
    assert admitted
    assert min(c.mismatch for c in ours) <= min(admitted) + 1e-9


def test_candidate_dict_is_json_and_round_trips(study_candidates):
    c = study_candidates[STUDY_PAIRS[0]][0]
    data = json.loads(json.dumps(c.as_dict()))
    for key in ("mismatch", "angle_mismatch", "area", "n_atoms", "metal_matrix", "compound_matrix"):
        assert key in data
    assert data["metal_miller"] == [1, 1, 0]
    assert MatchCandidate.from_dict({**data, "unknown": 1}) == c


def test_metal_thickness_defaults_by_element():
    assert DEFAULT_METAL_THICKNESS == {"Li": 12.0, "Na": 14.0}
    li, li2s = load_structure("Li"), load_structure("Li2S")
    default = find_matches(li, li2s, (1, 1, 0), (1, 1, 0), max_area=30)[0]
    thin = find_matches(li, li2s, (1, 1, 0), (1, 1, 0), max_area=30, metal_thickness=6.0)[0]
    # Li(110) planes are a / sqrt2 = 2.48 A apart, two atoms per plane in this cell.
    assert default.n_metal_atoms == 2 * math.ceil(12.0 / (3.51 / SQRT2))
    assert thin.n_metal_atoms == 2 * math.ceil(6.0 / (3.51 / SQRT2))
    assert default.n_compound_atoms == thin.n_compound_atoms


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metal", "compound", "kwargs", "words"),
    [
        ("Li2S", "Li2S", {}, ["elemental alkali metal", "Li2S"]),
        ("Na", "Li2S", {}, ["does not contain", "Na"]),
        ("Li", "Li", {}, ["does not contain"]),
        ("Li", "Li2S", {"max_mismatch": 0.0}, ["max_mismatch", "(0, 0.5]"]),
        ("Li", "Li2S", {"max_mismatch": 0.6}, ["max_mismatch", "fraction"]),
        ("Li", "Li2S", {"max_area": 0.0}, ["max_area", "positive"]),
        ("Li", "Li2S", {"max_area": -10.0}, ["max_area"]),
        ("Li", "Li2S", {"max_angle_mismatch": -1.0}, ["max_angle_mismatch"]),
        ("Li", "Li2S", {"metal_thickness": 1.0}, ["metal thickness", "8-15"]),
    ],
)
def test_bad_input_is_explained(metal, compound, kwargs, words):
    with pytest.raises(InterfacialError) as err:
        find_matches(
            load_structure(metal), load_structure(compound), (1, 1, 0), (1, 1, 0), **kwargs
        )
    for word in words:
        assert word in str(err.value)


def test_metal_must_be_group_one():
    mg = Structure(
        Lattice.hexagonal(3.21, 5.21), ["Mg", "Mg"], [[1 / 3, 2 / 3, 0.25], [2 / 3, 1 / 3, 0.75]]
    )
    with pytest.raises(InterfacialError, match="group 1"):
        find_matches(mg, load_structure("Li2S"), (0, 0, 1), (1, 1, 0))


@pytest.mark.parametrize(
    ("miller", "words"),
    [((1, 1), "three integers"), ((0, 0, 0), "names no plane"), ("1x0", "three")],
)
def test_bad_miller_indices(miller, words):
    with pytest.raises(InterfacialError, match=words):
        find_matches(load_structure("Li"), load_structure("Li2S"), miller, (1, 1, 0))
    with pytest.raises(InterfacialError, match=words):
        find_matches(load_structure("Li"), load_structure("Li2S"), (1, 1, 0), miller)


def test_polar_facet_is_refused_with_the_reason():
    with pytest.raises(InterfacialError, match="Tasker type 3"):
        find_matches(load_structure("Li"), load_structure("Li2S"), (1, 1, 0), (1, 0, 0))


def test_no_match_lists_the_closest_and_the_tolerance_that_admits_them():
    li, li2s = load_structure("Li"), load_structure("Li2S")
    with pytest.raises(NoMatchError) as err:
        find_matches(li, li2s, (1, 1, 0), (1, 1, 0), max_mismatch=0.01, max_area=30)
    message = str(err.value)
    assert "no coincident supercell" in message
    assert "closest found" in message
    assert "needs max_mismatch >=" in message and "max_area >=" in message
    assert isinstance(err.value, InterfacialError)
    best = err.value.best[0]
    # The tolerances the message suggests do admit that candidate.
    admitted = find_matches(
        li,
        li2s,
        (1, 1, 0),
        (1, 1, 0),
        max_mismatch=math.ceil(best.mismatch * 1000) / 1000,
        max_area=math.ceil(best.area * 10) / 10,
        max_angle_mismatch=max(5.0, math.ceil(best.angle_mismatch * 10) / 10),
    )
    assert any(c.compound_matrix == best.compound_matrix for c in admitted)
