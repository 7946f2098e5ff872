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

The meshes matched are the true 2D lattices of :mod:`interfacial.structures.meshes`; the slabs
whose atoms are counted come from :mod:`interfacial.structures.slabs`.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from interfacial.analysis.matching import angle_mismatch, mesh_area, vector_mismatch
from interfacial.errors import InterfacialError
from interfacial.structures.meshes import cross_z, facet_geometry, gauss_reduce
from interfacial.structures.slabs import (
    DEFAULT_COMPOUND_THICKNESS,
    FacetGeometry,
    Miller,
    check_thickness_value,
    compound_slab,
    default_metal_thickness,
    metal_atoms_per_plane,
    metal_layer_count,
    miller_label,
    parse_miller,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray
    from pymatgen.core import Structure

#: Bounds on the matching parameters; beyond them the input is a typo or a runaway search.
MAX_MISMATCH_BOUNDS = (0.0, 0.5)
MAX_AREA_LIMIT = 1000.0
MAX_ANGLE_LIMIT = 45.0


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
        :func:`~interfacial.structures.meshes.surface_mesh` vectors of each side.
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
# Sublattices of a 2D lattice (rows are vectors)
# --------------------------------------------------------------------------------------------


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
    angle_c = math.degrees(math.atan2(cross_z(c[0], c[1]), float(c[0] @ c[1])))
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
    # What the requested area admits first (a search as small as the request); the wider area
    # only when nothing is near there: its search grows with the area squared (minutes at
    # hundreds of A^2) and a bad-input message must come in seconds.
    raws = _search(metal_geo, compound_geo, max_area, MAX_MISMATCH_BOUNDS[1], wide_angle)
    if not raws:
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
        Metal slab thickness used to count atoms (A); default from
        ``slabs.DEFAULT_METAL_THICKNESS``.
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


# --------------------------------------------------------------------------------------------
# Candidate ranking
# --------------------------------------------------------------------------------------------


def select_candidates(
    candidates: list[MatchCandidate], max_atoms: int, n_candidates: int
) -> list[int]:
    """Indices of the candidates to compute: lowest mismatch first among those within max_atoms.

    Parameters
    ----------
    candidates : list[MatchCandidate]
        As returned by :func:`find_matches`.
    max_atoms : int
        Largest model (atoms of the two-interface cell) worth computing.
    n_candidates : int
        How many to keep.

    Returns
    -------
    list[int]
        Indices into ``candidates``; ties in mismatch go to the smaller model.

    Raises
    ------
    InterfacialError
        If every candidate is above ``max_atoms``.

    """
    fitting = [i for i, c in enumerate(candidates) if c.n_atoms <= max_atoms]
    if not fitting:
        smallest = min(candidates, key=lambda c: c.n_atoms)
        raise InterfacialError(
            f"the smallest matched model has {smallest.n_atoms} atoms, above the limit of "
            f"{max_atoms}; raise max_atoms or lower the slab thicknesses or max_area"
        )
    fitting.sort(key=lambda i: (round(candidates[i].mismatch, 6), candidates[i].n_atoms))
    return fitting[:n_candidates]


__all__ = [
    "MatchCandidate",
    "NoMatchError",
    "check_compound",
    "check_metal",
    "deformation_gradient",
    "find_matches",
    "hermite_matrices",
    "hermite_normal_form",
    "select_candidates",
]
