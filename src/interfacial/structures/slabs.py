"""Stoichiometric, symmetric slabs (Tasker type 1 and 2) of every facet and termination.

pymatgen's :class:`~pymatgen.core.surface.SlabGenerator` enumerates the terminations (shifts) of a
facet. Two of its habits are avoided here on purpose:

* ``get_slabs(symmetrize=True)`` deletes atoms to make the faces equivalent, which breaks
  stoichiometry; we keep stoichiometric slabs and *test* their symmetry instead;
* ``Slab.is_symmetric`` looks at fractional point-group rotations only; we look for any space-group
  operation of the slab (Cartesian, normal along z) that maps z to -z: an inversion centre, a
  mirror parallel to the surface, or a two-fold (screw) axis in the plane. Any of these maps the top
  face onto the bottom one, so both faces are the same surface and the slab has no dipole.

A facet none of whose stoichiometric terminations is symmetric is a Tasker type-3 (polar) facet: it
is reported with that reason, never silently dropped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from pymatgen.core import Structure
    from pymatgen.core.surface import Slab, SlabGenerator

Miller = tuple[int, int, int]

#: Two atoms belong to the same atomic plane when their heights differ by less than this (A).
PLANE_TOLERANCE = 0.1
#: Absolute bounds on requested slab thickness and vacuum (A): beyond them the input is a typo.
THICKNESS_BOUNDS = (3.0, 60.0)
VACUUM_BOUNDS = (10.0, 100.0)


def parse_miller(value: str | tuple[int, ...] | list[int]) -> Miller:
    """Parse '110', '1,1,0', '1 1 0', '-1,1,0' or a sequence of three integers.

    Raises
    ------
    InterfacialError
        For anything but three integers, not all zero.

    """
    if isinstance(value, str):
        text = value.strip().strip("()[]")
        parts = text.replace(",", " ").split()
        if len(parts) == 1 and parts[0].isdigit():
            parts = list(parts[0])
        try:
            ints = [int(p) for p in parts]
        except ValueError:
            ints = []
    else:
        try:
            ints = [int(p) for p in value]
        except (TypeError, ValueError):
            ints = []
        if any(int(p) != p for p in value if isinstance(p, float)):
            ints = []
    if len(ints) != 3:
        raise InterfacialError(
            f"Miller index {value!r} is not three integers; write it as e.g. 1,1,0 or 110"
        )
    if not any(ints):
        raise InterfacialError("Miller index (0,0,0) names no plane; give e.g. 1,0,0")
    return (ints[0], ints[1], ints[2])


def miller_label(miller: Miller | list[int]) -> str:
    """Format a Miller index the way job names and tables show it: '(1,1,0)'."""
    return "(" + ",".join(str(int(i)) for i in miller) + ")"


def check_thickness(min_thickness: float, vacuum: float) -> None:
    """Reject negative or absurd slab thickness and vacuum (A) with a clear message."""
    lo, hi = THICKNESS_BOUNDS
    if not (lo <= min_thickness <= hi) or not math.isfinite(min_thickness):
        raise InterfacialError(
            f"minimum slab thickness {min_thickness} A is outside [{lo}, {hi}] A; "
            "typical values are 8-15 A"
        )
    lo, hi = VACUUM_BOUNDS
    if not (lo <= vacuum <= hi) or not math.isfinite(vacuum):
        raise InterfacialError(
            f"vacuum {vacuum} A is outside [{lo}, {hi}] A; at least 15 A is recommended"
        )


def distinct_facets(bulk: Structure, max_index: int) -> list[Miller]:
    """Symmetrically distinct Miller indices, max |h|,|k|,|l| <= max_index (conventional cell)."""
    from pymatgen.core.surface import get_symmetrically_distinct_miller_indices

    if not 1 <= max_index <= 4:
        raise InterfacialError(f"--max-index {max_index} must be between 1 and 4")
    millers = get_symmetrically_distinct_miller_indices(bulk, max_index)
    return sorted((tuple(int(i) for i in m) for m in millers), key=lambda m: (sum(map(abs, m)), m))  # type: ignore[misc]


def _generator(bulk: Structure, miller: Miller, thickness: float, vacuum: float) -> SlabGenerator:
    from pymatgen.core.surface import SlabGenerator

    return SlabGenerator(
        bulk,
        miller,
        min_slab_size=thickness,
        min_vacuum_size=vacuum,
        lll_reduce=True,
        center_slab=True,
        primitive=True,
        max_normal_search=max(abs(i) for i in miller) + 1,
        reorient_lattice=True,
    )


def repeat_height(generator: SlabGenerator) -> float:
    """Height (A) of one repeat of the oriented unit cell along the surface normal."""
    lattice = generator.oriented_unit_cell.lattice
    return float(lattice.volume / np.linalg.norm(np.cross(lattice.matrix[0], lattice.matrix[1])))


def atomic_planes(structure: Structure, tol: float = PLANE_TOLERANCE) -> list[list[int]]:
    """Group site indices into atomic planes by height z (normal along z), bottom first."""
    z = structure.cart_coords[:, 2]
    order = np.argsort(z)
    planes: list[list[int]] = [[int(order[0])]]
    for i in order[1:]:
        if z[i] - z[planes[-1][-1]] > tol:
            planes.append([])
        planes[-1].append(int(i))
    return planes


def plane_formula(structure: Structure, sites: list[int]) -> str:
    """Reduced formula of the atoms in one plane, e.g. 'S', 'O' or 'LiCl' (not 'O2' for oxygen)."""
    from pymatgen.core import Composition

    composition = Composition("".join(structure[i].species_string for i in sites))
    if len(composition) == 1:
        return composition.elements[0].symbol
    return composition.reduced_formula


def has_normal_flip(slab: Structure, symprec: float = 0.1) -> bool:
    """True if a space-group operation of the slab maps z to -z (normal along z).

    Such an operation (inversion, mirror parallel to the surface, in-plane two-fold axis, or
    their screw/glide variants) maps the top face onto the bottom face.
    """
    from pymatgen.symmetry.analyzer import SpacegroupAnalyzer

    ops = SpacegroupAnalyzer(slab, symprec=symprec).get_symmetry_operations(cartesian=True)
    return any(
        np.isclose(op.rotation_matrix[2, 2], -1.0, atol=1e-3)
        and np.allclose(op.rotation_matrix[2, :2], 0.0, atol=1e-3)
        for op in ops
    )


def is_stoichiometric(slab: Structure, bulk: Structure) -> bool:
    """True if the slab holds a whole number of bulk formula units."""
    bulk_reduced, _ = bulk.composition.get_reduced_composition_and_factor()
    ratio = slab.composition.num_atoms / bulk_reduced.num_atoms
    return slab.composition.reduced_formula == bulk.composition.reduced_formula and math.isclose(
        ratio, round(ratio)
    )


def slab_thickness(slab: Structure, bulk: Structure) -> float:
    """Bulk-equivalent thickness t = N_atoms * (V_bulk / N_bulk) / S (A).

    This is the number of repeats times the repeat height, independent of relaxation; the
    distance between the outermost atoms is smaller by about one interplanar spacing.
    """
    return float(len(slab) * bulk.volume / len(bulk) / slab_area(slab))


def slab_area(slab: Structure) -> float:
    """Area S (A^2) of one face: |a x b|."""
    m = slab.lattice.matrix
    return float(np.linalg.norm(np.cross(m[0], m[1])))


@dataclass
class Termination:
    """One termination (shift) of a facet; ``symmetric`` decides whether it is usable."""

    miller: Miller
    shift: float
    label: str
    symmetric: bool
    n_atoms_per_repeat: int


@dataclass
class FacetTerminations:
    """Every stoichiometric termination of one facet, and the facet's Tasker type."""

    miller: Miller
    tasker_type: int
    repeat_height: float
    terminations: list[Termination] = field(default_factory=list)
    reason: str | None = None

    @property
    def usable(self) -> list[Termination]:
        """Terminations that give stoichiometric symmetric slabs."""
        return [t for t in self.terminations if t.symmetric]


def normal_along_z(slab: Slab) -> Structure:
    """The slab with c perpendicular to the surface and along z, a along x, b in the xy plane.

    pymatgen's ``reorient_lattice`` puts c along z, but c is in general not perpendicular to the
    surface, so the normal is not z. Making c orthogonal (``get_orthogonal_c_slab``, which keeps
    Cartesian positions) and rebuilding the lattice from its parameters fixes both, which is what
    the symmetry test, the layer analysis, VASP's dipole correction and k-point meshes expect.
    """
    from pymatgen.core import Lattice, Structure

    orthogonal = slab.get_orthogonal_c_slab()
    p = orthogonal.lattice.parameters
    lattice = Lattice.from_parameters(p[0], p[1], p[2], 90.0, 90.0, p[5])
    return Structure(
        lattice,
        orthogonal.species,
        orthogonal.frac_coords,
        site_properties=orthogonal.site_properties,
    ).get_sorted_structure()


def build_slab(
    bulk: Structure, miller: Miller, shift: float, n_repeats: int, vacuum: float
) -> Structure:
    """Slab of ``n_repeats`` oriented-unit-cell repeats, terminated at ``shift``, normal along z."""
    generator = _generator(bulk, miller, 1.0, vacuum)
    height = repeat_height(generator)
    # n_layers = ceil(min_slab_size / height) inside pymatgen: ask for (n - 1/2) repeats to get n.
    generator.min_slab_size = (n_repeats - 0.5) * height
    return normal_along_z(generator.get_slab(shift=shift))


def repeats_for_thickness(bulk: Structure, miller: Miller, min_thickness: float) -> int:
    """Smallest number of repeats whose slab is at least ``min_thickness`` thick (A)."""
    height = repeat_height(_generator(bulk, miller, 1.0, 15.0))
    return max(1, math.ceil(min_thickness / height))


def enumerate_terminations(bulk: Structure, miller: Miller) -> FacetTerminations:
    """Find every stoichiometric termination of a facet and classify the facet (Tasker 1, 2 or 3).

    Symmetry is judged on a two-repeat slab: a termination whose repeat unit has a
    normal-flipping symmetry keeps it at every thickness.
    """
    generator = _generator(bulk, miller, 1.0, 15.0)
    height = repeat_height(generator)
    generator.min_slab_size = 1.5 * height
    slabs = generator.get_slabs(symmetrize=False, filter_out_sym_slabs=True)
    terminations = []
    planes_all_neutral = True
    for i, raw in enumerate(sorted(slabs, key=lambda s: s.shift)):
        slab = normal_along_z(raw)
        planes = atomic_planes(slab)
        top = plane_formula(slab, planes[-1])
        bulk_formula = plane_formula(bulk, list(range(len(bulk))))
        planes_all_neutral &= all(plane_formula(slab, p) == bulk_formula for p in planes)
        terminations.append(
            Termination(
                miller=miller,
                shift=float(raw.shift),
                label=f"t{i}-{top}",
                symmetric=is_stoichiometric(slab, bulk) and has_normal_flip(slab),
                n_atoms_per_repeat=len(slab) // 2,
            )
        )
    facet = FacetTerminations(miller=miller, tasker_type=0, repeat_height=height)
    facet.terminations = terminations
    if planes_all_neutral and terminations:
        facet.tasker_type = 1
    elif facet.usable:
        facet.tasker_type = 2
    else:
        facet.tasker_type = 3
        facet.reason = (
            f"Tasker type 3 (polar): none of the {len(terminations)} stoichiometric "
            f"terminations of {miller_label(miller)} is symmetric; a reconstruction would be needed"
        )
    return facet


__all__ = [
    "FacetTerminations",
    "Miller",
    "Termination",
    "atomic_planes",
    "build_slab",
    "check_thickness",
    "distinct_facets",
    "enumerate_terminations",
    "has_normal_flip",
    "is_stoichiometric",
    "miller_label",
    "parse_miller",
    "repeats_for_thickness",
    "slab_area",
    "slab_thickness",
]
