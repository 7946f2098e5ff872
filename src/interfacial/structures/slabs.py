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

The second half builds slabs on the true surface mesh of a facet (found by
:mod:`interfacial.structures.meshes`): metal slabs of a given number of planes and the thinnest
symmetric stoichiometric compound slab of a given thickness, as the lattice matching and the
interface models need them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import product
from typing import TYPE_CHECKING

import numpy as np

from interfacial.analysis.matching import mesh_area
from interfacial.errors import InterfacialError

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pymatgen.core import Structure
    from pymatgen.core.surface import Slab, SlabGenerator

Miller = tuple[int, int, int]

#: Two atoms belong to the same atomic plane when their heights differ by less than this (A).
PLANE_TOLERANCE = 0.1
#: Absolute bounds on requested slab thickness and vacuum (A): beyond them the input is a typo.
THICKNESS_BOUNDS = (3.0, 60.0)
#: Largest |h|, |k|, |l| accepted (the study used up to 1; Wulff shapes rarely need above 3).
MAX_MILLER_INDEX = 4
VACUUM_BOUNDS = (10.0, 100.0)
#: Default metal slab thickness per element (A); other metals get FALLBACK_METAL_THICKNESS.
DEFAULT_METAL_THICKNESS: dict[str, float] = {"Li": 12.0, "Na": 14.0}
FALLBACK_METAL_THICKNESS = 12.0
#: Default compound slab thickness (A).
DEFAULT_COMPOUND_THICKNESS = 10.0
#: Vacuum of the helper slabs used only for geometry (A).
HELPER_VACUUM = 10.0
#: Cartesian tolerance for "same position" (A); loose enough for relaxed, slightly noisy bulks.
POSITION_TOL = 0.02


def parse_miller(value: str | tuple[int, ...] | list[int]) -> Miller:
    """Parse '110', '1,1,0', '1 1 0', '-1,1,0' or a sequence of three integers.

    Raises
    ------
    InterfacialError
        For anything but three integers, not all zero, reduced (no common factor) and at most
        MAX_MILLER_INDEX in magnitude.

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
    label = ",".join(str(i) for i in ints)
    if max(abs(i) for i in ints) > MAX_MILLER_INDEX:
        raise InterfacialError(
            f"Miller index ({label}) has an index above {MAX_MILLER_INDEX}; such facets need "
            f"huge cells and are never low in energy: use indices up to {MAX_MILLER_INDEX}"
        )
    common = math.gcd(*ints)
    if common > 1:
        # (2,2,0) is the (1,1,0) facet: refused rather than reduced, so stored labels are
        # always the ones typed.
        reduced = ",".join(str(i // common) for i in ints)
        raise InterfacialError(
            f"Miller index ({label}) is the ({reduced}) facet; give the reduced index {reduced}"
        )
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


def check_thickness_value(thickness: float, what: str) -> None:
    """Reject slab thicknesses outside THICKNESS_BOUNDS (A); ``what`` names the slab."""
    lo, hi = THICKNESS_BOUNDS
    if not (math.isfinite(thickness) and lo <= thickness <= hi):
        raise InterfacialError(
            f"{what} thickness {thickness} A is outside [{lo}, {hi}] A; typical values are 8-15 A"
        )


def default_metal_thickness(metal: str) -> float:
    """Default metal slab thickness (A) from DEFAULT_METAL_THICKNESS."""
    return DEFAULT_METAL_THICKNESS.get(metal, FALLBACK_METAL_THICKNESS)


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


# --------------------------------------------------------------------------------------------
# Slabs on the true surface mesh of a facet (see interfacial.structures.meshes)
# --------------------------------------------------------------------------------------------


@dataclass
class FacetGeometry:
    """Mesh, stacking and symmetry of one facet (all in the ``build_slab`` frame).

    Built by :func:`interfacial.structures.meshes.facet_geometry`; the slab builders below
    only read it.
    """

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


def wrapped_inplane_distance(
    diff: NDArray[np.float64], mesh_xy: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Cartesian length of in-plane fractional differences, nearest periodic image (A).

    ``diff`` holds fractional differences in the basis ``mesh_xy`` (rows, 2x2, A); the mesh
    must be reduced, so the nearest image is among the 9 neighbours of the rounded one.
    """
    frac = diff - np.round(diff)
    cart = frac @ mesh_xy
    best = np.linalg.norm(cart, axis=-1)
    for i, j in product((-1, 0, 1), repeat=2):
        if i == j == 0:
            continue
        shifted = cart + i * mesh_xy[0] + j * mesh_xy[1]
        best = np.minimum(best, np.linalg.norm(shifted, axis=-1))
    return best


def slab_on_mesh(
    bulk: Structure, miller: Miller, shift: float, n_repeats: int, mesh: NDArray[np.float64]
) -> Structure:
    """A ``build_slab`` slab re-expressed in the cell (mesh a, mesh b, c along z).

    The slab cell may be a multiple of the mesh; its duplicate atoms are merged. Raises if the
    slab is not periodic on the mesh (which would be a bug in the mesh).
    """
    from pymatgen.core import Lattice, Structure

    slab = build_slab(bulk, miller, shift, n_repeats, HELPER_VACUUM)
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
            if species[j] == species[i] and abs(frac[j, 2] - frac[i, 2]) * c[2] < POSITION_TOL
        ]
        if dup and (
            wrapped_inplane_distance(frac[dup, :2] - frac[i, :2], mesh[:, :2]).min()
            < 2 * POSITION_TOL
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


def lowest_planes(slab: Structure, n_planes: int) -> Structure:
    """The slab reduced to its ``n_planes`` lowest atomic planes."""
    planes = atomic_planes(slab)
    keep = sorted(i for plane in planes[:n_planes] for i in plane)
    return slab.copy().remove_sites([i for i in range(len(slab)) if i not in set(keep)])


def metal_slab(bulk: Structure, geometry: FacetGeometry, shift: float, n_planes: int) -> Structure:
    """Metal slab of exactly ``n_planes`` planes on the mesh cell (vacuum cell, normal along z)."""
    n_repeats = math.ceil(n_planes / geometry.planes_per_repeat)
    slab = slab_on_mesh(bulk, geometry.miller, shift, n_repeats, geometry.mesh)
    return lowest_planes(slab, n_planes)


def compound_slab(
    bulk: Structure, geometry: FacetGeometry, shift: float, thickness: float
) -> Structure:
    """Thinnest symmetric, stoichiometric compound slab of at least ``thickness`` (A).

    Thickness is bulk-equivalent, t = N V_atom / S. Whole oriented repeats always qualify (the
    termination is usable), but a Tasker type-1 facet such as Li2S(110) is symmetric with
    fewer planes than pymatgen's oriented cell holds, so planes are added one at a time.
    """
    n_repeats = compound_repeat_count(geometry, thickness)
    slab = slab_on_mesh(bulk, geometry.miller, shift, n_repeats, geometry.mesh)
    volume_per_atom = bulk.volume / len(bulk)
    area = mesh_area(geometry.mesh)
    planes = atomic_planes(slab)
    for n in range(1, len(planes)):
        n_atoms = sum(len(p) for p in planes[:n])
        if n_atoms * volume_per_atom / area < thickness - 1e-6:
            continue
        candidate = lowest_planes(slab, n)
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
        inside = np.nonzero(cart[:, 2] + dz <= top + POSITION_TOL)[0]
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
    close_z = np.abs(cart[:, 2] - point[2]) < POSITION_TOL
    idx = np.nonzero(same & close_z)[0]
    if idx.size == 0:
        return False
    diff = (cart[idx, :2] - point[:2]) @ inv_mesh
    return bool(wrapped_inplane_distance(diff, mesh[:, :2]).min() < 2 * POSITION_TOL)


__all__ = [
    "DEFAULT_COMPOUND_THICKNESS",
    "DEFAULT_METAL_THICKNESS",
    "FacetGeometry",
    "FacetTerminations",
    "Miller",
    "Termination",
    "atomic_planes",
    "build_slab",
    "check_thickness",
    "check_thickness_value",
    "compound_slab",
    "default_metal_thickness",
    "distinct_facets",
    "enumerate_terminations",
    "has_normal_flip",
    "is_stoichiometric",
    "lowest_planes",
    "metal_atoms_per_plane",
    "metal_layer_count",
    "metal_slab",
    "miller_label",
    "normal_period",
    "parse_miller",
    "repeat_height",
    "repeats_for_thickness",
    "slab_area",
    "slab_on_mesh",
    "slab_thickness",
    "wrapped_inplane_distance",
]
