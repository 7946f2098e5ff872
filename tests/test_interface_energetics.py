"""Closed-form checks of the interface energetics (E_f, sigma, strain energy, W)."""

import pytest

from interfacial.analysis.interface import (
    adhesion_flags,
    formation_energy,
    interfacial_energy,
    strain_energy,
    work_of_adhesion,
    work_of_adhesion_with_strain,
)

J_PER_M2 = 1.602176634e-19 / 1e-20  # 1 eV/A^2 in J/m^2 (exact SI e)


def test_formation_energy_is_the_excess_over_two_interfaces():
    # 40 Li at -1.9 eV, 12 Li2S f.u. at -13.0 eV, an excess of 2 x 30 A^2 x 0.02 eV/A^2.
    area, excess_per_area = 30.0, 0.02
    e_ab = 40 * -1.9 + 12 * -13.0 + 2 * area * excess_per_area
    assert formation_energy(e_ab, 40, -1.9, 12, -13.0, area) == pytest.approx(
        excess_per_area * J_PER_M2, rel=1e-6
    )


def test_sigma_uses_the_strained_references_and_strain_is_the_difference():
    area = 25.0
    e_ab = -250.0
    e_f = formation_energy(e_ab, 50, -2.0, 10, -14.0, area)
    # Straining the metal costs 0.01 eV/atom: sigma is lower than E_f by 50 x 0.01 / 2S.
    sigma = interfacial_energy(e_ab, 50, -1.99, 10, -14.0, area)
    assert e_f - sigma == pytest.approx(50 * 0.01 / (2 * area) * J_PER_M2, rel=1e-6)
    assert strain_energy(e_f, sigma) == pytest.approx(e_f - sigma)


def test_work_of_adhesion_equations_4_and_5():
    assert work_of_adhesion(0.45, 0.30, 0.10) == pytest.approx(0.65)
    assert work_of_adhesion_with_strain(0.45, 0.30, 0.25) == pytest.approx(0.50)


def test_separation_work_identity():
    # With gammas referenced to the same strained bulks, W (Eq. 4) equals the work to separate
    # the model into its two slabs: (E_A,slab + E_B,slab - E_AB) / 2S.
    area, n_a, n_b, e_a_z, e_b_z = 20.0, 30, 8, -1.95, -13.5
    e_slab_a, e_slab_b, e_ab = n_a * e_a_z + 1.2, n_b * e_b_z + 0.9, n_a * e_a_z + n_b * e_b_z + 0.4
    gamma_a = (e_slab_a - n_a * e_a_z) / (2 * area) * J_PER_M2
    gamma_b = (e_slab_b - n_b * e_b_z) / (2 * area) * J_PER_M2
    sigma = interfacial_energy(e_ab, n_a, e_a_z, n_b, e_b_z, area)
    separation = (e_slab_a + e_slab_b - e_ab) / (2 * area) * J_PER_M2
    assert work_of_adhesion(gamma_a, gamma_b, sigma) == pytest.approx(separation, rel=1e-9)


def test_flags():
    assert adhesion_flags(1.0, 0.45) == {"wets": True, "strong_adhesion": True}
    assert adhesion_flags(0.8, 0.45) == {"wets": False, "strong_adhesion": True}
    assert adhesion_flags(0.5, 0.2, threshold=0.7) == {"wets": True, "strong_adhesion": False}


def test_nonpositive_area_is_refused():
    with pytest.raises(ValueError, match="area must be positive"):
        formation_energy(-1.0, 1, -1.0, 1, -1.0, 0.0)
