"""Closed-form checks of the pure surface-energy functions."""

import numpy as np
import pytest

from interfacial.analysis.surface import (
    EV_PER_A2_TO_J_PER_M2,
    converged_index,
    surface_energy,
    surface_energy_linear_fit,
    wulff_summary,
)


def test_unit_conversion_is_one_ev_per_square_angstrom():
    # 1 eV = 1.602176634e-19 J exactly; 1 A^2 = 1e-20 m^2.
    assert pytest.approx(1.602176634e-19 / 1e-20, rel=1e-12) == EV_PER_A2_TO_J_PER_M2


def test_surface_energy_by_hand():
    # 10 atoms at -2 eV/atom in bulk; slab is 1.6 eV higher; two faces of 8 A^2 each.
    gamma = surface_energy(-20.0 + 1.6, 10, -2.0, 8.0)
    assert gamma == pytest.approx(1.6 / 16.0 * 16.02176634)


def test_surface_energy_rejects_zero_area():
    with pytest.raises(ValueError, match="area"):
        surface_energy(-1.0, 1, -1.0, 0.0)


def test_linear_fit_recovers_known_gamma_and_bulk_energy():
    area, gamma_true, e_bulk = 12.5, 0.42, -1.9
    n = np.array([6, 8, 10, 12])
    energies = n * e_bulk + 2 * area * gamma_true / EV_PER_A2_TO_J_PER_M2
    gamma, slope = surface_energy_linear_fit(n.tolist(), energies.tolist(), area)
    assert gamma == pytest.approx(gamma_true, abs=1e-10)
    assert slope == pytest.approx(e_bulk, abs=1e-12)


def test_converged_index_follows_the_tolerance():
    assert converged_index([0.50, 0.45, 0.443, 0.441], 0.01) == 2
    assert converged_index([0.50, 0.45, 0.40], 0.01) is None
    assert converged_index([0.3], 0.01) is None


def test_wulff_of_a_cube_is_all_100():
    from pymatgen.core import Lattice

    # (111) far too expensive to appear, (100) only: a cube.
    result = wulff_summary(Lattice.cubic(3.0), [[1, 0, 0], [1, 1, 1]], [0.5, 5.0])
    assert result["area_fractions"] == pytest.approx([1.0, 0.0])
    assert result["weighted_surface_energy"] == pytest.approx(0.5)


def test_facets_that_enclose_no_shape_say_so():
    from pymatgen.core import Lattice

    # The basal plane alone leaves a hexagonal crystal open along a and b.
    with pytest.raises(ValueError, match=r"do not enclose a Wulff shape"):
        wulff_summary(Lattice.hexagonal(4.0, 7.0), [[0, 0, 1]], [0.4])
