"""Supercells and ion vacancies for the reference MD (pure, seeded functions).

The study runs its reference MD in near-cubic supercells of about 100-220 atoms (Li 4x4x4 = 128,
Li2S 2x2x2 = 96, Li3P 3x3x3 = 216, LiCl 3x3x3 = 216), some with one Li vacancy (~0.8 %), and on
interface models with ~1.1 % Li vacancies placed at random near the two interfaces.

A removed ion leaves its valence electrons behind in a DFT cell. The cell therefore carries a
charge ``-count x oxidation state`` (e.g. -1 per Li+ removed), which the VASP input set turns into
NELECT with a compensating uniform background. Force fields have no electrons and ignore it.
"""

from __future__ import annotations

import itertools
import math
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pymatgen.core import Structure

#: Default half-width of the interface region around each interface plane (A).
DEFAULT_REGION_WIDTH = 4.0
#: Largest vacancy fraction accepted: beyond it the cell is no longer "a crystal with vacancies".
MAX_VACANCY_FRACTION = 0.5
#: Largest repeat tried along one axis by :func:`study_supercell`.
MAX_REPEAT = 12


def _oxidation_state(structure: Structure, element: str, oxidation_state: int | None) -> int:
    """Oxidation state of the removed ion: given, +1 for alkali metals, else guessed.

    Alkali metals count as +1 even in the metal: the study removes Li+ ions from Li metal too,
    the electron staying in the cell.
    """
    from pymatgen.core import Element

    if oxidation_state is not None:
        return int(oxidation_state)
    if Element(element).is_alkali:
        return 1
    composition = structure.composition
    if "region" in structure.site_properties:
        # Interface models: the non-alkali ions live in the compound, whose guess is meaningful.
        regions = structure.site_properties["region"]
        compound = [s for s, r in zip(structure, regions, strict=True) if r == "compound"]
        if compound:
            from pymatgen.core import Composition

            composition = Composition(
                "".join(site.species_string for site in compound)
            ).reduced_composition
    guesses = composition.oxi_state_guesses(max_sites=-50)
    if not guesses or element not in guesses[0]:
        raise InterfacialError(
            f"cannot guess the oxidation state of {element} in {composition.reduced_formula}: "
            "pass oxidation_state explicitly"
        )
    return round(guesses[0][element])


def interface_planes(structure: Structure) -> NDArray[np.float64]:
    """Fractional z of the planes where site property ``region`` changes (periodic along z).

    Each plane sits midway between the last atom of one region and the first atom of the next,
    going up in z with wrap-around, so a model with two interfaces gives two planes.

    Parameters
    ----------
    structure : Structure
        Interface model with site property ``region`` ("metal" / "compound") on every site.

    Returns
    -------
    numpy.ndarray
        Fractional z coordinates in [0, 1) of the planes, ascending.

    Raises
    ------
    InterfacialError
        If the structure has no ``region`` property or only one region.

    """
    regions = structure.site_properties.get("region")
    if regions is None:
        raise InterfacialError(
            "region='interface' needs an interface model with site property 'region' "
            "(from build_interface_models); give region=None for a bulk cell"
        )
    z = np.mod(structure.frac_coords[:, 2], 1.0)
    order = np.argsort(z, kind="stable")
    z_sorted = z[order]
    r_sorted = [regions[i] for i in order]
    planes = []
    n = len(z_sorted)
    for k in range(n):
        nxt = (k + 1) % n
        if r_sorted[k] != r_sorted[nxt]:
            upper = z_sorted[nxt] + (1.0 if nxt == 0 else 0.0)
            planes.append(((z_sorted[k] + upper) / 2) % 1.0)
    if not planes:
        raise InterfacialError("the structure has a single region: no interface to select near")
    return np.sort(np.array(planes))


def interface_region_indices(structure: Structure, width: float) -> list[int]:
    """Indices of the sites within ``width`` (A, along z) of an interface plane.

    The distance along z is periodic (minimum image along c, measured perpendicular to the a-b
    plane, which is the interface plane of every model of this project).
    """
    planes = interface_planes(structure)
    # Height of the cell perpendicular to the a-b plane: volume / |a x b|.
    a, b, _ = structure.lattice.matrix
    height = structure.volume / float(np.linalg.norm(np.cross(a, b)))
    dz = np.mod(structure.frac_coords[:, 2], 1.0)[:, None] - planes[None, :]
    dz -= np.round(dz)
    distance = np.abs(dz).min(axis=1) * height
    return [int(i) for i in np.flatnonzero(distance <= width)]


def vacancy_count(n_available: int, count: int | None, fraction: float | None) -> int:
    """Number of ions to remove from ``count`` or ``fraction`` (exactly one of them).

    ``fraction`` gives ``round(fraction x n_available)``, at least 1.
    """
    if (count is None) == (fraction is None):
        raise InterfacialError(
            "vacancies: give exactly one of vacancy count (number of ions) and vacancy "
            "fraction (of that element's atoms)"
        )
    if fraction is not None:
        if not (math.isfinite(fraction) and 0 < fraction <= MAX_VACANCY_FRACTION):
            raise InterfacialError(
                f"vacancy fraction {fraction} is outside (0, {MAX_VACANCY_FRACTION}]; the study "
                "uses ~0.008 (one Li in a bulk supercell) to 0.011 (interfaces)"
            )
        return max(1, round(fraction * n_available))
    assert count is not None
    if int(count) != count or count < 1:
        raise InterfacialError(f"vacancy count {count} must be a positive integer")
    return int(count)


def remove_ions(
    structure: Structure,
    element: str,
    count: int | None = None,
    fraction: float | None = None,
    seed: int = 0,
    region: str | None = None,
    region_width: float | None = None,
    oxidation_state: int | None = None,
) -> Structure:
    """Remove ions of one element at random (seeded) and charge the cell accordingly.

    Parameters
    ----------
    structure : Structure
        Bulk supercell or interface model (not modified).
    element : str
        Element symbol of the removed ions, e.g. "Li".
    count : int, optional
        Number of ions to remove.
    fraction : float, optional
        Fraction in (0, 0.5] of all atoms of ``element`` in the structure; ``round(fraction x
        n)``, at least 1. Exactly one of ``count`` and ``fraction``.
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed removes the same sites.
    region : {None, "interface"}
        None: any atom of ``element``. "interface": only atoms within ``region_width`` of either
        interface plane of an interface model (site property ``region``).
    region_width : float, optional
        Half-width (A) of the interface region; default :data:`DEFAULT_REGION_WIDTH`.
    oxidation_state : int, optional
        Charge of the removed ion (e, default +1 for alkali metals, else pymatgen's guess).

    Returns
    -------
    Structure
        A copy without the removed sites and with ``charge`` lowered by ``count x
        oxidation_state`` (e): VASP then gets NELECT with a compensating background.

    Raises
    ------
    InterfacialError
        If the element is absent (from the region), more ions are requested than available,
        count and fraction are both or neither given, the fraction is outside (0, 0.5], or
        the region is unknown.

    """
    symbols = [site.specie.symbol for site in structure]
    if element not in symbols:
        raise InterfacialError(
            f"{structure.composition.reduced_formula} has no {element} to remove; "
            f"its elements are {sorted(set(symbols))}"
        )
    of_element = [i for i, s in enumerate(symbols) if s == element]
    n = vacancy_count(len(of_element), count, fraction)
    if region is None:
        candidates = of_element
        where = ""
    elif region == "interface":
        width = DEFAULT_REGION_WIDTH if region_width is None else float(region_width)
        if not (math.isfinite(width) and width > 0):
            raise InterfacialError(f"region_width {region_width} A must be positive")
        near = set(interface_region_indices(structure, width))
        candidates = [i for i in of_element if i in near]
        where = f" within {width:g} A of an interface"
        if not candidates:
            raise InterfacialError(f"no {element} atom lies{where}: widen region_width")
    else:
        raise InterfacialError(f"region {region!r} is unknown: use None or 'interface'")
    if n > len(candidates):
        raise InterfacialError(
            f"cannot remove {n} {element}: only {len(candidates)} {element} atoms{where}"
        )
    charge = _oxidation_state(structure, element, oxidation_state)
    rng = np.random.default_rng(seed)
    removed = sorted(int(i) for i in rng.choice(candidates, size=n, replace=False))
    result = structure.copy()
    result.remove_sites(removed)
    result.set_charge(structure.charge - n * charge)
    return result


def _cubicness(matrix: NDArray[np.float64]) -> float:
    """Smallest perpendicular width over the cube root of the volume (1 for a cube).

    The smallest width sets how close periodic images come, so it is what a near-cubic
    supercell maximises for a given number of atoms.
    """
    volume = abs(float(np.linalg.det(matrix)))
    widths = [
        volume / float(np.linalg.norm(np.cross(matrix[j], matrix[k])))
        for j, k in ((1, 2), (2, 0), (0, 1))
    ]
    return min(widths) / volume ** (1 / 3)


def supercell_repeats(structure: Structure, target_atoms: int, tolerance: float = 0.1) -> list[int]:
    """Repeats [na, nb, nc] of a near-cubic diagonal supercell with about ``target_atoms`` atoms.

    Among the repeats (na, nb, nc) whose atom count is within ``tolerance`` (relative) of the
    target, the most cubic (largest smallest-width / volume^(1/3)) wins, then the closest
    count; with none within tolerance, the closest count wins. From the conventional cells of
    the built-in library: Li 128 -> 4x4x4, Li2S 96 -> 2x2x2, Li3P 216 -> 3x3x3.

    Parameters
    ----------
    structure : Structure
        The cell to repeat (conventional cell recommended).
    target_atoms : int
        Wanted number of atoms.
    tolerance : float
        Accepted relative deviation of the atom count from the target.

    Returns
    -------
    list[int]
        The repeats [na, nb, nc].

    Raises
    ------
    InterfacialError
        If ``target_atoms`` is smaller than the cell or not positive.

    """
    n0 = len(structure)
    if target_atoms < n0:
        raise InterfacialError(
            f"target_atoms {target_atoms} is below the {n0} atoms of the cell to repeat"
        )
    matrix = structure.lattice.matrix
    best: tuple[tuple[float, ...], list[int]] | None = None
    for repeats in itertools.product(range(1, MAX_REPEAT + 1), repeat=3):
        n_atoms = n0 * repeats[0] * repeats[1] * repeats[2]
        deviation = abs(n_atoms - target_atoms) / target_atoms
        shape = _cubicness(matrix * np.array(repeats)[:, None])
        within = deviation <= tolerance + 1e-12
        # Lexicographic key: inside tolerance first, then shape, then count (lower is better).
        key = (0.0, -shape, deviation) if within else (1.0, deviation, -shape)
        if best is None or key < best[0]:
            best = (key, list(repeats))
    assert best is not None
    return best[1]


def study_supercell(structure: Structure, target_atoms: int, tolerance: float = 0.1) -> Structure:
    """Near-cubic diagonal supercell with about ``target_atoms`` atoms.

    The repeats are those of :func:`supercell_repeats`; the charge of ``structure`` is kept.
    """
    supercell = structure * supercell_repeats(structure, target_atoms, tolerance)
    supercell.set_charge(structure.charge)
    return supercell


def simulation_cell(
    structure: Structure,
    *,
    supercell_atoms: int | None = None,
    vacancy_element: str | None = None,
    vacancy_count: int | None = None,
    vacancy_fraction: float | None = None,
    vacancy_seed: int = 0,
    vacancy_region: str | None = None,
    region_width: float | None = None,
) -> tuple[Structure, dict[str, Any] | None]:
    """The cell an MD run simulates: near-cubic supercell first, then seeded vacancies.

    Shared by the reference MD and the transport MD so both build cells the same way.

    Returns
    -------
    cell : Structure
        The supercell with ions removed (charge -1 per Li+ removed, see :func:`remove_ions`).
    vacancies : dict or None
        ``element``, ``count``, ``seed`` and ``region`` of the removed ions; None without
        vacancies.

    """
    cell = structure.copy()
    if supercell_atoms is not None:
        cell = study_supercell(cell, supercell_atoms)
    if vacancy_element is None:
        return cell, None
    before = len(cell)
    cell = remove_ions(
        cell,
        vacancy_element,
        count=vacancy_count,
        fraction=vacancy_fraction,
        seed=vacancy_seed,
        region=vacancy_region,
        region_width=region_width,
    )
    return cell, {
        "element": vacancy_element,
        "count": before - len(cell),
        "seed": vacancy_seed,
        "region": vacancy_region,
    }


class CellOptions(Protocol):
    """What an MD maker says about its cell (the reference and transport MD makers do)."""

    supercell_atoms: int | None
    vacancy_element: str | None
    vacancy_count: int | None
    vacancy_fraction: float | None
    vacancy_seed: int
    vacancy_region: Any
    region_width: float | None


def check_cell_options(options: CellOptions) -> None:
    """Refuse vacancy settings that :func:`remove_ions` would refuse, at Maker construction."""
    if options.vacancy_element is not None:
        vacancy_count(10**6, options.vacancy_count, options.vacancy_fraction)
    elif options.vacancy_count is not None or options.vacancy_fraction is not None:
        raise InterfacialError("vacancy_count/vacancy_fraction need vacancy_element")


def maker_cell(
    options: CellOptions, structure: Structure
) -> tuple[Structure, dict[str, Any] | None]:
    """:func:`simulation_cell` with a maker's cell options."""
    return simulation_cell(
        structure,
        supercell_atoms=options.supercell_atoms,
        vacancy_element=options.vacancy_element,
        vacancy_count=options.vacancy_count,
        vacancy_fraction=options.vacancy_fraction,
        vacancy_seed=options.vacancy_seed,
        vacancy_region=options.vacancy_region,
        region_width=options.region_width,
    )
