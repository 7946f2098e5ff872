"""Coincident supercells of a metal facet on a compound facet (Zur-McGill lattice matching).

The compound is the reference: its supercell is left unstrained and the metal's supercell is
strained onto it. Mismatch is the ARTEMIS "vector mismatch" of paired supercell vectors
(:func:`interfacial.analysis.matching.vector_mismatch`), never pymatgen's von Mises strain.

Why the enumeration is written here rather than taken from ``pymatgen.analysis.interfaces.zsl``
(checked on the installed pymatgen):

* ``ZSLGenerator`` Zur-reduces the film and substrate supercells separately and pairs the two
  reduced bases in one fixed order. About half of its matches for Li(110)||Li2S(110) pair a
  right-handed basis with a left-handed one, i.e. the metal would have to be mirrored; and a
  better pairing of the same two lattices (another basis of the metal supercell) is never tried.
* ``ZSLMatch.film_transformation`` is the Hermite normal form that generated the supercell, not
  the integer matrix of the reduced vectors it reports, so the supercell matrices must be
  recomputed anyway.
* its length tolerance is relative to the film (``|s|/|f| - 1``), its angle tolerance is a ratio
  of angles and its area-ratio tolerance is an absolute difference of area ratios; none is the
  quantity we filter on, and every supercell of a match is reported again as a new match.

So the compound supercells are enumerated as Hermite normal forms (all sublattices up to
``max_area``), Gauss-reduced to a right-handed basis, and for each one every right-handed pair of
metal mesh vectors within the length and angle tolerances is tried; the pair with the smallest
principal strain wins. Candidates that are symmetry images or plain repeats of a smaller one are
dropped.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from itertools import product
from typing import TYPE_CHECKING, Any

import numpy as np

from interfacial.analysis.matching import angle_mismatch, mesh_area, vector_mismatch
from interfacial.errors import InterfacialError
from interfacial.structures.slabs import (
    THICKNESS_BOUNDS,
    FacetTerminations,
    Miller,
    atomic_planes,
    build_slab,
    enumerate_terminations,
    miller_label,
    parse_miller,
    repeat_height,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pymatgen.core import Structure

#: Default metal slab thickness per element (A); other metals get FALLBACK_METAL_THICKNESS.
DEFAULT_METAL_THICKNESS: dict[str, float] = {"Li": 12.0, "Na": 14.0}
FALLBACK_METAL_THICKNESS = 12.0
#: Default compound slab thickness (A).
DEFAULT_COMPOUND_THICKNESS = 10.0
#: Bounds on the matching parameters; beyond them the input is a typo or a runaway search.
MAX_MISMATCH_BOUNDS = (0.0, 0.5)
MAX_AREA_LIMIT = 1000.0
MAX_ANGLE_LIMIT = 45.0
#: Vacuum of the helper slabs used only for geometry (A).
_HELPER_VACUUM = 10.0
#: Cartesian tolerance for "same position" (A); loose enough for relaxed, slightly noisy bulks.
_POSITION_TOL = 0.02


class NoMatchError(InterfacialError):
    """No candidate within the tolerances; ``best`` holds the closest ones of a wider search."""

    def __init__(self, message: str, best: list[MatchCandidate]) -> None:
        super().__init__(message)
        self.best = best


@dataclass
class MatchCandidate:
    """One coincident supercell: metal supercell strained onto the compound supercell.

    Row i of ``metal_vectors`` (metal frame) is put onto row i of ``compound_vectors`` (compound
    frame); both frames are those of :func:`interfacial.structures.slabs.build_slab` (a along x,
    b in the xy plane, surface normal along +z) and both bases are right-handed.

    Attributes
    ----------
    metal_miller, compound_miller : list[int]
        Facets (Miller indices of the bulk cells given).
    metal_matrix, compound_matrix : list[list[int]]
        2x2 integer matrices; rows are the supercell vectors as integer combinations of the
        :func:`surface_mesh` vectors of each side.
    mismatch : float
        ARTEMIS vector mismatch, compound as reference (fraction).
    angle_mismatch : float
        Difference of the supercell angles (degrees).
    area : float
        Area of one interface, the compound supercell area (A^2).
    n_atoms : int
        Atoms of the symmetric two-interface model at the thicknesses of the search.
    metal_vectors, compound_vectors : list[list[float]]
        The unstrained supercell vectors (2x3, A).
    n_metal_atoms, n_compound_atoms : int
        Split of ``n_atoms`` between the two slabs.

    """

    metal_miller: list[int]
    compound_miller: list[int]
    metal_matrix: list[list[int]]
    compound_matrix: list[list[int]]
    mismatch: float
    angle_mismatch: float
    area: float
    n_atoms: int
    metal_vectors: list[list[float]] = field(default_factory=list)
    compound_vectors: list[list[float]] = field(default_factory=list)
    n_metal_atoms: int = 0
    n_compound_atoms: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-serialisable plain types (lists, ints, floats)."""
        data = asdict(self)
        for key in ("metal_miller", "compound_miller"):
            data[key] = [int(i) for i in data[key]]
        for key in ("metal_matrix", "compound_matrix"):
            data[key] = [[int(i) for i in row] for row in data[key]]
        for key in ("metal_vectors", "compound_vectors"):
            data[key] = [[float(x) for x in row] for row in data[key]]
        for key in ("mismatch", "angle_mismatch", "area"):
            data[key] = float(data[key])
        for key in ("n_atoms", "n_metal_atoms", "n_compound_atoms"):
            data[key] = int(data[key])
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MatchCandidate:
        """Inverse of :meth:`as_dict`; unknown keys are ignored."""
        names = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in names})

    @property
    def tag(self) -> str:
        """Compact unique tag of the two supercells, e.g. 'm[1,1;-1,1]c[1,0;0,1]'."""

        def fmt(matrix: list[list[int]]) -> str:
            return "[" + ";".join(",".join(str(int(i)) for i in row) for row in matrix) + "]"

        return f"m{fmt(self.metal_matrix)}c{fmt(self.compound_matrix)}"


# --------------------------------------------------------------------------------------------
# Small 2D lattice helpers (rows are vectors)
# --------------------------------------------------------------------------------------------


def _cross_z(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    return float(u[0] * v[1] - u[1] * v[0])


def gauss_reduce(matrix: NDArray[np.int64], mesh: NDArray[np.float64]) -> NDArray[np.int64]:
    """Gauss(-Lagrange)-reduce the basis ``matrix @ mesh`` and make it right-handed.

    Returns the integer matrix of the reduced basis: |v1| <= |v2|, |v1.v2| <= |v1|^2 / 2 and
    (v1 x v2).z > 0, so the angle lies between 60 and 120 degrees.
    """
    m = np.array(matrix, dtype=np.int64)
    xy = np.asarray(mesh, dtype=float)[:, :2]
    for _ in range(1000):
        v = m @ xy
        if v[0] @ v[0] > v[1] @ v[1] + 1e-9:
            m = m[::-1].copy()
            v = v[::-1]
        mu = round(float(v[0] @ v[1]) / float(v[0] @ v[0]))
        if mu == 0:
            break
        m[1] -= mu * m[0]
    v = m @ xy
    if _cross_z(v[0], v[1]) < 0:
        m[1] = -m[1]
    # (v1, v2) and (-v1, -v2) are equally good: prefer the matrix with fewer negative entries.
    if np.sum(m < 0) > np.sum(m > 0):
        m = -m
    return m


def hermite_normal_form(matrix: NDArray[np.int64] | list[list[int]]) -> tuple[int, int, int]:
    """Canonical (p, q, r) of the row lattice of a 2x2 integer matrix: rows (p, q), (0, r).

    p, r > 0 and 0 <= q < r; two bases span the same lattice exactly when these agree.
    """
    (a, b), (c, d) = (int(x) for x in matrix[0]), (int(x) for x in matrix[1])
    r0, r1 = [a, b], [c, d]
    while r1[0] != 0:
        q = r0[0] // r1[0]
        r0, r1 = r1, [r0[0] - q * r1[0], r0[1] - q * r1[1]]
    if r0[0] < 0:
        r0 = [-r0[0], -r0[1]]
    r = abs(r1[1])
    if r == 0 or r0[0] == 0:
        raise ValueError("singular supercell matrix")
    return r0[0], r0[1] % r, r


def hermite_matrices(index: int) -> list[NDArray[np.int64]]:
    """Every sublattice of index ``index`` of a 2D lattice, as HNF matrices [[p, q], [0, r]]."""
    return [
        np.array([[p, q], [0, index // p]], dtype=np.int64)
        for p in range(1, index + 1)
        if index % p == 0
        for q in range(index // p)
    ]


# --------------------------------------------------------------------------------------------
# Surface mesh of a facet
# --------------------------------------------------------------------------------------------


def _coprime(values: NDArray[np.float64]) -> NDArray[np.int64]:
    """Smallest integer vector parallel to rational ``values`` (denominators up to 24)."""
    for scale in range(1, 25):
        scaled = values * scale
        if np.allclose(scaled, np.round(scaled), atol=1e-4):
            ints = np.round(scaled).astype(np.int64)
            return ints // math.gcd(*(int(abs(i)) for i in ints))
    raise InterfacialError(
        f"Miller index {values} is not rational in the primitive cell; check the bulk structure"
    )


def primitive_plane_area(bulk: Structure, miller: Miller) -> float:
    r"""Area of the smallest 2D cell of the lattice plane ``miller`` (A^2).

    .. math:: S_0 = V_\mathrm{prim} / d = V_\mathrm{prim}\, |\mathbf G'|

    with :math:`\mathbf G'` the reciprocal vector of the plane written with coprime indices in
    the *primitive* cell (for a centred cell, the conventional (100) of bcc is (011) or so in the
    primitive one and its planes are a/2 apart, not a).
    """
    prim = bulk.get_primitive_structure()
    normal = np.asarray(miller, float) @ bulk.lattice.reciprocal_lattice_crystallographic.matrix
    prim_indices = _coprime(prim.lattice.matrix @ normal)
    g = prim_indices @ prim.lattice.reciprocal_lattice_crystallographic.matrix
    return float(prim.lattice.volume * np.linalg.norm(g))


def _wrap_xy_distance(
    diff: NDArray[np.float64], mesh_xy: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Cartesian length of in-plane fractional differences, nearest periodic image (A)."""
    frac = diff - np.round(diff)
    cart = frac @ mesh_xy
    # Reduced cells: the nearest image is among the 9 neighbours of the rounded one.
    best = np.linalg.norm(cart, axis=-1)
    for i, j in product((-1, 0, 1), repeat=2):
        if i == j == 0:
            continue
        shifted = cart + i * mesh_xy[0] + j * mesh_xy[1]
        best = np.minimum(best, np.linalg.norm(shifted, axis=-1))
    return best


def _translation_maps_slab(
    frac_xy: NDArray[np.float64],
    z: NDArray[np.float64],
    species: list[str],
    shift: NDArray[np.float64],
    cell_xy: NDArray[np.float64],
) -> bool:
    """True if translating every atom by ``shift`` (fractional) lands on an identical atom."""
    moved = frac_xy + shift
    for i, sp in enumerate(species):
        same = [j for j, s in enumerate(species) if s == sp and abs(z[j] - z[i]) < _POSITION_TOL]
        d = _wrap_xy_distance(frac_xy[same] - moved[i], cell_xy)
        if d.min() > 2 * _POSITION_TOL:
            return False
    return True


def surface_mesh(bulk: Structure, miller: Miller | list[int] | str) -> NDArray[np.float64]:
    """The smallest 2D lattice of a facet, in the frame of slabs built by ``build_slab`` (A).

    Parameters
    ----------
    bulk : Structure
        Bulk crystal.
    miller : Miller index
        Facet, in the bulk cell given (parsed with ``parse_miller``).

    Returns
    -------
    numpy.ndarray, shape (2, 3)
        Gauss-reduced, right-handed in-plane vectors (z = 0) whose area equals the primitive
        lattice-plane area :func:`primitive_plane_area`.

    Notes
    -----
    ``SlabGenerator(primitive=True)`` may return a surface cell that is a multiple of the true
    one (bcc (110) is the case usually quoted; with the installed pymatgen, bcc and fcc (211)
    come out 4 times too large and fcc (311) 12 times); a multiple hides the best coincident
    supercells. The slab's own cell is therefore searched for every in-plane translation that
    maps the slab onto itself, and the result is checked against the primitive plane area.

    """
    miller = parse_miller(miller)
    # Cut between planes (a real termination): a cut through a plane splits it between the
    # two faces and no in-plane translation would map the slab onto itself.
    shift = enumerate_terminations(bulk, miller).terminations[0].shift
    return _mesh_from_slab(bulk, miller, shift)


def _mesh_from_slab(bulk: Structure, miller: Miller, shift: float) -> NDArray[np.float64]:
    """Body of :func:`surface_mesh` for a known termination shift."""
    slab = build_slab(bulk, miller, shift, 1, _HELPER_VACUUM)
    # Search in a reduced basis of the slab cell: pymatgen's may be very oblique.
    raw_xy = slab.lattice.matrix[:2, :2]
    cell_xy = (gauss_reduce(np.eye(2, dtype=np.int64), raw_xy) @ raw_xy).astype(float)
    area0 = primitive_plane_area(bulk, miller)
    ratio = abs(np.linalg.det(cell_xy)) / area0
    k = round(ratio)
    if k < 1 or abs(ratio - k) > 1e-3:
        raise InterfacialError(
            f"the slab cell of {miller_label(miller)} is {ratio:.3f} times the primitive plane "
            "area, not an integer multiple; check the bulk structure (ordered, no partial sites)"
        )
    frac_xy = slab.cart_coords[:, :2] @ np.linalg.inv(cell_xy)
    z = slab.cart_coords[:, 2]
    species = [site.species_string for site in slab]
    # Every in-plane lattice translation t satisfies k t in the slab cell: t = (u, v) / k.
    allowed = {
        (u, v)
        for u, v in product(range(k), repeat=2)
        if _translation_maps_slab(frac_xy, z, species, np.array([u, v]) / k, cell_xy)
    }
    if len(allowed) != k:
        raise InterfacialError(
            f"found {len(allowed)} in-plane translations of the {miller_label(miller)} slab "
            f"where {k} were expected; the bulk structure may be disordered or distorted"
        )
    # Shortest two independent translations spanning the full lattice (area = area0).
    points = [
        (np.array([u, v]) / k) @ cell_xy
        for u, v in product(range(-2 * k, 2 * k + 1), repeat=2)
        if (u % k, v % k) in allowed and (u, v) != (0, 0)
    ]
    points.sort(key=lambda p: (round(float(np.linalg.norm(p)), 6), -p[0], -p[1]))
    first = points[0]
    second = next(p for p in points if abs(abs(_cross_z(first, p)) - area0) < 1e-4 * area0)
    mesh_xy = np.array([first, second])
    reduced = gauss_reduce(np.eye(2, dtype=np.int64), mesh_xy) @ mesh_xy
    return np.hstack([reduced, np.zeros((2, 1))])


# --------------------------------------------------------------------------------------------
# Facet geometry: what the matching and the model builder need to know about one facet
# --------------------------------------------------------------------------------------------


@dataclass
class FacetGeometry:
    """Mesh, stacking and symmetry of one facet (all in the ``build_slab`` frame)."""

    miller: Miller
    mesh: NDArray[np.float64]
    terminations: FacetTerminations
    repeat_height: float
    atoms_per_repeat: int
    planes_per_repeat: int
    point_group: list[NDArray[np.float64]]

    @property
    def plane_spacing(self) -> float:
        """Mean interplanar spacing (A)."""
        return self.repeat_height / self.planes_per_repeat


def slab_on_mesh(
    bulk: Structure, miller: Miller, shift: float, n_repeats: int, mesh: NDArray[np.float64]
) -> Structure:
    """A ``build_slab`` slab re-expressed in the cell (mesh a, mesh b, c along z).

    The slab cell may be a multiple of the mesh; its duplicate atoms are merged. Raises if the
    slab is not periodic on the mesh (which would be a bug in the mesh).
    """
    from pymatgen.core import Lattice, Structure

    slab = build_slab(bulk, miller, shift, n_repeats, _HELPER_VACUUM)
    c = slab.lattice.matrix[2]
    lattice = Lattice(np.vstack([mesh[0], mesh[1], c]))
    frac = lattice.get_fractional_coords(slab.cart_coords)
    frac[:, :2] -= np.floor(frac[:, :2])
    species = [site.species_string for site in slab]
    keep: list[int] = []
    for i in range(len(slab)):
        dup = [
            j
            for j in keep
            if species[j] == species[i] and abs(frac[j, 2] - frac[i, 2]) * c[2] < _POSITION_TOL
        ]
        if dup and (
            _wrap_xy_distance(frac[dup, :2] - frac[i, :2], mesh[:, :2]).min() < 2 * _POSITION_TOL
        ):
            continue
        keep.append(i)
    multiple = len(slab) / len(keep)
    expected = abs(np.linalg.det(slab.lattice.matrix[:2, :2])) / mesh_area(mesh)
    if not math.isclose(multiple, expected, rel_tol=1e-6):
        raise InterfacialError(
            f"the {miller_label(miller)} slab is not periodic on its surface mesh "
            f"({len(slab)} atoms, {len(keep)} distinct); please report this structure"
        )
    return Structure(lattice, [species[i] for i in keep], frac[keep])


def inplane_point_group(structure: Structure, symprec: float = 0.05) -> list[NDArray[np.float64]]:
    """In-plane parts (2x2, Cartesian) of the operations that keep the normal (+z) fixed."""
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    ops = SpacegroupAnalyzer(structure, symprec=symprec).get_symmetry_operations(cartesian=True)
    group: list[NDArray[np.float64]] = []
    for op in ops:
        rot = op.rotation_matrix
        if np.isclose(rot[2, 2], 1.0, atol=1e-3) and np.allclose(rot[2, :2], 0.0, atol=1e-3):
            r2 = np.round(rot[:2, :2], 6)
            if not any(np.allclose(r2, g, atol=1e-4) for g in group):
                group.append(r2)
    return group


def facet_geometry(bulk: Structure, miller: Miller, role: str = "") -> FacetGeometry:
    """Collect the geometry of a facet; raise if it has no symmetric termination (Tasker 3)."""
    from interfacial.structures.slabs import _generator

    terminations = enumerate_terminations(bulk, miller)
    name = f"{role} {bulk.composition.reduced_formula}".strip()
    if not terminations.usable:
        raise InterfacialError(
            f"{name} {miller_label(miller)} has no symmetric stoichiometric termination "
            f"({terminations.reason}); choose another facet"
        )
    mesh = _mesh_from_slab(bulk, miller, terminations.terminations[0].shift)
    height = repeat_height(_generator(bulk, miller, 1.0, _HELPER_VACUUM))
    group: list[NDArray[np.float64]] | None = None
    atoms = planes = 0
    for term in terminations.usable:
        slab = slab_on_mesh(bulk, miller, term.shift, 1, mesh)
        atoms, planes = len(slab), len(atomic_planes(slab))
        ops = inplane_point_group(slab)
        # Keep only operations common to every usable termination (conservative merging).
        group = ops if group is None else [g for g in group if any(np.allclose(g, o) for o in ops)]
    return FacetGeometry(
        miller=miller,
        mesh=mesh,
        terminations=terminations,
        repeat_height=height,
        atoms_per_repeat=atoms,
        planes_per_repeat=planes,
        point_group=group or [np.eye(2)],
    )


def metal_layer_count(geometry: FacetGeometry, thickness: float) -> int:
    """Smallest number of atomic planes of the metal reaching ``thickness`` (A), at least 2.

    Thickness is bulk-equivalent: n planes times the interplanar spacing.
    """
    return max(2, math.ceil(thickness / geometry.plane_spacing - 1e-6))


def metal_atoms_per_plane(geometry: FacetGeometry) -> int:
    """Atoms per mesh cell in each plane of an elemental metal (planes must be alike)."""
    per_plane, rest = divmod(geometry.atoms_per_repeat, geometry.planes_per_repeat)
    if rest:
        raise InterfacialError(
            f"metal facet {miller_label(geometry.miller)} has planes of different density; "
            "only metals whose planes are alike (bcc, fcc, hcp basal) are supported"
        )
    return per_plane


def _lowest_planes(slab: Structure, n_planes: int) -> Structure:
    """The slab reduced to its ``n_planes`` lowest atomic planes."""
    planes = atomic_planes(slab)
    keep = sorted(i for plane in planes[:n_planes] for i in plane)
    return slab.copy().remove_sites([i for i in range(len(slab)) if i not in set(keep)])


def metal_slab(bulk: Structure, geometry: FacetGeometry, shift: float, n_planes: int) -> Structure:
    """Metal slab of exactly ``n_planes`` planes on the mesh cell (vacuum cell, normal along z)."""
    n_repeats = math.ceil(n_planes / geometry.planes_per_repeat)
    slab = slab_on_mesh(bulk, geometry.miller, shift, n_repeats, geometry.mesh)
    return _lowest_planes(slab, n_planes)


def compound_slab(
    bulk: Structure, geometry: FacetGeometry, shift: float, thickness: float
) -> Structure:
    """Thinnest symmetric, stoichiometric compound slab of at least ``thickness`` (A).

    Thickness is bulk-equivalent, t = N V_atom / S. Whole oriented repeats always qualify (the
    termination is usable), but a Tasker type-1 facet such as Li2S(110) is symmetric with
    fewer planes than pymatgen's oriented cell holds, so planes are added one at a time.
    """
    from interfacial.structures.slabs import has_normal_flip, is_stoichiometric

    n_repeats = compound_repeat_count(geometry, thickness)
    slab = slab_on_mesh(bulk, geometry.miller, shift, n_repeats, geometry.mesh)
    volume_per_atom = bulk.volume / len(bulk)
    area = mesh_area(geometry.mesh)
    planes = atomic_planes(slab)
    for n in range(1, len(planes)):
        n_atoms = sum(len(p) for p in planes[:n])
        if n_atoms * volume_per_atom / area < thickness - 1e-6:
            continue
        candidate = _lowest_planes(slab, n)
        if is_stoichiometric(candidate, bulk) and has_normal_flip(candidate):
            return candidate
    return slab


def compound_repeat_count(geometry: FacetGeometry, thickness: float) -> int:
    """Smallest number of oriented repeats reaching ``thickness`` (A)."""
    return max(1, math.ceil(thickness / geometry.repeat_height - 1e-6))


def normal_period(slab: Structure, mesh: NDArray[np.float64]) -> NDArray[np.float64]:
    """Shortest bulk translation with a positive normal component, (t_x, t_y, d) in A.

    ``slab`` is a slab on the mesh cell at least two oriented repeats thick: its atoms are
    matched against themselves to find the stacking vector.
    """
    cart = slab.cart_coords
    species = [site.species_string for site in slab]
    order = np.argsort(cart[:, 2], kind="stable")
    origin = int(order[0])
    top = cart[:, 2].max()
    inv = np.asarray(np.linalg.inv(mesh[:, :2]), dtype=np.float64)
    for j in order:
        dz = cart[j, 2] - cart[origin, 2]
        if species[j] != species[origin] or dz < 0.1:
            continue
        t = cart[j] - cart[origin]
        inside = np.nonzero(cart[:, 2] + dz <= top + _POSITION_TOL)[0]
        if all(_has_atom_at(cart, species, cart[i] + t, species[i], inv, mesh) for i in inside):
            return np.asarray(t, dtype=float)
    raise InterfacialError("no stacking period found along the normal; the slab is too thin")


def _has_atom_at(
    cart: NDArray[np.float64],
    species: list[str],
    point: NDArray[np.float64],
    specie: str,
    inv_mesh: NDArray[np.float64],
    mesh: NDArray[np.float64],
) -> bool:
    """True if an atom of ``specie`` sits at ``point`` modulo the mesh translations."""
    same = np.array([s == specie for s in species])
    close_z = np.abs(cart[:, 2] - point[2]) < _POSITION_TOL
    idx = np.nonzero(same & close_z)[0]
    if idx.size == 0:
        return False
    diff = (cart[idx, :2] - point[:2]) @ inv_mesh
    return bool(_wrap_xy_distance(diff, mesh[:, :2]).min() < 2 * _POSITION_TOL)


# --------------------------------------------------------------------------------------------
# Input checks
# --------------------------------------------------------------------------------------------


def check_metal(bulk: Structure) -> str:
    """Return the metal's element symbol; raise unless it is an elemental alkali metal."""
    elements = bulk.composition.elements
    formula = bulk.composition.reduced_formula
    if len(elements) != 1 or elements[0].group != 1 or elements[0].symbol == "H":
        raise InterfacialError(
            f"the metal must be an elemental alkali metal (one element of group 1: Li, Na, K, "
            f"...), got {formula}; pass the metal first and the compound second"
        )
    return elements[0].symbol


def check_compound(bulk: Structure, metal: str) -> None:
    """Raise unless the compound has two or more elements, one of them the metal."""
    symbols = {e.symbol for e in bulk.composition.elements}
    formula = bulk.composition.reduced_formula
    if metal not in symbols or len(symbols) < 2:
        raise InterfacialError(
            f"the compound {formula} does not contain the metal {metal} (or is not a compound); "
            f"give a compound of {metal}, e.g. {metal}2S or {metal}Cl"
        )


def check_thickness_value(thickness: float, what: str) -> None:
    """Reject slab thicknesses outside THICKNESS_BOUNDS (A)."""
    lo, hi = THICKNESS_BOUNDS
    if not (math.isfinite(thickness) and lo <= thickness <= hi):
        raise InterfacialError(
            f"{what} thickness {thickness} A is outside [{lo}, {hi}] A; typical values are 8-15 A"
        )


def default_metal_thickness(metal: str) -> float:
    """Default metal slab thickness (A) from DEFAULT_METAL_THICKNESS."""
    return DEFAULT_METAL_THICKNESS.get(metal, FALLBACK_METAL_THICKNESS)


def _check_tolerances(max_area: float, max_mismatch: float, max_angle_mismatch: float) -> None:
    lo, hi = MAX_MISMATCH_BOUNDS
    if not (math.isfinite(max_mismatch) and lo < max_mismatch <= hi):
        raise InterfacialError(
            f"max_mismatch {max_mismatch} is outside (0, 0.5]; it is a fraction: 0.15 means 15 %"
        )
    if not (math.isfinite(max_area) and 0 < max_area <= MAX_AREA_LIMIT):
        raise InterfacialError(
            f"max_area {max_area} A^2 must be positive and at most {MAX_AREA_LIMIT:.0f} A^2; "
            "typical values are 50-200 A^2"
        )
    if not (math.isfinite(max_angle_mismatch) and 0 < max_angle_mismatch <= MAX_ANGLE_LIMIT):
        raise InterfacialError(
            f"max_angle_mismatch {max_angle_mismatch} degrees must be in (0, {MAX_ANGLE_LIMIT:.0f}]"
        )


# --------------------------------------------------------------------------------------------
# The search
# --------------------------------------------------------------------------------------------


@dataclass
class _Raw:
    """A match before counting atoms: integer matrices and the strain it implies."""

    metal: NDArray[np.int64]
    compound: NDArray[np.int64]
    strain: float
    mismatch: float
    angle: float
    obliqueness: float
    deformation: NDArray[np.float64]

    def sort_key(self) -> tuple[float, ...]:
        return (
            round(abs(np.linalg.det(self.compound))),
            round(self.strain, 9),
            round(self.mismatch, 9),
            round(self.angle, 9),
            round(self.obliqueness, 9),
            int(np.sum(self.metal < 0)),
        )


def deformation_gradient(
    metal_vectors: NDArray[np.float64], compound_vectors: NDArray[np.float64]
) -> NDArray[np.float64]:
    """In-plane map F (2x2) with F m_i = c_i: what the metal undergoes (rotation and strain)."""
    m = np.asarray(metal_vectors, float)[:, :2]
    c = np.asarray(compound_vectors, float)[:, :2]
    return np.asarray(c.T @ np.linalg.inv(m.T))


def _lattice_points(mesh_xy: NDArray[np.float64], radius: float) -> NDArray[np.int64]:
    """Integer coefficients of every mesh vector shorter than ``radius`` (A), excluding 0."""
    area = abs(np.linalg.det(mesh_xy))
    # |i a + j b| >= |i| * area / |b| and >= |j| * area / |a|.
    imax = math.ceil(radius * np.linalg.norm(mesh_xy[1]) / area) + 1
    jmax = math.ceil(radius * np.linalg.norm(mesh_xy[0]) / area) + 1
    ij = np.array(
        [
            (i, j)
            for i in range(-imax, imax + 1)
            for j in range(-jmax, jmax + 1)
            if (i, j) != (0, 0)
        ],
        dtype=np.int64,
    )
    lengths = np.linalg.norm(ij @ mesh_xy, axis=1)
    return ij[lengths <= radius]


def _best_metal_bases(
    compound_vectors: NDArray[np.float64],
    metal_points: NDArray[np.int64],
    metal_xy: NDArray[np.float64],
    max_mismatch: float,
    max_angle: float,
) -> dict[tuple[int, int, int], _Raw]:
    """For one compound supercell, the best metal basis of every admissible metal supercell."""
    c = compound_vectors[:, :2]
    lc = np.linalg.norm(c, axis=1)
    angle_c = math.degrees(math.atan2(_cross_z(c[0], c[1]), float(c[0] @ c[1])))
    vectors = metal_points @ metal_xy
    lengths = np.linalg.norm(vectors, axis=1)
    first = np.nonzero(np.abs(lengths - lc[0]) <= max_mismatch * lc[0] + 1e-9)[0]
    second = np.nonzero(np.abs(lengths - lc[1]) <= max_mismatch * lc[1] + 1e-9)[0]
    if first.size == 0 or second.size == 0:
        return {}
    v1, v2 = vectors[first][:, None, :], vectors[second][None, :, :]
    cross = v1[..., 0] * v2[..., 1] - v1[..., 1] * v2[..., 0]
    dot = np.sum(v1 * v2, axis=-1)
    angle = np.degrees(np.arctan2(cross, dot))
    ok = (cross > 1e-6) & (np.abs(angle - angle_c) <= max_angle + 1e-9)
    best: dict[tuple[int, int, int], _Raw] = {}
    for i, j in zip(*np.nonzero(ok), strict=True):
        metal = np.array([metal_points[first[i]], metal_points[second[j]]], dtype=np.int64)
        m = metal @ metal_xy
        f = deformation_gradient(m, c)
        stretches = np.linalg.svd(f, compute_uv=False)
        raw = _Raw(
            metal=metal,
            compound=np.zeros((2, 2), dtype=np.int64),
            strain=float(np.max(np.abs(stretches - 1.0))),
            mismatch=vector_mismatch(m, c),
            angle=abs(float(angle[i, j]) - angle_c),
            obliqueness=abs(float(dot[i, j])) / float(lengths[first[i]] * lengths[second[j]]),
            deformation=f,
        )
        key = hermite_normal_form(metal)
        if key not in best or raw.sort_key() < best[key].sort_key():
            best[key] = raw
    return best


def _symmetry_pairs(
    compound_xy: NDArray[np.float64],
    compound_group: list[NDArray[np.float64]],
    metal_group: list[NDArray[np.float64]],
) -> list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]]:
    """(K_h, h, g^-1) for every compound operation h and metal operation g.

    K_h is h written on the compound mesh (integer): h maps the supercell rows M @ mesh to
    (M @ K_h) @ mesh.
    """
    inv_xy = np.linalg.inv(compound_xy)
    pairs: list[tuple[NDArray[np.int64], NDArray[np.float64], NDArray[np.float64]]] = []
    for h in compound_group:
        k_h = compound_xy @ h.T @ inv_xy
        k_int = np.round(k_h).astype(np.int64)
        if not np.allclose(k_h, k_int, atol=1e-6):
            continue
        pairs.extend(
            (k_int, h, np.asarray(np.linalg.inv(g), dtype=np.float64)) for g in metal_group
        )
    return pairs


def _deduplicate(
    raws: list[_Raw],
    compound_xy: NDArray[np.float64],
    compound_group: list[NDArray[np.float64]],
    metal_group: list[NDArray[np.float64]],
) -> list[_Raw]:
    """Drop symmetry images and plain repeats (same F on a sublattice) of earlier matches.

    Rotating the compound by one of its own surface operations h and the metal by one of its own
    g gives the same interface: (L_c, F) -> (h L_c, h F g^-1). A match whose F equals that of a
    kept match on a larger lattice containing its own is that match repeated.
    """
    symmetry = _symmetry_pairs(compound_xy, compound_group, metal_group)
    kept: list[_Raw] = []
    seen: set[tuple[Any, ...]] = set()
    # Inverse compound matrices of the kept matches, by their rounded F.
    kept_by_f: dict[tuple[float, ...], list[NDArray[np.float64]]] = {}
    for raw in sorted(raws, key=_Raw.sort_key):
        images = [
            (raw.compound @ k_h, tuple(np.round(h @ raw.deformation @ g_inv, 4).ravel() + 0.0))
            for k_h, h, g_inv in symmetry
        ]
        keys = {(hermite_normal_form(matrix), f_key) for matrix, f_key in images}
        if keys & seen:
            continue
        repeat = False
        for matrix, f_key in images:
            for other_inv in kept_by_f.get(f_key, ()):
                coeffs = matrix @ other_inv
                if np.allclose(coeffs, np.round(coeffs), atol=1e-6):
                    repeat = True
                    break
            if repeat:
                break
        if repeat:
            continue
        seen |= keys
        kept.append(raw)
        own = tuple(np.round(raw.deformation, 4).ravel() + 0.0)
        kept_by_f.setdefault(own, []).append(np.linalg.inv(raw.compound.astype(float)))
    return kept


def _search(
    metal_geo: FacetGeometry,
    compound_geo: FacetGeometry,
    max_area: float,
    max_mismatch: float,
    max_angle: float,
) -> list[_Raw]:
    compound_xy = compound_geo.mesh[:, :2]
    metal_xy = metal_geo.mesh[:, :2]
    compound_area = mesh_area(compound_geo.mesh)
    supercells = [
        gauss_reduce(h, compound_xy)
        for index in range(1, int(max_area / compound_area + 1e-9) + 1)
        for h in hermite_matrices(index)
    ]
    if not supercells:
        return []
    longest = max(float(np.linalg.norm((s @ compound_xy)[1])) for s in supercells)
    points = _lattice_points(metal_xy, (1 + max_mismatch) * longest + 1e-6)
    raws = []
    for s in supercells:
        for raw in _best_metal_bases(
            s @ compound_xy, points, metal_xy, max_mismatch, max_angle
        ).values():
            raw.compound = s
            raws.append(raw)
    return _deduplicate(raws, compound_xy, compound_geo.point_group, metal_geo.point_group)


def _candidate(
    raw: _Raw,
    metal_geo: FacetGeometry,
    compound_geo: FacetGeometry,
    metal_thickness: float,
    compound_atoms_per_mesh: int,
) -> MatchCandidate:
    m_vec = raw.metal @ metal_geo.mesh
    c_vec = raw.compound @ compound_geo.mesh
    n_metal = (
        metal_layer_count(metal_geo, metal_thickness)
        * metal_atoms_per_plane(metal_geo)
        * round(abs(np.linalg.det(raw.metal)))
    )
    n_compound = compound_atoms_per_mesh * round(abs(np.linalg.det(raw.compound)))
    return MatchCandidate(
        metal_miller=[int(i) for i in metal_geo.miller],
        compound_miller=[int(i) for i in compound_geo.miller],
        metal_matrix=raw.metal.tolist(),
        compound_matrix=raw.compound.tolist(),
        mismatch=vector_mismatch(m_vec, c_vec),
        angle_mismatch=angle_mismatch(m_vec, c_vec),
        area=mesh_area(c_vec),
        n_atoms=int(n_metal + n_compound),
        metal_vectors=np.round(m_vec, 10).tolist(),
        compound_vectors=np.round(c_vec, 10).tolist(),
        n_metal_atoms=int(n_metal),
        n_compound_atoms=int(n_compound),
    )


def _no_match_error(
    metal_geo: FacetGeometry,
    compound_geo: FacetGeometry,
    metal_name: str,
    compound_name: str,
    max_area: float,
    max_mismatch: float,
    max_angle: float,
    counts: tuple[float, int],
) -> NoMatchError:
    wide_area = min(MAX_AREA_LIMIT, max(2 * max_area, 4 * mesh_area(compound_geo.mesh)))
    wide_angle = max(max_angle, 10.0)
    raws = _search(metal_geo, compound_geo, wide_area, MAX_MISMATCH_BOUNDS[1], wide_angle)
    best = sorted(
        (_candidate(r, metal_geo, compound_geo, *counts) for r in raws),
        key=lambda c: (round(c.mismatch, 6), c.area),
    )[:3]
    pair = (
        f"{metal_name}{miller_label(metal_geo.miller)}||"
        f"{compound_name}{miller_label(compound_geo.miller)}"
    )
    head = (
        f"no coincident supercell of {pair} within max_mismatch={max_mismatch:g}, "
        f"max_area={max_area:g} A^2, max_angle_mismatch={max_angle:g} deg"
    )
    if not best:
        return NoMatchError(
            f"{head}; none either up to mismatch 0.5 and {wide_area:.0f} A^2: choose other facets",
            best,
        )
    lines = [
        f"mismatch {c.mismatch:.3f}, angle {c.angle_mismatch:.1f} deg, area {c.area:.1f} A^2, "
        f"{c.n_atoms} atoms (needs max_mismatch >= {math.ceil(c.mismatch * 1000) / 1000:g}, "
        f"max_area >= {math.ceil(c.area * 10) / 10:g}"
        + (
            f", max_angle_mismatch >= {math.ceil(c.angle_mismatch * 10) / 10:g})"
            if c.angle_mismatch > max_angle
            else ")"
        )
        for c in best
    ]
    return NoMatchError(f"{head}; closest found: " + "; ".join(lines), best)


def find_matches(
    metal_bulk: Structure,
    compound_bulk: Structure,
    metal_miller: Miller | list[int] | str,
    compound_miller: Miller | list[int] | str,
    *,
    max_area: float = 150.0,
    max_mismatch: float = 0.15,
    max_angle_mismatch: float = 5.0,
    metal_thickness: float | None = None,
    compound_thickness: float | None = DEFAULT_COMPOUND_THICKNESS,
) -> list[MatchCandidate]:
    """Coincident supercells of a metal facet on a compound facet, strain on the metal.

    Parameters
    ----------
    metal_bulk : Structure
        Elemental alkali metal (Li, Na, ...).
    compound_bulk : Structure
        A compound containing the metal's element (the unstrained reference).
    metal_miller, compound_miller : Miller index
        Facets, in the bulk cells given.
    max_area : float
        Largest compound supercell area, i.e. area of one interface (A^2).
    max_mismatch : float
        Largest vector mismatch (fraction, in (0, 0.5]).
    max_angle_mismatch : float
        Largest difference of the supercell angles (degrees).
    metal_thickness : float, optional
        Metal slab thickness used to count atoms (A); default from DEFAULT_METAL_THICKNESS.
    compound_thickness : float, optional
        Compound slab thickness used to count atoms (A); None means the default, 10 A.

    Returns
    -------
    list[MatchCandidate]
        Sorted by n_atoms, then mismatch; symmetry images and repeats of a smaller supercell
        with the same strain are removed.

    Raises
    ------
    InterfacialError
        For bad input (not an alkali metal, compound without the metal, bad Miller indices,
        tolerances out of range, polar facet).
    NoMatchError
        If nothing is within the tolerances; its message lists the closest candidates of a
        wider search and the tolerances that would admit them.

    """
    metal = check_metal(metal_bulk)
    check_compound(compound_bulk, metal)
    m_miller, c_miller = parse_miller(metal_miller), parse_miller(compound_miller)
    _check_tolerances(max_area, max_mismatch, max_angle_mismatch)
    m_thick = default_metal_thickness(metal) if metal_thickness is None else metal_thickness
    check_thickness_value(m_thick, "metal")
    if compound_thickness is None:
        compound_thickness = DEFAULT_COMPOUND_THICKNESS
    check_thickness_value(compound_thickness, "compound")
    metal_geo = facet_geometry(metal_bulk, m_miller, "metal")
    compound_geo = facet_geometry(compound_bulk, c_miller, "compound")
    # Atom counts are those of the first usable compound termination (others rarely differ).
    first = compound_geo.terminations.usable[0]
    per_mesh = len(compound_slab(compound_bulk, compound_geo, first.shift, compound_thickness))
    raws = _search(metal_geo, compound_geo, max_area, max_mismatch, max_angle_mismatch)
    if not raws:
        raise _no_match_error(
            metal_geo,
            compound_geo,
            metal,
            compound_bulk.composition.reduced_formula,
            max_area,
            max_mismatch,
            max_angle_mismatch,
            (m_thick, per_mesh),
        )
    candidates = [_candidate(r, metal_geo, compound_geo, m_thick, per_mesh) for r in raws]
    return sorted(candidates, key=lambda c: (c.n_atoms, round(c.mismatch, 9), c.angle_mismatch))


__all__ = [
    "DEFAULT_METAL_THICKNESS",
    "FacetGeometry",
    "MatchCandidate",
    "NoMatchError",
    "deformation_gradient",
    "facet_geometry",
    "find_matches",
    "gauss_reduce",
    "hermite_normal_form",
    "primitive_plane_area",
    "surface_mesh",
]
