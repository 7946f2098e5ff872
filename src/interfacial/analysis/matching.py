"""Lattice mismatch of a metal supercell on a compound supercell (compound = reference).

Units: lengths in A, areas in A^2, angles in degrees, mismatches as fractions (0.05 = 5 %).

The metal takes all the strain (the compounds are much stiffer), so every relative quantity is
measured against the compound's supercell vectors.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def _pair(vectors: ArrayLike, name: str) -> NDArray[np.float64]:
    """Two in-plane vectors as a (2, 3) float array; (2, 2) input gets z = 0."""
    arr = np.asarray(vectors, dtype=float)
    if arr.shape == (2, 2):
        arr = np.hstack([arr, np.zeros((2, 1))])
    if arr.shape != (2, 3):
        raise ValueError(f"{name} must be two in-plane vectors, shape (2, 3) or (2, 2)")
    return arr


def vector_mismatch(metal_vectors: ArrayLike, compound_vectors: ArrayLike) -> float:
    r"""Largest relative length mismatch of paired supercell vectors (ARTEMIS "vector mismatch").

    .. math:: \delta = \max_{i=1,2} \frac{\bigl|\,|\mathbf c_i| - |\mathbf m_i|\,\bigr|}
              {|\mathbf c_i|}

    where :math:`\mathbf m_i` (metal) is put onto :math:`\mathbf c_i` (compound). It is not
    pymatgen's von Mises strain.

    Parameters
    ----------
    metal_vectors : array_like, shape (2, 3) or (2, 2)
        Unstrained in-plane supercell vectors of the metal (A).
    compound_vectors : array_like, shape (2, 3) or (2, 2)
        In-plane supercell vectors of the compound, paired row by row (A).

    Returns
    -------
    float
        delta, a fraction (0.05 means 5 %).

    """
    m = np.linalg.norm(_pair(metal_vectors, "metal_vectors"), axis=1)
    c = np.linalg.norm(_pair(compound_vectors, "compound_vectors"), axis=1)
    if np.any(c <= 0):
        raise ValueError("compound supercell vectors must have non-zero length")
    return float(np.max(np.abs(c - m) / c))


def _angle(vectors: NDArray[np.float64]) -> float:
    """Angle between the two rows (degrees), in [0, 180]."""
    cos = np.dot(vectors[0], vectors[1])
    sin = np.linalg.norm(np.cross(vectors[0], vectors[1]))
    return float(np.degrees(np.arctan2(sin, cos)))


def angle_mismatch(metal_vectors: ArrayLike, compound_vectors: ArrayLike) -> float:
    r"""Difference of the angles between the two supercell vectors (degrees).

    .. math:: \Delta\theta = \bigl|\angle(\mathbf m_1, \mathbf m_2)
              - \angle(\mathbf c_1, \mathbf c_2)\bigr|

    Parameters
    ----------
    metal_vectors : array_like, shape (2, 3) or (2, 2)
        Unstrained in-plane supercell vectors of the metal (A).
    compound_vectors : array_like, shape (2, 3) or (2, 2)
        In-plane supercell vectors of the compound (A).

    Returns
    -------
    float
        Delta theta in degrees (>= 0).

    """
    return abs(
        _angle(_pair(metal_vectors, "metal_vectors"))
        - _angle(_pair(compound_vectors, "compound_vectors"))
    )


def mesh_area(vectors: ArrayLike) -> float:
    r"""Area of the parallelogram spanned by two in-plane vectors.

    .. math:: S = |\mathbf v_1 \times \mathbf v_2|

    Parameters
    ----------
    vectors : array_like, shape (2, 3) or (2, 2)
        The two vectors (A).

    Returns
    -------
    float
        S in A^2.

    """
    v = _pair(vectors, "vectors")
    return float(np.linalg.norm(np.cross(v[0], v[1])))


__all__ = ["angle_mismatch", "mesh_area", "vector_mismatch"]
