"""Symmetric, periodic metal||compound sandwich models with two equivalent interfaces.

The cell holds a compound slab and a metal slab, periodic along the normal (z) with no vacuum,
so it contains two interfaces. A naive A|B stack generally makes them different. Here they are
made equivalent by construction:

1. the compound slab (symmetric, stoichiometric, unstrained) is centred on z = 0;
2. a z-flipping space-group operation sigma of that slab is chosen whose square is a translation
   of the interface supercell (inversion, mirror z -> -z, two-fold axis in the plane, or a
   glide/screw variant);
3. the lower half of the (strained) metal slab (its middle plane included when the number of
   planes is odd) is placed on the compound's top face at the requested registry and gap, and
   the upper half of the metal is replaced by sigma applied to the lower half.

Because sigma maps the compound onto itself and the metal region onto itself (z -> -z maps the
metal centre, at half the cell height, onto itself modulo the cell), sigma is a symmetry of the
whole cell and maps the top interface onto the bottom one.

Where sigma is not also a symmetry of the strained metal, the metal gets a twin plane in its
middle (far from both interfaces, but it adds a fault energy to the model). To avoid that, the
registry origin puts an inversion centre of the metal slab (a strained Bravais-lattice slab is
centrosymmetric for any number of planes) on an inversion centre of the compound slab when the
compound has one: that inversion is then a symmetry of the metal too, for every registry on the
half-supercell grid. Otherwise the flip that leaves the metal perfect is preferred (a mirror
z -> -z does for an odd number of planes of an A-B stacking), then the one with the largest
interatomic distance across the metal's middle; ``InterfaceModel.metal_is_perfect`` says which.

Every model is verified independently of this construction (spglib finds a normal-flipping
operation that maps metal onto metal; stoichiometry; minimum interatomic distance).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from interfacial.analysis.matching import mesh_area
from interfacial.errors import InterfacialError
from interfacial.structures.matching import (
    MatchCandidate,
    check_compound,
    check_metal,
    deformation_gradient,
)
from interfacial.structures.meshes import facet_geometry
from interfacial.structures.slabs import (
    DEFAULT_COMPOUND_THICKNESS,
    FacetGeometry,
    atomic_planes,
    check_thickness_value,
    compound_slab,
    default_metal_thickness,
    metal_layer_count,
    metal_slab,
    parse_miller,
)
from interfacial.structures.supercells import AtomSet, tile_on_supercell

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray
    from pymatgen.core import Structure

    from interfacial.structures.slabs import Termination

_LOG = logging.getLogger(__name__)

#: Default sampling of the in-plane registry (fractions of the supercell vectors).
DEFAULT_REGISTRIES: tuple[tuple[float, float], ...] = ((0, 0), (0.5, 0), (0, 0.5), (0.5, 0.5))
#: Default initial interlayer distance at each interface (A).
DEFAULT_GAPS: tuple[float, ...] = (2.0,)
#: Metal atoms closer than this after the flip are one atom (A).
DUPLICATE_TOL = 0.5
#: Symmetry tolerance used to verify the models (A).
VERIFY_SYMPREC = 0.05
#: Largest accepted initial gap (A).
MAX_GAP = 6.0


@dataclass
class InterfaceModel:
    """One symmetric two-interface model.

    Attributes
    ----------
    structure : Structure
        Periodic cell, normal along z, no vacuum; site property ``region`` is "metal" or
        "compound" on every site.
    candidate : MatchCandidate
        The lattice match it is built on.
    metal_termination, compound_termination : str
        Labels of :func:`~interfacial.structures.slabs.enumerate_terminations` (e.g. "t0-Li").
    metal_shift, compound_shift : float
        pymatgen shifts of those terminations.
    registry : list[float]
        In-plane shift of the metal relative to the compound (fractions of the supercell
        vectors). (0, 0) puts an inversion centre of the metal slab on one of the compound slab
        (so the whole cell and the metal keep that inversion); if either has none, (0, 0) puts
        a metal atom of the interface plane right above a compound atom of the top plane.
    gap : float
        Initial distance between the outermost compound plane and the first metal plane (A).
    n_metal_atoms : int
        Metal atoms.
    n_compound_formula_units : int
        Compound size in units of its reduced formula.
    area : float
        Area of one interface (A^2).
    flip_operation : list[list[float]]
        4x4 Cartesian affine matrix of the z-flipping operation that maps the cell onto itself
        and one interface onto the other.
    label : str
        Deterministic label, unique within one metal/compound pair.
    metal_is_perfect : bool
        False when the flip is not a symmetry of the strained metal, so the metal has a twin
        (stacking fault) in its middle, away from both interfaces.

    """

    structure: Structure
    candidate: MatchCandidate
    metal_termination: str
    compound_termination: str
    metal_shift: float
    compound_shift: float
    registry: list[float]
    gap: float
    n_metal_atoms: int
    n_compound_formula_units: int
    area: float
    flip_operation: list[list[float]]
    label: str
    metal_is_perfect: bool = True


# --------------------------------------------------------------------------------------------
# In-plane periodic geometry of atom sets
# --------------------------------------------------------------------------------------------


def _wrap(cart: NDArray[np.float64], cell_xy: NDArray[np.float64]) -> NDArray[np.float64]:
    """Positions with their in-plane part wrapped into the cell [0, 1)^2."""
    frac = cart[:, :2] @ np.linalg.inv(cell_xy)
    frac -= np.floor(frac + 1e-9)
    return np.column_stack([frac @ cell_xy, cart[:, 2]])


def _inplane_distances(
    a: NDArray[np.float64], b: NDArray[np.float64], cell_xy: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Distance matrix (len(a), len(b)) with in-plane periodicity only (A)."""
    inv = np.linalg.inv(cell_xy)
    dxy = (a[:, None, :2] - b[None, :, :2]) @ inv
    dxy -= np.round(dxy)
    best = np.full(dxy.shape[:2], np.inf)
    for i, j in product((-1, 0, 1), repeat=2):
        cart = (dxy + np.array([i, j])) @ cell_xy
        best = np.minimum(best, np.hypot(cart[..., 0], cart[..., 1]))
    dz = a[:, None, 2] - b[None, :, 2]
    return np.asarray(np.sqrt(best**2 + dz**2))


# --------------------------------------------------------------------------------------------
# Flipping operations of the compound slab
# --------------------------------------------------------------------------------------------


@dataclass
class _Flip:
    rotation: NDArray[np.float64]
    translation: NDArray[np.float64]

    def apply(self, cart: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(cart @ self.rotation.T + self.translation)

    def affine(self, shift_z: float = 0.0) -> NDArray[np.float64]:
        """4x4 matrix in a frame translated by +shift_z along z: S sigma S^-1."""
        s = np.array([0.0, 0.0, shift_z])
        out = np.eye(4)
        out[:3, :3] = self.rotation
        out[:3, 3] = self.translation + s - self.rotation @ s
        return out


def _flip_operations(compound: AtomSet, cell_xy: NDArray[np.float64]) -> list[_Flip]:
    """z-flipping operations of the compound slab (centred on z = 0) squaring to a translation.

    sigma = (R, t) with R[2, 2] = -1; sigma^2 = (R^2, R t + t) must be a pure translation of the
    interface supercell, otherwise sigma would not map the metal (periodic on the supercell
    only) onto itself.
    """
    from pymatgen.core import Lattice, Structure
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    height = float(np.ptp(compound.cart[:, 2])) + 20.0
    lattice = Lattice(np.vstack([np.column_stack([cell_xy, [0, 0]]), [0, 0, height]]))
    structure = Structure(lattice, compound.species, compound.cart, coords_are_cartesian=True)
    ops = SpacegroupAnalyzer(structure, symprec=0.05).get_symmetry_operations(cartesian=True)
    inv = np.linalg.inv(cell_xy)
    flips = []
    for op in ops:
        rot = np.round(op.rotation_matrix, 8)
        if not (
            np.isclose(rot[2, 2], -1.0)
            and np.allclose(rot[2, :2], 0)
            and np.allclose(rot[:2, 2], 0)
        ):
            continue
        if not np.allclose(rot @ rot, np.eye(3), atol=1e-6):
            continue
        t = np.array(op.translation_vector, dtype=float)
        # Centred slab: the flip keeps z = 0, so t_z is a multiple of the helper cell height.
        t[2] = 0.0
        square = (rot @ t + t)[:2] @ inv
        if not np.allclose(square, np.round(square), atol=1e-5):
            continue
        flip = _Flip(rot, t)
        image = flip.apply(compound.cart)
        if not _same_atoms(compound, AtomSet(compound.species, image), cell_xy, tol=0.05):
            continue
        flips.append(flip)
    return flips


def _same_atoms(a: AtomSet, b: AtomSet, cell_xy: NDArray[np.float64], tol: float) -> bool:
    """True if every atom of ``b`` coincides with an atom of ``a`` of the same species."""
    if len(a) != len(b):
        return False
    d = _inplane_distances(b.cart, a.cart, cell_xy)
    same = np.array(b.species)[:, None] == np.array(a.species)[None, :]
    d[~same] = np.inf
    return bool(np.all(d.min(axis=1) < tol))


# --------------------------------------------------------------------------------------------
# Registries
# --------------------------------------------------------------------------------------------


def _translation_group(generators: NDArray[np.float64]) -> NDArray[np.float64]:
    """All fractional translations modulo 1 generated by ``generators`` (rows)."""
    points = np.zeros((1, 2))
    frontier = [np.zeros(2)]
    while frontier:
        new = []
        for p in frontier:
            for g in generators:
                q = (p + g) % 1.0
                q[np.isclose(q, 1.0, atol=1e-6)] = 0.0
                # np.allclose(q, r, atol=1e-6) against every point at once: a Python loop over
                # the points took seconds for the ~200-point groups of large cells.
                if not np.any(np.all(np.abs(q - points) <= 1e-6 + 1e-5 * np.abs(points), axis=1)):
                    points = np.vstack([points, q])
                    new.append(q)
        frontier = new
    return points


def distinct_registries(
    candidate: MatchCandidate, registries: Sequence[Sequence[float]]
) -> list[list[float]]:
    """Registries with those equivalent by a mesh translation of either side removed.

    Shifting the metal by one of its own (strained) mesh vectors, or by a compound mesh vector
    (the compound is invariant under it), gives the same interface.
    """
    compound = np.linalg.inv(np.asarray(candidate.compound_matrix, float))
    metal = np.linalg.inv(np.asarray(candidate.metal_matrix, float))
    group = _translation_group(np.vstack([compound, metal]))
    kept: list[list[float]] = []
    for r in registries:
        values = [float(x) for x in r]
        if len(values) != 2 or not all(math.isfinite(x) for x in values):
            raise InterfacialError(
                f"registry {r!r} must be two finite fractions of the supercell vectors, "
                "e.g. (0.5, 0)"
            )
        point = np.array(values) % 1.0
        equivalent = False
        for k in kept:
            diff = (point - np.array(k)) % 1.0
            delta = np.abs(group - diff)
            if np.any(np.all(np.minimum(delta, 1 - delta) < 1e-6, axis=1)):
                equivalent = True
                break
        if not equivalent:
            kept.append([round(float(x), 10) + 0.0 for x in point])
    return kept


# --------------------------------------------------------------------------------------------
# Building one model
# --------------------------------------------------------------------------------------------


@dataclass
class _Sides:
    """Everything about the two sides of one candidate and one termination pair."""

    compound: AtomSet  # centred on z = 0, unstrained, on the compound supercell
    metal: AtomSet  # strained onto the compound supercell, lowest plane at z = 0
    metal_lower: NDArray[np.int64]  # lowest half of the metal planes, middle plane included
    cell_xy: NDArray[np.float64]
    flips: list[_Flip]


def _reference_xy(
    atoms: AtomSet, select: NDArray[np.bool_], cell_xy: NDArray[np.float64]
) -> NDArray[np.float64]:
    """In-plane position of a deterministic reference atom among ``select``."""
    idx = np.nonzero(select)[0]
    frac = atoms.cart[idx, :2] @ np.linalg.inv(cell_xy)
    frac -= np.floor(frac + 1e-9)
    keys = [
        (atoms.species[i], round(f[0], 6), round(f[1], 6)) for i, f in zip(idx, frac, strict=True)
    ]
    best = idx[min(range(len(idx)), key=lambda k: keys[k])]
    return np.asarray(atoms.cart[best, :2], dtype=float)


def inversion_centre(atoms: AtomSet, cell_xy: NDArray[np.float64]) -> NDArray[np.float64] | None:
    """A point about which the slab (periodic in-plane) is inversion-symmetric, or None.

    The centre is the midpoint of a bottom-plane atom and one of the top-plane atoms.
    """
    z = atoms.cart[:, 2]
    bottom = int(np.argmin(z))
    tops = np.nonzero(z > z.max() - 0.1)[0]
    for j in sorted(tops, key=lambda k: tuple(np.round(atoms.cart[k], 6))):
        centre = (atoms.cart[bottom] + atoms.cart[j]) / 2
        image = AtomSet(atoms.species, 2 * centre - atoms.cart)
        if _same_atoms(atoms, image, cell_xy, tol=0.05):
            return np.asarray(centre, dtype=float)
    return None


def _registry_origin(sides: _Sides) -> NDArray[np.float64] | None:
    """In-plane metal shift of registry (0, 0): its inversion centre on the compound's.

    When both the compound slab and the (strained) metal slab are centrosymmetric, putting a
    metal inversion centre on a compound one makes that inversion a symmetry of the whole cell
    *and* of the metal, so the metal has no defect in its middle; every registry on the half
    supercell grid keeps this property. None when either side lacks an inversion centre.
    """
    metal_centre = inversion_centre(sides.metal, sides.cell_xy)
    inversions = [f for f in sides.flips if np.allclose(f.rotation, -np.eye(3), atol=1e-6)]
    if metal_centre is None or not inversions:
        return None
    inv = np.linalg.inv(sides.cell_xy)

    def centre_key(flip: _Flip) -> tuple[float, float]:
        frac = (flip.translation[:2] / 2) @ inv
        frac -= np.floor(frac + 1e-9)
        return (round(float(frac[0]), 6), round(float(frac[1]), 6))

    first = min(inversions, key=centre_key)
    return np.asarray(first.translation[:2] / 2 - metal_centre[:2], dtype=float)


def _build(
    sides: _Sides, registry: list[float], gap: float
) -> tuple[Structure, _Flip, int, bool] | str:
    """Assemble one model: (structure, flip in its frame, n_metal, metal perfect) or a reason."""
    from pymatgen.core import Lattice, Structure

    cell_xy = sides.cell_xy
    compound, metal = sides.compound, sides.metal
    z_c = float(compound.cart[:, 2].max())
    span_m = float(np.ptp(metal.cart[:, 2]))
    height = 2 * z_c + 2 * gap + span_m
    origin = _registry_origin(sides)
    if origin is None:
        # Registry (0, 0): a metal atom of the interface plane above a top compound atom.
        top = compound.cart[:, 2] > z_c - 0.1
        bottom = metal.cart[:, 2] < 0.1
        origin = _reference_xy(compound, top, cell_xy) - _reference_xy(metal, bottom, cell_xy)
    shift_xy = origin + np.asarray(registry) @ cell_xy
    placed = metal.cart + np.append(shift_xy, z_c + gap)
    lower = sides.metal_lower
    lower_atoms = AtomSet([metal.species[i] for i in lower], placed[lower])
    reference = AtomSet(list(metal.species), placed)
    best: tuple[tuple[float, ...], AtomSet, _Flip, bool] | None = None
    for k, flip in enumerate(sides.flips):
        image = flip.apply(lower_atoms.cart)
        image[:, 2] += height  # z -> -z + H: the image lands on the upper half of the metal
        candidate = _merge_duplicates(lower_atoms + AtomSet(lower_atoms.species, image), cell_xy)
        if len(candidate) != len(metal):
            continue  # the middle plane did not map onto itself
        perfect = _same_atoms(reference, candidate, cell_xy, tol=0.05)
        d = _inplane_distances(candidate.cart, candidate.cart, cell_xy)
        np.fill_diagonal(d, np.inf)
        score = (0.0 if perfect else 1.0, -round(float(d.min()), 3), float(k))
        if best is None or score < best[0]:
            best = (score, candidate, flip, perfect)
    if best is None:
        return (
            "no z-flipping operation of the compound slab (whose square is a supercell "
            "translation) maps the metal's middle plane onto itself"
        )
    _, metal_all, flip, perfect = best
    # Shift up so every atom lies in [0, H): the compound centre moves to z = z_c + gap / 2.
    shift_z = z_c + gap / 2
    atoms = compound + metal_all
    cart = _wrap(atoms.cart + np.array([0.0, 0.0, shift_z]), cell_xy)
    regions = ["compound"] * len(compound) + ["metal"] * len(metal_all)
    lattice = Lattice(np.vstack([np.column_stack([cell_xy, [0, 0]]), [0, 0, height]]))
    structure = Structure(
        lattice, atoms.species, cart, coords_are_cartesian=True, site_properties={"region": regions}
    )
    moved = _Flip(flip.rotation, np.array(flip.affine(shift_z)[:3, 3]))
    return structure.get_sorted_structure(), moved, len(metal_all), perfect


def _merge_duplicates(atoms: AtomSet, cell_xy: NDArray[np.float64]) -> AtomSet:
    """Keep one of any two atoms closer than DUPLICATE_TOL (the flip maps the middle plane)."""
    d = _inplane_distances(atoms.cart, atoms.cart, cell_xy)
    drop: set[int] = set()
    for i in range(len(atoms)):
        if i not in drop:
            drop |= {int(j) for j in np.nonzero(d[i] < DUPLICATE_TOL)[0] if j > i}
    return atoms.subset([i for i in range(len(atoms)) if i not in drop])


# --------------------------------------------------------------------------------------------
# Verification (independent of the construction)
# --------------------------------------------------------------------------------------------


def _maps_regions(structure: Structure, rotation: Any, translation: Any, tol: float) -> bool:
    """True if the Cartesian operation maps every site onto a site of the same region/species."""
    cart = structure.cart_coords @ np.asarray(rotation).T + np.asarray(translation)
    frac = structure.lattice.get_fractional_coords(cart)
    dist = structure.lattice.get_all_distances(frac, structure.frac_coords)
    nearest = dist.argmin(axis=1)
    if np.any(dist[np.arange(len(structure)), nearest] > tol):
        return False
    regions = structure.site_properties["region"]
    return all(
        regions[i] == regions[j] and structure[i].species == structure[j].species
        for i, j in enumerate(nearest)
    )


def verify_model(
    structure: Structure,
    compound_bulk: Structure,
    n_compound_formula_units: int,
    min_distance: float,
    symprec: float = VERIFY_SYMPREC,
) -> str | None:
    """Check a model; return None if sound, else the reason it is not.

    Checks: every site has region metal/compound; the compound part is exactly
    ``n_compound_formula_units`` reduced formulas; no two atoms closer than ``min_distance`` (A);
    spglib finds a space-group operation of the whole cell with R[2, 2] = -1 that maps metal
    sites onto metal sites (so the two interfaces are equivalent).
    """
    from pymatgen.core import Composition
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    regions = structure.site_properties.get("region")
    if regions is None or set(regions) - {"metal", "compound"}:
        return "sites without a metal/compound region"
    compound = Composition(
        "".join(
            s.species_string for s, r in zip(structure, regions, strict=True) if r == "compound"
        )
    )
    reduced, _ = compound_bulk.composition.get_reduced_composition_and_factor()
    if compound != reduced * n_compound_formula_units:
        return f"compound part {compound.formula} is not {n_compound_formula_units} x {reduced}"
    _, _, _, distances = structure.get_neighbor_list(min_distance)
    if len(distances) and float(np.min(distances)) < min_distance:
        return f"two atoms are {float(np.min(distances)):.2f} A apart (< {min_distance} A)"
    ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations(cartesian=True)
    for op in ops:
        rot = op.rotation_matrix
        if np.isclose(rot[2, 2], -1.0, atol=1e-3) and _maps_regions(
            structure, rot, op.translation_vector, 2 * symprec
        ):
            return None
    return "no space-group operation flips the normal while mapping metal onto metal"


# --------------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------------


def _miller_text(miller: Sequence[int]) -> str:
    if all(abs(int(i)) < 10 for i in miller):
        return "(" + "".join(str(int(i)) for i in miller) + ")"
    return "(" + ",".join(str(int(i)) for i in miller) + ")"


def model_label(
    metal: str,
    compound: str,
    candidate: MatchCandidate,
    metal_termination: str,
    compound_termination: str,
    registry: Sequence[float],
    gap: float,
) -> str:
    """E.g. 'Li(110)-t0-Li|Li2S(110)-t0-Li2S m[1,1;-1,1]c[1,0;0,1] r0.00,0.50 g2.0'."""
    return (
        f"{metal}{_miller_text(candidate.metal_miller)}-{metal_termination}|"
        f"{compound}{_miller_text(candidate.compound_miller)}-{compound_termination} "
        f"{candidate.tag} r{registry[0]:.2f},{registry[1]:.2f} g{gap:.1f}"
    )


def _check_candidate(
    candidate: MatchCandidate, metal_geo: FacetGeometry, compound_geo: FacetGeometry
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Integer supercell matrices of a candidate, checked against the bulks given."""
    matrices = []
    for name, value, geo, vectors in (
        ("metal", candidate.metal_matrix, metal_geo, candidate.metal_vectors),
        ("compound", candidate.compound_matrix, compound_geo, candidate.compound_vectors),
    ):
        m = np.asarray(value)
        if m.shape != (2, 2) or not np.allclose(m, np.round(m)) or round(np.linalg.det(m)) <= 0:
            raise InterfacialError(
                f"candidate {name}_matrix {value!r} must be a 2x2 integer matrix with a positive "
                "determinant (a right-handed supercell); take candidates from find_matches"
            )
        m = np.round(m).astype(np.int64)
        # A candidate matched on another bulk (e.g. before relaxation) would be silently wrong.
        if len(vectors) and not np.allclose(m @ geo.mesh, np.asarray(vectors), atol=1e-3):
            raise InterfacialError(
                f"the candidate's {name}_vectors do not match the {name} bulk given; "
                "build models with the same bulk structures the candidate was matched with"
            )
        matrices.append(m)
    return matrices[0], matrices[1]


def _metal_on_supercell(
    metal_bulk: Structure,
    geo: FacetGeometry,
    termination: Termination,
    n_planes: int,
    metal_matrix: NDArray[np.int64],
    target_xy: NDArray[np.float64],
) -> tuple[AtomSet, NDArray[np.int64]]:
    """Metal slab tiled on its supercell and strained onto ``target_xy``; lowest plane at z=0."""
    from pymatgen.core import Lattice, Structure

    slab = metal_slab(metal_bulk, geo, termination.shift, n_planes)
    atoms = tile_on_supercell(slab, geo.mesh, metal_matrix)
    own_xy = metal_matrix @ geo.mesh[:, :2]
    frac = atoms.cart[:, :2] @ np.linalg.inv(own_xy)
    z = atoms.cart[:, 2] - atoms.cart[:, 2].min()
    strained = AtomSet(atoms.species, np.column_stack([frac @ target_xy, z]))
    helper = Structure(
        Lattice(np.vstack([np.column_stack([target_xy, [0, 0]]), [0, 0, z.max() + 20.0]])),
        strained.species,
        strained.cart,
        coords_are_cartesian=True,
    )
    planes = atomic_planes(helper)
    # Lower half, middle plane included when the count is odd (the flip maps it onto itself).
    half = (len(planes) + 1) // 2
    lower = np.array(sorted(i for p in planes[:half] for i in p), dtype=np.int64)
    return strained, lower


def _chosen_terminations(
    geo: FacetGeometry, wanted: Sequence[str] | None, name: str
) -> list[Termination]:
    """The usable terminations of a facet, narrowed to ``wanted`` labels when given."""
    usable = list(geo.terminations.usable)
    if wanted is None:
        return usable
    labels = [t.label for t in usable]
    unknown = [w for w in wanted if w not in labels]
    if unknown or not wanted:
        raise InterfacialError(
            f"termination(s) {', '.join(unknown) or '[]'} of {name}{_miller_text(geo.miller)} "
            f"are not among its usable terminations ({', '.join(labels) or 'none'}); take "
            "labels from the surface documents"
        )
    return [t for t in usable if t.label in set(wanted)]


def build_interface_models(
    metal_bulk: Structure,
    compound_bulk: Structure,
    candidate: MatchCandidate,
    *,
    metal_thickness: float | None = None,
    compound_thickness: float | None = DEFAULT_COMPOUND_THICKNESS,
    gaps: Sequence[float] = DEFAULT_GAPS,
    registries: Sequence[Sequence[float]] = DEFAULT_REGISTRIES,
    max_atoms: int = 1000,
    min_distance: float = 1.2,
    metal_terminations: Sequence[str] | None = None,
    compound_terminations: Sequence[str] | None = None,
) -> list[InterfaceModel]:
    """Symmetric two-interface models of a candidate over terminations, registries and gaps.

    Parameters
    ----------
    metal_bulk, compound_bulk : Structure
        The bulks the candidate was matched with.
    candidate : MatchCandidate
        From :func:`~interfacial.structures.matching.find_matches`.
    metal_thickness : float, optional
        Metal slab thickness (A); default from ``slabs.DEFAULT_METAL_THICKNESS``. The metal gets the
        smallest number of atomic planes reaching it (bulk-equivalent thickness).
    compound_thickness : float, optional
        Compound slab thickness (A): thinnest symmetric stoichiometric slab reaching it; None
        means the default, 10 A.
    gaps : sequence of float
        Initial interlayer distances at the interfaces (A).
    registries : sequence of (float, float)
        In-plane metal shifts (fractions of the supercell vectors); equivalent ones are merged.
    max_atoms : int
        Largest model accepted.
    min_distance : float
        Smallest interatomic distance accepted in a model (A).
    metal_terminations, compound_terminations : sequence of str, optional
        Only these terminations (labels as in the surface documents, e.g. 't0-Li2S'); None
        builds every usable one.

    Returns
    -------
    list[InterfaceModel]
        One model per usable metal termination x usable compound termination x distinct
        registry x gap, each verified (normal-flipping symmetry mapping metal onto metal,
        stoichiometry, minimum distance).

    Raises
    ------
    InterfacialError
        On bad input, a model above ``max_atoms``, or when no combination can be made
        symmetric.

    """
    metal = check_metal(metal_bulk)
    check_compound(compound_bulk, metal)
    m_thick = default_metal_thickness(metal) if metal_thickness is None else metal_thickness
    check_thickness_value(m_thick, "metal")
    if compound_thickness is None:
        compound_thickness = DEFAULT_COMPOUND_THICKNESS
    check_thickness_value(compound_thickness, "compound")
    gap_values = [float(g) for g in gaps]
    if not gap_values or not all(math.isfinite(g) and 0 < g <= MAX_GAP for g in gap_values):
        raise InterfacialError(f"gaps {list(gaps)} must be positive and at most {MAX_GAP} A")
    if not (math.isfinite(min_distance) and 0 < min_distance < min(gap_values) + 1e-9):
        raise InterfacialError(
            f"min_distance {min_distance} A must be positive and not larger than the smallest gap"
        )
    metal_geo = facet_geometry(metal_bulk, parse_miller(candidate.metal_miller), "metal")
    compound_geo = facet_geometry(
        compound_bulk, parse_miller(candidate.compound_miller), "compound"
    )
    metal_matrix, compound_matrix = _check_candidate(candidate, metal_geo, compound_geo)
    cell_xy = compound_matrix @ compound_geo.mesh[:, :2]
    n_planes = metal_layer_count(metal_geo, m_thick)
    unique_registries = distinct_registries(candidate, registries)
    metal_name = metal_bulk.composition.reduced_formula
    compound_name = compound_bulk.composition.reduced_formula
    reduced_atoms = compound_bulk.composition.get_reduced_composition_and_factor()[0].num_atoms

    metal_terms = _chosen_terminations(metal_geo, metal_terminations, metal_name)
    compound_terms = _chosen_terminations(compound_geo, compound_terminations, compound_name)
    models: list[InterfaceModel] = []
    failures: list[str] = []
    for c_term in compound_terms:
        c_slab = compound_slab(compound_bulk, compound_geo, c_term.shift, compound_thickness)
        compound = tile_on_supercell(c_slab, compound_geo.mesh, compound_matrix)
        mid = (compound.cart[:, 2].max() + compound.cart[:, 2].min()) / 2
        compound.cart[:, 2] -= mid
        flips = _flip_operations(compound, cell_xy)
        for m_term in metal_terms:
            metal_atoms, lower = _metal_on_supercell(
                metal_bulk, metal_geo, m_term, n_planes, metal_matrix, cell_xy
            )
            total = len(metal_atoms) + len(compound)
            if total > max_atoms:
                raise InterfacialError(
                    f"the {metal_name}||{compound_name} model of {candidate.tag} has "
                    f"{total} atoms, "
                    f"above max_atoms={max_atoms}; lower metal_thickness/compound_thickness, "
                    "choose a candidate of smaller area (lower max_area) or raise max_atoms"
                )
            sides = _Sides(compound, metal_atoms, lower, cell_xy, flips)
            n_fu = len(compound) // int(reduced_atoms)
            for registry, gap in product(unique_registries, gap_values):
                label = model_label(
                    metal_name, compound_name, candidate, m_term.label, c_term.label, registry, gap
                )
                built = _build(sides, registry, gap)
                if isinstance(built, str):
                    failures.append(f"{label}: {built}")
                    continue
                structure, flip, n_metal, perfect = built
                reason = verify_model(structure, compound_bulk, n_fu, min_distance)
                if reason is not None:
                    failures.append(f"{label}: {reason}")
                    continue
                models.append(
                    InterfaceModel(
                        structure=structure,
                        candidate=candidate,
                        metal_termination=m_term.label,
                        compound_termination=c_term.label,
                        metal_shift=float(m_term.shift),
                        compound_shift=float(c_term.shift),
                        registry=list(registry),
                        gap=gap,
                        n_metal_atoms=n_metal,
                        n_compound_formula_units=n_fu,
                        area=float(mesh_area(cell_xy)),
                        flip_operation=np.round(flip.affine(), 12).tolist(),
                        label=label,
                        metal_is_perfect=perfect,
                    )
                )
    for failure in failures:
        _LOG.warning("skipped interface model %s", failure)
    if not models:
        raise InterfacialError(
            f"no symmetric model of {metal_name}{_miller_text(candidate.metal_miller)}||"
            f"{compound_name}{_miller_text(candidate.compound_miller)} {candidate.tag}: "
            + "; ".join(failures[:4])
        )
    return models


def metal_in_plane_vectors(model: InterfaceModel) -> NDArray[np.float64]:
    """In-plane lattice of the model (2x3, A): the strained metal's, equal to the compound's."""
    return np.asarray(model.structure.lattice.matrix[:2], dtype=float)


def metal_deformation(model: InterfaceModel) -> NDArray[np.float64]:
    """In-plane deformation gradient F (2x2) applied to the metal: F m_i = c_i."""
    candidate = model.candidate
    return deformation_gradient(
        np.asarray(candidate.metal_vectors), np.asarray(candidate.compound_vectors)
    )


__all__ = [
    "DEFAULT_GAPS",
    "DEFAULT_REGISTRIES",
    "InterfaceModel",
    "build_interface_models",
    "distinct_registries",
    "metal_deformation",
    "metal_in_plane_vectors",
    "model_label",
    "verify_model",
]
