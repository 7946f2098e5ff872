"""Extrapolative neighbourhoods of a large cell, cut into clusters the reference can afford.

Active learning on a transport cell (hundreds of atoms, many time steps) cannot label whole
frames with DFT. MLIP's answer (``mlp cut_extrapolative_nbh``) is to label only the
neighbourhood that extrapolates: the atoms within a sphere around the atom of largest grade,
saved as a non-periodic configuration. This module does the same:

- :func:`select_neighbourhoods` picks the (frame, atom) pairs to label from per-atom MaxVol
  grades, highest first, skipping near-duplicates (the same region one frame later);
- :func:`cut_neighbourhood` places the atoms within ``cutoff + margin`` of the chosen atom,
  with their periodic images, in a cubic box with vacuum: a cluster, isolated in effect from
  its periodic images, in a cell every reference calculator accepts (CHGNet and VASP need one).

Why a sphere in vacuum and not a smaller periodic cell: no periodic cell smaller than the
original keeps the chosen atom's environment within the cutoff, while the sphere keeps it
exactly (checked in the tests against pymatgen's neighbour list). The atoms near the sphere's
surface have truncated, artificial environments; MLIP fits such clusters whole. Neither
motep 0.2.0 (one weight per configuration, all ones; no per-atom weights) nor the .cfg format
(no per-atom weight column) can restrict the force fit to the central region, so the clusters
are labelled and fitted whole, as MLIP does; the ``margin`` keeps the central atom's first
shells away from the surface.

Written here because ASE and pymatgen cut no such clusters; the neighbour search is ASE's.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from ase import Atoms
from ase.neighborlist import neighbor_list

from interfacial.errors import InterfacialError
from interfacial.mtp.defaults import DEFAULT_MARGIN, DEFAULT_VACUUM


def cut_neighbourhood(
    atoms: Atoms,
    index: int,
    cutoff: float,
    margin: float = DEFAULT_MARGIN,
    vacuum: float = DEFAULT_VACUUM,
) -> Atoms:
    """The atoms within ``cutoff + margin`` of atom ``index``, as a cluster in a cubic box.

    Parameters
    ----------
    atoms
        The (periodic) frame, e.g. a snapshot of transport MD.
    index
        The central atom (0-based).
    cutoff
        The potential's cutoff radius (A): the environment kept exactly.
    margin
        Extra radius (A) of the sphere beyond ``cutoff``.
    vacuum
        Smallest gap (A) between the sphere and its periodic images.

    Returns
    -------
    ase.Atoms
        Atom 0 is the central atom, at the centre of a cubic box of side
        L = 2 (cutoff + margin) + vacuum; then every atom (periodic images included, so an atom
        can appear more than once in a small cell) with |r_j - r_index| < cutoff + margin, at
        its displacement from the centre. Within ``cutoff`` of atom 0 the neighbours (species
        and vectors) are those of atom ``index`` in ``atoms``: an image of any atom of the box
        lies at least L - (cutoff + margin) > cutoff from the centre. ``info["cut_from"]`` holds
        ``index``.

    """
    if not 0 <= index < len(atoms):
        raise InterfacialError(f"atom {index} is not in a cell of {len(atoms)} atoms")
    if cutoff <= 0 or margin < 0 or vacuum < 0:
        raise InterfacialError(
            f"cutoff {cutoff} A must be positive, margin {margin} A and vacuum {vacuum} A >= 0"
        )
    radius = cutoff + margin
    centre_of, neighbour, vectors = neighbor_list("ijD", atoms, radius)
    mine = centre_of == index
    symbols = atoms.get_chemical_symbols()
    side = 2 * radius + vacuum
    positions = np.vstack([np.zeros((1, 3)), vectors[mine]]) + side / 2
    cluster = Atoms(
        symbols=[symbols[index]] + [symbols[j] for j in neighbour[mine]],
        positions=positions,
        cell=np.eye(3) * side,
        pbc=True,
    )
    cluster.info["cut_from"] = int(index)
    return cluster


def select_neighbourhoods(
    grades: Sequence[np.ndarray],
    frames: Sequence[Atoms],
    threshold: float,
    max_selected: int,
    exclusion: float,
    frame_separation: int = 2,
) -> list[tuple[int, int]]:
    """The (frame, atom) pairs whose neighbourhoods to label: highest grades first.

    A candidate is any atom whose MaxVol grade exceeds ``threshold``. Taken in decreasing
    grade, a candidate is kept unless an already kept one lies within ``exclusion`` (A, minimum
    image) of it in a frame less than ``frame_separation`` frames away: that neighbourhood
    overlaps one already labelled (the same excursion seen by the next atom or the next
    snapshot). At most ``max_selected`` pairs, returned in (frame, atom) order.

    Parameters
    ----------
    grades
        Per frame, the grade of each atom (dimensionless; <= 1 interpolates).
    frames
        The graded frames (positions and cell for the distances).
    threshold
        Grade above which a neighbourhood is worth labelling (> 1).
    max_selected
        Neighbourhoods at most.
    exclusion
        Distance (A) within which two kept neighbourhoods of nearby frames are duplicates
        (the potential's cutoff is natural: their spheres then share the central region).
    frame_separation
        Frames closer than this in time are compared (1: only within one frame).

    """
    if threshold < 1.0:
        raise InterfacialError(f"grade threshold {threshold} < 1 would select interpolation")
    if len(grades) != len(frames):
        raise InterfacialError(f"{len(grades)} sets of grades for {len(frames)} frames")
    candidates = [
        (float(g), f, a)
        for f, per_atom in enumerate(grades)
        for a, g in enumerate(np.asarray(per_atom, dtype=float))
        if g > threshold
    ]
    # Highest grade first; ties in (frame, atom) order, so the choice is reproducible.
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    kept: list[tuple[int, int]] = []
    for _, f, a in candidates:
        if len(kept) >= max_selected:
            break
        near = [k for k in kept if abs(k[0] - f) < frame_separation]
        if all(frames[f].get_distance(a, k[1], mic=True) >= exclusion for k in near):
            kept.append((f, a))
    return sorted(kept)
