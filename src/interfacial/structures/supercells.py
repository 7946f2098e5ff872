"""Slabs and bulks of a facet tiled onto a coincident supercell of an interface.

The model builder (:mod:`interfacial.structures.interfaces`) tiles mesh-cell slabs onto the
interface supercell; :func:`strained_bulk` builds the bulk reference of the interfacial energy,
oriented along the facet with its in-plane lattice fixed to the interface's.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from interfacial.analysis.matching import mesh_area
from interfacial.errors import InterfacialError
from interfacial.structures.meshes import mesh_from_slab
from interfacial.structures.slabs import (
    enumerate_terminations,
    normal_period,
    parse_miller,
    slab_on_mesh,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from numpy.typing import NDArray
    from pymatgen.core import Structure

    from interfacial.structures.slabs import Miller


@dataclass
class AtomSet:
    """Species and Cartesian positions (A) of atoms; the in-plane periodicity is kept apart."""

    species: list[str]
    cart: NDArray[np.float64]

    def __len__(self) -> int:
        return len(self.species)

    def subset(self, index: Sequence[int] | NDArray[np.int64]) -> AtomSet:
        """The atoms at ``index``, in that order (positions copied)."""
        idx = np.asarray(index, dtype=int)
        return AtomSet([self.species[i] for i in idx], self.cart[idx].copy())

    def __add__(self, other: AtomSet) -> AtomSet:
        """Both sets, ``self`` first."""
        return AtomSet(self.species + other.species, np.vstack([self.cart, other.cart]))


def tile_on_supercell(
    slab: Structure, mesh: NDArray[np.float64], matrix: NDArray[np.int64]
) -> AtomSet:
    """Atoms of a mesh-cell slab repeated over the supercell ``matrix @ mesh`` (in-plane).

    ``slab`` has the mesh as its a and b (e.g. from
    :func:`~interfacial.structures.slabs.slab_on_mesh`); ``matrix`` is a 2x2 integer matrix
    with a positive determinant. Heights (z, A) are kept; in-plane positions are wrapped into
    the supercell.
    """
    inv = np.linalg.inv(matrix.astype(float))
    corners = np.array([[0, 0], matrix[0], matrix[1], matrix[0] + matrix[1]])
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    frac_mesh = slab.frac_coords[:, :2] % 1.0
    frac_mesh[frac_mesh > 1 - 1e-8] -= 1.0
    z_mesh = slab.cart_coords[:, 2]
    species: list[str] = []
    points, heights = [], []
    # Mesh lattice points inside the supercell: (i, j) + atom, in supercell fractions, in [0, 1).
    for i, j in product(range(lo[0] - 1, hi[0] + 2), range(lo[1] - 1, hi[1] + 2)):
        frac = (frac_mesh + np.array([i, j])) @ inv
        inside = np.nonzero(np.all((frac > -1e-8) & (frac < 1 - 1e-8), axis=1))[0]
        species += [slab[int(k)].species_string for k in inside]
        points.append(frac[inside])
        heights.append(z_mesh[inside])
    expected = len(slab) * round(abs(np.linalg.det(matrix)))
    if len(species) != expected:
        raise InterfacialError(
            f"tiling produced {len(species)} atoms instead of {expected}; please report this"
        )
    xy = np.vstack(points) @ (matrix @ mesh[:, :2])
    return AtomSet(species, np.column_stack([xy, np.concatenate(heights)]))


def strained_bulk(
    bulk: Structure,
    miller: Miller | Sequence[int] | str,
    matrix: Sequence[Sequence[int]],
    target_vectors: Sequence[Sequence[float]] | NDArray[np.float64],
) -> tuple[Structure, int]:
    """Bulk oriented along a facet, in-plane lattice fixed to the interface's.

    Parameters
    ----------
    bulk : Structure
        The bulk (metal or compound).
    miller : Miller index
        Facet of the interface.
    matrix : 2x2 int
        In-plane supercell relative to :func:`~interfacial.structures.meshes.surface_mesh`.
    target_vectors : (2, 3)
        The interface's in-plane lattice (A); a and b are set exactly to these.

    Returns
    -------
    tuple[Structure, int]
        The cell (a, b = target_vectors; c = one stacking period of the facet, strained with
        the plane, in general not normal to it) and its number of formula units (reduced
        formula). This is the reference E_X(z) of the interfacial energy: relaxed with a and b
        fixed, c and the positions free.

    """
    from pymatgen.core import Lattice, Structure

    miller = parse_miller(list(miller) if not isinstance(miller, str) else miller)
    target = np.asarray(target_vectors, dtype=float)
    if target.shape == (2, 2):
        target = np.column_stack([target, [0.0, 0.0]])
    if target.shape != (2, 3) or not np.allclose(target[:, 2], 0.0) or mesh_area(target) < 1e-6:
        raise InterfacialError(
            "target_vectors must be two non-parallel in-plane vectors (2x3, z = 0) in A, "
            "e.g. a candidate's compound_vectors"
        )
    int_matrix = np.asarray(matrix)
    if int_matrix.shape != (2, 2) or round(np.linalg.det(int_matrix)) <= 0:
        raise InterfacialError(f"matrix {matrix!r} must be 2x2 integers with det > 0")
    int_matrix = np.round(int_matrix).astype(np.int64)
    shift = enumerate_terminations(bulk, miller).terminations[0].shift
    mesh = mesh_from_slab(bulk, miller, shift)
    thick = slab_on_mesh(bulk, miller, shift, 2, mesh)
    period = normal_period(thick, mesh)
    z0 = thick.cart_coords[:, 2].min()
    one = [i for i in range(len(thick)) if thick.cart_coords[i, 2] < z0 + period[2] - 0.02]
    super_xy = int_matrix @ mesh[:, :2]
    inv_super = np.linalg.inv(super_xy)
    # One stacking period as c, tilted when the stacking is (c need not be normal: only a and b
    # are fixed, and relaxing "along the normal" lets c move). The in-plane strain F, taking the
    # supercell onto the target, acts on positions and on c alike through fractional coordinates.
    base = thick.copy().remove_sites([i for i in range(len(thick)) if i not in set(one)])
    tiled = tile_on_supercell(base, mesh, int_matrix)
    species = list(tiled.species)
    w = (tiled.cart[:, 2] - z0) / period[2]
    uv = (tiled.cart[:, :2] - np.outer(w, period[:2])) @ inv_super
    frac = np.column_stack([uv - np.floor(uv + 1e-9), w])
    c_vector = np.append(period[:2] @ inv_super @ target[:, :2], period[2])
    lattice = Lattice(np.vstack([target, c_vector]))
    structure = Structure(lattice, species, frac).get_sorted_structure()
    reduced = bulk.composition.get_reduced_composition_and_factor()[0]
    units = len(structure) / reduced.num_atoms
    if not math.isclose(units, round(units)):
        raise InterfacialError(
            f"the oriented bulk has {len(structure)} atoms, not whole formula units of "
            f"{reduced.reduced_formula}; please report this structure"
        )
    return structure, round(units)


__all__ = ["AtomSet", "strained_bulk", "tile_on_supercell"]
