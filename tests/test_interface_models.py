"""Symmetric two-interface models, checked independently of the code that builds them."""

from functools import cache

import numpy as np
import pytest
from pymatgen.analysis.structure_matcher import StructureMatcher
from pymatgen.core import Composition, Structure
from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

from interfacial.errors import InterfacialError
from interfacial.structures import interfaces
from interfacial.structures.interfaces import (
    build_interface_models,
    distinct_registries,
    verify_model,
)
from interfacial.structures.library import load_structure as _load_structure
from interfacial.structures.matching import MatchCandidate, find_matches
from interfacial.structures.slabs import enumerate_terminations
from interfacial.structures.supercells import strained_bulk

PAIRS = [
    ("Li", (1, 1, 0), "Li2S", (1, 1, 0)),
    ("Li", (1, 0, 0), "Li3P", (0, 0, 1)),
    ("Li", (1, 1, 0), "LiCl", (1, 0, 0)),
    ("Na", (1, 1, 0), "Na2S", (1, 1, 0)),
]
#: Thin slabs: these tests are about symmetry and counts, not thickness.
THIN = {"metal_thickness": 6.0, "compound_thickness": 6.0}


@cache
def _cached(name: str) -> Structure:
    return _load_structure(name)


def load_structure(name: str) -> Structure:
    return _cached(name).copy()


@cache
def candidates_of(pair: tuple) -> list[MatchCandidate]:
    metal, m_miller, compound, c_miller = pair
    return find_matches(
        load_structure(metal), load_structure(compound), m_miller, c_miller, max_area=80, **THIN
    )


def picked(pair: tuple) -> list[MatchCandidate]:
    """The smallest candidate and the least strained one (within max_area=80)."""
    cands = candidates_of(pair)
    best = min(cands, key=lambda c: (round(c.mismatch, 6), c.n_atoms))
    return [cands[0]] if best is cands[0] else [cands[0], best]


@pytest.fixture(scope="module")
def built() -> list[tuple[tuple, MatchCandidate, list]]:
    out = []
    for pair in PAIRS:
        metal, _, compound, _ = pair
        for candidate in picked(pair):
            models = build_interface_models(
                load_structure(metal), load_structure(compound), candidate, **THIN
            )
            out.append((pair, candidate, models))
    return out


# ---------------------------------------------------------------------------------------------
# Independent checks
# ---------------------------------------------------------------------------------------------


def normal_flips_keeping_regions(structure: Structure, symprec: float = 0.1) -> list:
    """spglib operations with R[2, 2] = -1 that map every site onto a same-region site."""
    regions = np.array(structure.site_properties["region"])
    species = np.array([s.species_string for s in structure])
    found = []
    ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations(cartesian=True)
    for op in ops:
        if not np.isclose(op.rotation_matrix[2, 2], -1.0, atol=1e-3):
            continue
        frac = structure.lattice.get_fractional_coords(op.operate_multi(structure.cart_coords))
        d = structure.lattice.get_all_distances(frac, structure.frac_coords)
        nearest = d.argmin(axis=1)
        if (
            d[np.arange(len(structure)), nearest].max() < 2 * symprec
            and (regions[nearest] == regions).all()
            and (species[nearest] == species).all()
        ):
            found.append(op)
    return found


def plane_differences_are_lattice_vectors(cart: np.ndarray, mesh_xy: np.ndarray) -> bool:
    """True if all in-plane differences between the atoms are integer combinations of mesh."""
    diff = (cart[:, None, :2] - cart[None, :, :2]).reshape(-1, 2) @ np.linalg.inv(mesh_xy)
    return bool(np.allclose(diff, np.round(diff), atol=1e-4))


def test_every_model_is_symmetric_stoichiometric_and_sane(built):
    for pair, candidate, models in built:
        metal, m_miller, compound, c_miller = pair
        compound_bulk = load_structure(compound)
        reduced, _ = compound_bulk.composition.get_reduced_composition_and_factor()
        assert models, pair
        for model in models:
            s = model.structure
            regions = np.array(s.site_properties["region"])
            assert set(regions) == {"metal", "compound"}, model.label
            # A normal-flipping space-group operation mapping metal onto metal.
            assert normal_flips_keeping_regions(s), model.label
            # Stoichiometry of each side.
            comp = Composition(
                "".join(
                    x.species_string for x, r in zip(s, regions, strict=True) if r == "compound"
                )
            )
            assert comp == reduced * model.n_compound_formula_units, model.label
            metal_sites = [x for x, r in zip(s, regions, strict=True) if r == "metal"]
            assert {x.species_string for x in metal_sites} == {metal}
            assert len(metal_sites) == model.n_metal_atoms
            # No atoms too close, periodic along z without vacuum, normal along z.
            d = s.distance_matrix + np.eye(len(s)) * 100
            assert d.min() > 1.2, model.label
            assert np.allclose(s.lattice.matrix[2, :2], 0) and np.allclose(
                s.lattice.matrix[:2, 2], 0
            )
            z = np.sort(s.cart_coords[:, 2])
            gaps = np.diff(np.append(z, z[0] + s.lattice.c))
            assert gaps.max() < 3.5, model.label
            # In-plane lattice: the compound's supercell, the metal strained onto it.
            assert np.allclose(s.lattice.matrix[:2], candidate.compound_vectors, atol=1e-8)
            strained_metal_mesh = np.linalg.inv(candidate.metal_matrix) @ np.asarray(
                candidate.compound_vectors
            )
            metal_z = s.cart_coords[regions == "metal", 2]
            lowest = s.cart_coords[regions == "metal"][metal_z < metal_z.min() + 0.1]
            assert plane_differences_are_lattice_vectors(lowest, strained_metal_mesh[:, :2])
            compound_mesh = np.linalg.inv(candidate.compound_matrix) @ np.asarray(
                candidate.compound_vectors
            )
            comp_z = s.cart_coords[regions == "compound", 2]
            top = s.cart_coords[regions == "compound"][comp_z > comp_z.max() - 0.1]
            species_top = {
                x.species_string
                for x, r, zz in zip(s, regions, s.cart_coords[:, 2], strict=True)
                if r == "compound" and zz > comp_z.max() - 0.1
            }
            if len(species_top) == 1:
                assert plane_differences_are_lattice_vectors(top, compound_mesh[:, :2])
            # Counts as the matching predicted them, and the area of one interface.
            assert len(s) == candidate.n_atoms, model.label
            assert model.area == pytest.approx(candidate.area)
            # Terminations are the labels surface-energy documents use.
            labels = {t.label for t in enumerate_terminations(compound_bulk, c_miller).usable}
            assert model.compound_termination in labels
            assert model.metal_termination in {
                t.label for t in enumerate_terminations(load_structure(metal), m_miller).usable
            }


def test_the_recorded_flip_maps_the_cell_and_swaps_the_interfaces(built):
    for _, _, models in built:
        for model in models:
            s = model.structure
            flip = np.asarray(model.flip_operation)
            assert flip.shape == (4, 4) and flip[2, 2] == pytest.approx(-1.0)
            cart = s.cart_coords @ flip[:3, :3].T + flip[:3, 3]
            d = s.lattice.get_all_distances(s.lattice.get_fractional_coords(cart), s.frac_coords)
            assert d.min(axis=1).max() < 1e-4, model.label
            # Equivalent interfaces: the compound's top face goes to its bottom face.
            regions = np.array(s.site_properties["region"])
            zc = s.cart_coords[regions == "compound", 2]
            top = s.cart_coords[regions == "compound"][zc > zc.max() - 0.1]
            image_z = (top @ flip[:3, :3].T + flip[:3, 3])[:, 2] % s.lattice.c
            assert np.allclose(image_z, zc.min(), atol=1e-4)


def test_the_metal_is_a_perfect_strained_crystal_in_these_models(built):
    for pair, _, models in built:
        bulk = load_structure(pair[0])
        bulk_nn = min(n.nn_distance for n in bulk.get_neighbors(bulk[0], 4.0))
        for model in models:
            assert model.metal_is_perfect, model.label
            s = model.structure.copy()
            regions = s.site_properties["region"]
            s.remove_sites([i for i, r in enumerate(regions) if r != "metal"])
            nn = min(n.nn_distance for site in s for n in s.get_neighbors(site, 4.0))
            assert nn > 0.8 * bulk_nn, model.label


def test_labels_unique_and_deterministic(built):
    labels = [m.label for _, _, models in built for m in models]
    assert len(labels) == len(set(labels))
    pair, candidate, models = built[0]
    again = build_interface_models(
        load_structure(pair[0]), load_structure(pair[2]), candidate, **THIN
    )
    assert [m.label for m in again] == [m.label for m in models]
    for a, b in zip(again, models, strict=True):
        assert np.allclose(a.structure.cart_coords, b.structure.cart_coords)
    assert models[0].label.startswith("Li(110)-t0-Li|Li2S(110)-t0-Li2S ")
    assert models[0].label.endswith("r0.00,0.00 g2.0")


def test_default_thickness_counts_match_the_candidate():
    pair = PAIRS[0]
    metal, compound = load_structure(pair[0]), load_structure(pair[2])
    candidate = find_matches(metal, compound, pair[1], pair[3], max_area=30)[0]
    models = build_interface_models(metal, compound, candidate)
    assert {len(m.structure) for m in models} == {candidate.n_atoms}
    # Li slab ~12 A: unstrained bulk-equivalent thickness N V_atom / S_metal reaches it.
    metal_area = abs(np.linalg.det(np.asarray(candidate.metal_vectors)[:, :2]))
    thickness = models[0].n_metal_atoms * metal.volume / len(metal) / metal_area
    assert 12.0 <= thickness < 12.0 + 3.51 / np.sqrt(2)


def test_equivalent_registries_are_merged_and_really_equivalent():
    pair = PAIRS[0]
    metal, compound = load_structure(pair[0]), load_structure(pair[2])
    candidate = candidates_of(pair)[0]  # Li(110) 2-atom cell on Li2S(110) 1x1
    assert distinct_registries(candidate, [(0, 0), (0.5, 0), (0, 0.5), (0.5, 0.5)]) == [
        [0.0, 0.0],
        [0.5, 0.0],
    ]
    a = build_interface_models(metal, compound, candidate, registries=[(0, 0)], **THIN)[0]
    b = build_interface_models(metal, compound, candidate, registries=[(0.5, 0.5)], **THIN)[0]
    c = build_interface_models(metal, compound, candidate, registries=[(0.5, 0)], **THIN)[0]
    matcher = StructureMatcher(primitive_cell=False, scale=False, attempt_supercell=False)
    assert matcher.fit(a.structure, b.structure)
    assert not matcher.fit(a.structure, c.structure)


def test_gaps_are_sampled():
    pair = PAIRS[2]
    metal, compound = load_structure(pair[0]), load_structure(pair[2])
    candidate = candidates_of(pair)[0]
    models = build_interface_models(
        metal, compound, candidate, gaps=(1.8, 2.6), registries=[(0, 0)], **THIN
    )
    assert [m.gap for m in models] == [1.8, 2.6]
    assert models[1].structure.lattice.c - models[0].structure.lattice.c == pytest.approx(1.6)


# ---------------------------------------------------------------------------------------------
# Strained bulks
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("pair", [PAIRS[0], PAIRS[2]])
def test_strained_bulks(pair):
    metal, compound = load_structure(pair[0]), load_structure(pair[2])
    candidate = candidates_of(pair)[0]
    target = np.asarray(candidate.compound_vectors)
    s_c, n_c = strained_bulk(compound, pair[3], candidate.compound_matrix, target)
    s_m, n_m = strained_bulk(metal, pair[1], candidate.metal_matrix, target)
    for s in (s_c, s_m):
        assert np.allclose(s.lattice.matrix[:2], target, atol=1e-10)
        assert s.lattice.matrix[2, 2] > 0  # c points away from the plane
    reduced_c = compound.composition.get_reduced_composition_and_factor()[0]
    assert s_c.composition == reduced_c * n_c
    assert s_m.composition == Composition(pair[0]) * n_m
    # The compound is unstrained: the same crystal as the bulk.
    assert StructureMatcher().fit(s_c, compound)
    assert s_c.volume / len(s_c) == pytest.approx(compound.volume / len(compound), rel=1e-9)
    # The metal is strained in-plane only: volume per atom scales with the area ratio.
    metal_area = abs(np.linalg.det(np.asarray(candidate.metal_vectors)[:, :2]))
    ratio = candidate.area / metal_area
    assert s_m.volume / len(s_m) == pytest.approx(metal.volume / len(metal) * ratio, rel=1e-9)
    d = s_m.distance_matrix + np.eye(len(s_m)) * 100
    assert d.min() > 2.0


def test_strained_bulk_rejects_bad_vectors():
    with pytest.raises(InterfacialError, match="target_vectors"):
        strained_bulk(load_structure("Li"), (1, 1, 0), [[1, 0], [0, 1]], [[1, 0, 0]])


# ---------------------------------------------------------------------------------------------
# Errors and the in-code verification
# ---------------------------------------------------------------------------------------------


def test_too_many_atoms_says_what_to_reduce():
    pair = PAIRS[0]
    candidate = candidates_of(pair)[0]
    with pytest.raises(InterfacialError) as err:
        build_interface_models(
            load_structure("Li"), load_structure("Li2S"), candidate, max_atoms=10, **THIN
        )
    message = str(err.value)
    assert "max_atoms=10" in message and f"{candidate.n_atoms} atoms" in message
    assert "thickness" in message and "max_area" in message


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"gaps": (0.0,)}, "gaps"),
        ({"gaps": (7.0,)}, "gaps"),
        ({"registries": [(0.5,)]}, "registry"),
        ({"compound_thickness": 100.0}, "compound thickness"),
        ({"min_distance": 3.0}, "min_distance"),
    ],
)
def test_bad_model_options(kwargs, words):
    candidate = candidates_of(PAIRS[0])[0]
    with pytest.raises(InterfacialError, match=words):
        build_interface_models(load_structure("Li"), load_structure("Li2S"), candidate, **kwargs)


def test_candidate_from_another_bulk_is_refused():
    candidate = candidates_of(PAIRS[0])[0]
    other = load_structure("Li")
    other.scale_lattice(other.volume * 1.1)
    with pytest.raises(InterfacialError, match="do not match the metal bulk"):
        build_interface_models(other, load_structure("Li2S"), candidate, **THIN)


def test_candidate_rebuilt_from_document_fields_still_builds():
    candidate = candidates_of(PAIRS[0])[0]
    keys = ("metal_miller", "compound_miller", "metal_matrix", "compound_matrix", "mismatch")
    keys += ("angle_mismatch", "area", "n_atoms")
    minimal = MatchCandidate(**{k: candidate.as_dict()[k] for k in keys})
    models = build_interface_models(
        load_structure("Li"), load_structure("Li2S"), minimal, registries=[(0, 0)], **THIN
    )
    assert len(models[0].structure) == candidate.n_atoms


def test_no_symmetric_combination_names_it(monkeypatch):
    monkeypatch.setattr(interfaces, "_flip_operations", lambda compound, cell: [])
    candidate = candidates_of(PAIRS[0])[0]
    with pytest.raises(InterfacialError) as err:
        build_interface_models(load_structure("Li"), load_structure("Li2S"), candidate, **THIN)
    message = str(err.value)
    assert "no symmetric model of Li(110)||Li2S(110)" in message
    assert "t0-Li|Li2S(110)-t0-Li2S" in message and "z-flipping" in message


def test_verification_catches_broken_models(built):
    model = built[0][2][0]
    li2s = load_structure("Li2S")
    n_fu = model.n_compound_formula_units
    assert verify_model(model.structure, li2s, n_fu, 1.2) is None
    regions = np.array(model.structure.site_properties["region"])
    # Shift one metal atom: the two interfaces are no longer equivalent.
    moved = model.structure.copy()
    i = int(np.nonzero(regions == "metal")[0][0])
    moved.translate_sites([i], [0.4, 0.0, 0.3], frac_coords=False)
    assert "no space-group operation" in verify_model(moved, li2s, n_fu, 1.2)
    # Wrong formula-unit count, and atoms too close.
    assert "is not" in verify_model(model.structure, li2s, n_fu + 1, 1.2)
    assert "apart" in verify_model(model.structure, li2s, n_fu, 2.5)


def test_slightly_noisy_relaxed_bulks_still_give_symmetric_models():
    # Relaxed bulks carry small numerical noise; the geometry must not depend on exactness.
    metal, compound = load_structure("Li"), load_structure("Li2S")
    for bulk in (metal, compound):
        bulk.perturb(0.005, seed=7)
        bulk.scale_lattice(bulk.volume * 1.004)
    candidate = find_matches(metal, compound, (1, 1, 0), (1, 1, 0), max_area=30, **THIN)[0]
    models = build_interface_models(metal, compound, candidate, **THIN)
    assert models
    for model in models:
        assert len(model.structure) == candidate.n_atoms
        assert normal_flips_keeping_regions(model.structure)


@pytest.mark.parametrize(
    ("relaxation", "region"), [("fix-binary", "compound"), ("fix-metal", "metal")]
)
def test_fix_variants_freeze_the_middle_of_one_slab_only(built, relaxation, region):
    from pymatgen.io.ase import AseAtomsAdaptor

    from interfacial.jobs.interface import freeze_middle

    _, _, models = next(b for b in built if b[0][2] == "Li2S")
    model = models[0]
    structure = freeze_middle(model, relaxation)
    frozen = np.array([not any(flags) for flags in structure.site_properties["selective_dynamics"]])
    regions = np.array(structure.site_properties["region"])
    assert frozen.any()
    assert (regions[frozen] == region).all()  # the other slab moves freely
    # Frozen atoms lie in the central half of their slab; the outermost planes are free.
    z = structure.cart_coords[:, 2]
    side = regions == region
    lattice_c = structure.lattice.c
    # The compound slab is centred on z = 0 in the cell's periodic frame.
    centre = np.angle(np.mean(np.exp(2j * np.pi * z[side] / lattice_c))) * lattice_c / (2 * np.pi)
    offset = (z - centre + lattice_c / 2) % lattice_c - lattice_c / 2
    half = np.abs(offset[side]).max()
    assert np.abs(offset[frozen]).max() <= 0.5 * half + 1e-6
    assert not frozen[side & (np.abs(offset) > 0.9 * half)].any()
    # ASE sees the same atoms as fixed (pymatgen's adaptor turns selective dynamics into FixAtoms).
    atoms = AseAtomsAdaptor.get_atoms(structure)
    fixed = set()
    for constraint in atoms.constraints:
        fixed |= set(constraint.get_indices().tolist())
    assert fixed == set(np.flatnonzero(frozen).tolist())
    assert freeze_middle(model, "fully-relaxed").site_properties.get("selective_dynamics") is None
