"""Extrapolation grades rise away from the training data; selection picks the worst first."""

from __future__ import annotations

import numpy as np
import pytest

from interfacial.errors import InterfacialError
from interfacial.mtp.active import extrapolation_grades
from interfacial.mtp.selection import select_for_labelling
from mtp_data import SPECIES_ORDER, configurations


@pytest.mark.slow
def test_grades_rise_for_compressed_configurations(tmp_path):
    from interfacial.mtp.engine import MotepEngine

    training = configurations(30, seed=11)
    potential = MotepEngine(max_iter=30).fit(
        training, SPECIES_ORDER, level=6, cutoff=5.0, seed=0, workdir=tmp_path
    )
    similar = configurations(6, seed=12)
    compressed = []
    for original in configurations(6, seed=13):
        atoms = original.copy()
        atoms.set_cell(atoms.cell * 0.8, scale_atoms=True)  # far outside the training strains
        compressed.append(atoms)
    grades = extrapolation_grades(potential, training, similar + compressed)
    near, far = grades[:6], grades[6:]
    assert np.median(far) > 2 * np.median(near)
    assert far.min() > 1.0  # every compressed cell extrapolates
    assert np.median(near) < 2.0


def test_selection_takes_highest_grades_above_threshold_spread_out():
    grades = [0.5, 3.0, 3.1, 1.5, 8.0, 2.5, 9.0]
    assert select_for_labelling(grades, threshold=2.0, max_selected=3) == [2, 4, 6]
    assert select_for_labelling(grades, threshold=2.0, max_selected=10, min_separation=2) == [
        2,
        4,
        6,
    ]
    assert select_for_labelling(grades, threshold=10.0) == []
    with pytest.raises(InterfacialError, match="interpolation"):
        select_for_labelling(grades, threshold=0.5)


def test_neighbourhood_grades_do_not_grow_with_the_cell_but_configuration_grades_do(tmp_path):
    """A periodic 2x2x2 repeat has exactly the neighbourhoods of its cell, and 8x its energy."""
    from mtp_data import tiny_potential

    potential = tiny_potential(tmp_path)
    training = configurations(16, seed=1)
    cells = configurations(4, seed=21, rattle=0.15)
    repeats = [a.repeat((2, 2, 2)) for a in cells]
    small = extrapolation_grades(potential, training, cells, per_neighbourhood=True)
    large = extrapolation_grades(potential, training, repeats, per_neighbourhood=True)
    np.testing.assert_allclose(large, small, rtol=1e-6)
    by_cell = extrapolation_grades(potential, training, cells)
    by_repeat = extrapolation_grades(potential, training, repeats)
    np.testing.assert_allclose(by_repeat, 8 * by_cell, rtol=1e-6)
