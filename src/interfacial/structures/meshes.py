"""The true 2D surface mesh of a facet, and what the matcher and model builder know of a facet.

``SlabGenerator(primitive=True)`` may return a surface cell that is a multiple of the true one
(bcc (110) is the case usually quoted; with the installed pymatgen, bcc and fcc (211) come out 4
times too large and fcc (311) 12 times); a multiple hides the best coincident supercells. The
mesh is therefore found as the in-plane translations that map a slab onto itself, and checked
against the primitive lattice-plane area V_prim / d_hkl, with the Miller index converted to the
primitive cell.

All vectors are in the frame of :func:`interfacial.structures.slabs.build_slab` (a along x, b in
the xy plane, surface normal along +z), in A.
"""

from __future__ import annotations

import math
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from interfacial.errors import InterfacialError
from interfacial.structures.slabs import (
    HELPER_VACUUM,
    POSITION_TOL,
    FacetGeometry,
    Miller,
    atomic_planes,
    build_slab,
    enumerate_terminations,
    miller_label,
    parse_miller,
    slab_on_mesh,
    wrapped_inplane_distance,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pymatgen.core import Structure


# --------------------------------------------------------------------------------------------
# Reduced 2D bases (rows are vectors)
# --------------------------------------------------------------------------------------------


def cross_z(u: NDArray[np.float64], v: NDArray[np.float64]) -> float:
    """The z component of u x v of in-plane vectors (A^2); positive for a right-handed pair."""
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
    if cross_z(v[0], v[1]) < 0:
        m[1] = -m[1]
    # (v1, v2) and (-v1, -v2) are equally good: prefer the matrix with fewer negative entries.
    if np.sum(m < 0) > np.sum(m > 0):
        m = -m
    return m


# --------------------------------------------------------------------------------------------
# Primitive lattice plane of a Miller index
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


# --------------------------------------------------------------------------------------------
# Surface mesh
# --------------------------------------------------------------------------------------------


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
        same = [j for j, s in enumerate(species) if s == sp and abs(z[j] - z[i]) < POSITION_TOL]
        d = wrapped_inplane_distance(frac_xy[same] - moved[i], cell_xy)
        if d.min() > 2 * POSITION_TOL:
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

    """
    miller = parse_miller(miller)
    # Cut between planes (a real termination): a cut through a plane splits it between the
    # two faces and no in-plane translation would map the slab onto itself.
    shift = enumerate_terminations(bulk, miller).terminations[0].shift
    return mesh_from_slab(bulk, miller, shift)


def mesh_from_slab(bulk: Structure, miller: Miller, shift: float) -> NDArray[np.float64]:
    """:func:`surface_mesh` for a known termination ``shift`` (pymatgen's), (2, 3) in A.

    The one-repeat slab's own cell is searched for every in-plane translation that maps the
    slab onto itself; the result is checked against the primitive plane area.

    Raises
    ------
    InterfacialError
        If the slab cell is not a whole multiple of the primitive plane area, or the number of
        self-mapping translations is not that multiple (disordered or distorted bulk).

    """
    slab = build_slab(bulk, miller, shift, 1, HELPER_VACUUM)
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
    second = next(p for p in points if abs(abs(cross_z(first, p)) - area0) < 1e-4 * area0)
    mesh_xy = np.array([first, second])
    reduced = gauss_reduce(np.eye(2, dtype=np.int64), mesh_xy) @ mesh_xy
    return np.hstack([reduced, np.zeros((2, 1))])


# --------------------------------------------------------------------------------------------
# Facet geometry: what the matching and the model builder need to know about one facet
# --------------------------------------------------------------------------------------------


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
    """Collect the geometry of a facet; raise if it has no symmetric termination (Tasker 3).

    ``role`` ("metal", "compound") only names the bulk in the error message.
    """
    terminations = enumerate_terminations(bulk, miller)
    name = f"{role} {bulk.composition.reduced_formula}".strip()
    if not terminations.usable:
        raise InterfacialError(
            f"{name} {miller_label(miller)} has no symmetric stoichiometric termination "
            f"({terminations.reason}); choose another facet"
        )
    mesh = mesh_from_slab(bulk, miller, terminations.terminations[0].shift)
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
        repeat_height=terminations.repeat_height,
        atoms_per_repeat=atoms,
        planes_per_repeat=planes,
        point_group=group or [np.eye(2)],
    )


__all__ = [
    "cross_z",
    "facet_geometry",
    "gauss_reduce",
    "inplane_point_group",
    "mesh_from_slab",
    "primitive_plane_area",
    "surface_mesh",
]
