"""Surface energies, thickness convergence and Wulff shapes.

Units: energies in eV, areas in A^2, surface energies in J/m^2 (1 eV/A^2 = 16.0218 J/m^2).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pymatgen.core import Lattice

#: 1 eV/A^2 in J/m^2 (1.602176634e-19 J / 1e-20 m^2).
EV_PER_A2_TO_J_PER_M2 = 16.02176634
#: The study's thickness criterion: gamma changes by less than this between thicknesses (J/m^2).
DEFAULT_CONVERGENCE_TOL = 0.01


def surface_energy(
    slab_energy: float, n_atoms: int, bulk_energy_per_atom: float, area: float
) -> float:
    r"""Surface energy of a symmetric stoichiometric slab.

    .. math:: \gamma = \frac{E_\mathrm{slab} - N\,\varepsilon_\mathrm{bulk}}{2 S}

    with both faces identical (hence 2S). Using the energy per atom is the same as using the
    energy per formula unit because the slab is stoichiometric.

    Parameters
    ----------
    slab_energy : float
        Total energy of the relaxed slab E_slab (eV).
    n_atoms : int
        Number of atoms N in the slab.
    bulk_energy_per_atom : float
        Energy per atom of the relaxed bulk (eV/atom), same calculator and settings.
    area : float
        Area S of one face (A^2).

    Returns
    -------
    float
        gamma in J/m^2.

    """
    if area <= 0:
        raise ValueError(f"surface area must be positive, got {area} A^2")
    return (slab_energy - n_atoms * bulk_energy_per_atom) / (2.0 * area) * EV_PER_A2_TO_J_PER_M2


def surface_energy_linear_fit(
    n_atoms: Sequence[int], slab_energies: Sequence[float], area: float
) -> tuple[float, float]:
    r"""Surface energy from a linear fit E_slab(N) = N e + 2 S gamma over several thicknesses.

    This avoids a separate bulk reference (robust when the bulk and slab calculations differ in
    k-point sampling). Needs at least two thicknesses.

    Returns
    -------
    tuple[float, float]
        (gamma in J/m^2, fitted bulk energy per atom in eV/atom).

    """
    if len(n_atoms) < 2 or len(set(n_atoms)) < 2:
        raise ValueError("a linear fit needs at least two slabs of different thickness")
    slope, intercept = np.polyfit(np.asarray(n_atoms, float), np.asarray(slab_energies, float), 1)
    return float(intercept / (2.0 * area) * EV_PER_A2_TO_J_PER_M2), float(slope)


def converged_index(gammas: Sequence[float], tol: float = DEFAULT_CONVERGENCE_TOL) -> int | None:
    """Index of the first thickness whose gamma differs from the previous one by less than tol.

    ``gammas`` are ordered by increasing thickness. Returns None while not converged.
    """
    for i in range(1, len(gammas)):
        if abs(gammas[i] - gammas[i - 1]) < tol:
            return i
    return None


def wulff_summary(
    lattice: Lattice, millers: Sequence[Sequence[int]], gammas: Sequence[float]
) -> dict[str, Any]:
    """Wulff construction from the lowest gamma of each facet (pymatgen's WulffShape).

    Returns
    -------
    dict
        ``area_fractions`` (list aligned with ``millers``, summing to 1),
        ``weighted_surface_energy`` (J/m^2, sum of area fraction x gamma), ``shape_factor``,
        ``anisotropy`` and ``volume`` (of the shape, arbitrary units).

    Raises
    ------
    ValueError
        When the facets and their symmetry equivalents do not enclose a finite shape (e.g. only
        the basal plane of a hexagonal crystal).

    """
    from pymatgen.analysis.wulff import WulffShape

    if not millers:
        raise ValueError("a Wulff shape needs at least one facet")
    try:
        shape = WulffShape(lattice, [tuple(m) for m in millers], list(gammas))
    except Exception as error:  # scipy's QhullError: the planes leave the shape open
        listed = ", ".join("(" + ",".join(map(str, m)) + ")" for m in millers)
        raise ValueError(
            f"facets {listed} do not enclose a Wulff shape (with their symmetry equivalents); "
            "compute more facets, e.g. all up to a maximum Miller index"
        ) from error
    fractions = shape.area_fraction_dict
    area_fractions = [float(fractions.get(tuple(m), 0.0)) for m in millers]
    return {
        "area_fractions": area_fractions,
        "weighted_surface_energy": float(shape.weighted_surface_energy),
        "shape_factor": float(shape.shape_factor),
        "anisotropy": float(shape.anisotropy),
        "volume": float(shape.volume),
    }
